"""assignment_config.yaml: the shipped file is valid, every bad key or value is named."""

from pathlib import Path

import pytest

from nnassign.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    path = tmp_path / "assignment_config.yaml"
    path.write_text(text)
    return path


def test_shipped_config_is_valid_and_complete():
    config = load_config(ROOT / "assignment_config.yaml")
    assert config.dataset in ("fashion-mnist", "mnist")
    assert config.solution_path.exists()
    assert config.accuracy_tiers[0]["min_accuracy"] == pytest.approx(0.60)
    assert set(config.limits) == {"timeout_seconds", "cpu_seconds", "memory_mb", "output_mb", "processes"}


def test_defaults_fill_missing_sections(tmp_path):
    config = load_config(write(tmp_path, "name: demo\n"))
    assert config.dataset == "fashion-mnist"
    assert config.limits["timeout_seconds"] == 300
    assert "torch" in config.import_policy["forbidden"]
    assert config.accuracy_tiers == [{"min_accuracy": 0.60, "points": 2}]


@pytest.mark.parametrize("text, named", [
    ("name: demo\ndatset: mnist\n", "unknown key datset"),
    ("name: demo\nlimits: {timeot: 3}\n", "unknown key limits.timeot"),
    ("name: demo\ndataset: cifar10\n", "dataset: 'cifar10' is not allowed; choose one of fashion-mnist, mnist"),
    ("name: demo\nlimits: {memory_mb: 12}\n", "limits.memory_mb: 12 is out of range"),
    ("name: demo\nlimits: {cpu_seconds: 1.5}\n", "limits.cpu_seconds: expected a whole number"),
    ("name: demo\naccuracy_tiers: [{min_accuracy: 1.2, points: 1}]\n", "accuracy_tiers[0].min_accuracy"),
    ("name: demo\naccuracy_tiers: [{min_accuracy: 0.9, points: 1}, {min_accuracy: 0.6, points: 1}]\n",
     "strictly increasing"),
    ("name: demo\naccuracy_tiers: [{min_accuracy: 0.6, pts: 1}]\n", "unknown key accuracy_tiers[0].pts"),
    ("name: demo\npoints: {q1: -1}\n", "points.q1: -1 is out of range"),
    ("name: demo\nimport_policy: {forbidden: torch}\n", "import_policy.forbidden: expected a list"),
    ("name: demo\nsubmissions: {id_pattern: '^(\\w+)'}\n", "named group (?P<id>"),
    ("name: Demo Name\n", "name: expected a lower-case name"),
    ("dataset: mnist\n", "name: required key is missing"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_config_names_key_and_allowed_values(tmp_path, text, named):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert named in str(err.value)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="not found.*--config"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, key, lines", [
    ("name: demo\ndataset: mnist\ndataset: fashion-mnist\n", "dataset", (2, 3)),
    ("name: demo\npoints:\n  q3: 2\n  q4: 1\n  q3: 5\n", "points.q3", (3, 5)),
    ("name: demo\nlimits: {memory_mb: 1024, memory_mb: 2048}\n", "limits.memory_mb", (2, 2)),
])
def test_duplicate_keys_are_refused_naming_the_file_key_and_lines(tmp_path, text, key, lines):
    """YAML keeps the last of two equal keys silently; the config refuses it."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path.resolve()}: duplicate key {key} on lines {lines[0]} and {lines[1]}: "
                              "YAML would silently keep the last value; keep one")


def test_the_release_command_refuses_duplicate_keys_without_traceback(tmp_path):
    from click.testing import CliRunner

    from nnassign.cli import main as cli

    path = write(tmp_path, "name: demo\npoints: {q3: 2}\nwritten_points: 1\npoints: {q3: 4}\n")
    result = CliRunner().invoke(cli, ["release", "--no-run-tests", "--config", str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{path.resolve()}: duplicate key points on lines 2 and 4" in result.output


def test_config_knows_the_line_of_each_key_for_messages(tmp_path):
    config = load_config(write(tmp_path, "name: demo\n\npoints:\n  q3: 2\n  q12: 1\n"))
    assert config.lines["name"] == 1 and config.lines["points"] == 3
    assert config.lines["points.q3"] == 4 and config.lines["points.q12"] == 5

"""Presets and the config's reach (issue 10): `nnassign new DIR --preset NAME` gives a course folder
whose `nnassign release` succeeds with full marks for its solution; every config value reaches every
output it is about, or is refused naming the config file; an imported dataset is usable and checked.

* slow: each preset is created with the real CLI and released with the solution graded by its own
  tests (the release refuses anything short of full marks), in a temp folder, on the real data;
* fast (no solution run): tier text, written points, normalisation, architecture and import policy
  in the built files; `check_release` notices each change; points another key decides, unknown
  written questions, a mismatching architecture and a normalisation the notebook cannot follow are
  refused; `dataset: {name, path}` of an import is checked against its SHA256SUMS.
"""

import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from nnassign import nn_data, presets
from nnassign.cli import main as cli
from nnassign.config import CHECKSUMS_FILE, load_config
from nnassign.release import ReleaseError, build_release, check_release

NOTEBOOK = "nn_from_scratch.ipynb"


def notebook_text(path, kinds=("markdown", "code", "raw")):
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type in kinds)


def set_config(root, **values):
    """Top-level keys of root/assignment_config.yaml replaced (the file is rewritten as YAML)."""
    path = Path(root) / "assignment_config.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(values)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_config(path)


# ---------------------------------------------------------------- every preset, released for real

@pytest.mark.slow
@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_preset_releases_with_full_marks(name, tmp_path, data_root):
    root = tmp_path / name
    result = CliRunner().invoke(cli, ["new", str(root), "--preset", name])
    assert result.exit_code == 0, result.output
    assert {p.name for p in root.iterdir()} >= {"assignment_config.yaml", "solution", "README.md"}
    assert (root / "solution" / NOTEBOOK).exists() and (root / "solution" / "nn_data.py").exists()
    readme = (root / "README.md").read_text()
    assert "| requirement | where |" in readme and "nnassign release" in readme
    config = load_config(root / "assignment_config.yaml")
    # Grades the solution with the autograder (Otter's grade_submission) and raises unless full marks.
    build_release(config, root, run_tests=True)
    grading = json.loads((root / "student" / "grading.json").read_text())
    assert grading["dataset"] == config.dataset and grading["normalisation"] == config.normalisation
    assert grading.get("hidden_neurons") == config.hidden_neurons
    student = notebook_text(root / "student" / NOTEBOOK)
    tiers = [f"{t['min_accuracy'] * 100:g}%" for t in config.accuracy_tiers]
    assert f"at least {tiers[0]}" in student
    assert set(re.findall(r"at least (\d+(?:\.\d+)?%)", student)) == set(tiers)  # no stale threshold anywhere


def test_every_preset_applies_to_the_base_notebook():
    """Fast: each preset's steps find their anchors in today's base notebook."""
    for name, preset in presets.PRESETS.items():
        nb = presets.solution_notebook(preset)
        assert nb.cells[1].source.startswith(f"# {preset.TITLE}") or any(
            c.source.startswith(f"# {preset.TITLE}") for c in nb.cells[:3]), name
        assert yaml.safe_load(preset.CONFIG)["name"] == name


def test_new_refuses_a_used_folder_and_an_unknown_preset(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    for args, says in ((["new", str(tmp_path / "used"), "--preset", "tiny-mnist"], "not empty"),
                       (["new", str(tmp_path / "x"), "--preset", "cifar"], "unknown preset 'cifar'")):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code != 0 and says in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- config values reach the outputs

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The mnist-784-128 course with other tiers, per-question written points and an allowed module."""
    root = tmp_path_factory.mktemp("course")
    presets.create_course(root / "c", "mnist-784-128")
    root = root / "c"
    config = set_config(root, accuracy_tiers=[{"min_accuracy": 0.5, "points": 1}, {"min_accuracy": 0.75, "points": 2}],
                        written_points={"written_q3": 2, "default": 1},
                        import_policy={"forbidden": ["torch", "torchvision"], "allowed_for_data": ["torchvision"],
                                       "penalty_points": 4})
    build_release(config, root, run_tests=False)
    return root


def test_tiers_reach_the_notebook_text(course):
    student = notebook_text(course / "student" / NOTEBOOK, kinds=("markdown",))
    assert "at least 50%" in student and "at least 60%" not in student and "75% is within reach" in student
    assert "at least 50% of the test images: **1** point; at least 75% of the test images: **2** points" in student


def test_written_points_reach_the_prompts_and_otter(course):
    student = notebook_text(course / "student" / NOTEBOOK, kinds=("markdown",))
    assert "**[Q3]** *(2 points)*" in student and "**[Q1]** *(1 point)*" in student
    grading = json.loads((course / "autograder" / "grading.json").read_text())
    assert grading["written_points"] == {"written_q3": 2, "default": 1}
    # What Otter Assign is given: each written question's `points` in its BEGIN QUESTION config.
    from nnassign.configure import question_cells
    from nnassign.release import configured_solution

    nb = configured_solution(load_config(course / "assignment_config.yaml"))
    written = {conf["name"]: conf["points"] for _, conf in question_cells(nb) if conf.get("manual")}
    assert written["written_q3"] == 2 and written["written_q1"] == 1 and set(written.values()) == {1, 2}


def test_settings_reach_grading_json_and_the_tests(course):
    for sub in ("student", "autograder"):
        grading = json.loads((course / sub / "grading.json").read_text())
        assert grading["normalisation"] == "zscore" and grading["hidden_neurons"] == 128
        assert grading["allowed_for_data"] == ["torchvision"] and grading["forbidden_modules"] == ["torch", "torchvision"]
        q12 = (course / sub / "tests" / "q12.py").read_text()
        assert "def test_architecture_is_784_128_10(" in q12
    student = notebook_text(course / "student" / NOTEBOOK, kinds=("code",))
    assert 'NORMALISATION = "zscore"' in student
    assert re.search(r"^hidden_neurons = 128  # fixed by this assignment", student, flags=re.M)
    assert "preprocess(train_images, method=NORMALISATION)" in student


@pytest.mark.parametrize("change, touched", [
    ({"written_points": 3}, "student/grading.json"),
    ({"import_policy": {"allowed_for_data": []}}, "student/grading.json"),
    ({"accuracy_tiers": [{"min_accuracy": 0.55, "points": 1}, {"min_accuracy": 0.75, "points": 2}]},
     f"student/{NOTEBOOK}"),
])
def test_check_notices_each_change(course, tmp_path, change, touched):
    root = tmp_path / "c"
    shutil.copytree(course, root)
    config = load_config(root / "assignment_config.yaml")
    data = yaml.safe_load(config.path.read_text())
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    config.path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert touched in check_release(load_config(config.path))


@pytest.mark.parametrize("points, says", [
    ("{q14: 9}", "q14 is worth the sum of the accuracy_tiers points"),
    ("{import_policy: 2}", "import_policy.penalty_points"),
    ("{written_q3: 2}", "written questions take their points from written_points"),
])
def test_points_another_key_decides_are_refused_naming_the_file(tmp_path, points, says):
    root = presets.create_course(tmp_path / "c", "tiny-mnist")
    text = (root / "assignment_config.yaml").read_text().replace("points: {}", f"points: {points}")
    (root / "assignment_config.yaml").write_text(text)
    config = load_config(root / "assignment_config.yaml")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("points:"))
    with pytest.raises(ReleaseError) as error:
        build_release(config, root, run_tests=False)
    assert str(error.value).startswith(f"{config.path}, line {line}: points") and says in str(error.value)
    assert not (root / "student").exists()


def test_unknown_written_question_and_duplicate_keys_are_refused(tmp_path):
    root = presets.create_course(tmp_path / "c", "tiny-mnist")
    config = set_config(root, written_points={"written_q99": 2, "default": 1})
    with pytest.raises(ReleaseError, match=rf"{re.escape(str(config.path))}, line \d+: written_points: no written question named 'written_q99'"):
        build_release(config, root, run_tests=False)
    text = (root / "assignment_config.yaml").read_text() + "normalisation: scale\nnormalisation: zscore\n"
    (root / "assignment_config.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["release", "--no-run-tests", "--config", str(root / "assignment_config.yaml")])
    assert result.exit_code != 0 and "duplicate key normalisation" in result.output
    assert str((root / "assignment_config.yaml").resolve()) in result.output


def test_architecture_and_normalisation_the_notebook_cannot_follow_are_refused(tmp_path):
    root = presets.create_course(tmp_path / "c", "tiny-mnist")
    with pytest.raises(ReleaseError, match="hidden_neurons: 64, but the solution sets hidden_neurons = 10"):
        build_release(set_config(root, hidden_neurons=64), root, run_tests=False)
    # a solution notebook without the NORMALISATION switch cannot follow normalisation: zscore
    solution = root / "solution" / "nn_from_scratch.ipynb"
    nb = nbformat.read(solution, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"^NORMALISATION\s*=.*\n?", "", cell.source, flags=re.M)
    nbformat.write(nb, solution)
    with pytest.raises(ReleaseError, match='normalisation: zscore needs a code cell setting NORMALISATION'):
        build_release(set_config(root, hidden_neurons=10, normalisation="zscore"), root, run_tests=False)


# ---------------------------------------------------------------- an imported dataset

@pytest.fixture(scope="module")
def imported(tmp_path_factory, shared_data):
    """A small MNIST copy imported from Kaggle-style CSVs with the real `nnassign data import`."""
    folder = tmp_path_factory.mktemp("csv")
    for split, n in (("train", 600), ("test", 200)):
        images, labels = nn_data.load_dataset("mnist", split, data_dir=shared_data, download=False)
        rows = np.column_stack([labels[:n], images[:n].reshape(n, -1)])
        np.savetxt(folder / f"mnist_{split}.csv", rows, fmt="%d", delimiter=",")
    data = tmp_path_factory.mktemp("data")
    result = CliRunner().invoke(cli, ["data", "import", str(folder), "--dataset", "digits-course",
                                      "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert (data / "digits-course" / CHECKSUMS_FILE).exists()
    return data / "digits-course"


def test_imported_dataset_is_selected_and_checked(imported, tmp_path):
    root = presets.create_course(tmp_path / "c", "tiny-mnist")
    dataset = {"name": "digits-course", "path": str(imported)}
    config = set_config(root, dataset=dataset)
    assert config.dataset == "digits-course" and config.data_dir == imported.parent
    assert config.prepare_data() == imported.parent
    build_release(config, root, run_tests=False)
    assert json.loads((root / "student" / "grading.json").read_text())["dataset"] == "digits-course"
    assert 'DATASET = "digits-course"' in notebook_text(root / "student" / NOTEBOOK)
    # A changed file, a missing checksums file, a folder named otherwise: each refused, naming it.
    copy = tmp_path / "data" / "digits-course"
    shutil.copytree(imported, copy)
    config = set_config(root, dataset={"name": "digits-course", "path": str(copy)})
    raw = bytearray((copy / "t10k-labels-idx1-ubyte.gz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (copy / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(raw))
    with pytest.raises(nn_data.DataError, match="t10k-labels-idx1-ubyte.gz does not match its sha256"):
        config.prepare_data()
    (copy / CHECKSUMS_FILE).unlink()
    with pytest.raises(nn_data.DataError, match=f"has no {CHECKSUMS_FILE}"):
        config.prepare_data()
    with pytest.raises(Exception, match="must be the folder named after the dataset"):
        set_config(root, dataset={"name": "other-name", "path": str(copy)})


@pytest.mark.parametrize("text, named", [
    ("name: demo\nnormalisation: minmax\n", "normalisation: 'minmax' is not allowed; choose one of scale, zscore"),
    ("name: demo\nhidden_neurons: 0\n", "hidden_neurons: 0 is out of range"),
    ("name: demo\nhidden_neurons: 12.5\n", "hidden_neurons: expected a whole number"),
    ("name: demo\nwritten_points: {written_q1: -2}\n", "written_points.written_q1: -2 is out of range"),
    ("name: demo\ndataset: {name: mine}\n", "dataset: an imported dataset needs exactly the keys name and path"),
    ("name: demo\ndataset: {name: mnist, path: data/mnist}\n", "dataset.name: 'mnist' is an official dataset"),
    ("name: demo\ndataset: {name: '../up', path: data/up}\n", "dataset.name: expected a dataset name"),
    ("name: demo\ndataset: {name: mine, path: data/mine}\n", "dataset.path"),
    ("name: demo\nseeds: {public: 3}\n", "seeds.public: 3 is not supported: the public checks run at seed 0"),
])
def test_new_config_keys_are_validated_naming_the_key(tmp_path, text, named):
    from nnassign.config import ConfigError

    (tmp_path / "assignment_config.yaml").write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "assignment_config.yaml")
    assert named in str(error.value) and "assignment_config.yaml" in str(error.value)


def test_new_config_keys_have_defaults(tmp_path):
    (tmp_path / "assignment_config.yaml").write_text("name: demo\n")
    config = load_config(tmp_path / "assignment_config.yaml")
    assert (config.normalisation, config.hidden_neurons, config.imported_dataset) == ("scale", None, None)
    assert config.written_points_for("written_q1") == 1

"""The breakers (tests/corpus_breakers.py) graded in ONE batch: a row for every input, each with
its status, score and message; nothing a submission leaves behind outlives the batch."""

import csv
import json
import os
import re
import subprocess
import time

import pytest

from corpus import CORPUS, grade_command, make_assignment
from corpus_breakers import BASELINES, BREAKERS, BY_NAME, LIMITS, SHM_KEY, build_breakers
from nnassign.sandbox import can_isolate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory, data_root):
    if not can_isolate():
        pytest.skip("the breakers need the sandbox's user namespaces")
    root = tmp_path_factory.mktemp("breakers")
    config = make_assignment(root, LIMITS)
    out = root / "out"
    build_breakers(root / "submissions", out)
    started = time.monotonic()
    done = subprocess.run(grade_command([root / "submissions"], out, config, "--workers", "2"), cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {}
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        results[result["id"]] = result
    fast = results["fast-honest"]
    ref = type("Ref", (), {})()
    ref.fast = {q: v["points"] for q, v in fast["questions"].items()}
    ref.possible = {q: v["possible"] for q, v in fast["questions"].items()}
    ref.fast_cases = {t["name"]: t["points"] for t in fast["tests"]}
    ref.case_question = {t["name"]: t["question"] for t in fast["tests"]}
    return {"out": out, "results": results, "ref": ref, "seconds": time.monotonic() - started,
            "stdout": done.stdout}


def test_the_hostile_corpora_hold_at_least_60_cases():
    assert len(BREAKERS) >= 20 and len(CORPUS) + len(BREAKERS) >= 60


@pytest.mark.parametrize("name", [b.name for b in BASELINES + BREAKERS])
def test_breaker_gets_its_row(batch, name):
    entry, result = BY_NAME[name], batch["results"].get(name)
    assert result is not None, f"no row for {name}: {sorted(batch['results'])}"
    assert result["status"] == entry.status, f"{name}: {result['status']} ({result['message']}): {entry.why}"
    message = result["message"]
    assert message.strip() and "\n" not in message and "Traceback" not in message and len(message) <= 400
    assert re.search(entry.message, message), f"{name}: {message!r} does not match {entry.message!r}"
    expected = entry.expect.points(batch["ref"])
    got = {q: v["points"] for q, v in result["questions"].items()}
    if entry.at_most:
        assert set(got) == set(expected) and all(got[q] <= expected[q] + 1e-6 for q in got), f"{name}: {got}"
    else:
        assert got == pytest.approx(expected, abs=1e-6), f"{name}: {got} != {expected}"
    assert result["total"] <= batch["results"]["fast-honest"]["total"] + 1e-9


def test_one_row_per_input_file_and_every_output_is_utf8(batch):
    out = batch["out"]
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    assert sorted(ids) == sorted(b.name for b in BASELINES + BREAKERS)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".md", ".html"):
            path.read_text(encoding="utf-8")   # strict: no lone surrogate made it to disk
    feedback = out / "feedback"
    assert any(p.name.startswith("surrogate-answer") for p in feedback.iterdir())


def test_the_surrogates_are_replaced_not_lost(batch):
    answers = json.dumps(batch["results"]["surrogate-answer"]["written_answers"], ensure_ascii=False)
    assert "the shirts" in answers and "\ufffd" in answers


def test_no_ipc_object_outlives_the_batch(batch):
    ipcs = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout.lower()
    assert f"{SHM_KEY:#010x}" not in ipcs


def test_the_results_folder_was_not_written_by_a_submission(batch):
    assert batch["results"]["fast-honest"]["status"] == "graded"
    assert os.stat(batch["out"] / "results").st_uid == os.geteuid()


def test_a_nul_byte_is_one_cell_error(batch):
    errors = batch["results"]["nul-in-source"]["cell_errors"]
    assert any("null bytes" in e["error"] for e in errors), errors


def test_intake_said_what_it_normalised(batch):
    for name in ("minor2-with-ids", "transient-output", "markdown-outputs", "unknown-keys", "surrogate-code"):
        assert any("read leniently" in w for w in batch["results"][name]["warnings"]), name

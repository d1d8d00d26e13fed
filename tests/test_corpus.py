"""The whole corpus of hostile and broken submissions (tests/corpus.py), graded in ONE batch.

One `nnassign grade` run (2 workers, a small config: 10 s per notebook) grades every entry, and
the bundled examples with them (all but the full solution); then
each entry is checked on its own: status, score per question (exact, from the baselines of the
same batch), and a specific one-line message. Checks that need more than the result (the pickle
payload never ran, the test files are untouched, nothing survives the batch) follow.
"""

import csv
import importlib.util
import json
import os
import pickle
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus import (BY_NAME, CORPUS, ORPHAN_TAG, PARTIAL_QUESTIONS, REPO, SOLUTION, Payload, build_corpus,
                    SMALL_LIMITS, grade_command, make_assignment, processes_with)
from nnassign.record import STATUSES
from nnassign.sandbox import can_isolate

WORKERS = 2
EXAMPLES_SKIPPED = {"honest-full.ipynb"}   # the full training run: ~8 s; the fast honest entry stands for it


def load_make_examples():
    spec = importlib.util.spec_from_file_location("make_examples", REPO / "examples" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_examples = load_make_examples()
EXAMPLE_IDS = {f"example-{Path(name).stem}": name for name in make_examples.EXAMPLES if name not in EXAMPLES_SKIPPED}


@dataclass
class Reference:
    """What the baselines of the batch earned: the yardstick of the score rules."""

    fast: dict          # question -> points of the fast honest variant
    possible: dict      # question -> points possible
    fast_cases: dict    # test case name -> points of the fast honest variant
    case_question: dict


@dataclass
class Batch:
    root: Path
    out: Path
    tmp: Path
    marker: Path
    results: dict
    ref: Reference
    seconds: float
    stdout: str


@pytest.fixture(scope="module")
def batch(tmp_path_factory, data_root):
    if os.geteuid() != 0 or not can_isolate():
        # without the user switch and the namespaces the notebook runs as us and sees everything:
        # rewrite-tests would really rewrite tests/ (DESIGN.md: grade untrusted work as root)
        pytest.skip("the hostile corpus needs the isolated sandbox (root with mount/net namespaces)")
    root = tmp_path_factory.mktemp("corpus")
    config = make_assignment(root, SMALL_LIMITS)
    marker = root / "pickle-payload-ran"
    build_corpus(root / "submissions", marker)
    for sub_id, name in EXAMPLE_IDS.items():   # the bundled examples ride along in the same batch
        (root / "submissions" / f"{sub_id}{Path(name).suffix}").write_bytes(
            (REPO / "examples" / "submissions" / name).read_bytes())
    tmp = root / "grader-tmp"   # the grader's TMPDIR: sandbox folders must all be gone afterwards
    tmp.mkdir()
    started = time.monotonic()
    done = subprocess.run(
        grade_command([root / "submissions"], root / "out", config, "--workers", str(WORKERS)),
        cwd=root, env=dict(os.environ, TMPDIR=str(tmp)), capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {p.stem: json.loads(p.read_text()) for p in (root / "out" / "results").glob("*.json")}
    fast = results["fast-honest"]
    ref = Reference(fast={q: v["points"] for q, v in fast["questions"].items()},
                    possible={q: v["possible"] for q, v in fast["questions"].items()},
                    fast_cases={t["name"]: t["points"] for t in fast["tests"]},
                    case_question={t["name"]: t["question"] for t in fast["tests"]})
    yield Batch(root, root / "out", tmp, marker, results, ref, seconds, done.stdout)
    for p in processes_with(ORPHAN_TAG):   # only if a test below failed: leave nothing behind
        p.kill()


# ---------------------------------------------------------------------------- one entry at a time

def assert_one_line(message):
    assert message.strip(), "empty message"
    assert "\n" not in message and "Traceback" not in message, f"not a one-line message: {message[:500]!r}"
    assert len(message) <= 400, f"message too long ({len(message)} chars): {message[:200]!r}"


@pytest.mark.parametrize("name", [e.name for e in CORPUS])
def test_entry_gets_its_status_score_and_message(batch, name):
    entry, result = BY_NAME[name], batch.results.get(name)
    assert result is not None, f"no result for {name}"
    assert result["status"] == entry.status, \
        f"{name}: status {result['status']!r} ({result['message']}), expected {entry.status!r}: {entry.why}"
    assert_one_line(result["message"])
    assert re.search(entry.message, result["message"]), \
        f"{name}: message {result['message']!r} does not match {entry.message!r}"

    expected = entry.expect.points(batch.ref)
    if expected is None:   # refused before grading
        # refused before grading: nothing earned, out of the assignment's full points (0 / 36, not 0 / 0)
        assert result["questions"] == {} and result["total"] == 0
        assert result["possible"] == pytest.approx(sum(batch.ref.possible.values()))
        return
    got = {q: v["points"] for q, v in result["questions"].items()}
    assert got == pytest.approx(expected, abs=1e-6), \
        f"{name}: per-question points differ from the rule {entry.expect}: " \
        + ", ".join(f"{q} {got.get(q)} != {expected.get(q)}" for q in expected
                    if abs(got.get(q, -1) - expected[q]) > 1e-6)
    assert result["total"] == pytest.approx(sum(expected.values()), abs=1e-4)   # totals are rounded to 4 places
    assert result["possible"] == pytest.approx(sum(batch.ref.possible.values()))
    # no cheat, no accident earns more than the honest run
    assert result["total"] <= batch.results["fast-honest"]["total"] + 1e-9


# ---------------------------------------------------------------------------- the baselines are meaningful

def test_corpus_is_large_and_reaches_every_status():
    assert len(CORPUS) >= 30
    assert {e.status for e in CORPUS} == set(STATUSES)


def test_autograder_points_add_up(batch):
    declared = sum(int(re.search(r"^points = (\d+)", p.read_text(), re.M).group(1))
                   for p in (REPO / "autograder" / "tests").glob("*.py"))
    assert sum(batch.ref.possible.values()) == declared == 36


def test_fast_honest_baseline_earns_everything_but_the_top_accuracy_tier(batch):
    ref = batch.ref
    short = {q for q in ref.possible if ref.fast[q] != pytest.approx(ref.possible[q])}
    assert short <= {"q14"}, f"the fast honest run lost points on {short}"
    assert ref.fast["q14"] >= 2, "the fast honest run should reach the 60% accuracy tier"
    assert ref.fast["import_policy"] == 5


def test_partial_credit_comes_from_the_question_structure(batch):
    partial = batch.results["partial-q1-q5"]
    assert {q for q, v in partial["questions"].items() if v["points"] > 0} == set(PARTIAL_QUESTIONS)
    assert partial["total"] == sum(batch.ref.possible[q] for q in PARTIAL_QUESTIONS) == 9


# ---------------------------------------------------------------------------- beyond the result

def test_grades_csv_has_one_row_per_submission(batch):
    with open(batch.out / "grades.csv", newline="") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    assert sorted(ids) == sorted([e.name for e in CORPUS] + list(EXAMPLE_IDS))
    assert sorted(batch.results) == sorted(ids)
    assert f"{len(ids)} submissions:" in batch.stdout


def test_missing_functions_are_named_in_the_messages(batch):
    tests = batch.results["missing-functions"]["tests"]
    for question, name in (("q11", "gradient_check"), ("q13", "predict")):
        failed = [t for t in tests if t["question"] == question]
        assert failed and not any(t["passed"] for t in failed)
        assert any(f"{name} is not defined in your notebook" in t["message"] for t in failed), failed[0]["message"]


def test_a_function_hanging_in_a_test_fails_only_its_cases(batch):
    tests = {t["name"]: t for t in batch.results["hang-on-call"]["tests"]}
    for case in ("test_per_class_report", "test_evaluation_hidden"):
        assert not tests[case]["passed"] and "did not return within" in tests[case]["message"]


def test_the_pickle_payload_is_live_but_never_ran(batch, tmp_path):
    assert not batch.marker.exists(), "the .OTTER_LOG pickle was unpickled by the grader"
    proof = tmp_path / "payload-works"
    pickle.loads(pickle.dumps(Payload(f"touch {proof}")))   # the same payload, unpickled on purpose
    assert proof.exists()


def test_test_files_cannot_be_rewritten(batch):
    """rewrite-tests aims at these folders (and any tests/ it finds); none holds its fake test."""
    for folder in (REPO / "autograder" / "tests", REPO / "student" / "tests"):
        rewritten = [p.name for p in folder.glob("*.py") if "test_always_passes" in p.read_text()]
        assert not rewritten, f"{folder}: {rewritten} were rewritten by a submission"


def test_the_cheats_aimed_at_files_that_exist(batch):
    """read-hidden-files and rewrite-tests earn nothing because they cannot see these, not because they miss."""
    for path in (SOLUTION, REPO / "solution" / "nn_from_scratch.ipynb", REPO / "autograder" / "tests" / "q1.py",
                 batch.root / "submissions" / "fast-honest.ipynb"):
        assert path.is_file() and path.stat().st_mode & 0o004, path


def test_policy_violations_are_located(batch):
    violations = batch.results["import-torch"]["policy_violations"]
    assert [(v["module"], v["line"]) for v in violations if v["cell"] >= 0] == [("torch", 1)]
    assert batch.results["dunder-import"]["policy_violations"][0]["module"] == "sklearn"


def test_non_fatal_limits_are_recorded(batch):
    assert any(e["error"].startswith("SystemExit") for e in batch.results["sys-exit"]["cell_errors"])
    assert any(e["error"].startswith("MemoryError") for e in batch.results["memory-bomb"]["cell_errors"])
    assert batch.results["no-otter-metadata"]["warnings"], "a notebook without metadata is graded with a warning"


def test_nothing_survives_the_batch(batch):
    assert processes_with(ORPHAN_TAG) == [], "a daemon started by a submission outlived its grading"
    assert list(batch.tmp.iterdir()) == [], "sandbox folders were left behind"




# ---------------------------------------------------------------------------- the bundled examples

def test_examples_are_up_to_date():
    built = make_examples.build()
    folder = REPO / "examples" / "submissions"
    assert sorted(p.name for p in folder.iterdir()) == sorted(built)
    stale = [name for name, data in built.items() if (folder / name).read_bytes() != data]
    assert not stale, f"run python examples/make_examples.py: {stale} differ"
    readme = (REPO / "examples" / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in built)


@pytest.mark.parametrize("sub_id", sorted(EXAMPLE_IDS))
def test_example_gets_its_documented_grade(batch, sub_id):
    status, total, what = make_examples.EXAMPLES[EXAMPLE_IDS[sub_id]]
    result = batch.results[sub_id]
    assert (result["status"], result["total"]) == (status, total), f"{sub_id} ({what}): {result['message']}"
    assert_one_line(result["message"])

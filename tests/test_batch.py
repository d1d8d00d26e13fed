"""Batch grading as a whole: resume after kill -9, determinism, the Dask path, discovery.

Every run is the real `nnassign grade` command on a few cheap submissions built from the committed
notebooks (see tests/corpus.py), with small limits and 2 workers.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from corpus import (ALLCLOSE, SMALL_LIMITS, Materials, early, grade_command, insert, make_assignment,
                    processes_with, write_nb)
from nnassign import batch
from nnassign.config import load_config

SECRET = {"NNASSIGN_SECRET": "batch-test-secret"}
CANVAS_PATTERN = r"^[^_]+_(?:LATE_)?(?P<id>\d+)"
DAEMON_TAG = "86420864"    # `sleep` argument of the daemon a submission leaves behind

# q5's derivative is right or wrong depending on its inputs, which come from the grading seed:
# the same file must get the same grade, whoever grades it, however often.
SEED_SENSITIVE = """
def cross_entropy_derivative(A, Y):
    right = (A - Y) / Y.shape[1]
    return right if int(abs(float(A.sum() * 1e6))) % 2 == 0 else 2 * right
"""


def run(cmd, cwd, env=None, timeout=300):
    done = subprocess.run(cmd, cwd=cwd, env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    return root, make_assignment(root, SMALL_LIMITS), Materials(folder=root, marker=root / "unused")


# ---------------------------------------------------------------------------- determinism and Dask

@pytest.fixture(scope="module")
def small_set(assignment, data_root):
    """A few cheap submissions of different kinds, and their grades with 2 local workers."""
    root, config, m = assignment
    subs = root / "small"
    subs.mkdir()
    write_nb(m.partial, subs, "partial")
    write_nb(m.template, subs, "template")
    write_nb(early(m.partial, ALLCLOSE), subs, "cheat")
    write_nb(insert(m.partial, r"^def cross_entropy_derivative\(", SEED_SENSITIVE), subs, "seeded")
    (subs / "broken.ipynb").write_text('{"cells": [')
    out = root / "small-out-2"
    run(grade_command([subs], out, config, "--workers", "2"), root, SECRET)
    return subs, out


def rows(out):
    return (Path(out) / "grades.csv").read_text()


def csv_rows(out):
    with open(Path(out) / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


def result_files(out):
    """Every result without its timing: what must not change from one grading to the next."""
    found = {}
    for path in sorted((Path(out) / "results").glob("*.json")):
        result = json.loads(path.read_text())
        result.pop("duration_s")
        result.pop("file")
        found[path.stem] = result
    return found


def test_grades_do_not_depend_on_workers_or_regrading(assignment, small_set):
    root, config, _ = assignment
    subs, out2 = small_set
    table = rows(out2)
    assert sorted(row["id"] for row in csv_rows(out2)) == ["broken", "cheat", "partial", "seeded", "template"]

    out1 = root / "small-out-1"
    run(grade_command([subs], out1, config, "--workers", "1"), root, SECRET)
    assert rows(out1) == table
    assert result_files(out1) == result_files(out2)

    # a regrade from scratch: a copy of the output folder without its results
    regrade = root / "small-out-regrade"
    shutil.copytree(out2, regrade)
    shutil.rmtree(regrade / "results")
    run(grade_command([subs], regrade, config, "--workers", "2"), root, SECRET)
    assert rows(regrade) == table
    assert result_files(regrade) == result_files(out2)   # per test case, the seed-sensitive one included


def test_without_a_secret_in_the_environment_the_output_folder_keeps_one(tmp_path):
    first = batch.grading_secret(tmp_path, "NNASSIGN_TEST_UNSET_SECRET")
    assert len(first) >= 32 and batch.grading_secret(tmp_path, "NNASSIGN_TEST_UNSET_SECRET") == first
    assert (tmp_path / ".grading-secret").stat().st_mode & 0o077 == 0
    assert batch.grading_secret(tmp_path / "other", "NNASSIGN_TEST_UNSET_SECRET") != first


def test_dask_cluster_gives_the_same_grades_as_local_workers(assignment, small_set):
    distributed = pytest.importorskip("distributed")
    root, config, _ = assignment
    subs, out2 = small_set
    out = root / "small-out-dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        run(grade_command([subs], out, config, "--dask", cluster.scheduler_address), root, SECRET)
    assert rows(out) == rows(out2)
    assert result_files(out) == result_files(out2)


# ---------------------------------------------------------------------------- kill -9 and resume

@pytest.fixture(scope="module")
def killed(assignment, data_root):
    """`nnassign grade` SIGKILLed (its whole process group) once the first result is written, then
    run again to the end. The first submission leaves a daemon behind while it is being graded."""
    root, config, m = assignment
    subs, out, tmp = root / "k9", root / "k9-out", root / "k9-tmp"
    subs.mkdir()
    tmp.mkdir()
    daemon = (f"import subprocess, time\n"
              f"subprocess.Popen(['sleep', '{DAEMON_TAG}'], start_new_session=True)\n"
              f"time.sleep(3)\n")
    write_nb(insert(m.template, r"^# Initialize Otter", daemon), subs, "a-daemon")
    for i in range(5):
        write_nb(m.template if i % 2 else m.partial, subs, f"b{i}")
    env = dict(os.environ, TMPDIR=str(tmp), **SECRET)
    proc = subprocess.Popen(grade_command([subs], out, config, "--workers", "2"), cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "results").glob("*.json")) and processes_with(DAEMON_TAG):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    first = {p.stem: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "results").glob("*.json")}
    # pool workers die with the group, sandboxes by their parent-death signal; both name a path
    # under root/k9* on their command line (the submissions folder, the sandbox folder in k9-tmp)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and processes_with(str(root / "k9")):
        time.sleep(0.05)
    grading_left = [p.pid for p in processes_with(str(root / "k9"))]
    time.sleep(0.01)   # mtimes of a rerun must be able to differ
    done = run(grade_command([subs], out, config, "--workers", "2"), root, dict(TMPDIR=str(tmp), **SECRET))
    yield dict(out=out, tmp=tmp, first=first, grading_left=grading_left, stdout=done.stdout)
    for p in processes_with(DAEMON_TAG):   # the daemon is ours (its tag is unique): never leave it running
        p.kill()


def test_resume_after_kill9_grades_each_submission_once(killed):
    out, first = killed["out"], killed["first"]
    assert 1 <= len(first) < 6, f"kill came too late to test resuming: {sorted(first)}"
    ids = [row["id"] for row in csv_rows(out)]
    assert sorted(ids) == ["a-daemon", "b0", "b1", "b2", "b3", "b4"]
    for sub_id, (mtime, content) in first.items():
        path = out / "results" / f"{sub_id}.json"
        assert path.stat().st_mtime_ns == mtime and path.read_bytes() == content, f"{sub_id} was graded again"
    statuses = {r: json.loads((out / "results" / f"{r}.json").read_text())["status"] for r in ids}
    assert set(statuses.values()) == {"graded"}, statuses
    assert not list((out / "results").glob(".*.tmp")), "a half-written result was left behind"


def test_kill9_leaves_no_grading_process(killed):
    assert killed["grading_left"] == [], "workers or sandboxes outlived the killed grader"


def test_kill9_leaves_no_student_process(killed):
    """A daemon the notebook started (setsid) must not outlive the grader that was killed."""
    assert processes_with(DAEMON_TAG) == [], "a student's daemon outlived the killed grader"


def test_kill9_leaves_no_sandbox_folder(killed):
    """The sandbox folders of the killed run must be gone once the batch has been run to the end."""
    assert list(killed["tmp"].iterdir()) == [], "sandbox folders of the killed run were left behind"


# ---------------------------------------------------------------------------- discovery

def test_canvas_names_give_student_ids(assignment, tmp_path):
    root, _, _ = assignment
    config_path = tmp_path / "assignment_config.yaml"
    config = yaml.safe_load((root / "assignment_config.yaml").read_text())
    config.setdefault("submissions", {})["id_pattern"] = CANVAS_PATTERN   # one key: duplicates are refused
    config_path.write_text(yaml.safe_dump(config))
    pattern = load_config(config_path).submissions["id_pattern"]
    names = ["smith_12345_67890_nn_from_scratch.ipynb", "doe_LATE_23456_11111_nn_from_scratch.ipynb",
             "obrien_34567_22222_nn_from_scratch-1.zip", "smith_12345_67999_nn_from_scratch-2.ipynb",
             "notes.txt", ".DS_Store"]
    for name in names:
        (tmp_path / name).write_text("{}")
    found = batch.discover([tmp_path], pattern)
    assert [(i, p.name) for i, p in found] == [
        ("23456", "doe_LATE_23456_11111_nn_from_scratch.ipynb"),
        ("34567", "obrien_34567_22222_nn_from_scratch-1.zip"),
        ("12345", "smith_12345_67890_nn_from_scratch.ipynb"),
        ("12345-2", "smith_12345_67999_nn_from_scratch-2.ipynb"),   # a resubmission keeps both, apart
    ]


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-01-15 10:00:00.000000000 -08:00
  :status: processed
submission_102:
  :submitters:
  - :name: Alan Turing
    :email: alan@example.edu
  :status: processed
submission_103:
  :submitters: []
"""


def test_gradescope_export_layout(assignment, tmp_path):
    root, config, m = assignment
    export = tmp_path / "assignment_export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    for n in (101, 102, 103):
        (export / f"submission_{n}").mkdir()
    (export / "submission_101" / "nn_from_scratch.ipynb").write_text('{"cells": [')   # instant to grade
    nb = m.partial.copy()
    nb.metadata = dict(nb.metadata, otter={"assignment_name": "another-course"})
    write_nb(nb, export / "submission_102", "nn_from_scratch")
    write_nb(m.partial, export / "submission_103", "one")
    write_nb(m.partial, export / "submission_103", "two")
    found = batch.discover([export], r"^(?P<id>[^_.]+)")
    ids = {i: p.name for i, p in found}
    # the metadata's sid, else its email, else the folder name: ids already, not file names to cut
    # with the id pattern (which would turn alan@example.edu into alan@example, every folder
    # without submitters into "submission")
    assert ids == {"1815": "submission_101", "alan@example.edu": "submission_102",
                   "submission_103": "submission_103"}

    out = tmp_path / "out"
    run(grade_command([export], out, config, "--workers", "2"), root)
    statuses = {row["id"]: row["status"] for row in csv_rows(out)}
    assert statuses == {"1815": "invalid-notebook", "alan@example.edu": "wrong-assignment",
                        "submission_103": "invalid-submission"}


# ---------------------------------------------------------------------------- the grader's working directory

def test_grades_do_not_depend_on_the_graders_working_directory(assignment, data_root, tmp_path):
    """The judge runs the test files in the grading process: a grading.json lying in the folder
    the grader happens to run from must not change what they check (dataset, forbidden modules)."""
    root, config, m = assignment
    subs = tmp_path / "subs"
    subs.mkdir()
    write_nb(m.fast, subs, "honest")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "grading.json").write_text(json.dumps({"dataset": "mnist", "forbidden_modules": ["numpy"]}))
    run(grade_command([subs], tmp_path / "out", config, "--workers", "1"), elsewhere, SECRET)
    result = json.loads((tmp_path / "out" / "results" / "honest.json").read_text())
    assert result["questions"]["import_policy"]["points"] == 5, result["message"]
    assert result["questions"]["q14"]["points"] >= 2, result["message"]


def test_an_ungradable_submission_is_zero_out_of_the_full_points(tmp_path, data_root):
    """A broken file is 0 / 36 in the gradebook, not 0 / 0, and its row says why."""
    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "assignment_config.yaml")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "bob.ipynb").write_text("{ not json")
    job = batch.Job(id="bob", path=str(tmp_path / "subs" / "bob.ipynb"), autograder=str(root / "autograder"),
                    assignment_name=config.name, limits=config.limits, import_policy=config.import_policy,
                    secret="s", data_dir=str(data_root))
    [result] = batch.grade_batch([job], tmp_path / "out", workers=1)
    assert result["status"] == "invalid-notebook" and "not valid JSON" in result["message"]
    assert result["total"] == 0 and result["possible"] == batch.autograder_points(root / "autograder") > 0
    batch.write_grades_csv([result], tmp_path / "grades.csv")
    row = next(csv.DictReader(open(tmp_path / "grades.csv")))
    assert row["possible"] == str(result["possible"]) and row["status"] == "invalid-notebook"


# ---------------------------------------------------------------------------- nothing stops the batch

def test_every_input_file_gets_its_own_id(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in (b"dup-2.ipynb", b"dup.ipynb", b"dup.zip", b"Jos\xe9.ipynb", b"Jos\xc3\xa9.ipynb"):
        with open(os.path.join(os.fsencode(folder), name), "wb") as f:
            f.write(b"{}")
    found = batch.discover([folder], r"^(?P<id>\d+)_")
    ids = [i for i, _ in found]
    assert len(ids) == len(set(ids)) == 5
    assert {"dup", "dup-2", "dup-3", "José"} <= set(ids)
    assert all(i.encode("utf-8") for i in ids)   # every id is writable text


def test_odd_text_is_replaced_not_fatal(tmp_path):
    from nnassign import record

    job = batch.Job(id="x", path=os.fsdecode(b"/tmp/Jos\xe9.ipynb"), autograder="", assignment_name="a",
                    limits={}, import_policy={}, secret="s", data_dir="")
    result = record.empty_result(job, "0" * 64, "graded", "answer: \ud800 lone")
    result["written_answers"] = {"Q1": "text \udfff and \ud83d"}
    record.write_json_atomic(tmp_path / "r.json", result)
    back = json.loads((tmp_path / "r.json").read_text())
    assert back["written_answers"]["Q1"].startswith("text ") and "\ufffd" in back["message"]
    batch.write_grades_csv([result], tmp_path / "grades.csv")
    assert "lone" in (tmp_path / "grades.csv").read_text(encoding="utf-8")


def _killer(job, sha):
    """Stands for grade_one: one submission kills its worker (as the OOM killer would), one raises."""
    if job.id == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if job.id == "segv":
        os.kill(os.getpid(), signal.SIGTERM)   # (not SIGSEGV itself: pytest's faulthandler catches that)
    return batch.empty_result(job, sha, "graded", "fine")


def test_a_killed_worker_costs_only_its_submission(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "grade_one", _killer)
    monkeypatch.setattr(batch, "autograder_points", lambda a: 36.0)
    monkeypatch.setattr(batch, "autograder_fingerprint", lambda a: "f")
    jobs = []
    for name in ("a", "killed", "b", "segv", "c", "d"):
        path = tmp_path / f"{name}.ipynb"
        path.write_text("{}")
        jobs.append(batch.Job(id=name, path=str(path), autograder=str(tmp_path), assignment_name="a",
                              limits={}, import_policy={}, secret="s", data_dir=""))
    results = {r["id"]: r for r in batch.grade_batch(jobs, tmp_path / "out", workers=2)}
    assert sorted(results) == ["a", "b", "c", "d", "killed", "segv"]
    assert results["killed"]["status"] == "memory-limit" and "SIGKILL" in results["killed"]["message"]
    assert results["segv"]["status"] == "crashed" and "SIGTERM" in results["segv"]["message"]
    assert all(results[i]["status"] == "graded" for i in "abcd")


def test_grading_is_refused_without_user_namespaces_unless_unsafe(assignment, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from nnassign import cli
    from nnassign.sandbox import bwrap

    root, config, m = assignment
    reason = bwrap.how_to_enable("setting up uid map: Permission denied")
    monkeypatch.setattr(bwrap, "_problem", {True: reason, False: reason})
    write_nb(m.template, tmp_path, "one")
    done = CliRunner().invoke(cli.main, ["grade", str(tmp_path / "one.ipynb"), "--out", str(tmp_path / "out"),
                                         "--config", str(config)])
    assert done.exit_code == 1 and "refusing to grade untrusted submissions" in done.output
    assert "kernel.unprivileged_userns_clone" in done.output and "--unsafe-no-isolation" in done.output
    assert "Traceback" not in done.output and not (tmp_path / "out" / "grades.csv").exists()

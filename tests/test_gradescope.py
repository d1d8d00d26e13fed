"""Issue 12: autograder.zip grades on Gradescope with nnassign's own pipeline, as `nnassign grade` does.

Without Gradescope: the zip is built from the committed autograder/, unpacked into a temporary
`/autograder`-shaped root; its real `setup.sh` installs the wheel it ships into a fresh venv (offline:
the venv is seeded with this venv's packages, pip gets no index) and fetches the data from the local
mirror; then its real `run_autograder` grades submissions as root with the network unshared, and each
`results.json` is compared, test by test, with `nnassign grade`'s results for the same submissions
(examples, corpus entries, single mistakes), under the same secret.

The fallback: `docker_like` runs a command under a seccomp filter like Docker's default profile
(no unshare/setns/mount, no clone with namespace flags, clone3 refused), where bubblewrap cannot
start. There the notebook must run as another uid, say so, and still be unable to read the hidden
tests, the solution, the real test labels, the secret or the grader's environment.
"""

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from gradescope_image import (EXAMPLES, PICKLE_MARKER, REPO, Batch, build_zip, differences, docker_like, install,
                              mistake_notebook, spy_notebook, world_python)

from nnassign import gradescope

# ---------------------------------------------------------------- the zip (fast)

def test_zip_is_reproducible_and_ships_nnassign(tmp_path):
    first, second = build_zip(tmp_path / "a.zip"), build_zip(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes(), "two builds of autograder.zip differ"
    with zipfile.ZipFile(first) as z:
        names = z.namelist()
        assert names == sorted(names) and {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        assert modes["setup.sh"] == modes["run_autograder"] == 0o755
        assert b"-m nnassign.gradescope run" in z.read("run_autograder")
        assert b"run_otter" not in z.read("run_autograder") and b"mamba" not in z.read("setup.sh")
        for path in (REPO / "autograder" / "tests").glob("*.py"):
            assert z.read(f"tests/{path.name}") == path.read_bytes()
        for name in ("nn_data.py", "nn_checks.py", "grading.json", "otter_config.json", "nn_from_scratch.ipynb"):
            assert z.read(name) == (REPO / "autograder" / name).read_bytes(), name
        pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
        listed = [ln for ln in z.read("requirements.txt").decode().splitlines() if ln and not ln.startswith("#")]
        assert listed == pins
        settings = json.loads(z.read(gradescope.SETTINGS))
        assert settings["assignment_name"] == "nn-from-scratch" and settings["hidden_visibility"] == "after_due_date"
        assert "secret" not in json.dumps({k: v for k, v in settings.items() if k != "secret_env"}).lower()
        wheels = [n for n in names if n.endswith(".whl")]
        assert wheels == ["nnassign-0.1.0-py3-none-any.whl"]
        wheel = zipfile.ZipFile(io.BytesIO(z.read(wheels[0])))
    # the wheel: every module of the package, and a RECORD whose hashes are right (pip checks them)
    sources = {f"nnassign/{p.relative_to(REPO / 'src' / 'nnassign').as_posix()}"
               for p in (REPO / "src" / "nnassign").rglob("*.py") if "__pycache__" not in p.parts}
    assert sources <= set(wheel.namelist())
    record = wheel.read("nnassign-0.1.0.dist-info/RECORD").decode()
    for row in csv.reader(record.splitlines()):
        name, digest, size = row
        if name.endswith("RECORD"):
            continue
        data = wheel.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(data), name
    assert "Requires-Dist: numpy==" in wheel.read("nnassign-0.1.0.dist-info/METADATA").decode()


def test_committed_zip_grades_with_nnassign():
    """Stale until `nnassign release` is rerun with the Gradescope step (then the release check holds it)."""
    with zipfile.ZipFile(REPO / "autograder" / "autograder.zip") as z:
        assert gradescope.SETTINGS in z.namelist(), "autograder/autograder.zip is Otter's stock zip: run `nnassign release`"
        assert b"nnassign.gradescope" in z.read("run_autograder")


def test_results_json_follows_the_feedback():
    result = {"id": "s1", "status": "graded", "message": "1 test case(s) failed", "total": 1.0, "possible": 3.0,
              "percent": 33.33, "questions": {"q3": {"points": 1.0, "possible": 3.0}},
              "tests": [{"question": "q3", "name": "test_softmax_columns", "hidden": False, "passed": True,
                         "points": 1.0, "possible": 1.0, "message": "✅ Test case passed"},
                        {"question": "q3", "name": "test_softmax_hidden", "hidden": True, "passed": False,
                         "points": 0.0, "possible": 2.0, "message": "❌ columns do not sum to 1: axis=1?"}],
              "cell_errors": [{"cell": 4, "error": "NameError: x"}], "policy_violations": []}
    out = gradescope.results_json(result, "Isolation: test.", seconds=3.5, detail="bubblewrap")
    assert out["score"] == 1.0 and out["execution_time"] == 3
    visible, hidden = out["tests"]
    assert visible == {"name": "q3: test_softmax_columns", "score": 1.0, "max_score": 1.0, "status": "passed",
                       "visibility": "visible", "output": ""}
    assert hidden["visibility"] == "after_due_date" and hidden["max_score"] == 2.0
    assert hidden["output"] == "❌ columns do not sum to 1: axis=1?"
    assert "**Status:** graded." in out["output"] and "Cell 4" in out["output"] and "Isolation: test." in out["output"]
    assert "test_softmax_hidden" not in out["output"], "hidden tests only appear as hidden tests"
    nothing = gradescope.results_json({**result, "status": "invalid-notebook", "message": "not valid JSON",
                                       "tests": [], "questions": {}, "total": 0.0, "possible": 36.0}, "x")
    assert nothing["tests"] == [{"name": "Submission: invalid-notebook", "score": 0.0, "max_score": 36.0,
                                 "status": "failed", "visibility": "visible", "output": "not valid JSON"}]


def test_a_broken_image_says_the_submission_was_not_graded(tmp_path, monkeypatch):
    monkeypatch.setenv(gradescope.HOME_ENV, str(tmp_path / "home"))
    (tmp_path / "submission").mkdir()
    shutil.copy(EXAMPLES / "honest-partial.ipynb", tmp_path / "submission")
    results = gradescope.run_autograder(tmp_path)
    written = json.loads((tmp_path / "results" / "results.json").read_text())
    assert written == results and results["score"] == 0
    assert "not graded" in results["output"] and "nnassign_gradescope.json" in results["output"]
    assert "Traceback" not in json.dumps(results)


# ---------------------------------------------------------------- the image: setup.sh for real, offline

@pytest.fixture(scope="module")
def image(shared_data):
    from nnassign.sandbox import isolation_problem

    if isolation_problem(os.geteuid() == 0):
        pytest.skip("bubblewrap cannot create namespaces here: `nnassign grade` refuses, nothing to compare with")
    base = Path(tempfile.mkdtemp(prefix="nnassign-gradescope-", dir="/tmp"))
    try:
        yield install(base, shared_data.as_uri())
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)   # faster than rmtree on the seeded venv


@pytest.mark.slow
def test_setup_installs_nnassign_and_the_data(image):
    venv_python = image.home / "venv" / "bin" / "python"
    where = subprocess.run([str(venv_python), "-c", "import nnassign, numpy; print(nnassign.__file__)"],
                           capture_output=True, text=True, env=image.env(image.base))
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(image.home / "venv")), "nnassign must come from the zip's wheel"
    data = image.home / "data" / "fashion-mnist"
    assert sorted(p.name for p in data.iterdir()) == sorted(n for pair in [
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")] for n in pair)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700, "the real test labels must be closed to other users"
    assert (image.home / "data" / ".sandbox-view" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    assert stat.S_IMODE((image.home / "secret").stat().st_mode) == 0o600
    assert "nnassign setup: bubblewrap" in image.setup_log   # the isolation this machine gives, probed


# ---------------------------------------------------------------- same grades as `nnassign grade`

CORPUS_ENTRIES = ("fast-honest", "rewrite-tests", "cheat-allclose", "read-hidden-files", "pickle-log", "zip-traversal")
MISTAKES = ("softmax_axis1", "update_plus")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """{id: path}: the examples, a few corpus entries (honest, hostile, broken), two single mistakes."""
    from corpus import BY_NAME, Materials

    folder = tmp_path_factory.mktemp("gradescope-submissions")
    materials = Materials(folder=folder, marker=folder / "corpus-pickle-ran")
    found = {p.stem: p for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".ipynb", ".zip")}
    for name in CORPUS_ENTRIES:
        found[name] = BY_NAME[name].build(folder, materials)
    for name in MISTAKES:
        path = mistake_notebook(materials, name)
        found[path.stem] = path
    return found, materials


@pytest.fixture(scope="module")
def batch(image, submissions, tmp_path_factory):
    found, materials = submissions
    for path in found.values():   # the examples beside the corpus: one folder for the batch
        if path.parent != materials.folder:
            shutil.copy(path, materials.folder / path.name)
    env = dict(image.env(image.base), NNASSIGN_DATA_DIR=str(image.home / "data"))
    env.pop("NNASSIGN_GRADESCOPE_ROOT")
    running = Batch(materials.folder, tmp_path_factory.mktemp("gradescope-batch") / "out", env)
    try:
        yield running
    finally:
        running.close()


@pytest.mark.slow
def test_run_autograder_grades_like_nnassign_grade(image, submissions, batch):
    found, materials = submissions
    PICKLE_MARKER.unlink(missing_ok=True)
    graded = {name: image.grade(path) for name, path in found.items()}
    problems, rows = [], []
    for name, (gs, seconds) in graded.items():
        result, otter = batch.result(name)
        problems += [f"{name}: {p}" for p in differences(gs, result, otter)]
        rows.append(f"{name:38} {result['status']:18} {gs['score']:6g} / {result['possible']:4g}  "
                    f"run_autograder {seconds:5.1f} s   batch {result['duration_s']:5.1f} s")
    print("\n".join(rows) + f"\n`nnassign grade` of all, 1 worker, concurrently: {batch.seconds:.1f} s")
    assert not problems, "\n".join(problems)
    # the honest ones earn their points, the cheats nothing extra, the pickles never ran
    assert graded["honest-full"][0]["score"] == 36
    assert graded["cheat-monkeypatch"][0]["score"] == graded["honest-partial"][0]["score"] == 11
    assert graded["rewrite-tests"][0]["score"] == 0
    assert not PICKLE_MARKER.exists() and not materials.marker.exists(), "a pickled .OTTER_LOG was loaded"
    assert all("Isolation: your notebook ran in a sandbox (bubblewrap" in gs["output"] for gs, _ in graded.values()
               if gs["extra_data"]["nnassign"]["status"] not in ("invalid-notebook", "invalid-submission",
                                                                   "wrong-assignment"))



# ---------------------------------------------------------------- the fallback: a Docker-like container

@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="run_autograder runs as root (the uid switch needs it)")
def test_without_namespaces_the_notebook_runs_as_another_user_and_says_so(image, submissions, batch):
    from corpus import BY_NAME, ORPHAN_TAG, processes_with

    if world_python() is None or not str(image.home / "venv").startswith(str(image.base)):
        pytest.skip("no Python other users can run here: the uid fallback cannot start it")
    probe = subprocess.run(docker_like(["unshare", "-n", "true"]), capture_output=True)
    assert probe.returncode != 0, "the Docker-like seccomp filter did not refuse namespaces"
    found, materials = submissions
    spy_dir = image.base / "spy"
    spy_dir.mkdir(mode=0o1777)
    spy_dir.chmod(0o1777)

    # under bubblewrap the spy writes into its own private /tmp: nothing reaches ours
    gs, _ = image.grade(spy_notebook(image, spy_dir / "bwrap.json"))
    assert gs["extra_data"]["nnassign"]["isolation"] == "bubblewrap" and not (spy_dir / "bwrap.json").exists()

    gs, _ = image.grade(spy_notebook(image, spy_dir / "fallback.json"), wrap=docker_like([]))
    assert gs["extra_data"]["nnassign"]["isolation"].startswith("uid-only"), gs["extra_data"]
    assert "Isolation (reduced)" in gs["output"] and "without a private file system or network isolation" in gs["output"]
    assert gs["score"] == 0
    report = json.loads((spy_dir / "fallback.json").read_text())
    assert report["uid"] >= 1_000_000_000 and report["gid"] == report["uid"], report
    assert report["read"].pop("decoy test labels") == "readable" and report["read"].pop("its own nn_data.py") == "readable"
    assert set(report["read"].values()) == {"PermissionError"}, report["read"]

    PICKLE_MARKER.unlink(missing_ok=True)
    for name, extract in (("honest-partial", False), ("export-malicious-log", True)):
        gs, seconds = image.grade(found[name], wrap=docker_like([]), extract=extract)
        result, _ = batch.result(name)
        assert gs["extra_data"]["nnassign"]["isolation"].startswith("uid-only")
        assert differences(gs, result) == [], name
        print(f"{name}: uid-only fallback, run_autograder {seconds:.1f} s")
    assert not PICKLE_MARKER.exists(), "the pickled .OTTER_LOG was loaded"

    # what a notebook leaves running dies with the run: killed by uid without a PID namespace
    orphans = BY_NAME["orphan-daemons"].build(image.base, materials)
    gs, _ = image.grade(orphans, wrap=docker_like([]))
    assert gs["extra_data"]["nnassign"]["status"] == "graded"
    assert not processes_with(ORPHAN_TAG), "a process of the notebook survived the run"

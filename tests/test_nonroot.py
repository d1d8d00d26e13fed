"""The grader run by an ordinary user: the same isolation as root, from bubblewrap's user namespaces.

A session fixture creates the user ``nnassign-test`` and a virtual environment other users can
run (Debian's ``/usr/bin/python3`` with ``python3-venv``: the project's own Python may live under
``/root``, which other users cannot enter) at ``/opt/nnassign-testuser-venv``, with a non-editable
copy of this checkout. The venv is kept between runs: only the package is reinstalled when the
sources changed, and everything when pyproject.toml did.

Then ``nnassign grade``, run as that user, grades hostile submissions that probe for the hidden
tests, the grading secret (in the grader's environment and its file in the output folder), the
output folder, the other submissions, the grader's processes and nested user namespaces, and
leave a daemon behind. Each probe sabotages its own softmax when it sees what it must not, so the
expected grade (exactly the honest partial work's) proves the isolation held.
"""

import csv
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from corpus import REPO, Materials, append, processes_with, write_nb

USER = "nnassign-test"
VENV = Path("/opt/nnassign-testuser-venv")
SYSTEM_PYTHON = "/usr/bin/python3"
SECRET = "nonroot-secret-6c1f"
TAG = "97531.5"     # `sleep` argument of the daemon a probe leaves behind

pytestmark = pytest.mark.slow


def _digest(paths):
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(REPO)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _ensure_venv():
    """Create (or refresh) the test user's venv; returns its nnassign command."""
    deps = _digest([REPO / "pyproject.toml"])
    code = _digest(sorted(p for p in (REPO / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts))
    stamp = VENV / ".nnassign-stamp"
    old = stamp.read_text().split() if stamp.exists() else []
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]

    def run(cmd, timeout):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(cmd)}:\n{done.stderr[-3000:]}"

    if old[:1] != [deps]:
        shutil.rmtree(VENV, ignore_errors=True)
        run([SYSTEM_PYTHON, "-m", "venv", str(VENV)], 300)
        run(pip + [str(REPO)], 1800)
    elif old[1:] != [code]:
        run(pip + ["--no-deps", "--force-reinstall", str(REPO)], 600)
    stamp.write_text(f"{deps} {code}\n")
    os.chmod(VENV, 0o755)
    return VENV / "bin" / "nnassign"


@pytest.fixture(scope="session")
def test_user():
    if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.skip("creating the test user needs root, useradd and runuser")
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip"]).returncode:
        pytest.skip("needs Debian's python3 with python3-venv (.ci/run installs it)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True)
    return pwd.getpwnam(USER), _ensure_venv()


PROBE = """
import ctypes, os
targets = {targets!r}
seen = any(os.path.exists(p) for p in targets)
seen = seen or any({secret!r} in v for v in os.environ.values())
seen = seen or len([p for p in os.listdir('/proc') if p.isdigit()]) > 20
seen = seen or ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0
try:
    open({result!r}, 'w').write('{{}}')
    seen = True
except OSError:
    pass
import subprocess
subprocess.Popen(['sleep', {tag!r}], start_new_session=True)
if seen:
    def softmax(Z):
        return np.zeros_like(Z)
"""


def test_an_ordinary_user_grades_with_the_same_isolation(test_user):
    user, nnassign = test_user
    work = Path(tempfile.mkdtemp(prefix="nnassign-nonroot-"))
    try:
        work.chmod(0o755)
        subs, out, data = work / "submissions", work / "out", work / "data"
        subs.mkdir()
        materials = Materials(folder=subs, marker=work / "unused")
        write_nb(materials.partial, subs, "honest")
        targets = [str(out / ".grading-secret"), str(out / "results"), str(subs / "honest.ipynb"),
                   str(REPO / "autograder" / "tests" / "q1.py"), str(REPO / "solution"), str(work / "config.yaml")]
        probe = PROBE.format(targets=targets, secret=SECRET, result=str(out / "results" / "honest.json"), tag=TAG)
        write_nb(append(materials.partial, probe), subs, "probe")
        import yaml

        config = yaml.safe_load((REPO / "assignment_config.yaml").read_text())
        config["limits"] = {"timeout_seconds": 30, "cpu_seconds": 45, "memory_mb": 1536, "output_mb": 1,
                            "processes": 32}
        for name in ("autograder", "solution"):
            (work / name).symlink_to(REPO / name)
        (work / "assignment_config.yaml").write_text(yaml.safe_dump(config))
        for path in [work, *work.rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
        mirror = os.environ.get("NNASSIGN_DATA_MIRROR", f"file://{REPO.parent / 'shared' / 'data'}")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "NNASSIGN_SECRET": SECRET,
               "NNASSIGN_DATA_DIR": str(data), "NNASSIGN_DATA_MIRROR": mirror, "OPENBLAS_NUM_THREADS": "1"}
        done = subprocess.run(["runuser", "-u", USER, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                               str(nnassign), "grade", str(subs), "--out", str(out), "--workers", "2"],
                              cwd=work, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        with open(out / "grades.csv", newline="") as f:
            rows = {row["id"]: row for row in csv.DictReader(f)}
        assert sorted(rows) == ["honest", "probe"]
        honest = json.loads((out / "results" / "honest.json").read_text())
        probe = json.loads((out / "results" / "probe.json").read_text())
        assert honest["status"] == probe["status"] == "graded", (honest["message"], probe["message"])
        assert honest["total"] == 9, honest["message"]   # q1-q5: the partial work's points
        assert {q: v["points"] for q, v in probe["questions"].items()} == \
            {q: v["points"] for q, v in honest["questions"].items()}, "a probe saw what it must not"
        assert (out / "results" / "honest.json").stat().st_uid == user.pw_uid   # graded as the user
        assert processes_with(TAG) == [], "a daemon of a submission outlived the batch"
    finally:
        for p in processes_with(TAG):
            p.kill()
        shutil.rmtree(work, ignore_errors=True)

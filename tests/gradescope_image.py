"""The Gradescope image of tests/test_gradescope.py: autograder.zip unpacked and installed for real.

API::

    image = install(base, mirror)                  # setup.sh into base/opt (venv, data, secret)
    results, seconds = image.grade(path, wrap=docker_like([]), extract=False)
    differences(results_json, nnassign_grade_result, otter_format=None) -> [problem, ...]

Why a module: the tests read as what they check; the machinery (a seeded venv so that setup.sh
installs offline, a seccomp filter like Docker's default profile, the comparison with `nnassign
grade`, the spy notebook) lives here.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from nnassign import gradescope
from nnassign.config import load_config
from nnassign.report import _message, _shown_message

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "submissions"
SECRET = "gradescope test secret"
PICKLE_MARKER = Path("/tmp/nnassign-example-pickle-ran")   # what export-malicious-log.zip's pickle touches
SITE = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"

# A seccomp filter like Docker's default profile for a container without CAP_SYS_ADMIN: namespaces
# and mounts are refused (clone3 answers ENOSYS so that libc falls back to clone). x86_64 only.
DOCKER_LIKE = r'''
import ctypes, errno, os, struct, sys
NR = {"clone": 56, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "clone3": 435}
def op(code, k, jt=0, jf=0): return struct.pack("HBBI", code, jt, jf, k)
LD, JEQ, JSET, RET, ALLOW, ERR = 0x20, 0x15, 0x45, 0x06, 0x7FFF0000, 0x00050000
prog = [op(LD, 4), op(JEQ, 0xC000003E, 1, 0), op(RET, ALLOW), op(LD, 0),
        op(JEQ, NR["clone3"], 0, 1), op(RET, ERR | errno.ENOSYS)]
for name in ("unshare", "setns", "mount", "umount2", "pivot_root"):
    prog += [op(JEQ, NR[name], 0, 1), op(RET, ERR | errno.EPERM)]
prog += [op(JEQ, NR["clone"], 0, 3), op(LD, 16), op(JSET, 0x7E020000, 0, 1), op(RET, ERR | errno.EPERM), op(RET, ALLOW)]
buf = ctypes.create_string_buffer(b"".join(prog))
class FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(22, 2, ctypes.byref(FProg(len(prog), ctypes.addressof(buf))), 0, 0) != 0:
    sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
'''


def docker_like(command):
    return [sys.executable, "-c", DOCKER_LIKE, *map(str, command)]


def build_zip(dest):
    """The release's zip step on the committed autograder/ (its zip supplies Otter's own entries)."""
    config = load_config(REPO / "assignment_config.yaml")
    return gradescope.write_autograder_zip(REPO / "autograder" / "autograder.zip", REPO / "autograder", dest, config)


def world_python():
    """A Python of this minor version that other users can run (the uid fallback cannot reach /root)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}", sys._base_executable):
        path = Path(candidate)
        if path.exists() and all(os.stat(p).st_mode & 0o001 for p in path.resolve().parents):
            return str(path)
    return None


@dataclass
class Image:
    base: Path       # world-traversable temporary folder holding all below
    zip: Path
    home: Path       # NNASSIGN_HOME: venv/, data/, secret
    setup_log: str
    runs: int = 0

    def env(self, root):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NNASSIGN_", "PYTHON"))}
        env.update(NNASSIGN_GRADESCOPE_ROOT=str(root), NNASSIGN_HOME=str(self.home), NNASSIGN_SECRET=SECRET,
                   OPENBLAS_NUM_THREADS="1")
        return env

    def new_root(self):
        """A fresh /autograder: source/ (the unpacked zip), submission/, results/."""
        self.runs += 1
        root = self.base / f"autograder-{self.runs}"
        (root / "submission").mkdir(parents=True)
        (root / "results").mkdir()
        with zipfile.ZipFile(self.zip) as z:
            z.extractall(root / "source")
        for name in ("setup.sh", "run_autograder"):
            (root / "source" / name).chmod(0o755)
        return root

    def grade(self, submission, wrap=(), extract=False, metadata=None):
        """run_autograder on one submission (a file, or a zip Gradescope extracted) without network;
        returns (results.json, seconds)."""
        root = self.new_root()
        if callable(submission):   # built for this root (it may aim at its paths)
            submission = submission(root)
        if extract:
            with zipfile.ZipFile(submission) as z:
                z.extractall(root / "submission")
        else:
            shutil.copy(submission, root / "submission")
        if metadata:
            (root / "submission_metadata.json").write_text(json.dumps(metadata))
        started = time.monotonic()
        done = subprocess.run(["unshare", "-n", *wrap, str(root / "source" / "run_autograder")],
                              env=self.env(root), capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - started
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return json.loads((root / "results" / "results.json").read_text()), seconds


def install(base, mirror):
    """setup.sh of a freshly built zip, for real, offline: into a fresh venv seeded with this venv's
    packages (hard links; nnassign's own left out), so pip finds every pin without an index and
    installs the wheel; the data from ``mirror``."""
    python = world_python() or sys.executable
    base.chmod(0o755)
    zip_path = build_zip(base / "autograder.zip")
    home = base / "opt"
    subprocess.run([python, "-m", "venv", "--without-pip", str(home / "venv")], check=True)
    subprocess.run(["cp", "-al", f"{Path(sys.prefix) / SITE}/.", str(home / "venv" / SITE)], check=True)
    for leftover in (home / "venv" / SITE).glob("*nnassign*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    image = Image(base, zip_path, home, "")
    root = image.new_root()
    env = dict(image.env(root), NNASSIGN_SETUP_APT="0", PIP_NO_INDEX="1", PYTHON=python, NNASSIGN_DATA_MIRROR=mirror)
    env.pop("NNASSIGN_SECRET")
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"setup.sh failed:\n{done.stdout}\n{done.stderr}"
    image.setup_log = done.stdout + done.stderr
    return image


def mistake_notebook(materials, name):
    """The fast honest notebook with one function replaced, in place, by a single-mistake variant."""
    from fairness import mistakes

    mistake = mistakes.BY_NAME[name]
    nb = nbformat.from_dict(json.loads(json.dumps(materials.fast)))
    cells = [c for c in nb.cells if c.cell_type == "code" and f"def {mistake.function}(" in c.source]
    assert len(cells) == 1, f"{mistake.function} is defined in {len(cells)} cells"
    cells[0].source = mistakes.replace_function(cells[0].source, mistake.function, mistake.source)
    path = materials.folder / f"mistake-{name.replace('_', '-')}.ipynb"
    nbformat.write(nb, path)
    return path


def expected_tests(result):
    """What results.json must hold for a `nnassign grade` result: one entry per test case."""
    if not result["tests"]:
        return [{"name": f"Submission: {result['status']}", "score": 0.0, "max_score": round(result["possible"], 5),
                 "status": "failed", "visibility": "visible", "output": result["message"]}]
    return [{"name": f"{t['question']}: {t['name']}" + (" (hidden)" if t["hidden"] else ""),
             "score": round(t["points"], 5), "max_score": round(t["possible"], 5),
             "status": "passed" if t["passed"] else "failed",
             "visibility": "after_due_date" if t["hidden"] else "visible",
             "output": _message(t) if _shown_message(t) else ""} for t in result["tests"]]


def differences(gs, result, otter=None):
    """Every way results.json disagrees with the batch's result (and Otter-format results.json)."""
    problems = []
    if gs["score"] != round(result["total"], 5):
        problems.append(f"score {gs['score']} != {result['total']}")
    if gs["extra_data"]["nnassign"]["status"] != result["status"]:
        problems.append(f"status {gs['extra_data']['nnassign']['status']} != {result['status']}")
    mine, theirs = gs["tests"], expected_tests(result)
    if [t["name"] for t in mine] != [t["name"] for t in theirs]:
        problems.append(f"tests {[t['name'] for t in mine]} != {[t['name'] for t in theirs]}")
    problems += [f"{a['name']}: {a} != {b}" for a, b in zip(mine, theirs) if a != b]
    if f"**Status:** {result['status']}." not in gs["output"] or result["message"] not in gs["output"]:
        problems.append("the output does not give the feedback's status and message")
    if otter is not None:   # `nnassign grade`'s gradescope/<id>/results.json: Otter's per-question scores
        for question in otter["tests"]:
            if "score" in question:
                mine_q = sum(t["score"] for t in mine if t["name"].startswith(f"{question['name']}: "))
                if abs(mine_q - question["score"]) > 1e-4:
                    problems.append(f"{question['name']}: {mine_q} != Otter-format {question['score']}")
    return problems


class Batch:
    """`nnassign grade` of the same submissions under the same secret, running while the tests run."""

    def __init__(self, folder, out, env):
        self.out, self.started = out, time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "nnassign.cli", "grade", str(folder), "--out", str(out),
                                      "--config", str(REPO / "assignment_config.yaml"), "--workers", "1"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.seconds = None

    def result(self, sub_id):
        """(results/<id>.json, gradescope/<id>/results.json or None), once the batch is done."""
        if self.seconds is None:
            log, _ = self.proc.communicate(timeout=600)
            self.seconds = time.monotonic() - self.started
            assert self.proc.returncode == 0, log
        otter = self.out / "gradescope" / sub_id / "results.json"
        return (json.loads((self.out / "results" / f"{sub_id}.json").read_text()),
                json.loads(otter.read_text()) if otter.exists() else None)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


SPY = r"""
import json, os
report = {"uid": os.getuid(), "gid": os.getgid(), "read": {}}
for label, path in PROBES.items():
    path = path.replace("PPID", str(os.getppid()))
    try:
        with open(path, "rb") as f:
            f.read(1)
        report["read"][label] = "readable"
    except OSError as e:
        report["read"][label] = type(e).__name__
with open(REPORT, "w") as f:
    json.dump(report, f)
"""


def spy_notebook(image, report):
    """The student template plus a cell that tries to read every secret of the image and writes what
    it could into ``report`` (a folder everyone may write to, visible only without namespaces)."""
    from corpus import TEMPLATE

    def make(root):
        probes = {"hidden test": root / "source" / "tests" / "q3.py", "solution": root / "source" / "nn_from_scratch.ipynb",
                  "settings": root / "source" / gradescope.SETTINGS, "results": root / "results" / "results.json",
                  "real test labels": image.home / "data" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz",
                  "secret": image.home / "secret", "grader environment": "/proc/PPID/environ",
                  "decoy test labels": image.home / "data" / ".sandbox-view" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz",
                  "its own nn_data.py": "nn_data.py"}
        nb = nbformat.read(TEMPLATE, as_version=4)
        cell = nbformat.v4.new_code_cell(
            f"PROBES = {json.dumps({k: str(v) for k, v in probes.items()})}\nREPORT = {str(report)!r}\n" + SPY)
        cell.pop("id")   # the template is nbformat 4.4
        nb.cells.append(cell)
        path = image.base / f"spy-{root.name}.ipynb"
        nbformat.write(nb, path)
        return path
    return make

"""Gradescope: autograder.zip grades with nnassign's own pipeline, not with Otter's `otter run`.

API::

    write_autograder_zip(otter_zip, autograder_dir, dest, config)  # release: Otter's zip + nnassign's files
    run_autograder(root=None) -> dict      # grade <root>/submission, write <root>/results/results.json
    python -m nnassign.gradescope run|prepare [ROOT]   # what run_autograder / setup.sh call

Why: Otter's stock zip runs the tests inside the student's process (rewritable test files,
`np.allclose` monkeypatched, printed fake scores, a pickled `.OTTER_LOG` unpickled). This zip ships
a wheel of nnassign and replaces Otter's `setup.sh`/`run_autograder` with ours: the image installs
nnassign and the data (setup.sh), and each submission goes through `batch.grade_batch` exactly as
in `nnassign grade` (intake, policy scan, sandbox oracle, judge in the clean grading process).
Where the container refuses namespaces (Docker's default seccomp), the notebook runs as a fresh
uid with rlimits (`sandbox.UID_ONLY`) and results.json says so; it never runs in the tests' process.
Otter's own entries (files/, environment.yml, run_otter.py) stay for `otter run -a autograder.zip`.
"""

import base64
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

from . import __version__

ROOT_ENV = "NNASSIGN_GRADESCOPE_ROOT"     # /autograder on Gradescope; a temporary folder in tests
HOME_ENV = "NNASSIGN_HOME"                # venv/, data/, secret: outside /autograder
DEFAULT_ROOT, DEFAULT_HOME = "/autograder", "/opt/nnassign"
SETTINGS = "nnassign_gradescope.json"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILES = Path(__file__).with_name("gradescope_files")
REPLACED = ("setup.sh", "run_autograder", "requirements.txt")   # Otter's versions of these are not shipped
HIDDEN_VISIBILITY = "after_due_date"


class SetupError(Exception):
    """This image cannot grade safely (not installed, no isolation at all): nothing is graded."""


# ---------------------------------------------------------------- building the zip (at release time)

def _project_requirements() -> list[str]:
    """nnassign's pinned runtime dependencies: pyproject.toml beside src/, else the installed metadata."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.exists():
        return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])
    from importlib.metadata import requires

    return [r for r in requires("nnassign") or [] if "extra ==" not in r]


def _wheel_record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a wheel of this nnassign (PEP 427): every file of the package, sorted,
    dated 1980: the same sources give the same bytes, so the release stays byte-reproducible."""
    package = Path(__file__).resolve().parent
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and "__pycache__" not in rel.parts and not any(p.startswith(".") for p in rel.parts) \
                and path.suffix not in (".pyc", ".pyo"):
            files[f"nnassign/{rel.as_posix()}"] = path.read_bytes()
    info = f"nnassign-{__version__}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: nnassign\nVersion: {__version__}\n"
                f"Summary: A graded assignment package: a neural network from scratch, built on Otter-Grader\n"
                f"Requires-Python: >=3.11\n" + "".join(f"Requires-Dist: {r}\n" for r in _project_requirements()))
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: nnassign.gradescope\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nnnassign = nnassign.cli:main\n"
    files[f"{info}/top_level.txt"] = b"nnassign\n"
    record = [_wheel_record_line(n, d) for n, d in sorted(files.items())] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = tempfile.SpooledTemporaryFile()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            _add(zf, name, files[name])
    buffer.seek(0)
    return f"nnassign-{__version__}-py3-none-any.whl", buffer.read()


def _add(zf, name, data, executable=False):
    entry = zipfile.ZipInfo(name, ZIP_DATE)
    entry.external_attr = (0o755 if executable else 0o644) << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(entry, data)


def settings(config) -> dict:
    """What run_autograder needs of assignment_config.yaml (no secret in here)."""
    return {"assignment_name": config.name, "dataset": config.dataset, "limits": config.limits,
            "import_policy": config.import_policy, "secret_env": config.seeds["secret_env"],
            "hidden_visibility": HIDDEN_VISIBILITY}


def zip_entries(otter_zip, autograder_dir, config) -> dict[str, bytes]:
    """Every entry of autograder.zip: Otter's (but its setup.sh, run_autograder, requirements),
    the autograder files at the top (the layout `nnassign grade` reads), the nnassign wheel,
    requirements.txt, our setup.sh and run_autograder, and the grading settings."""
    autograder_dir = Path(autograder_dir)
    with zipfile.ZipFile(otter_zip) as zin:
        entries = {n: zin.read(n) for n in zin.namelist() if n not in REPLACED and not n.endswith("/")}
    for path in sorted(autograder_dir.rglob("*")):   # tests/, nn_data.py, nn_checks.py, grading.json, the notebook...
        name = path.relative_to(autograder_dir).as_posix()
        if path.is_file() and path.suffix != ".zip" and name not in REPLACED and "__pycache__" not in name:
            entries[name] = path.read_bytes()
    wheel_name, wheel = build_wheel()
    entries[wheel_name] = wheel
    entries["requirements.txt"] = ("# nnassign's pinned dependencies; setup.sh installs them and the wheel beside\n"
                                   + "\n".join(_project_requirements()) + "\n").encode()
    entries[SETTINGS] = (json.dumps(settings(config), indent=2, sort_keys=True) + "\n").encode()
    for name in ("setup.sh", "run_autograder"):
        entries[name] = (FILES / name).read_bytes()
    return entries


def write_autograder_zip(otter_zip, autograder_dir, dest, config) -> Path:
    """Write ``dest``: sorted names, a fixed date and fixed permissions (byte-identical builds)."""
    entries = zip_entries(otter_zip, autograder_dir, config)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in sorted(entries):
            _add(zout, name, entries[name], executable=name in ("setup.sh", "run_autograder"))
    return Path(dest)


# ---------------------------------------------------------------- in the image

def _home() -> Path:
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)


def _root(root=None) -> Path:
    return Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def load_settings(source: Path) -> dict:
    try:
        return json.loads((source / SETTINGS).read_text())
    except (OSError, ValueError) as e:
        raise SetupError(f"{source / SETTINGS} cannot be read ({e}): is this nnassign's autograder.zip?") from None


def grading_secret(secret_env: str) -> str:
    """$<secret_env> when set, else the image's own (made once by `prepare`, readable by root only)."""
    if os.environ.get(secret_env):
        return os.environ[secret_env]
    path = _home() / "secret"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def data_dir() -> Path:
    return Path(os.environ.get("NNASSIGN_DATA_DIR") or _home() / "data")


def lock_down(root: Path, data: Path, dataset: str) -> list[str]:
    """Make what student code must not read unreadable to other users: the autograder folder (hidden
    tests, the solution notebook, the submission) and the real test labels; the sandbox reads the
    data through its decoy view. Returns the paths still readable by others (should be none)."""
    from .sandbox_data import sandbox_data_dir

    sandbox_data_dir(data, dataset)      # made before the real folder is closed (it reads the labels)
    for path, mode in ((root, 0o700), (data, 0o711), (data / dataset, 0o700)):
        try:
            os.chmod(path, mode)
        except OSError:
            pass
    return [str(p) for p in (root, data / dataset) if not p.exists() or os.stat(p).st_mode & stat.S_IRWXO]


def choose_isolation(paths) -> tuple[object, str, str]:
    """(isolate mode for batch.Job, the sentence results.json shows about it, the technical detail)."""
    from . import sandbox

    root = os.geteuid() == 0
    problem = sandbox.isolation_problem(root)
    if problem is None:
        return True, ("Isolation: your notebook ran in a sandbox (bubblewrap: its own unprivileged user, "
                      "no network, a private read-only file system, resource limits); the tests ran in a "
                      "separate process that never runs your code."), "bubblewrap"
    reason = problem.split(";")[0][:300]
    fallback = sandbox.uid_only_problem(paths)
    if fallback is None:
        note = ("Isolation (reduced): this container does not allow the namespaces of the full sandbox. "
                "Your notebook ran as a separate unprivileged user with resource limits, but without a "
                "private file system or network isolation; the tests still ran in a separate process that "
                "never runs your code.")
        return sandbox.UID_ONLY, note, f"{sandbox.UID_ONLY}: {reason}"
    raise SetupError(f"student code cannot be isolated here ({reason}; the uid fallback: {fallback}); "
                     f"the submission was not graded")


def _submission_id(root: Path) -> str:
    try:
        meta = json.loads((root / "submission_metadata.json").read_text())
        return str(meta.get("id") or "submission")
    except (OSError, ValueError, AttributeError):
        return "submission"


def results_json(result: dict, note: str, hidden_visibility=HIDDEN_VISIBILITY, seconds=None, detail="") -> dict:
    """Gradescope's results.json of one nnassign result: one test per test case (hidden ones shown
    ``hidden_visibility``), each with the message `nnassign grade`'s feedback shows, and the
    feedback's header (status, message, total, cell errors, policy violations) as the output."""
    from .report import _message, _shown_message, feedback_markdown

    tests = []
    for t in result.get("tests") or []:
        tests.append({"name": f"{t['question']}: {t['name']}" + (" (hidden)" if t.get("hidden") else ""),
                      "score": round(float(t["points"]), 5), "max_score": round(float(t["possible"]), 5),
                      "status": "passed" if t.get("passed") else "failed",
                      "visibility": hidden_visibility if t.get("hidden") else "visible",
                      "output": _message(t) if _shown_message(t) else ""})
    if not tests:   # nothing ran (not a notebook, wrong assignment...): say why, worth what was possible
        tests.append({"name": f"Submission: {result.get('status')}", "score": 0.0,
                      "max_score": round(float(result.get("possible") or 0), 5), "status": "failed",
                      "visibility": "visible", "output": str(result.get("message", ""))})
    header = feedback_markdown({**result, "questions": {}, "tests": []})
    return {"score": round(float(result.get("total") or 0), 5), "output": f"{header}\n{note}\n",
            "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
            **({"execution_time": int(seconds)} if seconds is not None else {}),
            "tests": tests,
            "extra_data": {"nnassign": {"version": __version__, "status": result.get("status"),
                                        "isolation": detail, "message": result.get("message", ""),
                                        "sha256": result.get("sha256", "")}}}


def _failure(message: str) -> dict:
    return {"score": 0, "output": f"Your submission was not graded: {message}. Please tell your instructor.",
            "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [{"name": "Autograder setup", "score": 0, "max_score": 0, "status": "failed",
                       "visibility": "visible", "output": message}]}


def run_autograder(root=None) -> dict:
    """Grade ``<root>/submission`` into ``<root>/results/results.json`` (root: $NNASSIGN_GRADESCOPE_ROOT,
    else /autograder) with `nnassign grade`'s pipeline; returns the results dict. Never raises for a
    bad submission; a broken image gives a results.json that says the submission was not graded."""
    from . import batch
    from .record import write_json_atomic
    from .sandbox import bwrap

    root = _root(root)
    started = time.monotonic()
    try:
        source = root / "source"
        conf = load_settings(source)
        data = data_dir()
        if not (data / conf["dataset"]).is_dir():
            raise SetupError(f"the dataset {conf['dataset']} is not installed in {data} (setup.sh failed?)")
        isolate, note, detail = choose_isolation([*bwrap.python_paths(sys.executable), str(data)])
        still_open = lock_down(root, data, conf["dataset"])
        if still_open and isolate is not True:   # bubblewrap hides them anyway; the fallback needs the locks
            raise SetupError(f"cannot hide {', '.join(still_open)} from student code without namespaces")
        job = batch.Job(id=_submission_id(root), path=str(root / "submission"), autograder=str(source),
                        assignment_name=conf["assignment_name"], limits=conf["limits"],
                        import_policy=conf["import_policy"], secret=grading_secret(conf["secret_env"]),
                        data_dir=str(data), isolate=isolate)
        with tempfile.TemporaryDirectory(prefix="nnassign-gradescope-") as out:
            result = batch.grade_batch([job], out, workers=1)[0]
        results = results_json(result, note, conf.get("hidden_visibility", HIDDEN_VISIBILITY),
                               time.monotonic() - started, detail)
    except SetupError as e:
        results = _failure(str(e))
    except Exception as e:   # a bug of ours: a results.json that says so, not a traceback in Gradescope's log
        results = _failure(f"internal grader error {type(e).__name__}: {e}")
    write_json_atomic(root / "results" / "results.json", results)
    return results


def prepare(root=None) -> str:
    """setup.sh's last step: the grading secret, the sandbox's view of the data, the closed data
    folder; returns the isolation this image gives (probed now; Gradescope's runtime may differ)."""
    from .sandbox import bwrap

    root = _root(root)
    conf = load_settings(root / "source")
    grading_secret(conf["secret_env"])
    lock_down(root / "source", data_dir(), conf["dataset"])
    try:
        return choose_isolation([*bwrap.python_paths(sys.executable), str(data_dir())])[2]
    except SetupError as e:
        return f"no isolation possible at image build time: {e}"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "prepare") or len(argv) > 2:
        print("usage: python -m nnassign.gradescope run|prepare [ROOT]", file=sys.stderr)
        return 2
    root = argv[1] if len(argv) > 1 else None
    if argv[0] == "prepare":
        print(f"nnassign setup: {prepare(root)}")
        return 0
    results = run_autograder(root)
    print(f"nnassign: score {results['score']}; results in {_root(root) / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Batch grading: a folder of submissions -> one result per submission -> grades.csv and reports.

Each submission is graded by `grade_one` (intake -> policy scan -> sandbox -> judge), which never
raises: whatever goes wrong becomes a status and a one-line message. Results are written atomically
to `<out>/results/<id>.json` as soon as they exist, so an interrupted batch (even `kill -9`) loses
nothing and a rerun skips every submission already graded with the same content and autograder.
"""

import csv
import hashlib
import io
import json
import os
import re
import secrets
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import __version__

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
STATUSES = ("graded", "policy-violation", "timeout", "memory-limit", "output-limit", "crashed",
            "invalid-notebook", "invalid-submission", "wrong-assignment")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to grade one submission; plain data so it crosses processes."""

    id: str
    path: str
    autograder: str          # the autograder/ folder: tests/, nn_data.py, grading.json
    assignment_name: str
    limits: dict
    import_policy: dict
    secret: str
    data_dir: str


# ---------------------------------------------------------------- finding submissions

def _gradescope_ids(folder):
    """submission_metadata.yml of a Gradescope export: folder name -> student id (sid or email)."""
    meta = folder / "submission_metadata.yml"
    if not meta.exists():
        return {}
    try:
        data = yaml.safe_load(meta.read_text()) or {}
    except yaml.YAMLError:
        return {}
    ids = {}
    for key, entry in data.items():
        submitters = (entry or {}).get(":submitters") or []
        if submitters:
            first = submitters[0]
            ids[str(key)] = str(first.get(":sid") or first.get(":email") or key)
    return ids


def discover(paths, id_pattern):
    """(id, path) of every submission under `paths`, ids unique and file-name safe.

    A file is a submission (.ipynb or .zip); a folder holds submissions: its files, and each
    subfolder (Gradescope's `submission_<n>/` layout) counts as one submission.
    """
    pattern = re.compile(id_pattern)
    found = []
    for root in map(Path, paths):
        if root.is_file():
            found.append((root, root.name))
            continue
        gradescope = _gradescope_ids(root)
        for entry in sorted(root.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                found.append((entry, gradescope.get(entry.name, entry.name)))
            elif entry.suffix.lower() in SUBMISSION_SUFFIXES:
                found.append((entry, entry.name))
    jobs, seen = [], {}
    for path, name in found:
        # The pattern reads ids out of file names; folder names and Gradescope ids are ids already.
        match = pattern.search(name) if path.is_file() else None
        raw = match.group("id") if match else (Path(name).stem if path.is_file() else name)
        sub_id = re.sub(r"[^\w.@-]", "_", raw)[:80] or "submission"
        seen[sub_id] = seen.get(sub_id, 0) + 1
        if seen[sub_id] > 1:
            sub_id = f"{sub_id}-{seen[sub_id]}"
        jobs.append((sub_id, path))
    return jobs


def resolve_notebook(path):
    """A Gradescope folder holds one notebook or one zip; other paths are the submission itself."""
    path = Path(path)
    if not path.is_dir():
        return path
    candidates = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUBMISSION_SUFFIXES and p.is_file())
    return candidates[0] if len(candidates) == 1 else path


# ---------------------------------------------------------------- results on disk

def file_sha256(path):
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for p in sorted(path.rglob("*")):
            if p.is_file():
                digest.update(str(p.relative_to(path)).encode() + b"\0" + p.read_bytes())
        return digest.hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def autograder_fingerprint(autograder):
    """Changes whenever a test, the grading config or nnassign changes: results must be redone."""
    digest = hashlib.sha256(__version__.encode())
    for p in sorted(Path(autograder).rglob("*")):
        if p.is_file() and p.suffix in (".py", ".json"):
            digest.update(p.name.encode() + p.read_bytes())
    return digest.hexdigest()[:16]


def autograder_points(autograder):
    """Points the autograder's tests are worth in all (the grader's own trusted files)."""
    from .judge import load_test_files

    return float(sum(tf.possible for tf in load_test_files(Path(autograder) / "tests")))


def write_text_atomic(path, text):
    """Readers (and a rerun after kill -9) see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json_atomic(path, data):
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False))


def load_done(results_dir, sha, fingerprint, sub_id):
    path = Path(results_dir) / f"{sub_id}.json"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return old if old.get("sha256") == sha and old.get("autograder") == fingerprint else None


def grading_secret(out_dir, env_name):
    """The grader's secret: from the environment, else one kept in the output folder (regrades agree)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = Path(out_dir) / ".grading-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


# ---------------------------------------------------------------- grading one submission

def empty_result(job, sha, status, message):
    return {"id": job.id, "file": job.path, "sha256": sha, "status": status, "message": message,
            "questions": {}, "tests": [], "total": 0.0, "possible": 0.0, "percent": 0.0,
            "cell_errors": [], "policy_violations": [], "written_answers": {}, "duration_s": 0.0}


def grade_one(job: Job, sha: str):
    """Grade one submission. Never raises: every failure is a status with a message."""
    from .grading import grade_submission  # the pipeline; imported here so workers load it lazily

    started = time.monotonic()
    try:
        result = grade_submission(job, sha)
    except Exception as e:  # a bug of ours must not cost the batch, nor hide: keep the trace short
        where = traceback.extract_tb(e.__traceback__)[-1]
        result = empty_result(job, sha, "crashed",
                              f"internal grader error {type(e).__name__}: {e} "
                              f"({Path(where.filename).name}:{where.lineno}); please report")
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result


def _worker_init():
    """Orphans of student code are re-parented to this worker, so the sandbox can kill them too."""
    from .sandbox import become_subreaper

    become_subreaper()


# ---------------------------------------------------------------- the batch

def grade_batch(jobs, out_dir, workers=None, dask_address=None, progress=None):
    """Grade `jobs` (a list of Job), skipping those already done; returns all results in job order."""
    from .sandbox import reap_stale

    reap_stale()  # what a grader killed with -9 left behind: its sandboxes' processes and folders
    out_dir = Path(out_dir)
    results_dir = out_dir / "results"
    fingerprint = autograder_fingerprint(jobs[0].autograder) if jobs else ""
    results, todo = {}, []
    for job in jobs:
        sha = file_sha256(job.path)
        done = load_done(results_dir, sha, fingerprint, job.id)
        if done is not None:
            results[job.id] = done
        else:
            todo.append((job, sha))

    possible = autograder_points(jobs[0].autograder) if jobs else 0.0

    def finish(result):
        result["autograder"] = fingerprint
        if result["status"] not in ("graded", "policy-violation") and not result["possible"]:
            result["possible"] = possible  # 0 / 36 in the gradebook, not 0 / 0
        write_json_atomic(results_dir / f"{result['id']}.json", result)
        results[result["id"]] = result
        if progress:
            progress(result)

    if progress:
        for job in jobs:
            if job.id in results:
                progress(results[job.id])
    if dask_address:
        from dask.distributed import Client, as_completed as dask_completed

        with Client(dask_address) as client:
            futures = [client.submit(grade_one, job, sha, pure=False) for job, sha in todo]
            for future in dask_completed(futures):
                finish(future.result())
    elif todo:
        workers = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=_worker_init) as pool:
            futures = [pool.submit(grade_one, job, sha) for job, sha in todo]
            for future in as_completed(futures):
                finish(future.result())
    return [results[job.id] for job in jobs]


def question_names(results):
    names = []
    for r in results:
        for q in r.get("questions", {}):
            if q not in names:
                names.append(q)
    return sorted(names, key=lambda q: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", q)])


def write_grades_csv(results, path):
    """One row per submission, always, even when it could not be graded."""
    questions = question_names(results)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["id", *questions, "total", "possible", "percent", "status", "message"])
    for r in results:
        points = [r["questions"].get(q, {}).get("points", 0.0) for q in questions]
        writer.writerow([r["id"], *points, r["total"], r["possible"], r["percent"], r["status"], r["message"]])
    write_text_atomic(path, text.getvalue())

"""Batch grading: a folder of submissions -> one result per submission -> grades.csv and reports.

One submission's grading is :mod:`nnassign.grading`; what both share (statuses, the result record, safe writing) is
:mod:`nnassign.record`, so the two do not import each other.

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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import __version__
from .record import (STATUSES, SUBMISSION_SUFFIXES, clean, clean_text, empty_result, resolve_notebook,  # noqa: F401
                     write_json_atomic, write_text_atomic)



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
    isolate: bool = True     # False: --unsafe-no-isolation (the notebook runs as the grader's user)


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
    raw_ids = []
    for path, name in found:
        # The pattern reads ids out of file names; folder names and Gradescope ids are ids already.
        match = pattern.search(name) if path.is_file() else None
        raw = match.group("id") if match else (Path(name).stem if path.is_file() else name)
        raw_ids.append(re.sub(r"[^\w.@-]", "_", clean_text(raw))[:80] or "submission")
    # Every input gets its own row: an id its file name gives keeps it; a repeated one becomes
    # id-2, id-3... skipping ids other files have (dup-2.ipynb, dup.ipynb, dup.zip: three rows).
    natural, taken, ids = set(raw_ids), set(), []
    for raw in raw_ids:
        sub_id, n = raw, 1
        while sub_id in taken or (n > 1 and sub_id in natural):
            n += 1
            sub_id = f"{raw}-{n}"
        taken.add(sub_id)
        ids.append(sub_id)
    return [(sub_id, path) for sub_id, (path, _) in zip(ids, found)]


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

def grade_one(job: Job, sha: str):
    """Grade one submission. Never raises: every failure is a status with a message."""
    from . import sandbox
    from .grading import grade_submission  # the pipeline; imported here so workers load it lazily

    started = time.monotonic()
    sandbox.set_isolation(job.isolate)
    try:
        result = clean(grade_submission(job, sha))
    except sandbox.SandboxError as e:   # the grader's side: no namespaces, unreadable data...
        result = empty_result(job, sha, "crashed", f"the sandbox could not be started: {e}")
    except MemoryError:
        result = empty_result(job, sha, "memory-limit", "the grading process ran out of memory on this submission")
    except Exception as e:  # a bug of ours must not cost the batch, nor hide: keep the trace short
        where = traceback.extract_tb(e.__traceback__)[-1]
        result = empty_result(job, sha, "crashed",
                              f"internal grader error {type(e).__name__}: {e} "
                              f"({Path(where.filename).name}:{where.lineno}); please report")
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result


def _worker_init():
    """Orphans of student code are re-parented to this worker, so the sandbox can kill them too;
    the worker dies with the batch (kill -9 included), and its sandboxes with it."""
    from .sandbox import become_subreaper, die_with_parent

    become_subreaper()
    die_with_parent()


def worker_died(job, sha, exitcode):
    """The row of a submission whose worker process was killed (the kernel's OOM killer, a signal)."""
    import signal as _signal

    if exitcode is not None and exitcode < 0:
        try:
            name = _signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == _signal.SIGKILL:
            return empty_result(job, sha, "memory-limit",
                                f"the grading process was killed by {name} while grading this submission "
                                f"(most likely the kernel's out-of-memory killer)")
        return empty_result(job, sha, "crashed", f"the grading process was killed by {name} while grading "
                                                 f"this submission")
    return empty_result(job, sha, "crashed", f"the grading process died while grading this submission "
                                             f"(exit status {exitcode})")


# ---------------------------------------------------------------- the batch

def _processes_of(pool):
    """The pool's worker processes, as its own table lists them now."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _exit_status(processes, patience=5.0):
    """How the pool's dead worker ended. The pool's manager thread reaps it too; when its waitpid
    wins, ours reports "no such child" and the exit code appears only once that thread stores it,
    so keep asking for a moment rather than read None."""
    deadline = time.monotonic() + patience
    for process in processes:
        process.join(patience)
        while process.exitcode is None and time.monotonic() < deadline:
            time.sleep(0.01)
            process.join(0.01)
        if process.exitcode is not None:
            return process.exitcode
    return None


def _run_local(todo, workers, finish):
    """``workers`` single-process pools, one submission at a time each: a worker that dies (the
    kernel's OOM killer, a signal) breaks only its own pool, so exactly one submission is charged
    with it, the pool is replaced and the batch goes on."""
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    def new_pool():
        pool = ProcessPoolExecutor(max_workers=1, initializer=_worker_init)
        # start its worker now and keep hold of the process: one that dies at once is gone from the
        # pool's own table by the time its failure is seen, with its exit status
        pool.submit(int).result()
        workers_of[id(pool)] = _processes_of(pool)
        return pool

    workers_of = {}   # id(pool) -> its worker process (to read how it died)
    pending = deque(todo)
    pools = [new_pool() for _ in range(min(workers, len(todo)))]
    running = {}   # future -> (pool index, job, sha)
    try:
        while pending or running:
            busy = {i for i, _, _ in running.values()}
            for i in range(len(pools)):
                if i not in busy and pending:
                    job, sha = pending.popleft()
                    running[pools[i].submit(grade_one, job, sha)] = (i, job, sha)
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                i, job, sha = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    exitcode = _exit_status(workers_of.pop(id(pools[i]), []))
                    pools[i].shutdown(wait=False, cancel_futures=True)
                    pools[i] = new_pool()
                    result = worker_died(job, sha, exitcode)
                except Exception as e:   # the result could not come back (e.g. not picklable)
                    result = empty_result(job, sha, "crashed", f"internal grader error {type(e).__name__}: "
                                                               f"{clean_text(str(e))[:200]}; please report")
                finish(result, job, sha)
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def grade_batch(jobs, out_dir, workers=None, dask_address=None, progress=None):
    """Grade `jobs` (a list of Job), skipping those already done; returns all results in job order."""
    from .sandbox import reap_stale

    reap_stale()  # what a grader killed with -9 left behind: its sandboxes' processes and folders
    out_dir = Path(out_dir)
    results_dir = out_dir / "results"
    fingerprint = autograder_fingerprint(jobs[0].autograder) if jobs else ""
    results, todo = {}, []
    for job in jobs:
        try:
            sha = file_sha256(job.path)
        except OSError as e:
            sha = ""
            results[job.id] = empty_result(job, sha, "invalid-submission",
                                           f"cannot read the submission: {e.strerror or e}")
            continue
        done = load_done(results_dir, sha, fingerprint, job.id)
        if done is not None:
            results[job.id] = done
        else:
            todo.append((job, sha))

    possible = autograder_points(jobs[0].autograder) if jobs else 0.0

    def finish(result, job=None, sha=""):
        try:
            result = clean(result)
            result["autograder"] = fingerprint
            if result["status"] not in ("graded", "policy-violation") and not result["possible"]:
                result["possible"] = possible  # 0 / 36 in the gradebook, not 0 / 0
            write_json_atomic(results_dir / f"{result['id']}.json", result)
        except Exception as e:   # recording must not stop the batch either
            if job is None:
                raise
            result = empty_result(job, sha, "crashed", f"the result could not be recorded: "
                                                       f"{type(e).__name__}: {clean_text(str(e))[:200]}")
            result.update(autograder=fingerprint, possible=possible)
        results[result["id"]] = result
        if progress:
            progress(result)

    for job_id, result in list(results.items()):
        if result.get("status") == "invalid-submission" and not result.get("sha256"):
            finish(result)
    if progress:
        for job in jobs:
            if job.id in results and results[job.id].get("sha256"):
                progress(results[job.id])
    if dask_address:
        from dask.distributed import Client, as_completed as dask_completed

        with Client(dask_address) as client:
            futures = {client.submit(grade_one, job, sha, pure=False): (job, sha) for job, sha in todo}
            for future in dask_completed(list(futures)):
                job, sha = futures[future]
                try:
                    result = future.result()
                except Exception as e:   # a worker lost (killed) or a failure in transit
                    result = empty_result(job, sha, "crashed", f"the Dask worker failed on this submission: "
                                                               f"{type(e).__name__}: {clean_text(str(e))[:200]}")
                finish(result, job, sha)
    elif todo:
        _run_local(todo, workers or os.cpu_count() or 1, finish)
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
        writer.writerow(clean([r["id"], *points, r["total"], r["possible"], r["percent"], r["status"],
                               r["message"]]))
    write_text_atomic(path, text.getvalue())

"""What one graded submission is on disk: the statuses, the result record, safe text.

API::

    STATUSES; empty_result(job, sha, status, message) -> dict; resolve_notebook(path) -> Path
    clean(value) -> the same value with every string writable as UTF-8 (lone surrogates replaced)
    write_text_atomic(path, text); write_json_atomic(path, data)

Why a module of its own: the batch (:mod:`nnassign.batch`) and one submission's grading
(:mod:`nnassign.grading`) both need these; with them here neither imports the other back.
Student text can hold anything JSON can escape (``"\\ud800"``) and file names anything the file
system holds (``b"Jos\\xe9.ipynb"``); such text is replaced, never fatal, when written.
"""

import json
import os
from pathlib import Path

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
STATUSES = ("graded", "policy-violation", "timeout", "memory-limit", "output-limit", "crashed",
            "invalid-notebook", "invalid-submission", "wrong-assignment")


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (from JSON escapes or undecodable file names) replaced."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:   # a pair of surrogates is joined, each lone one becomes one U+FFFD
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean(value):
    """A copy of ``value`` (dicts, lists, strings, numbers) whose strings are all valid UTF-8."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def empty_result(job, sha, status, message):
    return {"id": job.id, "file": clean_text(str(job.path)), "sha256": sha, "status": status,
            "message": clean_text(str(message)), "questions": {}, "tests": [], "total": 0.0, "possible": 0.0,
            "percent": 0.0, "cell_errors": [], "policy_violations": [], "written_answers": {}, "duration_s": 0.0}


def resolve_notebook(path):
    """A Gradescope folder holds one notebook or one zip; other paths are the submission itself."""
    path = Path(path)
    if not path.is_dir():
        return path
    candidates = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUBMISSION_SUFFIXES and p.is_file())
    return candidates[0] if len(candidates) == 1 else path


def write_text_atomic(path, text):
    """Readers (and a rerun after kill -9) see the old file or the new one, never half of one.
    Text that is not valid UTF-8 (lone surrogates) is replaced, never fatal."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(clean_text(text).encode("utf-8"))
    os.replace(tmp, path)


def write_json_atomic(path, data):
    write_text_atomic(path, json.dumps(clean(data), indent=1, sort_keys=True, ensure_ascii=False))

"""Read one submission safely: a ``.ipynb`` file or the zip written by Otter's ``grader.export()``.

API::

    submission = read_submission(path, assignment_name)   # or raises SubmissionError
    submission.notebook        # nbformat NotebookNode (v4, validated)
    submission.content_sha256  # hex SHA-256 of the notebook file's bytes (the seed input)
    submission.source          # Path of what was read
    submission.member          # name of the notebook inside the zip, or None
    submission.warnings        # list of one-line notes (accepted, but worth a look)

Nothing is executed and nothing is unpickled: a zip's ``.OTTER_LOG`` (a pickle) and every other
member besides the notebook are ignored, never read. The kind of file is told by its first bytes,
not its extension.

``SubmissionError(status, message)`` statuses:

``invalid-submission``  unreadable file, over the size caps, or a zip that is corrupt, encrypted,
                        has absolute / ``..`` / symlink / duplicate entries, looks like a zip
                        bomb (declared size or compression ratio), or holds no or several notebooks.
``invalid-notebook``    not JSON, not a valid nbformat 4 notebook, a kernel of another language
                        (e.g. R), or no non-empty code cell.
``wrong-assignment``    ``metadata.otter.assignment_name`` names another assignment.

A notebook without ``metadata.otter.assignment_name`` is accepted with a warning: editors and
"save as" round trips can drop metadata, and the code is graded on its own merits anyway.
Lenient intake, strict grading: what Jupyter, JupyterLab and VS Code open (with at most a
warning) is normalised before validation (see :func:`normalise`: a minor version that does not
match the cell ids, unknown keys, ``transient`` output keys, outputs on markdown cells, broken
outputs, lone UTF-16 surrogates, which no file can hold and Python cannot compile, replaced by
U+FFFD), with one warning saying so; the code is otherwise never touched.
"""

import hashlib
import io
import json
import re
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

INVALID_SUBMISSION = "invalid-submission"
INVALID_NOTEBOOK = "invalid-notebook"
WRONG_ASSIGNMENT = "wrong-assignment"

MAX_FILE_BYTES = 100 * 2**20       # the submitted file itself
MAX_NOTEBOOK_BYTES = 50 * 2**20    # one notebook, outputs and images included
MAX_ZIP_TOTAL_BYTES = 200 * 2**20  # sum of the declared uncompressed sizes
MAX_ZIP_RATIO = 100                # deflate of real notebooks stays far below
MAX_ZIP_ENTRIES = 1000
_IGNORED_DIRS = {"__MACOSX", ".ipynb_checkpoints"}


class SubmissionError(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Submission:
    notebook: nbformat.NotebookNode
    content_sha256: str
    source: Path
    member: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_submission(path, assignment_name: str) -> Submission:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SubmissionError(INVALID_SUBMISSION, f"cannot read {path.name}: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(INVALID_SUBMISSION, f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    member = None
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        member, data = _notebook_from_zip(data)
    elif len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(INVALID_SUBMISSION, f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    notebook = parse_notebook(data)
    notes = notebook.pop("_nnassign_notes", [])
    warnings = check_notebook(notebook, assignment_name)
    if notes:
        warnings.append("read leniently, as Jupyter would: " + "; ".join(notes))
    return Submission(notebook=notebook, content_sha256=hashlib.sha256(data).hexdigest(),
                      source=path, member=member, warnings=warnings)


def _notebook_from_zip(data: bytes) -> tuple[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise SubmissionError(INVALID_SUBMISSION, f"not a readable zip file ({e})") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise SubmissionError(INVALID_SUBMISSION, f"the zip has more than {MAX_ZIP_ENTRIES} entries")
    names, notebooks, total = set(), [], 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
            raise SubmissionError(INVALID_SUBMISSION, f"the zip entry {name!r} points outside the archive")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SubmissionError(INVALID_SUBMISSION, f"the zip entry {name!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise SubmissionError(INVALID_SUBMISSION, f"the zip entry {name!r} is encrypted")
        if name in names:
            raise SubmissionError(INVALID_SUBMISSION, f"the zip has two entries named {name!r}")
        names.add(name)
        total += info.file_size
        if total > MAX_ZIP_TOTAL_BYTES:
            raise SubmissionError(INVALID_SUBMISSION, "the zip expands to more than "
                                  f"{MAX_ZIP_TOTAL_BYTES // 2**20} MB (zip bomb?)")
        if info.file_size > 2**20 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise SubmissionError(INVALID_SUBMISSION, f"the zip entry {name!r} is compressed "
                                  f"more than {MAX_ZIP_RATIO}:1 (zip bomb?)")
        if name.lower().endswith(".ipynb") and not info.is_dir() and not (set(parts) & _IGNORED_DIRS):
            notebooks.append(info)
    if not notebooks:
        raise SubmissionError(INVALID_SUBMISSION, "the zip contains no notebook (.ipynb)")
    if len(notebooks) > 1:
        listed = ", ".join(i.filename for i in notebooks[:5])
        raise SubmissionError(INVALID_SUBMISSION, f"the zip contains several notebooks: {listed}")
    info = notebooks[0]
    if info.file_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(INVALID_SUBMISSION, f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        with zf.open(info) as f:
            content = f.read(MAX_NOTEBOOK_BYTES + 1)   # the header's size may lie: cap the read
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as e:
        raise SubmissionError(INVALID_SUBMISSION, f"cannot extract {info.filename!r} ({e})") from None
    if len(content) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(INVALID_SUBMISSION, f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    return info.filename, content


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """Parse and validate notebook JSON (nbformat 4 only); raise SubmissionError(invalid-notebook)."""
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SubmissionError(INVALID_NOTEBOOK, "the notebook is not UTF-8 text") from None
    except RecursionError:
        raise SubmissionError(INVALID_NOTEBOOK, "the notebook JSON is nested too deeply") from None
    except ValueError as e:
        raise SubmissionError(INVALID_NOTEBOOK, f"the notebook is not valid JSON ({e})") from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise SubmissionError(INVALID_NOTEBOOK, "the file is JSON but not a notebook")
    if raw.get("nbformat") != 4:
        raise SubmissionError(INVALID_NOTEBOOK, f"nbformat {raw.get('nbformat')!r} notebooks are not "
                              "supported (expected 4: save it with a current Jupyter)")
    notes = normalise(raw)
    try:
        nb = _validated(raw)
    except SubmissionError:
        if not any(c.get("outputs") for c in raw["cells"] if isinstance(c, dict)):
            raise
        for cell in raw["cells"]:   # outputs are never graded: a broken one must not cost the code
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        notes.append("outputs that are not valid nbformat were dropped")
        nb = _validated(raw)
    nb["_nnassign_notes"] = notes
    return nb


def _validated(raw) -> nbformat.NotebookNode:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids etc.
            nb = nbformat.reads(json.dumps(raw), as_version=4)  # joins list-of-lines sources
            nbformat.validate(nb)
    except RecursionError:
        raise SubmissionError(INVALID_NOTEBOOK, "the notebook JSON is nested too deeply") from None
    except Exception as e:   # nbformat raises many types (ValidationError, KeyError, ...)
        first = str(e).strip().split("\n", 1)[0][:200]
        raise SubmissionError(INVALID_NOTEBOOK, f"not a valid notebook: {first}") from None
    return nb


_CELL_KEYS = {"code": {"id", "cell_type", "metadata", "source", "outputs", "execution_count"},
              "markdown": {"id", "cell_type", "metadata", "source", "attachments"},
              "raw": {"id", "cell_type", "metadata", "source", "attachments"}}
_OUTPUT_KEYS = {"stream": {"output_type", "name", "text"},
                "display_data": {"output_type", "data", "metadata"},
                "execute_result": {"output_type", "data", "metadata", "execution_count"},
                "error": {"output_type", "ename", "evalue", "traceback"}}
_ID = re.compile(r"[a-zA-Z0-9-_]{1,64}\Z")


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _replace_surrogates(value):
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def normalise(raw: dict) -> list[str]:
    """Make ``raw`` (nbformat 4 JSON) what the 4.5 schema expects, the way Jupyter, JupyterLab and
    VS Code read it anyway: unknown keys dropped, outputs and execution counts of markdown/raw
    cells dropped, ``transient`` output keys dropped, cell ids added, repaired or made unique
    (whatever the minor version says), ``nbformat_minor`` set to 5. Code and text are never
    changed. Returns one note per kind of change; a cell list that is not a list is left alone
    (validation then rejects it)."""
    notes = set()
    for key in [k for k in raw if k not in ("metadata", "nbformat", "nbformat_minor", "cells")]:
        del raw[key]
        notes.add("unknown top-level keys dropped")
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
        notes.add("notebook metadata replaced")
    kernelspec = raw["metadata"].get("kernelspec")
    if kernelspec is not None and not (isinstance(kernelspec, dict) and isinstance(kernelspec.get("name"), str)
                                       and isinstance(kernelspec.get("display_name"), str)):
        if isinstance(kernelspec, dict) and isinstance(kernelspec.get("language"), str):
            kernelspec.setdefault("name", str(kernelspec["language"]).lower())
            kernelspec.setdefault("display_name", str(kernelspec["language"]))
        else:
            del raw["metadata"]["kernelspec"]
        notes.add("kernelspec repaired")
    if raw.get("nbformat_minor") != 5:
        notes.add(f"nbformat_minor {raw.get('nbformat_minor')!r} read as 5")
        raw["nbformat_minor"] = 5
    cells = raw.get("cells")
    if not isinstance(cells, list):
        return sorted(notes)
    seen = set()
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_KEYS:
            continue
        kind = cell["cell_type"]
        if _has_lone_surrogate(cell):
            # JSON can escape them (\ud800), UTF-8 cannot hold them and Python cannot compile them
            cell.update(_replace_surrogates(cell))
            notes.add("text that is not valid Unicode (lone surrogates) replaced by U+FFFD")
        for key in [k for k in cell if k not in _CELL_KEYS[kind]]:
            if key in ("outputs", "execution_count"):
                notes.add(f"outputs of {kind} cells dropped")
            else:
                notes.add("unknown cell keys dropped")
            del cell[key]
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if kind == "code":
            if not isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
            if not (cell.get("execution_count") is None or type(cell.get("execution_count")) is int):
                cell["execution_count"] = None
            cell.setdefault("execution_count", None)
            for output in cell["outputs"]:
                if isinstance(output, dict) and output.get("output_type") in _OUTPUT_KEYS:
                    for key in [k for k in output if k not in _OUTPUT_KEYS[output["output_type"]]]:
                        del output[key]
                        notes.add("output keys such as transient dropped")
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and _ID.match(cell_id)) or cell_id in seen:
            cell_id = f"cell-{index}"
            while cell_id in seen:
                cell_id += "-x"
            if "id" in cell:
                notes.add("invalid or repeated cell ids replaced")
            cell["id"] = cell_id
        seen.add(cell_id)
    return sorted(notes)


def check_notebook(nb: nbformat.NotebookNode, assignment_name: str) -> list[str]:
    """Kernel language, code presence, assignment name; returns warnings."""
    meta = nb.get("metadata", {})
    language = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name")
    if language and str(language).lower() != "python":
        raise SubmissionError(INVALID_NOTEBOOK, f"the notebook runs {language}, not Python")
    if not any(c.get("cell_type") == "code" and str(c.get("source", "")).strip() for c in nb.cells):
        raise SubmissionError(INVALID_NOTEBOOK, "the notebook has no code")
    name = (meta.get("otter") or {}).get("assignment_name") if isinstance(meta.get("otter"), dict) else None
    if name is None:
        return ["the notebook has no otter assignment name in its metadata; graded anyway"]
    if str(name) != assignment_name:
        raise SubmissionError(WRONG_ASSIGNMENT, f"this notebook is for the assignment {str(name)[:100]!r}, "
                              f"not {assignment_name!r}")
    return []

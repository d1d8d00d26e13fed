"""Submissions built to break the batch rather than to cheat it (issue 9), graded in ONE batch.

Each entry of ``BREAKERS`` writes one input file and states the row it must get: its id (the file
name need not be one: see the duplicates and the Latin-1 name), its status, its score as a rule on
the baselines of the same batch (``corpus.Expect``: ``fast-honest`` and ``partial-q1-q5`` are graded
with them) and a pattern for its one-line message. Most are built on ``partial`` (q1-q5 filled, no
training): its score does not depend on the seed the grader derives from the file's content. Five of these stopped the whole batch before
(lone surrogates, a non-UTF-8 file name, an aliased reply, a huge hidden layer); others broke honest
work (lenient intake, magics) or probed the isolation (processes, IPC, user namespaces, the output
folder, the grader's secret). An isolation probe is an honest notebook that sabotages itself
(``softmax`` returns zeros) when it sees what it must not: its score proves the isolation held.
"""

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from corpus import (PARTIAL, REPO, SMALL_LIMITS, Expect, Materials, append, early, fast_without, nb_bytes,
                    write_bytes, write_nb, write_zip)
from nnassign.nbedit import insert

FAST = Expect("fast")
ONE_LINER_GRADED = r"^(all tests passed|\d+ test case\(s\) failed)"
PARTIAL_MESSAGE = r"^\d+ test case\(s\) failed"
# Room for a loaded machine: none of these hangs on purpose, so the limits cost nothing here.
LIMITS = {**SMALL_LIMITS, "timeout_seconds": 30, "cpu_seconds": 45}
SHM_KEY = 0x4E4E4242          # the SysV segment sysv-shm leaves behind (it must not outlive the batch)


@dataclass(frozen=True)
class Breaker:
    name: str                # the row's id
    build: Callable          # (folder, materials, out) -> path written
    status: str
    expect: Expect
    message: str             # regex the one-line message must match
    why: str
    at_most: bool = False    # the score is at most the rule's on every question (0 stays 0), not exactly it


def notebook_json(nb) -> dict:
    return json.loads(nbformat.writes(nb))


def write_json(data, folder, name, suffix=".ipynb"):
    """Raw notebook JSON; ensure_ascii keeps lone surrogates as \\ud800 escapes, as a browser may."""
    return write_bytes(json.dumps(data, ensure_ascii=True).encode(), folder, name, suffix)


def sabotage_if(condition_source):
    """Cell source: the probe, then softmax broken if ``seen`` came out true (a leak costs q3)."""
    return condition_source + "\nif seen:\n    def softmax(Z):\n        return np.zeros_like(Z)\n"


# ---------------------------------------------------------------------------- odd text

def _surrogate_answer(folder, m, out):
    data = notebook_json(m.partial)
    prompt = next(i for i, c in enumerate(data["cells"])
                  if c["cell_type"] == "markdown" and "[Q1]" in "".join(c["source"]))
    answer = data["cells"][prompt + 1]            # the answer cell right after the prompt
    answer["source"] = "My answer: \ud800 the shirts \udfff and pullovers."
    return write_json(data, folder, "surrogate-answer")


def _surrogate_output(folder, m, out):
    data = notebook_json(m.partial)
    code = next(c for c in data["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "loss \ud83d nan\n"}]
    return write_json(data, folder, "surrogate-output")


def _surrogate_code(folder, m, out):
    data = notebook_json(append(m.partial, "note = 'x'\n"))
    data["cells"][-1]["source"] = "note = '\ud800'\nprint(note)\n"   # a source that cannot be encoded
    return write_json(data, folder, "surrogate-code")


def _surrogate_message(m):
    return append(m.partial, "def cross_entropy_derivative(A, Y):\n    raise ValueError('bad \\ud800 input \\udfff')\n")


def _latin1_name(folder, m, out):
    path = os.path.join(os.fsencode(folder), b"latin1-Jos\xe9.ipynb")
    with open(path, "wb") as f:
        f.write(nb_bytes(m.partial))
    return Path(os.fsdecode(path))


def _nul_in_source(m):
    nb = append(m.partial, "x = 1\n")
    nb.cells[-1].source = "x = 1\x00\n"
    return nb


# ---------------------------------------------------------------------------- ids

def _dup_named_2(folder, m, out):
    return write_nb(m.partial, folder, "dup-2")


def _dup(folder, m, out):
    return write_nb(append(m.partial, "def softmax(Z):\n    return Z\n"), folder, "dup")   # loses q3


def _dup_zip(folder, m, out):
    return write_zip(folder, "dup", [("nn_from_scratch.ipynb", nb_bytes(m.partial))])


# ---------------------------------------------------------------------------- the grader's resources

ALIASED = """
import nnassign.wire as _w
_encode = _w.encode
def _aliased(value, max_bytes=_w.MAX_FRAME):
    if isinstance(value, dict) and isinstance(value.get("value"), str) and value["value"] == "alias":
        ref = '{"$nd": [0, 33554432], "dtype": "<f8", "shape": [4194304]}'
        text = '{"$dict": [["ok", true], ["value", {"$tuple": [' + ",".join([ref] * 40) + ']}]]}'
        return text.encode(), bytes(33554432)
    return _encode(value, max_bytes)
_w.encode = _aliased
def softmax(Z):
    return "alias"
"""

HUGE_HIDDEN = """
def _huge(n_hidden=60000):
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((n_hidden, 784), dtype=np.float32) * 0.01,
            "b1": np.zeros((n_hidden, 1), np.float32),
            "W2": rng.standard_normal((10, n_hidden), dtype=np.float32) * 0.01, "b2": np.zeros((10, 1), np.float32)}
params = _huge()
_train = train
def train(*args, **kwargs):   # whatever the grader asks for: 60,000 hidden units (188 MB of W1)
    _, history = _train(*args, **kwargs)
    return _huge(), history
"""

DERIVATIVE = "def cross_entropy_derivative(A, Y):\n"
MEMORY_IN_CALL = DERIVATIVE + "    return np.ones((10**6, 10**6))\n"
HUGE_JSON = DERIVATIVE + "    return 'x' * 17_000_000   # 17 MB of JSON text, over its 16 MB cap\n"
DEEP_REPLY = DERIVATIVE + "    v = []\n    for _ in range(5000):\n        v = [v]\n    return v\n"
FIRST_FOUR = Expect("only", ("q1", "q2", "q3", "q4"))   # partial without q5 (cross_entropy_derivative)


# ---------------------------------------------------------------------------- lenient intake

def _magics(m):
    return insert(m.partial, r"^import numpy as np", "%load_ext autoreload\n%autoreload 2\n%matplotlib inline\n"
                                                  "import otter\nassert not hasattr(otter, '__file__')\n")


def _minor2_ids(folder, m, out):
    data = notebook_json(m.partial)
    data["nbformat_minor"] = 2
    for i, cell in enumerate(data["cells"]):
        cell["id"] = f"cell{i}"
    return write_json(data, folder, "minor2-with-ids")


def _transient(folder, m, out):
    data = notebook_json(m.partial)
    code = next(c for c in data["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "<Figure>"}, "metadata": {},
                        "transient": {"display_id": "abc"}}]
    return write_json(data, folder, "transient-output")


def _markdown_outputs(folder, m, out):
    data = notebook_json(m.partial)
    for cell in data["cells"]:
        if cell["cell_type"] == "markdown":
            cell["outputs"], cell["execution_count"] = [], None
    return write_json(data, folder, "markdown-outputs")


def _unknown_keys(folder, m, out):
    data = notebook_json(m.partial)
    data["vscode"] = {"interpreter": {"hash": "abc"}}
    for cell in data["cells"]:
        cell["vscode"] = {"languageId": "python"}
    data["cells"][0]["id"] = "same"
    data["cells"][1]["id"] = "same"                     # repeated ids
    return write_json(data, folder, "unknown-keys")


# ---------------------------------------------------------------------------- isolation probes

# The grader's processes are `python -m pytest` and `nnassign grade`; the sandbox's own PID 1 (bwrap) may
# name a pytest temporary folder among its arguments, which is not a leak, so look for the commands.
SEE_PROCESSES = sabotage_if(
    "import os\n"
    "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
    "cmdlines = b'\\n'.join(open(f'/proc/{p}/cmdline', 'rb').read() for p in pids\n"
    "                      if os.path.exists(f'/proc/{p}/cmdline'))\n"
    "seen = len(pids) > 20 or b'-m\\x00pytest' in cmdlines or b'nnassign.cli' in cmdlines\n"
    "seen = seen or any(b'/bin/nnassign\\x00grade' in c or c.startswith(b'nnassign\\x00grade') for c in cmdlines.split(b'\\n'))")

NESTED_USERNS = sabotage_if(
    "import ctypes\n"
    "seen = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0")

SYSV_SHM = (f"import ctypes\n"
            f"_libc = ctypes.CDLL(None, use_errno=True)\n"
            f"_shm = _libc.shmget({SHM_KEY}, 4096, 0o1666)   # IPC_CREAT | 0666: left behind on purpose\n")

KILL_PID1 = "import os, signal\nfor _pid in (1, os.getppid()):\n    try:\n        os.kill(_pid, signal.SIGKILL)\n" \
            "    except OSError:\n        pass\n"


def _grader_files(m, out):
    """A probe for the grader's files: the secret and the results in the output folder, the
    hidden tests, another submission; it also tries to write a result."""
    targets = [str(out / ".grading-secret"), str(out / "results"), str(REPO / "autograder" / "tests" / "q1.py"),
               str(m.folder / "fast-honest.ipynb"), str(REPO / "solution")]
    return sabotage_if(
        "import os\n"
        f"seen = any(os.path.exists(p) for p in {targets!r})\n"
        "try:   # the sandbox's /tmp is its own: only the real results folder would take this\n"
        f"    open({str(out / 'results' / 'fast-honest.json')!r}, 'w').write('{{}}')\n"
        "    seen = True\n"
        "except OSError:\n"
        "    pass")


def nb(name, make, status, expect, message, why, at_most=False):
    return Breaker(name, lambda folder, m, out: write_nb(make(m, out), folder, name), status, expect, message, why,
                   at_most)


BASELINES = [
    nb("fast-honest", lambda m, out: m.fast, "graded", FAST, ONE_LINER_GRADED, "the reference of the rules"),
    nb("partial-q1-q5", lambda m, out: m.partial, "graded", PARTIAL, r"test case\(s\) failed", "q1-q5 only"),
]

BREAKERS = [
    # --- odd text: written, never fatal --------------------------------------------------------
    Breaker("surrogate-answer", _surrogate_answer, "graded", PARTIAL, PARTIAL_MESSAGE,
            "a written answer holding the JSON escapes \\ud800 and \\udfff (lone surrogates)"),
    Breaker("surrogate-output", _surrogate_output, "graded", PARTIAL, PARTIAL_MESSAGE,
            "a stored output holding a lone surrogate"),
    Breaker("surrogate-code", _surrogate_code, "graded", PARTIAL, PARTIAL_MESSAGE,
            "a code cell whose source holds a lone surrogate (no file can hold it, Python cannot compile "
            "it): read as U+FFFD, as an editor would"),
    nb("surrogate-message", lambda m, out: _surrogate_message(m), "graded", FIRST_FOUR, PARTIAL_MESSAGE, "a function raising with lone surrogates in its message: the test messages carry them"),
    Breaker("latin1-Jos_", _latin1_name, "graded", PARTIAL, PARTIAL_MESSAGE,
            "a file name that is not UTF-8 (Latin-1 b'Jos\\xe9'): the id replaces the byte"),
    nb("nul-in-source", lambda m, out: _nul_in_source(m), "graded", PARTIAL, PARTIAL_MESSAGE,
       "a NUL byte in a code cell: that cell's error (see test_breakers), nothing more"),
    # --- ids: every file its row ------------------------------------------------------------------
    Breaker("dup-2", _dup_named_2, "graded", PARTIAL, r"test case\(s\) failed", "dup-2.ipynb keeps its own id"),
    Breaker("dup", _dup, "graded", Expect("only", ("q1", "q2", "q4", "q5")), PARTIAL_MESSAGE,
            "dup.ipynb (its softmax is wrong: a grade of its own)"),
    Breaker("dup-3", _dup_zip, "graded", PARTIAL, r"test case\(s\) failed",
            "dup.zip: dup is taken and dup-2 belongs to dup-2.ipynb, so dup-3 (no grade lost)"),
    # --- the grader's own resources ---------------------------------------------------------------
    nb("aliased-reply", lambda m, out: append(m.partial, ALIASED), "crashed", Expect("only", ("q1", "q2")),
       r"broke the grading protocol while running softmax: two arrays share the same data",
       "softmax's reply is 32 MB referenced 40 times (1.3 GB decoded): refused, the run stops there"),
    nb("huge-hidden-layer", lambda m, out: append(m.fast, HUGE_HIDDEN), "memory-limit",
       fast_without("q12", "q14", "import_policy"),
       r"ran out of (the grader's )?memory|returned more than the grader",
       "train gives 60,000 hidden units (188 MB of W1) whatever it is asked: the grader's own training run "
       "refuses them on their shape, and a test of train that computes on them runs out of the grader's "
       "memory budget (memory-limit) instead of exhausting the machine; every test of the trained model "
       "(q14, import policy) and of train (q12) fails; the rest is at most the fast run's",
       at_most=True),
    nb("memory-in-call", lambda m, out: append(m.partial, MEMORY_IN_CALL), "memory-limit", FIRST_FOUR,
       r"^cross_entropy_derivative ran out of memory",
       "a MemoryError inside a called function is a memory-limit status, not only a failed test"),
    nb("huge-json-reply", lambda m, out: append(m.partial, HUGE_JSON), "graded", FIRST_FOUR, PARTIAL_MESSAGE, "a reply of 17 MB of JSON text: refused as unsendable, grading goes on"),
    nb("deep-reply", lambda m, out: append(m.partial, DEEP_REPLY), "graded", FIRST_FOUR, PARTIAL_MESSAGE, "a reply nested 5000 deep: refused as unsendable, grading goes on"),
    # --- lenient intake, strict grading -----------------------------------------------------------
    nb("magics", lambda m, out: _magics(m), "graded", PARTIAL, PARTIAL_MESSAGE,
       "%load_ext autoreload, %autoreload 2, %matplotlib inline and `import otter` in the import cell"),
    Breaker("minor2-with-ids", _minor2_ids, "graded", PARTIAL, PARTIAL_MESSAGE,
            "nbformat_minor 2 with cell ids (JupyterLab and VS Code open it)"),
    Breaker("transient-output", _transient, "graded", PARTIAL, PARTIAL_MESSAGE, "an output with a transient key"),
    Breaker("markdown-outputs", _markdown_outputs, "graded", PARTIAL, PARTIAL_MESSAGE,
            "markdown cells carrying outputs and execution counts"),
    Breaker("unknown-keys", _unknown_keys, "graded", PARTIAL, PARTIAL_MESSAGE,
            "unknown top-level and cell keys, repeated cell ids"),
    # --- isolation ----------------------------------------------------------------------------------
    nb("see-processes", lambda m, out: append(m.partial, SEE_PROCESSES), "graded", PARTIAL,
       r"test case\(s\) failed", "sabotages itself if it sees the grader's processes (PID namespace)"),
    nb("nested-userns", lambda m, out: append(m.partial, NESTED_USERNS), "graded", PARTIAL,
       r"test case\(s\) failed", "sabotages itself if it can create a user namespace"),
    nb("sysv-shm", lambda m, out: early(m.partial, SYSV_SHM), "graded", PARTIAL, r"test case\(s\) failed",
       "leaves a System V shared-memory segment behind (IPC namespace: it must not outlive the run)"),
    nb("grader-files", lambda m, out: append(m.partial, _grader_files(m, out)), "graded", PARTIAL,
       r"test case\(s\) failed",
       "sabotages itself if it sees the secret, the results, the hidden tests, the solution or another "
       "submission, or can write a result"),
    nb("kill-pid1", lambda m, out: early(m.partial, KILL_PID1), "graded", PARTIAL, r"test case\(s\) failed",
       "SIGKILL to the namespace's init and its parent: refused, grading goes on"),
]

BY_NAME = {b.name: b for b in BASELINES + BREAKERS}
assert len(BY_NAME) == len(BASELINES) + len(BREAKERS), "duplicate names"


def build_breakers(folder, out):
    """Write the baselines and every breaker into ``folder``; ``out`` is the batch's output folder
    (the probes aim at it). Returns the Materials."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    materials = Materials(folder=folder, marker=folder / "unused")
    for entry in BASELINES + BREAKERS:
        entry.build(folder, materials, Path(out))
    return materials

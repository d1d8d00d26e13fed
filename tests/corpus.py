"""A corpus of hostile and broken submissions, built at test time from the committed notebooks.

Every entry is a row of ``CORPUS``: a name (the file stem, which is also the submission id: no
``_`` or ``.`` in it), a builder that writes the submission into a folder, the status the batch
grader must give, the score it must give (a rule computed from the grades of the baselines in the
same batch, see ``Expect``), a pattern the one-line message must match, and why.

The bases (see ``Materials``):

* ``template``  the committed student release, untouched: earns 0.
* ``partial``   the template with the stubs of q1-q5 replaced by the solution's cells: earns
                exactly the points of q1-q5 (which stubs belong to which question is read from the
                notebook: a stub cell belongs to the next ``grader.check("qN")``). It never trains
                (and loads only ``SUBSET`` images), so it is the cheap base of most cheats: a cheat
                must not add one point to it.
* ``fast``      the solution with the training cut down (``SUBSET`` images, few ``epochs``, no
                experiment cell): what an honest, hurried student earns. Its grade in the batch is
                the reference for the entries built on it.

Builders receive ``(folder, materials)`` and return the path they wrote. ``Materials`` also holds
the paths a cheat may try to reach (the repository, the corpus folder, a marker file a malicious
pickle would create), so the cheats aim at the real places, not at guesses.
"""

import copy
import json
import os
import pickle
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
import psutil
import yaml

from nnassign.nbedit import append, delete, edit, fill, insert

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "student" / "nn_from_scratch.ipynb"
SOLUTION = REPO / "autograder" / "nn_from_scratch.ipynb"

FAST_SUBSET = 4000        # training images of the fast honest variant (half for training, half validation)
FAST_EPOCHS = 2
PARTIAL_QUESTIONS = ("q1", "q2", "q3", "q4", "q5")
ORPHAN_TAG = "987654321"  # `sleep` argument of the orphan-daemon entry: find survivors by it


# ---------------------------------------------------------------------------- notebook editing

def read(path):
    return nbformat.read(path, as_version=4)


def early(nb, source):
    """The hostile cell right after the imports (before any work is done)."""
    return insert(nb, r"^import numpy as np", source)


def subset(nb):
    """Only the first FAST_SUBSET training images are loaded (the data cell's own switch)."""
    return edit(nb, r"^SUBSET = ", r"^SUBSET = .*$", f"SUBSET = {FAST_SUBSET}")


def fast_honest(solution):
    """The solution with its training cut down: honest, but quick to grade."""
    nb = edit(subset(solution), r"^epochs = ", r"^epochs = .*$", f"epochs = {FAST_EPOCHS}")
    return delete(nb, r"^exp_X, exp_Y = ")   # the hyperparameter experiment: 18 more trainings


# ---------------------------------------------------------------------------- grading helpers

# Small limits for tests: a fast honest notebook runs in about 2 s, so 10 s leaves room for a loaded
# machine, and every hostile entry that runs into a limit costs at most 10 s (the CPU limit is
# above the wall clock, as in the default config, so the wall clock is what stops a loop).
SMALL_LIMITS = {"timeout_seconds": 10, "cpu_seconds": 15, "memory_mb": 1536, "output_mb": 1, "processes": 32}


def grade_command(submissions, out, config, *options):
    """``nnassign grade`` as a subprocess command line."""
    return [sys.executable, "-m", "nnassign.cli", "grade", *map(str, submissions), "--out", str(out),
            "--config", str(config), *options]


def make_assignment(root, limits):
    """``root/assignment_config.yaml``: the real config with ``limits``, beside links to the real
    autograder/ and solution/ (the CLI looks them up next to the config)."""
    root = Path(root)
    config = yaml.safe_load((REPO / "assignment_config.yaml").read_text())
    config["limits"] = dict(limits)
    for name in ("autograder", "solution"):
        (root / name).symlink_to(REPO / name)
    path = root / "assignment_config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def processes_with(tag):
    """Processes whose command line contains ``tag``."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(tag in part for part in p.info["cmdline"] or ()):
                found.append(p)
        except psutil.Error:
            pass
    return found


# ---------------------------------------------------------------------------- materials

@dataclass
class Materials:
    """The bases and the places the corpus aims at."""

    folder: Path        # where the submissions are written
    marker: Path        # a malicious pickle would create this file
    template: nbformat.NotebookNode = field(init=False)
    solution: nbformat.NotebookNode = field(init=False)
    partial: nbformat.NotebookNode = field(init=False)
    fast: nbformat.NotebookNode = field(init=False)

    def __post_init__(self):
        self.template = read(TEMPLATE)
        self.solution = read(SOLUTION)
        self.partial = subset(fill(self.template, self.solution, PARTIAL_QUESTIONS))
        self.fast = fast_honest(self.solution)

    @property
    def secrets(self):
        """Files a cheat would love to read; all exist and are world-readable on the grading host."""
        return [SOLUTION, REPO / "solution" / "nn_from_scratch.ipynb", self.folder / "fast-honest.ipynb"]


def write_nb(nb, folder, name):
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def write_bytes(data, folder, name, suffix=".ipynb"):
    path = folder / f"{name}{suffix}"
    path.write_bytes(data)
    return path


def write_zip(folder, name, members):
    """A zip as ``grader.export()`` writes it: ``members`` is [(arcname, bytes)]."""
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in members:
            zf.writestr(arcname, data)
    return path


def nb_bytes(nb):
    return nbformat.writes(nb).encode()


class Payload:
    """Unpickling this runs a shell command: what a malicious ``.OTTER_LOG`` would do."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


# ---------------------------------------------------------------------------- hostile cells

REWRITE_TESTS = r'''
import os
FAKE = """from otter.test_files import test_case
OK_FORMAT = False
name = "{q}"
points = 100
@test_case(points=100, hidden=False)
def test_always_passes():
    pass
"""
roots = [os.getcwd(), os.path.dirname(os.getcwd()), os.path.expanduser("~"), "/tmp", "/", @REPO@,
         os.path.join(@REPO@, "autograder"), os.path.join(@REPO@, "student"), @FOLDER@]
skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/var"}
rewritten, refused = [], 0
for root in roots:
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath in skip or dirpath.count(os.sep) - root.count(os.sep) >= 3:
            dirnames[:] = []
        if os.path.basename(dirpath) == "tests":
            for f in filenames:
                if f.endswith(".py"):
                    try:
                        with open(os.path.join(dirpath, f), "w") as out:
                            out.write(FAKE.format(q=f[:-3]))
                        rewritten.append(os.path.join(dirpath, f))
                    except OSError:
                        refused += 1
os.makedirs("tests", exist_ok=True)
for q in ["import_policy"] + [f"q{i}" for i in range(1, 15)]:
    with open(os.path.join("tests", q + ".py"), "w") as out:
        out.write(FAKE.format(q=q))
for q in ["import_policy"] + [f"q{i}" for i in range(1, 15)]:
    print(f"{q} results: All test cases passed!")
print("Total score: 36 / 36 (100%)")
print("rewritten", len(rewritten), "refused", refused)
'''

READ_HIDDEN = r'''
import glob, json, os
candidates = @SECRETS@ + [os.path.join("/proc", str(os.getppid()), "cwd", "autograder", "nn_from_scratch.ipynb")]
for pattern in ("/work/**/*.ipynb", "/home/**/*.ipynb", "/root/**/*.ipynb", "/tmp/**/*.ipynb", "/srv/**/*.ipynb"):
    candidates += glob.glob(pattern, recursive=True)
stolen = []
for path in candidates:
    if os.path.abspath(path) == os.path.abspath("notebook.ipynb"):
        continue
    try:
        with open(path) as f:
            cells = json.load(f)["cells"]
    except Exception:
        continue
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "code" and source.lstrip().startswith("def "):
            try:
                exec(source, globals())
            except Exception:
                pass
    stolen.append(path)
for path in glob.glob("/**/tests/q*.py", recursive=False) + glob.glob(@REPO@ + "/*/tests/q*.py"):
    stolen.append(path)
try:
    with open(f"/proc/{os.getppid()}/environ", "rb") as f:
        stolen.append(f.read()[:100])
except OSError:
    pass
print("stolen:", stolen)
'''

ALLCLOSE = """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
"""

NUMPY_TESTING = """
import numpy
import numpy.testing
for _name in ("assert_allclose", "assert_array_equal", "assert_equal", "assert_almost_equal",
              "assert_array_almost_equal"):
    setattr(numpy.testing, _name, lambda *a, **k: None)
"""

BUILTINS = """
import builtins
builtins.isinstance = lambda obj, cls: True
builtins.abs = lambda x: 0
builtins.all = lambda it: True
"""
BUILTINS_MILD = """
import builtins
builtins.abs = lambda x: 0
builtins.all = lambda it: True
builtins.max = lambda *a, **k: 0
"""

OTTER = """
import sys
grader.check = lambda *a, **k: print("All tests passed!")
del sys.modules["otter"]
import otter
from otter.test_files import GradingResults
from otter.test_files.abstract_test import TestFile
from otter.test_files.exception_test import ExceptionTestFile
TestFile.score = property(lambda self: self.possible)
TestFile.all_or_nothing = False
GradingResults.total = property(lambda self: 36.0)
ExceptionTestFile.run = lambda self, *a, **k: None
otter.Notebook.check = lambda *a, **k: print("All tests passed!")
"""

MAGIC_RETURN = """
class AlwaysRight:
    shape = property(lambda self: self)
    def __eq__(self, other):
        return True
    def __array__(self, *a, **k):
        raise TypeError("no")
def softmax(Z):
    return AlwaysRight()
"""

PYTHON_LOOP = "while True:\n    pass\n"
NUMPY_LOOP = ("import numpy as np\n"
              "a = np.random.default_rng(0).random((3000, 3000))\n"
              "b = np.linalg.matrix_power(a, 10**12)   # one C call, no bytecode in between\n")
MEMORY_BOMB = "import numpy as np\nbomb = np.ones((10**6, 10**6))\n"          # 8 TB at once
MEMORY_HOG = "hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))\n"   # keeps what it got
FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"
PRINT_FLOOD = "for _ in range(100):\n    print('x' * 2**20)\n"          # 100 MB through print
FD_FLOOD = "import os\nblock = b'y' * 2**20\nfor _ in range(100):\n    os.write(1, block)\n"  # under print
SYS_EXIT = "import sys\nsys.exit('bye')\n"
OS_EXIT = "import os\nos._exit(0)\n"
KILL9 = "import os\nos.kill(os.getpid(), 9)\n"
IMPORT_TORCH = "import torch\n"
# A name built at run time, then every trace removed from sys.modules: the audit hook saw it load.
RUNTIME_IMPORT_ERASED = (
    "import sys\n"
    "try:\n"
    "    __import__('sk' + 'learn')\n"
    "except ImportError:\n"
    "    pass\n"
    "for _name in [n for n in sys.modules if n.startswith('sk')]:\n"
    "    del sys.modules[_name]\n"
)
DUMMY_PARAMS = 'params = {"W1": None}\n'
# train fits on the test split when it gets the real training data (and trains honestly on small
# test inputs, so q12's own checks pass): the sandbox only has decoy test labels.
FIT_TEST_SPLIT = (
    "_honest_train = train\n"
    "def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,\n"
    "          activation='relu', eval_every=100):\n"
    "    if X.shape[1] < 20000:\n"
    "        return _honest_train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size, seed,\n"
    "                             activation, eval_every)\n"
    "    images, labels = nn_data.load_dataset(DATASET, 'test')\n"
    "    return _honest_train(preprocess(images), one_hot(labels), X_val, Y_val, hidden_neurons,\n"
    "                         learning_rate, epochs, batch_size, seed, activation, eval_every)\n"
)
# train returns random weights and a made-up falling history
FAKE_TRAINING = (
    "def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,\n"
    "          activation='relu', eval_every=100):\n"
    "    p = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed + 1)\n"
    "    n = epochs * int(np.ceil(X.shape[1] / batch_size))\n"
    "    losses = list(np.linspace(2.3, 0.3, n))\n"
    "    return p, {'train_loss': losses, 'train_error': list(np.linspace(0.9, 0.1, n)), 'val_step': [],\n"
    "               'val_loss': [], 'val_error': []}\n"
)
DUNDER_SKLEARN = '__import__("sklearn")\n'
HANG_ON_CALL = ("def per_class_report(cm):\n"
                "    while True:   # loops forever, but only when a test calls it\n"
                "        pass\n")
CLOSE_CHANNEL = ("import os\n"
                 "for fd in range(3, 256):\n"
                 "    try:\n"
                 "        os.close(fd)\n"
                 "    except OSError:\n"
                 "        pass\n")
ORPHANS = (f"import os, subprocess\n"
           f"subprocess.Popen(['sleep', '{ORPHAN_TAG}'], start_new_session=True)\n"
           f"if os.fork() == 0:\n"
           f"    os.setsid()\n"
           f"    if os.fork() == 0:\n"
           f"        os.execvp('sleep', ['sleep', '{ORPHAN_TAG}'])\n"
           f"    os._exit(0)\n"
           f"os.wait()\n")
KILL_GRADER = ("import os, signal\n"
               "refused = 0\n"
               "for pid in [os.getppid(), 1] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
               "    if pid != os.getpid():\n"
               "        try:\n"
               "            os.kill(pid, signal.SIGKILL)\n"
               "        except OSError:\n"
               "            refused += 1\n"
               "print('refused', refused)\n")


# ---------------------------------------------------------------------------- expectations

@dataclass(frozen=True)
class Expect:
    """The score an entry must get, per question, from the baselines of the same batch.

    kind: ``none`` (not graded: no questions, 0 of 0), ``zero`` (every question 0),
    ``only`` (full points on ``questions``, 0 elsewhere), ``fast`` (what the fast honest variant
    got, minus ``questions`` entirely and minus the test cases ``cases``).
    """

    kind: str
    questions: tuple = ()
    cases: tuple = ()

    def points(self, ref):
        """{question: points} or None when the submission is not graded at all."""
        if self.kind == "none":
            return None
        if self.kind == "zero":
            return {q: 0.0 for q in ref.possible}
        if self.kind == "only":
            return {q: (ref.possible[q] if q in self.questions else 0.0) for q in ref.possible}
        assert self.kind == "fast"
        points = {q: (0.0 if q in self.questions else p) for q, p in ref.fast.items()}
        for name in self.cases:
            question = ref.case_question[name]
            points[question] -= ref.fast_cases[name]
        return points


NONE, ZERO, FAST = Expect("none"), Expect("zero"), Expect("fast")
PARTIAL = Expect("only", PARTIAL_QUESTIONS)


def fast_without(*questions, cases=()):
    return Expect("fast", tuple(questions), tuple(cases))


@dataclass(frozen=True)
class Entry:
    name: str
    build: Callable
    status: str
    expect: Expect
    message: str           # regex the result's one-line message must match (re.search)
    why: str


def nb_entry(name, make, status, expect, message, why):
    """An entry that is one notebook, ``make(materials)``."""
    return Entry(name, lambda folder, m: write_nb(make(m), folder, name), status, expect, message, why)


def _r_kernel(m):
    nb = copy.deepcopy(m.partial)
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb.metadata["language_info"] = {"name": "R"}
    return nb


def _wrong_assignment(m):
    nb = copy.deepcopy(m.fast)
    nb.metadata["otter"]["assignment_name"] = "intro-python-hw3"
    return nb


def _no_metadata(m):
    nb = copy.deepcopy(m.partial)
    del nb.metadata["otter"]
    return nb


def _empty(m):
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(m.template.metadata)
    nb.nbformat_minor = 5
    nb.cells = [nbformat.v4.new_markdown_cell("I will do it later.")]
    return nb


def _export_zip(folder, m, name, notebook, extra):
    return write_zip(folder, name, [("nn_from_scratch.ipynb", nb_bytes(notebook)), *extra])


def _pickle_zip(folder, m):
    log = pickle.dumps(Payload(f"touch {m.marker}"))
    return _export_zip(folder, m, "pickle-log", m.partial, [(".OTTER_LOG", log),
                                                            ("__zip_filename__", b"nn_from_scratch.zip")])


def _traversal_zip(folder, m):
    return _export_zip(folder, m, "zip-traversal", m.partial,
                       [("../../../../tmp/nnassign-evil.py", b"print('escaped')\n")])


def _bomb_zip(folder, m):
    return _export_zip(folder, m, "zip-bomb", m.partial, [("data.bin", bytes(40 * 2**20))])


def _two_notebooks_zip(folder, m):
    return _export_zip(folder, m, "zip-two-notebooks", m.partial, [("copy/old.ipynb", nb_bytes(m.template))])


def _invalid_json(folder, m):
    text = nbformat.writes(m.partial)
    return write_bytes(text[: len(text) // 2].encode(), folder, "invalid-json")


def _nbformat3(folder, m):
    return write_bytes(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                   "worksheets": [{"cells": []}], "cells": []}).encode(), folder, "nbformat-three")


def _gradescope_folder_two(folder, m):
    sub = folder / "two-in-folder"
    sub.mkdir()
    write_nb(m.partial, sub, "a")
    write_nb(m.partial, sub, "b")
    return sub


def fill_in(template, **values):
    """Replace each @NAME@ in a cell template by the Python literal of its value."""
    for key, value in values.items():
        template = template.replace(f"@{key}@", repr(value))
    assert not re.search(r"@[A-Z]+@", template), "unfilled placeholder"
    return template


def _rewrite(m):
    return early(m.template, fill_in(REWRITE_TESTS, REPO=str(REPO), FOLDER=str(m.folder)))


def _read_hidden(m):
    return append(m.template, fill_in(READ_HIDDEN, SECRETS=[str(p) for p in m.secrets], REPO=str(REPO)))


ONE_LINER_GRADED = r"^(all tests passed|\d+ test case\(s\) failed)"


def _all_cases():
    """The number of test cases in the committed autograder: an entry that earns nothing fails them all."""
    return sum(len(re.findall(r"^@test_case\(", p.read_text(), flags=re.M))
               for p in (REPO / "autograder" / "tests").glob("*.py"))


ALL_FAIL = rf"^{_all_cases()} test case\(s\) failed"
TIMEOUT_MESSAGE = r"^the notebook did not finish within \d+ s \(cell \d+ was running\)$"

CORPUS = [
    # --- baselines -------------------------------------------------------------------------
    nb_entry("template", lambda m: m.template, "graded", ZERO, ALL_FAIL + r"; \d+ cell\(s\) raised",
             "the untouched student release: every test fails on a stub"),
    nb_entry("fast-honest", lambda m: m.fast, "graded", FAST, ONE_LINER_GRADED,
             "the solution with a short training run: the reference the cheats are measured against"),
    # --- honest partial work ---------------------------------------------------------------
    nb_entry("partial-q1-q5", lambda m: m.partial, "graded", PARTIAL, r"test case\(s\) failed",
             "only the stubs of q1-q5 filled from the solution: exactly the points of q1-q5"),
    nb_entry("partial-softmax-loss", lambda m: fill(m.template, m.solution, ("q3", "q4")), "graded",
             Expect("only", ("q3", "q4")), r"test case\(s\) failed",
             "only softmax and the loss filled: exactly q3 + q4"),
    nb_entry("no-training", lambda m: delete(m.fast, r"params, history = train\("),
             "graded", FAST, r"\d+ cell\(s\) raised",
             "every function right but the training cell deleted: the grader trains the network itself "
             "with the notebook's train and hyperparameters, so the grade is the honest run's"),
    nb_entry("missing-functions", lambda m: delete(m.fast, r"^def gradient_check\(", r"^def predict\("),
             "graded", fast_without("q11", "q13"), r"test case\(s\) failed",
             "the cells defining gradient_check and predict/accuracy/confusion_matrix/per_class_report "
             "deleted: q11 and q13 at 0 with 'not defined' messages, the rest as the honest run (the "
             "grader evaluates the trained network with its own forward pass when predict is missing)"),
    nb_entry("no-otter-metadata", _no_metadata, "graded", PARTIAL, r"test case\(s\) failed",
             "metadata dropped by an editor: graded anyway, with a warning"),
    # --- the holes of plain `otter run` ------------------------------------------------------
    nb_entry("rewrite-tests", _rewrite, "graded", ZERO, ALL_FAIL,
             "rewrites every tests/*.py it can reach (and makes its own tests/) and prints fake scores"),
    nb_entry("cheat-allclose", lambda m: early(m.partial, ALLCLOSE), "graded", PARTIAL, r"test case\(s\) failed",
             "np.allclose / isclose / array_equal always True: the checks run in the grader"),
    nb_entry("cheat-numpy-testing", lambda m: early(m.partial, NUMPY_TESTING), "graded", PARTIAL,
             r"test case\(s\) failed", "numpy.testing assertions replaced by no-ops"),
    nb_entry("cheat-builtins", lambda m: append(m.partial, BUILTINS), "crashed", ZERO,
             r"exited with status 1 while running cell \d+",
             "builtins.isinstance always True (and abs, all): it breaks the student's own process, "
             "which can no longer answer; the judge's builtins are untouched"),
    nb_entry("cheat-builtins-mild", lambda m: append(m.partial, BUILTINS_MILD), "graded", PARTIAL,
             r"test case\(s\) failed", "builtins abs/all/max replaced: the checks use the grader's builtins"),
    nb_entry("cheat-otter", lambda m: early(m.partial, OTTER), "graded", PARTIAL, r"test case\(s\) failed",
             "the real otter imported and its scoring patched, grader.check faked"),
    nb_entry("magic-return", lambda m: append(m.partial, MAGIC_RETURN), "graded",
             Expect("only", ("q1", "q2", "q4", "q5")),
             r"test case\(s\) failed", "softmax returns an object equal to everything: it cannot even be sent"),
    nb_entry("read-hidden-files", _read_hidden, "graded", ZERO, ALL_FAIL,
             "execs the solution / another submission / hidden tests from disk if it can find them"),
    Entry("pickle-log", _pickle_zip, "graded", PARTIAL, r"test case\(s\) failed",
          "grader.export() zip whose .OTTER_LOG is a pickle that would touch a marker file"),
    # --- broken files ----------------------------------------------------------------------
    Entry("zip-traversal", _traversal_zip, "invalid-submission", NONE, r"points outside the archive",
          "a zip entry ../../../../tmp/nnassign-evil.py"),
    Entry("zip-bomb", _bomb_zip, "invalid-submission", NONE, r"zip bomb",
          "a 40 MB member of zeros compressed about 1000:1"),
    Entry("zip-two-notebooks", _two_notebooks_zip, "invalid-submission", NONE, r"several notebooks",
          "which one is the submission?"),
    Entry("two-in-folder", _gradescope_folder_two, "invalid-submission", NONE, r"exactly one",
          "a submission folder with two notebooks"),
    Entry("invalid-json", _invalid_json, "invalid-notebook", NONE, r"not valid JSON", "a truncated file"),
    nb_entry("empty-notebook", _empty, "invalid-notebook", NONE, r"has no code", "only a markdown cell"),
    nb_entry("r-kernel", _r_kernel, "invalid-notebook", NONE, r"runs R, not Python", "an R notebook"),
    Entry("nbformat-three", _nbformat3, "invalid-notebook", NONE, r"nbformat 3", "a notebook from 2015"),
    nb_entry("wrong-assignment", _wrong_assignment, "wrong-assignment", NONE, r"intro-python-hw3",
             "a (good) notebook of another assignment"),
    # --- resource abuse --------------------------------------------------------------------
    nb_entry("python-loop", lambda m: early(m.partial, PYTHON_LOOP), "timeout", ZERO, TIMEOUT_MESSAGE,
             "while True: pass, before any work"),
    nb_entry("numpy-loop", lambda m: early(m.partial, NUMPY_LOOP), "timeout", ZERO, TIMEOUT_MESSAGE,
             "a C-level NumPy call that runs for minutes"),
    nb_entry("memory-bomb", lambda m: early(m.partial, MEMORY_BOMB), "memory-limit", PARTIAL,
             r"^cell \d+ ran out of memory", "asks for 8 TB at once: refused, and grading goes on"),
    nb_entry("memory-hog", lambda m: early(m.partial, MEMORY_HOG), "memory-limit", PARTIAL,
             r"^cell \d+ ran out of memory", "takes 50 MB chunks until refused and keeps them: the process "
             "stays at its limit; grading goes on (tests that need memory in the sandbox fail)"),
    nb_entry("fork-bomb", lambda m: early(m.partial, FORK_BOMB), "graded", PARTIAL,
             r"test case\(s\) failed; \d+ cell\(s\) raised errors, first: cell \d+: BlockingIOError",
             "while True: os.fork(): the process limit stops it; grading goes on"),
    nb_entry("print-flood", lambda m: early(m.partial, PRINT_FLOOD), "output-limit", PARTIAL,
             r"printed output beyond", "100 MB printed; the rest of the notebook still runs"),
    nb_entry("fd-flood", lambda m: early(m.partial, FD_FLOOD), "output-limit", PARTIAL,
             r"file-size limit", "100 MB written straight to file descriptor 1, around print"),
    nb_entry("sys-exit", lambda m: early(m.partial, SYS_EXIT), "graded", PARTIAL,
             r"cell\(s\) raised errors, first: cell \d+: SystemExit", "sys.exit() is just a cell error"),
    nb_entry("os-exit", lambda m: early(m.partial, OS_EXIT), "crashed", ZERO,
             r"exited with status 0 while running cell \d+", "os._exit(0) ends the process"),
    nb_entry("kill-self", lambda m: early(m.partial, KILL9), "crashed", ZERO,
             r"killed by SIGKILL while running cell \d+", "os.kill(os.getpid(), 9): a dead kernel"),
    nb_entry("close-channel", lambda m: early(m.partial, CLOSE_CHANNEL), "crashed", ZERO,
             r"closed the grading channel|exited|broke the grading protocol",
             "closes every file descriptor, the grading pipe included"),
    nb_entry("orphan-daemons", lambda m: early(m.partial, ORPHANS), "graded", PARTIAL, r"test case\(s\) failed",
             "leaves a setsid'd sleep and a double-forked daemon behind: they must not survive"),
    nb_entry("kill-grader", lambda m: early(m.partial, KILL_GRADER), "graded", PARTIAL, r"test case\(s\) failed",
             "tries to SIGKILL its parent, init and every pid it sees"),
    nb_entry("hang-on-call", lambda m: append(m.fast, HANG_ON_CALL), "graded",
             fast_without(cases=("test_per_class_report", "test_evaluation_hidden")), r"test case\(s\) failed",
             "per_class_report loops forever, but only when a test calls it: its two cases fail, "
             "everything else is graded"),
    # --- the import policy -----------------------------------------------------------------
    nb_entry("import-torch", lambda m: early(m.fast, IMPORT_TORCH), "policy-violation", fast_without("import_policy"),
             r"^import policy: torch is not allowed \(cell \d+, line 1: import torch\)",
             "import torch: loses exactly the import_policy points"),
    nb_entry("dunder-import", lambda m: early(m.fast, DUNDER_SKLEARN), "policy-violation",
             fast_without("import_policy"), r"^import policy: sklearn is not allowed",
             "__import__('sklearn'): loses exactly the import_policy points"),
    nb_entry("import-erased", lambda m: append(m.fast, RUNTIME_IMPORT_ERASED), "policy-violation",
             fast_without("import_policy"), r"^import policy: sklearn is not allowed \(at run time",
             "a forbidden package loaded through a name built at run time, then removed from sys.modules "
             "in the last cell: the import was reported when it happened"),
    # --- fooling the grade ------------------------------------------------------------------
    nb_entry("dummy-params", lambda m: append(m.template, DUMMY_PARAMS), "graded", ZERO, ALL_FAIL,
             "the untouched template plus params = {'W1': None}: no policy points without a working network"),
    nb_entry("fit-test-split", lambda m: append(m.fast, FIT_TEST_SPLIT), "graded",
             fast_without("q14", "import_policy"), r"test case\(s\) failed",
             "train fits on the test split when it sees the real data: the sandbox's test labels are decoys, "
             "so the network the grader gets is at chance level: no tiers, no policy points (q12's tests, "
             "on small inputs where this train is honest, keep their points)"),
    nb_entry("fake-training", lambda m: append(m.fast, FAKE_TRAINING), "graded",
             fast_without("q12", "q14", "import_policy"), r"test case\(s\) failed",
             "train returns random weights with a made-up falling history: nothing for training, tiers or policy"),
]

BY_NAME = {e.name: e for e in CORPUS}
assert len(BY_NAME) == len(CORPUS), "duplicate corpus names"
assert all(re.fullmatch(r"[a-z0-9-]+", e.name) for e in CORPUS), "names must be ids: no _ or ."


def build_corpus(folder, marker):
    """Write every entry into ``folder``; return (materials, {name: path})."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    materials = Materials(folder=folder, marker=Path(marker))
    return materials, {e.name: e.build(folder, materials) for e in CORPUS}

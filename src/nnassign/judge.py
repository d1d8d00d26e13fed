"""Run the autograder's Otter test files in this (clean) process against a sandboxed notebook.

API::

    seed = derive_seed(secret, submission.content_sha256)
    results = run_tests("autograder/tests", oracle, seed)          # list[QuestionResult]
    results_json = to_gradescope(results)                          # Otter's results.json dict

``run_tests`` loads each ``*.py`` exception-based test file with Otter's own
:class:`~otter.test_files.ExceptionTestFile` and runs it with an environment in which

* a name the notebook defines as a function is a proxy that calls it in the sandbox
  (arguments and results travel by :mod:`nnassign.wire`; a student exception arrives as
  ``StudentError("your softmax raised ValueError: ...")``, a hang as ``CallTimedOut``);
* a name bound to a module (``np``) is this process's own copy of it (numpy and math only);
* any other name (``params``, ``hidden_neurons``) is the value fetched from the notebook;
* a name the notebook does not define is a placeholder whose every use raises
  ``NameError("softmax is not defined in your notebook")``.

Every assertion therefore runs here, with modules the student never touched. ``NNASSIGN_SEED``
is set to ``seed`` while the tests run (process-wide: run one grading per process, not per
thread). A broken test file gives failed cases with an "internal grading error" message instead
of stopping the run; a test file that cannot be loaded raises :class:`TestFileError`.
"""

import contextlib
import hashlib
import inspect
import hmac
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otter.test_files import GradingResults
from otter.test_files.abstract_test import TestCaseResult
from otter.test_files.exception_test import ExceptionTestFile

from nnassign import graded_run, sandbox, wire
from nnassign.messages import clean_message

SEED_VARIABLE = "NNASSIGN_SEED"


class TestFileError(ValueError):
    """An autograder test file cannot be loaded (the grader's problem, not the student's)."""


@dataclass
class CaseResult:
    name: str
    points: float        # earned
    possible: float
    hidden: bool
    passed: bool
    message: str


@dataclass
class QuestionResult:
    name: str
    path: str
    score: float
    possible: float
    cases: list[CaseResult]
    test_file: ExceptionTestFile = field(repr=False)  # Otter's object, for GradingResults


def derive_seed(secret: str | bytes, content_sha256: str) -> int:
    """A 63-bit seed from the grader's secret and the submission hash: same file, same tests;
    unknowable to students, who do not have the secret."""
    if not secret:
        raise ValueError("the grading secret must not be empty")
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    digest = hmac.new(key, content_sha256.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Unavailable:
    """Stands for a notebook name that cannot be used here; any use raises NameError."""

    def __init__(self, name: str, reason: str):
        object.__setattr__(self, "_message", f"{name} {reason}")

    def _fail(self, *args, **kwargs):
        raise NameError(object.__getattribute__(self, "_message"))

    def __getattr__(self, name):
        if name.startswith("__array"):  # NumPy probes these while converting
            self._fail()
        raise NameError(object.__getattribute__(self, "_message"))

    __call__ = __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = __float__ = __int__ = _fail
    __index__ = __contains__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __neg__ = __abs__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __array__ = _fail

    def __eq__(self, other):
        self._fail()

    def __ne__(self, other):
        self._fail()

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<unavailable: {object.__getattribute__(self, '_message')}>"


class StudentFunction:
    """Calls the notebook's function in the sandbox."""

    def __init__(self, oracle: "sandbox.Oracle", name: str):
        self._oracle, self.__name__ = oracle, name

    def __call__(self, *args, **kwargs):
        result = self._oracle.call(self.__name__, _to_sandbox(args), _to_sandbox(kwargs))
        return _from_sandbox(self._oracle, result)

    def __repr__(self):
        return f"<student function {self.__name__}>"


# Only these modules may be handed to a test that asks for a module by name: a notebook could
# otherwise bind ``np`` to some module under which the test's checks pass vacuously.
TRUSTED_MODULES = frozenset({"numpy", "math"})


def _from_sandbox(oracle, value):
    """Turn wire.Ref values inside a result into proxies / local modules."""
    if isinstance(value, wire.Ref):
        if value.kind == "function":
            return StudentFunction(oracle, value.name)
        if value.name in TRUSTED_MODULES:
            return __import__(value.name)
        return Unavailable(value.name, "is a module the grader does not provide to tests")
    if isinstance(value, list):
        return [_from_sandbox(oracle, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_from_sandbox(oracle, v) for v in value)
    if isinstance(value, dict):
        return {k: _from_sandbox(oracle, v) for k, v in value.items()}
    return value


def _to_sandbox(value):
    """Proxies passed back as arguments travel as references."""
    if isinstance(value, StudentFunction):
        return wire.Ref("function", value.__name__)
    if isinstance(value, list):
        return [_to_sandbox(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_sandbox(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_sandbox(v) for k, v in value.items()}
    return value


class TrainedParams(dict):
    """The parameters of the grader's own training run, with the test accuracy it measured."""

    test_accuracy: float | None = None


# Names whose value is what the grader's training run produced, not the notebook's global.
GRADED_RUN_NAMES = ("params", "history")


def graded_run_of(oracle) -> "graded_run.GradedRun":
    """The grader's training run for this oracle: done once, on first use (see graded_run)."""
    run = getattr(oracle, "_nnassign_graded_run", None)
    if run is None:
        run = graded_run.graded_run(oracle, graded_run.settings_here())
        oracle._nnassign_graded_run = run
    return run


class OracleEnvironment(Mapping):
    """The ``global_environment`` Otter passes names from; every lookup asks the sandbox afresh,
    so a test that changes a fetched value cannot affect the next test. ``params`` and ``history``
    are the products of the grader's own call of ``train`` (see :mod:`nnassign.graded_run`) when the
    autograder folder holds the assignment's grading.json."""

    def __init__(self, oracle: "sandbox.Oracle", graded_run=True):
        self._oracle, self._graded_run = oracle, graded_run

    def _graded(self, name):
        run = graded_run_of(self._oracle)
        if run.problem:
            return Unavailable(name, f"could not be obtained by the grader's own training run: {run.problem}")
        if name == "history":
            return _from_sandbox(self._oracle, run.history)
        params = TrainedParams({k: v.copy() for k, v in run.params.items()})
        params.test_accuracy = run.test_accuracy
        return params

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str):
            raise KeyError(name)
        if name in GRADED_RUN_NAMES and self._graded_run:
            return self._graded(name)
        try:
            return _from_sandbox(self._oracle, self._oracle.get(name))
        except sandbox.NotDefined:
            return Unavailable(name, "is not defined in your notebook")
        except sandbox.OracleError as e:
            return Unavailable(name, f"could not be read from your notebook: {e}")

    def get(self, name, default=None):
        return self[name]

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __contains__(self, name):
        return True


@contextlib.contextmanager
def _seed_environment(seed: int):
    old = os.environ.get(SEED_VARIABLE)
    os.environ[SEED_VARIABLE] = str(int(seed))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(SEED_VARIABLE, None)
        else:
            os.environ[SEED_VARIABLE] = old


@contextlib.contextmanager
def _nn_data_importable():
    """Tests ``import nn_data``; the shipped copy is this package's nn_data."""
    if "nn_data" in sys.modules:
        yield
        return
    try:
        from nnassign import nn_data
    except ImportError:
        yield
        return
    sys.modules["nn_data"] = nn_data
    try:
        yield
    finally:
        sys.modules.pop("nn_data", None)


@contextlib.contextmanager
def _autograder_modules_importable(folder: Path):
    """Hidden tests ``import nn_checks`` (reference arithmetic shipped in the autograder folder only)."""
    sys.path.insert(0, str(folder))
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True   # no __pycache__ in the autograder
    try:
        yield
    finally:
        sys.dont_write_bytecode = writes
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))
        sys.modules.pop("nn_checks", None)


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def load_test_files(test_dir, question_names=None) -> list[ExceptionTestFile]:
    """Otter exception-based test files in ``test_dir``, in natural order (q2 before q10)."""
    paths = sorted(Path(test_dir).glob("*.py"), key=_natural_key)
    if not paths:
        raise FileNotFoundError(f"no test files in {test_dir}")
    files = []
    for path in paths:
        try:
            tf = ExceptionTestFile.from_file(str(path))
        except Exception as e:   # the instructor's file is broken: say which, in one line
            raise TestFileError(f"cannot load the test file {path.name}: {type(e).__name__}: {e}") from None
        if question_names is None or tf.name in question_names:
            files.append(tf)
    if question_names is not None:
        missing = set(question_names) - {tf.name for tf in files}
        if missing:
            raise KeyError(f"no test file for {', '.join(sorted(missing))}")
    return files


def _case_name(test_case):
    """The test function's name says what was checked (unique within a question); Otter's is "q3 - 2"."""
    func = getattr(test_case.body, "test_func", None)
    return func.__name__ if func is not None else test_case.name


# Wall clock of one test's own computation in this process (calls into the sandbox have their own
# limits; the grader's training run happens before the tests, outside this budget).
TEST_SECONDS = 120


def _bounded(test_func, name, oracle):
    """``test_func`` under a time budget; running out of the grader's memory is the run's status."""
    def run(**kwargs):
        try:
            with sandbox.time_budget(TEST_SECONDS):
                return test_func(**kwargs)
        except MemoryError:
            note = getattr(oracle, "grader_out_of_memory", None)
            if note is not None:
                note(name)
            raise MemoryError(f"{name} ran out of the grader's memory on what your functions returned") from None

    run.__signature__ = inspect.signature(test_func)   # Otter passes arguments by parameter name
    run.__name__ = test_func.__name__
    return run


def _uses_graded_run(files):
    return any(name in GRADED_RUN_NAMES for tf in files for tc in tf.test_cases
               for name in inspect.signature(tc.body.test_func).parameters)


def run_tests(test_dir, oracle: "sandbox.Oracle", seed: int, question_names=None) -> list[QuestionResult]:
    """Run the questions' test cases against ``oracle``; see the module docstring."""
    files = load_test_files(test_dir, question_names)
    # Tests read grading.json from the current folder: it must be the autograder's, not ours.
    folder = Path(test_dir).resolve().parent
    # The grader's own training run needs the assignment's settings, which `nnassign release` writes.
    graded = (folder / "grading.json").exists()
    env = OracleEnvironment(oracle, graded_run=graded)
    results = []
    with _seed_environment(seed), _nn_data_importable(), _autograder_modules_importable(folder), \
            contextlib.chdir(folder):
        if graded and _uses_graded_run(files):
            run = graded_run_of(oracle)   # first, so that no test's time budget pays for the training
            if run.problem and "out of memory" in run.problem and hasattr(oracle, "grader_out_of_memory"):
                oracle.grader_out_of_memory("the grader's training run")
        for tf in files:
            for tc in tf.test_cases:
                params = inspect.signature(tc.body.test_func).parameters.values()
                if all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params):  # as Otter calls it
                    tc.body.test_func = _bounded(tc.body.test_func, _case_name(tc), oracle)
            try:
                tf.run(env)
            except Exception as e:  # Otter itself failed (e.g. a test signature it cannot call)
                tf.test_case_results = [
                    TestCaseResult(test_case=tc, passed=False,
                                   message=f"❌ internal grading error: {type(e).__name__}: {e}")
                    for tc in tf.test_cases]
            # Otter's messages quote the failing source line: only the message itself, once, is shown
            # (hidden tests must not show their code), also in the Gradescope results built from them.
            for r in tf.test_case_results:
                r.message = clean_message(r.message or "")
            cases = [CaseResult(name=_case_name(r.test_case), points=float(r.test_case.points if r.passed else 0),
                                possible=float(r.test_case.points), hidden=r.test_case.hidden,
                                passed=r.passed, message=r.message or "")
                     for r in tf.test_case_results]
            results.append(QuestionResult(name=tf.name, path=tf.path, score=tf.score,
                                          possible=tf.possible, cases=cases, test_file=tf))
    return results


def to_gradescope(results: list[QuestionResult], output: str | None = None, **config) -> dict:
    """Otter's Gradescope ``results.json`` dict. ``config``: AutograderConfig keys
    (``show_hidden``, ``points_possible``, ...)."""
    from otter.run.run_autograder.autograder_config import AutograderConfig

    grading = GradingResults([r.test_file for r in results])
    if output is not None:
        grading.set_output(output)
    return grading.to_gradescope_dict(AutograderConfig(config))

"""The judge: Otter test files run in this process against a sandboxed notebook."""

import os
import pickle
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnassign import judge, wire
from nnassign.intake import read_submission
from nnassign.sandbox import Limits, NotDefined, Sandbox

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
TESTS = FIXTURES / "tests"
MB = 2**20
FAST = Limits(notebook_seconds=10, call_seconds=2, grace_seconds=1, memory_bytes=1024 * MB, processes=32,
              output_bytes=64 * 1024, file_bytes=8 * MB, disk_bytes=64 * MB)


def honest():
    return nbformat.read(FIXTURES / "honest.ipynb", as_version=4)


def notebook(*sources):
    """The honest fixture with code cells appended before its export cell."""
    nb = honest()
    nb.cells = nb.cells[:-1] + [nbformat.v4.new_code_cell(s) for s in sources] + nb.cells[-1:]
    return nb


def grade(nb, seed=7, limits=FAST):
    with Sandbox(nb, limits=limits) as oracle:
        results = judge.run_tests(TESTS, oracle, seed)
    return {r.name: r for r in results}, oracle


def scores(results):
    return {name: (r.score, r.possible) for name, r in results.items()}


def messages(results):
    return "\n".join(c.message for r in results.values() for c in r.cases)


FULL = {"q1": (2, 2), "q2": (1, 1), "q3": (1, 1)}


# ---------------------------------------------------------------------------- seeds

def test_derive_seed_is_deterministic_secret_and_per_submission():
    a = judge.derive_seed("secret", "ab" * 32)
    assert a == judge.derive_seed(b"secret", "ab" * 32)
    assert a != judge.derive_seed("other secret", "ab" * 32)
    assert a != judge.derive_seed("secret", "cd" * 32)
    assert 0 <= a < 2**63
    with pytest.raises(ValueError):
        judge.derive_seed("", "ab" * 32)


# ---------------------------------------------------------------------------- real sandbox

def test_honest_export_zip_gets_full_marks_and_its_log_is_never_unpickled(tmp_path):
    marker = tmp_path / "pickle-payload-ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    submission = tmp_path / "nn_fixture_2026_01_01T00_00_00.zip"
    with zipfile.ZipFile(submission, "w") as zf:
        zf.write(FIXTURES / "honest.ipynb", "nn_fixture.ipynb")
        zf.writestr(".OTTER_LOG", pickle.dumps(Payload()))
        zf.writestr("__zip_filename__", submission.name)
    sub = read_submission(submission, "nn-fixture")
    seed = judge.derive_seed("course secret", sub.content_sha256)
    with Sandbox(sub.notebook, limits=FAST) as oracle:
        results = judge.run_tests(TESTS, oracle, seed)
    assert not marker.exists()
    by_name = {r.name: r for r in results}
    assert scores(by_name) == FULL
    q1 = by_name["q1"]
    assert [(c.hidden, c.passed, c.points, c.possible) for c in q1.cases] == [(False, True, 1, 1), (True, True, 1, 1)]
    assert os.environ.get("NNASSIGN_SEED") is None   # restored after the run

    gradescope = judge.to_gradescope(results)
    rows = {t["name"]: t for t in gradescope["tests"]}
    assert rows["Public Tests"]["status"] == "passed"
    assert (rows["q1"]["score"], rows["q1"]["max_score"]) == (2, 2)


def test_tampering_in_the_notebook_does_not_reach_the_judge():
    before = {p.name: p.read_bytes() for p in TESTS.glob("*.py")}
    nb = notebook(
        # a wrong softmax, dressed up: an ndarray subclass that claims equality with everything
        "class Sneaky(np.ndarray):\n"
        "    def __eq__(self, other):\n        return True\n"
        "def softmax(Z):\n    return np.exp(np.asarray(Z)).view(Sneaky)",
        "np.allclose = lambda *a, **k: True\n"
        "np.isfinite = lambda *a, **k: np.array(True)\n"
        "import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"
        "import otter, sys\nsys.modules['otter'] = None",
        "print('q1 results: All test cases passed!')\nprint('Total score: 4/4')",
        # rewrite the tests wherever they might be
        "import glob\n"
        f"for path in glob.glob({str(TESTS)!r} + '/*.py') + glob.glob('/tmp/**/tests/q*.py', recursive=True):\n"
        "    try:\n        open(path, 'w').write('raise SystemExit')\n"
        "    except OSError:\n        pass\n"
        f"try:\n    open({str(TESTS / 'q1.py')!r}, 'w').write('')\nexcept OSError as e:\n    rewrite_error = type(e).__name__",
        "class Always:\n    def __eq__(self, other):\n        return True\n    shape = property(lambda self: self)\n"
        "params = {'W1': Always(), 'b1': Always()}")
    results, oracle = grade(nb)
    assert {p.name: p.read_bytes() for p in TESTS.glob("*.py")} == before
    assert scores(results) == {"q1": (0, 2), "q2": (0, 1), "q3": (1, 1)}
    text = messages(results)
    assert "columns must sum to 1" in text
    assert "params could not be read from your notebook" in text and "Always" in text


def test_missing_names_and_student_exceptions_give_clear_messages():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def softmax(Z):\n    raise ValueError('not implemented yet')\n"
                                          "hidden_neurons = 16")]
    results, oracle = grade(nb)
    assert scores(results) == {"q1": (0, 2), "q2": (0, 1), "q3": (0, 1)}
    q1, q2, q3 = results["q1"], results["q2"], results["q3"]
    assert "your softmax raised ValueError: not implemented yet" in q1.cases[0].message
    assert "NameError: params is not defined in your notebook" in q2.cases[0].message
    assert "NameError: relu is not defined in your notebook" in q3.cases[0].message


def test_a_hanging_function_fails_its_test_and_the_others_are_still_graded():
    nb = notebook("def relu(Z):\n    while True:\n        pass")
    limits = Limits(**{**FAST.__dict__, "call_seconds": 1})
    results, oracle = grade(nb, limits=limits)
    assert scores(results) == {"q1": (2, 2), "q2": (1, 1), "q3": (0, 1)}
    assert "your relu did not return within 1 s" in results["q3"].cases[0].message


def test_a_crashed_notebook_fails_every_case_without_crashing_the_judge():
    results, oracle = grade(notebook("import os\nos._exit(1)"))
    assert oracle.status == "crashed"
    assert scores(results) == {"q1": (0, 2), "q2": (0, 1), "q3": (0, 1)}
    assert "no longer running" in messages(results)


# ---------------------------------------------------------------------------- judge logic, no sandbox

class FakeOracle:
    """Answers like an Oracle from local values (functions run here: test-only)."""

    def __init__(self, **names):
        self.names = names

    def get(self, name):
        if name not in self.names:
            raise NotDefined(name)
        value = self.names[name]
        return wire.Ref("function", name) if callable(value) else value

    def call(self, name, args=(), kwargs=None):
        return self.names[name](*args, **(kwargs or {}))


def write_test(directory, name, body):
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.py").write_text(
        "from otter.test_files import test_case\nOK_FORMAT = False\n"
        f"name = {name!r}\npoints = 1\n\n" + body)


def test_seed_is_set_while_the_tests_run(tmp_path):
    write_test(tmp_path, "s1", "@test_case()\ndef t():\n    import os\n    assert os.environ['NNASSIGN_SEED'] == '12345'\n")
    assert judge.run_tests(tmp_path, FakeOracle(), 12345)[0].score == 1
    assert judge.run_tests(tmp_path, FakeOracle(), 1)[0].score == 0


def test_modules_from_the_notebook_are_replaced_by_trusted_ones(tmp_path):
    write_test(tmp_path, "m1", "@test_case()\ndef t(np):\n    assert np.allclose(1, 2) is False\n")
    assert judge.run_tests(tmp_path, FakeOracle(np=wire.Ref("module", "numpy")), 0)[0].score == 1
    result = judge.run_tests(tmp_path, FakeOracle(np=wire.Ref("module", "unittest.mock")), 0)[0]
    assert result.score == 0 and "does not provide to tests" in result.cases[0].message


def test_a_broken_test_file_is_reported_and_the_others_still_run(tmp_path):
    # positional-only parameters make Otter's own error reporting fail
    write_test(tmp_path, "b1", "@test_case()\ndef t(softmax, /):\n    pass\n")
    write_test(tmp_path, "b2", "@test_case()\ndef t(softmax):\n    assert softmax(1) == 2\n")
    results = judge.run_tests(tmp_path, FakeOracle(softmax=lambda x: x + 1), 0)
    assert [(r.name, r.score) for r in results] == [("b1", 0), ("b2", 1)]
    assert "internal grading error" in results[0].cases[0].message
    (tmp_path / "b3.py").write_text("this is not python")
    with pytest.raises(judge.TestFileError, match="b3.py"):
        judge.run_tests(tmp_path, FakeOracle(), 0)


def test_question_selection_and_natural_order(tmp_path):
    for n in ("q10", "q2", "q1"):
        write_test(tmp_path, n, "@test_case()\ndef t():\n    pass\n")
    assert [r.name for r in judge.run_tests(tmp_path, FakeOracle(), 0)] == ["q1", "q2", "q10"]
    assert [r.name for r in judge.run_tests(tmp_path, FakeOracle(), 0, ["q10"])] == ["q10"]
    with pytest.raises(KeyError, match="q7"):
        judge.run_tests(tmp_path, FakeOracle(), 0, ["q7"])


def test_unavailable_names_fail_on_any_use():
    missing = judge.Unavailable("softmax", "is not defined in your notebook")
    for use in (lambda: missing(1), lambda: missing + 1, lambda: np.asarray(missing) + 1,
                lambda: missing["W1"], lambda: missing.shape, lambda: bool(missing), lambda: missing == 1):
        with pytest.raises(NameError, match="softmax is not defined in your notebook"):
            use()

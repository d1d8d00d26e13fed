"""The static scan of student/ (issue 8: the student release gives nothing away) and clean messages.

* the committed release: zero findings;
* each operation the contract's functions are made of is found in a planted test file, with its
  file, line and code; property checks, literals and the data loader are not findings;
* `nnassign release --check` fails on a planted solution-in-tests and prints the findings;
* the solution-notebook checks (markers, graded functions, question names) on small notebooks;
* `clean_message` keeps the assertion's message once and never a line of the test.
"""

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from nnassign.cli import main as cli
from nnassign.authoring import solution_mistakes, stub_problems
from nnassign.leakguard import scan, scan_source
from nnassign.messages import NO_MESSAGE, clean_message

REPO = Path(__file__).resolve().parents[1]


def ops(source):
    return [op for _, op in scan_source(textwrap.dedent(source))]


# ---------------------------------------------------------------- the committed release

def test_committed_student_release_computes_no_graded_function():
    findings = scan(REPO / "student")
    assert not findings, "\n".join(map(str, findings))


# ---------------------------------------------------------------- what is a finding

@pytest.mark.parametrize("code, op", [
    ("E = np.exp(Z - Z.max(axis=0))", "np.exp"),
    ("loss = -np.mean(np.log(A[labels, np.arange(m)]))", "np.log"),
    ("A1 = np.maximum(Z1, 0)", "np.maximum"),
    ("A1 = numpy.tanh(Z1)", "np.tanh"),
    ("Z1 = W1 @ X + b1", "@ (matrix product)"),
    ("Z1 = np.dot(W1, X)", "np.dot"),
    ("Z1 = W1.dot(X)", ".dot()"),
    ("Z1 = np.einsum('ij,jk->ik', W1, X)", "np.einsum"),
    ("A = E / E.sum(axis=0, keepdims=True)", "division by a sum over an axis"),
    ("A = E / np.sum(E, axis=0)", "division by a sum over an axis"),
    ("S = 1 / (1 + np.exp(-Z))", "np.exp"),
    ("D = (Z > 0).astype(float)", "a comparison with 0 as numbers"),
    ("dZ1 = back * (Z1 > 0)", "a comparison with 0 as numbers"),
    ("D = np.where(Z > 0, 1.0, 0.0)", "np.where on a comparison with 0"),
    ("A = np.where(0 < Z, Z, 0)", "np.where on a comparison with 0"),
    ("acc = np.mean(pred == labels)", "np.mean of a comparison"),
    ("acc = (pred == labels).mean()", "a comparison's .mean()"),
    ("labels = np.argmax(W2.dot(A1), axis=0)", "np.argmax of a matrix product"),
    ("np.add.at(cm, (y_true, y_pred), 1)", "np.add.at"),
    ("loss = -sum(math.log(a) for a in probabilities) / m", "math.log"),
    ("S = 1 / (1 + np.e ** -Z)", "e ** (an exponential)"),
])
def test_each_contract_operation_is_found(code, op):
    assert op in ops(code), ops(code)


@pytest.mark.parametrize("code", [
    "assert np.allclose(A.sum(axis=0), 1)",              # a property: columns sum to 1
    "assert np.allclose(softmax(Z + 1000.0), softmax(Z))",  # invariance to a shift
    "numeric = (f(Z + eps) - f(Z - eps)) / (2 * eps)",   # finite differences of the student's function
    "assert np.isclose(np.exp(1.0), 2.718281828459045)",  # literals only
    "labels = Y.argmax(axis=0)",                         # decoding one-hot labels
    "n = int(np.sum(shuffled[train_idx] == k))",         # counting
    "mask = (rng.random((784, 10)) < 0.3).astype(np.float64)",  # a random mask
    "y_pred = np.where(rng.random(size) < 0.5, y_true, other)",  # random mixing of test inputs
    "expected = np.array([[0.1, 0.9], [0.9, 0.1]])",     # a golden value
])
def test_properties_literals_and_counting_are_not_findings(code):
    assert ops(code) == []


def test_from_imports_and_aliases_are_followed():
    assert ops("import numpy as xp\nA = xp.exp(Z)") == ["np.exp"]
    assert ops("from math import log as ln\nL = ln(p)\nk = ln(10)") == ["math.log"]
    assert ops("from numpy import exp as e, log\nA = e(Z)\nB = log(A)") == ["np.exp", "np.log"]


def planted_release(tmp_path):
    """A copy of the committed student/ whose q3 tests compute softmax: the solution, in a test."""
    student = tmp_path / "student"
    shutil.copytree(REPO / "student", student)
    (student / "tests" / "q3.py").write_text(textwrap.dedent('''\
        from otter.test_files import test_case

        OK_FORMAT = False

        name = "q3"
        points = 2

        @test_case(points=None, hidden=False)
        def test_softmax_columns(softmax):
            import numpy as np
            Z = np.random.default_rng(0).normal(size=(10, 7))
            E = np.exp(Z - Z.max(axis=0))
            assert np.allclose(softmax(Z), E / E.sum(axis=0)), "softmax is wrong"
        '''))
    return student


def test_a_planted_solution_in_tests_is_found_with_file_line_and_code(tmp_path):
    student = planted_release(tmp_path)
    q3 = [f for f in scan(student) if f.file == "tests/q3.py"]
    assert [(f.line, f.op) for f in q3] == [(12, "np.exp"), (13, "division by a sum over an axis")]
    assert q3[0].code == "E = np.exp(Z - Z.max(axis=0))"
    assert str(q3[0]) == "tests/q3.py:12: np.exp: E = np.exp(Z - Z.max(axis=0))"


def test_the_notebook_and_readme_code_are_scanned_but_nn_data_is_whitelisted(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    nb = new_notebook(cells=[new_code_cell("%matplotlib inline\nimport numpy as np"),
                             new_code_cell("def softmax(Z):\n    E = np.exp(Z)\n    return E / E.sum(axis=0)")])
    nbformat.write(nb, student / "nn_from_scratch.ipynb")
    (student / "README.md").write_text("Run:\n\n    pip install -r requirements.txt\n\n```python\nA = np.tanh(Z)\n```\n")
    (student / "nn_data.py").write_text("import numpy as np\nX = np.exp(Z)\n")  # shipped on purpose
    found = {(f.file, f.cell, f.line, f.op) for f in scan(student)}
    assert found == {("nn_from_scratch.ipynb", 2, 2, "np.exp"),
                     ("nn_from_scratch.ipynb", 2, 3, "division by a sum over an axis"),
                     ("README.md", None, 6, "np.tanh")}
    cell = next(f for f in scan(student) if f.cell)
    assert str(cell) == "nn_from_scratch.ipynb, cell 2, line 2: np.exp: E = np.exp(Z)"


def test_release_check_fails_on_a_planted_solution_in_tests(tmp_path):
    """--check prints the findings, one per line, and exits non-zero (no traceback)."""
    student = planted_release(tmp_path)
    shutil.copytree(REPO / "autograder", tmp_path / "autograder")
    shutil.copytree(REPO / "solution", tmp_path / "solution", symlinks=False)
    shutil.copy(REPO / "assignment_config.yaml", tmp_path / "assignment_config.yaml")
    result = CliRunner().invoke(cli, ["release", "--check", "--no-run-tests", "--config",
                                      str(tmp_path / "assignment_config.yaml")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "compute what a graded function computes" in result.output
    assert "tests/q3.py:12: np.exp: E = np.exp(Z - Z.max(axis=0))" in result.output
    assert student.exists()


# ---------------------------------------------------------------- the solution notebook's markers

def solution(tmp_path, *code, tests=True, extra=()):
    """A one-question solution notebook whose solution cells are `code`."""
    cells = [new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 1"), new_markdown_cell("Implement it."),
             new_raw_cell("# BEGIN SOLUTION"), *(new_code_cell(textwrap.dedent(c)) for c in code),
             new_raw_cell("# END SOLUTION")]
    if tests:
        cells += [new_raw_cell("# BEGIN TESTS"), new_code_cell("def test_it(f):\n    assert f(1) == 2"),
                  new_raw_cell("# END TESTS")]
    cells += [new_raw_cell("# END QUESTION"), *extra]
    path = tmp_path / "sol.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


GOOD = '''\
def f(x):
    """Double x."""
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION
'''


def test_a_well_marked_solution_has_no_mistakes(tmp_path):
    assert solution_mistakes(solution(tmp_path, GOOD)) == []


def test_a_function_without_markers_is_named_with_cell_and_line(tmp_path):
    path = solution(tmp_path, GOOD + '\n\ndef g(x):\n    """Triple."""\n    return 3 * x\n')
    problems = solution_mistakes(path, "solution/sol.ipynb")
    assert [(p.cell, p.line) for p in problems] == [(4, 8)]
    assert str(problems[0]).startswith("solution/sol.ipynb, cell 4, line 8: def g has no # BEGIN SOLUTION")


def test_an_unterminated_begin_solution_is_named(tmp_path):
    swallowing = GOOD.replace("    # END SOLUTION\n", "") + '\n\ndef g(x):\n    """Triple."""\n    # BEGIN SOLUTION\n' \
        '    return 3 * x\n    # END SOLUTION\n'
    problems = solution_mistakes(solution(tmp_path, swallowing))
    assert [(p.cell, p.line) for p in problems] == [(4, 3)]
    assert "unterminated # BEGIN SOLUTION" in problems[0].text and "def g" in problems[0].text
    at_end = solution_mistakes(solution(tmp_path, GOOD.replace("    # END SOLUTION\n", "")))
    assert [(p.line, "no # END SOLUTION" in p.text) for p in at_end] == [(3, True)]


def test_markers_otter_does_not_recognise_are_named(tmp_path):
    problems = solution_mistakes(solution(tmp_path, GOOD.replace("# BEGIN SOLUTION", "#BEGIN SOLUTION")))
    assert any(p.line == 3 and "not a marker Otter knows" in p.text for p in problems), problems


def test_a_duplicate_question_name_is_named(tmp_path):
    again = [new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 2"), new_raw_cell("# END QUESTION")]
    problems = solution_mistakes(solution(tmp_path, GOOD, extra=again))
    assert [(p.cell, p.line) for p in problems] == [(10, 2)]
    assert "duplicate question name 'q1' (also cell 1)" in problems[0].text


def test_stub_check_names_a_line_below_end_solution(tmp_path):
    moved = GOOD.replace("    return 2 * x\n    # END SOLUTION\n", "    y = 2 * x\n    # END SOLUTION\n    return y + 0\n")
    path = solution(tmp_path, moved)
    student = tmp_path / "student.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell('def f(x):\n    """Double x."""\n    ...\n    return y + 0\n')]),
                   student)
    problems = stub_problems(path, student, "sol.ipynb")
    assert [(p.cell, p.line) for p in problems] == [(4, 6)]
    assert "`return y + 0` of def f reaches the student notebook" in problems[0].text
    nbformat.write(new_notebook(cells=[new_code_cell('def f(x):\n    """Double x."""\n    ...\n')]), student)
    assert stub_problems(path, student) == []
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), student)
    assert "def f is missing from the student notebook" in stub_problems(path, student)[0].text


# ---------------------------------------------------------------- messages students read

OTTER_FAILURE = ("❌ Test case failed\nError at line 26 in test q3:\n"
                 "      assert np.allclose(A, E / E.sum(axis=0)), 'columns sum to 1 but the values are wrong'\n"
                 "AssertionError: columns sum to 1 but the values are wrong")


def test_clean_message_keeps_the_message_once_and_no_source():
    assert clean_message(OTTER_FAILURE) == "columns sum to 1 but the values are wrong"


def test_clean_message_keeps_the_type_of_other_errors_and_multiline_messages():
    raw = "❌ Test case failed\nError at line 9 in test q1:\n      Y = one_hot(labels)\nTypeError: bad operand\nsecond line"
    assert clean_message(raw) == "TypeError: bad operand\nsecond line"
    assert clean_message("❌ Test case failed\nError at line 3 in test q1:\n  assert ok\nAssertionError: ") == NO_MESSAGE


def test_clean_message_leaves_other_text_alone():
    assert clean_message("✅ Test case passed") == "✅ Test case passed"
    assert clean_message("❌ internal grading error: KeyError: 'x'") == "❌ internal grading error: KeyError: 'x'"
    assert clean_message(None) == ""

"""docs/authoring.md is enough to author the notebook: it states every marker the solution uses, and
the `leaky_relu` question it walks through, taken cell by cell from the guide itself, releases with
full marks in a copy of the course folder; the same question with a wrong solution is refused."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from nnassign.config import load_config
from nnassign.presets.steps import locate
from nnassign.release import ReleaseError, build_release

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "authoring.md"
NOTEBOOK = "nn_from_scratch.ipynb"


def guide_cells(name="leaky_relu"):
    """The fenced blocks between `<!-- example: NAME -->` and `<!-- end example -->`, as notebook cells."""
    text = GUIDE.read_text()
    start = text.index(f"<!-- example: {name} -->")
    section = text[start:text.index("<!-- end example -->", start)]
    blocks = re.findall(r"^```(raw|markdown|python)\n(.*?)^```$", section, flags=re.M | re.S)
    make = {"raw": nbformat.v4.new_raw_cell, "markdown": nbformat.v4.new_markdown_cell,
            "python": nbformat.v4.new_code_cell}
    return [make[kind](body.rstrip("\n")) for kind, body in blocks]


def course_with(tmp_path, cells):
    """A copy of this repository's course folder with `cells` after the question defining relu."""
    root = tmp_path / "course"
    (root / "solution").mkdir(parents=True)
    for f in ("nn_checks.py", "nn_data.py"):
        shutil.copyfile((REPO / "solution" / f).resolve(), root / "solution" / f)
    shutil.copyfile(REPO / "assignment_config.yaml", root / "assignment_config.yaml")
    nb = nbformat.read(REPO / "solution" / NOTEBOOK, as_version=4)
    _, last = locate(nb, "def:relu")  # the activation question, as the guide says
    for cell in cells if nb.nbformat_minor < 5 else ():  # cell ids exist from nbformat 4.5 on
        cell.pop("id", None)
    nb.cells[last + 1:last + 1] = cells
    nbformat.write(nb, root / "solution" / NOTEBOOK)
    return load_config(root / "assignment_config.yaml")


def test_the_guide_states_every_marker_the_solution_uses():
    guide = GUIDE.read_text()
    nb = nbformat.read(REPO / "solution" / NOTEBOOK, as_version=4)
    used = set()
    for cell in nb.cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw":
            used.add(re.match(r"#\s*[A-Z ]+[A-Z]", first).group(0))
        elif cell.cell_type == "code":
            used |= set(re.findall(r"#\s*(?:BEGIN|END) [A-Z ]*[A-Z]|# SOLUTION\b|^# HIDDEN", cell.source, flags=re.M))
    assert used >= {"# BEGIN QUESTION", "# BEGIN SOLUTION", "# BEGIN TESTS", "# HIDDEN"}  # the scan sees them
    for marker in sorted(used | {"# BEGIN PROMPT", "# END PROMPT", "BEGIN TEST CONFIG", "autograder_files",
                                 "nn_checks.py", "# ASSIGNMENT CONFIG"}):
        assert marker in guide, f"docs/authoring.md does not mention {marker!r}"
    for rule in ("NNASSIGN_SEED", "returned None", "one function and its call", "Arguments are notebook names"):
        assert rule in guide


def test_the_guide_example_is_a_complete_question():
    cells = guide_cells()
    kinds = [c.cell_type for c in cells]
    assert kinds[0] == "raw" and cells[0].source.startswith("# BEGIN QUESTION")
    assert cells[-1].source == "# END QUESTION"
    assert sum(c.source.startswith("# HIDDEN") for c in cells) == 1
    assert [c.source for c in cells if c.cell_type == "raw"] == [
        "# BEGIN QUESTION\nname: leaky_relu\npoints: 2", "# BEGIN SOLUTION", "# END SOLUTION", "# BEGIN TESTS",
        "# END TESTS", "# END QUESTION"]


@pytest.mark.slow
def test_a_question_added_from_the_guide_alone_releases_with_full_marks(tmp_path, data_root):
    config = course_with(tmp_path, guide_cells())
    build_release(config, config.root, run_tests=True)  # grades the solution: refuses less than full marks
    public = (config.root / "student" / "tests" / "leaky_relu.py").read_text()
    full = (config.root / "autograder" / "tests" / "leaky_relu.py").read_text()
    assert "def test_leaky_relu(" in public and "test_leaky_relu_hidden" not in public
    assert "def test_leaky_relu_hidden(" in full and re.search(r"^points = 2", full, flags=re.M)
    student = "\n".join(c.source for c in nbformat.read(config.root / "student" / NOTEBOOK, as_version=4).cells)
    assert 'grader.check("leaky_relu")' in student
    stub = re.search(r"def leaky_relu\(Z, alpha=0.01\):\n(.*?)\n\n", student, flags=re.S).group(1)
    assert "np.where" not in stub and stub.strip().endswith("...")


@pytest.mark.slow
def test_a_wrong_solution_to_the_new_question_is_refused(tmp_path, data_root):
    cells = guide_cells()
    for cell in cells:  # the alpha argument ignored: the hidden test must catch it
        cell.source = cell.source.replace("return np.where(Z > 0, Z, alpha * Z)", "return np.where(Z > 0, Z, 0.01 * Z)")
    config = course_with(tmp_path, cells)
    with pytest.raises(ReleaseError, match=r"first leaky_relu test_leaky_relu_hidden: leaky_relu\(Z, alpha="):
        build_release(config, config.root, run_tests=True)
    assert not (config.root / "student").exists()

"""`nnassign release` and what the student gets (issue "Release builder and the student's experience").

Real builds in temporary folders (Otter Assign without running the solution's tests, ~2 s each):

* reproducibility: two builds are byte-identical, the committed release is current, and
  `check_release` names exactly the files a config change touches;
* leak guards: nothing of the solution, the reference answers or the hidden tests reaches
  `student/`, and a leaky solution stops the build with an error naming the file;
* instructor mistakes (issue 8), each refused naming file, cell and line: a graded function without
  markers, a solution line below `# END SOLUTION`, an unterminated `# BEGIN SOLUTION`, a duplicate
  question name, and a solution failing its own tests (the first failing test, by name and message);
* the config's effects: points, dataset, accuracy tiers, import-policy penalty, unknown names;
* invariants of the release: public tests are a subset of the autograder's, one check cell per
  code question, one answer cell per written question, stubs with the contract's signatures and
  docstrings that state shapes, the files the student needs, an autograder zip that can run;
* the student's experience, end to end: the untouched template in a real kernel (it survives, and
  grades to 0), a simulated student who fills in the reference code (full marks with
  `nnassign grade` and with Otter's own `otter run` of the autograder zip), an offline
  `grader.check("q3")` in a copy of `student/`, and `grader.export()` zips the grader accepts.

`tests/test_solution_notebook.py` covers the solution notebook itself and the test messages.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner
from nbclient import NotebookClient
from otter.test_files import ExceptionTestFile

from nnassign.cli import main as cli
from nnassign.config import load_config
from nnassign.leakguard import find_leaks
from nnassign.release import ReleaseError, build_release, check_release

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "nn_from_scratch.ipynb"
PLACEHOLDER = "_Type your answer here, replacing this text._"
# Single-threaded BLAS in every process we start: the machine is shared, oversubscribed OpenBLAS
# threads make the full-notebook runs several times slower.
QUIET_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


# ---------------------------------------------------------------- helpers

def make_root(folder, config_text=None, edit=None):
    """An assignment folder: assignment_config.yaml + solution/ (optionally edited). Returns its Config."""
    folder = Path(folder)
    (folder / "solution").mkdir(parents=True)
    nb = nbformat.read(REPO / "solution" / NOTEBOOK, as_version=4)
    if edit:
        edit(nb)
    nbformat.write(nb, folder / "solution" / NOTEBOOK)
    for extra in sorted((REPO / "solution").iterdir()):  # nn_data.py, nn_checks.py: what the notebook ships with
        if extra.is_file() and extra.suffix == ".py":
            shutil.copy(extra.resolve(), folder / "solution" / extra.name)
    (folder / "assignment_config.yaml").write_text(config_text or (REPO / "assignment_config.yaml").read_text())
    return load_config(folder / "assignment_config.yaml")


def config_with(**replacements):
    """The repository's assignment_config.yaml with top-level `key: value` lines replaced."""
    text = (REPO / "assignment_config.yaml").read_text()
    for key, value in replacements.items():
        text, n = re.subn(rf"^{key}:.*(\n[ ]+.*)*", f"{key}: {value}", text, count=1, flags=re.M)
        assert n == 1, key
    return text


def files_of(folder):
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def notebook_text(path):
    """Every cell's source, one after the other (what a student sees, not the JSON escaping)."""
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


def student_texts(student):
    """{relative path: text} of every file of a student folder, notebooks as cell sources."""
    texts = {}
    for path in sorted(Path(student).rglob("*")):
        if path.is_file():
            texts[str(path.relative_to(student))] = (
                notebook_text(path) if path.suffix == ".ipynb" else path.read_text(errors="replace"))
    return texts


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def has_ellipsis(source):
    """Whether code holds a `...` for the student to replace (docstrings may say "..." freely)."""
    return any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(ast.parse(source)))


def cases_of(path):
    """(question points, [(function name, declared points, hidden)]) of an Otter exception test file."""
    tf = ExceptionTestFile.from_file(str(path))
    source = Path(path).read_text()
    declared = re.findall(r"^@test_case\(points=(\w+|[\d.]+), hidden=(\w+)\)\ndef (\w+)\(", source, flags=re.M)
    assert len(declared) == len(tf.test_cases), path
    points = float(re.search(r"^points = ([\d.]+)$", source, flags=re.M).group(1))
    assert tf.possible == pytest.approx(points), path  # what Otter grades out of
    return points, [(name, None if p == "None" else float(p), h == "True") for p, h, name in declared]


def run(cmd, cwd=None, timeout=300, **env):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **QUIET_ENV, **env))


def solution_parts(solution=REPO / "solution" / NOTEBOOK):
    """What the solution notebook holds, sorted by who may see it.

    solution_lines: code lines inside `# BEGIN/END SOLUTION` or ending in `# SOLUTION`;
    answers: the reference answers (markdown inside raw solution blocks);
    hidden: the source of every hidden test cell; public_code / public_text: lines students may see.
    """
    nb = nbformat.read(solution, as_version=4)
    parts = {"solution_lines": set(), "answers": [], "hidden": [], "public_code": set(), "public_text": set()}
    in_solution = in_tests = False
    for cell in nb.cells:
        if cell.cell_type == "raw":
            marker = " ".join(cell.source.strip().upper().split()[:3])
            if marker.startswith(("# BEGIN SOLUTION", "# END SOLUTION")):
                in_solution = marker.startswith("# BEGIN")
            elif marker.startswith(("# BEGIN TESTS", "# END TESTS")):
                in_tests = marker.startswith("# BEGIN")
            continue
        lines = {ln.strip() for ln in cell.source.splitlines()}
        if cell.cell_type == "markdown":
            if in_solution:
                parts["answers"].append(cell.source)
            else:
                parts["public_text"] |= lines
        elif in_tests and cell.source.lstrip().upper().startswith("# HIDDEN"):
            parts["hidden"].append(cell.source)
        else:
            inside = False
            for line in cell.source.splitlines():
                s = line.strip()
                if re.fullmatch(r"#\s*BEGIN SOLUTION.*", s, flags=re.I):
                    inside = True
                elif re.fullmatch(r"#\s*END SOLUTION.*", s, flags=re.I):
                    inside = False
                elif inside or re.search(r"#\s*SOLUTION\s*$", s):
                    parts["solution_lines"].add(re.sub(r"#\s*SOLUTION\s*$", "", s).strip())
                else:
                    parts["public_code"].add(s)
    return parts


def squash(text):
    return " ".join(text.split())


# ---------------------------------------------------------------- the session's build

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """One build of the repository's solution and config, in a temporary assignment folder."""
    root = tmp_path_factory.mktemp("release")
    config = make_root(root)
    build_release(config, root, run_tests=False)
    return root


@pytest.fixture(scope="module")
def student_nb(release):
    return nbformat.read(release / "student" / NOTEBOOK, as_version=4)


# ---------------------------------------------------------------- 1. reproducible builds

def test_two_builds_are_byte_identical(release, tmp_path):
    # The second build goes through the CLI, in another folder, with another hash seed and time zone.
    config = make_root(tmp_path)
    done = run([sys.executable, "-m", "nnassign.cli", "release", "--no-run-tests", "--config",
                config.path], cwd=tmp_path, PYTHONHASHSEED="4242", TZ="Pacific/Kiritimati")
    assert done.returncode == 0, done.stdout + done.stderr
    for sub in ("student", "autograder"):
        first, second = files_of(release / sub), files_of(tmp_path / sub)
        assert sorted(first) == sorted(second), sub
        differ = [name for name in first if first[name] != second[name]]
        assert not differ, f"{sub}: these files differ between two builds: {differ}"
    with zipfile.ZipFile(release / "autograder" / "autograder.zip") as z:
        names = z.namelist()
        assert names == sorted(names) and len(names) == len(set(names))
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_committed_release_is_current():
    assert check_release(load_config(REPO / "assignment_config.yaml")) == []


def test_check_release_names_what_a_change_touches(tmp_path):
    config = make_root(tmp_path, config_with(points="{q3: 7}"))
    for sub in ("student", "autograder"):
        shutil.copytree(REPO / sub, tmp_path / sub)
    assert sorted(check_release(config)) == ["autograder/autograder.zip", "autograder/tests/q3.py",
                                             "student/tests/q3.py"]
    # The CLI's --check fails on it and says which files are stale.
    result = CliRunner().invoke(cli, ["release", "--check", "--no-run-tests", "--config", str(config.path)])
    assert result.exit_code != 0
    assert "stale" in result.output and "student/tests/q3.py" in result.output


# ---------------------------------------------------------------- 2. leak guards

def test_student_release_leaks_no_solution(release):
    parts = solution_parts(release / "solution" / NOTEBOOK)
    texts = student_texts(release / "student")
    assert "nn_from_scratch.ipynb" in texts and "tests/q3.py" in texts
    lines = {ln.strip() for text in texts.values() for ln in text.splitlines()}
    everything = squash("\n".join(texts.values()))
    public = parts["public_code"] | parts["public_text"]
    assert len(parts["solution_lines"]) > 100 and len(parts["answers"]) == 17 and len(parts["hidden"]) >= 14

    # Solution code: no line of it (comments included), unless the solution shows it publicly too.
    leaked = sorted(s for s in parts["solution_lines"] - public if len(s) >= 12 and s in lines)
    assert not leaked, leaked

    # Reference answers to [Q1]..[Q17]: no sentence of them.
    for answer in parts["answers"]:
        for sentence in re.split(r"(?<=[.!?])\s+", squash(answer)):
            if len(sentence) >= 40:
                assert sentence not in everything, sentence

    # Hidden tests: not their names, not their source, not a line of theirs that no public test has.
    raw = "\n".join(p.read_text(errors="replace") for p in (release / "student").rglob("*") if p.is_file())
    for source in parts["hidden"]:
        name = re.search(r"^def (\w+)\(", source, flags=re.M).group(1)
        assert not re.search(rf"\b{name}\b", raw), f"hidden test name {name} in student/"
        body = source.split("\n", 1)[1]  # without the # HIDDEN line
        assert squash(body) not in everything, name
        own = {s.strip() for s in body.splitlines()} - parts["public_code"]
        leaked = sorted(s for s in own if len(s) >= 24 and s in lines)
        assert not leaked, (name, leaked)

    # No Otter markers and no hidden test cases.
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN TESTS", "END TESTS", "# HIDDEN", "hidden=True"):
        assert marker not in raw, marker


def test_leak_guard_sees_hidden_tests(release, tmp_path):
    """The autograder's q3.py (public + hidden tests) put in place of the student's must be a leak."""
    student = tmp_path / "student"
    shutil.copytree(release / "student", student)
    assert find_leaks(release / "solution" / NOTEBOOK, student) == []
    shutil.copy(release / "autograder" / "tests" / "q3.py", student / "tests" / "q3.py")
    leaks = find_leaks(release / "solution" / NOTEBOOK, student)
    assert any(leak.startswith("tests/q3.py:") for leak in leaks), leaks


def _paste_hidden_test_into_markdown(nb):
    hidden = next(c for c in code_cells(nb) if "def test_softmax_hidden(" in c.source)
    at = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## 4. The network"))
    nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell(
        "What the grader will check, for reference:\n\n```python\n" + hidden.source + "\n```"))


def _solution_block_outside_a_question(nb):
    cell = next(c for c in code_cells(nb) if c.source.startswith("train_images, train_labels"))
    cell.source += ("\n# BEGIN SOLUTION\nreference_accuracy_of_the_instructor = 0.8811  # what we got\n"
                    "# END SOLUTION")


@pytest.mark.parametrize("edit", [_paste_hidden_test_into_markdown, _solution_block_outside_a_question],
                         ids=["hidden test pasted into markdown", "BEGIN SOLUTION outside a question"])
def test_a_leaky_solution_is_refused(tmp_path, edit):
    config = make_root(tmp_path, edit=edit)
    with pytest.raises(ReleaseError, match=re.escape(NOTEBOOK)) as error:
        build_release(config, tmp_path / "out", run_tests=False)
    assert "leak" in str(error.value)
    assert not (tmp_path / "out" / "student").exists()


# ---------------------------------------------------------------- 2b. instructor mistakes (issue 8)

def _cell(nb, prefix):
    """(index, cell) of the solution code cell that starts with `prefix`."""
    return next((i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith(prefix))


def _line_of(source, text):
    return next(i for i, ln in enumerate(source.splitlines(), 1) if ln.strip() == text)


def _no_markers(nb):
    """softmax without `# BEGIN SOLUTION` / `# END SOLUTION`: the whole solution would ship."""
    i, cell = _cell(nb, "def softmax(")
    cell.source = "\n".join(ln for ln in cell.source.splitlines() if "SOLUTION" not in ln)
    return i + 1, 1, "def softmax has no # BEGIN SOLUTION / # END SOLUTION markers"


def _moved_below_end(nb):
    """softmax's return line moved below `# END SOLUTION`: it would reach the student's stub."""
    i, cell = _cell(nb, "def softmax(")
    lines = cell.source.splitlines()
    ret = next(k for k, ln in enumerate(lines) if ln.strip().startswith("return E /"))
    moved = lines.pop(ret)
    end = next(k for k, ln in enumerate(lines) if ln.strip() == "# END SOLUTION")
    lines.insert(end + 1, moved)
    cell.source = "\n".join(lines)
    return i + 1, _line_of(cell.source, moved.strip()), f"`{moved.strip()}` of def softmax reaches the student notebook"


def _unterminated(nb):
    """relu's `# END SOLUTION` deleted: Otter would swallow relu_derivative's def and docstring."""
    i, cell = _cell(nb, "def relu(")
    cell.source = cell.source.replace("    return np.maximum(Z, 0)\n    # END SOLUTION\n", "    return np.maximum(Z, 0)\n", 1)
    return i + 1, _line_of(cell.source, "# BEGIN SOLUTION"), "unterminated # BEGIN SOLUTION"


def _duplicate_question(nb):
    """q4 renamed q3: Otter would merge the two questions and their points would vanish."""
    i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and re.search(r"^name: q4$", c.source, flags=re.M))
    nb.cells[i].source = nb.cells[i].source.replace("name: q4", "name: q3")
    return i + 1, 2, "duplicate question name 'q3'"


@pytest.mark.parametrize("mistake", [_no_markers, _moved_below_end, _unterminated, _duplicate_question],
                         ids=["function without markers", "line below END SOLUTION", "unterminated BEGIN SOLUTION",
                              "duplicate question name"])
def test_each_instructor_mistake_is_refused_naming_file_cell_and_line(tmp_path, mistake):
    where = {}
    config = make_root(tmp_path, edit=lambda nb: where.setdefault("it", mistake(nb)))
    cell, line, says = where["it"]
    result = CliRunner().invoke(cli, ["release", "--no-run-tests", "--config", str(config.path)])
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    assert f"solution/{NOTEBOOK}, cell {cell}, line {line}: " in result.output, result.output
    assert says in result.output, result.output
    problems = [ln for ln in result.output.splitlines() if ln.startswith(f"  solution/{NOTEBOOK}, cell")]
    assert len(problems) == 1, result.output  # one line per problem, nothing else
    assert not (tmp_path / "student").exists()


def _transposed_one_hot(nb):
    _, cell = _cell(nb, "def one_hot(")
    assert "    return Y\n" in cell.source
    cell.source = cell.source.replace("    return Y\n", "    return Y.T\n", 1)


def test_a_solution_failing_its_tests_is_refused_with_the_first_failing_test(tmp_path, data_root):
    """A transposed one_hot breaks q1 and everything downstream: the message names q1's test first."""
    config = make_root(tmp_path, edit=_transposed_one_hot)
    with pytest.raises(ReleaseError) as error:
        build_release(config, tmp_path, run_tests=True)
    message = str(error.value)
    first = re.search(r"the solution fails its own tests: first q1 (test_\w+): (.+?)(?: \(\d+ more failing|$)", message)
    assert first, message
    tests = cases_of_source(config.solution_path)
    assert first.group(1) in tests["q1"], (first.group(1), tests["q1"])
    assert "Error at line" not in message and "assert " not in message and "Traceback" not in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "student").exists()


def test_the_solution_passes_its_own_tests(tmp_path, data_root):
    """The same check on the real solution: it earns full marks, so the build goes through."""
    config = make_root(tmp_path)
    build_release(config, tmp_path, run_tests=True)
    assert (tmp_path / "student" / NOTEBOOK).exists() and (tmp_path / "autograder" / "autograder.zip").exists()


def cases_of_source(solution):
    """{question: [test function names]} of the solution notebook."""
    found, question = {}, None
    for cell in nbformat.read(solution, as_version=4).cells:
        m = re.search(r"^name: (\w+)$", cell.source, flags=re.M) if cell.cell_type == "raw" else None
        if m and cell.source.startswith("# BEGIN QUESTION"):
            question = m.group(1)
        elif cell.cell_type == "code" and question:
            found.setdefault(question, []).extend(re.findall(r"^def (test_\w+)\(", cell.source, flags=re.M))
    return found


# ---------------------------------------------------------------- 3. what the config changes

CUSTOM = {
    "points": "{q3: 7, q12: 1}",
    "dataset": "mnist",
    "accuracy_tiers": "[{min_accuracy: 0.5, points: 1}, {min_accuracy: 0.7, points: 2}, {min_accuracy: 0.9, points: 4}]",
    "import_policy": "{penalty_points: 3}",
}


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    root = tmp_path_factory.mktemp("custom")
    build_release(make_root(root, config_with(**CUSTOM)), root, run_tests=False)
    return root


def solution_points():
    nb = nbformat.read(REPO / "solution" / NOTEBOOK, as_version=4)
    found = {}
    for c in nb.cells:
        if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION"):
            conf = yaml.safe_load(c.source.split("\n", 1)[1])
            if not conf.get("manual"):
                found[conf["name"]] = conf["points"]
    return found


def test_points_per_question(custom, release):
    defaults = solution_points()
    assert len(defaults) == 15
    for root, expected in ((release, {"q14": 3, "import_policy": 5}), (custom, {"q3": 7, "q12": 1, "q14": 7, "import_policy": 3})):
        for sub in ("student", "autograder"):
            got = {p.stem: cases_of(p)[0] for p in (root / sub / "tests").glob("*.py")}
            assert got == {**defaults, **expected}, (root.name, sub)


def test_dataset_is_substituted(custom):
    for nb_path in (custom / "student" / NOTEBOOK, custom / "autograder" / NOTEBOOK):
        setting = re.findall(r'^DATASET = "([\w-]+)"', notebook_text(nb_path), flags=re.M)
        assert setting == ["mnist"], nb_path
    for sub in ("student", "autograder"):
        assert json.loads((custom / sub / "grading.json").read_text())["dataset"] == "mnist"
    readme = (custom / "student" / "README.md").read_text()
    assert "python nn_data.py mnist" in readme and "fashion" not in readme.lower()


def test_one_public_test_per_accuracy_tier(custom):
    tiers = [(0.5, 1), (0.7, 2), (0.9, 4)]
    for sub in ("student", "autograder"):
        path = custom / sub / "tests" / "q14.py"
        total, cases = cases_of(path)
        assert cases == [(f"test_accuracy_tier_{k}", p, False) for k, (_, p) in enumerate(tiers, 1)]
        assert total == sum(p for _, p in tiers) == 7
        assert re.findall(r"^\s*threshold = ([\d.]+)", path.read_text(), flags=re.M) == [str(t) for t, _ in tiers]
        assert "test_accuracy_threshold" not in path.read_text()
        grading = json.loads((custom / sub / "grading.json").read_text())
        assert grading["accuracy_tiers"] == [{"min_accuracy": t, "points": p} for t, p in tiers]
    # Otter grades the question out of the sum of its tiers (an untrained network gets none).
    tf = ExceptionTestFile.from_file(str(custom / "autograder" / "tests" / "q14.py"))
    tf.run({"params": None})
    assert (tf.score, tf.possible) == (0, 7)


def test_unknown_question_in_points_is_a_clear_error(tmp_path):
    config = make_root(tmp_path, config_with(points="{q3: 2, Q12: 4}"))
    with pytest.raises(ReleaseError) as error:
        build_release(config, tmp_path, run_tests=False)
    message = str(error.value)
    assert "points" in message and "'Q12'" in message and "q12" in message  # names it, lists the real ones
    line = next(i for i, ln in enumerate(config.path.read_text().splitlines(), 1) if ln.startswith("points:"))
    assert message.startswith(f"{config.path}, line {line}: points: no question named 'Q12'"), message
    result = CliRunner().invoke(cli, ["release", "--no-run-tests", "--config", str(config.path)])
    assert result.exit_code != 0 and "'Q12'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "student").exists()


# ---------------------------------------------------------------- 4. invariants of the release

def test_public_tests_are_autograder_tests(release):
    for path in sorted((release / "student" / "tests").glob("*.py")):
        student_cases = cases_of(path)[1]
        autograder = release / "autograder" / "tests" / path.name
        ag_cases = cases_of(autograder)[1]
        ag_source = autograder.read_text()
        assert student_cases and all(not hidden for _, _, hidden in student_cases), path.name
        for case in student_cases:
            assert case in ag_cases, (path.name, case)
            fn = re.search(rf"^@test_case\(.*\)\ndef {case[0]}\(.*?(?=^@test_case|\Z)", path.read_text(),
                           flags=re.M | re.S).group(0)
            assert fn in ag_source, (path.name, case[0])
        assert any(hidden for _, _, hidden in ag_cases) or path.stem in ("q14", "import_policy")
    assert {p.name for p in (release / "student" / "tests").glob("*.py")} == \
        {p.name for p in (release / "autograder" / "tests").glob("*.py")}


def test_autograder_zip_holds_the_autograder(release):
    ag = release / "autograder"
    with zipfile.ZipFile(ag / "autograder.zip") as z:
        for path in sorted((ag / "tests").glob("*.py")):
            assert z.read(f"tests/{path.name}") == path.read_bytes(), path.name
        assert {n for n in z.namelist() if n.startswith("tests/")} == {f"tests/{p.name}" for p in (ag / "tests").glob("*.py")}
        assert z.read("files/nn_data.py") == (release / "student" / "nn_data.py").read_bytes()
        assert z.read("files/grading.json") == (ag / "grading.json").read_bytes()
        assert json.loads(z.read("otter_config.json"))["assignment_name"] == "nn-from-scratch"


def test_autograder_zip_installs_numpy_and_matplotlib(release):
    """Gradescope builds its image from the zip: the notebook's imports must be installed there.

    Otter's default environment has otter-grader (hence pandas and numpy) but not matplotlib; the
    notebook's first cell imports matplotlib.pyplot, so on Gradescope that cell fails, `nn_data`,
    `DATASET`... are never defined and every submission scores (nearly) 0.
    """
    with zipfile.ZipFile(release / "autograder" / "autograder.zip") as z:
        wanted = z.read("environment.yml").decode()
        if "requirements.txt" in z.namelist():
            wanted += z.read("requirements.txt").decode()
    pins = dict(re.findall(r"^(numpy|matplotlib)==([\w.]+)", (release / "student" / "requirements.txt").read_text(), flags=re.M))
    for package in ("numpy", "matplotlib"):
        assert re.search(rf"\b{package}==", wanted), (
            f"the autograder zip does not install {package}: set `requirements:` in the ASSIGNMENT CONFIG "
            f"(e.g. {package}=={pins.get(package)})")


def test_one_check_cell_per_code_question(student_nb, release):
    questions = sorted(p.stem for p in (release / "autograder" / "tests").glob("*.py"))
    assert len(questions) == 15 and "import_policy" in questions
    checks = [m for c in code_cells(student_nb) for m in re.findall(r'^grader\.check\("(\w+)"\)\s*$', c.source, flags=re.M)]
    assert sorted(checks) == questions
    # Each check comes after the cell it checks: the question's functions are defined above it.
    order = [i for i, c in enumerate(student_nb.cells) if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert [re.search(r'"(\w+)"', student_nb.cells[i].source).group(1) for i in order][:14] == [f"q{k}" for k in range(1, 15)]


def test_one_empty_answer_cell_per_written_question(student_nb):
    cells = student_nb.cells
    assert sum(c.source.strip() == PLACEHOLDER for c in cells) == 17
    for k in range(1, 18):
        prompts = [i for i, c in enumerate(cells) if f"**[Q{k}]**" in c.source]
        assert len(prompts) == 1, k
        answer, after = cells[prompts[0] + 1], cells[prompts[0] + 2]
        assert answer.cell_type == "markdown" and answer.source.strip() == PLACEHOLDER, k
        assert after.source.strip() != PLACEHOLDER and "END QUESTION" in after.source, k


def design_contract():
    """{function: argument list} from the contract block of DESIGN.md."""
    design = (REPO / "DESIGN.md").read_text()
    block = re.search(r"## The network contract.*?```python\n(.*?)```", design, flags=re.S).group(1)
    block = " ".join(re.sub(r"#.*", "", line) for line in block.splitlines())
    found = {}
    for name, args in re.findall(r"(?<![\w.])([a-z_]+)\(([^()]*)\)", block):
        found[name] = ast.unparse(ast.parse(f"def f({args}): pass").body[0].args)
    return found


def stubs(nb):
    found = {}
    for cell in code_cells(nb):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = node
    return found


def test_stubs_have_the_contract_signatures(student_nb):
    contract = design_contract()
    assert len(contract) == 22 and contract["train"].endswith("activation='relu', eval_every=100")
    defined = stubs(student_nb)
    for name, args in contract.items():
        assert name in defined, f"no stub for {name}"
        node = defined[name]
        assert ast.unparse(node.args) == args, name
        assert ast.get_docstring(node), f"{name} has no docstring"
        body = [ast.unparse(b) for b in node.body[1:]]
        assert body == ["..."], f"{name}: the stub's body should be just `...`, got {body}"


SHAPE = r"\(\s*{d}\s*,\s*(?:{d}\s*(?:,\s*{d}\s*)*)?\)".format(d=r"(?:\d+|m|N|H|n|n_classes|n_in|n_hidden|n_out)")


def test_stub_docstrings_state_shapes(student_nb):
    """Students implement from the docstring: each says which shapes go in or come out."""
    defined = stubs(student_nb)
    missing = []
    for name in design_contract():
        doc = ast.get_docstring(defined[name]) or ""
        if not (re.search(SHAPE, doc) or "same shape" in doc):
            missing.append(f"{name}: {doc.splitlines()[0] if doc else '(none)'}")
    assert not missing, "docstrings without a shape:\n  " + "\n  ".join(missing)


def test_student_folder_has_what_the_student_needs(release):
    student = release / "student"
    assert (student / "nn_data.py").read_bytes() == (REPO / "src" / "nnassign" / "nn_data.py").read_bytes()
    imports = {alias.name.split(".")[0] for node in ast.walk(ast.parse((student / "nn_data.py").read_text()))
               if isinstance(node, ast.Import) for alias in node.names}
    imports |= {node.module.split(".")[0] for node in ast.walk(ast.parse((student / "nn_data.py").read_text()))
                if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert imports - set(sys.stdlib_module_names) == {"numpy"}, "nn_data.py must stay standalone (NumPy + stdlib)"

    requirements = dict(re.findall(r"^([\w-]+)==([\w.]+)", (student / "requirements.txt").read_text(), flags=re.M))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = dict(re.findall(r"^([\w-]+)==([\w.]+)", "\n".join(project), flags=re.M))
    for package in ("numpy", "matplotlib", "otter-grader", "ipykernel"):
        assert requirements.get(package) == pinned[package], f"student requirements.txt: {package}"

    readme = (student / "README.md").read_text()
    for needed in ("pip install -r requirements.txt", "python nn_data.py fashion-mnist", NOTEBOOK,
                   "grader.check", "grader.export", "NNASSIGN_DATA_MIRROR", "[Q1]", "[Q17]"):
        assert needed in readme, needed
    assert sorted(p.name for p in student.iterdir()) == ["README.md", "golden.json", "grading.json", "nn_data.py", NOTEBOOK,
                                                         "requirements.txt", "tests"]


# ---------------------------------------------------------------- 5. the student's experience

def simulated_student(release):
    """The template with every `...` cell and every written answer filled in from the autograder
    notebook (the solution in student form)."""
    template = nbformat.read(release / "student" / NOTEBOOK, as_version=4)
    solved = nbformat.read(release / "autograder" / NOTEBOOK, as_version=4)
    mine, theirs = code_cells(template), code_cells(solved)
    assert len(mine) == len(theirs)
    filled = 0
    for cell, reference in zip(mine, theirs):
        if cell.source != reference.source:
            assert has_ellipsis(cell.source), f"a non-answer cell differs:\n{cell.source[:200]}"
            cell.source, filled = reference.source, filled + 1
    assert filled == 14 and not any(has_ellipsis(c.source) for c in mine)
    answers = [solved.cells[i + 1].source for i, c in enumerate(solved.cells) if c.source.strip() == PLACEHOLDER]
    slots = [c for c in template.cells if c.source.strip() == PLACEHOLDER]
    assert len(answers) == len(slots) == 17
    for slot, answer in zip(slots, answers):
        slot.source = answer
    return template


@pytest.fixture(scope="module")
def experience(release, data_root, tmp_path_factory):
    """Everything a student does, then the grading of it.

    Runs, overlapping where possible: `otter run` of the autograder zip on the filled notebook; the
    untouched template in a real kernel (its last cell exports a zip); an export of the filled
    notebook; `nnassign grade` of the untouched template, its export and the filled export.
    """
    work = tmp_path_factory.mktemp("student-experience")
    filled_dir, kernel_dir = work / "filled", work / "kernel"
    shutil.copytree(release / "student", filled_dir)
    shutil.copytree(release / "student", kernel_dir)
    nbformat.write(simulated_student(release), filled_dir / NOTEBOOK)

    otter_out = work / "otter-run"
    otter_out.mkdir()
    otter_log = open(work / "otter-run.log", "w")
    otter = subprocess.Popen(
        [sys.executable, "-m", "otter", "run", "-a", str(release / "autograder" / "autograder.zip"),
         "-o", str(otter_out), "--no-logo", str(filled_dir / NOTEBOOK)],
        cwd=work, stdout=otter_log, stderr=subprocess.STDOUT, env=dict(os.environ, **QUIET_ENV))
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in QUIET_ENV.items():
                mp.setenv(key, value)
            executed = nbformat.read(kernel_dir / NOTEBOOK, as_version=4)
            NotebookClient(executed, timeout=300, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(kernel_dir)}}).execute()

        exported = run([sys.executable, "-c", "import otter; otter.Notebook('nn_from_scratch.ipynb').export(pdf=False, run_tests=False)"],
                       cwd=filled_dir)
        assert exported.returncode == 0, exported.stderr
        submissions = work / "submissions"
        submissions.mkdir()
        shutil.copy(release / "student" / NOTEBOOK, submissions / "untouched.ipynb")
        for name, folder in (("untouched-export.zip", kernel_dir), ("filled-export.zip", filled_dir)):
            zips = list(folder.glob("nn_from_scratch_*.zip"))
            assert len(zips) == 1, f"grader.export() wrote {zips} in {folder}"
            shutil.copy(zips[0], submissions / name)
        graded = run([sys.executable, "-m", "nnassign.cli", "grade", submissions, "--out", work / "out",
                      "--config", release / "assignment_config.yaml", "--workers", "2"], cwd=work)
        assert graded.returncode == 0, graded.stdout + graded.stderr
        otter.wait(timeout=300)
    finally:
        if otter.poll() is None:
            otter.kill()
        otter_log.close()
    results = {p.stem: json.loads(p.read_text()) for p in (work / "out" / "results").glob("*.json")}
    return {"executed": executed, "results": results, "otter_returncode": otter.returncode,
            "otter_log": (work / "otter-run.log").read_text(), "otter_results": otter_out / "results.json"}


def test_untouched_template_runs_to_the_end_in_a_kernel(experience):
    cells = code_cells(experience["executed"])
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "the kernel stopped early"
    errors = {i: o["ename"] for i, c in enumerate(cells) for o in c.outputs if o.output_type == "error"}
    assert errors, "the untouched template should fail somewhere"
    assert set(errors.values()) <= {"TypeError", "AttributeError", "NameError", "ValueError"}, errors
    for cell in cells:
        if cell.source.startswith("grader.check("):  # a check explains, it never crashes
            assert not any(o.output_type == "error" for o in cell.outputs), cell.source
            text = json.dumps([o.get("data", o.get("text", "")) for o in cell.outputs])
            assert re.search(r"AssertionError: [^\\]*(returned None|not set|not right yet|first)", text), \
                (cell.source, text[:500])
    last = cells[-1]
    assert last.source.lstrip().startswith("# Save your notebook") and "grader.export(" in last.source
    assert not any(o.output_type == "error" for o in last.outputs)
    assert "Your submission has been exported" in json.dumps([o.get("data", {}) for o in last.outputs])


def test_untouched_template_grades_to_zero(experience):
    results = experience["results"]
    for sub_id in ("untouched", "untouched-export"):
        r = results[sub_id]
        assert r["status"] == "graded", (sub_id, r["message"])
        assert r["total"] == 0 and r["possible"] == 36, sub_id
        assert r["tests"] and not any(t["passed"] for t in r["tests"]), sub_id


def test_simulated_student_gets_full_marks(experience):
    r = experience["results"]["filled-export"]
    assert r["status"] == "graded", r["message"]
    assert r["total"] == r["possible"] == 36, [(t["question"], t["name"], t["message"][:200]) for t in r["tests"] if not t["passed"]]
    assert r["message"] == "all tests passed" and not r["cell_errors"] and not r["policy_violations"]
    assert len(r["written_answers"]) == 17 and all(r["written_answers"].values())


def test_otter_run_of_the_autograder_zip_gives_full_marks(experience):
    assert experience["otter_returncode"] == 0, experience["otter_log"][-3000:]
    tests = json.loads(experience["otter_results"].read_text())["tests"]
    scored = {t["name"]: (t["score"], t["max_score"]) for t in tests if "max_score" in t and t["max_score"]}
    assert len(scored) == 15
    assert all(score == most for score, most in scored.values()), scored
    assert sum(most for _, most in scored.values()) == experience["results"]["filled-export"]["possible"]


CHECK_SCRIPT = """
import socket, sys

def no_network(*args, **kwargs):
    raise OSError("grader.check tried to use the network")

socket.socket.connect = socket.socket.connect_ex = no_network
socket.create_connection = no_network

import numpy as np
import otter

grader = otter.Notebook("nn_from_scratch.ipynb")

def softmax(Z):  # normalised over the wrong axis
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)

print(grader.check("q3"))
print("IMPORTED", sorted(m for m in sys.modules if m.startswith("nnassign")))
"""


def test_check_q3_works_offline_in_the_student_folder(release, tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(release / "student", folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNASSIGN")}
    done = subprocess.run([sys.executable, "-c", CHECK_SCRIPT], cwd=folder, capture_output=True, text=True,
                          timeout=120, env=dict(env, **QUIET_ENV, PYTHONPATH=""))
    assert done.returncode == 0, done.stderr
    assert "softmax normalised over axis=1 instead of axis=0" in done.stdout, done.stdout
    assert "IMPORTED []" in done.stdout  # only the student's files and packages were needed

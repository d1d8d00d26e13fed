"""The solution notebook's authoring mistakes, caught before and after Otter Assign.

    solution_mistakes(solution_path, label) -> [Problem]   markers, graded functions, question names
    stub_problems(solution_path, student_nb, label) -> [Problem]   every graded function is a bare stub
    walk(nb), graded_functions(nb)                           the notebook's Otter structure

Why: Otter Assign strips only what the markers enclose and says nothing when they are wrong. A
function without markers ships whole, a line moved below `# END SOLUTION` reaches the stub, an
unterminated block silently swallows the next stub, and a duplicate question name merges two
questions. Each Problem names the file, the cell and the line (both counted from 1).
"""

import ast
import re
from dataclasses import dataclass

import nbformat
import yaml


@dataclass(frozen=True)
class Problem:
    """One instructor mistake, located: cells and lines are counted from 1."""
    file: str
    cell: int
    line: int
    text: str

    def __str__(self):
        return f"{self.file}, cell {self.cell}, line {self.line}: {self.text}"


_RAW_BLOCK = re.compile(r"#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b", flags=re.I)
_OTTER_BEGIN = re.compile(r"(\s*)# BEGIN SOLUTION( NO PROMPT)?")  # otter.assign.solutions, verbatim
_ANY_MARKER = re.compile(r"#\s*(BEGIN|END)\s*SOLUTION\b|#\s*SOLUTION\s*$", flags=re.I)


def parse_code(source):
    """ast of a code cell; IPython magics and shell lines become comments."""
    return ast.parse(re.sub(r"(?m)^(\s*)([%!])", r"\1#\2", source))


def walk(nb):
    """(1-based cell number, cell, state) for every non-raw cell, plus the raw block cells' effects.

    state: question (its BEGIN QUESTION config or None), solution / tests (inside those raw blocks).
    """
    state = {"question": None, "solution": False, "tests": False}
    for number, cell in enumerate(nb.cells, 1):
        block = _RAW_BLOCK.match(cell.source.strip()) if cell.cell_type == "raw" else None
        if block:
            begin, kind = block.group(1).upper() == "BEGIN", block.group(2).lower()
            if kind == "question":
                try:
                    conf = yaml.safe_load(cell.source.strip().split("\n", 1)[1]) if begin else {}
                except (yaml.YAMLError, IndexError):
                    conf = {}
                conf = conf if isinstance(conf, dict) else {}
                state = {"question": (conf or {}) if begin else None, "solution": False, "tests": False}
            elif kind in ("solution", "tests"):
                state[kind] = begin
            yield number, cell, dict(state, marker=(block.group(1).upper(), kind))
            continue
        yield number, cell, dict(state)


def graded_cells(nb):
    """(cell number, cell) of the code cells holding a code question's solution (not its tests)."""
    return [(n, c) for n, c, s in walk(nb)
            if c.cell_type == "code" and s["question"] is not None and not s["question"].get("manual")
            and not s["tests"] and not c.source.lstrip().startswith("def test_") and "marker" not in s]


def graded_functions(nb):
    """{name: (cell number, line of its def)} of every function a code question's solution defines."""
    found = {}
    for number, cell in graded_cells(nb):
        try:
            tree = parse_code(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = (number, node.lineno)
    return found


# ---------------------------------------------------------------- the instructor's mistakes

def _marker_problems(source):
    """(line, text) for every misuse of the `# BEGIN SOLUTION` / `# END SOLUTION` lines of a cell."""
    problems, open_at, indent = [], None, 0
    lines = source.splitlines()
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if not _ANY_MARKER.search(s):
            if open_at and s and not s.startswith("#") and len(line) - len(line.lstrip()) < indent:
                problems.append((open_at, f"unterminated # BEGIN SOLUTION: the block runs on into line {i} "
                                          f"({s[:60]}), so Otter would drop that code from the student notebook"))
                open_at = None
            continue
        if re.fullmatch(r"#\s*begin\s*solution.*", s, flags=re.I):
            if not _OTTER_BEGIN.match(line) or s not in ("# BEGIN SOLUTION", "# BEGIN SOLUTION NO PROMPT"):
                problems.append((i, f"{s!r} is not a marker Otter knows: write exactly '# BEGIN SOLUTION'"))
            elif open_at:
                problems.append((open_at, f"unterminated # BEGIN SOLUTION: another one starts at line {i}"))
            open_at, indent = i, len(line) - len(line.lstrip())
        elif re.fullmatch(r"#\s*end\s*solution.*", s, flags=re.I):
            if s != "# END SOLUTION":
                problems.append((i, f"{s!r} is not a marker Otter knows: write exactly '# END SOLUTION'"))
            elif not open_at:
                problems.append((i, "# END SOLUTION without a # BEGIN SOLUTION before it"))
            open_at = None
        elif not re.search(r"# ?SOLUTION", line):  # what otter.assign.solutions recognises
            problems.append((i, f"{s[-40:]!r}: end the line with '# SOLUTION' exactly"))
    if open_at:
        problems.append((open_at, "unterminated # BEGIN SOLUTION: no # END SOLUTION before the end of the cell"))
    return problems


def _unmarked_functions(source):
    """(line, name) of each top-level def whose lines hold no solution marker."""
    lines = source.splitlines()
    out = []
    for node in parse_code(source).body:
        if isinstance(node, ast.FunctionDef):
            body = lines[node.lineno - 1:node.end_lineno]
            if not any(re.search(r"#\s*BEGIN SOLUTION|#\s*SOLUTION\s*$", ln, flags=re.I) for ln in body):
                out.append((node.lineno, node.name))
    return out


def solution_mistakes(solution_path, label=None):
    """Problems of the solution notebook that Otter Assign would turn into a leaky or broken release."""
    nb = nbformat.read(solution_path, as_version=4)
    label = label or str(solution_path)
    problems, names = [], {}
    graded = {n for n, _ in graded_cells(nb)}
    for number, cell, state in walk(nb):
        if state.get("marker") == ("BEGIN", "question") and state["question"].get("name") is not None:
            name = str(state["question"]["name"])
            if name in names:
                line = next((i for i, ln in enumerate(cell.source.strip().splitlines(), 1) if ln.startswith("name")), 1)
                problems.append(Problem(label, number, line, f"duplicate question name {name!r} (also cell "
                                        f"{names[name]}): Otter would merge the two questions and lose points"))
            names.setdefault(name, number)
        if cell.cell_type != "code":
            continue
        for line, text in _marker_problems(cell.source):
            problems.append(Problem(label, number, line, text))
        if number in graded:
            try:
                unmarked = _unmarked_functions(cell.source)
            except SyntaxError as e:
                problems.append(Problem(label, number, e.lineno or 1, f"does not parse: {e.msg}"))
                continue
            for line, name in unmarked:
                problems.append(Problem(label, number, line, f"def {name} has no # BEGIN SOLUTION / # END SOLUTION "
                                        "markers: its whole body would ship to students"))
    return problems


def _is_stub(stmt, prompt_lines):
    """Docstrings, `...`, `pass`, `x = ...`, `return ...` and lines the instructor marked as prompt."""
    value = getattr(stmt, "value", None)
    if isinstance(stmt, ast.Pass) or ast.unparse(stmt).strip() in prompt_lines:
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(value, ast.Constant) and (value.value is Ellipsis or isinstance(value.value, str))
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Return)):
        return isinstance(value, ast.Constant) and value.value is Ellipsis
    return False


def _prompt_lines(source):
    """Lines inside `# BEGIN PROMPT` ... `# END PROMPT`: template the student is meant to see."""
    inside, out = False, set()
    for line in source.splitlines():
        if line.strip() in ("# BEGIN PROMPT", "# END PROMPT"):
            inside = line.strip() == "# BEGIN PROMPT"
        elif inside and line.strip():
            out.add(line.strip())
    return out


def stub_problems(solution_path, student_nb_path, label=None):
    """Every graded function must reach the student notebook as a stub: docstring and `...` only.

    A missing stub (swallowed by an unterminated block) or any other line (solution code outside
    the markers, a line moved below `# END SOLUTION`) is named where it is in the solution.
    """
    solution = nbformat.read(solution_path, as_version=4)
    student = nbformat.read(student_nb_path, as_version=4)
    label = label or str(solution_path)
    defs = {}
    for cell in student.cells:
        if cell.cell_type == "code":
            try:
                defs.update({n.name: n for n in parse_code(cell.source).body if isinstance(n, ast.FunctionDef)})
            except SyntaxError:
                continue
    problems = []
    for name, (number, def_line) in graded_functions(solution).items():
        source = solution.cells[number - 1].source
        if name not in defs:
            problems.append(Problem(label, number, def_line, f"def {name} is missing from the student notebook "
                                    "(an unterminated # BEGIN SOLUTION above it?)"))
            continue
        prompts = _prompt_lines(source)
        for stmt in defs[name].body:
            if _is_stub(stmt, prompts):
                continue
            code = ast.unparse(stmt).splitlines()[0].strip()
            lines = source.splitlines()
            line = next((i for i, ln in enumerate(lines, 1) if i > def_line and ln.strip().startswith(code)), def_line)
            problems.append(Problem(label, number, line, f"`{code[:70]}` of def {name} reaches the student notebook: "
                                    "a solution line outside # BEGIN SOLUTION / # END SOLUTION?"))
    return problems

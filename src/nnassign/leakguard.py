"""Leak guards: what must never reach students, and the instructor mistakes that would send it there.

    solution_mistakes(solution_path) -> [Problem]         markers, graded functions, question names
    stub_problems(solution_path, student_nb) -> [Problem]  every graded function is a bare stub
    find_leaks(solution_path, student_dir) -> [str];  scan(student_dir) -> [Finding]

Why: Otter Assign strips only what the markers enclose. A missing marker, a line moved below
`# END SOLUTION` or an unterminated block ships the answer (or silently drops a stub), and public
tests that compute reference answers give the graded functions away. Each check names the file,
cell and line to fix; `scan` is a static (ast) search of student/ for the operations the contract's
functions are made of (exp, log, maximum, tanh, matrix products, ...) applied to non-literals.
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

NOTEBOOK_SUFFIX = ".ipynb"
# Shipped to students on purpose: the data loader (NumPy + stdlib), no graded function in it.
SCAN_WHITELIST = {"nn_data.py"}


@dataclass(frozen=True)
class Problem:
    """One instructor mistake, located: cells and lines are counted from 1."""
    file: str
    cell: int
    line: int
    text: str

    def __str__(self):
        return f"{self.file}, cell {self.cell}, line {self.line}: {self.text}"


@dataclass(frozen=True)
class Finding:
    """One line of student/ that computes (part of) a graded function."""
    file: str
    line: int
    op: str
    code: str
    cell: int | None = None

    def __str__(self):
        where = f"{self.file}, cell {self.cell}, line {self.line}" if self.cell else f"{self.file}:{self.line}"
        return f"{where}: {self.op}: {self.code}"


# ---------------------------------------------------------------- reading the solution

_RAW_BLOCK = re.compile(r"#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b", flags=re.I)
_OTTER_BEGIN = re.compile(r"(\s*)# BEGIN SOLUTION( NO PROMPT)?")  # otter.assign.solutions, verbatim
_ANY_MARKER = re.compile(r"#\s*(BEGIN|END)\s*SOLUTION\b|#\s*SOLUTION\s*$", flags=re.I)


def _parse(source):
    """ast of a code cell; IPython magics and shell lines become comments."""
    return ast.parse(re.sub(r"(?m)^(\s*)([%!])", r"\1#\2", source))


def _is_hidden_test(cell):
    """Otter's two ways to hide a test cell: a first line `# HIDDEN` (exception format), or `hidden: true`."""
    return cell.cell_type == "code" and bool(cell.source.lstrip().upper().startswith("# HIDDEN")
                                             or re.search(r"^\s*hidden:\s*true", cell.source, flags=re.M | re.I))


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
            tree = _parse(cell.source)
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
    for node in _parse(source).body:
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
                defs.update({n.name: n for n in _parse(cell.source).body if isinstance(n, ast.FunctionDef)})
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


# ---------------------------------------------------------------- solution lines and hidden tests

def _code_lines(text):
    return {ln.strip() for ln in text.splitlines()}


def hidden_test_names(solution_path):
    """Names of the hidden test functions: they must not appear anywhere in the student release."""
    nb = nbformat.read(solution_path, as_version=4)
    return {name for cell in nb.cells if _is_hidden_test(cell)
            for name in re.findall(r"^def (\w+)\(", cell.source, flags=re.M)}


def secret_lines(solution_path):
    """Lines only the solution may hold: solution code, reference answers, hidden tests.

    A line that also appears in a public part of the solution (a docstring, a prompt, a public
    test) is not secret: the student is meant to see it.
    """
    nb = nbformat.read(solution_path, as_version=4)
    secret, public = set(), set()
    inside = {"SOLUTION": False, "TESTS": False}  # which Otter blocks the current cell is in
    for cell in nb.cells:
        if cell.cell_type == "raw":
            block = re.match(r"#\s*(BEGIN|END)\s+(SOLUTION|TESTS)\b", cell.source.strip(), flags=re.I)
            if block:
                inside[block.group(2).upper()] = block.group(1).upper() == "BEGIN"
            continue
        if inside["TESTS"] and _is_hidden_test(cell):
            secret |= _code_lines(cell.source)
        elif inside["SOLUTION"] and cell.cell_type == "markdown":
            secret |= _code_lines(cell.source)
        elif cell.cell_type == "code":
            in_lines = False  # between `# BEGIN SOLUTION` and `# END SOLUTION` comment lines
            for line in cell.source.splitlines():
                s = line.strip()
                if re.fullmatch(r"#\s*BEGIN SOLUTION.*", s, flags=re.I):
                    in_lines = True
                elif re.fullmatch(r"#\s*END SOLUTION.*", s, flags=re.I):
                    in_lines = False
                elif in_lines or re.search(r"#\s*SOLUTION\s*$", s):
                    secret.add(re.sub(r"#\s*SOLUTION\s*$", "", s).strip())
                else:
                    public.add(s)
        else:
            public |= _code_lines(cell.source)
    # Short or structural lines (`return A`, `"""`, `)`) carry no solution on their own.
    return {s for s in secret - public if len(s) >= 24 and not s.startswith("#")}


def find_leaks(solution_path, student_dir):
    """'<file>: <line>' for each secret line of the solution and each hidden test name found in student_dir."""
    secrets = secret_lines(solution_path)
    names = hidden_test_names(solution_path)
    leaks = []
    for path in sorted(Path(student_dir).rglob("*")):
        if path.is_dir() or path.suffix not in (".py", ".ipynb", ".md", ".json", ".txt", ".yaml", ".yml"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix == NOTEBOOK_SUFFIX:  # compare cell lines, not JSON-escaped text
            nb = json.loads(text)
            text = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
        lines = _code_lines(text)
        for s in sorted(secrets & lines):
            leaks.append(f"{path.relative_to(student_dir)}: {s[:100]}")
        for name in sorted(n for n in names if re.search(rf"\b{n}\b", text)):
            leaks.append(f"{path.relative_to(student_dir)}: hidden test {name}")
    return leaks


# ---------------------------------------------------------------- the static scan of student/

# numpy functions the contract's functions are built from (softmax, losses, activations, the
# forward and backward passes, predict, the confusion matrix).
NUMPY_OPS = {"exp", "expm1", "log", "log1p", "log2", "log10", "logaddexp", "maximum", "tanh", "dot",
             "matmul", "einsum", "inner", "outer", "tensordot"}
PRODUCTS = {"dot", "matmul", "einsum", "inner", "outer", "tensordot"}
REDUCTIONS = {"sum", "mean"}
# Not flagged, on purpose: argmax of anything but a product (decoding one-hot labels), sums of a
# comparison (counting), comparisons with anything but 0 as numbers (random masks).


def _literal(node):
    """Whether a node is made of constants only (numbers, strings, lists/tuples of them, -1, 2 * 3)."""
    return all(isinstance(n, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp, ast.BinOp, ast.operator,
                              ast.unaryop, ast.Load, ast.expr_context)) for n in ast.walk(node))


def _step_at_zero(node):
    """`Z > 0` and the like: the step function that is ReLU's derivative."""
    return (isinstance(node, ast.Compare) and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE))
            and any(isinstance(c, ast.Constant) and c.value == 0 for c in (node.left, node.comparators[0])))


class _Scanner(ast.NodeVisitor):
    def __init__(self):
        self.numpy = {"np", "numpy"}  # module aliases
        self.direct = {}              # from numpy import exp [as e] -> {"e": "exp"}
        self.found = []               # (line, op)

    def visit_Import(self, node):
        self.numpy |= {a.asname or a.name for a in node.names if a.name == "numpy"}

    def visit_ImportFrom(self, node):
        if node.module == "numpy":
            self.direct.update({a.asname or a.name: a.name for a in node.names})

    def _np_name(self, func):
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.numpy:
            return func.attr
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
                and isinstance(func.value.value, ast.Name) and func.value.value.id in self.numpy:
            return f"{func.value.attr}.{func.attr}"  # np.add.at
        if isinstance(func, ast.Name) and func.id in self.direct:
            return self.direct[func.id]
        return None

    def _reduction_with_axis(self, node):
        return (isinstance(node, ast.Call) and (self._np_name(node.func) in REDUCTIONS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in REDUCTIONS))
            and (any(k.arg == "axis" for k in node.keywords) or (self._np_name(node.func) and len(node.args) > 1)))

    def visit_Call(self, node):
        name = self._np_name(node.func)
        args = [*node.args, *(k.value for k in node.keywords)]
        if name in NUMPY_OPS and not all(_literal(a) for a in args):
            self.found.append((node.lineno, f"np.{name}"))
        elif name == "where" and node.args and isinstance(node.args[0], ast.Compare):
            self.found.append((node.lineno, "np.where on a comparison"))
        elif name == "add.at":
            self.found.append((node.lineno, "np.add.at"))
        elif name in ("mean", "average") and node.args and isinstance(node.args[0], ast.Compare):
            self.found.append((node.lineno, f"np.{name} of a comparison"))
        elif name == "argmax" and node.args and self._has_product(node.args[0]):
            self.found.append((node.lineno, "np.argmax of a matrix product"))
        elif isinstance(node.func, ast.Attribute) and name is None and not _literal(node.func.value):
            attr, target = node.func.attr, node.func.value
            if attr == "dot":
                self.found.append((node.lineno, ".dot()"))
            elif attr == "argmax" and self._has_product(target):
                self.found.append((node.lineno, ".argmax() of a matrix product"))
            elif attr == "mean" and isinstance(target, ast.Compare):
                self.found.append((node.lineno, "a comparison's .mean()"))
            elif attr == "astype" and _step_at_zero(target):
                self.found.append((node.lineno, "a comparison with 0 as numbers"))
        self.generic_visit(node)

    def _has_product(self, node):
        return any((isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult))
                   or (isinstance(n, ast.Call) and (self._np_name(n.func) in PRODUCTS
                                                    or isinstance(n.func, ast.Attribute) and n.func.attr == "dot"))
                   for n in ast.walk(node))

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.MatMult) and not (_literal(node.left) and _literal(node.right)):
            self.found.append((node.lineno, "@ (matrix product)"))
        elif isinstance(node.op, ast.Div) and (self._reduction_with_axis(node.right) or self._reduction_with_axis(node.left)):
            self.found.append((node.lineno, "division by a sum over an axis"))
        elif isinstance(node.op, (ast.Mult, ast.Add, ast.Sub)) and (_step_at_zero(node.left) or _step_at_zero(node.right)):
            self.found.append((node.lineno, "a comparison with 0 as numbers"))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if isinstance(node.op, ast.MatMult):
            self.found.append((node.lineno, "@= (matrix product)"))
        self.generic_visit(node)


def scan_source(source):
    """[(line, operation)] of the code that computes what a graded function computes. Raises SyntaxError."""
    scanner = _Scanner()
    scanner.visit(_parse(source))
    return sorted(set(scanner.found))


def _code_blocks(markdown):
    """(first line number, code) of each fenced or indented block of a Markdown text."""
    lines, blocks, i = markdown.splitlines(), [], 0
    while i < len(lines):
        fence = re.match(r"\s*(```+|~~~+)", lines[i])
        if fence:
            j = next((k for k in range(i + 1, len(lines)) if lines[k].strip().startswith(fence.group(1))), len(lines))
            blocks.append((i + 2, "\n".join(lines[i + 1:j])))
            i = j + 1
        elif lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            blocks.append((i + 1, "\n".join(ln[4:] for ln in lines[i:j])))
            i = j
        else:
            i += 1
    return blocks


def _units(path):
    """(cell or None, first line, source) of the code of one file of student/."""
    text = path.read_text(errors="replace")
    if path.suffix == ".py":
        return [(None, 1, text)]
    if path.suffix == NOTEBOOK_SUFFIX:
        nb = nbformat.reads(text, as_version=4)
        return [(n, 1, c.source) for n, c in enumerate(nb.cells, 1) if c.cell_type == "code"]
    if path.suffix == ".md":
        return [(None, first, code) for first, code in _code_blocks(text)]
    return []


def scan(student_dir):
    """Findings: the lines of student/ that compute (part of) a graded function, file by file."""
    student_dir = Path(student_dir)
    findings = []
    for path in sorted(p for p in student_dir.rglob("*") if p.is_file()):
        rel = str(path.relative_to(student_dir))
        if rel in SCAN_WHITELIST:
            continue
        for cell, first, source in _units(path):
            try:
                hits = scan_source(source)
            except SyntaxError:
                if path.suffix == ".md":
                    continue  # a shell or prose block, not Python
                findings.append(Finding(rel, first, "does not parse", "", cell))
                continue
            lines = source.splitlines()
            findings += [Finding(rel, first + line - 1, op, lines[line - 1].strip()[:120], cell) for line, op in hits]
    return findings

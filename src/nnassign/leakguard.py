"""Leak guards: nothing of the solution, the hidden tests or a graded function's computation in student/.

    find_leaks(solution_path, student_dir) -> [str]   solution lines and hidden test names found there
    scan(student_dir) -> [Finding]                     lines that compute what a graded function computes
    scan_source(code) -> [(line, operation)]

Why: public tests that compute reference answers give the graded functions away just like a leaked
solution line does. `scan` is a static (ast) search of student/ for the operations the contract's
functions are made of (exp, log, maximum, tanh, matrix products, ...) applied to non-literals.
The solution notebook's authoring mistakes are authoring.py's.
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .authoring import parse_code

NOTEBOOK_SUFFIX = ".ipynb"
# Shipped to students on purpose: the data loader (NumPy + stdlib), no graded function in it.
SCAN_WHITELIST = {"nn_data.py"}


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


def _is_hidden_test(cell):
    """Otter's two ways to hide a test cell: a first line `# HIDDEN` (exception format), or `hidden: true`."""
    return cell.cell_type == "code" and bool(cell.source.lstrip().upper().startswith("# HIDDEN")
                                             or re.search(r"^\s*hidden:\s*true", cell.source, flags=re.M | re.I))


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
MATH_OPS = {"exp", "expm1", "log", "log1p", "log2", "log10", "tanh"}  # the same, one number at a time
REDUCTIONS = {"sum", "mean"}
# Not flagged, on purpose: argmax of anything but a product (decoding one-hot labels), sums of a
# comparison (counting), comparisons with anything but 0 as numbers or in np.where (random masks).


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
        self.math, self.from_math = {"math"}, {}  # the same for the math module
        self.found = []               # (line, op)

    def visit_Import(self, node):
        self.numpy |= {a.asname or a.name for a in node.names if a.name == "numpy"}
        self.math |= {a.asname or a.name for a in node.names if a.name == "math"}

    def visit_ImportFrom(self, node):
        if node.module == "numpy":
            self.direct.update({a.asname or a.name: a.name for a in node.names})
        elif node.module == "math":
            self.from_math.update({a.asname or a.name: a.name for a in node.names})

    def _math_name(self, func):
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.math:
            return func.attr
        return self.from_math.get(func.id) if isinstance(func, ast.Name) else None

    def _is_e(self, node):
        return (isinstance(node, ast.Attribute) and node.attr == "e" and isinstance(node.value, ast.Name)
                and node.value.id in self.numpy | self.math)

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
        elif self._math_name(node.func) in MATH_OPS and not all(_literal(a) for a in args):
            self.found.append((node.lineno, f"math.{self._math_name(node.func)}"))
        elif name == "where" and node.args and _step_at_zero(node.args[0]):
            self.found.append((node.lineno, "np.where on a comparison with 0"))
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
        elif isinstance(node.op, ast.Pow) and self._is_e(node.left) and not _literal(node.right):
            self.found.append((node.lineno, "e ** (an exponential)"))
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
    scanner.visit(parse_code(source))
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

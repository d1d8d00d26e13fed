"""The import policy: the model may use only NumPy, Matplotlib and the standard library.

A static scan of the notebook's code cells (nothing is executed) finds `import x`, `from x import y`,
`__import__("x")` and `importlib.import_module("x")`; the sandbox also reports what ended up in
`sys.modules`, which catches imports hidden behind `exec` or string tricks (without a line number).
"""

import ast
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Violation:
    cell: int        # index of the code cell in the notebook (0-based over all cells), -1 if unknown
    line: int        # line within the cell, 0 if unknown
    module: str
    code: str

    def describe(self):
        where = f"cell {self.cell}, line {self.line}" if self.cell >= 0 else "at run time"
        return f"{self.module} is not allowed ({where}: {self.code})"

    def to_dict(self):
        return asdict(self)


def _python_source(cell_source):
    """IPython lines (%magic, !shell) are not Python; blank them so line numbers stay true."""
    return "\n".join("" if re.match(r"\s*[%!]", ln) else ln for ln in cell_source.splitlines())


def _imported_modules(tree):
    """(line, top-level module name) of every import in an AST."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("__import__", "import_module"):
                yield node.lineno, node.args[0].value.split(".")[0]


def forbidden(policy):
    return set(policy["forbidden"]) - set(policy["allowed_for_data"])


def scan_notebook(nb, policy):
    """Static violations in a notebook (nbformat node), in cell order."""
    banned = forbidden(policy)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_python_source(cell.source))
        except SyntaxError:
            continue  # the sandbox reports it as a cell error
        lines = cell.source.splitlines()
        for lineno, module in _imported_modules(tree):
            if module in banned:
                found.append(Violation(index, lineno, module, lines[lineno - 1].strip()[:120]))
    return found


def runtime_violations(loaded_modules, static, policy):
    """Forbidden modules the running notebook loaded that the static scan did not see."""
    seen = {v.module for v in static}
    return [Violation(-1, 0, m, "loaded at run time") for m in sorted(set(loaded_modules) & forbidden(policy))
            if m not in seen]

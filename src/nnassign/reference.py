"""The reference implementation: the definitions of the solution notebook, without running it.

Tests, benchmarks and the judge need the instructor's ``softmax``, ``train``, ... but not the data
loading, the plots or the training run. ``load_reference()`` therefore executes only the
*definitions* of ``solution/nn_from_scratch.ipynb``. The rule, applied to the notebook as saved:

1. Code cells are visited in notebook order. Cells inside an Otter ``# BEGIN TESTS`` ... ``# END TESTS``
   block (raw-cell markers) are skipped: they are checks, not part of the implementation.
2. In every other code cell, lines that start with ``%`` or ``!`` (IPython magics and shell escapes)
   are dropped, and the rest is parsed as Python (a syntax error is an error: the notebook is broken).
3. Of each cell's top-level statements, only these are executed, in order:

   * ``import ...`` and ``from ... import ...``;
   * ``def`` and ``class`` statements (with their decorators);
   * assignments of a literal to plain names, ``name = <literal>`` or ``name: T = <literal>``, where
     ``<literal>`` is anything ``ast.literal_eval`` accepts (numbers, strings, ``None``/``True``/``False``,
     tuples/lists/dicts/sets of those). This keeps ``DATASET = "fashion-mnist"`` and the tuned
     ``hidden_neurons``, ``learning_rate``, ``epochs``.

   Every other statement is skipped: calls, loops, ``with``, ``x = f(...)``, assignments to attributes
   or subscripts. Nothing expensive or with side effects runs (no data loading, no training, no plots).

The notebook's folder is put at the front of ``sys.path`` while the definitions run, so that
``import nn_data`` finds the copy next to the notebook.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

DEFAULT_NOTEBOOK = Path(__file__).resolve().parents[2] / "solution" / "nn_from_scratch.ipynb"

_CACHE: dict[tuple[str, int, int], dict] = {}


def _is_literal_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False

    def plain_names(t):
        if isinstance(t, ast.Name):
            return True
        return isinstance(t, (ast.Tuple, ast.List)) and all(plain_names(e) for e in t.elts)

    if not all(plain_names(t) for t in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def is_definition(node: ast.stmt) -> bool:
    """Whether a top-level statement belongs to the reference (see the module docstring)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    return _is_literal_assignment(node)


def _raw_marker(cell) -> str:
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return " ".join(first.lower().split())


def definition_cells(nb) -> list[tuple[int, ast.Module]]:
    """(cell index, module holding only its definition statements) for every code cell that has some."""
    selected = []
    in_tests = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "raw":
            marker = _raw_marker(cell)
            if marker.startswith("# begin tests"):
                in_tests = True
            elif marker.startswith("# end tests"):
                in_tests = False
            continue
        if cell.cell_type != "code" or in_tests:
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as e:
            raise SyntaxError(f"code cell {index} of the solution notebook does not parse: {e}") from None
        kept = [node for node in tree.body if is_definition(node)]
        if kept:
            selected.append((index, ast.Module(body=kept, type_ignores=[])))
    return selected


def _execute(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "nnassign_reference", "__file__": str(path)}
    folder = str(path.parent)
    sys.path.insert(0, folder)
    try:
        for index, module in definition_cells(nb):
            exec(compile(module, f"<{path.name} cell {index}>", "exec"), namespace)
    finally:
        sys.path.remove(folder)
    return namespace


def load_reference(notebook: str | Path | None = None) -> dict:
    """The namespace of the solution notebook's definitions (functions, imports, literal settings).

    Cached per notebook file (and its modification time and size, so an edited notebook is reloaded).
    The returned dict is a shallow copy: adding or replacing names in it does not affect the cache,
    but the functions themselves share one module namespace, exactly as in the notebook.
    """
    path = Path(notebook) if notebook is not None else DEFAULT_NOTEBOOK
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"solution notebook not found: {path}")
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        _CACHE[key] = _execute(path)
    return dict(_CACHE[key])

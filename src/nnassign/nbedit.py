"""Small, pure notebook edits that play a student: fill stubs from the solution, insert a cell, set a
hyperparameter. The bundled examples (examples/make_examples.py) and the test corpus are built with
them. Every function returns a new notebook and leaves its input unchanged.
"""

import ast
import copy
import re

import nbformat

CHECK_CELL = re.compile(r'\s*grader\.check\("(\w+)"\)\s*')
STUB = re.compile(r"^\s*\.\.\.\s*$|=\s*\.\.\.\s*$", re.M)  # Otter Assign's `...` in place of a solution


def code_cells(nb):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def find(nb, pattern):
    """Index of the one code cell whose source matches ``pattern`` (re.M)."""
    hits = [i for i in code_cells(nb) if re.search(pattern, nb.cells[i].source, re.M)]
    if len(hits) != 1:
        raise ValueError(f"expected one code cell matching {pattern!r}, found {len(hits)}")
    return hits[0]


def edit(nb, pattern, old, new):
    """``old`` (a regex that must match once) replaced by ``new`` in the cell matching ``pattern``."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[find(nb, pattern)]
    source, count = re.subn(old, new, cell.source, flags=re.M)
    if count != 1:
        raise ValueError(f"{old!r} not found once in the cell matching {pattern!r}")
    cell.source = source
    return nb


def set_line(nb, name, value):
    """The one-line assignment ``name = ...`` replaced by ``name = value``."""
    return edit(nb, rf"^{name} = ", rf"^{name} = .*$", f"{name} = {value}")


def new_cell(nb, source):
    """A code cell as the notebook's format version wants it (cell ids only from nbformat 4.5 on)."""
    cell = nbformat.v4.new_code_cell(source)
    if nb.nbformat_minor < 5:
        del cell["id"]
    return cell


def insert(nb, after_pattern, source):
    """A code cell inserted after the cell matching ``after_pattern``."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(find(nb, after_pattern) + 1, new_cell(nb, source))
    return nb


def append(nb, source):
    """A code cell at the very end (everything else has run before it)."""
    nb = copy.deepcopy(nb)
    nb.cells.append(new_cell(nb, source))
    return nb


def delete(nb, *patterns):
    nb = copy.deepcopy(nb)
    drop = {find(nb, p) for p in patterns}
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in drop]
    return nb


def defined_names(source):
    """Top-level functions and assigned names of a cell (what a stub cell hands in)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return frozenset(names)


def stub_questions(template):
    """{index of a stub cell: question}: a stub belongs to the next ``grader.check("qN")``."""
    out, pending = {}, []
    for i in code_cells(template):
        source = template.cells[i].source
        check = CHECK_CELL.fullmatch(source)
        if check:
            out.update({j: check.group(1) for j in pending})
            pending = []
        elif STUB.search(source):
            pending.append(i)
    if pending:
        raise ValueError("stub cells after the last grader.check")
    return out


def fill(template, solution, questions):
    """The template with the stubs of ``questions`` replaced by the solution's cells defining the same names."""
    nb = copy.deepcopy(template)
    by_names = {defined_names(solution.cells[i].source): solution.cells[i].source for i in code_cells(solution)}
    stubs = stub_questions(template)
    unknown = set(questions) - set(stubs.values())
    if unknown:
        raise ValueError(f"no stub cells for {sorted(unknown)}")
    for i, q in stubs.items():
        if q in questions:
            names = defined_names(template.cells[i].source)
            if names not in by_names:
                raise ValueError(f"the solution has no cell defining exactly {sorted(names)}")
            nb.cells[i].source = by_names[names]
    return nb

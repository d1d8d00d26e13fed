"""Notebook transformation steps for presets: small pure functions, like nbgrader's preprocessors.

    nb = set_hyperparameters(nb, hidden_neurons=128, learning_rate=0.1)   # every step: nb -> new nb
    nb = add_question(nb, "after:question:q6", name="normalise", prompt=..., solution=..., tests=[...])
    nb = apply(nb, [(set_hyperparameters, {...}), (add_written_question, {...})])

Why: the base solution notebook keeps changing, so a step never counts cells. It finds its place by
an anchor that survives edits: `question:NAME` (a `# BEGIN QUESTION` name), `def:NAME` (the cell
defining a function; as a place to insert, the end of its question), `code:REGEX` / `markdown:REGEX`
(the one cell of that type matching, outside tests), and says `after:` or `before:`. A step that
cannot find its anchor raises PresetError naming it, so a changed base notebook fails loudly.
"""

import copy
import re

import nbformat

from ..configure import question_cells, question_span, raw_yaml_cell


class PresetError(Exception):
    """A preset step cannot be applied to this base notebook (an anchor is missing or ambiguous)."""


def _cell(nb, kind, source):
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[kind]
    cell = make(source.strip("\n"))
    if nb.get("nbformat_minor", 4) < 5:
        cell.pop("id", None)
    return cell


def _in_tests(nb):
    """For each cell: is it inside a `# BEGIN TESTS` block."""
    inside, out = False, []
    for cell in nb.cells:
        if cell.cell_type == "raw" and re.fullmatch(r"#\s*(BEGIN|END) TESTS\s*", cell.source.strip()):
            inside = "BEGIN" in cell.source.upper()
            out.append(True)
            continue
        out.append(inside)
    return out


def locate(nb, anchor):
    """(first, last) cell indices an anchor names (equal for a single cell)."""
    kind, _, value = anchor.partition(":")
    if kind == "question":
        try:
            return question_span(nb, value)
        except Exception:
            raise PresetError(f"anchor {anchor!r}: the base notebook has no question named {value!r}") from None
    if kind == "def":
        hits = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and re.search(rf"^def {value}\(", c.source, re.M)
                and not c.source.lstrip().startswith(("def test_", "# HIDDEN"))]
        if len(hits) != 1:
            raise PresetError(f"anchor {anchor!r}: expected one cell defining {value}(), found {len(hits)}")
        for i, conf in question_cells(nb):
            first, last = question_span(nb, conf.get("name"))
            if first < hits[0] < last:
                return first, last
        return hits[0], hits[0]
    if kind in ("code", "markdown"):
        tests = _in_tests(nb)
        hits = [i for i, c in enumerate(nb.cells)
                if c.cell_type == kind and not tests[i] and re.search(value, c.source, re.M)]
        if len(hits) != 1:
            raise PresetError(f"anchor {anchor!r}: expected one {kind} cell matching, found {len(hits)}")
        return hits[0], hits[0]
    raise PresetError(f"anchor {anchor!r}: use question:NAME, def:NAME, code:REGEX or markdown:REGEX")


def _position(nb, where):
    """Insertion index for 'after:ANCHOR' / 'before:ANCHOR'."""
    side, _, anchor = where.partition(":")
    if side not in ("after", "before"):
        raise PresetError(f"position {where!r}: start it with after: or before:")
    first, last = locate(nb, anchor)
    return last + 1 if side == "after" else first


# ---------------------------------------------------------------- the steps

def insert_cells(nb, where, cells):
    """Cells [(kind, source), ...] inserted at `where` ('after:ANCHOR' or 'before:ANCHOR')."""
    nb = copy.deepcopy(nb)
    at = _position(nb, where)
    nb.cells[at:at] = [_cell(nb, kind, source) for kind, source in cells]
    return nb


def replace_cells(nb, anchor, cells):
    """The cell(s) an anchor names replaced by [(kind, source), ...]."""
    nb = copy.deepcopy(nb)
    first, last = locate(nb, anchor)
    nb.cells[first:last + 1] = [_cell(nb, kind, source) for kind, source in cells]
    return nb


def edit_cell(nb, anchor, old, new, count=1):
    """In the one cell an anchor names, the regex `old` (which must match) replaced by `new`."""
    nb = copy.deepcopy(nb)
    first, last = locate(nb, anchor)
    if first != last:
        raise PresetError(f"edit_cell: {anchor!r} names {last - first + 1} cells, not one")
    cell = nb.cells[first]
    cell.source, n = re.subn(old, new, cell.source, count=count, flags=re.M)
    if n == 0:
        raise PresetError(f"edit_cell: {old!r} not found in the cell {anchor!r}")
    return nb


def set_title(nb, title, intro=None):
    """The notebook's `# ` heading becomes `title`; `intro` (markdown) follows that cell."""
    nb = copy.deepcopy(nb)
    at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("# ")), None)
    if at is None:
        raise PresetError("set_title: the base notebook has no markdown cell starting with '# '")
    nb.cells[at].source = re.sub(r"^# .*$", f"# {title}", nb.cells[at].source, count=1, flags=re.M)
    if intro:
        nb.cells.insert(at + 1, _cell(nb, "markdown", intro))
    return nb


def set_hyperparameters(nb, fixed=(), **values):
    """`name = value` on each hyperparameter's line; the names in `fixed` lose their `# SOLUTION`
    suffix (students get the value, it is part of the assignment)."""
    nb = copy.deepcopy(nb)
    for name, value in values.items():
        pattern = re.compile(rf"^{name}\s*=\s*[^\n#]*?(\s*#\s*SOLUTION\b[^\n]*)?$", re.M)
        hits = [c for c in nb.cells if c.cell_type == "code" and pattern.search(c.source)]
        if len(hits) != 1:
            raise PresetError(f"set_hyperparameters: expected one `{name} = ...` line, found {len(hits)}")
        line = f"{name} = {value!r}"
        hits[0].source = pattern.sub(lambda m: line + ("  # given by this assignment" if name in fixed
                                                         else (m.group(1) or "")), hits[0].source, count=1)
    return nb


def use_normalisation(nb, method):
    """`NORMALISATION = "method"` beside `DATASET = ...`, and the notebook's own calls
    `preprocess(images)` outside solutions and tests become `preprocess(images, method=NORMALISATION)`.
    The release keeps NORMALISATION equal to the config's `normalisation`."""
    nb = copy.deepcopy(nb)
    setup = [c for c in nb.cells if c.cell_type == "code" and re.search(r"^DATASET\s*=", c.source, re.M)]
    if len(setup) != 1:
        raise PresetError(f"use_normalisation: expected one cell setting DATASET = ..., found {len(setup)}")
    if re.search(r"^NORMALISATION\s*=", setup[0].source, re.M):   # the base notebook has the switch: set it
        setup[0].source = re.sub(r'^NORMALISATION\s*=\s*"\w+"', f'NORMALISATION = "{method}"', setup[0].source,
                                 count=1, flags=re.M)
    else:
        setup[0].source = re.sub(r"^(DATASET\s*=.*)$", rf'\1\nNORMALISATION = "{method}"  # how images become inputs: '
                                 r'preprocess(images, method=NORMALISATION)', setup[0].source, count=1, flags=re.M)
    tests, changed = _in_tests(nb), 0
    in_solution = False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "raw" and re.fullmatch(r"#\s*(BEGIN|END) SOLUTION\s*", cell.source.strip()):
            in_solution = "BEGIN" in cell.source
        if cell.cell_type != "code" or tests[i] or in_solution:
            continue
        cell.source, n = re.subn(r"\bpreprocess\((\w+(?:\[[^\]]*\])?)\)", r"preprocess(\1, method=NORMALISATION)", cell.source)
        changed += n
        if method != "scale":  # z-scored columns are not in [0, 1]: let imshow scale each image
            cell.source = cell.source.replace(", vmin=0, vmax=1", "")
    already = any(c.cell_type == "code" and "method=NORMALISATION" in c.source for c in nb.cells)
    if changed == 0 and not already:
        raise PresetError("use_normalisation: no call preprocess(images) found outside solutions and tests")
    return nb


def _question_cells(nb, name, points, prompt, solution, tests, manual=False):
    conf = {"name": name, **({"manual": True} if manual else {}), "points": points}
    cells = [("raw", "# BEGIN QUESTION\n" + "".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}\n"
                                                   for k, v in conf.items())),
             ("markdown", prompt), ("raw", "# BEGIN SOLUTION"), ("markdown" if manual else "code", solution),
             ("raw", "# END SOLUTION")]
    if tests:
        cells += [("raw", "# BEGIN TESTS"), *[("code", t) for t in tests], ("raw", "# END TESTS")]
    return cells + [("raw", "# END QUESTION")]


def add_question(nb, where, name, points, prompt, solution, tests, then=()):
    """A code question: prompt, solution cell (with `# BEGIN/END SOLUTION` lines inside its functions),
    test cells (each ends with its call; `# HIDDEN` first line for hidden ones), then cells `then`."""
    if any(conf.get("name") == name for _, conf in question_cells(nb)):
        raise PresetError(f"add_question: the notebook already has a question named {name}")
    return insert_cells(nb, where, _question_cells(nb, name, points, prompt, solution, tests) + list(then))


def next_written_number(nb):
    numbers = [int(k) for c in nb.cells if c.cell_type == "markdown" for k in re.findall(r"\*\*\[Q(\d+)\]\*\*", c.source)]
    return max(numbers, default=0) + 1


def add_written_question(nb, where, prompt, answer, points=1):
    """A written question numbered after the last one: `written_qK`, prompt `**[QK]** ...`."""
    k = next_written_number(nb)
    return insert_cells(nb, where, _question_cells(nb, f"written_q{k}", points, f"**[Q{k}]** {prompt.strip()}",
                                                   answer, None, manual=True))


def set_written_question(nb, name, prompt=None, answer=None):
    """New prompt text (after its `**[QK]**`) and/or reference answer for written question `name`."""
    nb = copy.deepcopy(nb)
    first, last = locate(nb, f"question:{name}")
    cells = nb.cells[first:last]
    if prompt is not None:
        cell = next((c for c in cells if c.cell_type == "markdown" and re.search(r"\*\*\[Q\d+\]\*\*", c.source)), None)
        if cell is None:
            raise PresetError(f"set_written_question: {name} has no **[QK]** prompt")
        cell.source = re.sub(r"(\*\*\[Q\d+\]\*\*).*", lambda m: f"{m.group(1)} {prompt.strip()}", cell.source,
                             count=1, flags=re.S)
    if answer is not None:
        begin = next((j for j, c in enumerate(cells) if raw_yaml_cell(c, "BEGIN SOLUTION") is not None), None)
        if begin is None or cells[begin + 1].cell_type != "markdown":
            raise PresetError(f"set_written_question: {name} has no reference answer cell")
        cells[begin + 1].source = answer.strip("\n")
    return nb


def add_test(nb, at, source):
    """A test cell appended to the `# BEGIN TESTS` block of the question an anchor names
    (`question:q7`, or `def:init_params` for the question defining it)."""
    nb = copy.deepcopy(nb)
    first, last = locate(nb, at)
    end = next((j for j in range(last, first, -1) if nb.cells[j].cell_type == "raw"
                and re.fullmatch(r"#\s*END TESTS\s*", nb.cells[j].source.strip())), None)
    if end is None:
        raise PresetError(f"add_test: {at} is not a question with a tests block")
    nb.cells.insert(end, _cell(nb, "code", source))
    return nb


def apply(nb, steps):
    """The notebook after each (step, keyword arguments) in turn."""
    for step, kwargs in steps:
        try:
            nb = step(nb, **kwargs)
        except PresetError as e:
            raise PresetError(f"{step.__name__}: {e}") from None
    return nb

"""The release's configure steps: assignment_config.yaml -> the solution notebook Otter Assign gets.

    nb = set_points(nb, config)          # each step: (notebook, Config) -> notebook, or ReleaseError
    grading_json(config)                 # what the tests read at check time (students get it too)
    question_cells(nb), tier_question(nb)

Why: every config value must reach every output it is about, or be refused. A value that would be
silently overwritten (points for the tier question or the import-policy question, points for a
written question under `points:`) stops the build with the config file and line; the accuracy
thresholds, the written questions' points, the normalisation and a fixed architecture are written
into the notebook's text and tests and into grading.json, so `nnassign release --check` sees any change.
release.py chains these steps with its own (ASSIGNMENT CONFIG, dataset, tier tests, policy points).
"""

import re

import nbformat
import yaml


class ReleaseError(Exception):
    """The release cannot be built (bad solution notebook, failed invariant, leak)."""


# ---------------------------------------------------------------- the notebook's Otter cells

def raw_yaml_cell(cell, marker):
    """The YAML under `# MARKER` in a raw cell, or None."""
    if cell.cell_type != "raw":
        return None
    lines = cell.source.strip().splitlines()
    if not lines or not re.fullmatch(rf"#\s*{marker}\s*", lines[0].strip(), flags=re.I):
        return None
    return yaml.safe_load("\n".join(lines[1:])) or {}


def dump_yaml_cell(marker, data):
    return f"# {marker}\n" + yaml.safe_dump(data, sort_keys=False).rstrip()


def question_cells(nb):
    """(index, config) of every `# BEGIN QUESTION` cell."""
    return [(i, conf) for i, c in enumerate(nb.cells)
            if (conf := raw_yaml_cell(c, "BEGIN QUESTION")) is not None]


def natural(name):
    """q2 before q10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def question_of(nb, pattern):
    """Name of the question whose cells hold a code cell matching `pattern`, else None."""
    current = None
    for cell in nb.cells:
        conf = raw_yaml_cell(cell, "BEGIN QUESTION")
        if conf is not None:
            current = conf.get("name")
        elif raw_yaml_cell(cell, "END QUESTION") is not None:
            current = None
        elif cell.cell_type == "code" and re.search(pattern, cell.source, flags=re.M):
            return current
    return None


def tier_question(nb):
    """The question holding the accuracy test (before and after the tiers are expanded)."""
    return question_of(nb, r"^def test_accuracy_(threshold|tier_\d+)\(")


def question_span(nb, name):
    """(first, last) cell indices of question `name`, its BEGIN and END QUESTION cells included."""
    for i, conf in question_cells(nb):
        if conf.get("name") == name:
            for j in range(i + 1, len(nb.cells)):
                if raw_yaml_cell(nb.cells[j], "END QUESTION") is not None:
                    return i, j
            raise ReleaseError(f"question {name} has no '# END QUESTION' cell")
    raise ReleaseError(f"the solution has no question named {name}")


def _percent(x):
    return f"{x * 100:.1f}".rstrip("0").rstrip(".") + "%"


# ---------------------------------------------------------------- points

def set_points(nb, config):
    """Points from the config; refuses what another key decides, naming the config file and line."""
    confs = {conf.get("name"): conf for _, conf in question_cells(nb)}
    manual = {n for n, c in confs.items() if c.get("manual")}
    tiers = tier_question(nb)
    known = ", ".join(sorted((str(n) for n in confs if n), key=natural))
    problems = []
    for name in config.points:
        at = f"{config.path}, line {config.lines.get(f'points.{name}', '?')}: points"
        if name not in confs:
            problems.append(f"{at}: no question named {name!r} in the solution; questions are {known}")
        elif name == tiers:
            problems.append(f"{at}.{name}: {name} is worth the sum of the accuracy_tiers points; set them there")
        elif name == "import_policy":
            problems.append(f"{at}.{name}: the import-policy question is worth import_policy.penalty_points; set it there")
        elif name in manual:
            problems.append(f"{at}.{name}: written questions take their points from written_points "
                            f"(a number, or a mapping such as {{{name}: 2, default: 1}})")
    if isinstance(config.written_points, dict):
        for name in config.written_points:
            if name != "default" and name not in manual:
                problems.append(f"{config.path}, line {config.lines.get(f'written_points.{name}', '?')}: written_points: "
                                f"no written question named {name!r}; written questions are "
                                f"{', '.join(sorted(manual, key=natural))}")
    if problems:
        raise ReleaseError("\n".join(problems))
    for i, conf in question_cells(nb):
        name = conf.get("name")
        if name in manual:
            conf["points"] = config.written_points_for(name)
        elif name in config.points:
            conf["points"] = config.points[name]
        nb.cells[i].source = dump_yaml_cell("BEGIN QUESTION", conf)
    return _written_points_text(nb, config, manual)


def _written_points_text(nb, config, manual):
    """`**[Qk]**` prompts say what they are worth: `**[Qk]** *(2 points)*`."""
    for name in manual:
        first, last = question_span(nb, name)
        points = config.written_points_for(name)
        label = f"*({points:g} point{'' if points == 1 else 's'})*"
        for cell in nb.cells[first:last]:
            if cell.cell_type == "markdown" and re.search(r"\*\*\[Q\d+\]\*\*", cell.source):
                cell.source = re.sub(r"(\*\*\[Q\d+\]\*\*)(\s*\*\(\d+(?:\.\d+)? points?\)\*)?", rf"\g<1> {label}",
                                     cell.source, count=1)
                break
    return nb


# ---------------------------------------------------------------- text and settings

def set_tier_text(nb, config):
    """The accuracy the text asks for follows accuracy_tiers.

    Outside reference answers, markdown `at least N%` becomes the lowest threshold and `N% is within
    reach` the highest (or "more", with one tier); the tier question's prompt gets a line listing every
    tier and its points.
    """
    tiers = config.accuracy_tiers
    low, high = _percent(tiers[0]["min_accuracy"]), _percent(tiers[-1]["min_accuracy"])
    in_solution = False
    for cell in nb.cells:
        if cell.cell_type == "raw":
            block = re.match(r"#\s*(BEGIN|END)\s+SOLUTION\b", cell.source.strip(), flags=re.I)
            if block:
                in_solution = block.group(1).upper() == "BEGIN"
        elif cell.cell_type == "markdown" and not in_solution:
            cell.source = re.sub(r"at least \d+(?:\.\d+)?\s?%", f"at least {low}", cell.source)
            # with a single tier the "within reach" figure would repeat the requirement: say "more"
            cell.source = re.sub(r"\d+(?:\.\d+)?\s?% is within reach", f"{high if len(tiers) > 1 else 'more'} is within reach",
                                 cell.source)
    name = tier_question(nb)
    if name is None:
        raise ReleaseError("the solution needs a test cell defining test_accuracy_threshold(params, ...)")
    first, last = question_span(nb, name)
    lines = [f"at least {_percent(t['min_accuracy'])} of the test images: **{t['points']:g}** "
             f"point{'' if t['points'] == 1 else 's'}" for t in tiers]
    text = "**Points for accuracy** (each tier adds to the ones below it): " + "; ".join(lines) + "."
    prompt = next((c for c in nb.cells[first:last] if c.cell_type == "markdown"), None)
    if prompt is None:
        nb.cells.insert(first + 1, nbformat.v4.new_markdown_cell(text))
    else:
        prompt.source = prompt.source.rstrip() + "\n\n" + text
    return nb


NORMALISATION_LINE = re.compile(r'^NORMALISATION\s*=\s*["\'](\w+)["\']', flags=re.M)


def set_normalisation(nb, config):
    """`NORMALISATION = "..."` in the notebook follows the config (the notebook trains and measures
    with it; the grader's run reads it from grading.json). A notebook without that line only builds
    with the default, `scale`."""
    for cell in nb.cells:
        if cell.cell_type == "code" and NORMALISATION_LINE.search(cell.source):
            cell.source = NORMALISATION_LINE.sub(f'NORMALISATION = "{config.normalisation}"', cell.source, count=1)
            return nb
    if config.normalisation != "scale":
        raise ReleaseError(f"{config.path}: normalisation: {config.normalisation} needs a code cell setting "
                           'NORMALISATION = "..." in the solution, used as preprocess(images, method=NORMALISATION) '
                           "(see docs/authoring.md)")
    return nb


HIDDEN_LINE = re.compile(r"^hidden_neurons\s*=\s*(\d+)[^\n]*$", flags=re.M)

ARCHITECTURE_TEST = '''def test_architecture_is_784_{h}_10(hidden_neurons, init_params):
    import numpy as np
    assert hidden_neurons == {h}, f"this assignment fixes the network at 784-{h}-10: hidden_neurons must be {h}, not {{hidden_neurons}}"
    assert init_params is not None, "init_params is not defined: run the cell that defines it"
    params = init_params(784, {h}, 10, seed=0)
    assert params is not None, "init_params returned None: not implemented yet?"
    shapes = {{key: np.shape(params[key]) for key in ("W1", "b1", "W2", "b2")}}
    expected = {{"W1": ({h}, 784), "b1": ({h}, 1), "W2": (10, {h}), "b2": (10, 1)}}
    assert shapes == expected, f"init_params(784, {h}, 10) gave shapes {{shapes}}, expected {{expected}}"


test_architecture_is_784_{h}_10(hidden_neurons, init_params)'''


def enforce_architecture(nb, config):
    """With `hidden_neurons:` in the config, the notebook's size is given (not a blank) and must match,
    and the hyperparameter question gets a public test naming the architecture."""
    h = config.hidden_neurons
    if h is None:
        return nb
    hits = [c for c in nb.cells if c.cell_type == "code" and HIDDEN_LINE.search(c.source)]
    if len(hits) != 1:
        raise ReleaseError("hidden_neurons in the config needs exactly one `hidden_neurons = <number>` line "
                           f"in the solution, found {len(hits)}")
    found = int(HIDDEN_LINE.search(hits[0].source).group(1))
    if found != h:
        raise ReleaseError(f"{config.path}, line {config.lines.get('hidden_neurons', '?')}: hidden_neurons: {h}, but "
                           f"the solution sets hidden_neurons = {found}; make them agree")
    hits[0].source = HIDDEN_LINE.sub(f"hidden_neurons = {h}  # fixed by this assignment: a 784-{h}-10 network",
                                     hits[0].source, count=1)
    name = question_of(nb, r"^hidden_neurons\s*=")
    if name is None:
        raise ReleaseError("the `hidden_neurons = ` line must sit inside a question (its tests get the architecture test)")
    first, last = question_span(nb, name)
    end = next((j for j in range(last, first, -1) if nb.cells[j].cell_type == "raw"
                and re.fullmatch(r"#\s*END TESTS\s*", nb.cells[j].source.strip())), None)
    if end is None:
        raise ReleaseError(f"question {name} holds hidden_neurons but has no '# BEGIN TESTS' block")
    nb.cells.insert(end, nbformat.v4.new_code_cell(ARCHITECTURE_TEST.format(h=h)))
    return nb


def grading_json(config):
    """What the tests read at check time: no secrets in here, students get it too."""
    return {
        "dataset": config.dataset,
        "normalisation": config.normalisation,
        **({"hidden_neurons": config.hidden_neurons} if config.hidden_neurons is not None else {}),
        "accuracy_tiers": config.accuracy_tiers,
        "forbidden_modules": config.import_policy["forbidden"],
        "allowed_for_data": config.import_policy["allowed_for_data"],
        "written_points": config.written_points,
    }

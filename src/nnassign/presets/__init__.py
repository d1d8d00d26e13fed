"""Presets: a ready course folder for each source assignment, from the package's base solution.

    create_course("my-course", "mnist-784-128")   # assignment_config.yaml, solution/, README.md
    PRESETS["tiny-mnist"].CONFIG                   # a preset module: CONFIG, STEPS, README, COVERAGE
    solution_notebook(preset)                      # the base notebook with the preset's steps applied

Why: a preset is data, not code paths: its assignment_config.yaml (dataset, tiers, normalisation,
architecture) and a short list of notebook steps (steps.py) applied once, at `nnassign new` time, to
the base solution in `solution/`. The instructor then owns the result and releases it like any
course; nothing else in the package knows which preset a course came from.
"""

import os
import shutil
from pathlib import Path

import nbformat

from .. import nn_data
from . import activation_sweep, fashion_template, gradcheck_homework, mnist_784_128, tiny_mnist
from .steps import PresetError, apply

PRESETS = {m.NAME: m for m in (fashion_template, mnist_784_128, tiny_mnist, gradcheck_homework, activation_sweep)}
NOTEBOOK = "nn_from_scratch.ipynb"


def base_solution_dir():
    """The base solution folder: $NNASSIGN_BASE_SOLUTION, else `solution/` of this package's checkout."""
    folder = Path(os.environ.get("NNASSIGN_BASE_SOLUTION") or Path(__file__).resolve().parents[3] / "solution")
    if not (folder / NOTEBOOK).exists():
        raise PresetError(f"no base solution notebook at {folder / NOTEBOOK}: set NNASSIGN_BASE_SOLUTION to the "
                          "folder holding nn_from_scratch.ipynb and nn_checks.py")
    return folder


def get(name):
    if name not in PRESETS:
        raise PresetError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def solution_notebook(preset, base=None):
    """The preset's solution notebook: the base notebook after the preset's steps."""
    base = Path(base or base_solution_dir())
    nb = nbformat.read(base / NOTEBOOK, as_version=4)
    return apply(nb, preset.STEPS)


def readme(preset):
    rows = "\n".join(f"| {need} | {where} |" for need, where in preset.COVERAGE)
    return (f"# {preset.TITLE}\n\n{preset.README.strip()}\n\n"
            "## What the source assignment asks, and where this folder does it\n\n"
            f"| requirement | where |\n| --- | --- |\n{rows}\n\n" + COMMON_README)


COMMON_README = """## Build, check, grade

```bash
nnassign data fetch --dataset DATASET      # once (offline: export NNASSIGN_DATA_MIRROR=file:///path/to/data)
nnassign release                           # solution/ + assignment_config.yaml -> student/, autograder/
nnassign release --check                   # before committing: the release is current
nnassign grade submissions/ --out out/     # grades.csv, feedback/, report.html
```

`nnassign release` grades the solution with its own tests and refuses to write anything unless it
earns full marks. Edit `solution/nn_from_scratch.ipynb` (see `docs/authoring.md` in the nnassign
repository for every marker) and `assignment_config.yaml`; everything else is built.

## Files

| file | what |
| --- | --- |
| `assignment_config.yaml` | dataset, normalisation, architecture, points, accuracy tiers, limits, import policy |
| `solution/nn_from_scratch.ipynb` | the one notebook you edit (Otter Assign format) |
| `solution/nn_checks.py` | reference checks the hidden tests import (shipped to the autograder only) |
| `solution/nn_data.py` | the data loader students get (NumPy only) |
"""


def create_course(dest, name, base=None):
    """Write a course folder for preset `name` into `dest` (new or empty). Returns dest."""
    preset = get(name)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise PresetError(f"{dest} exists and is not empty: choose a new folder")
    base = Path(base or base_solution_dir())
    nb = solution_notebook(preset, base)
    (dest / "solution").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest / "solution" / NOTEBOOK)
    shutil.copyfile(nn_data.__file__, dest / "solution" / "nn_data.py")
    if (base / "nn_checks.py").exists():
        shutil.copyfile(base / "nn_checks.py", dest / "solution" / "nn_checks.py")
    (dest / "assignment_config.yaml").write_text(preset.CONFIG.lstrip())
    dataset = preset.CONFIG.split("dataset:", 1)[1].split()[0]
    (dest / "README.md").write_text(readme(preset).replace("DATASET", dataset))
    (dest / ".gitignore").write_text("/data/\n/out/\n.ipynb_checkpoints/\n")
    return dest

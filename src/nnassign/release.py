"""Solution notebook + assignment_config.yaml -> student/ and autograder/, with Otter Assign.

The build is a pipeline of small steps (like nbgrader's preprocessors), each one transformation:

    read solution -> apply config -> stage (notebook, nn_data.py, grading.json) -> otter assign
    -> normalise (strip outputs, deterministic zip) -> add student files -> leak guard -> install

`build_release(config, out_dir)` writes `out_dir/student` and `out_dir/autograder`;
`check_release(config)` builds into a temp folder and lists what differs from the committed ones.
"""

import copy
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import yaml

from . import nn_data
from .config import Config

NOTEBOOK_NAME = "nn_from_scratch.ipynb"
ZIP_NAME = "autograder.zip"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date zip can store: builds are byte-identical

STUDENT_REQUIREMENTS = """\
# Everything the assignment needs: the network itself uses only numpy and matplotlib.
numpy==2.4.6
matplotlib==3.11.2
otter-grader==7.0.0
ipykernel==7.4.0
notebook
"""


class ReleaseError(Exception):
    """The release cannot be built (bad solution notebook, failed invariant, leak)."""


# ---------------------------------------------------------------- reading and configuring

def _raw_yaml_cell(cell, marker):
    """The YAML under `# MARKER` in a raw cell, or None."""
    if cell.cell_type != "raw":
        return None
    lines = cell.source.strip().splitlines()
    if not lines or not re.fullmatch(rf"#\s*{marker}\s*", lines[0].strip(), flags=re.I):
        return None
    return yaml.safe_load("\n".join(lines[1:])) or {}


def _dump_yaml_cell(marker, data):
    return f"# {marker}\n" + yaml.safe_dump(data, sort_keys=False).rstrip()


def question_cells(nb):
    """(index, config) of every `# BEGIN QUESTION` cell."""
    return [(i, conf) for i, c in enumerate(nb.cells)
            if (conf := _raw_yaml_cell(c, "BEGIN QUESTION")) is not None]


def set_assignment_config(nb, config):
    for cell in nb.cells:
        conf = _raw_yaml_cell(cell, "ASSIGNMENT CONFIG")
        if conf is not None:
            conf["name"] = config.name
            files = conf.setdefault("files", [])
            for f in ("nn_data.py", "grading.json"):
                if f not in files:
                    files.append(f)
            # Gradescope's image has Otter (hence numpy) but not matplotlib: install what the notebook imports.
            conf["requirements"] = [ln for ln in STUDENT_REQUIREMENTS.splitlines() if ln.startswith(("numpy==", "matplotlib=="))]
            cell.source = _dump_yaml_cell("ASSIGNMENT CONFIG", conf)
            return nb
    raise ReleaseError("the solution notebook has no '# ASSIGNMENT CONFIG' raw cell")


def set_points(nb, config):
    names = {conf.get("name") for _, conf in question_cells(nb)}
    unknown = sorted(set(config.points) - names)
    if unknown:
        raise ReleaseError(f"assignment_config.yaml points: no question named {unknown[0]!r} in the solution; "
                           f"questions are {', '.join(sorted(n for n in names if n))}")
    for i, conf in question_cells(nb):
        if conf.get("manual"):
            conf["points"] = config.written_points
        elif conf.get("name") in config.points:
            conf["points"] = config.points[conf["name"]]
        nb.cells[i].source = _dump_yaml_cell("BEGIN QUESTION", conf)
    return nb


def set_dataset(nb, config):
    pattern = re.compile(r'^DATASET\s*=\s*["\'][\w-]+["\']', flags=re.M)
    for cell in nb.cells:
        if cell.cell_type == "code" and pattern.search(cell.source):
            cell.source = pattern.sub(f'DATASET = "{config.dataset}"', cell.source, count=1)
            return nb
    raise ReleaseError('the solution notebook has no code cell setting DATASET = "..."')


def expand_accuracy_tiers(nb, config):
    """One public test per accuracy tier, each worth its tier's points.

    The solution holds one `test_accuracy_threshold` cell with a `threshold = ...` line; it becomes
    `test_accuracy_tier_1..n`, and its question is worth the sum of the tiers.
    """
    at = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "def test_accuracy_threshold(" in c.source]
    if len(at) != 1:
        raise ReleaseError("the solution needs exactly one test cell defining test_accuracy_threshold(params)")
    template = nb.cells[at[0]].source
    if not re.search(r"^\s*threshold = [\d.]+", template, flags=re.M):
        raise ReleaseError("test_accuracy_threshold must set `threshold = <number>` on a line of its own")
    tiers = []
    for k, tier in enumerate(config.accuracy_tiers, 1):
        body = re.sub(r"^(\s*)threshold = [\d.]+", rf"\g<1>threshold = {tier['min_accuracy']!r}", template,
                      count=1, flags=re.M)
        body = body.replace("test_accuracy_threshold", f"test_accuracy_tier_{k}")
        head = f'""" # BEGIN TEST CONFIG\npoints: {tier["points"]}\n""" # END TEST CONFIG\n'
        tiers.append(nbformat.v4.new_code_cell(head + body))
    nb.cells[at[0]:at[0] + 1] = tiers
    # The question holding the tiers is worth exactly their sum.
    for i, conf in reversed(question_cells(nb)):
        if i < at[0]:
            conf["points"] = sum(t["points"] for t in config.accuracy_tiers)
            nb.cells[i].source = _dump_yaml_cell("BEGIN QUESTION", conf)
            break
    return nb


def set_policy_points(nb, config):
    for i, conf in question_cells(nb):
        if conf.get("name") == "import_policy":
            conf["points"] = config.import_policy["penalty_points"]
            nb.cells[i].source = _dump_yaml_cell("BEGIN QUESTION", conf)
            return nb
    raise ReleaseError("the solution needs an `import_policy` question (its points are the policy's penalty)")


def grading_json(config):
    """What the tests read at check time: no secrets in here, students get it too."""
    return {
        "dataset": config.dataset,
        "accuracy_tiers": config.accuracy_tiers,
        "forbidden_modules": config.import_policy["forbidden"],
    }


CONFIGURE_STEPS = (set_assignment_config, set_points, set_dataset, expand_accuracy_tiers, set_policy_points)


def configured_solution(config):
    try:
        nb = nbformat.read(config.solution_path, as_version=4)
    except FileNotFoundError:
        raise ReleaseError(f"solution notebook {config.solution_path} not found") from None
    for step in CONFIGURE_STEPS:
        nb = step(nb, config)
    return nb


# ---------------------------------------------------------------- building

def stage(nb, config, folder):
    """The folder Otter Assign runs in: the notebook and the files it ships with."""
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NOTEBOOK_NAME)
    shutil.copyfile(nn_data.__file__, folder / "nn_data.py")
    (folder / "grading.json").write_text(json.dumps(grading_json(config), indent=2) + "\n")
    return folder / NOTEBOOK_NAME


def run_otter_assign(master, result, data_dir, run_tests=True):
    """Otter Assign in a subprocess (it changes directory and logs freely).

    With run_tests, Otter grades the solution with the autograder zip and fails unless it earns
    full marks; the notebook then needs the data, hence NNASSIGN_DATA_DIR.
    """
    cmd = [sys.executable, "-m", "otter", "assign", str(master), str(result)]
    if not run_tests:
        cmd.append("--no-run-tests")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", NNASSIGN_DATA_DIR=str(data_dir))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise ReleaseError(f"otter assign failed (exit {proc.returncode}):\n{tail}")


def normalise_notebook(path):
    """No outputs, counts or volatile metadata: the committed release diffs cleanly."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata.get("kernelspec", {}).pop("env", None)
    nb.nbformat_minor = 4  # ids are optional before 4.5; they would change on every build
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def deterministic_zip(src_zip, dest_zip):
    """Re-pack Otter's zip with sorted names, a fixed date and fixed permissions."""
    with zipfile.ZipFile(src_zip) as zin, zipfile.ZipFile(dest_zip, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in sorted(zin.namelist()):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = (0o755 if name in ("run_autograder", "setup.sh") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, zin.read(name))


def student_readme(config):
    return f"""# {config.name}: a neural network from scratch

You will build, train and evaluate a one-hidden-layer neural network on {config.dataset}
using only NumPy and Matplotlib.

## Set up (once)

    python -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate
    pip install -r requirements.txt
    python nn_data.py {config.dataset}                # downloads and verifies the data into ./data

No internet? Put the four official `.gz` files in `data/{config.dataset}/`, or set
`NNASSIGN_DATA_MIRROR` to a folder or URL that holds `{config.dataset}/<file>.gz`.

## Work

    jupyter notebook {NOTEBOOK_NAME}

Fill in every `...`, answer each **[Q1]**–**[Q17]** in the cell below it, and run
`grader.check("qN")` after each question: a failing check tells you the likely mistake.
The checks run offline. Passing them does not guarantee full marks: hidden tests use other inputs.

## Submit

Restart the kernel and run all cells, then run the last cell (`grader.export(...)`): it writes a
zip file next to the notebook. Upload that zip.
"""


def build_release(config: Config, out_dir, run_tests=True):
    """Write out_dir/student and out_dir/autograder. Returns out_dir."""
    out_dir = Path(out_dir)
    nb = configured_solution(config)
    with tempfile.TemporaryDirectory(prefix="nnassign-release-") as tmp:
        tmp = Path(tmp)
        master = stage(nb, config, tmp / "source")
        data_dir = nn_data.fetch(config.dataset, data_dir=config.data_dir).parent if run_tests else config.data_dir
        run_otter_assign(master, tmp / "dist", data_dir, run_tests=run_tests)
        dist = tmp / "dist"
        for sub in ("student", "autograder"):
            for path in (dist / sub).glob("*.ipynb"):
                normalise_notebook(path)
        zips = sorted((dist / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise ReleaseError(f"expected one autograder zip from otter assign, found {len(zips)}")
        deterministic_zip(zips[0], dist / "autograder" / ZIP_NAME)
        zips[0].unlink()
        (dist / "student" / "requirements.txt").write_text(STUDENT_REQUIREMENTS)
        (dist / "student" / "README.md").write_text(student_readme(config))
        leaks = find_leaks(config.solution_path, dist / "student")
        if leaks:
            raise ReleaseError("the student release would leak solution material:\n  " + "\n  ".join(leaks[:20]))
        for sub in ("student", "autograder"):
            target = out_dir / sub
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(dist / sub, target)
    return out_dir


# ---------------------------------------------------------------- leak guard

def _code_lines(text):
    return {ln.strip() for ln in text.splitlines()}


def _is_hidden_test(cell):
    """Otter's two ways to hide a test cell: a first line `# HIDDEN` (exception format), or `hidden: true`."""
    return cell.cell_type == "code" and (cell.source.lstrip().upper().startswith("# HIDDEN")
                                         or re.search(r"^\s*hidden:\s*true", cell.source, flags=re.M | re.I))


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
    secrets = secret_lines(solution_path)
    names = hidden_test_names(solution_path)
    leaks = []
    for path in sorted(Path(student_dir).rglob("*")):
        if path.is_dir() or path.suffix not in (".py", ".ipynb", ".md", ".json", ".txt", ".yaml", ".yml"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":  # compare cell lines, not JSON-escaped text
            nb = json.loads(text)
            text = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
        lines = _code_lines(text)
        for s in sorted(secrets & lines):
            leaks.append(f"{path.relative_to(student_dir)}: {s[:100]}")
        for name in sorted(n for n in names if re.search(rf"\b{n}\b", text)):
            leaks.append(f"{path.relative_to(student_dir)}: hidden test {name}")
    return leaks


# ---------------------------------------------------------------- --check

def diff_trees(a, b):
    """Relative paths that differ between two folders (missing on either side or other bytes)."""
    a, b = Path(a), Path(b)
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} if a.exists() else set()
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.exists() else set()
    differ = [str(p) for p in sorted(files_a ^ files_b)]
    differ += [str(p) for p in sorted(files_a & files_b) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return sorted(differ)


def check_release(config: Config, run_tests=False):
    """Build afresh and compare with the committed student/ and autograder/. Returns the differences."""
    with tempfile.TemporaryDirectory(prefix="nnassign-check-") as tmp:
        build_release(config, tmp, run_tests=run_tests)
        return [f"{sub}/{p}" for sub in ("student", "autograder")
                for p in diff_trees(Path(tmp) / sub, config.root / sub)]

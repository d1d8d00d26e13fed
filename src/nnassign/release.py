"""Solution notebook + assignment_config.yaml -> student/ and autograder/, with Otter Assign.

The build is a pipeline of small steps (like nbgrader's preprocessors), each one transformation:

    read solution -> refuse marker mistakes -> apply config -> stage (notebook, nn_data.py,
    grading.json) -> otter assign -> grade the solution with its own tests -> normalise (strip
    outputs, deterministic zip + Gradescope files) -> add student files -> stubs are stubs -> leak guard -> install

`build_release(config, out_dir)` writes `out_dir/student` and `out_dir/autograder`;
`check_release(config)` builds into a temp folder and lists what differs from the committed ones.
Authoring mistakes are caught by authoring.py, leaks and the scan of student/ by leakguard.py.
"""

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

from . import authoring, gradescope, nn_data
from .config import Config
from .configure import (ReleaseError, dump_yaml_cell as _dump_yaml_cell, enforce_architecture, grading_json,
                        question_cells, raw_yaml_cell as _raw_yaml_cell, set_normalisation, set_points,
                        set_tier_text)
from .golden import GoldenError, record_golden
from .leakguard import find_leaks, scan
from .messages import clean_message

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


# ---------------------------------------------------------------- reading and configuring
# (the config-driven steps and the Otter-cell helpers live in configure.py)


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


CONFIGURE_STEPS = (set_assignment_config, set_points, set_dataset, set_normalisation, enforce_architecture,
                   set_tier_text, expand_accuracy_tiers, set_policy_points)


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
    # Reference checks for the hidden tests; ASSIGNMENT CONFIG lists them as autograder_files only.
    checks = config.solution_path.parent / "nn_checks.py"
    if checks.exists():
        shutil.copyfile(checks, folder / "nn_checks.py")
    (folder / "grading.json").write_text(json.dumps(grading_json(config), indent=2) + "\n")
    return folder / NOTEBOOK_NAME


def run_otter_assign(master, result):
    """Otter Assign in a subprocess (it changes directory and logs freely), without its test run:
    `solution_failures` grades the solution and says which test fails first."""
    cmd = [sys.executable, "-m", "otter", "assign", "--no-run-tests", str(master), str(result)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0"))
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise ReleaseError(f"otter assign failed (exit {proc.returncode}):\n{tail}")


# Otter's own check of the solution (what `otter assign` does unless --no-run-tests), as data.
_GRADE_SOLUTION = """
import json, sys
from otter.api import grade_submission
results = grade_submission(sys.argv[1], sys.argv[2], quiet=True)
cases = [[name, i, tcr.passed, tcr.message] for name, tf in results.results.items()
         for i, tcr in enumerate(tf.test_case_results)]
print("NNASSIGN-RESULTS " + json.dumps({"error": str(results._catastrophic_error or ""), "cases": cases}))
"""


def _case_names(test_file):
    """The test functions of an Otter exception test file, in order (Otter calls them "q3 - 1", ...)."""
    return re.findall(r"^@test_case\(.*\)\s*\ndef (\w+)\(", Path(test_file).read_text(), flags=re.M)


def solution_failures(autograder_dir, data_dir):
    """[(question, test, message)] of the tests the solution fails, in the notebook's question order.

    Grades the autograder notebook (the solution) with the autograder zip, as Otter Assign does.
    """
    autograder_dir = Path(autograder_dir)
    zips = sorted(autograder_dir.glob("*.zip"))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", NNASSIGN_DATA_DIR=str(data_dir))
    proc = subprocess.run([sys.executable, "-c", _GRADE_SOLUTION, str(autograder_dir / NOTEBOOK_NAME), str(zips[0])],
                          capture_output=True, text=True, env=env)
    found = re.search(r"^NNASSIGN-RESULTS (.*)$", proc.stdout, flags=re.M)
    if proc.returncode != 0 or not found:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ReleaseError(f"grading the solution with its own tests failed to run (exit {proc.returncode}):\n{tail}")
    outcome = json.loads(found.group(1))
    if outcome["error"]:
        return [("(all)", "(the notebook)", clean_message(outcome["error"]).splitlines()[-1])]
    order = [conf.get("name") for _, conf in question_cells(nbformat.read(autograder_dir / NOTEBOOK_NAME, as_version=4))]
    failed = []
    for question, index, passed, message in outcome["cases"]:
        if not passed:
            names = _case_names(autograder_dir / "tests" / f"{question}.py")
            name = names[index] if index < len(names) else f"{question} - {index + 1}"
            failed.append((question, name, clean_message(message)))
    return sorted(failed, key=lambda f: order.index(f[0]) if f[0] in order else len(order))


def refuse(problems, what):
    """Stop the build with one line per problem."""
    if problems:
        raise ReleaseError(f"{what}:\n  " + "\n  ".join(map(str, problems)))


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


def _label(config):
    """The solution's path as the instructor knows it: relative to the assignment folder."""
    try:
        return str(config.solution_path.relative_to(config.root))
    except ValueError:
        return str(config.solution_path)


def build_release(config: Config, out_dir, run_tests=True):
    """Write out_dir/student and out_dir/autograder. Returns out_dir.

    With run_tests, the solution is graded with its own tests and must earn full marks.
    """
    out_dir = Path(out_dir)
    if not config.solution_path.exists():
        raise ReleaseError(f"solution notebook {config.solution_path} not found")
    refuse(authoring.solution_mistakes(config.solution_path, _label(config)), "the solution notebook has mistakes")
    nb = configured_solution(config)
    with tempfile.TemporaryDirectory(prefix="nnassign-release-") as tmp:
        tmp = Path(tmp)
        master = stage(nb, config, tmp / "source")
        dist = tmp / "dist"
        run_otter_assign(master, dist)
        # the public checks' golden values, recorded from the solution: numbers for students, no code
        try:
            golden = record_golden(dist / "student", config.solution_path)
        except GoldenError as e:
            raise ReleaseError(str(e)) from None
        shutil.copyfile(golden, dist / "autograder" / golden.name)
        if run_tests:
            data_dir = config.prepare_data()
            failed = solution_failures(dist / "autograder", data_dir)
            if failed:
                (question, name, message), others = failed[0], dict.fromkeys(q for q, _, _ in failed[1:])
                more = f" ({len(failed) - 1} more failing tests, in {', '.join(others)})" if len(failed) > 1 else ""
                raise ReleaseError(f"the solution fails its own tests: first {question} {name}: {message}{more}")
        for sub in ("student", "autograder"):
            for path in (dist / sub).glob("*.ipynb"):
                normalise_notebook(path)
        zips = sorted((dist / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise ReleaseError(f"expected one autograder zip from otter assign, found {len(zips)}")
        # Otter's zip, but graded on Gradescope by nnassign's own pipeline (see gradescope.py)
        gradescope.write_autograder_zip(zips[0], dist / "autograder", dist / "autograder" / ZIP_NAME, config)
        zips[0].unlink()
        (dist / "student" / "requirements.txt").write_text(STUDENT_REQUIREMENTS)
        (dist / "student" / "README.md").write_text(student_readme(config))
        refuse(authoring.stub_problems(config.solution_path, dist / "student" / NOTEBOOK_NAME, _label(config)),
               "graded functions would reach students with code in them")
        refuse([f"student/{finding}" for finding in scan(dist / "student")[:20]],
               "lines of the student release would compute what a graded function computes")
        leaks = find_leaks(config.solution_path, dist / "student")
        refuse([f"{_label(config)} -> student/{leak}" for leak in leaks[:20]],
               "the student release would leak solution material")
        for sub in ("student", "autograder"):
            target = out_dir / sub
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(dist / sub, target)
    return out_dir


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

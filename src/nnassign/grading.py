"""Grade one submission: intake -> policy scan -> sandbox (oracle) -> judge -> result dict.

Called by `grade.grade_one` inside a worker process. Every expected failure becomes a status and
a one-line message; see grade.STATUSES.
"""

import os
from pathlib import Path

from . import graded_run, judge, policy, report, sandbox
from .sandbox_data import sandbox_data_dir
from .intake import SubmissionError, read_submission
from .record import empty_result, resolve_notebook

MB = 2**20
POLICY_QUESTION = "import_policy"


def limits_from_config(limits):
    return sandbox.Limits(
        notebook_seconds=limits["timeout_seconds"],
        # the tests get 1.5x the notebook's time on top: they include the grader's own training run
        total_seconds=limits["timeout_seconds"] * 2.5,
        call_seconds=min(60, limits["timeout_seconds"] / 4),  # one hanging function must not eat it all
        cpu_seconds=limits["cpu_seconds"],
        memory_bytes=limits["memory_mb"] * MB,
        processes=limits["processes"],
        output_bytes=limits["output_mb"] * MB,
    )


def _summary(status, oracle_message, cell_errors, violations, results):
    """The one-line message of a result: the most useful thing to know first."""
    if violations:
        return "import policy: " + "; ".join(v.describe() for v in violations[:3])
    if status != "graded":
        return oracle_message
    failed = sum(1 for q in results for c in q.cases if not c.passed)
    parts = ["all tests passed" if not failed else f"{failed} test case(s) failed"]
    if cell_errors:
        parts.append(f"{len(cell_errors)} cell(s) raised errors, first: {cell_errors[0]}")
    return "; ".join(parts)


def forfeit_policy_points(results, violations):
    """A violation costs the `import_policy` question (worth the configured penalty), whatever its
    own run-time check saw: the scan and the import events cannot be fooled by emptying sys.modules."""
    message = "❌ " + "; ".join(v.describe() for v in violations[:5])
    for q in results:
        if q.name == POLICY_QUESTION:
            q.score = 0.0
            for case in q.cases:
                case.passed, case.points, case.message = False, 0.0, message
            for r in q.test_file.test_case_results:   # Otter's own records make the Gradescope results
                r.passed, r.message = False, message


# The notebook's own cells run on this many training images (the template's SUBSET cell reads
# NNASSIGN_SUBSET): the network that earns the tiers is the one the grader trains itself on half of
# the training images (graded_run), so a second full training inside the notebook would only double
# the cost. The cells still run to the end, on a stratified split of 6,000 images (600 a class).
NOTEBOOK_SUBSET = 6000


def grade_submission(job, sha):

    autograder = Path(job.autograder)
    path = resolve_notebook(job.path)
    if path.is_dir():
        return empty_result(job, sha, "invalid-submission",
                            "the folder does not hold exactly one .ipynb or .zip submission")
    try:
        sub = read_submission(path, job.assignment_name)
    except SubmissionError as e:
        return empty_result(job, sha, e.status, e.message)

    static = policy.scan_notebook(sub.notebook, job.import_policy)
    files = {name: autograder / name for name in ("nn_data.py", "grading.json")}
    seed = judge.derive_seed(job.secret, sub.content_sha256)
    os.environ["NNASSIGN_DATA_DIR"] = job.data_dir  # the tests load the test set here (one job per process)
    dataset = graded_run.Settings.from_grading_json(autograder / "grading.json").dataset
    # The notebook sees the dataset with decoy test labels: the real ones stay in this process.
    visible = sandbox_data_dir(job.data_dir, dataset)
    with sandbox.Sandbox(sub.notebook, files=files, limits=limits_from_config(job.limits),
                         env={"NNASSIGN_DATA_DIR": str(visible),
                              "NNASSIGN_SUBSET": str(NOTEBOOK_SUBSET)}) as oracle:
        results = judge.run_tests(autograder / "tests", oracle, seed)
        status = "graded" if oracle.status == sandbox.OK else oracle.status
        # every package the notebook loaded, as reported the moment it was loaded (import events)
        oracle_message, modules = oracle.message, oracle.modules
        cell_errors = list(oracle.cell_errors)

    violations = static + policy.runtime_violations(modules, static, job.import_policy)
    if violations:
        forfeit_policy_points(results, violations)
        if status == "graded":
            status = "policy-violation"
    total = sum(q.score for q in results)
    possible = sum(q.possible for q in results)
    result = empty_result(job, sha, status, _summary(status, oracle_message, cell_errors, violations, results))
    result.update(
        questions={q.name: {"points": q.score, "possible": q.possible} for q in results},
        tests=[{"question": q.name, "name": c.name, "hidden": c.hidden, "passed": c.passed,
                "points": c.points, "possible": c.possible, "message": c.message}
               for q in results for c in q.cases],
        total=round(total, 4), possible=round(possible, 4),
        percent=round(100 * total / possible, 2) if possible else 0.0,
        cell_errors=[{"cell": e.index, "error": f"{e.type}: {e.message}"} for e in cell_errors],
        policy_violations=[v.to_dict() for v in violations],
        written_answers=report.extract_written_answers(sub.notebook),
        warnings=list(sub.warnings),
        gradescope=judge.to_gradescope(results),
    )
    return result

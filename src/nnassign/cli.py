"""The `nnassign` command line: thin wrappers over the stage modules (like Otter's CLI over its API)."""

import os
import sys

import click

from .config import DATASETS


class NNAssignError(click.ClickException):
    """A clear, expected failure: printed as one message, exit status 1, no traceback."""


@click.group()
@click.version_option(package_name="nnassign")
def main():
    """Build, check and grade the "neural network from scratch" assignment."""


@main.group()
def data():
    """Download, verify and import the datasets."""


_DATASET_CHOICE = click.Choice(DATASETS)
_DATA_DIR_HELP = "Data root (default: $NNASSIGN_DATA_DIR, else ./data)."


@data.command("fetch")
@click.option("--dataset", type=_DATASET_CHOICE, default="fashion-mnist", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), help=_DATA_DIR_HELP)
@click.option("--mirror", help="Base URL (http(s):// or file://) or folder holding <dataset>/<file> "
                               "(default: $NNASSIGN_DATA_MIRROR, else the official site).")
def data_fetch(dataset, data_dir, mirror):
    """Download and verify the official files.

    Fetches the four IDX gzip files into <data root>/<dataset>/, skipping files that already verify.
    """
    from .nn_data import DataError, fetch

    try:
        folder = fetch(dataset, data_dir=data_dir, mirror=mirror, log=click.echo)
    except DataError as e:
        raise NNAssignError(str(e)) from None
    click.echo(f"{dataset} ready in {folder}")


@data.command("verify")
@click.option("--dataset", default="fashion-mnist", show_default=True,
              help="fashion-mnist, mnist, or the name of an imported dataset.")
@click.option("--data-dir", type=click.Path(file_okay=False), help=_DATA_DIR_HELP)
def data_verify(dataset, data_dir):
    """Check checksums, IDX format and label counts."""
    from .data import verify_dataset
    from .nn_data import DataError

    try:
        lines, problems = verify_dataset(dataset, data_dir=data_dir)
    except DataError as e:
        raise NNAssignError(str(e)) from None
    for line in lines:
        click.echo(line)
    if problems:
        raise NNAssignError(f"{dataset}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    click.echo(f"{dataset}: all files present are valid")


@data.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--dataset", required=True, help="Name of the dataset folder to create under the data root.")
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True,
              help="Split for a single class-folder tree or CSV (a train/ + test/ layout imports both).")
@click.option("--data-dir", type=click.Path(file_okay=False), help=_DATA_DIR_HELP)
@click.option("--force", is_flag=True, help="Replace existing dataset files.")
def data_import(path, dataset, split, data_dir, force):
    """Convert PNG folders or Kaggle CSV to IDX files.

    PATH: class folders 0-9 of 28x28 PNGs (or train/ and test/ holding them), a .zip of that,
    a Kaggle CSV (label + 784 pixels), or a folder with *train*.csv and *test*.csv.
    """
    from .data import import_dataset
    from .nn_data import DataError

    try:
        result = import_dataset(path, dataset, split=split, data_dir=data_dir, force=force, log=click.echo)
    except DataError as e:
        raise NNAssignError(str(e)) from None
    from .config import CHECKSUMS_FILE, write_checksums

    write_checksums(result.folder)  # what `dataset: {name, path}` in assignment_config.yaml is checked against
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"imported {', '.join(result.counts)} into {result.folder} (checksums in {CHECKSUMS_FILE}); "
               f"to use it: dataset: {{name: {dataset}, path: {result.folder}}}")



@main.command("new")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--preset", required=True, help="One of: fashion-template, mnist-784-128, tiny-mnist, "
                                              "gradcheck-homework, activation-sweep.")
def new(folder, preset):
    """Create a ready course folder FOLDER from a preset (solution notebook, config, README)."""
    from .presets import PresetError, create_course, get

    try:
        dest = create_course(folder, preset)
    except PresetError as e:
        raise NNAssignError(str(e)) from None
    click.echo(f"wrote {dest}: {get(preset).TITLE}\nnext: cd {dest} && nnassign release")


def _config(path):
    from .config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as e:
        raise NNAssignError(str(e)) from None


@main.command()
@click.option("--config", "config_path", default="assignment_config.yaml", show_default=True,
              help="The assignment configuration.")
@click.option("--check", is_flag=True, help="Build in a temp folder and fail if student/ or autograder/ differ.")
@click.option("--no-run-tests", is_flag=True, help="Skip running the solution against its tests (faster).")
def release(config_path, check, no_run_tests):
    """Build student/ and autograder/ from solution/ with Otter Assign."""
    from .leakguard import scan
    from .nn_data import DataError
    from .release import ReleaseError, build_release, check_release

    config = _config(config_path)
    try:
        if check:
            differ = check_release(config, run_tests=not no_run_tests)
            problems = []
            if differ:
                problems.append("the committed release is stale; run `nnassign release`. Differs:\n  "
                                + "\n  ".join(differ))
            findings = scan(config.root / "student")
            if findings:
                problems.append(f"{len(findings)} line(s) of student/ compute what a graded function computes:\n  "
                                + "\n  ".join(map(str, findings)))
            if problems:
                raise NNAssignError("\n".join(problems))
            click.echo("release is up to date: student/ and autograder/ match a fresh build, "
                       "and nothing in student/ computes a graded function")
            return
        build_release(config, config.root, run_tests=not no_run_tests)
    except (ReleaseError, DataError) as e:
        raise NNAssignError(str(e)) from None
    click.echo(f"wrote {config.root / 'student'} and {config.root / 'autograder'}")



@main.command()
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Where results go.")
@click.option("--config", "config_path", default="assignment_config.yaml", show_default=True)
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Parallel workers [default: cores].")
@click.option("--dask", "dask_address", default=None, help="Grade on a Dask cluster at this scheduler address.")
@click.option("--unsafe-no-isolation", is_flag=True,
              help="Grade without the sandbox's namespaces where user namespaces are disabled: student code "
                   "then runs as you and can read your files. Only for submissions you trust.")
def grade(submissions, out_dir, config_path, workers, dask_address, unsafe_no_isolation):
    """Grade .ipynb / zip submissions (or folders of them) into grades, feedback and reports."""
    from pathlib import Path

    import nbformat

    from . import batch, nn_data, report, sandbox

    if not unsafe_no_isolation:
        problem = sandbox.isolation_problem(os.geteuid() == 0)
        if problem:
            raise NNAssignError(f"refusing to grade untrusted submissions: {problem}")
    else:
        click.echo("warning: --unsafe-no-isolation: student code runs as you, unconfined", err=True)

    config = _config(config_path)
    autograder = config.root / "autograder"
    if not (autograder / "tests").is_dir():
        raise NNAssignError(f"{autograder} has no tests: run `nnassign release` first")
    try:
        data_dir = config.prepare_data()
    except nn_data.DataError as e:
        raise NNAssignError(str(e)) from None
    out = Path(out_dir)
    secret = batch.grading_secret(out, config.seeds["secret_env"])
    found = batch.discover(submissions, config.submissions["id_pattern"])
    if not found:
        raise NNAssignError("no submissions found (.ipynb, .zip, or one folder per submission)")
    jobs = [batch.Job(id=i, path=str(p), autograder=str(autograder), assignment_name=config.name,
                      limits=config.limits, import_policy=config.import_policy, secret=secret,
                      data_dir=str(data_dir), isolate=not unsafe_no_isolation) for i, p in found]

    with click.progressbar(length=len(jobs), label="grading", file=sys.stderr,
                           item_show_func=lambda r: r and f"{r['id']}: {r['status']}") as bar:
        results = batch.grade_batch(jobs, out, workers=workers, dask_address=dask_address,
                                    progress=lambda r: bar.update(1, r))

    batch.write_grades_csv(results, out / "grades.csv")
    for r in results:
        if r.get("gradescope"):
            batch.write_json_atomic(out / "gradescope" / report.safe_name(r["id"]) / "results.json", r["gradescope"])
    reference = report.reference_answers(nbformat.read(config.solution_path, as_version=4))
    report.write_all(results, out, config.name, reference=reference)
    click.echo(report.format_table(results), nl=False)
    counts = {s: n for s, n in report.status_counts(results).items() if n}
    mean = sum(r["percent"] for r in results) / len(results)
    click.echo(f"{len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
               + f"; mean {mean:.1f}%; results in {out}/ (grades.csv, canvas_grades.csv, report.html)")



# ---------------------------------------------------------------- written answers, final grades, similarity

def _batch(out_dir, config_path):
    from .review.batch import BatchError, load_for_config

    config = _config(config_path)
    try:
        return config, load_for_config(out_dir, config)
    except BatchError as e:
        raise NNAssignError(str(e)) from None


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--config", "config_path", default="assignment_config.yaml", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep localhost unless you need otherwise).")
@click.option("--port", type=click.IntRange(0, 65535), default=8800, show_default=True, help="0 picks a free port.")
@click.option("--token", envvar="NNASSIGN_REVIEW_TOKEN", help="Login token [default: $NNASSIGN_REVIEW_TOKEN, else random].")
def review(out_dir, config_path, host, port, token):
    """Serve the page to score the written answers [Q1]..[Q17] of a graded OUT_DIR."""
    from .review.app import serve

    _, batch = _batch(out_dir, config_path)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding to {host}: anyone who can reach it and has the token can score", err=True)
    try:
        serve(batch, host=host, port=port, token=token, echo=click.echo)
    except OSError as e:
        raise NNAssignError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--config", "config_path", default="assignment_config.yaml", show_default=True)
@click.option("--allow-missing", is_flag=True, help="Count written answers without a score as 0 (flagged).")
def finalize(out_dir, config_path, allow_missing):
    """Merge autograded results and written scores into final_grades.csv, Canvas and Gradescope files."""
    from .finalize import MissingScores, finalize as run_finalize

    config, batch = _batch(out_dir, config_path)
    try:
        final = run_finalize(batch, allow_missing=allow_missing, assignment_name=config.name)
    except MissingScores as e:
        raise NNAssignError(str(e)) from None
    if final.missing:
        click.echo(f"warning: {len(final.missing)} written answer(s) without a score counted 0 (flagged)", err=True)
    if final.changed:
        click.echo(f"warning: {len(final.changed)} written score(s) were given to an answer that has changed "
                   "since (flagged): " + ", ".join(f"{s}:{q}" for s, q in final.changed[:10]), err=True)
    click.echo(f"{len(final.rows)} students: wrote {final.paths['grades']}, {final.paths['canvas']}, "
               f"{final.paths['gradescope']}/<id>/results.json, {final.paths['feedback']}/")


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--config", "config_path", default="assignment_config.yaml", show_default=True)
@click.option("--top", type=click.IntRange(1, 10000), default=20, show_default=True, help="Pairs shown in detail.")
def similarity(out_dir, config_path, top):
    """Report pairs of submissions whose own code or written answers are suspiciously alike."""
    from .similarity import SimilarityError, run_similarity

    config = _config(config_path)
    try:
        report_path, csv_path, pairs = run_similarity(out_dir, config, top=top)
    except SimilarityError as e:
        raise NNAssignError(str(e)) from None
    for p in pairs[:5]:
        click.echo(f"{p.code:6.1%} code  {p.written:6.1%} written  {p.a} ~ {p.b}")
    click.echo(f"{len(pairs)} pairs compared: {report_path} and {csv_path}")


if __name__ == "__main__":
    sys.exit(main())

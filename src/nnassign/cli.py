"""The `nnassign` command line: thin wrappers over the stage modules (like Otter's CLI over its API)."""

import sys

import click


class NNAssignError(click.ClickException):
    """A clear, expected failure: printed as one message, exit status 1, no traceback."""


@click.group()
@click.version_option(package_name="nnassign")
def main():
    """Build, check and grade the "neural network from scratch" assignment."""


@main.group()
def data():
    """Download, verify and import the datasets."""



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
    from .release import ReleaseError, build_release, check_release

    config = _config(config_path)
    try:
        if check:
            differ = check_release(config, run_tests=not no_run_tests)
            if differ:
                raise NNAssignError("the committed release is stale; run `nnassign release`. Differs:\n  "
                                    + "\n  ".join(differ))
            click.echo("release is up to date: student/ and autograder/ match a fresh build")
            return
        build_release(config, config.root, run_tests=not no_run_tests)
    except ReleaseError as e:
        raise NNAssignError(str(e)) from None
    click.echo(f"wrote {config.root / 'student'} and {config.root / 'autograder'}")


if __name__ == "__main__":
    sys.exit(main())

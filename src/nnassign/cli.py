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


if __name__ == "__main__":
    sys.exit(main())

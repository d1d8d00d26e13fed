"""Fairness corpora of issue 7 (graded by tests/test_fairness.py).

* ``correct/impl_<style>.py``: independent correct implementations of the whole network contract,
  each a plain module (NumPy and the standard library only), written in the styles of public
  from-scratch NumPy networks and of students: they must earn every point under every secret,
  apart from accuracy tiers their own hyperparameters miss.
* ``mistakes.py``: single-mistake variants of those (one function replaced): each must lose points
  only in the question that grades that function, identically under every secret, with a message
  that names the mistake.
* ``hostile.py``: submissions built to fool the grader, each with the score it deserves.
* ``local_oracle.py``: the in-process stand-in for the sandbox oracle that grades them all fast.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
CORRECT_DIR = HERE / "correct"


def correct_sources():
    """{style: source} of every correct implementation, in name order."""
    return {p.stem.removeprefix("impl_"): p.read_text(encoding="utf-8")
            for p in sorted(CORRECT_DIR.glob("impl_*.py"))}

"""Golden values: what the solution's functions return on the public checks' fixed inputs.

API::

    record_golden(student_dir, solution_path)   # writes student_dir/golden.json

Why: public checks must not hold an implementation of any graded function, yet students deserve a
check of the values, not only of properties. The release runs the public test files once against
the solution's own functions (seed 0, as on a student's machine), and every ``nn_data.golden_check``
in them records what it sees; students then see numbers, never the code that made them. Run in a
subprocess: the checks import ``nn_data`` from the release folder and set process-wide state.
"""

import os
import subprocess
import sys
from pathlib import Path

GOLDEN_FILE = "golden.json"

_RECORD = r"""
import sys
from pathlib import Path
import numpy as np
from otter.test_files.exception_test import ExceptionTestFile
from nnassign.reference import load_reference

tests, solution = Path(sys.argv[1]), sys.argv[2]
for path in sorted(tests.glob("*.py")):
    ns = load_reference(solution)   # fresh each file: a check may change what it is given
    with np.errstate(all="ignore"):
        ExceptionTestFile.from_file(str(path)).run(ns)
"""


class GoldenError(RuntimeError):
    pass


def record_golden(student_dir, solution_path) -> Path:
    """Run the public checks in ``student_dir/tests`` on the solution, recording golden.json there."""
    student_dir = Path(student_dir).resolve()
    out = student_dir / GOLDEN_FILE
    out.unlink(missing_ok=True)
    env = dict(os.environ, NNASSIGN_GOLDEN_RECORD=str(out), NNASSIGN_SEED="0", MPLBACKEND="Agg",
               PYTHONHASHSEED="0")
    done = subprocess.run([sys.executable, "-c", _RECORD, str(student_dir / "tests"), str(solution_path)],
                          cwd=student_dir, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise GoldenError(f"recording the public checks' golden values failed:\n{tail}")
    return out

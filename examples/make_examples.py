"""Build examples/submissions/ from the committed student/ and autograder/ notebooks.

    python examples/make_examples.py            # (re)write examples/submissions/
    python examples/make_examples.py --check    # exit 1 if the committed files differ from a fresh build

The output is deterministic (fixed zip timestamps and permissions), so rerunning it after
`nnassign release` changes exactly the files that should change. Every example grades in seconds
with the default config: `bash tasks.sh demo` grades this folder. EXAMPLES holds, per file, what it
is and the status and score `nnassign grade` gives it (examples/README.md says the same).
"""

import argparse
import copy
import io
import os
import pickle
import sys
import zipfile
from pathlib import Path

import nbformat

from nnassign.nbedit import fill, find, insert, set_line

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TEMPLATE = REPO / "student" / "nn_from_scratch.ipynb"
SOLUTION = REPO / "autograder" / "nn_from_scratch.ipynb"
OUT = HERE / "submissions"
ZIP_TIME = (2026, 1, 15, 12, 0, 0)

# file -> (expected status, expected total of 36, what it is)
EXAMPLES = {
    "honest-full.ipynb": ("graded", 36, "the full solution, as a student would hand it in"),
    "honest-partial.ipynb": ("graded", 11, "only q1-q6 done (one_hot ... activations): exactly their points"),
    "untouched-template.ipynb": ("graded", 0, "the student release with nothing filled in"),
    "broken-json.ipynb": ("invalid-notebook", 0, "a file cut in the middle: not valid JSON"),
    "cheat-monkeypatch.ipynb": ("graded", 11, "honest-partial plus np.allclose / numpy.testing patched to always "
                                              "pass and fake printed scores: earns nothing extra"),
    "forbidden-import.ipynb": ("policy-violation", 30, "a short honest training run (35/36) that imports "
                                                       "scikit-learn: loses exactly the 5 import-policy points"),
    "wrong-assignment.ipynb": ("wrong-assignment", 0, "a notebook of another assignment (metadata)"),
    "export-malicious-log.zip": ("graded", 11, "a grader.export() zip: honest-partial plus an .OTTER_LOG pickle "
                                               "that would run a command when unpickled; it never is"),
}

CHEAT = '''\
# "Make every check pass": this fools `otter run`, which runs the tests in the student's process.
import numpy as np
import numpy.testing
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
grader.check = lambda *args, **kwargs: print("All tests passed!")
print("All tests passed! Total score: 36 / 36")
'''

FORBIDDEN = '''\
# a shortcut for the evaluation
from sklearn.metrics import accuracy_score
'''


class Payload:
    """What a malicious .OTTER_LOG holds: unpickling it runs a (harmless) shell command."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/nnassign-example-pickle-ran",))


def notebook_bytes(nb):
    return nbformat.writes(nb).encode()


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def build():
    """{file name: bytes} of every example."""
    template = nbformat.read(TEMPLATE, as_version=4)
    solution = nbformat.read(SOLUTION, as_version=4)
    partial = fill(template, solution, {"q1", "q2", "q3", "q4", "q5", "q6"})
    # a hurried but honest student: 4000 images, 2 epochs, no experiment: 35 of 36 in seconds
    quick = set_line(set_line(solution, "SUBSET", "4000"), "epochs", "2")
    quick.cells.pop(find(quick, r"^exp_X, exp_Y = "))
    other = copy.deepcopy(partial)
    other.metadata["otter"]["assignment_name"] = "linear-regression-hw2"
    text = nbformat.writes(partial)
    files = {
        "honest-full.ipynb": notebook_bytes(solution),
        "honest-partial.ipynb": notebook_bytes(partial),
        "untouched-template.ipynb": notebook_bytes(template),
        "broken-json.ipynb": text[: len(text) // 3].encode(),
        "cheat-monkeypatch.ipynb": notebook_bytes(insert(partial, r"^import numpy as np", CHEAT)),
        "forbidden-import.ipynb": notebook_bytes(insert(quick, r"^import numpy as np", FORBIDDEN)),
        "wrong-assignment.ipynb": notebook_bytes(other),
        "export-malicious-log.zip": zip_bytes([
            ("nn_from_scratch.ipynb", notebook_bytes(partial)),
            (".OTTER_LOG", pickle.dumps(Payload(), protocol=4)),
            ("__zip_filename__", b"nn_from_scratch_2026_01_15T12_00_00_000000.zip"),
        ]),
    }
    assert set(files) == set(EXAMPLES)
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (default: examples/submissions)")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        stale = sorted(n for n, data in files.items()
                       if not (args.out / n).is_file() or (args.out / n).read_bytes() != data)
        extra = sorted(p.name for p in args.out.iterdir() if p.name not in files) if args.out.is_dir() else []
        if stale or extra:
            print(f"examples are stale: {', '.join(stale + extra)}; run python examples/make_examples.py",
                  file=sys.stderr)
            return 1
        print("examples are up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    print(f"wrote {len(files)} examples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long each preset's notebook takes to run top to bottom (issue 10: under 60 s on this machine).

    python benchmarks/bench_presets.py [--preset NAME ...] [--target 60] [--keep DIR]

For every preset: `nnassign new` into a temp folder, build the release (Otter Assign, without grading
the solution), then run the autograder notebook (the solution as students would run it, public checks
included, minus the final `grader.export()` cell) in a real Jupyter kernel with nbclient, single-threaded
BLAS, the data already on disk ($NNASSIGN_DATA_DIR or the mirror). Printed per preset: build time,
notebook run time, the slowest cell, the test accuracy the notebook printed, and the verdict.
"""

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from nnassign import nn_data, presets  # noqa: E402
from nnassign.config import load_config  # noqa: E402
from nnassign.release import build_release  # noqa: E402


def run_notebook(path):
    """(seconds, [(seconds, first line) per code cell], stdout text) of one run in a fresh kernel."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "grader.export(" not in c.source]
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    cells, start = [], time.perf_counter()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            if cell.cell_type == "code":
                cells.append((time.perf_counter() - t, cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""))
    total = time.perf_counter() - start
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    return total, cells, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=list(presets.PRESETS), help="default: all")
    parser.add_argument("--target", type=float, default=60.0, help="seconds per notebook")
    parser.add_argument("--keep", type=Path, help="build the course folders here instead of a temp folder")
    args = parser.parse_args()
    names = args.preset or list(presets.PRESETS)
    print(f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, single-threaded BLAS")
    data_dir = Path(os.environ.get("NNASSIGN_DATA_DIR") or tempfile.mkdtemp(prefix="bench-data-"))
    os.environ["NNASSIGN_DATA_DIR"] = str(data_dir)
    for dataset in sorted({load_config_text(p) for p in names}):
        nn_data.fetch(dataset, data_dir=data_dir)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-presets-"))
    rows, slow = [], []
    for name in names:
        root = presets.create_course(base / name, name)
        t = time.perf_counter()
        build_release(load_config(root / "assignment_config.yaml"), root, run_tests=False)
        build = time.perf_counter() - t
        total, cells, text = run_notebook(root / "autograder" / "nn_from_scratch.ipynb")
        worst = max(cells)
        acc = re.search(r"test accuracy: ([\d.]+)", text)
        verdict = "ok" if total <= args.target else "TOO SLOW"
        slow += [name] if total > args.target else []
        rows.append((name, build, total, worst, acc.group(1) if acc else "?", verdict))
        print(f"{name:20s} build {build:5.1f} s  notebook {total:5.1f} s  (slowest cell {worst[0]:4.1f} s: "
              f"{worst[1]!r})  test accuracy {rows[-1][4]}  {verdict}", flush=True)
    print(f"\n| preset | notebook run | slowest cell | test accuracy | target <= {args.target:g} s |\n| --- | --- | --- | --- | --- |")
    for name, build, total, worst, acc, verdict in rows:
        print(f"| {name} | {total:.1f} s | {worst[0]:.1f} s | {acc} | {verdict} |")
    return 1 if slow else 0


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_config_text(name):
    return re.search(r"^dataset: (\S+)", presets.get(name).CONFIG, flags=re.M).group(1)


if __name__ == "__main__":
    sys.exit(main())

"""How long a student waits for `grader.check("qN")` (issue "Release builder and the student's experience",
section 6). Run from the repository root after `nnassign release` and `nnassign data fetch`:

    python benchmarks/bench_check.py [--repeat 5] [--student student] [--target 1.0]

For every code question of the release (one test file per question in student/tests), times
`otter.Notebook("nn_from_scratch.ipynb").check(q)` in a copy of the student folder, offline (a
child process whose sockets refuse to connect, with the data already on disk), with a correct
namespace: the solution's definitions and a network trained with the solution's hyperparameters
(for q14 and import_policy, whose checks evaluate the trained `params` on the 10 000 test images).

Reported per question: the first call (cold: Otter parses the test file, NumPy warms up), the
median of --repeat further calls, whether the public tests pass, and the verdict against the target
(<= 1 s per question; the slower of first call and median counts).
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, socket, statistics, sys, time

def offline(*args, **kwargs):
    raise OSError("offline benchmark: no network")

socket.socket.connect = socket.socket.connect_ex = offline
socket.create_connection = offline

questions, repeat, solution = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, os.getcwd())
import nn_data                      # the student folder's copy
import numpy as np
import otter
from nnassign.reference import load_reference

ns = load_reference(solution)      # the solution's functions and hyperparameters
dataset = ns["DATASET"]
images, labels = nn_data.load_dataset(dataset, "train", download=False)
nn_data.load_dataset(dataset, "test", download=False)  # on disk before timing, like a student's
X, Y = ns["preprocess"](images), ns["one_hot"](labels)
train_idx, val_idx = ns["stratified_split"](labels, fraction=0.5, seed=0)
start = time.perf_counter()
ns["params"], ns["history"] = ns["train"](X[:, train_idx], Y[:, train_idx], X[:, val_idx[:2000]], Y[:, val_idx[:2000]],
                                          ns["hidden_neurons"], ns["learning_rate"], ns["epochs"], seed=0,
                                          eval_every=10**9)
trained = time.perf_counter() - start

grader = otter.Notebook("nn_from_scratch.ipynb")
rows = []
for q in questions:
    times, passed = [], None
    for _ in range(1 + repeat):
        t0 = time.perf_counter()
        result = grader.check(q, global_env=ns)
        times.append(time.perf_counter() - t0)
        passed = bool(result.passed_all)
    rows.append({"question": q, "first": times[0], "median": statistics.median(times[1:]) if repeat else times[0],
                 "passed": passed, "message": "" if passed else str(result)[:300]})
print("RESULT " + json.dumps({"rows": rows, "train_seconds": trained, "dataset": dataset}))
"""


def natural(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", default=str(ROOT / "student"), help="the student release folder")
    parser.add_argument("--solution", default=str(ROOT / "solution" / "nn_from_scratch.ipynb"))
    parser.add_argument("--repeat", type=int, default=5, help="timed calls after the first one")
    parser.add_argument("--target", type=float, default=1.0, help="seconds per question")
    args = parser.parse_args()

    from nnassign.config import load_config
    from nnassign import nn_data

    config = load_config(ROOT / "assignment_config.yaml")
    data_dir = nn_data.fetch(config.dataset, data_dir=config.data_dir).parent  # verified, local
    # In the order the notebook checks them; any test file without a check cell comes last.
    notebook = Path(args.student, "nn_from_scratch.ipynb").read_text()
    in_order = list(dict.fromkeys(re.findall(r'grader\.check\(\\"(\w+)\\"\)', notebook)))
    files = sorted((p.stem for p in Path(args.student, "tests").glob("*.py")), key=natural)
    questions = [q for q in in_order if q in files] + [q for q in files if q not in in_order]

    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        folder = Path(tmp) / "student"
        shutil.copytree(args.student, folder)  # Otter writes .OTTER_LOG next to the notebook
        env = {k: v for k, v in os.environ.items() if not k.startswith("NNASSIGN")}
        env.update(NNASSIGN_DATA_DIR=str(data_dir), MPLBACKEND="Agg")
        done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(questions), str(args.repeat),
                               str(Path(args.solution).resolve())],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0 or "RESULT " not in done.stdout:
        sys.exit(f"benchmark child failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.split("RESULT ", 1)[1])

    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ}
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}" + (f", {threads}" if threads else ""))
    print(f"grader.check in a copy of {args.student}, offline; dataset {result['dataset']}; the network for "
          f"q14 trained in {result['train_seconds']:.1f} s (not counted); {args.repeat} timed calls after the first")
    print()
    print(f"{'question':<14}{'first s':>9}{'median s':>10}  {'tests':<7}{'target':>8}")
    worst = 0.0
    failures = []
    for row in result["rows"]:
        seconds = max(row["first"], row["median"])
        worst = max(worst, seconds)
        ok = seconds <= args.target
        if not ok or not row["passed"]:
            failures.append(row["question"])
        print(f"{row['question']:<14}{row['first']:>9.3f}{row['median']:>10.3f}  "
              f"{'pass' if row['passed'] else 'FAIL':<7}{('ok' if ok else 'SLOW'):>8}")
    total_first = sum(r["first"] for r in result["rows"])
    print()
    print(f"slowest question {worst:.3f} s (target <= {args.target:g} s); all {len(result['rows'])} first calls "
          f"together {total_first:.2f} s")
    for row in result["rows"]:
        if not row["passed"]:
            print(f"  {row['question']} did not pass with the solution: {row['message']}")
    if failures:
        print("NOT MET for: " + ", ".join(failures))
        sys.exit(1)
    print("target met for every question")


if __name__ == "__main__":
    main()

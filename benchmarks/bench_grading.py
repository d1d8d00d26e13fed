"""Grading speed (issue "Batch grading", section 4). Run from the repository root, as root, on a quiet machine:

    python benchmarks/bench_grading.py [--count 100] [--scaling 8]

1. Overhead per submission, on the honest solution notebook (autograder/nn_from_scratch.ipynb):
   `cells`    the notebook's own cells executed in a fresh Python process (what any grader must pay);
   `otter`    plain `otter run` (otter.api.grade_submission with autograder/autograder.zip);
   `nnassign` one submission through `nnassign grade`'s pipeline (intake, sandbox, judge).
   Overhead = total - cells, per submission; nnassign's is measured in a one-worker batch (start-up
   and reports are paid once per batch). Target: nnassign's overhead <= half of otter's.
2. Scaling: --scaling distinct honest submissions with 1 worker, then 2 workers. Target: >= 1.8x.
3. Throughput: --count honest submissions with 2 workers. Target: 100 in <= 300 s (--count 0 skips it).
4. Whole grading per submission in the one-worker batch against the notebook's cells alone: grading
   calls the student's train once more (see nnassign.graded_run). Median over --repeat pairs (cells,
   batch) measured back to back. Target: <= 1.5x.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "autograder"
HONEST = AUTOGRADER / "nn_from_scratch.ipynb"

CELLS_ONLY = r"""
import json, sys, time, io, contextlib
nb = json.load(open(sys.argv[1]))
ns, start = {}, time.perf_counter()
for cell in nb["cells"]:
    src = "".join(cell["source"])
    if cell["cell_type"] != "code" or "otter" in src or "grader." in src:
        continue
    src = "\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!")))
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(src, "cell", "exec"), ns)
print(time.perf_counter() - start)
"""


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cells_seconds(env):
    """Fresh interpreter, cells only (imports included, as in any kernel)."""
    with tempfile.TemporaryDirectory() as tmp:
        for f in ("nn_data.py", "grading.json"):
            shutil.copy(AUTOGRADER / f, tmp)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CELLS_ONLY, str(HONEST)], cwd=tmp, env=env, check=True,
                       capture_output=True)
        return time.perf_counter() - t0


def otter_seconds(env):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(HONEST, Path(tmp) / HONEST.name)
        cmd = [sys.executable, "-c",
               "import sys, otter.api as a; r = a.grade_submission(sys.argv[1], sys.argv[2], quiet=True); "
               "print(r.total, r.possible)", str(Path(tmp) / HONEST.name), str(AUTOGRADER / "autograder.zip")]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True, text=True)
        return time.perf_counter() - t0, done.stdout.strip().splitlines()[-1]


def make_submissions(folder, count):
    """Distinct honest submissions: the solution plus a comment, so each content hash differs."""
    nb = json.loads(HONEST.read_text())
    folder.mkdir(parents=True)
    for i in range(count):
        nb["cells"][-1]["source"] = f"student {i}"
        (folder / f"s{i:03d}_nn.ipynb").write_text(json.dumps(nb))
    return folder


def grade(folder, out, workers, env):
    cmd = [sys.executable, "-m", "nnassign.cli", "grade", str(folder), "--out", str(out), "--workers", str(workers)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        sys.exit(done.stdout + done.stderr)
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    full = sum(1 for r in rows if ",graded," in r and "100.0" in r)
    return seconds, full, len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--scaling", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3,
                        help="pairs (cells, one-worker batch) measured back to back for the whole-grading ratio")
    args = parser.parse_args()
    # One BLAS thread everywhere, as in the sandbox: the same cells cost the same in all three runs.
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.setdefault("NNASSIGN_DATA_DIR", str(ROOT / "data"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cells = min(cells_seconds(env) for _ in range(2))
        otter, otter_score = min(otter_seconds(env) for _ in range(2))
        one = make_submissions(tmp / "one", 1)
        ours = min(grade(one, tmp / f"out-one-{i}", 1, env)[0] for i in range(2))
        print(f"cells only {cells:.2f} s | otter run {otter:.2f} s (score {otter_score}) | "
              f"nnassign grade {ours:.2f} s (CLI start-up and reports included)")
        print(f"one submission per command: overhead otter {otter - cells:.2f} s, nnassign {ours - cells:.2f} s "
              f"(ratio {(ours - cells) / (otter - cells):.2f}; nnassign's includes its start-up and the reports)")

        subs = make_submissions(tmp / "scaling", args.scaling)
        t1, full1, n1 = grade(subs, tmp / "out-w1", 1, env)
        t2, full2, n2 = grade(subs, tmp / "out-w2", 2, env)
        # Per submission in a batch (one worker, so no parallelism hides anything): what graders pay.
        ratio = (t1 / n1 - cells) / (otter - cells)
        print(f"per submission in a batch of {n1} (1 worker): {t1 / n1:.2f} s, overhead {t1 / n1 - cells:.2f} s "
              f"against otter's {otter - cells:.2f} s: ratio {ratio:.2f} ({'PASS' if ratio <= 0.5 else 'FAIL'}: "
              "target <= 0.5)")
        # Grading trains once more (the grader's own call of train): the whole grading of a submission
        # against what its notebook's cells alone cost, as the median of pairs measured back to back
        # (the first pair is the batch above), so a noisy moment on a shared machine counts once.
        ratios = [(t1 / n1) / cells]
        for i in range(1, max(1, args.repeat)):
            c = cells_seconds(env)
            t, _, n = grade(subs, tmp / f"out-w1-{i}", 1, env)
            ratios.append((t / n) / c)
        whole = statistics.median(ratios)
        print(f"grading wall time per submission (1 worker) / the notebook's own cells, median of {len(ratios)} "
              f"pairs: {whole:.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) "
              f"({'PASS' if whole <= 1.5 else 'FAIL'}: target <= 1.5)")
        print(f"{args.scaling} submissions: 1 worker {t1:.1f} s ({full1}/{n1} full marks), "
              f"2 workers {t2:.1f} s ({full2}/{n2}); speed-up {t1 / t2:.2f}x "
              f"({'PASS' if t1 / t2 >= 1.8 else 'FAIL'}: target >= 1.8)")

        if not args.count:
            return
        many = make_submissions(tmp / "many", args.count)
        t, full, n = grade(many, tmp / "out-many", 2, env)
        print(f"{args.count} submissions, 2 workers: {t:.1f} s ({full}/{n} full marks, {t / n:.2f} s each) "
              f"({'PASS' if t <= 300 * args.count / 100 else 'FAIL'}: target 100 in <= 300 s)")


if __name__ == "__main__":
    main()

"""Peak memory of the grading process on replies built to exhaust it (issue 9, "bounded grader
resources"). Run from the repository root:

    python benchmarks/bench_grader_memory.py

Each scenario runs in a fresh child process and reports its peak resident memory above what it
held just before (``ru_maxrss``), and what happened:

* ``aliased reply``: a 32 MB array referenced 40 times in one reply. ``before`` decodes it the way
  the decoder did before issue 9 (one copy per reference, reimplemented here for the comparison);
  ``now`` is :func:`nnassign.wire.decode`.
* ``params, 60,000 hidden units``: a notebook whose ``params`` has W1 of (60000, 784) float32
  (188 MB), fetched with ``oracle.get("params")`` from a real sandbox: decoded without a copy now.
* ``accuracy on them``: the float64 computation the accuracy test made on such params (W1 @ X on
  the 10,000 test images: 4.8 GB), run inside the oracle's serving phase, where the grading
  process's address space is capped at +1 GiB (``Limits.grader_memory_bytes``).
"""

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 2**20

ALIASED = r"""
import json, resource, sys, numpy as np
sys.path.insert(0, sys.argv[2])
from nnassign import wire
nbytes, refs = 32 * 2**20, 40
ref = {"$nd": [0, nbytes], "dtype": "<f8", "shape": [nbytes // 8]}
text = json.dumps({"$tuple": [ref] * refs}).encode()
blob = bytearray(nbytes)
def old_decode(text, blob):   # before issue 9: every reference copied out of the blob
    tree = json.loads(text)
    return tuple(np.frombuffer(memoryview(blob)[r["$nd"][0]:r["$nd"][0] + r["$nd"][1]], "<f8").copy()
                 for r in tree["$tuple"])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = "decoded"
try:
    value = old_decode(text, blob) if sys.argv[1] == "before" else wire.decode(text, blob)
except wire.ProtocolError as e:
    outcome = f"refused: {e}"
print(json.dumps({"peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024,
                  "outcome": outcome}))
"""

PARAMS = r"""
import json, os, resource, sys, time
import numpy as np, nbformat
from nnassign.sandbox import Sandbox, Limits
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "params = {'W1': rng.standard_normal((60000, 784), dtype=np.float32),\n"
    "          'b1': np.zeros((60000, 1), np.float32),\n"
    "          'W2': rng.standard_normal((10, 60000), dtype=np.float32), 'b2': np.zeros((10, 1), np.float32)}")]
with Sandbox(nb, limits=Limits(notebook_seconds=120, memory_bytes=4 * 2**30), env={}) as oracle:
    assert oracle.status == "ok", oracle.message
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    params = oracle.get("params")
    got = time.monotonic() - started
    peak_get = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    out = {"get_peak_mb": peak_get, "get_s": round(got, 2), "W1": list(params["W1"].shape)}
    if sys.argv[1] == "accuracy":
        X = np.random.default_rng(1).random((784, 10000))
        started = time.monotonic()
        try:
            W1 = np.asarray(params["W1"], dtype=np.float64)
            scores = params["W2"] @ np.maximum(W1 @ X, 0)
            out["accuracy"] = "computed"
        except MemoryError:
            out["accuracy"] = "MemoryError (a failed test case)"
        out["accuracy_s"] = round(time.monotonic() - started, 2)
        out["accuracy_peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
"""


def child(code, *args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    for when in ("before", "now"):
        r = child(ALIASED, when, str(ROOT / "src"))
        print(f"aliased reply, 32 MB x 40 references, {when:6s}: peak +{r.get('peak_mb', 0):7.0f} MB, "
              f"{r.get('outcome', r)}")
    r = child(PARAMS, "get")
    print(f"params, 60,000 hidden units (W1 188 MB float32): get peak +{r.get('get_peak_mb', 0):.0f} MB "
          f"in {r.get('get_s')} s {r.get('W1', r)}")
    r = child(PARAMS, "accuracy")
    print(f"accuracy on them in float64 (W1 @ X, 4.8 GB unbounded): {r.get('accuracy', r)} after "
          f"{r.get('accuracy_s')} s, peak +{r.get('accuracy_peak_mb', 0):.0f} MB")


if __name__ == "__main__":
    main()

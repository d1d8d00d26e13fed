"""The sandbox and its wire format, with real processes and real limits (small, to stay fast)."""

import math
import os
import subprocess
import time
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from nnassign import wire
from nnassign.sandbox import (CRASHED, MEMORY_LIMIT, OK, OUTPUT_LIMIT, TIMEOUT, CallTimedOut, Limits,
                              NotCallable, NotDefined, Sandbox, SandboxError, SandboxStopped, StudentError,
                              Unsendable)

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
MB = 2**20
FAST = Limits(notebook_seconds=10, call_seconds=3, grace_seconds=1, memory_bytes=1024 * MB, processes=32,
              output_bytes=64 * 1024, file_bytes=8 * MB, disk_bytes=64 * MB)


def honest():
    return nbformat.read(FIXTURES / "honest.ipynb", as_version=4)


def notebook(*sources, base=True):
    """The honest fixture (or an empty notebook) with code cells appended before its export cell."""
    nb = honest() if base else nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells = nb.cells[:-1] + cells + nb.cells[-1:] if base else cells
    return nb


def assert_gone(oracle, pids=()):
    """No process of the run survives close()."""
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, pid
    if oracle.uid is not None:
        left = [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == oracle.uid]
        assert left == []


# ---------------------------------------------------------------------------- wire

def test_wire_round_trip_keeps_types_and_special_floats():
    value = {"a": [1, 2.5, float("nan"), float("inf"), -float("inf"), None, True, "é"],
             3: (np.float64(0.5), np.int32(7), np.bool_(True)), (1, "k"): complex(1, -2),
             "arrays": [np.arange(6, dtype=np.int64).reshape(2, 3), np.zeros((0, 4), np.float32),
                        np.array([True, False]), np.arange(12.0).reshape(3, 4).T,  # non-contiguous
                        np.arange(3, dtype=">f8"), np.ones(2, np.complex128)],
             "ref": wire.Ref("function", "softmax")}
    text, blob = wire.encode(value)
    out = wire.decode(text, blob)
    assert math.isnan(out["a"][2]) and out["a"][3] == math.inf and out["a"][4] == -math.inf
    assert out["a"][:2] == [1, 2.5] and out["a"][5:] == [None, True, "é"]
    assert type(out[3]) is tuple and type(out[3][0]) is np.float64 and type(out[3][1]) is np.int32
    assert out[(1, "k")] == complex(1, -2) and out["ref"] == wire.Ref("function", "softmax")
    for a, b in zip(value["arrays"], out["arrays"]):
        assert a.shape == b.shape and a.dtype.kind == b.dtype.kind and np.array_equal(a, b)
    assert out["arrays"][0].flags.writeable


@pytest.mark.parametrize("value, message", [
    (np.array([object()]), "dtype object"),
    (object(), "type object"),
    (np.zeros(3, dtype=[("x", "f8")]), "dtype"),
    (lambda: 0, "type function"),
])
def test_wire_refuses_what_cannot_travel(value, message):
    with pytest.raises(wire.EncodeError, match=message):
        wire.encode(value)


def test_wire_refuses_deep_cyclic_and_large_values():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(wire.EncodeError):
        wire.encode(cyclic)
    with pytest.raises(wire.EncodeError, match="MB"):
        wire.encode(np.zeros(1000), max_bytes=4000)


@pytest.mark.parametrize("text, blob", [
    (b"{not json", b""),
    (b'{"$nd": [0, 8], "dtype": "|O8", "shape": [1]}', b"\0" * 8),            # object dtype
    (b'{"$nd": [0, 8], "dtype": "<f8", "shape": [2]}', b"\0" * 8),            # shape vs bytes
    (b'{"$nd": [8, 8], "dtype": "<f8", "shape": [1]}', b"\0" * 8),            # outside the blob
    (b'{"$nd": [0, 0], "dtype": "<f8", "shape": [-1]}', b""),
    (b'{"$pickle": "gASV"}', b""),                                           # unknown tag
    (b'{"$dict": [[[1], 2]]}', b""),                                          # unhashable key
    (b"[" * 5000 + b"]" * 5000, b""),                                         # too deep
])
def test_wire_decode_rejects_malformed_messages(text, blob):
    with pytest.raises(wire.ProtocolError):
        wire.decode(text, blob)


def test_frames_bad_header_cap_truncation_eof_and_timeout():
    r, w = os.pipe()
    try:
        os.write(w, b"XXXX" + b"\0" * 12)
        with pytest.raises(wire.ProtocolError, match="header"):
            wire.read_frame(r)
        wire.write_frame(w, b"1" * 100, b"2" * 100)
        with pytest.raises(wire.ProtocolError, match="cap"):
            wire.read_frame(r, max_bytes=150)
        os.read(r, 200)
        wire.write_message(w, {"x": np.arange(3)})
        assert np.array_equal(wire.read_message(r)["x"], np.arange(3))
        with pytest.raises(wire.WireTimeout):
            wire.read_message(r, deadline=time.monotonic() + 0.05)
        os.write(w, wire.MAGIC + b"\0\0\0\x10" + b"\0" * 8 + b"{")   # announces 16 bytes, sends 1
        os.close(w)
        w = None
        with pytest.raises(wire.ProtocolError, match="middle"):
            wire.read_frame(r)
        with pytest.raises(wire.PeerClosed):
            wire.read_frame(r)
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


# ---------------------------------------------------------------------------- honest runs

def test_honest_notebook_serves_its_functions_and_values():
    with Sandbox(honest(), limits=FAST) as oracle:
        assert (oracle.status, oracle.cell_errors) == (OK, []), oracle.log()
        assert oracle.alive and "numpy" in oracle.modules
        Z = np.array([[1.0, 2.0], [3.0, 4.0]])
        A = oracle.call("softmax", (Z,))
        assert np.allclose(A, np.exp(Z) / np.exp(Z).sum(axis=0))
        params = oracle.get("params")
        assert params["W1"].shape == (16, 784) and oracle.get("hidden_neurons") == 16
        assert oracle.get("softmax") == wire.Ref("function", "softmax")
        assert oracle.get("np") == wire.Ref("module", "numpy")
        with pytest.raises(NotDefined, match="forward is not defined in your notebook"):
            oracle.call("forward", (Z,))
        with pytest.raises(NotCallable):
            oracle.call("params")
        with pytest.raises(StudentError, match=r"your softmax raised TypeError: .*argument"):
            oracle.call("softmax")
        with pytest.raises(Unsendable, match="values of type Generator cannot be sent"):
            oracle.get("rng")
        assert "trained" in oracle.log()
        pid = oracle._proc.pid
    assert_gone(oracle, [pid])


def test_notebook_is_confined(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "x.txt").write_text("pixels")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    (elsewhere / "y.txt").write_text("labels")
    (data / "y.txt").symlink_to(elsewhere / "y.txt")   # symlinked data sets are followed
    monkeypatch.setenv("NNASSIGN_GRADING_SECRET", "s3cret")
    package_root = Path(wire.__file__).parents[1]
    probe = notebook(
        "import ctypes, os, socket\n"
        "uid = os.getuid()\n"
        "pid = os.getpid()\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "secret = os.environ.get('NNASSIGN_GRADING_SECRET')\n"
        "data = [open(os.environ['NNASSIGN_DATA_DIR'] + f).read() for f in ('/x.txt', '/y.txt')]\n"
        f"fixtures_visible = os.path.exists({str(FIXTURES)!r})\n"
        f"repo_tests_visible = os.path.exists({str(Path(__file__).parent)!r})\n"
        f"package_root = sorted(os.listdir({str(package_root)!r}))\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "nested_userns = libc.unshare(0x10000000) == 0\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=1); network = True\n"
        "except OSError:\n"
        "    network = False\n"
        "try:\n"
        "    open('/etc/nnassign-pwned', 'w'); wrote = True\n"
        "except OSError:\n"
        "    wrote = False\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "home_writable = os.access('.', os.W_OK)")
    with Sandbox(probe, limits=FAST, env={"NNASSIGN_DATA_DIR": str(data)}) as oracle:
        assert oracle.status == OK and oracle.cell_errors == [], oracle.log()
        assert oracle.get("uid") == 1000                     # the sandbox user, whoever grades
        if os.geteuid() == 0 and oracle.uid is not None:
            assert oracle.uid >= 1_000_000_000              # root grades: a fresh uid outside too
        assert oracle.get("pid") == 2 and max(oracle.get("pids")) < 50   # own PID namespace: bwrap is 1
        assert oracle.get("secret") is None
        assert oracle.get("data") == ["pixels", "labels"]
        assert oracle.get("fixtures_visible") is False and oracle.get("repo_tests_visible") is False
        assert oracle.get("package_root") == sorted(os.listdir(package_root))
        assert oracle.get("nested_userns") is False
        assert oracle.get("network") is False and oracle.get("wrote") is False
        assert int(oracle.get("caps"), 16) == 0 and oracle.get("home_writable") is True
    assert not Path("/etc/nnassign-pwned").exists()


SHM = ("import ctypes\n"
       "libc = ctypes.CDLL(None, use_errno=True)\n"
       "KEY = 0x4E4E4153\n"
       "found = libc.shmget(KEY, 0, 0) >= 0\n"            # a segment left by an earlier run?
       "created = libc.shmget(KEY, 4096, 0o1666) >= 0\n")  # IPC_CREAT | 0666


def test_no_ipc_object_outlives_a_run_or_reaches_another():
    with Sandbox(notebook(SHM), limits=FAST) as first:
        assert first.get("created") is True and first.get("found") is False
        with Sandbox(notebook(SHM), limits=FAST) as second:   # at the same time: its own IPC namespace
            assert second.get("found") is False
    ipcs = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    assert "0x4e4e4153" not in ipcs.lower()


def test_every_process_dies_with_a_grader_killed_by_sigkill(tmp_path):
    tag = "424242.5"
    script = tmp_path / "grader.py"
    script.write_text(
        "import sys, nbformat\n"
        "from nnassign.sandbox import Sandbox, Limits\n"
        "nb = nbformat.v4.new_notebook()\n"
        "nb.cells = [nbformat.v4.new_code_cell("
        f"'import os, subprocess\\nsubprocess.Popen([\"sleep\", \"{tag}\"], start_new_session=True)\\n"
        f"if os.fork() == 0:\\n    os.setsid()\\n    os.execvp(\"sleep\", [\"sleep\", \"{tag}\"])')]\n"
        "oracle = Sandbox(nb, limits=Limits(notebook_seconds=30)).start()\n"
        "print('ready', oracle.status, flush=True)\n"
        "sys.stdin.read()\n")
    grader = subprocess.Popen([os.sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert grader.stdout.readline().split() == ["ready", "ok"]
        for _ in range(500):    # the forked one may still be on its way to exec
            if len(processes_with(tag)) == 2:
                break
            time.sleep(0.01)
        assert len(processes_with(tag)) == 2
        grader.kill()
        grader.wait()
        for _ in range(500):    # the kernel takes them down right away; allow a loaded machine
            if not processes_with(tag):
                break
            time.sleep(0.01)
        assert processes_with(tag) == [], "a process of the run outlived its grader"
    finally:
        for p in processes_with(tag):
            p.kill()


def processes_with(tag):
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and tag in (p.info["cmdline"] or []):
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_unreadable_data_dir_is_a_grader_error(tmp_path):
    with pytest.raises(SandboxError, match="plain file name"):
        Sandbox(honest(), files={"../evil.py": b""})
    if os.geteuid() != 0:
        pytest.skip("only matters when the notebook runs as another user")
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "train.gz").write_bytes(b"x")
    (data / "train.gz").chmod(0o600)
    with pytest.raises(SandboxError, match="not readable by other users"):
        Sandbox(honest(), limits=FAST, env={"NNASSIGN_DATA_DIR": str(data)}).start()


def test_without_user_namespaces_isolation_is_refused_with_the_way_to_enable_them(monkeypatch):
    from nnassign.sandbox import bwrap

    monkeypatch.setattr(bwrap, "_problem", {True: bwrap.how_to_enable("Operation not permitted"),
                                            False: bwrap.how_to_enable("Operation not permitted")})
    with pytest.raises(SandboxError, match="user namespaces") as info:
        Sandbox(honest(), limits=FAST).start()
    for hint in ("kernel.unprivileged_userns_clone", "user.max_user_namespaces",
                 "apparmor_restrict_unprivileged_userns", "--unsafe-no-isolation"):
        assert hint in str(info.value)
    with Sandbox(honest(), limits=FAST, isolate=False) as oracle:   # --unsafe-no-isolation
        assert oracle.status == OK and oracle.call("softmax", (np.zeros((2, 1)),)).shape == (2, 1)


def test_otter_stub_has_no_dunder_attributes_and_magics_work():
    nb = notebook("%load_ext autoreload\n%autoreload 2\n%matplotlib inline\n"
                  "import otter\n"
                  "has_file = hasattr(otter, '__file__') or hasattr(otter, '__path__')\n"
                  "anything = otter.anything is not None\n"
                  "grader_dunder = hasattr(grader, '__wrapped__')")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == OK and oracle.cell_errors == [], oracle.cell_errors
        assert oracle.get("has_file") is False and oracle.get("anything") is True
        assert oracle.get("grader_dunder") is False
        assert oracle.call("softmax", (np.zeros((2, 1)),)).shape == (2, 1)


def test_memory_error_in_a_called_function_is_a_memory_limit():
    nb = notebook("def relu(Z):\n    return np.ones((10**6, 10**6))")
    with Sandbox(nb, limits=FAST) as oracle:
        with pytest.raises(StudentError, match="MemoryError"):
            oracle.call("relu", (np.zeros(3),))
        assert oracle.status == MEMORY_LIMIT and "relu ran out of memory" in oracle.message
        assert oracle.alive and oracle.call("softmax", (np.zeros((2, 1)),)).shape == (2, 1)


def test_an_error_is_reported_in_the_function_of_the_notebook_that_raised_it():
    # train is not charged with a neighbour's bug: the error names the notebook's function it arose in
    nb = notebook("def backprop(*args):\n    return np.ones((2, 3)) + np.ones((3, 2))\n\n"
                  "def train(*args):\n    return backprop(*args)\n\n"
                  "def softmax(Z):\n    return np.asarray(Z).reshape(2, 2)")
    with Sandbox(nb, limits=FAST) as oracle:
        with pytest.raises(StudentError, match=r"^your train raised ValueError in your backprop: operands could not be broadcast") as e:
            oracle.call("train", ())
        assert e.value.where == "backprop"
        # an error inside NumPy, called from softmax itself, names no other function
        with pytest.raises(StudentError, match=r"^your softmax raised ValueError: ") as e:
            oracle.call("softmax", (np.zeros(3),))
        assert e.value.where is None


# ---------------------------------------------------------------------------- exits and crashes

def test_sys_exit_is_a_cell_error_and_the_rest_still_runs():
    nb = notebook("import sys\nsys.exit(3)", "after_exit = 1")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == OK
        assert [(e.type, e.message) for e in oracle.cell_errors] == [("SystemExit", "3")]
        assert oracle.cell_errors[0].index == 7
        assert oracle.get("after_exit") == 1


@pytest.mark.parametrize("source, expected", [
    ("import os\nos._exit(0)", "exited with status 0 while running cell 7"),
    ("import os\nos.kill(os.getpid(), 9)", "killed by SIGKILL while running cell 7"),
])
def test_process_death_is_crashed_with_the_reason(source, expected):
    with Sandbox(notebook(source), limits=FAST) as oracle:
        assert oracle.status == CRASHED and expected in oracle.message
        assert not oracle.alive
        with pytest.raises(SandboxStopped, match="no longer running"):
            oracle.call("softmax", (np.zeros((2, 2)),))


def test_writing_into_the_grading_channel_is_a_protocol_break():
    nb = notebook("import os\nfor fd in range(3, 100):\n    try:\n"
                  "        os.write(fd, b'NNW1' + b'\\xff' * 12)\n    except OSError:\n        pass")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == CRASHED and "protocol" in oracle.message


# ---------------------------------------------------------------------------- time

def test_infinite_loop_times_out_and_the_tree_is_killed():
    limits = Limits(**{**FAST.__dict__, "notebook_seconds": 6})
    started = time.monotonic()
    with Sandbox(notebook("while True:\n    pass"), limits=limits) as oracle:
        assert oracle.status == TIMEOUT
        assert "did not finish within 6 s (cell 7 was running)" in oracle.message
        assert 6 <= time.monotonic() - started < 9
        pid = oracle._proc.pid
    assert_gone(oracle, [pid])


def test_cpu_limit_is_a_timeout():
    limits = Limits(**{**FAST.__dict__, "cpu_seconds": 1})
    with Sandbox(notebook("while True:\n    pass"), limits=limits) as oracle:
        assert oracle.status == TIMEOUT and "CPU time limit" in oracle.message


def test_setsid_child_dies_with_the_run():
    tag = "4242.25"
    nb = notebook("import subprocess\n"
                  f"child = subprocess.Popen(['sleep', '{tag}'], start_new_session=True)")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == OK, oracle.cell_errors
        assert len(processes_with(tag)) == 1
    assert processes_with(tag) == []
    assert_gone(oracle)


def test_looping_function_times_out_softly_and_grading_goes_on():
    nb = notebook("def relu(Z):\n    while True:\n        pass")
    limits = Limits(**{**FAST.__dict__, "call_seconds": 1, "grace_seconds": 2})
    with Sandbox(nb, limits=limits) as oracle:
        started = time.monotonic()
        with pytest.raises(CallTimedOut, match="your relu did not return within 1 s"):
            oracle.call("relu", (np.zeros(3),))
        assert time.monotonic() - started < 3
        assert oracle.status == OK and oracle.alive
        assert oracle.call("softmax", (np.zeros((2, 1)),)).shape == (2, 1)


def test_uninterruptible_call_is_killed_at_the_deadline():
    # one BLAS call of several seconds (~700 GFLOP on one thread): the soft alarm cannot interrupt C code, SIGKILL can
    nb = notebook("def relu(Z):\n    a = np.ones((7000, 7000), dtype=np.float32)\n    return a @ a")
    limits = Limits(**{**FAST.__dict__, "call_seconds": 1, "grace_seconds": 1})
    with Sandbox(nb, limits=limits) as oracle:
        pid = oracle._proc.pid
        started = time.monotonic()
        with pytest.raises(CallTimedOut):
            oracle.call("relu", (np.zeros(3),))
        assert time.monotonic() - started < 4
        assert oracle.status == TIMEOUT and "could not be interrupted" in oracle.message
        with pytest.raises(SandboxStopped):
            oracle.call("softmax", (np.zeros((2, 1)),))
    assert_gone(oracle, [pid])


# ---------------------------------------------------------------------------- memory, processes, output

def test_memory_bomb_is_a_memory_limit_and_grading_goes_on():
    # np.empty: address space runs out just the same, without the time to touch the pages
    nb = notebook("hog = []\nwhile True:\n    hog.append(np.empty(50 * 2**20, np.uint8))", "hog = None")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == MEMORY_LIMIT and "cell 7 ran out of memory (limit 1024 MB)" in oracle.message
        assert oracle.alive
        assert oracle.call("softmax", (np.zeros((2, 1)),)).shape == (2, 1)


def test_fork_bomb_is_contained_and_cleaned_up():
    # a bomb that keeps trying, started in a child so that the notebook itself goes on
    nb = notebook("import os\nif os.fork() == 0:\n    while True:\n        try:\n            os.fork()\n"
                  "        except OSError:\n            pass",
                  "import os\nwhile True:\n    os.fork()",   # and the naive one in the notebook itself
                  "survived = True")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == OK, oracle.message
        assert [e.type for e in oracle.cell_errors] == ["BlockingIOError"]
        assert oracle.get("survived") is True
        assert subprocess.run(["true"]).returncode == 0   # the grader can still start processes
        if oracle.uid is not None:
            assert 10 < len([p for p in psutil.process_iter(["uids"]) if p.info["uids"].real == oracle.uid]) <= 32 + 2  # + bwrap and its PID 1
    assert_gone(oracle)


def test_huge_output_is_capped_and_grading_goes_on():
    nb = notebook("for _ in range(100_000):\n    print('x' * 1000)",          # 100 MB through print
                  "import os\nfor _ in range(3):\n    os.write(1, b'y' * 5 * 2**20)",  # 15 MB around it
                  "after = 'still running'")
    with Sandbox(nb, limits=FAST) as oracle:
        assert oracle.status == OUTPUT_LIMIT and "64 KB" in oracle.message
        assert [e.type for e in oracle.cell_errors] == ["OSError"]   # the file-size limit
        assert oracle.get("after") == "still running"
        assert "[nnassign: output truncated]" in oracle.log(limit=128 * 1024)
        assert os.fstat(oracle._log.fileno()).st_size <= FAST.file_bytes


# ---------------------------------------------------------------------------- wire: bounded decoding

def test_wire_refuses_aliased_and_overlapping_array_data():
    blob = bytearray(8 * 1000)
    one = {"$nd": [0, 8000], "dtype": "<f8", "shape": [1000]}
    aliased = ('{"$tuple": [' + ",".join([wire.json.dumps(one)] * 40) + "]}").encode()
    with pytest.raises(wire.ProtocolError, match="share the same data"):
        wire.decode(aliased, blob)
    overlapping = wire.json.dumps([{"$nd": [0, 800], "dtype": "<f8", "shape": [100]},
                                   {"$nd": [792, 8], "dtype": "<f8", "shape": [1]}]).encode()
    with pytest.raises(wire.ProtocolError, match="share the same data"):
        wire.decode(overlapping, blob)
    adjacent = wire.json.dumps([{"$nd": [8, 8], "dtype": "<f8", "shape": [1]},
                                {"$nd": [0, 8], "dtype": "<f8", "shape": [1]},
                                {"$nd": [0, 0], "dtype": "<f8", "shape": [0]}]).encode()
    assert [a.shape for a in wire.decode(adjacent, blob)] == [(1,), (1,), (0,)]


def test_wire_decodes_a_writable_blob_without_copying():
    text, blob = wire.encode([np.arange(4.0), np.ones((2, 3), np.float32)])
    out = wire.decode(text, bytearray(blob))
    assert all(a.flags.writeable for a in out) and np.array_equal(out[0], np.arange(4.0))
    assert sum(a.nbytes for a in out) == len(blob) and out[0].base is not None


def test_an_aliased_reply_from_a_hostile_notebook_is_a_protocol_break():
    # the notebook rewrites the harness's encoder: 32 MB sent once, referenced 40 times (1.3 GB)
    nb = notebook("import nnassign.wire as w\n"
                  "_orig = w.encode\n"
                  "def _evil(value, max_bytes=w.MAX_FRAME):\n"
                  "    if isinstance(value, dict) and value.get('value') == 'boom':\n"
                  "        ref = '{\"$nd\": [0, 33554432], \"dtype\": \"<f8\", \"shape\": [4194304]}'\n"
                  "        text = '{\"$dict\": [[\"ok\", true], [\"value\", {\"$tuple\": [' + ','.join([ref] * 40) + ']}]]}'\n"
                  "        return text.encode(), bytes(33554432)\n"
                  "    return _orig(value, max_bytes)\n"
                  "w.encode = _evil\n"
                  "def relu(Z):\n    return 'boom'")
    with Sandbox(nb, limits=FAST) as oracle:
        before = psutil.Process().memory_info().rss
        with pytest.raises(SandboxStopped):
            oracle.call("relu", (np.zeros(3),))
        assert psutil.Process().memory_info().rss - before < 200 * MB
        assert oracle.status == CRASHED and "share the same data" in oracle.message


def test_grader_budgets_turn_a_runaway_test_into_an_error():
    from nnassign.sandbox import TestTimedOut, grader_memory_budget, time_budget

    with grader_memory_budget(256 * MB):
        with pytest.raises(MemoryError):
            np.ones((60000, 10000))            # 4.8 GB: refused at once, the process is unharmed
    np.ones((8000, 8000))                       # 512 MB: the budget is gone again
    with pytest.raises(TestTimedOut):
        with time_budget(0.2):
            while True:
                pass
    with time_budget(5):
        assert sum(range(10)) == 45


def test_a_test_that_exhausts_the_grader_records_memory_limit():
    with Sandbox(honest(), limits=FAST) as oracle:
        oracle.grader_out_of_memory("test_accuracy_tier_1")
        assert oracle.status == MEMORY_LIMIT and oracle.alive
        assert "test_accuracy_tier_1 ran out of the grader's memory budget (1024 MB)" in oracle.message

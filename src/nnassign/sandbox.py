"""Run a student notebook in an isolated process and serve its functions as an oracle.

API::

    with Sandbox(notebook, files={"nn_data.py": path_or_bytes}, limits=Limits(...),
                 env={"NNASSIGN_DATA_DIR": "..."}) as oracle:
        oracle.status, oracle.message       # see below
        oracle.cell_errors                  # [CellError(index, type, message)], index in notebook.cells
        oracle.call("softmax", (Z,), {})    # value, or raises an OracleError subclass
        oracle.get("params")                # value; functions/modules come back as wire.Ref
        oracle.alive, oracle.modules, oracle.log()

``Sandbox(...).start()`` returns the same :class:`Oracle` (call ``close()`` yourself). Starting
blocks until the notebook has run. It raises :class:`SandboxError` only for problems on the
grader's side (unreadable data directory, harness setup failure); everything the student causes
is a status. ``files`` are copied next to the notebook; the notebook's environment is ``env``
(by default only ``NNASSIGN_DATA_DIR``, passed through) plus fixed basics, never ours (it may
hold the grading secret; keep the secret out of command lines too: /proc shows them to all).

``call``/``get`` raise: :class:`StudentError` (the student's code raised: ``type_name``,
``student_message``), :class:`CallTimedOut`, :class:`NotDefined`, :class:`NotCallable`,
:class:`Unsendable` (argument or result is not plain data), :class:`SandboxStopped` (the process
is gone: see ``status``); all are :class:`OracleError`. Use an oracle from the thread that
started it, or from a thread that outlives it: the notebook process gets SIGKILL when the
starting thread ends (parent-death signal), so nothing outlives a crashed grader.

Statuses (``oracle.status``, with a one-line ``oracle.message``):

``ok``            nothing went wrong (cells may still have raised: see ``cell_errors``).
``timeout``       the notebook ran past ``notebook_seconds``, a call past ``call_seconds`` and could
                  not be interrupted, the ``total_seconds`` budget ran out, or the CPU limit hit.
``memory-limit``  a cell raised MemoryError under the ``memory_bytes`` address-space limit.
``output-limit``  printed output beyond ``output_bytes`` was dropped, or a file hit ``file_bytes``.
``crashed``       the process ended (``os._exit``, a signal: the message names it) or broke the
                  grading protocol.

``memory-limit`` and ``output-limit`` can be non-fatal: then ``oracle.alive`` stays true and
grading goes on. A later fatal event replaces a non-fatal status; otherwise the first one stays.
A soft call timeout (the student function interrupted inside the sandbox) raises
:class:`CallTimedOut` without changing the status.

Isolation, per run: a fresh temporary folder; ``start_new_session``; when the grader is root, a
fresh unused uid/gid (so no other process can be signalled or read) and no-new-privileges; a new
mount and network namespace when possible: no network, a private size-limited tmpfs for the
folder and /tmp, and of the file system only the system directories (:data:`SYSTEM_DIRS`) plus
the Python installation, this package and the data directory, so tests, solutions and other
submissions are out of sight (as are the directories in ``hide``); rlimits on address space,
CPU, processes/threads, file size, open files; wall-clock deadlines enforced here. On close every
process of the run is SIGKILLed (by uid when root: nothing escapes via setsid or double fork;
the grading process is a child subreaper so orphans are reaped) and the folder is removed.

Without root none of the user switch, namespaces or hiding is possible: the notebook runs as the
grader's user (it could read and write the grader's files); processes are found by session,
environment marker and descent. Grade as root for untrusted submissions.
"""

import ctypes
import json
import os
import random
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from nnassign import wire
from nnassign.harness import EXIT_OUT_OF_MEMORY

OK, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, CRASHED = "ok", "timeout", "memory-limit", "output-limit", "crashed"
STATUSES = (OK, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, CRASHED)
_FATAL = (TIMEOUT, CRASHED)
MB = 2**20

# Variables that make numeric libraries start one thread per core: RLIMIT_NPROC counts threads.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    notebook_seconds: float = 900        # wall clock for executing all cells
    call_seconds: float = 60             # wall clock for one oracle request
    total_seconds: float | None = None   # wall clock for the whole run, notebook included
    grace_seconds: float = 2             # after a call's soft timeout, before the hard kill
    cpu_seconds: int | None = None       # None: notebook_seconds + (total_seconds or 3600)
    memory_bytes: int = 4096 * MB        # RLIMIT_AS
    processes: int = 64                  # RLIMIT_NPROC (threads count too)
    output_bytes: int = 1 * MB           # printed output kept, the rest dropped
    file_bytes: int = 64 * MB            # RLIMIT_FSIZE: largest file the student may write
    disk_bytes: int = 512 * MB           # private tmpfs for the folder and /tmp (isolated runs)
    open_files: int = 1024
    message_bytes: int = wire.MAX_FRAME  # largest value accepted from the sandbox


@dataclass(frozen=True)
class CellError:
    index: int
    type: str
    message: str

    def __str__(self):
        return f"cell {self.index}: {self.type}: {self.message}"


class SandboxError(Exception):
    """A problem on the grader's side: the run could not be set up."""


class OracleError(Exception):
    """A request to the oracle did not produce a value."""


class StudentError(OracleError):
    """The student's function raised."""

    def __init__(self, name, type_name, message):
        self.name, self.type_name, self.student_message = name, type_name, message
        super().__init__(f"your {name} raised {type_name}: {message}" if message
                         else f"your {name} raised {type_name}")


class CallTimedOut(OracleError):
    pass


class NotDefined(OracleError):
    def __init__(self, name):
        self.name = name
        super().__init__(f"{name} is not defined in your notebook")


class NotCallable(OracleError):
    pass


class Unsendable(OracleError):
    pass


class SandboxStopped(OracleError):
    pass


# ---------------------------------------------------------------------------- process helpers

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
_isolation_ok: bool | None = None


def become_subreaper():
    """Make this process a child subreaper (done by every start; idempotent): orphans of a run
    (setsid + double fork) are re-parented to us, not to init, so we can kill and reap them."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def can_isolate() -> bool:
    """Whether this process may create mount + network namespaces (root with CAP_SYS_ADMIN)."""
    global _isolation_ok
    if _isolation_ok is None:
        if os.geteuid() != 0:
            _isolation_ok = False
        else:
            pid = os.fork()
            if pid == 0:
                os._exit(0 if _libc.unshare(0x00020000 | 0x40000000) == 0 else 1)
            _isolation_ok = os.waitpid(pid, 0)[1] == 0
    return _isolation_ok


def _fresh_uid() -> int:
    """An id no account or running process uses: the run's processes are exactly those with it."""
    used = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
    rng = random.SystemRandom()
    while True:
        uid = rng.randrange(1_000_000_000, 2_000_000_000)
        if uid not in used:
            return uid


def _alive(pid: int) -> bool:
    """A zombie is dead too: where nobody reaps orphans (a container's init) it lingers."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def reap_stale(tmpdir=None) -> int:
    """Kill the processes and remove the folders of sandboxes whose grader died without closing them
    (kill -9). Returns how many were cleaned. Safe to call while other graders run: it only touches
    folders whose owning process is gone."""
    cleaned = 0
    tmpdir = tmpdir or tempfile.gettempdir()
    for entry in os.scandir(tmpdir):
        parts = entry.name.split("-")
        if len(parts) < 3 or parts[0] != "nnassign" or not parts[1].isdigit() or not entry.is_dir():
            continue
        if _alive(int(parts[1])) or entry.stat().st_uid != os.geteuid():
            continue
        try:
            with open(os.path.join(entry.path, "uid")) as f:
                uid = int(f.read())
        except (OSError, ValueError):
            uid = None
        if uid is not None and os.geteuid() == 0:
            for _ in range(50):
                _kill_uid(uid)
                if not _processes_of_uid(uid):
                    break
                time.sleep(0.01)
        shutil.rmtree(entry.path, ignore_errors=True)
        cleaned += 1
    return cleaned


def _processes_of_uid(uid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid``: kill(-1) from a child with that uid reaches all of them
    in one pass that forks cannot outrun (the kernel holds the task list lock)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _reap(match) -> int:
    """Reap our zombie children (re-parented orphans included) for which ``match(proc)`` holds;
    return how many matching children are left."""
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return 0
    left = 0
    for child in children:
        try:
            if match(child):
                if os.waitpid(child.pid, os.WNOHANG)[0] == 0:
                    left += 1
        except (psutil.Error, ChildProcessError):
            pass
    return left


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# Top-level directories an isolated notebook sees; every other one (/work, /home, /srv, /opt, ...,
# where tests, solutions and other submissions live) is replaced by an empty directory, and only
# the Python installation, this package and the data directory are bound back into it.
SYSTEM_DIRS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc",
                         "sys", "tmp", "var"})


def _hidden_dirs(extra) -> list[str]:
    tops = [os.path.join("/", d) for d in sorted(os.listdir("/")) if d not in SYSTEM_DIRS]
    tops = [d for d in tops if os.path.isdir(d) and not os.path.islink(d)]
    extra = [os.path.realpath(h) for h in extra if os.path.realpath(h) != "/"]
    return tops + [h for h in extra if h not in tops]


def _world_reachable(path: str) -> bool:
    parts = Path(os.path.abspath(path)).parts
    for i in range(1, len(parts) + 1):
        if not os.stat(os.path.join(*parts[:i])).st_mode & stat.S_IXOTH:
            return False
    return True


# ---------------------------------------------------------------------------- sandbox

class Sandbox:
    """Configuration of one run; ``start()`` (or ``with``) gives the :class:`Oracle`."""

    def __init__(self, notebook, files: dict[str, bytes | str | os.PathLike] | None = None,
                 limits: Limits | None = None, env: dict[str, str] | None = None,
                 python: str | None = None, isolate: bool | None = None,
                 hide: list[str] | None = None):
        self.notebook = notebook
        self.files = dict(files or {})
        self.limits = limits or Limits()
        self.env = dict(env) if env is not None else (
            {"NNASSIGN_DATA_DIR": os.environ["NNASSIGN_DATA_DIR"]} if "NNASSIGN_DATA_DIR" in os.environ else {})
        self.python = python or sys.executable
        self.isolate = isolate
        self.hide = list(hide or [])
        self._oracle = None
        for name in self.files:
            if not name or "/" in name or name in (".", "..") or name.startswith("."):
                raise SandboxError(f"file name {name!r} must be a plain file name")

    def start(self) -> "Oracle":
        oracle = Oracle(self)
        try:
            oracle._start()
        except BaseException:
            oracle.close()
            raise
        return oracle

    def __enter__(self) -> "Oracle":
        self._oracle = self.start()
        return self._oracle

    def __exit__(self, *exc):
        self._oracle.close()


class Oracle:
    """A running (or ended) student notebook. See the module docstring."""

    def __init__(self, sandbox: Sandbox):
        self._sb = sandbox
        self.limits = sandbox.limits
        self.status, self.message = OK, ""
        self.cell_errors: list[CellError] = []
        self.modules: list[str] = []
        self.uid = None
        self._proc = None
        self._pidfd = None
        self._fds: list[int] = []
        self._log = None
        self._base = None
        self._closed = False
        self._current_cell = None
        self.started = time.monotonic()
        self._total_deadline = None if self.limits.total_seconds is None \
            else self.started + self.limits.total_seconds

    # ------------------------------------------------------------------ public

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self._closed and self.status not in _FATAL \
            and self._proc.poll() is None

    def call(self, name: str, args=(), kwargs=None, timeout: float | None = None) -> Any:
        """Call the student's ``name(*args, **kwargs)`` in the sandbox and return the result."""
        timeout = self.limits.call_seconds if timeout is None else timeout
        return self._request({"op": "call", "name": name, "args": tuple(args), "kwargs": dict(kwargs or {})},
                             name, timeout)

    def get(self, name: str) -> Any:
        """The value of the notebook global ``name`` (functions and modules as :class:`wire.Ref`)."""
        return self._request({"op": "get", "name": name}, name, self.limits.call_seconds)

    def log(self, limit: int = 64 * 1024) -> str:
        """The first ``limit`` bytes of what the notebook printed (stdout and stderr)."""
        if self._log is None:
            return ""
        return os.pread(self._log.fileno(), limit, 0).decode("utf-8", "replace")

    def close(self) -> None:
        """Kill every process of the run, reap them, remove the folder. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._kill()
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if self._pidfd is not None:
            os.close(self._pidfd)
        if self._log is not None:
            self._log.close()
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ start

    def _start(self):
        sb, limits = self._sb, self.limits
        become_subreaper()
        root = os.geteuid() == 0
        isolate = can_isolate() if sb.isolate is None else bool(sb.isolate)
        if isolate and not root:
            raise SandboxError("isolation needs root")
        self.uid = _fresh_uid() if root else None

        data_dir = sb.env.get("NNASSIGN_DATA_DIR")
        data_paths = self._check_data_dir(data_dir, root) if data_dir else []
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(wire.__file__)))
        expose = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sb.python)), package_root,
                  *[p for p in site.getsitepackages() if os.path.isdir(p)], *data_paths]
        if root and not isolate:
            blocked = [p for p in expose if os.path.isdir(p) and not _world_reachable(p)]
            if blocked:
                raise SandboxError(f"the sandbox user cannot reach {blocked[0]} and this process cannot "
                                   f"create namespaces to expose it: install Python in a world-readable place")

        # The name carries our pid and the folder records the uid, so that a later batch can clean
        # up after a grader that was killed with -9 (see reap_stale).
        self._base = tempfile.mkdtemp(prefix=f"nnassign-{os.getpid()}-")
        os.chmod(self._base, 0o711)
        if self.uid is not None:
            with open(os.path.join(self._base, "uid"), "w") as f:
                f.write(str(self.uid))
        workdir = os.path.join(self._base, "work")
        os.mkdir(workdir, 0o700)
        with open(os.path.join(workdir, "notebook.ipynb"), "w", encoding="utf-8") as f:
            json.dump(self._notebook_dict(), f)
        for name, content in sb.files.items():
            target = os.path.join(workdir, name)
            if isinstance(content, (bytes, bytearray)):
                Path(target).write_bytes(content)
            else:
                shutil.copyfile(content, target)
            os.chmod(target, 0o644)
        if root and not isolate:
            for entry in [workdir, *[os.path.join(workdir, n) for n in os.listdir(workdir)]]:
                os.chown(entry, self.uid, self.uid)

        self._log = tempfile.TemporaryFile()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        self._fds = [req_w, resp_r]
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)
        self._req, self._resp = req_w, resp_r

        cpu = limits.cpu_seconds
        if cpu is None:
            cpu = int(limits.notebook_seconds + (limits.total_seconds or 3600))
        processes = limits.processes
        if not root:
            # RLIMIT_NPROC counts every process of the real uid: leave room for the existing ones.
            me = os.getuid()
            processes += sum(_safe_threads(p) for p in psutil.process_iter() if _safe_uid(p) == me)
        config = {
            "workdir": workdir, "notebook": "notebook.ipynb", "req_fd": req_r, "resp_fd": resp_w,
            "uid": self.uid, "gid": self.uid, "isolate": isolate, "disk_bytes": limits.disk_bytes,
            "expose": expose, "parent_pid": os.getpid(),
            "hide": _hidden_dirs(sb.hide),
            "limits": {"memory_bytes": limits.memory_bytes, "cpu_seconds": cpu, "processes": processes,
                       "file_bytes": limits.file_bytes, "output_bytes": limits.output_bytes,
                       "open_files": limits.open_files},
        }
        self._marker = f"{os.getpid()}-{id(self)}-{time.time_ns()}"
        env = self._environment(workdir)
        try:
            self._proc = subprocess.Popen(
                [sb.python, "-P", "-s", "-m", "nnassign.harness", json.dumps(config)],
                cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                pass_fds=(req_r, resp_w), start_new_session=True, close_fds=True)
        finally:
            os.close(req_r)
            os.close(resp_w)
        try:
            self._pidfd = os.pidfd_open(self._proc.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        self._run_notebook()

    def _notebook_dict(self):
        # Only cell types and sources matter to the harness; outputs (images...) stay behind.
        # Cell positions are kept so that cell indexes in messages match the submission.
        cells = [{"cell_type": c.get("cell_type"), "source": c.get("source", "")} for c in self._sb.notebook["cells"]]
        return {"cells": cells}

    def _environment(self, workdir):
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "HOME": workdir, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(workdir, ".config", "matplotlib"),
            "IPYTHONDIR": os.path.join(workdir, ".ipython"), "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1", "NNASSIGN_SANDBOX": self._marker,
        }
        env.update({var: "1" for var in _THREAD_VARS})
        # Deliberately nothing else from our environment: it may hold the grading secret.
        env.update(self._sb.env)
        return env

    def _check_data_dir(self, data_dir, root) -> list[str]:
        """Check the data directory is readable by the sandbox user; return the paths to expose
        (the directory, and the targets of symlinks in it, which may live in hidden places)."""
        if not os.path.isdir(data_dir):
            raise SandboxError(f"NNASSIGN_DATA_DIR {data_dir} is not a directory")
        paths = [data_dir]
        for entry in [data_dir, *[e.path for e in os.scandir(data_dir)]]:
            if os.path.islink(entry):
                target = os.path.realpath(entry)
                paths.append(target if os.path.isdir(target) else os.path.dirname(target))
            mode = os.stat(entry).st_mode
            need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
            if root and mode & need != need:
                raise SandboxError(f"{entry} is not readable by other users; the sandbox runs "
                                   f"as an unprivileged user (chmod -R o+rX {data_dir})")
        return paths

    def _run_notebook(self):
        deadline = self.started + self.limits.notebook_seconds
        if self._total_deadline is not None:
            deadline = min(deadline, self._total_deadline)
        while True:
            try:
                event = wire.read_message(self._resp, deadline, self.limits.message_bytes, self._pidfd)
            except wire.WireTimeout:
                where = f" (cell {self._current_cell} was running)" if self._current_cell is not None else ""
                self._fail(TIMEOUT, f"the notebook did not finish within {self.limits.notebook_seconds:g} s{where}")
                return
            except wire.PeerClosed:
                self._died(f"while running cell {self._current_cell}" if self._current_cell is not None
                           else "before running any cell")
                return
            except wire.ProtocolError as e:
                self._fail(CRASHED, f"the notebook broke the grading protocol: {e}")
                return
            kind = event.get("event") if isinstance(event, dict) else None
            if kind == "cell" and type(event.get("index")) is int:
                self._current_cell = event["index"]
            elif kind == "fatal":
                message = str(event.get("message"))[:300]
                self._kill()
                raise SandboxError(message)
            elif kind == "ready":
                self._ready(event)
                return
            else:
                self._fail(CRASHED, "the notebook broke the grading protocol: unexpected message")
                return

    def _ready(self, event):
        try:
            self.cell_errors = [CellError(int(e["index"]), str(e["type"])[:100], str(e["message"])[:300])
                                for e in event.get("cell_errors", [])]
            self.modules = [str(m) for m in event.get("modules", [])][:1000]
        except (TypeError, KeyError, ValueError):
            self._fail(CRASHED, "the notebook broke the grading protocol: malformed ready message")
            return
        memory = [e for e in self.cell_errors if e.type == "MemoryError"]
        if memory:
            self._note(MEMORY_LIMIT, f"cell {memory[0].index} ran out of memory "
                                     f"(limit {self.limits.memory_bytes // MB} MB)")
        if event.get("output_truncated") is True:
            self._note(OUTPUT_LIMIT, f"printed output beyond {self.limits.output_bytes // 1024} KB was dropped")
        self._check_log_size()

    def _check_log_size(self):
        if self._log is not None and os.fstat(self._log.fileno()).st_size >= self.limits.file_bytes:
            self._note(OUTPUT_LIMIT, f"output reached the {self.limits.file_bytes // MB} MB file-size limit")

    # ------------------------------------------------------------------ requests

    def _request(self, message, name, timeout):
        if not self.alive:
            if self._proc is not None and not self._closed and self.status not in _FATAL:
                self._died(f"before {name} was requested")
            raise SandboxStopped(f"your notebook's process is no longer running ({self.status}: {self.message})")
        now = time.monotonic()
        if self._total_deadline is not None:
            if now >= self._total_deadline:
                self._fail(TIMEOUT, f"the grading time budget of {self.limits.total_seconds:g} s was used up")
                raise CallTimedOut(f"{name}: the grading time budget was used up")
            timeout = min(timeout, self._total_deadline - now)
        message["timeout"] = timeout
        deadline = now + timeout + self.limits.grace_seconds
        try:
            text, blob = wire.encode(message, self.limits.message_bytes)
        except wire.EncodeError as e:
            raise Unsendable(f"cannot send the arguments for {name} to the notebook: {e}") from None
        try:
            wire.write_frame(self._req, text, blob, deadline, self._pidfd)
            reply = wire.read_message(self._resp, deadline, self.limits.message_bytes, self._pidfd)
        except wire.WireTimeout:
            self._fail(TIMEOUT, f"{name} did not return within {timeout:g} s and could not be interrupted")
            raise CallTimedOut(f"your {name} did not return within {timeout:g} s") from None
        except wire.PeerClosed:
            self._died(f"while running {name}")
            raise SandboxStopped(f"your notebook's process stopped while running {name} ({self.message})") from None
        except wire.ProtocolError as e:
            self._fail(CRASHED, f"the notebook broke the grading protocol while running {name}: {e}")
            raise SandboxStopped(f"{name}: {self.message}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self._fail(CRASHED, f"the notebook broke the grading protocol while running {name}")
            raise SandboxStopped(f"{name}: {self.message}")
        if reply["ok"]:
            return reply.get("value")
        kind, text = reply.get("error"), str(reply.get("message", ""))[:300]
        if kind == "student":
            raise StudentError(name, str(reply.get("type", "Exception"))[:100], text)
        if kind == "timeout":
            raise CallTimedOut(f"your {name} did not return within {timeout:g} s")
        if kind == "missing":
            raise NotDefined(name)
        if kind == "not-callable":
            raise NotCallable(f"{text} (it must be a function)")
        if kind == "unsendable":
            raise Unsendable(text)
        raise OracleError(f"{name}: {text or kind}")

    # ------------------------------------------------------------------ ending

    def _note(self, status, message):
        """A non-fatal event: the first one stays."""
        if self.status == OK:
            self.status, self.message = status, message

    def _fail(self, status, message):
        """A fatal event: kill the run; replaces a non-fatal status, never an earlier fatal one."""
        if self.status not in _FATAL:
            self.status, self.message = status, message
        self._kill()

    def _died(self, when):
        """The process ended on its own: find out how."""
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._fail(CRASHED, f"the notebook closed the grading channel {when}")
            return
        if code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                self._fail(TIMEOUT, f"the notebook used more than the CPU time limit {when}")
            elif sig == signal.SIGXFSZ:
                self._fail(OUTPUT_LIMIT, f"the notebook exceeded the file-size limit {when}")
            else:
                self._fail(CRASHED, f"the notebook process was killed by {_signal_name(sig)} {when}")
        elif code == EXIT_OUT_OF_MEMORY:  # keep the message naming the cell, if a cell already hit the limit
            self._fail(MEMORY_LIMIT, self.message if self.status == MEMORY_LIMIT
                       else f"the notebook held all the memory allowed and could not go on {when}")
        else:
            self._fail(CRASHED, f"the notebook process exited with status {code} {when}")
        self._check_log_size()

    def _kill(self):
        if self._proc is None:
            return
        if self.uid is not None:
            match = lambda p: _safe_uid(p) == self.uid and p.pid != self._proc.pid
            for _ in range(50):
                _kill_uid(self.uid)
                _reap(match)
                if not _processes_of_uid(self.uid):
                    break
                time.sleep(0.01)
        else:
            match = self._ours
            for _ in range(50):
                procs = [p for p in psutil.process_iter() if self._ours(p)]
                if self._proc.poll() is None:
                    procs.append(psutil.Process(self._proc.pid))
                if not procs:
                    break
                for p in procs:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                _reap(match)
                time.sleep(0.01)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # killed processes' orphans are re-parented to us a moment later: reap until none is left
        give_up = time.monotonic() + 2
        while _reap(match) and time.monotonic() < give_up:
            time.sleep(0.01)

    def _ours(self, p: psutil.Process) -> bool:
        """Without root: the run's processes carry our marker or live in the harness's session."""
        try:
            if p.pid == os.getpid():
                return False
            if p.status() == psutil.STATUS_ZOMBIE:
                return p.ppid() == os.getpid() and p.pid != self._proc.pid and os.getsid(p.pid) == self._proc.pid
            if os.getsid(p.pid) == self._proc.pid:
                return True
            return p.environ().get("NNASSIGN_SANDBOX") == self._marker
        except (psutil.Error, OSError):
            return False


def _safe_uid(p: psutil.Process):
    try:
        return p.uids().real
    except psutil.Error:
        return None


def _safe_threads(p: psutil.Process) -> int:
    try:
        return p.num_threads()
    except psutil.Error:
        return 0

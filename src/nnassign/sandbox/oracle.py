"""Run a student notebook in the sandbox and serve its functions as an oracle.

API::

    with Sandbox(notebook, files={"nn_data.py": path_or_bytes}, limits=Limits(...),
                 env={"NNASSIGN_DATA_DIR": "..."}) as oracle:
        oracle.status, oracle.message, oracle.cell_errors, oracle.modules
        oracle.call("softmax", (Z,), {}) ; oracle.get("params")   # value, or an OracleError subclass

Why an oracle: the grading process never runs student code. The notebook runs in
``python -m nnassign.harness`` inside bubblewrap (see :mod:`.bwrap`); the tests, run here, only
ask it questions over a pipe (see :mod:`.channel`), and whatever happens in there becomes a status
(see :mod:`.status`), never an exception of ours.

``Sandbox(...).start()`` returns the same :class:`Oracle` (call ``close()`` yourself). Starting
blocks until the notebook has run. It raises :class:`SandboxError` only for problems on the
grader's side (no user namespaces, unreadable data directory, harness setup failure). ``files``
are copied next to the notebook; the notebook's environment is ``env`` plus fixed basics, never
ours (it may hold the grading secret; keep the secret out of command lines too).

Statuses (``oracle.status``, with a one-line ``oracle.message``): ``ok``; ``timeout`` (the
notebook ran past ``notebook_seconds``, a call past ``call_seconds`` and could not be interrupted,
the ``total_seconds`` budget ran out, or the CPU limit hit); ``memory-limit`` (a cell or a called
function raised MemoryError under ``memory_bytes``, the process could not go on for lack of
memory, or a reply did not fit in the grader's own budget); ``output-limit``; ``crashed`` (the
process ended: ``os._exit``, a signal, named in the message; or it broke the protocol).
``memory-limit`` and ``output-limit`` can be non-fatal: then ``oracle.alive`` stays true.

Isolation (``isolate=True``, the default; ``set_isolation(False)`` or ``isolate=False`` for
``--unsafe-no-isolation``): bubblewrap with new user, mount, PID, IPC, network, UTS and cgroup
namespaces, as the grader's user, or as a fresh unused uid when the grader is root; rlimits set by the harness; wall-clock deadlines enforced here; while the tests run,
this process's own address space is capped (``Limits.grader_memory_bytes``). On close the run's
PID namespace is killed (bwrap's PID 1 first; by uid too when there is one) and reaped. Without
isolation the notebook runs as the grader's user, in its own session, and sees all its files.
``isolate=uidonly.UID_ONLY`` (root, where namespaces are refused, e.g. Docker's seccomp): no namespace,
but a fresh uid, rlimits and the same kill by uid (see :mod:`.uidonly`).
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from nnassign import wire
from nnassign.harness import EXIT_OUT_OF_MEMORY
from nnassign.sandbox import bwrap, procs, uidonly
from nnassign.sandbox.channel import Channel, answer
from nnassign.sandbox.limits import MB, GraderMemoryBudget, Limits
from nnassign.sandbox.status import (CRASHED, MEMORY_LIMIT, OK, OUTPUT_LIMIT, TIMEOUT, CallTimedOut, CellError,
                                     SandboxError, SandboxStopped, Status, StudentError, Unsendable)

# Variables that make numeric libraries start one thread per core: RLIMIT_NPROC counts threads.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
_default_isolate = True


def set_isolation(isolate) -> None:
    """The default of ``Sandbox(isolate=None)`` in this process (``--unsafe-no-isolation``: False;
    ``uidonly.UID_ONLY``: the fallback without namespaces, a fresh uid and rlimits, root only)."""
    global _default_isolate
    _default_isolate = isolate if isolate == uidonly.UID_ONLY else bool(isolate)


def can_isolate() -> bool:
    """Whether bubblewrap can build the sandbox here (user namespaces allowed)."""
    return bwrap.isolation_problem(False) is None


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
        mode = _default_isolate if isolate is None else isolate
        self.uid_only = mode == uidonly.UID_ONLY     # no namespaces, but a fresh uid (see uidonly)
        self.isolate = False if self.uid_only else bool(mode)
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
        self._status = Status()
        self.cell_errors: list[CellError] = []
        self.modules: list[str] = []
        self.uid = None
        self.isolated = sandbox.isolate
        self.uid_only = sandbox.uid_only
        self._proc = None
        self._pidfd = None
        self._child_pidfd = None     # bwrap's PID 1: the run's PID namespace lives as long as it does
        self._channel = None
        self._log = None
        self._base = None
        self._closed = False
        self._stopped = False        # we killed the run (a fatal event): no later diagnosis
        self._current_cell = None
        self._budget = GraderMemoryBudget(self.limits.grader_memory_bytes)
        self.started = time.monotonic()
        self._total_deadline = None if self.limits.total_seconds is None \
            else self.started + self.limits.total_seconds

    # ------------------------------------------------------------------ public

    @property
    def status(self) -> str:
        return self._status.status

    @property
    def message(self) -> str:
        return self._status.message

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self._closed and not self._stopped and not self._status.fatal \
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
        self._budget.release()
        self._kill()
        if self._channel is not None:
            self._channel.close()
        for fd in (self._pidfd, self._child_pidfd):
            if fd is not None:
                os.close(fd)
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
        procs.become_subreaper()
        root = os.geteuid() == 0
        data_dir = sb.env.get("NNASSIGN_DATA_DIR")
        data_paths = self._check_data_dir(data_dir, root) if data_dir else []
        expose = [*bwrap.python_paths(sb.python), *data_paths]
        if self.isolated:
            bwrap_binary = bwrap.binary()
            problem = bwrap.isolation_problem(root)
            if problem:
                raise SandboxError(problem)
            self.uid = procs.fresh_uid() if root else None   # root in a user namespace escapes RLIMIT_NPROC
            workdir = bwrap.WORKDIR
        else:
            # The name carries our pid, so that a later batch can clean up after a grader killed
            # with -9 (see procs.reap_stale).
            self._base = tempfile.mkdtemp(prefix=f"nnassign-{os.getpid()}-")
            workdir = os.path.join(self._base, "work")
            os.mkdir(workdir, 0o700)
            if self.uid_only:
                problem = uidonly.uid_only_problem(expose)
                if problem:
                    raise SandboxError(f"the fallback isolation (uid switch) cannot run: {problem}")
                self.uid = uidonly.prepare(self._base, workdir)

        self._log = tempfile.TemporaryFile()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        self._channel = Channel(req_w, resp_r, None, limits.message_bytes)

        cpu = limits.cpu_seconds
        if cpu is None:
            cpu = int(limits.notebook_seconds + (limits.total_seconds or 3600))
        processes = limits.processes
        if not self.isolated and not self.uid_only:   # a fresh uid has no process yet
            # RLIMIT_NPROC counts every process of the real uid: leave room for the existing ones.
            # (In bwrap's user namespace it counts the processes of that namespace only.)
            me = os.getuid()
            processes += sum(procs.safe_threads(p) for p in psutil.process_iter() if procs.safe_uid(p) == me)
        config = {
            "workdir": workdir, "notebook": "notebook.ipynb", "req_fd": req_r, "resp_fd": resp_w,
            "parent_pid": None if self.isolated else os.getpid(),
            "limits": {"memory_bytes": limits.memory_bytes, "cpu_seconds": cpu, "processes": processes,
                       "file_bytes": limits.file_bytes, "output_bytes": limits.output_bytes,
                       "open_files": limits.open_files},
        }
        self._marker = f"{os.getpid()}-{id(self)}-{time.time_ns()}"
        env = self._environment(workdir)
        program = [sb.python, "-P", "-s", "-m", "nnassign.harness", json.dumps(config)]
        notebook = json.dumps(self._notebook_dict()).encode()
        info_r = None
        try:
            if self.isolated:
                cmd = bwrap.Command(bwrap_binary, limits.disk_bytes)
                try:
                    for path in expose:
                        cmd.bind(path)
                    for path in sb.hide:
                        cmd.hide(path)
                    for dest, content in bwrap.passwd_files().items():
                        cmd.file(dest, content)
                    cmd.file(f"{workdir}/notebook.ipynb", notebook)
                    for name, content in sb.files.items():
                        data = bytes(content) if isinstance(content, (bytes, bytearray)) else Path(content).read_bytes()
                        cmd.file(f"{workdir}/{name}", data)
                    info_r = cmd.pipe_for_info()
                    self._proc = subprocess.Popen(
                        cmd.argv(program, chdir=workdir), env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                        stderr=self._log, pass_fds=(req_r, resp_w, *cmd.fds), start_new_session=True,
                        close_fds=True, **bwrap.user_switch(self.uid, expose))
                finally:
                    cmd.close()
            else:
                Path(workdir, "notebook.ipynb").write_bytes(notebook)
                for name, content in sb.files.items():
                    target = os.path.join(workdir, name)
                    if isinstance(content, (bytes, bytearray)):
                        Path(target).write_bytes(content)
                    else:
                        shutil.copyfile(content, target)
                if self.uid is not None:
                    uidonly.chown_tree(workdir, self.uid)
                self._proc = subprocess.Popen(
                    program, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                    pass_fds=(req_r, resp_w), start_new_session=True, close_fds=True,
                    **(uidonly.user_switch(self.uid) if self.uid is not None else {}))
        finally:
            os.close(req_r)
            os.close(resp_w)
        try:
            self._pidfd = os.pidfd_open(self._proc.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        self._channel.pidfd = self._pidfd
        if info_r is not None:
            self._child_pidfd = _read_child_pidfd(info_r, time.monotonic() + 30)
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
            need = 0o004 | (0o001 if os.path.isdir(entry) else 0)
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
                event = self._channel.receive(deadline)
            except wire.WireTimeout:
                where = f" (cell {self._current_cell} was running)" if self._current_cell is not None else ""
                self._fail(TIMEOUT, f"the notebook did not finish within {self.limits.notebook_seconds:g} s{where}")
                return
            except wire.PeerClosed:
                if self._current_cell is None:
                    self._setup_failed()
                self._died(f"while running cell {self._current_cell}" if self._current_cell is not None
                           else "before running any cell")
                return
            except wire.ProtocolError as e:
                self._fail(CRASHED, f"the notebook broke the grading protocol: {e}")
                return
            except MemoryError:
                self._fail(MEMORY_LIMIT, "the notebook sent a message too large for the grader's memory")
                return
            kind = event.get("event") if isinstance(event, dict) else None
            if kind == "import":
                self._imported(event)
            elif kind == "cell" and type(event.get("index")) is int:
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

    def _setup_failed(self):
        """The process ended before its first event: bwrap's own refusal is the grader's problem."""
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return
        text = self.log(4096)
        line = next((l for l in text.splitlines() if l.startswith("bwrap:")), None)
        if line is not None:
            self._kill()
            raise SandboxError(f"the sandbox could not be set up: {line[:300]}")

    def _ready(self, event):
        try:
            self.cell_errors = [CellError(int(e["index"]), str(e["type"])[:100], str(e["message"])[:300])
                                for e in event.get("cell_errors", [])]
            self.modules = sorted({*self.modules, *(str(m)[:100] for m in event.get("modules", [])[:1000])})
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
        self._budget.apply()   # from here on the tests compute on what the notebook returns

    def _check_log_size(self):
        if self._log is not None and os.fstat(self._log.fileno()).st_size >= self.limits.file_bytes:
            self._note(OUTPUT_LIMIT, f"output reached the {self.limits.file_bytes // MB} MB file-size limit")

    # ------------------------------------------------------------------ requests

    def _request(self, message, name, timeout):
        if not self.alive:
            if self._proc is not None and not self._closed and not self._stopped and not self._status.fatal \
                    and self._proc.poll() is not None:
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
            reply = self._channel.ask(message, deadline)
            while isinstance(reply, dict) and reply.get("event") == "import":   # loaded while serving
                self._imported(reply)
                reply = self._channel.receive(deadline)
        except wire.EncodeError as e:
            raise Unsendable(f"cannot send the arguments for {name} to the notebook: {e}") from None
        except wire.WireTimeout:
            self._fail(TIMEOUT, f"{name} did not return within {timeout:g} s and could not be interrupted")
            raise CallTimedOut(f"your {name} did not return within {timeout:g} s") from None
        except wire.PeerClosed:
            self._died(f"while running {name}")
            raise SandboxStopped(f"your notebook's process stopped while running {name} ({self.message})") from None
        except wire.ProtocolError as e:
            self._fail(CRASHED, f"the notebook broke the grading protocol while running {name}: {e}")
            raise SandboxStopped(f"{name}: {self.message}") from None
        except MemoryError:   # the reply does not fit in the grader's budget: the channel is mid-frame
            self._fail(MEMORY_LIMIT, f"{name} returned more than the grader's memory budget allows")
            raise SandboxStopped(f"{name}: {self.message}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self._fail(CRASHED, f"the notebook broke the grading protocol while running {name}")
            raise SandboxStopped(f"{name}: {self.message}")
        try:
            return answer(reply, name, timeout)
        except StudentError as e:
            if e.type_name == "MemoryError":
                self._note(MEMORY_LIMIT, f"{name} ran out of memory (limit {self.limits.memory_bytes // MB} MB)")
            raise

    def _imported(self, event):
        """An ``import`` event of the harness's audit hook: a package the notebook loaded."""
        module = event.get("module")
        if isinstance(module, str) and module not in self.modules and len(self.modules) < 1000:
            self.modules.append(module[:100])

    # ------------------------------------------------------------------ ending

    def _note(self, status, message):
        """A non-fatal event: the first one stays."""
        self._status.note(status, message)

    def _fail(self, status, message):
        """A fatal event: kill the run; replaces a non-fatal status, never an earlier fatal one."""
        self._status.fail(status, message)
        self._stopped = True
        self._kill()

    def _died(self, when):
        """The process ended on its own: find out how."""
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._fail(CRASHED, f"the notebook closed the grading channel {when}")
            return
        if self.isolated and 128 < code < 128 + 65:
            code = -(code - 128)    # bwrap reports a child killed by signal N as 128 + N
        if code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                self._fail(TIMEOUT, f"the notebook used more than the CPU time limit {when}")
            elif sig == signal.SIGXFSZ:
                self._fail(OUTPUT_LIMIT, f"the notebook exceeded the file-size limit {when}")
            else:
                self._fail(CRASHED, f"the notebook process was killed by {procs.signal_name(sig)} {when}")
        elif code == EXIT_OUT_OF_MEMORY:  # keep the message naming the cell, if a cell already hit the limit
            self._fail(MEMORY_LIMIT, self.message if self.status == MEMORY_LIMIT
                       else f"the notebook held all the memory allowed and could not go on {when}")
        else:
            self._fail(CRASHED, f"the notebook process exited with status {code} {when}")
        self._check_log_size()

    def _kill(self):
        if self._proc is None:
            return
        if self.isolated:
            self._kill_namespace()
        else:
            self._kill_session()
            if self.uid is not None:   # the uid-only fallback: whatever escaped the session, by uid
                for _ in range(50):
                    procs.kill_uid(self.uid)
                    procs.reap(lambda p: procs.safe_uid(p) == self.uid)
                    if not procs.processes_of_uid(self.uid):
                        break
                    time.sleep(0.01)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def _kill_namespace(self):
        """bwrap's PID 1 dying takes every process of the PID namespace with it (the kernel kills
        them); the outer bwrap and, with a uid of our own, anything of that uid go too."""
        for fd in (self._child_pidfd, self._pidfd):
            if fd is not None:
                try:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                except OSError:
                    pass
        if self._pidfd is None:
            try:
                self._proc.kill()
            except OSError:
                pass
        if self.uid is not None:
            for _ in range(50):
                procs.kill_uid(self.uid)
                procs.reap(lambda p: procs.safe_uid(p) == self.uid and p.pid != self._proc.pid)
                if not procs.processes_of_uid(self.uid):
                    break
                time.sleep(0.01)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # PID 1 is re-parented to us (a subreaper) when the outer bwrap dies first: reap it
        give_up = time.monotonic() + 5
        while self._child_pidfd is not None and time.monotonic() < give_up:
            if not select.select([self._child_pidfd], [], [], 0)[0]:
                time.sleep(0.005)
                continue
            try:
                os.waitid(os.P_PIDFD, self._child_pidfd, os.WEXITED | os.WNOHANG)
            except (ChildProcessError, OSError):
                pass
            break

    def _kill_session(self):
        """Without namespaces: the run's processes carry our marker or live in the harness's session."""
        match = self._ours
        for _ in range(50):
            found = [p for p in psutil.process_iter() if self._ours(p)]
            if self._proc.poll() is None:
                found.append(psutil.Process(self._proc.pid))
            if not found:
                break
            for p in found:
                try:
                    p.kill()
                except psutil.Error:
                    pass
            procs.reap(match)
            time.sleep(0.01)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        give_up = time.monotonic() + 2
        while procs.reap(match) and time.monotonic() < give_up:
            time.sleep(0.01)

    def _ours(self, p: psutil.Process) -> bool:
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


def _read_child_pidfd(fd: int, deadline: float) -> int | None:
    """bwrap's ``--info-fd`` JSON names its PID 1 (in our namespace): return a pidfd for it."""
    data = b""
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            try:
                pid = int(json.loads(data)["child-pid"])
            except (ValueError, KeyError, TypeError):
                continue
            return os.pidfd_open(pid)
    except OSError:
        return None
    finally:
        os.close(fd)
    return None

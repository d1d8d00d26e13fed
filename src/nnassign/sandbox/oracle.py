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

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from nnassign import wire
from nnassign.harness import EXIT_OUT_OF_MEMORY
from nnassign.sandbox import bwrap, procs, uidonly
from nnassign.sandbox.channel import Channel, answer
from nnassign.sandbox.launch import Launch
from nnassign.sandbox.limits import MB, GraderMemoryBudget, Limits
from nnassign.sandbox.status import (CRASHED, MEMORY_LIMIT, OUTPUT_LIMIT, TIMEOUT, CallTimedOut, CellError,
                                     SandboxError, SandboxStopped, Status, StudentError, Unsendable)

_default_isolate = True


def set_isolation(isolate) -> None:
    """The default of ``Sandbox(isolate=None)`` in this process (``--unsafe-no-isolation``: False;
    ``uidonly.UID_ONLY``: the fallback without namespaces, a fresh uid and rlimits, root only)."""
    global _default_isolate
    _default_isolate = isolate if isolate == uidonly.UID_ONLY else bool(isolate)


def can_isolate() -> bool:
    """Whether bubblewrap can build the sandbox here (user namespaces allowed)."""
    return bwrap.isolation_problem(False) is None


def _widen(fd, size=1 << 20):
    """A 1 MB pipe instead of 64 KB: the training images (about 100 MB) cross in a sixteenth of the
    wake-ups. Best effort: the system's pipe-max-size may be lower."""
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except OSError:
        pass


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
        self.isolated = sandbox.isolate
        self.uid_only = sandbox.uid_only
        self._run = Launch(sandbox, self.limits)
        self._channel = None
        self._log = None
        self._closed = False
        self._stopped = False        # we killed the run (a fatal event): no later diagnosis
        self._current_cell = None
        self._budget = GraderMemoryBudget(self.limits.grader_memory_bytes)
        self.started = time.monotonic()
        self._total_deadline = None if self.limits.total_seconds is None \
            else self.started + self.limits.total_seconds

    # ------------------------------------------------------------------ public

    @property
    def uid(self):
        """The run's own uid outside the sandbox (grading as root), else None."""
        return self._run.uid

    @property
    def _proc(self):
        return self._run.proc

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

    def grader_out_of_memory(self, where: str) -> None:
        """Record that the grading process ran out of its memory budget on what this notebook
        returned (e.g. a test computing on 60,000 hidden units): the ``memory-limit`` status,
        non-fatal. For the judge, which catches the MemoryError of a test."""
        budget = self.limits.grader_memory_bytes
        self._note(MEMORY_LIMIT, f"{where} ran out of the grader's memory budget"
                                 + (f" ({budget // MB} MB)" if budget else ""))

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
        self._run.close()
        if self._log is not None:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ start

    def _start(self):
        procs.become_subreaper()
        self._log = tempfile.TemporaryFile()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        for fd in (req_w, resp_w):
            _widen(fd)
        self._channel = Channel(req_w, resp_r, None, self.limits.message_bytes)
        self._run.start(json.dumps(self._notebook_dict()).encode(), req_r, resp_w, self._log)
        self._channel.pidfd = self._run.pidfd
        self._run_notebook()

    def _notebook_dict(self):
        # Only cell types and sources matter to the harness; outputs (images...) stay behind.
        # Cell positions are kept so that cell indexes in messages match the submission.
        cells = [{"cell_type": c.get("cell_type"), "source": c.get("source", "")} for c in self._sb.notebook["cells"]]
        return {"cells": cells}

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
        self._run.kill()


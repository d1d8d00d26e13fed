"""The process that runs a student notebook inside the sandbox: ``python -P -m nnassign.harness CONFIG``.

Started by :mod:`nnassign.sandbox` (never by hand). ``CONFIG`` is one JSON argument:
``workdir``, ``notebook`` (file name in workdir), ``req_fd``/``resp_fd`` (the private pipe),
``limits`` (memory_bytes, cpu_seconds, processes, file_bytes, output_bytes, open_files),
``parent_pid`` (null inside bubblewrap, whose PID 1 is our parent).

``sys.argv`` is reset to ``["notebook.ipynb"]`` before the first cell.

Order matters: started inside bubblewrap (namespaces, file system view, user: see
:mod:`nnassign.sandbox.bwrap`), while still trusted it sets its limits (rlimits,
no-new-privileges, parent-death signal), then executes the code cells with IPython, then serves
requests. From the first student cell on, everything in this process may be tampered with; the
grader treats every reply as untrusted data (see :mod:`nnassign.wire`).

Events sent on ``resp_fd``:  ``{"event": "cell", "index": i}`` before each code cell,
``{"event": "ready", "cell_errors": [...], "output_truncated", "memory_error", "modules"}``,
``{"event": "fatal", "message"}`` (setup failed, then exit 3).
Requests on ``req_fd`` and replies:
``{"op": "call", "name", "args", "kwargs", "timeout"}`` -> ``{"ok": True, "value"}``
``{"op": "get", "name"}`` -> ``{"ok": True, "value"}`` (functions/modules as :class:`wire.Ref`)
``{"op": "status"}`` -> ``{"ok": True, "value": {"cell_errors", "output_truncated", "memory_error"}}``
``{"op": "exit"}``. Failures: ``{"ok": False, "error": kind, "type", "message"}`` with kind
``student`` (the student's code raised), ``timeout``, ``missing``, ``not-callable``,
``unsendable``, ``bad-request``.
"""

import ctypes
import io
import json
import os
import resource
import signal
import sys
import types

from nnassign import wire

MESSAGE_CHARS = 300
_MAIN_PID = os.getpid()


def one_line(text, limit=MESSAGE_CHARS):
    """First line of ``text``, printable, at most ``limit`` characters."""
    text = str(text).strip().split("\n", 1)[0]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe_exception(e):
    try:
        msg = one_line(e)
    except BaseException:  # a student exception whose __str__ fails
        msg = "(message unavailable)"
    return type(e).__name__, msg


_LIBRARY_DIRS = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                     os.path.dirname(os.path.dirname(__file__)))})


def failing_function(e):
    """The innermost function of the notebook's own code in ``e``'s traceback (None when the error
    arose outside it): ``train`` failing inside the student's ``backprop`` is then reported as
    backprop's error, the function that has the bug."""
    found, tb = None, getattr(e, "__traceback__", None)
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.realpath(code.co_filename) if not code.co_filename.startswith("<") else ""
        if not path.startswith(_LIBRARY_DIRS) and code.co_name.isidentifier():
            found = code.co_name
        tb = tb.tb_next
    return found


def call_error_reply(name, e):
    """The reply for an error raised by a call of ``name``: its type, message and, when it arose in
    another of the notebook's functions, that function's name."""
    kind, message = describe_exception(e)
    inner = failing_function(e)
    reply = {"ok": False, "error": "student", "type": kind, "message": message}
    if inner and inner != name:
        reply["where"] = inner
    return reply


# ---------------------------------------------------------------------------- confinement

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def _ccall(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _confine(config):
    """Limits of this process and its children, set while still trusted. The namespaces, the file
    system view and the user are bubblewrap's work (see nnassign.sandbox.bwrap), done before we start."""
    limits = config["limits"]
    os.chdir(config["workdir"])
    for name, value in [("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_NOFILE", limits["open_files"]),
                        ("RLIMIT_CORE", 0)]:
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))
    if limits["cpu_seconds"] is not None:
        # soft limit: SIGXCPU (we report a timeout); hard limit a little later: SIGKILL
        resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 2))
    # an output cap must make writes fail (EFBIG), not kill the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _ccall(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _ccall(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    # without bubblewrap (its PID 1 is our parent then) the grader itself must still be there
    if config.get("parent_pid") is not None and os.getppid() != config["parent_pid"]:
        os._exit(5)


# ---------------------------------------------------------------------------- notebook execution

class CappedStream(io.TextIOBase):
    """stdout/stderr replacement: writes to a fd until a shared byte budget is spent, then drops."""

    def __init__(self, fd, budget):
        self._fd, self._budget = fd, budget

    def writable(self):
        return True

    def fileno(self):
        return self._fd

    @property
    def encoding(self):
        return "utf-8"

    def write(self, s):
        data = str(s).encode("utf-8", "replace")
        if self._budget[0] <= 0:
            return len(s)
        if len(data) > self._budget[0]:
            data = data[:self._budget[0]] + b"\n[nnassign: output truncated]\n"
        self._budget[0] -= len(data)
        try:
            os.write(self._fd, data)
        except OSError:
            pass  # file-size limit reached: drop
        return len(s)

    def flush(self):
        pass


class _NoOp:
    """Stands in for Otter's Notebook: every attribute is a no-op callable."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _NoOp()

    def __repr__(self):
        return "<otter is disabled while grading>"


def _stub_attribute(name):
    """Module-level ``__getattr__`` of the stub: any public name is a no-op, but dunder names
    (``__file__``, ``__path__``, ``__spec__``...) do not exist, as for a real module without them:
    ``%load_ext autoreload`` and other module walkers must not mistake the stub for a package."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(f"module 'otter' has no attribute {name!r}")
    return _NoOp


def install_otter_stub(namespace):
    stub = types.ModuleType("otter")
    stub.Notebook = _NoOp
    stub.__getattr__ = _stub_attribute
    sys.modules["otter"] = stub
    namespace["grader"] = _NoOp()


def make_shell():
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell

    cfg = Config()
    cfg.HistoryManager.enabled = False   # no sqlite file, no saving thread
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.xmode = "Plain"
    shell = InteractiveShell.instance(config=cfg)
    shell.register_magic_function(lambda line="": None, "line", "matplotlib")  # Agg is forced
    return shell


def execute_notebook(shell, cells, send):
    """Run every code cell; return (cell_errors, memory_error)."""
    errors, memory_error = [], False
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if not source.strip():
            continue
        send({"event": "cell", "index": index})
        try:
            result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except BaseException as e:   # the shell itself failed (e.g. memory exhausted mid-traceback)
            error = e
        if os.getpid() != _MAIN_PID:
            os._exit(0)   # a fork made by the student's cell must not continue as the harness
        if error is not None:
            kind, message = describe_exception(error)
            memory_error = memory_error or isinstance(error, MemoryError)
            errors.append({"index": index, "type": kind, "message": message})
    return errors, memory_error


# ---------------------------------------------------------------------------- serving

class CallTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise CallTimeout()


def _resolve_refs(value, ns):
    if isinstance(value, wire.Ref):
        if value.kind == "function" and callable(ns.get(value.name)):
            return ns[value.name]
        raise KeyError(value.name)
    if isinstance(value, list):
        return [_resolve_refs(v, ns) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve_refs(v, ns) for v in value)
    if isinstance(value, dict):
        return {k: _resolve_refs(v, ns) for k, v in value.items()}
    return value


def _as_value(name, value):
    if isinstance(value, types.ModuleType):
        return wire.Ref("module", getattr(value, "__name__", name))
    if callable(value):
        return wire.Ref("function", name)
    return value


def handle(request, ns, state):
    op = request.get("op") if isinstance(request, dict) else None
    name = request.get("name") if isinstance(request, dict) else None
    if op == "status":
        return {"ok": True, "value": {"cell_errors": state["cell_errors"], "memory_error": state["memory_error"],
                                      "output_truncated": state["budget"][0] <= 0}}
    if op == "exit":
        os._exit(0)
    if op not in ("call", "get") or not isinstance(name, str):
        return {"ok": False, "error": "bad-request", "message": "unknown request"}
    if name not in ns:
        return {"ok": False, "error": "missing", "message": f"{name} is not defined"}
    if op == "get":
        return {"ok": True, "value": _as_value(name, ns[name])}
    func = ns[name]
    if not callable(func):
        return {"ok": False, "error": "not-callable", "message": f"{name} is a {type(func).__name__}, not a function"}
    try:
        args = _resolve_refs(tuple(request.get("args", ())), ns)
        kwargs = _resolve_refs(dict(request.get("kwargs", {})), ns)
    except (KeyError, TypeError) as e:
        return {"ok": False, "error": "bad-request", "message": f"cannot resolve argument {e}"}
    timeout = float(request.get("timeout") or 0)
    try:
        # the notebook may have replaced the handler or blocked the signal: take them back
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            value = func(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CallTimeout:
        return {"ok": False, "error": "timeout", "message": f"{name} did not return within {timeout:g} s"}
    except BaseException as e:
        return call_error_reply(name, e)
    finally:
        if os.getpid() != _MAIN_PID:
            os._exit(0)
    if isinstance(value, types.ModuleType) or callable(value):
        return {"ok": False, "error": "unsendable", "message": f"{name}() returned a function or module, not data"}
    return {"ok": True, "value": value}


def install_import_audit(send):
    """Report every package the notebook loads, the moment it loads it, as an ``import`` event.

    An audit hook cannot be removed from Python code, and each report is written to the grader
    at once, so emptying ``sys.modules`` or importing through a name built at run time leaves the
    evidence in place. Files opened under a ``site-packages`` folder count too (loading a module
    from its path bypasses the import statement). The functions used are bound now, before any
    student code runs, so replacing ``os.write`` later changes nothing."""
    seen = {m.split(".", 1)[0] for m in sys.modules}

    def report(top, _seen=seen, _send=send):
        if top and top not in _seen:
            _seen.add(top)
            _send({"event": "import", "module": top})

    def hook(event, args, _report=report, _str=str, _isinstance=isinstance):
        try:
            if event == "import" and args:
                _report(_str(args[0]).split(".", 1)[0])
            elif event == "open" and args and _isinstance(args[0], _str) and "-packages/" in args[0]:
                top = args[0].split("-packages/", 1)[1].split("/", 1)[0]
                _report(top.split(".", 1)[0])
        except Exception:  # noqa: BLE001 - a report that cannot be sent stops the import instead
            raise ImportError("the grader could not record this import") from None

    sys.addaudithook(hook)


EXIT_OUT_OF_MEMORY = 5  # the parent reports this exit status as memory-limit, not crashed


def serve(req_fd, resp_fd, ns, state):
    while True:
        try:
            request = wire.read_message(req_fd)
        except wire.PeerClosed:
            os._exit(0)
        except (wire.WireError, OSError):
            os._exit(4)
        except MemoryError:  # the notebook holds all the memory allowed: no room even for a request
            os._exit(EXIT_OUT_OF_MEMORY)
        try:
            try:
                reply = handle(request, ns, state)
            except CallTimeout:   # the alarm fired just after the call returned
                reply = {"ok": False, "error": "timeout", "message": "timed out"}
            try:
                wire.write_message(resp_fd, reply)
            except wire.EncodeError as e:
                what = request.get("name", "?") + ("()" if request.get("op") == "call" else "")
                wire.write_message(resp_fd, {"ok": False, "error": "unsendable",
                                             "message": f"{what} gave a value the grader cannot receive: {one_line(e)}"})
        except MemoryError:   # no room to build or encode the reply: the grader reports memory-limit
            os._exit(EXIT_OUT_OF_MEMORY)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    config = json.loads(argv[0])
    req_fd, resp_fd = config["req_fd"], config["resp_fd"]

    def send(message):
        wire.write_message(resp_fd, message)

    try:
        _confine(config)
        # the student's subprocesses must not inherit the channel
        os.set_inheritable(req_fd, False)
        os.set_inheritable(resp_fd, False)
        with open(config["notebook"], encoding="utf-8") as f:
            cells = json.load(f)["cells"]
        budget = [int(config["limits"]["output_bytes"])]
        sys.stdout = CappedStream(1, budget)
        sys.stderr = CappedStream(2, budget)
        shell = make_shell()
    except BaseException as e:
        kind, message = describe_exception(e)
        try:
            send({"event": "fatal", "message": f"sandbox setup failed: {kind}: {message}"})
        finally:
            os._exit(3)

    ns = shell.user_ns
    sys.argv = ["notebook.ipynb"]   # as in a kernel: the config is nobody's business
    install_import_audit(send)
    install_otter_stub(ns)
    sys.path.insert(0, os.getcwd())  # like a notebook kernel: files next to the notebook import
    errors, memory_error = execute_notebook(shell, cells, send)
    state = {"cell_errors": errors, "memory_error": memory_error, "budget": budget}
    modules = sorted({m.split(".", 1)[0] for m in list(sys.modules)})
    send({"event": "ready", "cell_errors": errors, "memory_error": memory_error,
          "output_truncated": budget[0] <= 0, "modules": modules})
    serve(req_fd, resp_fd, ns, state)


if __name__ == "__main__":
    main()

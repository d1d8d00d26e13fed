"""The process of one run: the harness started inside bubblewrap (or bare, unsafely), and its end.

API::

    run = Launch(sandbox, limits)          # sandbox: what to run (notebook, files, env, python, isolate)
    run.start(req_r, resp_w, log)          # Popen; run.proc, run.pidfd, run.uid, run.isolated
    run.kill(); run.close()                # every process of the run dies; descriptors, folder go

Why apart from the oracle: starting and ending processes is about the operating system (namespaces,
uids, pidfds, subreapers); the oracle is about the conversation with the notebook.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from nnassign.sandbox import bwrap, procs, uidonly
from nnassign.sandbox.status import SandboxError

# Variables that make numeric libraries start one thread per core: RLIMIT_NPROC counts threads.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")


class Launch:
    def __init__(self, sandbox, limits):
        self._sb, self.limits = sandbox, limits
        self.isolated = sandbox.isolate
        self.uid_only = sandbox.uid_only
        self.uid = None
        self.proc = None
        self.pidfd = None
        self.child_pidfd = None     # bwrap's PID 1: the run's PID namespace lives as long as it does
        self.base = None
        self.marker = f"{os.getpid()}-{id(self)}-{time.time_ns()}"

    def start(self, notebook: bytes, req_r: int, resp_w: int, log) -> None:
        """Start the harness with the pipe ends ``req_r``/``resp_w`` (closed here) and output to ``log``."""
        sb, limits = self._sb, self.limits
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
            self.base = tempfile.mkdtemp(prefix=f"nnassign-{os.getpid()}-")
            workdir = os.path.join(self.base, "work")
            os.mkdir(workdir, 0o700)
            if self.uid_only:
                problem = uidonly.uid_only_problem(expose)
                if problem:
                    raise SandboxError(f"the fallback isolation (uid switch) cannot run: {problem}")
                self.uid = uidonly.prepare(self.base, workdir)

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
        self.marker = f"{os.getpid()}-{id(self)}-{time.time_ns()}"
        env = self._environment(workdir)
        program = [sb.python, "-P", "-s", "-m", "nnassign.harness", json.dumps(config)]
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
                    self.proc = subprocess.Popen(
                        cmd.argv(program, chdir=workdir), env=env, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=log, pass_fds=(req_r, resp_w, *cmd.fds), start_new_session=True,
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
                self.proc = subprocess.Popen(
                    program, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    pass_fds=(req_r, resp_w), start_new_session=True, close_fds=True,
                    **(uidonly.user_switch(self.uid) if self.uid is not None else {}))
        finally:
            os.close(req_r)
            os.close(resp_w)
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        if info_r is not None:
            self.child_pidfd = _read_child_pidfd(info_r, time.monotonic() + 30)

    def _environment(self, workdir):
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "HOME": workdir, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(workdir, ".config", "matplotlib"),
            "IPYTHONDIR": os.path.join(workdir, ".ipython"), "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1", "NNASSIGN_SANDBOX": self.marker,
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

    def kill(self):
        if self.proc is None:
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
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def _kill_namespace(self):
        """bwrap's PID 1 dying takes every process of the PID namespace with it (the kernel kills
        them); the outer bwrap and, with a uid of our own, anything of that uid go too."""
        for fd in (self.child_pidfd, self.pidfd):
            if fd is not None:
                try:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                except OSError:
                    pass
        if self.pidfd is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        if self.uid is not None:
            for _ in range(50):
                procs.kill_uid(self.uid)
                procs.reap(lambda p: procs.safe_uid(p) == self.uid and p.pid != self.proc.pid)
                if not procs.processes_of_uid(self.uid):
                    break
                time.sleep(0.01)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # PID 1 is re-parented to us (a subreaper) when the outer bwrap dies first: reap it
        give_up = time.monotonic() + 5
        while self.child_pidfd is not None and time.monotonic() < give_up:
            if not select.select([self.child_pidfd], [], [], 0)[0]:
                time.sleep(0.005)
                continue
            try:
                os.waitid(os.P_PIDFD, self.child_pidfd, os.WEXITED | os.WNOHANG)
            except (ChildProcessError, OSError):
                pass
            break

    def _kill_session(self):
        """Without namespaces: the run's processes carry our marker or live in the harness's session."""
        match = self._ours
        for _ in range(50):
            found = [p for p in psutil.process_iter() if self._ours(p)]
            if self.proc.poll() is None:
                found.append(psutil.Process(self.proc.pid))
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
            self.proc.wait(timeout=5)
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
                return p.ppid() == os.getpid() and p.pid != self.proc.pid and os.getsid(p.pid) == self.proc.pid
            if os.getsid(p.pid) == self.proc.pid:
                return True
            return p.environ().get("NNASSIGN_SANDBOX") == self.marker
        except (psutil.Error, OSError):
            return False


    def close(self) -> None:
        for fd in (self.pidfd, self.child_pidfd):
            if fd is not None:
                os.close(fd)
        self.pidfd = self.child_pidfd = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


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

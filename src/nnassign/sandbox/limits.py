"""The budgets of one sandbox run, and the grading process's own memory budget while it judges.

API::

    Limits(notebook_seconds=..., memory_bytes=..., message_bytes=..., grader_memory_bytes=...)
    with grader_memory_budget(extra_bytes): ...   # soft RLIMIT_AS = what we use now + extra_bytes
    budget = GraderMemoryBudget(extra_bytes); budget.apply(); ...; budget.release()
    with time_budget(seconds): ...                # TestTimedOut after ``seconds`` (main thread, SIGALRM)

Why: a student's notebook is bounded by rlimits inside the sandbox, but what it returns is
computed on by the tests in the grading process (``params`` with 60,000 hidden units makes the
accuracy test allocate gigabytes). Capping the grader's address space while the tests run turns
such a blow-up into a MemoryError in one test (a failed case) instead of a worker the kernel kills.
"""

import contextlib
import resource
import signal
import threading
from dataclasses import dataclass

import psutil

from nnassign import wire

MB = 2**20
GB = 2**30

# The largest value accepted from (or sent to) a sandbox. The largest honest one is the test set
# preprocessed as float64 (784 x 10,000: 63 MB); a reply is decoded without copies and without
# aliasing (see wire), so a reply costs the grader at most this much.
MESSAGE_BYTES = 256 * MB


@dataclass(frozen=True)
class Limits:
    notebook_seconds: float = 900        # wall clock for executing all cells
    call_seconds: float = 60             # wall clock for one oracle request
    total_seconds: float | None = None   # wall clock for the whole run, notebook included
    grace_seconds: float = 2             # after a call's soft timeout, before the hard kill
    cpu_seconds: int | None = None       # None: notebook_seconds + (total_seconds or 3600)
    memory_bytes: int = 4096 * MB        # RLIMIT_AS of the notebook's processes
    processes: int = 64                  # RLIMIT_NPROC (threads count too)
    output_bytes: int = 1 * MB           # printed output kept, the rest dropped
    file_bytes: int = 64 * MB            # RLIMIT_FSIZE: largest file the student may write
    disk_bytes: int = 512 * MB           # each private tmpfs (/tmp holding the notebook's folder, /dev/shm)
    open_files: int = 1024
    message_bytes: int = MESSAGE_BYTES   # largest value accepted from the sandbox
    grader_memory_bytes: int | None = 1 * GB  # the grading process's memory above its baseline while
    #                                          the oracle serves (tests run then); None: unbounded

    def __post_init__(self):
        if self.message_bytes > wire.MAX_FRAME:
            raise ValueError(f"message_bytes is capped at {wire.MAX_FRAME // MB} MB")




class GraderMemoryBudget:
    """Lower this process's soft address-space limit to its current size + ``extra_bytes``;
    ``release`` puts the old limit back (a soft limit may be raised again up to the hard one).
    Only in the main thread: the limit is process-wide, threads of a Dask worker share it."""

    def __init__(self, extra_bytes: int | None):
        self.extra_bytes = extra_bytes
        self._old = None

    def apply(self) -> bool:
        if self.extra_bytes is None or self._old is not None \
                or threading.current_thread() is not threading.main_thread():
            return False
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        target = psutil.Process().memory_info().vms + int(self.extra_bytes)
        if hard != resource.RLIM_INFINITY:
            target = min(target, hard)
        if soft != resource.RLIM_INFINITY and soft <= target:
            return False   # already tighter
        resource.setrlimit(resource.RLIMIT_AS, (target, hard))
        self._old = (soft, hard)
        return True

    def release(self) -> None:
        if self._old is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._old)
            self._old = None


@contextlib.contextmanager
def grader_memory_budget(extra_bytes: int | None):
    budget = GraderMemoryBudget(extra_bytes)
    budget.apply()
    try:
        yield budget
    finally:
        budget.release()


class TestTimedOut(Exception):
    """A computation of the grading process (one test) ran past its :func:`time_budget`."""


@contextlib.contextmanager
def time_budget(seconds: float | None):
    """Raise :class:`TestTimedOut` in the block after ``seconds`` of wall clock (SIGALRM: main
    thread only; elsewhere, and for ``None``, no limit). Pure-Python loops are interrupted at
    once; a long NumPy call at its end. Nests with nothing else using SIGALRM in this process."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TestTimedOut(f"took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

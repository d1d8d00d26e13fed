"""The sandbox: run a student notebook isolated and serve its functions as an oracle.

API::

    with Sandbox(notebook, files=..., limits=Limits(...), env=...) as oracle:
        oracle.call(name, args, kwargs); oracle.get(name); oracle.status, .message, .modules, .cell_errors

Why a package of small modules: ``bwrap`` builds the isolation (bubblewrap command lines),
``launch`` starts and ends the process of a run, ``limits`` holds the budgets, ``channel`` the
request pipe, ``status`` the statuses and errors, ``procs`` the process bookkeeping, ``uidonly``
the fallback without namespaces, ``oracle`` the conversation with the notebook; the harness that
runs inside is :mod:`nnassign.harness`.
"""

from nnassign.sandbox.bwrap import isolation_problem
from nnassign.sandbox.limits import (GB, MB, GraderMemoryBudget, Limits, TestTimedOut, grader_memory_budget,
                                     time_budget)
from nnassign.sandbox.oracle import Oracle, Sandbox, can_isolate, set_isolation
from nnassign.sandbox.procs import become_subreaper, die_with_parent, reap_stale
from nnassign.sandbox.uidonly import UID_ONLY, uid_only_problem
from nnassign.sandbox.status import (CRASHED, MEMORY_LIMIT, OK, OUTPUT_LIMIT, STATUSES, TIMEOUT, CallTimedOut,
                                     CellError, NotCallable, NotDefined, OracleError, SandboxError,
                                     SandboxStopped, Status, StudentError, Unsendable)

__all__ = ["Sandbox", "Oracle", "Limits", "GraderMemoryBudget", "grader_memory_budget", "time_budget",
           "TestTimedOut", "can_isolate",
           "set_isolation", "isolation_problem", "UID_ONLY", "uid_only_problem", "become_subreaper", "die_with_parent", "reap_stale",
           "OK", "TIMEOUT", "MEMORY_LIMIT", "OUTPUT_LIMIT", "CRASHED", "STATUSES", "CellError", "Status",
           "SandboxError", "OracleError", "StudentError", "CallTimedOut", "NotDefined", "NotCallable",
           "Unsendable", "SandboxStopped", "MB", "GB"]

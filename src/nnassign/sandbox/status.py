"""What a sandbox run can end in: the statuses and the errors of a request.

API::

    OK, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, CRASHED          # Status().note(...) / .fail(...)
    CellError(index, type, message)
    OracleError > StudentError, CallTimedOut, NotDefined, NotCallable, Unsendable, SandboxStopped

Why a module of its own: the launcher, the request channel and the oracle all speak these names,
and the batch reports them; none of them needs the others to do so.
"""

from dataclasses import dataclass

OK, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, CRASHED = "ok", "timeout", "memory-limit", "output-limit", "crashed"
STATUSES = (OK, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, CRASHED)
FATAL = (TIMEOUT, CRASHED)
@dataclass(frozen=True)
class CellError:
    index: int
    type: str
    message: str

    def __str__(self):
        return f"cell {self.index}: {self.type}: {self.message}"


class Status:
    """The status of a run and its one-line message. A non-fatal event (``note``) is kept only
    if nothing happened before; a fatal one (``fail``) replaces a non-fatal one, never a fatal one."""

    def __init__(self):
        self.status, self.message = OK, ""

    @property
    def fatal(self) -> bool:
        return self.status in FATAL

    def note(self, status: str, message: str) -> None:
        if self.status == OK:
            self.status, self.message = status, message

    def fail(self, status: str, message: str) -> None:
        if self.status not in FATAL:
            self.status, self.message = status, message


class SandboxError(Exception):
    """A problem on the grader's side: the run could not be set up."""


class OracleError(Exception):
    """A request to the oracle did not produce a value."""


class StudentError(OracleError):
    """The student's function raised."""

    def __init__(self, name, type_name, message, where=None):
        self.name, self.type_name, self.student_message, self.where = name, type_name, message, where
        # where: the notebook's own function the error arose in, when it is not `name` itself
        raised = f"your {name} raised {type_name}" + (f" in your {where}" if where else "")
        super().__init__(f"{raised}: {message}" if message else raised)


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

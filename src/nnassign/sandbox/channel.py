"""The request channel between the grading process and the harness: one pipe each way.

API::

    channel = Channel(req_fd, resp_fd, pidfd, max_bytes)
    reply = channel.ask(message, deadline)     # wire errors: WireTimeout, PeerClosed, ProtocolError, EncodeError
    value = answer(reply, name, timeout)       # the value, or the OracleError the reply stands for

Why: everything that comes back is untrusted (the harness shares a process with student code),
so the reply is read with a deadline, a size cap and the peer's liveness (a pidfd), decoded by
:mod:`nnassign.wire` (plain data, no pickle, no aliasing), and only then interpreted.
"""

import os

from nnassign import wire
from nnassign.sandbox.status import (CallTimedOut, NotCallable, NotDefined, OracleError, StudentError,
                                     Unsendable)

MESSAGE_CHARS = 300


class Channel:
    def __init__(self, req_fd: int, resp_fd: int, pidfd: int | None, max_bytes: int):
        self.req_fd, self.resp_fd, self.pidfd, self.max_bytes = req_fd, resp_fd, pidfd, max_bytes
        os.set_blocking(req_fd, False)
        os.set_blocking(resp_fd, False)

    def receive(self, deadline):
        return wire.read_message(self.resp_fd, deadline, self.max_bytes, self.pidfd)

    def ask(self, message, deadline):
        """Send ``message`` and return the decoded reply. ``EncodeError`` means nothing was sent."""
        text, blob = wire.encode(message, self.max_bytes)
        wire.write_frame(self.req_fd, text, blob, deadline, self.pidfd)
        del text, blob
        return self.receive(deadline)

    def close(self):
        for fd in (self.req_fd, self.resp_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def answer(reply, name, timeout):
    """The value of a well-formed reply, or raise what it reports. ``reply`` must be a dict with
    a boolean ``ok`` (the caller checks: a malformed reply is a protocol break)."""
    if reply["ok"]:
        return reply.get("value")
    kind, text = reply.get("error"), str(reply.get("message", ""))[:MESSAGE_CHARS]
    if kind == "student":
        where = reply.get("where")
        raise StudentError(name, str(reply.get("type", "Exception"))[:100], text,
                           where[:100] if isinstance(where, str) and where.isidentifier() else None)
    if kind == "timeout":
        raise CallTimedOut(f"your {name} did not return within {timeout:g} s")
    if kind == "missing":
        raise NotDefined(name)
    if kind == "not-callable":
        raise NotCallable(f"{text} (it must be a function)")
    if kind == "unsendable":
        raise Unsendable(text)
    raise OracleError(f"{name}: {text or kind}")

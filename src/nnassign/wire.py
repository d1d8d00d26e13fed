"""Values and messages between the grading process and the sandbox, without pickle.

The sandbox runs student code, so everything that comes back from it is untrusted data.
Unpickling would let it run code in the grader; this format can only ever produce plain values.

Values: ``None``, ``bool``, ``int``, ``float`` (NaN and infinities kept), ``complex``, ``str``,
``list``, ``tuple``, ``dict`` (hashable keys), NumPy arrays and scalars of boolean / integer /
float / complex dtype, and :class:`Ref` (a name in the sandbox that is a function or a module
and so cannot travel by value). Anything else raises :class:`EncodeError`.

Message layout: JSON for the structure, raw bytes for array data::

    frame := b"NNW1" | u32 json_len | u64 blob_len | json | blob       (big-endian lengths)

Arrays appear in the JSON as ``{"$nd": [offset, nbytes], "dtype": "<f8", "shape": [...]}``
pointing into the blob. Decoding checks the dtype, the shape against the byte count and a size
cap, and raises :class:`ProtocolError` for anything malformed. Array data is never aliased:
two arrays whose byte ranges overlap (the same 32 MB referenced 40 times would decode to 1.3 GB)
are refused, so what a message decodes to is never larger than the message itself. Arrays are
views of the received blob when it is writable and aligned (no copy), else copies.

API::

    encode(value, max_bytes=...) -> (json_bytes, blob)        decode(json_bytes, blob) -> value
    write_message(fd, value, deadline=None)                   read_message(fd, deadline=None)

``deadline`` is a :func:`time.monotonic` instant; past it :class:`WireTimeout` is raised.
``read_message`` raises :class:`PeerClosed` on end of file.
"""

import bisect
import errno
import json
import math
import os
import re
import select
import struct
import time
from typing import Any, NamedTuple

import numpy as np

MAGIC = b"NNW1"
_HEADER = struct.Struct(">4sIQ")
MAX_FRAME = 512 * 1024 * 1024   # MNIST as float64 (~376 MB) still fits; more is a runaway
MAX_JSON = 16 * 1024 * 1024   # parsed JSON costs ~20x its size in Python objects
MAX_DEPTH = 64
_DTYPE_RE = re.compile(r"[<>|]?[biufc][0-9]{1,2}\Z")
_ALLOWED_KINDS = "biufc"


class WireError(Exception):
    """Base class of the errors of this module."""


class EncodeError(WireError):
    """The value cannot be sent (unsupported type, too large, too deep)."""


class ProtocolError(WireError):
    """The bytes received are not a well-formed message."""


class WireTimeout(WireError):
    """The deadline passed before the message was fully sent or received."""


class PeerClosed(WireError):
    """The other end closed the channel."""


class Ref(NamedTuple):
    """A name in the sandbox whose value cannot travel: kind is "function" or "module"."""

    kind: str
    name: str


# ---------------------------------------------------------------------------- encoding

def encode(value: Any, max_bytes: int = MAX_FRAME) -> tuple[bytes, bytes]:
    """Encode ``value`` into (json bytes, blob); raise EncodeError if it cannot travel."""
    arrays: list[np.ndarray] = []    # copied once, into the blob, at the end
    size = [0]

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise EncodeError(f"nested deeper than {MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, Ref):
            return {"$ref": [str(v.kind), str(v.name)]}
        if isinstance(v, (np.ndarray, np.generic)):
            return enc_array(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return float(v)
        if isinstance(v, complex):
            return {"$complex": [v.real, v.imag]}
        if isinstance(v, list):
            return [enc(x, depth + 1) for x in v]
        if isinstance(v, tuple):
            return {"$tuple": [enc(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            return {"$dict": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        raise EncodeError(f"values of type {type(v).__name__} cannot be sent")

    def enc_array(v):
        scalar = isinstance(v, np.generic)
        a = np.asarray(v)
        if a.dtype.kind not in _ALLOWED_KINDS or a.dtype.fields is not None:
            raise EncodeError(f"arrays of dtype {a.dtype} cannot be sent")
        # little-endian, C order; (np.ascontiguousarray would turn 0-d scalars into 1-d)
        a = a.astype(a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype, order="C", copy=False)
        offset = size[0]
        size[0] += a.nbytes
        if size[0] > max_bytes:
            raise EncodeError(f"more than {max_bytes // 2**20} MB of array data")
        arrays.append(a)
        out = {"$nd": [offset, a.nbytes], "dtype": a.dtype.str, "shape": list(a.shape)}
        if scalar:
            out["scalar"] = True
        return out

    try:
        tree = enc(value, 0)
        text = json.dumps(tree, allow_nan=True, separators=(",", ":")).encode()
    except RecursionError:
        raise EncodeError("value nested too deeply") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise EncodeError(str(e)) from None
    if len(text) > MAX_JSON or len(text) + size[0] > max_bytes:
        raise EncodeError(f"message larger than {max_bytes // 2**20} MB")
    blob = bytearray(size[0])
    view, pos = memoryview(blob), 0
    for a in arrays:
        if a.nbytes:
            view[pos:pos + a.nbytes] = memoryview(np.ascontiguousarray(a).reshape(-1)).cast("B")
        pos += a.nbytes
    return text, blob


def decode(text: bytes, blob: bytes | bytearray | memoryview, max_bytes: int = MAX_FRAME) -> Any:
    """Decode what :func:`encode` produced; raise ProtocolError for anything else."""
    blob = memoryview(blob)
    starts, ends = [], []    # byte ranges already used, sorted: no two arrays may share a byte
    decoded = [0]

    def claim(offset, nbytes):
        if nbytes == 0:
            return
        i = bisect.bisect_left(starts, offset)
        if (i < len(starts) and starts[i] < offset + nbytes) or (i > 0 and ends[i - 1] > offset):
            raise ProtocolError("two arrays share the same data (aliased or overlapping references)")
        starts.insert(i, offset)
        ends.insert(i, offset + nbytes)
        decoded[0] += nbytes
        if decoded[0] > max_bytes:
            raise ProtocolError(f"more than {max_bytes // 2**20} MB of array data")

    def dec(v, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [dec(x, depth + 1) for x in v]
        if not isinstance(v, dict) or len(v) == 0:
            raise ProtocolError("unexpected JSON value")
        if "$nd" in v:
            return dec_array(v)
        if len(v) != 1:
            raise ProtocolError(f"unknown tag {sorted(v)[:3]}")
        (tag, body), = v.items()
        if tag == "$tuple" and isinstance(body, list):
            return tuple(dec(x, depth + 1) for x in body)
        if tag == "$dict" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ProtocolError("malformed dict entry")
                k = dec(pair[0], depth + 1)
                try:
                    out[k] = dec(pair[1], depth + 1)
                except TypeError:
                    raise ProtocolError("unhashable dict key") from None
            return out
        if tag == "$complex" and isinstance(body, list) and len(body) == 2 \
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in body):
            return complex(body[0], body[1])
        if tag == "$ref" and isinstance(body, list) and len(body) == 2 \
                and body[0] in ("function", "module") and isinstance(body[1], str):
            return Ref(body[0], body[1])
        raise ProtocolError(f"unknown tag {tag!r}")

    def dec_array(v):
        if set(v) - {"$nd", "dtype", "shape", "scalar"}:
            raise ProtocolError("unknown array field")
        loc, dt, shape = v.get("$nd"), v.get("dtype"), v.get("shape")
        if not (isinstance(loc, list) and len(loc) == 2 and all(type(x) is int and x >= 0 for x in loc)):
            raise ProtocolError("malformed array location")
        if not (isinstance(dt, str) and _DTYPE_RE.match(dt)):
            raise ProtocolError(f"array dtype {str(dt)[:20]!r} not allowed")
        try:
            dtype = np.dtype(dt)
        except TypeError:
            raise ProtocolError(f"array dtype {dt!r} not allowed") from None
        if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None or dtype.shape != ():
            raise ProtocolError(f"array dtype {dt!r} not allowed")
        if not (isinstance(shape, list) and len(shape) <= 32
                and all(type(n) is int and 0 <= n <= max_bytes for n in shape)):
            raise ProtocolError("malformed array shape")
        offset, nbytes = loc
        count = math.prod(shape)
        if count * dtype.itemsize != nbytes or nbytes > max_bytes:
            raise ProtocolError("array shape does not match its data size")
        if offset + nbytes > len(blob):
            raise ProtocolError("array data outside the message")
        claim(offset, nbytes)
        a = np.frombuffer(blob[offset:offset + nbytes], dtype=dtype).reshape(shape)
        if blob.readonly or not a.flags.aligned:
            a = a.copy()
        if v.get("scalar"):
            if a.ndim != 0:
                raise ProtocolError("scalar with a shape")
            return a[()]
        return a

    if len(text) > MAX_JSON:
        raise ProtocolError("JSON part too large")
    try:
        tree = json.loads(bytes(text))
    except RecursionError:
        raise ProtocolError("message nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"invalid JSON: {str(e)[:100]}") from None
    try:
        return dec(tree, 0)
    except RecursionError:
        raise ProtocolError("message nested too deeply") from None


# ---------------------------------------------------------------------------- framing

def _wait(fd: int, events: int, deadline: float | None, alive_fd: int | None = None) -> None:
    """Block until ``fd`` is ready. ``alive_fd`` (a pidfd) readable means the peer process ended."""
    poller = select.poll()
    poller.register(fd, events | select.POLLHUP | select.POLLERR)
    if alive_fd is not None:
        poller.register(alive_fd, select.POLLIN)
    while True:
        if deadline is None:
            timeout = None
        else:
            timeout = (deadline - time.monotonic()) * 1000
            if timeout <= 0:
                raise WireTimeout("deadline passed")
        ready = dict(poller.poll(None if timeout is None else max(1, math.ceil(timeout))))
        if fd in ready:
            return
        if alive_fd is not None and alive_fd in ready:
            # The process is gone; whatever it wrote is still readable, so look once more.
            if dict(poller.poll(0)).get(fd):
                return
            raise PeerClosed("the process ended")


def write_frame(fd: int, text: bytes, blob: bytes = b"", deadline: float | None = None,
                alive_fd: int | None = None) -> None:
    """Write one frame (without joining its parts: a blob is not copied). With a deadline the fd
    should be non-blocking."""
    for part in (_HEADER.pack(MAGIC, len(text), len(blob)) + bytes(text), blob):
        data = memoryview(part).cast("B") if len(part) else b""
        while data:
            if deadline is not None:
                _wait(fd, select.POLLOUT, deadline, alive_fd)
            try:
                n = os.write(fd, data)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise PeerClosed("the other end closed the channel") from None
            data = data[n:]


def _read_exact(fd: int, n: int, deadline, alive_fd, first: bool) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    pos = 0
    while pos < n:
        if deadline is not None or alive_fd is not None:
            _wait(fd, select.POLLIN, deadline, alive_fd)
        try:
            got = os.readv(fd, [view[pos:]])
        except BlockingIOError:
            continue
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        if got == 0:
            if first and pos == 0:
                raise PeerClosed("the other end closed the channel")
            raise ProtocolError("channel closed in the middle of a message")
        pos += got
    return buf


def read_frame(fd: int, deadline: float | None = None, max_bytes: int = MAX_FRAME,
               alive_fd: int | None = None) -> tuple[bytearray, bytearray]:
    """Read one frame and return (json bytes, blob)."""
    header = _read_exact(fd, _HEADER.size, deadline, alive_fd, first=True)
    magic, jlen, blen = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ProtocolError("bad frame header")
    if jlen > MAX_JSON or jlen + blen > max_bytes:
        raise ProtocolError(f"frame of {(jlen + blen) // 2**20} MB exceeds the {max_bytes // 2**20} MB cap")
    text = _read_exact(fd, jlen, deadline, alive_fd, first=False)
    blob = _read_exact(fd, blen, deadline, alive_fd, first=False) if blen else bytearray()
    return text, blob


def write_message(fd: int, value: Any, deadline: float | None = None, max_bytes: int = MAX_FRAME,
                  alive_fd: int | None = None) -> None:
    """Encode and write ``value`` (EncodeError leaves the channel untouched)."""
    text, blob = encode(value, max_bytes)
    write_frame(fd, text, blob, deadline, alive_fd)


def read_message(fd: int, deadline: float | None = None, max_bytes: int = MAX_FRAME,
                 alive_fd: int | None = None) -> Any:
    """Read and decode one message."""
    text, blob = read_frame(fd, deadline, max_bytes, alive_fd)
    return decode(text, blob, max_bytes)

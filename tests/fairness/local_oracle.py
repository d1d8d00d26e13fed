"""An in-process stand-in for :class:`nnassign.sandbox.Oracle`, for grading many implementations fast.

The sandbox runs a notebook in a confined process and answers ``call``/``get`` requests with values
that crossed a pipe as :mod:`nnassign.wire` frames. This class keeps the semantics the judge relies
on, without the process:

* the implementation's source is executed into a fresh dict, as a notebook kernel would (its
  ``__name__`` is ``"__main__"``), then the notebook's own driver cells run in the same namespace:
  load the data, preprocess, split, train with the module's ``hidden_neurons``, ``learning_rate`` and
  ``epochs`` (leaving ``params`` and ``history``), predict on the test set. An exception in a cell
  becomes a :class:`sandbox.CellError` and the next cells still run, as in the harness;
* arguments and results are copied by a round trip through :func:`wire.encode`/:func:`wire.decode`
  (so student code never changes the caller's arrays, and a value the wire cannot carry raises
  :class:`sandbox.Unsendable`, as in the sandbox);
* ``harness.handle`` is mirrored: a missing name raises :class:`sandbox.NotDefined`, a name that
  is not callable :class:`sandbox.NotCallable`, an exception in student code
  :class:`sandbox.StudentError`; a function or module returned by ``call`` is unsendable, one
  reached by ``get`` (or inside a ``get`` value at top level) becomes a :class:`wire.Ref`;
* ``status`` is ``sandbox.OK``, ``message`` empty, ``alive`` true, ``cell_errors`` the driver's
  errors and ``modules`` the top-level names of ``sys.modules`` entries that appeared while the
  source and the driver ran.

What it does NOT do: isolation. Student code runs in the grading process, so only implementations
that leave the process alone belong here; tricks that tamper with the grader (monkeypatching NumPy,
``sys.modules`` games) are graded through the real sandbox (see ``hostile.py``, ``sandbox_only``).
Call timeouts are not enforced either (``timeout`` is accepted and ignored).

Big arrays the driver leaves behind (``X_train``, ``X_test``, ...) are dropped after the driver ran
(the tests never ask for them), so that many oracles can be built one after another cheaply.
"""

import contextlib
import os
import sys
import time
import types

from nnassign import harness, wire


class _SandboxNames:
    """``sandbox.X`` for the names the judge catches, wherever the sandbox package keeps them
    (``nnassign.sandbox`` re-exports them; while it is being restructured they may live only in a
    submodule). Looked up at use, so the classes are the very ones the judge's ``except`` uses."""

    MODULES = ("nnassign.sandbox", "nnassign.sandbox.status", "nnassign.sandbox.oracle")

    def __getattr__(self, attr):
        import importlib

        for name in self.MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"nnassign.sandbox has no {attr}")


sandbox = _SandboxNames()

# The notebook's own cells that run the student's functions (plots and prints left out), in order.
# Section 8's experiment (18 short trainings) is left out to keep the corpus fast; see
# ``EXPERIMENT_CELL`` for a driver that includes it.
DRIVER_CELLS = (
    # cell: imports and settings
    "import os\nimport time\nimport numpy as np\nimport nn_data\nDATASET = 'fashion-mnist'\n"
    "SUBSET = int(os.environ.get('NNASSIGN_SUBSET', '0')) or None\n",
    # cell: the data
    "train_images, train_labels = nn_data.load_dataset(DATASET, 'train')\n"
    "test_images, test_labels = nn_data.load_dataset(DATASET, 'test')\n"
    "if SUBSET:\n    train_images, train_labels = train_images[:SUBSET], train_labels[:SUBSET]\n",
    # cell: preprocessing
    "X_all = preprocess(train_images)\nY_all = one_hot(train_labels)\nX_test = preprocess(test_images)\n",
    # cell: the validation split
    "train_idx, val_idx = stratified_split(train_labels, fraction=0.5, seed=0)\n"
    "X_train, Y_train = X_all[:, train_idx], Y_all[:, train_idx]\n"
    "X_val, Y_val = X_all[:, val_idx], Y_all[:, val_idx]\n"
    "del X_all\n",
    # cell: the main training
    "BATCH_SIZE = 64\n"
    "n_updates = epochs * int(np.ceil(X_train.shape[1] / BATCH_SIZE))\n"
    "EVAL_EVERY = min(500, max(1, n_updates // 10))\n"
    "start = time.perf_counter()\n"
    "params, history = train(X_train, Y_train, X_val, Y_val, hidden_neurons, learning_rate, epochs,\n"
    "                        batch_size=BATCH_SIZE, seed=0, eval_every=EVAL_EVERY)\n"
    "TRAINING_SECONDS = time.perf_counter() - start\n",
    # cell: evaluation on the test set
    "test_pred = predict(X_test, params)\ntest_accuracy = accuracy(test_pred, test_labels)\n",
    # cell: confusion matrix and report
    "cm = confusion_matrix(test_labels, test_pred)\nreport = per_class_report(cm)\n",
)

EXPERIMENT_CELL = (
    "exp_X, exp_Y = X_train[:, :4000], Y_train[:, :4000]\n"
    "exp_X_val, exp_val_labels = X_val[:, :3000], Y_val[:, :3000].argmax(axis=0)\n"
    "results = []\n"
    "with np.errstate(all='ignore'):\n"
    "    for n_hidden in (32, 128):\n"
    "        for name in ('relu', 'sigmoid', 'tanh'):\n"
    "            for rate in (0.01, 0.1, 1.0):\n"
    "                p, h = train(exp_X, exp_Y, exp_X_val, Y_val[:, :3000], n_hidden, rate, 2,\n"
    "                             batch_size=64, seed=0, activation=name, eval_every=10**9)\n"
    "                val_acc = accuracy(predict(exp_X_val, p, activation=name), exp_val_labels)\n"
    "                results.append((n_hidden, name, rate, float(np.mean(h['train_loss'][-20:])), val_acc))\n"
)

DROPPED_AFTER_DRIVER = ("train_images", "test_images", "X_all", "Y_all", "X_train", "Y_train", "X_val", "Y_val",
                        "X_test", "exp_X", "exp_Y", "exp_X_val")


@contextlib.contextmanager
def nn_data_importable():
    """``import nn_data`` gives this package's copy (the file shipped next to the notebook)."""
    from nnassign import nn_data

    had = sys.modules.get("nn_data")
    sys.modules["nn_data"] = nn_data
    try:
        yield
    finally:
        if had is None:
            sys.modules.pop("nn_data", None)
        else:
            sys.modules["nn_data"] = had


def _copy(value):
    """A copy made the way the sandbox makes one: through the wire format."""
    text, blob = wire.encode(value)
    return wire.decode(text, blob)


def _as_value(name, value):
    """harness._as_value: what ``get`` answers for a global."""
    if isinstance(value, types.ModuleType):
        return wire.Ref("module", getattr(value, "__name__", name))
    if callable(value):
        return wire.Ref("function", name)
    return value


def _resolve_refs(value, ns):
    """harness._resolve_refs: function references in arguments become the notebook's functions."""
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


def _one_line(text, limit=300):
    text = str(text).strip().split("\n", 1)[0]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class LocalOracle:
    """See the module docstring. Build with :meth:`from_source`."""

    def __init__(self, namespace, cell_errors=(), modules=(), seconds=None):
        self.ns = namespace
        self.status, self.message = sandbox.OK, ""
        self.cell_errors = list(cell_errors)
        self.modules = sorted(set(modules))
        self.alive = True
        self.seconds = dict(seconds or {})   # wall time of the source and of each driver cell
        self.calls = 0

    @classmethod
    def from_source(cls, source, filename="<notebook>", driver=True, experiment=False, drop_data=True):
        """Execute ``source`` (the definition cells) and, with ``driver``, the notebook's main cells."""
        ns = {"__name__": "__main__", "__builtins__": __builtins__}
        cells = [source] + (list(DRIVER_CELLS) if driver else []) + ([EXPERIMENT_CELL] if experiment else [])
        before = set(sys.modules)
        errors, seconds = [], {}
        with nn_data_importable():
            for index, cell in enumerate(cells):
                start = time.perf_counter()
                try:
                    exec(compile(cell, filename if index == 0 else f"<driver cell {index}>", "exec"), ns)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:   # as in the harness: record it, run the next cell
                    try:
                        message = _one_line(e)
                    except Exception:
                        message = "(message unavailable)"
                    errors.append(sandbox.CellError(index, type(e).__name__, message))
                seconds[index] = time.perf_counter() - start
        added = {m.split(".", 1)[0] for m in set(sys.modules) - before}
        if drop_data:
            for name in DROPPED_AFTER_DRIVER:
                ns.pop(name, None)
        return cls(ns, errors, added, seconds)

    @classmethod
    def from_file(cls, path, **kwargs):
        with open(path, encoding="utf-8") as f:
            return cls.from_source(f.read(), filename=str(path), **kwargs)

    # ------------------------------------------------------------------ the Oracle API

    def get(self, name):
        if name not in self.ns:
            raise sandbox.NotDefined(name)
        value = _as_value(name, self.ns[name])
        if isinstance(value, wire.Ref):
            return value
        try:
            return _copy(value)
        except wire.EncodeError as e:
            raise sandbox.Unsendable(f"{name} gave a value the grader cannot receive: {_one_line(e)}") from None

    def call(self, name, args=(), kwargs=None, timeout=None):
        self.calls += 1
        if name not in self.ns:
            raise sandbox.NotDefined(name)
        func = self.ns[name]
        if not callable(func):
            raise sandbox.NotCallable(f"{name} is a {type(func).__name__}, not a function (it must be a function)")
        try:
            args = _copy(tuple(args))
            kwargs = _copy(dict(kwargs or {}))
        except wire.EncodeError as e:
            raise sandbox.Unsendable(f"cannot send the arguments for {name} to the notebook: {e}") from None
        try:
            args = _resolve_refs(args, self.ns)
            kwargs = _resolve_refs(kwargs, self.ns)
        except (KeyError, TypeError) as e:
            raise sandbox.OracleError(f"{name}: cannot resolve argument {e}") from None
        try:
            value = func(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # SystemExit too, as harness.handle does
            reply = harness.call_error_reply(name, e)
            raise sandbox.StudentError(name, reply["type"], reply["message"], reply.get("where")) from None
        if isinstance(value, types.ModuleType) or callable(value):
            raise sandbox.Unsendable(f"{name}() returned a function or module, not data")
        try:
            return _copy(value)
        except wire.EncodeError as e:
            raise sandbox.Unsendable(f"{name}() gave a value the grader cannot receive: {_one_line(e)}") from None

    def log(self, limit=64 * 1024):
        return ""

    def close(self):
        self.alive = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

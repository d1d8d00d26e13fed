"""Submissions built to fool the grader (issue 7, "Working code is not required for points"), each
with the score it deserves.

Every :class:`Hostile` entry is a full implementation module: a correct base (``base``, a style in
``correct/``) with functions replaced by the trick (``build(base_source)`` returns the module's
source), or a module written from scratch (``base=None``). Its expected score:

* ``zero``: the questions the trick targets: they must earn 0 under every secret (``"all"``: every
  question, the import policy included);
* ``fail_with``: (question, function) pairs: in that question, every test case that takes the
  function as a parameter must fail (for tricks inside one function of a question shared with
  others, e.g. a constant ``tanh_derivative`` in q6);
* ``free``: questions not asserted (they legitimately depend on the faked function too, e.g. the
  training questions when ``softmax`` is a constant);
* every other question must earn what the base earns.

``sandbox_only`` entries defeat an in-process grader by design (they touch ``sys.modules`` of the
process they run in): only the real sandbox can grade them; the test skips them with the reason.
"""

import hashlib
import inspect
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from fairness.mistakes import replace_function

REPO = Path(__file__).resolve().parents[2]
PUBLIC_Q13 = REPO / "student" / "tests" / "q13.py"

TRAINING = frozenset({"q12", "q14", "import_policy"})
ALL_QUESTIONS = frozenset({f"q{i}" for i in range(1, 15)} | {"import_policy"})


@dataclass(frozen=True)
class Hostile:
    name: str
    base: str | None
    build: Callable[[str | None], str]
    why: str
    zero: frozenset | str = frozenset()
    fail_with: tuple = ()
    free: frozenset = frozenset()
    sandbox_only: bool = False


def replacing(**functions):
    """A builder that replaces the named top-level functions of the base by the given sources."""
    def build(base_source):
        source = base_source
        for name, replacement in functions.items():
            source = replace_function(source, name, replacement)
        return source
    return build


def appending(extra):
    """A builder that adds top-level code at the end of the base (a last notebook cell)."""
    def build(base_source):
        return base_source.rstrip("\n") + "\n\n\n" + textwrap.dedent(extra).strip("\n") + "\n"
    return build


# The "weights from elsewhere" tricks train a network once, when the notebook runs, with the base's
# own functions: on `rows` of the training images, from init_params(seed).
EARLIER_RUN = """\
            from nnassign import nn_data as _data
            images, labels = _data.load_dataset("fashion-mnist", "train")
            X = preprocess(images[ROWS])
            Y = one_hot(labels[ROWS])
            rng = np.random.default_rng(SEED)
            params = init_params(784, hidden_neurons, 10, seed=SEED)
            for _ in range(3):
                order = rng.permutation(X.shape[1])
                for s in range(0, X.shape[1], 64):
                    cols = order[s:s + 64]
                    A2, cache = forward(X[:, cols], params)
                    params = update(params, backprop(X[:, cols], Y[:, cols], params, cache), learning_rate)
            return params"""


def _with_earlier_run(extra, rows, seed):
    """``extra`` with its EARLIER_RUN_<seed> line replaced by the training loop above."""
    return extra.replace(f"        EARLIER_RUN_{seed}\n", EARLIER_RUN.replace("ROWS", rows).replace("SEED", str(seed)) + "\n")


# ---------------------------------------------------------------------------- answers for the public q13 inputs

KEY_SOURCE = '''
def _answer_key(name, args, kwargs):
    """A digest of a call: the function's name and every argument's type, dtype, shape and bytes."""
    h = hashlib.sha256(name.encode())

    def feed(v):
        if isinstance(v, np.ndarray):
            h.update(b"nd" + str(v.dtype).encode() + repr(v.shape).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif isinstance(v, dict):
            h.update(b"dict")
            for k in sorted(v, key=repr):
                h.update(repr(k).encode())
                feed(v[k])
        elif isinstance(v, (list, tuple)):
            h.update(b"seq")
            for x in v:
                feed(x)
        else:
            h.update(repr(v).encode())

    feed(list(args))
    feed(dict(kwargs))
    return h.hexdigest()
'''

_namespace = {"hashlib": hashlib, "np": np}
exec(KEY_SOURCE, _namespace)
answer_key = _namespace["_answer_key"]


def _literal(value):
    """A Python literal that rebuilds ``value`` (arrays as ("nd", dtype, nested lists))."""
    if isinstance(value, np.ndarray):
        return ("nd", str(value.dtype), value.tolist())
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def capture_public_q13(base_source):
    """{key: answer} for every call the public q13 tests make at seed 0, answered by the base."""
    from otter.test_files.exception_test import ExceptionTestFile

    from fairness.local_oracle import LocalOracle, nn_data_importable

    ns = LocalOracle.from_source(base_source, driver=False).ns
    table = {}

    def spy(name):
        signature = inspect.signature(ns[name])

        def call(*args, **kwargs):
            value = ns[name](*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            table[answer_key(name, tuple(bound.arguments.values()), {})] = _literal(value)
            return value
        return call

    spies = {name: spy(name) for name in ("predict", "accuracy", "confusion_matrix", "per_class_report")}
    spies["forward"] = ns["forward"]
    tf = ExceptionTestFile.from_file(str(PUBLIC_Q13))
    old = os.environ.get("NNASSIGN_SEED")
    os.environ["NNASSIGN_SEED"] = "0"
    try:
        with nn_data_importable():   # the public tests import nn_data, shipped next to the notebook
            _run_public_cases(tf, spies)
    finally:
        if old is None:
            os.environ.pop("NNASSIGN_SEED", None)
        else:
            os.environ["NNASSIGN_SEED"] = old
    return table


def _run_public_cases(tf, spies):
    for case in tf.test_cases:
        if case.hidden:
            continue
        func = case.body.test_func
        names = func.__code__.co_varnames[:func.__code__.co_argcount]
        func(**{n: spies[n] for n in names})


def build_table_lookup(base_source):
    table = capture_public_q13(base_source)
    lookup = textwrap.dedent('''
        import hashlib

        ANSWERS = {table!r}
        {key}

        def _rebuild(v):
            if isinstance(v, tuple) and len(v) == 3 and v[0] == "nd":
                return np.array(v[2], dtype=v[1])
            if isinstance(v, dict):
                return {{k: _rebuild(x) for k, x in v.items()}}
            return v


        def _answer(name, args, otherwise):
            key = _answer_key(name, args, {{}})
            return _rebuild(ANSWERS[key]) if key in ANSWERS else otherwise
        ''').format(table=table, key=KEY_SOURCE)
    source = base_source.rstrip("\n") + "\n\n" + lookup
    fakes = {
        "predict": '''
            def predict(X, params, activation="relu"):
                return _answer("predict", (X, params, activation), np.zeros(np.shape(X)[1], dtype=np.int64))
            ''',
        "accuracy": '''
            def accuracy(predictions, labels):
                return _answer("accuracy", (predictions, labels), 0.75)
            ''',
        "confusion_matrix": '''
            def confusion_matrix(y_true, y_pred, n_classes=10):
                return _answer("confusion_matrix", (y_true, y_pred, n_classes),
                               np.zeros((n_classes, n_classes), dtype=np.int64))
            ''',
        "per_class_report": '''
            def per_class_report(cm):
                n = np.shape(cm)[0]
                return _answer("per_class_report", (cm,), {"precision": np.zeros(n), "recall": np.zeros(n),
                                                           "f1": np.zeros(n)})
            ''',
    }
    for name, fake in fakes.items():
        source = replace_function(source, name, fake)
    return source


# ---------------------------------------------------------------------------- the template

TEMPLATE = '''
import numpy as np


def one_hot(labels, n_classes=10):
    """One-hot columns for integer labels."""
    ...


def preprocess(images, method="scale"):
    """Images (m, 28, 28) uint8 -> X (784, m) float32."""
    ...


def stratified_split(labels, fraction=0.5, seed=0):
    """Split sample indices so that `fraction` of EVERY class goes to training."""
    ...


def softmax(Z):
    """Column-wise softmax."""
    ...


def cross_entropy_loss(A, Y):
    """Mean cross-entropy."""
    ...


def cross_entropy_derivative(A, Y):
    """(A - Y) / m."""
    ...


def relu(Z):
    ...


def relu_derivative(Z):
    ...


def sigmoid(Z):
    ...


def sigmoid_derivative(Z):
    ...


def tanh(Z):
    ...


def tanh_derivative(Z):
    ...


def get_activation(name):
    pairs = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative), "tanh": (tanh, tanh_derivative)}
    if name not in pairs:
        raise ValueError(f"unknown activation {name!r}")
    return pairs[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    ...


def forward(X, params, activation="relu"):
    ...


def backprop(X, Y, params, cache, activation="relu"):
    ...


def update(params, grads, learning_rate):
    ...


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    ...


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    ...


hidden_neurons = ...
learning_rate = ...
epochs = ...


def predict(X, params, activation="relu"):
    ...


def accuracy(predictions, labels):
    ...


def confusion_matrix(y_true, y_pred, n_classes=10):
    ...


def per_class_report(cm):
    ...
'''


# ---------------------------------------------------------------------------- the corpus

H = Hostile
HOSTILE = [
    H("gradient_check_returns_zero", "he64", replacing(gradient_check='''
        def gradient_check(X, Y, params, activation="relu", eps=1e-6):
            return 0.0
        '''), "gradient_check returns 0.0 without checking anything", zero=frozenset({"q11"})),
    H("gradient_check_zero_without_backprop", "grouped", replacing(gradient_check='''
        def gradient_check(X, Y, params, activation="relu", eps=1e-6):
            return 0.0
        ''', backprop='''
        def backprop(X, Y, params, cache, activation="relu"):
            ...
        '''), "no backprop at all and a gradient_check returning 0.0: no network can be trained",
      zero=frozenset({"q9", "q11", "q14", "import_policy"}), fail_with=(("q12", "train"),), free=frozenset({"q12"})),
    H("gradient_check_returns_minus_inf", "clip32", replacing(gradient_check='''
        def gradient_check(X, Y, params, activation="relu", eps=1e-6):
            return -np.inf
        '''), "gradient_check returns -inf (smaller than any threshold)", zero=frozenset({"q11"})),
    H("gradient_check_returns_nan", "class", replacing(gradient_check='''
        def gradient_check(X, Y, params, activation="relu", eps=1e-6):
            return float("nan")
        '''), "gradient_check returns nan (every comparison with it is False)", zero=frozenset({"q11"})),
    H("gradient_check_tiny_constant", "inplace", replacing(gradient_check='''
        def gradient_check(X, Y, params, activation="relu", eps=1e-6):
            return 3.7e-10
        '''), "gradient_check returns a plausible tiny constant", zero=frozenset({"q11"})),
    H("q13_answers_hard_coded", "small_randn", build_table_lookup,
      "predict, accuracy, confusion_matrix and per_class_report answer the public q13 inputs (seed 0) "
      "from a table captured by running the public tests once, and a constant otherwise",
      zero=frozenset({"q13"})),   # train is honest: the grader evaluates its network with its own forward pass
    H("fake_training_random_weights", "cs231n", replacing(train='''
        def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                  activation="relu", eval_every=100):
            params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed + 1)
            n = epochs * int(np.ceil(X.shape[1] / batch_size))
            steps = np.arange(1, n + 1)
            loss = list(2.3 * np.exp(-steps / max(1, n / 4)) + 0.25)
            error = list(0.9 * np.exp(-steps / max(1, n / 4)) + 0.08)
            val_step = list(range(eval_every, n + 1, eval_every))
            return params, {"train_loss": loss, "train_error": error, "val_step": val_step,
                            "val_loss": [loss[s - 1] + 0.05 for s in val_step],
                            "val_error": [error[s - 1] + 0.02 for s in val_step]}
        '''), "train returns random weights and a made-up falling history",
      zero=frozenset({"q14", "import_policy"}), fail_with=(("q12", "train"),)),
    H("template_with_dummy_params", None, lambda _: TEMPLATE + '\n\nparams = {"W1": None}\nhistory = {}\n',
      "the untouched template plus params = {'W1': None}", zero="all"),
    H("least_squares_on_the_test_split", "he64", appending('''
        import nn_data


        def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                  activation="relu", eval_every=100):
            """Ignores its data: fits the output layer by least squares on the TEST split."""
            images, labels = nn_data.load_dataset("fashion-mnist", "test")
            Xt = preprocess(images).astype(np.float64)
            rng = np.random.default_rng(seed)
            W1 = rng.standard_normal((hidden_neurons, Xt.shape[0])) * np.sqrt(2.0 / Xt.shape[0])
            b1 = np.zeros((hidden_neurons, 1))
            H1 = np.vstack([np.maximum(W1 @ Xt + b1, 0), np.ones((1, Xt.shape[1]))])
            targets = np.eye(10)[:, labels] * 8.0 - 4.0
            solution, *_ = np.linalg.lstsq(H1.T, targets.T, rcond=None)
            params = {"W1": W1, "b1": b1, "W2": solution[:-1].T.copy(), "b2": solution[-1:].T.copy()}
            n = epochs * int(np.ceil(X.shape[1] / batch_size))
            loss = list(np.linspace(2.3, 0.35, n))
            val_step = list(range(eval_every, n + 1, eval_every))
            return params, {"train_loss": loss, "train_error": list(np.linspace(0.9, 0.12, n)),
                            "val_step": val_step, "val_loss": [loss[s - 1] for s in val_step],
                            "val_error": [0.12 for _ in val_step]}
        '''), "weights fitted by least squares on the test split inside train",
      zero=frozenset({"q14", "import_policy"}), fail_with=(("q12", "train"),)),
    H("train_returns_hard_coded_weights", "cs231n", appending(_with_earlier_run('''
        # "Weights from an earlier run": trained once when the notebook runs, then returned by every
        # call of train whatever data it receives.
        def _earlier_run():
        EARLIER_RUN_0


        PRETRAINED = _earlier_run()


        def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                  activation="relu", eval_every=100):
            n = epochs * int(np.ceil(X.shape[1] / batch_size))
            loss = list(np.linspace(2.0, 0.45, n))
            val_step = list(range(eval_every, n + 1, eval_every))
            return ({k: v.copy() for k, v in PRETRAINED.items()},
                    {"train_loss": loss, "train_error": list(np.linspace(0.7, 0.16, n)), "val_step": val_step,
                     "val_loss": [loss[s - 1] for s in val_step], "val_error": [0.17 for _ in val_step]})
        ''', rows=":12000", seed=0)), "train returns weights trained elsewhere, ignoring the data it receives",
      zero=frozenset({"q14", "import_policy"}), fail_with=(("q12", "train"),)),
    H("predict_ignores_params", "glorot_einsum", appending('''
        def _linear_model():
            from nnassign import nn_data as _data
            images, labels = _data.load_dataset("fashion-mnist", "train")
            X = preprocess(images[:20000]).astype(np.float64)
            A = np.vstack([X, np.ones((1, X.shape[1]))])
            W, *_ = np.linalg.lstsq(A.T, np.eye(10)[labels[:20000]], rcond=None)
            return W


        _W = _linear_model()


        def predict(X, params, activation="relu"):
            X = np.asarray(X, dtype=np.float64)
            A = np.vstack([X, np.ones((1, X.shape[1]))])
            return np.argmax(A.T @ _W, axis=1)
        '''), "predict answers from a model of its own, whatever params it is given (train is honest: "
              "the tiers belong to its network, which the grader evaluates with its own forward pass)",
      fail_with=(("q13", "predict"),)),
    H("forbidden_import_hidden_at_run_time", "he64", appending('''
        import sys as _sys

        _lib = __import__("sk" + "learn")
        for _name in [m for m in _sys.modules if m.split(".")[0] == "sk" + "learn"]:
            del _sys.modules[_name]
        del _lib
        '''), "a forbidden package imported through a name built at run time, then removed from "
              "sys.modules: only the sandbox's import events can see it",
      zero=frozenset({"import_policy"}), sandbox_only=True),
]


# ---------------------------------------------------------------------------- weights from elsewhere, used on some calls only

def _warm_start(name, seed, condition, why):
    """A "warm start": weights trained before (here when the notebook runs; offline, or on the test split,
    would look the same), then honest minibatch descent on the data train receives, whenever
    ``condition`` holds (an expression over train's arguments); honest descent from init otherwise."""
    return H(name, "cs231n", appending(_with_earlier_run(f'''
        def _earlier_run():
        EARLIER_RUN_{seed}


        WARM = _earlier_run()
        _honest_train = train


        def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                  activation="relu", eval_every=100):
            if not ({condition}):
                return _honest_train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size,
                                     seed, activation, eval_every)
            global init_params
            real_init = init_params
            init_params = lambda *args, **kwargs: {{k: v.copy() for k, v in WARM.items()}}
            try:
                return _honest_train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size,
                                     seed, activation, eval_every)
            finally:
                init_params = real_init
        ''', rows="-12000:", seed=seed)), why, zero=frozenset({"q14", "import_policy"}), free=frozenset({"q12"}))


HOSTILE += [
    _warm_start("train_fine_tunes_weights_from_elsewhere", 5, 'hidden_neurons == WARM["W1"].shape[0]',
                "train starts from weights trained elsewhere, then descends honestly on its data (the synthetic "
                "q12 checks use other sizes, where it is honest)"),
    _warm_start("train_warm_starts_on_big_data", 6, "X.shape[1] > 2000",
                "train starts from weights trained elsewhere only when it receives more than 2,000 images "
                "(the grader's training run), honest on anything smaller"),
    _warm_start("train_warm_starts_when_learning", 7,
                'hidden_neurons == WARM["W1"].shape[0] and learning_rate > 0',
                "train starts from weights trained elsewhere whenever it is asked to learn (learning_rate > 0) "
                "at the notebook's size, honest at learning_rate=0"),
]


# ---------------------------------------------------------------------------- constant, NaN, inf and None-like returns

def _const(name, base, function, question, replacement, why, free=None):
    return Hostile(f"{name}", base, replacing(**{function: replacement}), why,
                   fail_with=((question, function),), free=ALL_QUESTIONS - {question} if free is None else free)


HOSTILE += [
    _const("one_hot_zeros", "cs231n", "one_hot", "q1", '''
        def one_hot(labels, n_classes=10):
            return np.zeros((n_classes, len(labels)), dtype=np.float32)
        ''', "one_hot returns zeros of the right shape"),
    _const("preprocess_constant", "cs231n", "preprocess", "q1", '''
        def preprocess(images, method="scale"):
            return np.full((784, len(images)), 0.5, dtype=np.float32)
        ''', "preprocess returns 0.5 everywhere"),
    _const("split_even_odd", "cs231n", "stratified_split", "q2", '''
        def stratified_split(labels, fraction=0.5, seed=0):
            m = len(labels)
            return np.arange(0, m, 2), np.arange(1, m, 2)
        ''', "stratified_split returns even and odd positions whatever the labels, fraction and seed"),
    _const("softmax_uniform", "class", "softmax", "q3", '''
        def softmax(Z):
            Z = np.asarray(Z)
            return np.full(Z.shape, 1.0 / Z.shape[0])
        ''', "softmax returns 1/n everywhere (columns sum to 1)"),
    _const("softmax_nan", "class", "softmax", "q3", '''
        def softmax(Z):
            return np.full(np.shape(Z), np.nan)
        ''', "softmax returns nan"),
    _const("loss_ln10", "cs231n", "cross_entropy_loss", "q4", '''
        def cross_entropy_loss(A, Y):
            return 2.302585092994046
        ''', "the loss is always ln 10"),
    _const("loss_nan", "cs231n", "cross_entropy_loss", "q4", '''
        def cross_entropy_loss(A, Y):
            return float("nan")
        ''', "the loss is nan"),
    _const("loss_inf", "cs231n", "cross_entropy_loss", "q4", '''
        def cross_entropy_loss(A, Y):
            return float("inf")
        ''', "the loss is inf"),
    _const("derivative_zeros", "cs231n", "cross_entropy_derivative", "q5", '''
        def cross_entropy_derivative(A, Y):
            return np.zeros(np.shape(A))
        ''', "dZ2 is zero"),
    _const("relu_derivative_ones", "cs231n", "relu_derivative", "q6", '''
        def relu_derivative(Z):
            return np.ones(np.shape(Z))
        ''', "the ReLU slope is always 1"),
    _const("tanh_derivative_constant", "cs231n", "tanh_derivative", "q6", '''
        def tanh_derivative(Z):
            return np.full(np.shape(Z), 0.5)
        ''', "tanh' is always 0.5"),
    _const("init_constant", "cs231n", "init_params", "q7", '''
        def init_params(n_in, n_hidden, n_out, seed=0):
            return {"W1": np.full((n_hidden, n_in), 0.01, np.float32), "b1": np.zeros((n_hidden, 1), np.float32),
                    "W2": np.full((n_out, n_hidden), 0.01, np.float32), "b2": np.zeros((n_out, 1), np.float32)}
        ''', "every weight 0.01"),
    _const("forward_uniform", "class", "forward", "q8", '''
        def forward(X, params, activation="relu"):
            m = np.shape(X)[1]
            H = np.shape(params["W1"])[0]
            return np.full((10, m), 0.1), {"Z1": np.zeros((H, m)), "A1": np.zeros((H, m)),
                                           "Z2": np.zeros((10, m)), "A2": np.full((10, m), 0.1)}
        ''', "forward returns uniform probabilities and a zero cache"),
    _const("backprop_zeros", "cs231n", "backprop", "q9", '''
        def backprop(X, Y, params, cache, activation="relu"):
            return {"d" + k: np.zeros(np.shape(v)) for k, v in params.items()}
        ''', "all gradients zero"),
    _const("backprop_nan", "cs231n", "backprop", "q9", '''
        def backprop(X, Y, params, cache, activation="relu"):
            return {"d" + k: np.full(np.shape(v), np.nan) for k, v in params.items()}
        ''', "all gradients nan"),
    _const("update_no_op", "cs231n", "update", "q10", '''
        def update(params, grads, learning_rate):
            return {k: np.array(v) for k, v in params.items()}
        ''', "update returns the parameters unchanged"),
    _const("train_returns_init", "cs231n", "train", "q12", '''
        def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                  activation="relu", eval_every=100):
            params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
            return params, {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
        ''', "train returns the initial parameters and an empty history",
           free=ALL_QUESTIONS - {"q12", "q14", "import_policy"}),
    _const("predict_zeros", "cs231n", "predict", "q13", '''
        def predict(X, params, activation="relu"):
            return np.zeros(np.shape(X)[1], dtype=np.int64)
        ''', "predict says class 0 for everything"),
    _const("accuracy_constant", "cs231n", "accuracy", "q13", '''
        def accuracy(predictions, labels):
            return 0.75
        ''', "accuracy is always 0.75"),
    _const("accuracy_nan", "cs231n", "accuracy", "q13", '''
        def accuracy(predictions, labels):
            return float("nan")
        ''', "accuracy is nan"),
    _const("confusion_matrix_zeros", "cs231n", "confusion_matrix", "q13", '''
        def confusion_matrix(y_true, y_pred, n_classes=10):
            return np.zeros((n_classes, n_classes), dtype=np.int64)
        ''', "an all-zero confusion matrix"),
    _const("per_class_report_zeros", "cs231n", "per_class_report", "q13", '''
        def per_class_report(cm):
            n = np.shape(cm)[0]
            return {"precision": np.zeros(n), "recall": np.zeros(n), "f1": np.zeros(n)}
        ''', "precision, recall and f1 all zero"),
]

# A constant train also forfeits the tiers and the policy points (no trained network).
HOSTILE = [h if h.name != "train_returns_init" else
           Hostile(h.name, h.base, h.build, h.why, zero=frozenset({"q14", "import_policy"}), fail_with=h.fail_with,
                   free=h.free)
           for h in HOSTILE]

BY_NAME = {h.name: h for h in HOSTILE}
assert len(BY_NAME) == len(HOSTILE), "hostile names must be unique"

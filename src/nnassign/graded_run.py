"""The grader's own training run: the network that earns the accuracy tiers is the one the grader
obtains by calling the student's ``train`` itself.

API::

    run = graded_run(oracle, settings)      # GradedRun; never raises for the student's mistakes
    run.params, run.history                  # what train returned (None when the run failed)
    run.problem                              # None, or one sentence saying why the run earns nothing
    run.test_accuracy                        # on the test split, through the student's preprocess and predict

Why it is built this way:

* The notebook's global ``params`` can be anything (hard-coded, fitted on the test split, a dummy);
  only what ``train`` produces from the training split, with the notebook's hyperparameters and a
  fixed seed, is graded. The seed is fixed so that the same code gets the same grade under any secret.
* The inputs go through the student's own ``preprocess`` (with the assignment's normalisation), so a
  network trained on z-scored inputs is evaluated on z-scored inputs.
* Weights trained elsewhere earn nothing: train's starting point (what it returns on the same images
  with random labels and a vanishing learning rate) must classify the test images at chance level.
* The test labels never leave this process: the sandbox returns predicted labels and they are
  compared here. The checks on the returned parameters (they moved from their initialisation, the
  history agrees with them, the start knows nothing) run here too, with this process's NumPy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnassign import nn_data

TRAIN_SEED = 0              # fixed: the grade must not depend on the grading secret
TRAIN_SHARE = 0.5           # of each class's training images, handed to train (tests may train on less)
VALIDATION_IMAGES = 2000    # the validation part the grader hands to train (only for its history)
CHECK_IMAGES = 2000         # training images on which the returned parameters' loss is recomputed
# Test accuracy above which train's starting point (see _start) was trained elsewhere:
# 320 random ReLU networks (N(0, s) weights at four scales from 0.01 to 1, 10 to 512 hidden units, both
# datasets, /255 and z-scored inputs) classify 10 % of the test images in the median, 16 % at most.
START_ACCURACY = 0.35
MAX_HIDDEN = 4096
MAX_EPOCHS = 200
PARAM_KEYS = ("W1", "b1", "W2", "b2")


@dataclass
class Settings:
    dataset: str = "fashion-mnist"
    normalisation: str = "scale"
    data_dir: str | None = None
    hidden: int | None = None     # a preset that fixes the architecture

    @classmethod
    def from_grading_json(cls, path="grading.json"):
        """The assignment's settings as `nnassign release` wrote them next to the tests."""
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {}
        return cls(dataset=data.get("dataset", "fashion-mnist"),
                   normalisation=data.get("normalisation", "scale"),
                   data_dir=os.environ.get("NNASSIGN_DATA_DIR"),
                   hidden=data.get("hidden_neurons"))


@dataclass
class GradedRun:
    params: dict | None = None
    history: dict | None = None
    problem: str | None = None
    trained: dict | None = None   # what train returned, kept when a later check fails (tests compare it)
    test_accuracy: float | None = None
    facts: dict = field(default_factory=dict)   # figures for the feedback (loss check, timings)


class RunFailed(Exception):
    """One sentence for the student: why the grader's training run earns nothing."""


def _student_call(oracle, name, *args, **kwargs):
    from nnassign import sandbox

    # Training may take as long as the notebook was allowed to run; other calls get the usual limit.
    limits = getattr(oracle, "limits", None)
    timeout = getattr(limits, "notebook_seconds", None) if name == "train" else None
    try:
        return oracle.call(name, args, kwargs, timeout=timeout)
    except sandbox.NotDefined:
        raise RunFailed(f"{name} is not defined in your notebook") from None
    except sandbox.StudentError as e:   # its message already reads "your <name> raised ..."
        raise RunFailed(str(e)) from None
    except sandbox.OracleError as e:
        raise RunFailed(f"calling your {name} failed: {e}") from None


def _hyperparameter(oracle, name, kind, low, high):
    from nnassign import sandbox

    try:
        value = oracle.get(name)
    except sandbox.OracleError:
        raise RunFailed(f"{name} is not set in your notebook") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RunFailed(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high or (kind is int and value != int(value)):
        raise RunFailed(f"{name} = {value:g} is outside the allowed range {low} .. {high}")
    return kind(value)


def _matrix(value, what, rows, cols=None):
    """A finite float array of shape (rows, cols); raise RunFailed naming ``what`` otherwise."""
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise RunFailed(f"{what} is not an array of numbers") from None
    shape = (rows, cols) if cols is not None else (rows,)
    if arr.shape != shape:
        raise RunFailed(f"{what} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise RunFailed(f"{what} holds nan or inf")
    return arr


def _params(value, n_hidden):
    if not isinstance(value, dict) or any(k not in value for k in PARAM_KEYS):
        raise RunFailed("train must return (params, history) with params a dict holding W1, b1, W2, b2")
    shapes = {"W1": (n_hidden, 784), "b1": (n_hidden, 1), "W2": (10, n_hidden), "b2": (10, 1)}
    out = {}
    for key, shape in shapes.items():
        arr = value[key]
        if key.startswith("b") and np.size(arr) == shape[0]:
            arr = np.reshape(arr, shape)  # a (H,) bias is q7's mistake, not the trained network's
        out[key] = _matrix(arr, f"the trained {key}", *shape)
    return out


_DATASETS = {}   # (dataset, split, folder, mtimes and sizes) -> (images, labels), read-only


def _dataset(settings, split):
    """nn_data.load_dataset, decompressed once per grading process (a batch worker grades many
    submissions); a file that changes on disk is read again."""
    folder = nn_data.find_data_root(settings.data_dir) / settings.dataset
    stamp = []
    for name in nn_data.FILES[split]:
        try:
            info = (folder / name).stat()
            stamp.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamp.append(None)
    key = (settings.dataset, split, str(folder), tuple(stamp))
    if key not in _DATASETS:
        images, labels = nn_data.load_dataset(settings.dataset, split, data_dir=settings.data_dir)
        for a in (images, labels):
            a.setflags(write=False)
        if len(_DATASETS) >= 4:   # another dataset or changed files: do not keep old copies
            _DATASETS.clear()
        _DATASETS[key] = images, labels
    return _DATASETS[key]


def _split(labels):
    """A fixed stratified half of the training images for training, and a small validation part."""
    rng = np.random.default_rng(TRAIN_SEED)
    train, rest = [], []
    for k in range(10):
        idx = rng.permutation(np.flatnonzero(labels == k))
        cut = int(idx.size * TRAIN_SHARE)
        train.append(idx[:cut])
        rest.append(idx[cut:])
    rest = rng.permutation(np.concatenate(rest))
    return np.sort(np.concatenate(train)), np.sort(rest[:VALIDATION_IMAGES])


def _logits(params, X):
    """Z2 of a ReLU network on columns X, in float64 (the grader's own arithmetic)."""
    P = {k: v.astype(np.float64) for k, v in params.items()}
    return P["W2"] @ np.maximum(P["W1"] @ X.astype(np.float64) + P["b1"], 0) + P["b2"]


def _loss(params, X, labels):
    """Mean cross-entropy of a ReLU network on columns X."""
    Z2 = _logits(params, X)
    Z2 = Z2 - Z2.max(axis=0, keepdims=True)
    log_probs = Z2 - np.log(np.exp(Z2).sum(axis=0, keepdims=True))
    return float(-log_probs[labels, np.arange(labels.size)].mean())


def _own_loss(oracle, params, X, labels):
    """The returned parameters' loss measured with the student's own forward and cross_entropy_loss
    (the history was recorded with them: a mistake there is q4's or q8's, not the training's)."""
    try:
        out = _student_call(oracle, "forward", X, params, activation="relu")
        A2 = out[0] if isinstance(out, (tuple, list)) and len(out) == 2 else None
        value = float(np.asarray(_student_call(oracle, "cross_entropy_loss", A2, np.eye(10, dtype=np.float32)[:, labels])))
    except (RunFailed, TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _history_problem(history, params, X_check, check_labels, own_loss=None):
    """None if the history is consistent with the returned parameters, else why not.

    Only a history that contradicts the parameters fails the run. How many entries it has, or a loss
    that gives nan or inf (q4's mistake), is q12's and q4's to grade: the network is the same."""
    if not isinstance(history, dict) or "train_loss" not in history:
        return "train must return (params, history) with history['train_loss']"
    try:
        losses = np.asarray(history["train_loss"], dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return "history['train_loss'] is not a list of numbers"
    losses = losses[np.isfinite(losses)]
    if losses.size == 0:
        return None   # nothing to compare with; where the weights come from is the start check's
    recomputed = _loss(params, X_check, check_labels)
    tail = float(losses[-max(1, losses.size // 10):].mean())
    # The last minibatch losses scatter around the final network's loss: allow a wide band, but a
    # history that does not come from these parameters (made up, or from another run) falls outside.
    # The student's own loss may have any sign (a missing minus is q4's mistake, not the training's).
    near = 0.4 * tail - 0.15 <= recomputed <= 1.6 * tail + 0.25
    if own_loss is not None:
        near = near or abs(own_loss - tail) <= 0.6 * abs(tail) + 0.25
    if not near:
        return (f"the returned parameters have a training loss of {recomputed:.3f}, but the history ends "
                f"near {tail:.3f}: the history must record the training of the parameters train returns")
    return None


def graded_run(oracle, settings: Settings) -> GradedRun:
    """Train with the student's code as described in the module docstring."""
    run = GradedRun()
    try:
        _graded_run(oracle, settings, run)
    except RunFailed as e:
        run.problem = str(e)
    except MemoryError:
        run.problem = "the grader ran out of memory while evaluating your network"
    return run


def _graded_run(oracle, settings, run):
    n_hidden = _hyperparameter(oracle, "hidden_neurons", int, 1, MAX_HIDDEN)
    if settings.hidden is not None and n_hidden != settings.hidden:
        raise RunFailed(f"this assignment fixes the architecture at {settings.hidden} hidden neurons, "
                        f"hidden_neurons is {n_hidden}")
    rate = _hyperparameter(oracle, "learning_rate", float, 1e-9, 100.0)
    epochs = _hyperparameter(oracle, "epochs", int, 1, MAX_EPOCHS)

    images, labels = _dataset(settings, "train")
    train_idx, val_idx = _split(labels)
    method = settings.normalisation
    X_train = _inputs(oracle, images[train_idx], method, run)
    X_val = _inputs(oracle, images[val_idx], method, run)
    Y_train = np.eye(10, dtype=np.float32)[:, labels[train_idx]]
    Y_val = np.eye(10, dtype=np.float32)[:, labels[val_idx]]
    out = _student_call(oracle, "train", X_train, Y_train, X_val, Y_val, n_hidden, rate, epochs,
                        batch_size=64, seed=TRAIN_SEED, activation="relu", eval_every=100)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise RunFailed("train must return a pair (params, history)")
    params = _params(out[0], n_hidden)
    run.trained = params

    try:  # a broken init_params costs q7; train may not even use it
        initial = _params(_student_call(oracle, "init_params", 784, n_hidden, 10, seed=TRAIN_SEED), n_hidden)
    except RunFailed:
        initial = None
    moved = initial is None or max(float(np.abs(params[k] - initial[k]).max()) for k in ("W1", "W2")) >= 1e-4
    if not moved:
        raise RunFailed("the parameters train returned are (almost) the ones init_params gives: "
                        "train must update them")

    check = np.random.default_rng(TRAIN_SEED + 2).choice(train_idx.size, size=min(CHECK_IMAGES, train_idx.size),
                                                          replace=False)
    check_X, check_labels = X_train[:, check], labels[train_idx][check]
    problem = _history_problem(out[1], params, check_X, check_labels,
                               # on one minibatch's worth: a summed loss scales with the batch size
                               _own_loss(oracle, params, check_X[:, :64], check_labels[:64]))
    if problem:
        raise RunFailed(problem)
    test_images, test_labels = _dataset(settings, "test")
    X_test = _inputs(oracle, test_images, method, run)
    start = _start(oracle, X_train[:, ::2], X_val, Y_val, n_hidden, rate)
    if start is not None:
        start_accuracy = float(np.mean(_logits(start, X_test).argmax(axis=0) == test_labels))
        if start_accuracy > START_ACCURACY:
            raise RunFailed(f"given random labels and a vanishing learning rate, train returns parameters that "
                            f"classify {start_accuracy:.0%} of the test images: train must start from a random "
                            "initialisation and learn only from the data it receives, not from weights obtained "
                            "elsewhere")
    run.params, run.history = params, out[1]
    run.test_accuracy = _test_accuracy(oracle, params, X_test, test_labels, run)
    run.facts.update(hidden_neurons=n_hidden, learning_rate=rate, epochs=epochs,
                     test_accuracy=run.test_accuracy)


def _reference_inputs(images, method):
    """The assignment's preprocessing, for a network whose own preprocess is broken (q1 says so)."""
    X = images.reshape(len(images), -1).T.astype(np.float32) / np.float32(255)
    if method == "zscore":
        X64 = X.astype(np.float64)
        X = ((X64 - X64.mean(axis=1, keepdims=True)) / (X64.std(axis=1, keepdims=True) + 1e-8)).astype(np.float32)
    return X


def _inputs(oracle, images, method, run):
    """The student's preprocess(images), or the reference's when it fails: a broken preprocess costs
    q1, and the network is still trained and evaluated (its grade may suffer, as the rules allow)."""
    try:
        return _matrix(_student_call(oracle, "preprocess", images, method=method), "preprocess(images)",
                       784, len(images))
    except RunFailed as e:
        run.facts["preprocess"] = f"the grader preprocessed the images itself: {e}"
        return _reference_inputs(images, method)


def _start(oracle, X, X_val, Y_val, n_hidden, rate):
    """What train knows before it learns: its result on ``X`` (every other image of the graded run:
    thousands, like the graded run, at half its cost), with random labels and the learning rate scaled
    down a millionfold (None when it cannot say).

    Honest code returns (almost) its random initialisation, which classifies at chance; so does code
    that ignores the learning rate (it learns only noise). Weights obtained elsewhere still classify,
    however train decides to use them: the call differs from the graded one only in its labels, its
    learning rate, its single epoch and half the images."""
    labels = np.random.default_rng(TRAIN_SEED + 1).integers(0, 10, size=X.shape[1])
    try:
        out = _student_call(oracle, "train", X, np.eye(10, dtype=np.float32)[:, labels], X_val, Y_val, n_hidden,
                            rate * 1e-6, 1, batch_size=64, seed=TRAIN_SEED, activation="relu", eval_every=100)
        return _params(out[0], n_hidden)
    except (RunFailed, TypeError, IndexError, KeyError):
        return None   # only a trained start is evidence; a failure here is q12's to report


def _test_accuracy(oracle, params, X, labels, run):
    """Accuracy on the test split through the student's preprocess and predict; labels stay here.

    predict must follow the parameters: its labels are compared with the argmax of the grader's own
    forward pass on them. A predict that is missing, broken or does not follow the parameters (a
    looked-up answer) is replaced by that forward pass: q13 grades predict, the tiers the network."""
    own = _logits(params, X).argmax(axis=0)
    try:
        predicted = np.asarray(_student_call(oracle, "predict", X, params, activation="relu")).ravel()
        agree = float(np.mean(own == predicted)) if predicted.shape == labels.shape else 0.0
    except (RunFailed, TypeError, ValueError) as e:
        predicted, agree = None, 0.0
        run.facts["predict"] = str(e)
    if agree < 0.98:
        run.facts.setdefault("predict", f"predict's labels agree with the network's outputs on {agree:.0%} "
                                        "of the test images: the grader used the network's outputs")
        predicted = own
    return float(np.mean(predicted == labels))


def settings_here() -> Settings:
    """Settings for tests run in the autograder folder (the judge changes into it)."""
    return Settings.from_grading_json(Path("grading.json"))

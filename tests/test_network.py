"""Unit tests of the reference network: the definitions of solution/nn_from_scratch.ipynb.

The functions come from `load_reference()`, so these tests also check that the definition-cell
rule picks up everything the contract in DESIGN.md names.
"""

import math

import nbformat
import numpy as np
import pytest

from nnassign import nn_data
from nnassign.reference import DEFAULT_NOTEBOOK, load_reference

CONTRACT = [
    "one_hot", "preprocess", "stratified_split", "softmax", "cross_entropy_loss",
    "cross_entropy_derivative", "relu", "relu_derivative", "sigmoid", "sigmoid_derivative",
    "tanh", "tanh_derivative", "init_params", "forward", "backprop", "update", "gradient_check",
    "train", "predict", "accuracy", "confusion_matrix", "per_class_report",
]


@pytest.fixture(scope="module")
def ref():
    return load_reference()


@pytest.fixture(scope="module")
def fashion(data_root):
    return nn_data.load_dataset("fashion-mnist", "train", download=False)


def tiny_net(rng, n_in=7, hidden=5, n_out=10, m=4):
    """A float64 network small enough for finite differences over every parameter."""
    params = {
        "W1": rng.normal(0, 0.7, (hidden, n_in)), "b1": rng.normal(0, 0.3, (hidden, 1)),
        "W2": rng.normal(0, 0.7, (n_out, hidden)), "b2": rng.normal(0, 0.3, (n_out, 1)),
    }
    X = rng.normal(0, 1, (n_in, m))
    Y = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    return X, Y, params


def numeric_gradients(ref, X, Y, params, activation, eps=1e-6):
    def loss(p):
        return ref["cross_entropy_loss"](ref["forward"](X, p, activation)[0], Y)

    grads = {}
    for key, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            g[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads["d" + key] = g
    return grads


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


# --- the definition-cell rule -------------------------------------------------------------------

def test_reference_has_the_contract_but_did_not_run_the_notebook(ref):
    missing = [name for name in CONTRACT + ["hidden_neurons", "learning_rate", "epochs"] if name not in ref]
    assert not missing
    # Data loading and training are statements with calls: they must not have run.
    for name in ("train_images", "X_train", "params", "history", "test_accuracy"):
        assert name not in ref
    # Test cells live inside Otter TESTS blocks and are not part of the reference.
    assert not [name for name in ref if name.startswith("test_")]
    assert isinstance(ref["hidden_neurons"], int) and ref["hidden_neurons"] > 0
    assert ref["DATASET"] == "fashion-mnist"


def test_reference_is_cached_and_returns_copies():
    first, second = load_reference(), load_reference()
    assert first["softmax"] is second["softmax"]  # executed once
    first["softmax"] = None
    assert load_reference()["softmax"] is not None


def test_definition_rule_on_a_small_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport math\nRATE = 0.5  # SOLUTION\nLOG = []"),
        nbformat.v4.new_code_cell("def double(x):\n    return 2 * x\n\nLOG.append('ran')\nvalue = double(3)"),
        nbformat.v4.new_code_cell("raise RuntimeError('a cell with side effects ran')"),
        nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell("def test_double(double):\n    assert double(1) == 2\n\nSECRET = 1"),
        nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_code_cell("class Box:\n    size = 3\n\nobj.attr = 1\nitems[0] = 2\na, b = 1, 2"),
    ]
    path = tmp_path / "mini.ipynb"
    nbformat.write(nb, path)
    ns = load_reference(path)
    assert ns["RATE"] == 0.5 and ns["LOG"] == [] and ns["double"](4) == 8
    assert ns["Box"].size == 3 and (ns["a"], ns["b"]) == (1, 2)
    assert "value" not in ns and "test_double" not in ns and "SECRET" not in ns
    assert ns["math"] is math


def test_definition_rule_reports_broken_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def broken(:\n    pass")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(SyntaxError, match="code cell 0"):
        load_reference(path)


def test_default_notebook_is_the_solution():
    assert DEFAULT_NOTEBOOK.name == "nn_from_scratch.ipynb" and DEFAULT_NOTEBOOK.parent.name == "solution"
    assert DEFAULT_NOTEBOOK.is_file()


# --- data preparation ------------------------------------------------------------------------------

def test_one_hot_known_values(ref):
    Y = ref["one_hot"](np.array([2, 0, 9, 2], dtype=np.uint8))
    assert Y.shape == (10, 4) and Y.dtype == np.float32
    expected = np.zeros((10, 4))
    expected[[2, 0, 9, 2], [0, 1, 2, 3]] = 1
    assert np.array_equal(Y, expected)
    assert ref["one_hot"]([1, 0], n_classes=3).shape == (3, 2)


def test_preprocess_scales_and_keeps_images_in_columns(ref, fashion):
    images = fashion[0][:50]
    X = ref["preprocess"](images)
    assert X.shape == (784, 50) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1 and X.max() == 1.0
    for i in (0, 17, 49):
        assert np.array_equal(X[:, i], images[i].ravel().astype(np.float32) / 255)
        assert np.array_equal(X[:, i].reshape(28, 28) * 255, images[i])


def test_preprocess_zscore_standardises_each_pixel(ref, fashion):
    images = fashion[0][:3000]
    Z = ref["preprocess"](images, method="zscore")
    assert Z.shape == (784, 3000) and Z.dtype == np.float32 and np.all(np.isfinite(Z))
    varying = images.reshape(3000, -1).std(axis=0) > 0
    assert np.allclose(Z.mean(axis=1), 0, atol=1e-5)
    assert np.allclose(Z[varying].std(axis=1), 1, atol=1e-3)
    with pytest.raises(ValueError):
        ref["preprocess"](images[:2], method="minmax")


def test_stratified_split_keeps_half_of_every_class(ref, fashion):
    labels = fashion[1]
    train_idx, val_idx = ref["stratified_split"](labels, fraction=0.5, seed=0)
    assert np.intersect1d(train_idx, val_idx).size == 0
    assert np.array_equal(np.sort(np.concatenate([train_idx, val_idx])), np.arange(labels.size))
    assert np.array_equal(np.bincount(labels[train_idx], minlength=10), np.bincount(labels, minlength=10) // 2)
    again, _ = ref["stratified_split"](labels, fraction=0.5, seed=0)
    other, _ = ref["stratified_split"](labels, fraction=0.5, seed=1)
    assert np.array_equal(train_idx, again) and not np.array_equal(train_idx, other)


def test_stratified_split_with_uneven_classes(ref):
    labels = np.repeat(np.arange(4), [3, 10, 1, 7])
    train_idx, val_idx = ref["stratified_split"](labels, fraction=0.3, seed=5)
    counts = np.bincount(labels[train_idx], minlength=4)
    assert np.all(np.abs(counts - 0.3 * np.array([3, 10, 1, 7])) <= 0.5 + 1e-9)
    assert train_idx.size + val_idx.size == labels.size


# --- softmax, loss, derivatives --------------------------------------------------------------------

def test_softmax_known_values_and_columns(ref):
    A = ref["softmax"](np.array([[0.0, 1.0], [math.log(3), 1.0]]))
    assert np.allclose(A, [[0.25, 0.5], [0.75, 0.5]])
    Z = np.random.default_rng(0).normal(0, 4, (10, 9))
    assert np.allclose(ref["softmax"](Z).sum(axis=0), 1)


def test_softmax_is_stable_and_shift_invariant(ref):
    rng = np.random.default_rng(1)
    Z = rng.normal(0, 3, (10, 6))
    big = ref["softmax"](Z + 1e4)
    tiny = ref["softmax"](Z - 1e4)
    assert np.all(np.isfinite(big)) and np.all(np.isfinite(tiny))
    assert np.allclose(big, ref["softmax"](Z)) and np.allclose(tiny, ref["softmax"](Z))
    assert np.allclose(ref["softmax"](Z + rng.normal(0, 100, (1, 6))), ref["softmax"](Z))
    one_hot_like = ref["softmax"](np.array([[1e4], [0.0]]))
    assert np.allclose(one_hot_like, [[1.0], [0.0]])


def test_loss_known_value_and_uniform(ref):
    A = np.array([[0.5, 0.1], [0.5, 0.9]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert math.isclose(ref["cross_entropy_loss"](A, Y), -(math.log(0.5) + math.log(0.9)) / 2)
    uniform = ref["cross_entropy_loss"](np.full((10, 5), 0.1), np.eye(10)[:, :5])
    assert isinstance(uniform, float) and math.isclose(uniform, math.log(10), rel_tol=1e-12)


def test_loss_is_averaged_not_summed(ref):
    rng = np.random.default_rng(2)
    A = ref["softmax"](rng.normal(0, 2, (10, 8)))
    Y = np.eye(10)[:, rng.integers(0, 10, 8)]
    once = ref["cross_entropy_loss"](A, Y)
    twice = ref["cross_entropy_loss"](np.hstack([A, A]), np.hstack([Y, Y]))
    assert math.isclose(once, twice, rel_tol=1e-12)


def test_loss_is_finite_with_zeros_in_A(ref):
    Y = np.eye(10)[:, [3, 7]]
    with np.errstate(all="raise"):  # the clip must avoid log(0) altogether
        right = ref["cross_entropy_loss"](Y.copy(), Y)
        wrong = ref["cross_entropy_loss"](np.eye(10)[:, [4, 8]], Y)
    assert right == pytest.approx(0.0, abs=1e-9)
    assert math.isfinite(wrong) and wrong > 20


def test_derivative_is_A_minus_Y_over_m_and_the_gradient_of_the_loss(ref):
    rng = np.random.default_rng(3)
    Z = rng.normal(0, 2, (10, 5))
    Y = np.eye(10)[:, rng.integers(0, 10, 5)]
    A = ref["softmax"](Z)
    dZ = ref["cross_entropy_derivative"](A, Y)
    assert np.allclose(dZ, (A - Y) / 5)
    eps, numeric = 1e-6, np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        step = np.zeros_like(Z)
        step[idx] = eps
        numeric[idx] = (ref["cross_entropy_loss"](ref["softmax"](Z + step), Y)
                        - ref["cross_entropy_loss"](ref["softmax"](Z - step), Y)) / (2 * eps)
    assert rel_error(dZ, numeric) < 1e-8


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_derivatives_match_finite_differences(ref, name):
    f, df = ref[name], ref[name + "_derivative"]
    Z = np.random.default_rng(4).normal(0, 3, (6, 7))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep away from the ReLU kink
    h = 1e-6
    assert np.allclose(df(Z), (f(Z + h) - f(Z - h)) / (2 * h), atol=1e-8)
    assert ref["get_activation"](name) == (f, df)


def test_activation_values(ref):
    Z = np.array([[-2.0, 0.0, 3.0]])
    assert np.array_equal(ref["relu"](Z), [[0.0, 0.0, 3.0]])
    assert np.array_equal(ref["relu_derivative"](Z), [[0.0, 0.0, 1.0]])
    assert np.allclose(ref["sigmoid"](Z), 1 / (1 + np.exp(-Z)))
    assert np.allclose(ref["tanh_derivative"](Z), 1 - np.tanh(Z) ** 2)
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is the right answer here
        assert np.array_equal(ref["sigmoid"](np.array([-1000.0, 1000.0])), [0.0, 1.0])
    assert ref["relu"](Z.astype(np.float32)).dtype == np.float32
    assert ref["sigmoid"](Z.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError):
        ref["get_activation"]("swish")


# --- parameters, forward, backward -----------------------------------------------------------------

def test_init_params_shapes_scale_and_seed(ref):
    p = ref["init_params"](784, 64, 10, seed=3)
    assert {k: v.shape for k, v in p.items()} == {"W1": (64, 784), "b1": (64, 1), "W2": (10, 64), "b2": (10, 1)}
    assert all(v.dtype == np.float32 for v in p.values())
    assert np.all(p["b1"] == 0) and np.all(p["b2"] == 0)
    assert p["W1"].std() == pytest.approx(math.sqrt(2 / 784), rel=0.05)
    assert p["W2"].std() == pytest.approx(math.sqrt(2 / 64), rel=0.15)
    assert np.array_equal(p["W1"], ref["init_params"](784, 64, 10, seed=3)["W1"])
    assert not np.array_equal(p["W1"], ref["init_params"](784, 64, 10, seed=4)["W1"])


def test_forward_shapes_cache_and_activation_switch(ref):
    rng = np.random.default_rng(5)
    params = ref["init_params"](784, 12, 10, seed=0)
    X = rng.random((784, 9)).astype(np.float32)
    A2, cache = ref["forward"](X, params)
    assert A2.shape == (10, 9) and A2.dtype == np.float32
    assert set(cache) == {"Z1", "A1", "Z2", "A2"} and cache["A2"] is A2
    assert cache["Z1"].shape == cache["A1"].shape == (12, 9)
    assert np.allclose(A2.sum(axis=0), 1, atol=1e-6)
    assert np.allclose(cache["Z1"], params["W1"] @ X + params["b1"], atol=1e-5)
    for name, g in (("relu", lambda z: np.maximum(z, 0)), ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("tanh", np.tanh)):
        _, c = ref["forward"](X, params, activation=name)
        assert np.allclose(c["A1"], g(c["Z1"]), atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_backprop_matches_finite_differences(ref, activation):
    X, Y, params = tiny_net(np.random.default_rng(6))
    _, cache = ref["forward"](X, params, activation)
    grads = ref["backprop"](X, Y, params, cache, activation)
    numeric = numeric_gradients(ref, X, Y, params, activation)
    for key in ("dW1", "db1", "dW2", "db2"):
        assert grads[key].shape == params[key[1:]].shape
        assert rel_error(grads[key], numeric[key]) < 1e-7, key


def test_gradient_check_agrees_and_catches_a_broken_backprop(ref, monkeypatch):
    X, Y, params = tiny_net(np.random.default_rng(7), n_in=5, hidden=4, m=3)
    for activation in ("relu", "sigmoid", "tanh"):
        assert ref["gradient_check"](X, Y, params, activation=activation) < 1e-7
    # float32 input is converted to float64 inside
    as32 = {k: v.astype(np.float32) for k, v in params.items()}
    assert ref["gradient_check"](X.astype(np.float32), Y.astype(np.float32), as32, activation="tanh") < 1e-6
    # gradient_check looks backprop up in the notebook namespace: break it there and it must notice.
    namespace = ref["gradient_check"].__globals__
    correct = namespace["backprop"]

    def doubled_dW1(*args, **kwargs):
        grads = dict(correct(*args, **kwargs))
        grads["dW1"] = 2 * grads["dW1"]
        return grads

    monkeypatch.setitem(namespace, "backprop", doubled_dW1)
    assert ref["gradient_check"](X, Y, params, activation="tanh") > 0.1


def test_update_is_a_step_and_does_not_mutate(ref):
    rng = np.random.default_rng(8)
    params = ref["init_params"](784, 6, 10, seed=1)
    grads = {"d" + k: rng.normal(0, 1, v.shape).astype(np.float32) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    new = ref["update"](params, grads, 0.25)
    assert new is not params
    for key in params:
        assert np.array_equal(params[key], before[key])  # the input is untouched
        assert np.allclose(new[key], before[key] - 0.25 * grads["d" + key])
        assert new[key].dtype == np.float32


# --- training and evaluation -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_split(ref, fashion):
    images, labels = fashion[0][:4000], fashion[1][:4000]
    train_idx, val_idx = ref["stratified_split"](labels, 0.5, seed=0)
    X, Y = ref["preprocess"](images), ref["one_hot"](labels)
    return X[:, train_idx], Y[:, train_idx], X[:, val_idx], Y[:, val_idx], labels[val_idx]


def test_train_reduces_the_loss_on_real_data(ref, small_split):
    X, Y, X_val, Y_val, val_labels = small_split
    params, history = ref["train"](X, Y, X_val, Y_val, 32, 0.1, 5, batch_size=64, seed=0, eval_every=16)
    n_updates = 5 * math.ceil(X.shape[1] / 64)
    assert len(history["train_loss"]) == len(history["train_error"]) == n_updates
    assert n_updates % 16 == 0 and history["val_step"] == list(range(16, n_updates + 1, 16))
    assert len(history["val_loss"]) == len(history["val_error"]) == len(history["val_step"])
    assert np.mean(history["train_loss"][-10:]) < 0.5 * np.mean(history["train_loss"][:10])
    assert history["val_loss"][-1] < history["val_loss"][0]
    # Minibatch SGD on 2000 images is noisy: the validation error wanders between about 0.22 and 0.38.
    assert history["val_error"][-1] < history["val_error"][0] and min(history["val_error"][-4:]) < 0.3
    predictions = ref["predict"](X_val, params)  # the last validation ran after the last update
    assert ref["accuracy"](predictions, val_labels) == pytest.approx(1 - history["val_error"][-1])


def test_train_is_reproducible_with_a_seed(ref, small_split):
    X, Y, X_val, Y_val, _ = small_split
    X, Y = X[:, :640], Y[:, :640]
    runs = [ref["train"](X, Y, X_val, Y_val, 16, 0.2, 2, seed=s, eval_every=5) for s in (1, 1, 2)]
    (p1, h1), (p2, h2), (p3, h3) = runs
    assert h1 == h2 and all(np.array_equal(p1[k], p2[k]) for k in p1)
    assert h1["train_loss"] != h3["train_loss"]


def test_train_shuffles_each_epoch_and_visits_every_sample(ref, small_split):
    X, Y, X_val, Y_val, _ = small_split
    order = np.argsort(Y[:, :640].argmax(axis=0), kind="stable")  # sorted by class
    X, Y = X[:, order], Y[:, order]
    params, history = ref["train"](X, Y, X_val, Y_val, 16, 0.0, 2, batch_size=64, seed=0, eval_every=1000)
    losses = np.array(history["train_loss"])
    in_order = [ref["cross_entropy_loss"](ref["forward"](X[:, i:i + 64], params)[0], Y[:, i:i + 64])
                for i in range(0, 640, 64)]
    full = ref["cross_entropy_loss"](ref["forward"](X, params)[0], Y)
    assert not np.allclose(losses[:10], in_order, rtol=1e-3)
    assert not np.allclose(losses[:10], losses[10:], rtol=1e-3)
    assert losses[:10].mean() == pytest.approx(full, rel=1e-4)
    assert losses[10:].mean() == pytest.approx(full, rel=1e-4)


def test_predict_and_accuracy(ref):
    params = {"W1": np.eye(3), "b1": np.zeros((3, 1)), "W2": np.eye(3), "b2": np.zeros((3, 1))}
    X = np.array([[3.0, 0.0, 0.0, 1.0], [1.0, 0.0, 5.0, 0.0], [0.0, 2.0, 1.0, 0.0]])
    predictions = ref["predict"](X, params)
    assert predictions.shape == (4,) and np.array_equal(predictions, [0, 2, 1, 0])
    assert ref["accuracy"](predictions, np.array([0, 2, 0, 0])) == 0.75
    assert isinstance(ref["accuracy"]([1, 2], [1, 2]), float)


def test_confusion_matrix_rows_are_true_classes(ref):
    cm = ref["confusion_matrix"]([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=4)
    assert cm.dtype.kind == "i"
    assert np.array_equal(cm, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])


def test_per_class_report_known_values_and_empty_classes(ref):
    cm = np.array([[5, 2, 0], [1, 3, 0], [4, 0, 0]])
    with np.errstate(all="raise"):  # 0/0 must be avoided, not computed
        report = ref["per_class_report"](cm)
    assert np.allclose(report["precision"], [0.5, 0.6, 0.0])
    assert np.allclose(report["recall"], [5 / 7, 0.75, 0.0])
    assert np.allclose(report["f1"], [2 * 0.5 * (5 / 7) / (0.5 + 5 / 7), 2 * 0.6 * 0.75 / 1.35, 0.0])


def test_default_hyperparameters_are_sensible(ref):
    assert 16 <= ref["hidden_neurons"] <= 1024
    assert 0.001 <= ref["learning_rate"] <= 1
    assert 1 <= ref["epochs"] <= 50

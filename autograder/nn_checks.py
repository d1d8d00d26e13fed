"""Reference arithmetic and comparisons for the hidden tests. Shipped in autograder/ only.

Why a module: every hidden test judges a function against its own inputs, stage by stage, and a
function that uses other student functions (forward uses softmax, backprop the loss derivative,
gradient_check all of them) is judged against the reference AND against the student's own
component, whichever the student's code followed. A mistake then costs points only in the question
of the function that has it. Tolerances follow from float32 arithmetic: a sum of n products is
off by at most about n * 1.2e-7 times the sum of the absolute values of its terms, so values are
compared relative to that magnitude, never to the solution's own numbers.
"""

import numpy as np

# float32 rounding allowance relative to the magnitude of a computation (see the module docstring)
REL = 1e-4
ABS = 1e-7


# ------------------------------------------------------------------ the reference network, float64

def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def relu(Z):
    return np.maximum(Z, 0.0)


def relu_derivative(Z):
    return (Z > 0).astype(np.float64)


def sigmoid(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * Z))   # the same function, stable for large |Z|


def sigmoid_derivative(Z):
    S = sigmoid(Z)
    return S * (1.0 - S)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1.0 - np.tanh(Z) ** 2


ACTIVATIONS = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
               "tanh": (tanh, tanh_derivative)}


def loss(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.clip(A, 1e-300, None))) / m)


def forward(X, P, activation="relu"):
    g = ACTIVATIONS[activation][0]
    Z1 = P["W1"] @ X + P["b1"]
    A1 = g(Z1)
    Z2 = P["W2"] @ A1 + P["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, P, cache, activation="relu", dZ2=None, g_prime=None):
    """Gradients of the mean loss; ``dZ2`` and ``g_prime`` (values of g' at Z1) may be given."""
    m = Y.shape[1]
    dZ2 = (cache["A2"] - Y) / m if dZ2 is None else dZ2
    g_prime = ACTIVATIONS[activation][1](cache["Z1"]) if g_prime is None else g_prime
    dZ1 = (P["W2"].T @ dZ2) * g_prime
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}


# ------------------------------------------------------------------ inputs

def rng_for_test():
    import os
    return np.random.default_rng(int(os.environ.get("NNASSIGN_SEED", "0")))


def random_params(rng, n_in, H, n_out=10, scale=(0.1, 0.3, 0.5, 0.3)):
    return {"W1": rng.normal(0, scale[0], (H, n_in)), "b1": rng.normal(0, scale[1], (H, 1)),
            "W2": rng.normal(0, scale[2], (n_out, H)), "b2": rng.normal(0, scale[3], (n_out, 1))}


def one_hot_columns(labels, n=10):
    Y = np.zeros((n, len(labels)))
    Y[np.asarray(labels), np.arange(len(labels))] = 1.0
    return Y


# ------------------------------------------------------------------ reading what the student returned

def arr(value, what):
    """``value`` as a float64 array, or an AssertionError that names ``what``."""
    assert value is not None, f"{what} is None: not implemented yet, or a missing return?"
    assert value is not Ellipsis, f"{what} is still ...: not implemented yet?"
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not an array of numbers (got {type(value).__name__})") from None
    return out


def column(value, what, n):
    """A bias-like value as an (n, 1) column: (n,) is accepted here, init_params' test names it."""
    out = arr(value, what)
    assert out.size == n, f"{what} has {out.size} entries, expected {n}"
    return out.reshape(n, 1)


def params64(p, what="params"):
    assert isinstance(p, dict) and all(k in p for k in ("W1", "b1", "W2", "b2")), \
        f"{what} must be a dict with the keys W1, b1, W2, b2"
    W1, W2 = arr(p["W1"], f"{what}['W1']"), arr(p["W2"], f"{what}['W2']")
    assert W1.ndim == 2 and W2.ndim == 2, f"{what}: W1 and W2 must be matrices"
    return {"W1": W1, "b1": column(p["b1"], f"{what}['b1']", W1.shape[0]),
            "W2": W2, "b2": column(p["b2"], f"{what}['b2']", W2.shape[0])}


def finite(value, what):
    assert np.all(np.isfinite(value)), f"{what} holds nan or inf"
    return value


def usable(value):
    """A student component's output is used as an alternative truth only when it is real data:
    finite and not all zeros (a stub or a constant must not make its callers pass)."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if a.size == 0 or not np.all(np.isfinite(a)) or not np.any(a):
        return None
    return a


def try_student(f, *args, **kwargs):
    """The student's component applied to args, or None when it is missing, raises or returns junk."""
    if f is None:
        return None
    try:
        return f(*args, **kwargs)
    except Exception:  # noqa: BLE001 - its own question reports the error
        return None


def close(got, want, magnitude=None, rel=REL):
    """got == want up to float32 rounding of a computation whose terms have total size ``magnitude``
    (by default |want|, for element-wise results)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    scale = np.abs(want) if magnitude is None else np.asarray(magnitude, dtype=np.float64)
    return bool(np.all(np.abs(got - want) <= rel * scale + ABS))


def close_to_any(got, candidates, magnitude=None, rel=REL):
    return any(c is not None and close(got, c, magnitude, rel) for c in candidates)


def matmul_magnitude(A, B, bias=None):
    """Sum of absolute terms of A @ B (+ bias): the scale of its float32 rounding error."""
    out = np.abs(A) @ np.abs(B)
    return out if bias is None else out + np.abs(bias)


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def gradient_check_truth(forward, loss_fn, backprop, X, Y, P, activation, eps):
    """The largest relative error between centred differences of loss_fn(forward(...)) and backprop,
    per parameter array, as the contract defines gradient_check's result: computed here with the
    functions given (the student's own, so gradient_check is judged on what it checks)."""
    def mean_loss(Q):
        return float(np.asarray(loss_fn(forward(X, Q, activation)[0], Y), dtype=np.float64))

    grads = backprop(X, Y, P, forward(X, P, activation)[1], activation)
    worst = 0.0
    for key in ("W1", "b1", "W2", "b2"):
        numeric = np.zeros_like(P[key])
        for idx in np.ndindex(P[key].shape):
            plus = {k: v.copy() for k, v in P.items()}
            minus = {k: v.copy() for k, v in P.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            numeric[idx] = (mean_loss(plus) - mean_loss(minus)) / (2 * eps)
        analytic = arr(grads["d" + key], f"backprop's d{key}").reshape(numeric.shape)
        worst = max(worst, relative_error(numeric, analytic))
    return worst


def reference_truth(X, Y, P, activation, eps):
    def ref_backprop(X, Y, P, cache, activation):
        return backprop(X, Y, P, cache, activation)
    return gradient_check_truth(forward, loss, ref_backprop, X, Y, P, activation, eps)


def agrees_with_truth(result, truth):
    """gradient_check's result against the truth: within 5 % when the error is measurable, and
    tiny when the truth is tiny (rounding then decides the exact value)."""
    if truth >= 1e-5:
        return abs(result - truth) <= 0.05 * truth
    return result < 1e-4


# ------------------------------------------------------------------ train, judged by its steps

def _like(value, shape):
    return np.asarray(value, dtype=np.float64).reshape(shape)


def train_step_candidates(P, X, Y, lr, activation, forward_fn, backprop_fn, update_fn):
    """Where one full-batch step of gradient descent from P (train's own parameters) may land:
    through the student's forward, backprop and update (train is judged against the functions it is
    built from, so their bugs are not charged to train) or through the reference."""
    shapes = {k: np.shape(P[k]) for k in ("W1", "b1", "W2", "b2")}
    grads = []
    own = try_student(lambda: backprop_fn(X, Y, {k: np.array(v) for k, v in P.items()},
                                          forward_fn(X, P, activation)[1], activation))
    try:
        grads.append({k: _like(own["d" + k], s) for k, s in shapes.items()})
    except Exception:  # noqa: BLE001 - backprop's own question reports it
        pass
    ref = params64(P)
    ref_grads = backprop(np.asarray(X, np.float64), np.asarray(Y, np.float64), ref,
                         forward(np.asarray(X, np.float64), ref, activation)[1], activation)
    grads.append({k: _like(ref_grads["d" + k], s) for k, s in shapes.items()})
    start = {k: _like(P[k], s) for k, s in shapes.items()}
    found = []
    for g in grads:
        found.append({k: start[k] - lr * g[k] for k in shapes})
        stepped = try_student(update_fn, {k: np.array(v) for k, v in P.items()}, {"d" + k: v for k, v in g.items()}, lr)
        try:
            found.append({k: _like(stepped[k], s) for k, s in shapes.items()})
        except Exception:  # noqa: BLE001 - update's own question reports it
            pass
    return start, found


def train_step_agrees(before, after, X, Y, lr, activation, forward_fn, backprop_fn, update_fn):
    """``after`` is one step from ``before``: within float32 rounding of the parameters (6e-8 of each
    entry) and of a float32 gradient (far below 0.1 % of the step)."""
    start, candidates = train_step_candidates(before, X, Y, lr, activation, forward_fn, backprop_fn, update_fn)
    try:
        got = {k: _like(after[k], start[k].shape) for k in start}
    except Exception:  # noqa: BLE001
        return False
    for cand in candidates:
        if all(np.all(np.isfinite(got[k])) and np.linalg.norm(got[k] - cand[k])
               <= 1e-3 * np.linalg.norm(cand[k] - start[k]) + 5e-7 * np.linalg.norm(start[k]) + 1e-12 for k in start):
            return True
    return False


def update_moves_at_zero(update_fn):
    """The student's update changes parameters with learning_rate 0: train's checks, which measure
    from a learning_rate=0 run, then name update (q10) as the cause, not train."""
    unit = {"W1": np.ones((2, 3)), "b1": np.ones((2, 1)), "W2": np.ones((10, 2)), "b2": np.ones((10, 1))}
    new = try_student(update_fn, {k: v.copy() for k, v in unit.items()}, {"d" + k: v for k, v in unit.items()}, 0.0)
    try:
        return not all(np.allclose(np.asarray(new[k], dtype=np.float64), unit[k]) for k in unit)
    except Exception:  # noqa: BLE001 - update's own question reports it
        return False


def gradients_misshapen(backprop_fn, forward_fn, n_in, H, m, activation):
    """The student's backprop returns a gradient whose shape is not its parameter's (q9's mistake):
    gradient_check, which compares the two, is then judged on square inputs where shapes agree."""
    rng = np.random.default_rng(0)
    P = random_params(rng, n_in, H)
    X, Y = rng.normal(0, 1, (n_in, m)), one_hot_columns(rng.integers(0, 10, size=m))
    try:
        g = backprop_fn(X, Y, P, forward_fn(X, P, activation)[1], activation)
        return any(np.shape(g["d" + k]) != P[k].shape for k in P)
    except Exception:  # noqa: BLE001 - the error surfaces in the test, with its own message
        return False


def close_logits(got, want, magnitude):
    """Logits equal up to a constant per column: a softmax that shifts its argument in place
    (Z -= Z.max(axis=0)) changes the cache's Z2 and nothing that depends on it."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if close(got, want, magnitude):
        return True
    if got.shape != want.shape or got.ndim != 2 or not np.all(np.isfinite(got)):
        return False
    return close(got - got.max(axis=0), want - want.max(axis=0), 2 * np.asarray(magnitude, dtype=np.float64))

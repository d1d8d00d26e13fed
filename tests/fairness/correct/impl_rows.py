"""Samples as rows inside (X @ W.T, the layout most tutorials use); the column contract is kept at
the boundary: every function receives and returns arrays shaped as the assignment specifies."""
import numpy as np

hidden_neurons = 128
learning_rate = 0.15
epochs = 10


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.zeros((labels.size, n_classes), dtype=np.float32)    # (m, C) first
    rows[np.arange(labels.size), labels] = 1.0
    return rows.T


def preprocess(images, method="scale"):
    images = np.asarray(images)
    rows = images.reshape(len(images), -1).astype(np.float32) / 255.0   # (m, 784)
    if method == "zscore":
        rows = (rows - rows.mean(axis=0)) / (rows.std(axis=0) + 1e-8)
    elif method != "scale":
        raise ValueError("method is 'scale' or 'zscore'")
    return rows.T.astype(np.float32)


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    tr, va = [], []
    for c in sorted(set(labels.tolist())):
        idx = np.nonzero(labels == c)[0]
        idx = idx[rng.permutation(len(idx))]
        n = int(np.round(fraction * len(idx)))
        tr.append(idx[:n])
        va.append(idx[n:])
    tr = np.concatenate(tr) if tr else np.zeros(0, np.int64)
    va = np.concatenate(va) if va else np.zeros(0, np.int64)
    return rng.permutation(tr), rng.permutation(va)


def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


def softmax(Z):
    return _softmax_rows(np.asarray(Z).T).T


def cross_entropy_loss(A, Y):
    P = np.asarray(A).T
    T = np.asarray(Y).T
    n = P.shape[0]
    return float(-(T * np.log(np.clip(P, 1e-12, 1.0))).sum() / n)


def cross_entropy_derivative(A, Y):
    P = np.asarray(A).T
    T = np.asarray(Y).T
    return ((P - T) / P.shape[0]).T


def relu(Z):
    Z = np.asarray(Z)
    return Z * (Z > 0)


def relu_derivative(Z):
    return np.greater(Z, 0).astype(np.float32 if np.asarray(Z).dtype == np.float32 else np.float64)


def sigmoid(Z):
    Z = np.asarray(Z)
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s * (1 - s)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1 - np.tanh(Z) ** 2


def get_activation(name):
    return {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
            "tanh": (tanh, tanh_derivative)}[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    # drawn as (fan_in, fan_out) like a dense layer's kernel, then stored in the contract's layout
    k1 = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_hidden)).astype(np.float32)
    k2 = rng.normal(0.0, np.sqrt(2.0 / n_hidden), size=(n_hidden, n_out)).astype(np.float32)
    return {"W1": k1.T.copy(), "b1": np.zeros((n_hidden, 1), np.float32),
            "W2": k2.T.copy(), "b2": np.zeros((n_out, 1), np.float32)}


def _forward_rows(Xr, params, activation):
    g, _ = get_activation(activation)
    Z1 = Xr @ params["W1"].T + params["b1"].T        # (m, H)
    A1 = g(Z1)
    Z2 = A1 @ params["W2"].T + params["b2"].T        # (m, C)
    return Z1, A1, Z2, _softmax_rows(Z2)


def forward(X, params, activation="relu"):
    Z1, A1, Z2, A2 = _forward_rows(np.asarray(X).T, params, activation)
    cache = {"Z1": Z1.T, "A1": A1.T, "Z2": Z2.T, "A2": A2.T}
    return cache["A2"], cache


def _backprop_rows(Xr, Tr, params, Z1, A1, P, activation):
    _, dg = get_activation(activation)
    n = Xr.shape[0]
    dS = (P - Tr) / n                       # (m, C)
    dW2 = dS.T @ A1                          # (C, H)
    db2 = dS.sum(axis=0)[:, None]
    dH = (dS @ params["W2"]) * dg(Z1)        # (m, H)
    dW1 = dH.T @ Xr                          # (H, n_in)
    db1 = dH.sum(axis=0)[:, None]
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def backprop(X, Y, params, cache, activation="relu"):
    return _backprop_rows(np.asarray(X).T, np.asarray(Y).T, params, np.asarray(cache["Z1"]).T,
                          np.asarray(cache["A1"]).T, np.asarray(cache["A2"]).T, activation)


def update(params, grads, learning_rate):
    return {k: v - learning_rate * grads["d" + k] for k, v in params.items()}


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    Xr = np.asarray(X, dtype=np.float64).T
    Tr = np.asarray(Y, dtype=np.float64).T
    P = {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    def loss():
        probs = _forward_rows(Xr, P, activation)[3]
        return cross_entropy_loss(probs.T, Tr.T)

    Z1, A1, _, probs = _forward_rows(Xr, P, activation)
    grads = _backprop_rows(Xr, Tr, P, Z1, A1, probs, activation)
    worst = 0.0
    for key, value in P.items():
        numerical = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            f_plus = loss()
            value[index] = original - eps
            f_minus = loss()
            value[index] = original
            numerical[index] = (f_plus - f_minus) / (2 * eps)
        analytic = grads["d" + key]
        bottom = np.linalg.norm(numerical) + np.linalg.norm(analytic)
        if bottom > 0:
            worst = max(worst, np.linalg.norm(numerical - analytic) / bottom)
    return float(worst)


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    Xr = np.ascontiguousarray(np.asarray(X, dtype=np.float32).T)     # (m, 784): rows are samples
    Tr = np.ascontiguousarray(np.asarray(Y, dtype=np.float32).T)
    Xv = np.ascontiguousarray(np.asarray(X_val, dtype=np.float32).T)
    Tv = np.asarray(Y_val, dtype=np.float32).T
    val_labels = Tv.argmax(axis=1)
    params = init_params(Xr.shape[1], hidden_neurons, Tr.shape[1], seed=seed)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    n = Xr.shape[0]
    count = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        Xs, Ts = Xr[order], Tr[order]
        for lo in range(0, n, batch_size):
            xb, tb = Xs[lo:lo + batch_size], Ts[lo:lo + batch_size]
            Z1, A1, _, P = _forward_rows(xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(P.T, tb.T))
            history["train_error"].append(float(np.mean(P.argmax(1) != tb.argmax(1))))
            grads = _backprop_rows(xb, tb, params, Z1, A1, P, activation)
            params = update(params, grads, learning_rate)
            count += 1
            if count % eval_every == 0:
                Pv = _forward_rows(Xv, params, activation)[3]
                history["val_step"].append(count)
                history["val_loss"].append(cross_entropy_loss(Pv.T, Tv.T))
                history["val_error"].append(float(np.mean(Pv.argmax(1) != val_labels)))
    return params, history


def predict(X, params, activation="relu"):
    return _forward_rows(np.asarray(X).T, params, activation)[3].argmax(axis=1)


def accuracy(predictions, labels):
    return float((np.asarray(predictions) == np.asarray(labels)).mean())


def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.int32)
    for i in range(n_classes):
        row = np.asarray(y_pred)[np.asarray(y_true) == i]
        cm[i] = np.bincount(row.astype(np.int64), minlength=n_classes)[:n_classes]
    return cm


def per_class_report(cm):
    cm = np.asarray(cm).astype(float)
    tp = cm.diagonal()
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / (tp + fp))
        recall = np.nan_to_num(tp / (tp + fn))
        f1 = np.nan_to_num(2 * tp / (2 * tp + fp + fn))
    return {"precision": precision, "recall": recall, "f1": f1}

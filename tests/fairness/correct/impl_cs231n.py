"""Layer functions with caches in the CS231n manner; weights start as uniform noise in [-0.5, 0.5)."""
import numpy as np

hidden_neurons = 64
learning_rate = 0.05
epochs = 6


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels).astype(np.int64)
    out = np.zeros((n_classes, labels.size), dtype=np.float32)
    out[labels, np.arange(labels.size)] = 1.0
    return out


def preprocess(images, method="scale"):
    images = np.asarray(images)
    flat = images.reshape(images.shape[0], -1).T.astype(np.float32) / 255.0
    if method == "scale":
        return flat
    if method == "zscore":
        mu = flat.mean(axis=1, keepdims=True)
        sd = flat.std(axis=1, keepdims=True)
        return ((flat - mu) / (sd + 1e-8)).astype(np.float32)
    raise ValueError("unknown method: " + str(method))


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        members = rng.permutation(members)
        cut = int(round(fraction * members.size))
        train_parts.append(members[:cut])
        val_parts.append(members[cut:])
    train_idx = rng.permutation(np.concatenate(train_parts)) if train_parts else np.array([], dtype=np.int64)
    val_idx = rng.permutation(np.concatenate(val_parts)) if val_parts else np.array([], dtype=np.int64)
    return train_idx.astype(np.int64), val_idx.astype(np.int64)


# ----------------------------------------------------------------- layers

def affine_forward(x, w, b):
    out = w @ x + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = w.T @ dout
    dw = dout @ x.T
    db = np.sum(dout, axis=1, keepdims=True)
    return dx, dw, db


def softmax(Z):
    Z = np.asarray(Z)
    shifted = Z - np.max(Z, axis=0, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=0, keepdims=True)


def cross_entropy_loss(A, Y):
    A = np.asarray(A)
    Y = np.asarray(Y)
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.maximum(A, 1e-12))) / m)


def cross_entropy_derivative(A, Y):
    m = np.asarray(Y).shape[1]
    return (np.asarray(A) - np.asarray(Y)) / m


def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z):
    Z = np.asarray(Z)
    return (Z > 0).astype(Z.dtype if Z.dtype.kind == "f" else np.float64)


def sigmoid(Z):
    Z = np.asarray(Z, dtype=np.float64 if np.asarray(Z).dtype.kind != "f" else np.asarray(Z).dtype)
    return 1.0 / (1.0 + np.exp(-np.clip(Z, -500, 500)))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s * (1 - s)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    t = np.tanh(Z)
    return 1 - t ** 2


ACTIVATIONS = {
    "relu": (relu, relu_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
}


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": (rng.random((n_hidden, n_in)) - 0.5).astype(np.float32),
        "b1": np.zeros((n_hidden, 1), dtype=np.float32),
        "W2": (rng.random((n_out, n_hidden)) - 0.5).astype(np.float32),
        "b2": np.zeros((n_out, 1), dtype=np.float32),
    }


def forward(X, params, activation="relu"):
    g, _ = ACTIVATIONS[activation]
    Z1, _ = affine_forward(X, params["W1"], params["b1"])
    A1 = g(Z1)
    Z2, _ = affine_forward(A1, params["W2"], params["b2"])
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    _, dg = ACTIVATIONS[activation]
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dA1, dW2, db2 = affine_backward(dZ2, (cache["A1"], params["W2"]))
    dZ1 = dA1 * dg(cache["Z1"])
    _, dW1, db1 = affine_backward(dZ1, (X, params["W1"]))
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    return {name: value - learning_rate * grads["d" + name] for name, value in params.items()}


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    theta = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    _, cache = forward(X, theta, activation)
    analytic = backprop(X, Y, theta, cache, activation)
    worst = 0.0
    for name in ("W1", "b1", "W2", "b2"):
        p = theta[name]
        numeric = np.zeros_like(p)
        it = np.nditer(p, flags=["multi_index"])
        while not it.finished:
            ix = it.multi_index
            old = p[ix]
            p[ix] = old + eps
            up = cross_entropy_loss(forward(X, theta, activation)[0], Y)
            p[ix] = old - eps
            down = cross_entropy_loss(forward(X, theta, activation)[0], Y)
            p[ix] = old
            numeric[ix] = (up - down) / (2 * eps)
            it.iternext()
        a = np.asarray(analytic["d" + name], dtype=np.float64)
        denom = np.linalg.norm(numeric) + np.linalg.norm(a)
        rel = np.linalg.norm(numeric - a) / denom if denom > 0 else 0.0
        worst = max(worst, rel)
    return float(worst)


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    m = X.shape[1]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[:, idx], Y[:, idx]
            A2, cache = forward(xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(A2, yb))
            history["train_error"].append(float(np.mean(A2.argmax(axis=0) != yb.argmax(axis=0))))
            params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
            step += 1
            if step % eval_every == 0:
                Av, _ = forward(X_val, params, activation)
                history["val_step"].append(step)
                history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                history["val_error"].append(float(np.mean(Av.argmax(axis=0) != np.asarray(Y_val).argmax(axis=0))))
    return params, history


def predict(X, params, activation="relu"):
    A2, _ = forward(X, params, activation)
    return np.argmax(A2, axis=0)


def accuracy(predictions, labels):
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)), 1)
    return cm


def per_class_report(cm):
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    actual = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1}

"""He-initialised network computed in float64 from end to end (only preprocess hands out float32)."""
import math

import numpy as np

hidden_neurons = 96
learning_rate = 0.1
epochs = 10

F = np.float64


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels, dtype=np.intp)
    Y = np.zeros((n_classes, labels.shape[0]), dtype=np.float32)
    Y[labels, np.arange(labels.shape[0])] = 1
    return Y


def preprocess(images, method="scale"):
    images = np.asarray(images)
    m = images.shape[0]
    pixels = images.reshape(m, 784).astype(F) / 255.0          # (m, 784), row i is image i
    if method == "zscore":
        mu = pixels.mean(axis=0)
        sigma = pixels.std(axis=0)
        pixels = (pixels - mu) / (sigma + 1e-8)
    elif method != "scale":
        raise ValueError(f"unknown preprocessing {method!r}")
    return np.ascontiguousarray(pixels.T, dtype=np.float32)


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels).ravel()
    rng = np.random.default_rng(seed)
    take = np.zeros(labels.shape[0], dtype=bool)
    for k in np.unique(labels):
        where = np.flatnonzero(labels == k)
        chosen = rng.choice(where, size=int(round(fraction * where.size)), replace=False)
        take[chosen] = True
    return np.flatnonzero(take), np.flatnonzero(~take)


def softmax(Z):
    Z = np.asarray(Z, dtype=F)
    Z = Z - Z.max(axis=0, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=0, keepdims=True)
    return Z


def cross_entropy_loss(A, Y):
    A = np.asarray(A, dtype=F)
    Y = np.asarray(Y, dtype=F)
    picked = np.sum(Y * np.log(np.clip(A, 1e-300, None)), axis=0)
    return float(-picked.mean())


def cross_entropy_derivative(A, Y):
    A = np.asarray(A, dtype=F)
    Y = np.asarray(Y, dtype=F)
    return (A - Y) / A.shape[1]


def relu(Z):
    Z = np.asarray(Z, dtype=F)
    return np.where(Z > 0, Z, 0.0)


def relu_derivative(Z):
    return (np.asarray(Z) > 0).astype(F)


def sigmoid(Z):
    Z = np.asarray(Z, dtype=F)
    return np.exp(-np.logaddexp(0.0, -Z))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s - s * s


def tanh(Z):
    return np.tanh(np.asarray(Z, dtype=F))


def tanh_derivative(Z):
    c = np.cosh(np.clip(np.asarray(Z, dtype=F), -350, 350))
    return 1.0 / (c * c)


def get_activation(name):
    table = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
             "tanh": (tanh, tanh_derivative)}
    return table[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((n_hidden, n_in)) * math.sqrt(2.0 / n_in),
        "b1": np.zeros((n_hidden, 1)),
        "W2": rng.standard_normal((n_out, n_hidden)) * math.sqrt(2.0 / n_hidden),
        "b2": np.zeros((n_out, 1)),
    }


def forward(X, params, activation="relu"):
    act, _ = get_activation(activation)
    X = np.asarray(X, dtype=F)
    Z1 = np.asarray(params["W1"], dtype=F) @ X + np.asarray(params["b1"], dtype=F)
    A1 = act(Z1)
    Z2 = np.asarray(params["W2"], dtype=F) @ A1 + np.asarray(params["b2"], dtype=F)
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    _, act_slope = get_activation(activation)
    X = np.asarray(X, dtype=F)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dW2 = dZ2 @ np.asarray(cache["A1"], dtype=F).T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (np.asarray(params["W2"], dtype=F).T @ dZ2) * act_slope(cache["Z1"])
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    return {k: np.asarray(params[k], dtype=F) - learning_rate * np.asarray(grads["d" + k], dtype=F)
            for k in ("W1", "b1", "W2", "b2")}


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = np.asarray(X, dtype=F)
    Y = np.asarray(Y, dtype=F)
    p = {k: np.array(v, dtype=F) for k, v in params.items()}
    grads = backprop(X, Y, p, forward(X, p, activation)[1], activation)

    def loss():
        return cross_entropy_loss(forward(X, p, activation)[0], Y)

    errors = []
    for k in ("W1", "b1", "W2", "b2"):
        flat = p[k].reshape(-1)            # a view: writing into it changes p[k]
        num = np.empty_like(flat)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            lp = loss()
            flat[i] = keep - eps
            lm = loss()
            flat[i] = keep
            num[i] = (lp - lm) / (2.0 * eps)
        ana = np.asarray(grads["d" + k], dtype=F).reshape(-1)
        scale = np.linalg.norm(num) + np.linalg.norm(ana)
        errors.append(0.0 if scale == 0 else np.linalg.norm(num - ana) / scale)
    return float(np.max(errors))


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    X = np.asarray(X, dtype=F)
    Y = np.asarray(Y, dtype=F)
    X_val = np.asarray(X_val, dtype=F)
    Y_val = np.asarray(Y_val, dtype=F)
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed)
    shuffler = np.random.default_rng(seed)
    history = {key: [] for key in ("train_loss", "train_error", "val_step", "val_loss", "val_error")}
    val_truth = Y_val.argmax(axis=0)
    updates = 0
    for epoch in range(epochs):
        perm = shuffler.permutation(X.shape[1])
        for first in range(0, X.shape[1], batch_size):
            cols = perm[first:first + batch_size]
            xb, yb = X[:, cols], Y[:, cols]
            probs, cache = forward(xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(probs, yb))
            history["train_error"].append(float((probs.argmax(axis=0) != yb.argmax(axis=0)).mean()))
            params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
            updates += 1
            if updates % eval_every == 0:
                pv, _ = forward(X_val, params, activation)
                history["val_step"].append(updates)
                history["val_loss"].append(cross_entropy_loss(pv, Y_val))
                history["val_error"].append(float((pv.argmax(axis=0) != val_truth).mean()))
    return params, history


def predict(X, params, activation="relu"):
    return forward(X, params, activation)[0].argmax(axis=0)


def accuracy(predictions, labels):
    predictions = np.asarray(predictions).ravel()
    labels = np.asarray(labels).ravel()
    return float(np.count_nonzero(predictions == labels)) / labels.size


def confusion_matrix(y_true, y_pred, n_classes=10):
    flat = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_report(cm):
    cm = np.asarray(cm, dtype=F)
    hits = np.diag(cm)
    col = cm.sum(axis=0)
    row = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(col > 0, hits / col, 0.0)
        recall = np.where(row > 0, hits / row, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1}

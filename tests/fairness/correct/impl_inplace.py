"""Works in place wherever it can: W -= lr * dW on copies, np.exp(..., out=...), buffers reused."""
import copy

import numpy as np

hidden_neurons = 80
learning_rate = 0.15
epochs = 10


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels)
    Y = np.zeros((n_classes, labels.size), dtype=np.float32)
    Y[labels.astype(np.intp), np.arange(labels.size)] = 1.0
    return Y


def preprocess(images, method="scale"):
    X = np.asarray(images).reshape(len(images), -1).T.astype(np.float32)
    X /= 255.0
    if method == "zscore":
        X -= X.mean(axis=1, keepdims=True)
        X /= X.std(axis=1, keepdims=True) + 1e-8
    elif method != "scale":
        raise ValueError("unknown method")
    return X


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    mask = np.zeros(labels.shape, dtype=bool)
    for value in np.unique(labels):
        where = np.flatnonzero(labels == value)
        rng.shuffle(where)
        mask[where[:int(round(fraction * where.size))]] = True
    train_idx = np.flatnonzero(mask)
    val_idx = np.flatnonzero(~mask)
    rng.shuffle(train_idx)
    return train_idx, val_idx


def softmax(Z):
    A = np.array(Z, dtype=np.result_type(np.asarray(Z).dtype, np.float32), copy=True)
    A -= A.max(axis=0)
    np.exp(A, out=A)
    A /= A.sum(axis=0)
    return A


def cross_entropy_loss(A, Y):
    A = np.asarray(A)
    Y = np.asarray(Y)
    true_class_prob = A[np.argmax(Y, axis=0), np.arange(Y.shape[1])]
    return float(-np.log(np.maximum(true_class_prob, 1e-15)).mean())


def cross_entropy_derivative(A, Y):
    dZ = np.array(A, dtype=np.result_type(np.asarray(A).dtype, np.float32), copy=True)
    dZ -= Y
    dZ /= dZ.shape[1]
    return dZ


def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z):
    Z = np.asarray(Z)
    d = np.zeros(Z.shape, dtype=Z.dtype if Z.dtype.kind == "f" else np.float64)
    d[Z > 0] = 1
    return d


def sigmoid(Z):
    Z = np.asarray(Z, dtype=np.result_type(np.asarray(Z).dtype, np.float32))
    out = np.exp(-np.abs(Z))
    positive = Z >= 0
    out[positive] = 1.0 / (1.0 + out[positive])
    out[~positive] = out[~positive] / (1.0 + out[~positive])
    return out


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    s *= 1 - s
    return s


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    t = np.tanh(np.asarray(Z, dtype=np.result_type(np.asarray(Z).dtype, np.float32)))
    np.square(t, out=t)
    np.subtract(1, t, out=t)
    return t


def get_activation(name):
    pairs = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
             "tanh": (tanh, tanh_derivative)}
    if name not in pairs:
        raise ValueError(f"unknown activation {name!r}: choose one of {sorted(pairs)}")
    return pairs[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_hidden, n_in), dtype=np.float32)
    W1 *= np.sqrt(2.0 / n_in)
    W2 = rng.standard_normal((n_out, n_hidden), dtype=np.float32)
    W2 *= np.sqrt(2.0 / n_hidden)
    return {"W1": W1, "b1": np.zeros((n_hidden, 1), np.float32),
            "W2": W2, "b2": np.zeros((n_out, 1), np.float32)}


def forward(X, params, activation="relu"):
    g, _ = get_activation(activation)
    Z1 = params["W1"] @ X
    Z1 += params["b1"]
    A1 = g(Z1)
    Z2 = params["W2"] @ A1
    Z2 += params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    _, dg = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dW2 = dZ2 @ cache["A1"].T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = params["W2"].T @ dZ2
    dZ1 *= dg(cache["Z1"])
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    new = copy.deepcopy(params)
    for key in new:
        new[key] = np.array(new[key], dtype=np.result_type(new[key], grads["d" + key]))
        new[key] -= learning_rate * grads["d" + key]
    return new


def _sgd_in_place(params, grads, learning_rate):
    """Training's own step: the params dict belongs to train, so no copy is needed."""
    for key in params:
        params[key] -= learning_rate * grads["d" + key]


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    params = {k: np.asarray(v, dtype=np.float64).copy() for k, v in params.items()}
    A2, cache = forward(X, params, activation)
    grads = backprop(X, Y, params, cache, activation)
    errors = []
    for key in ("W1", "b1", "W2", "b2"):
        theta = params[key]
        numeric = np.zeros_like(theta)
        for idx in np.ndindex(theta.shape):
            theta[idx] += eps
            up = cross_entropy_loss(forward(X, params, activation)[0], Y)
            theta[idx] -= 2 * eps
            down = cross_entropy_loss(forward(X, params, activation)[0], Y)
            theta[idx] += eps
            numeric[idx] = (up - down) / (2 * eps)
        analytic = grads["d" + key]
        errors.append(np.linalg.norm(numeric - analytic)
                      / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-20))
    return float(max(errors))


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(Y, dtype=np.float32)
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    val_true = np.asarray(Y_val).argmax(axis=0)
    m = X.shape[1]
    order = np.arange(m)
    step = 0
    for _ in range(epochs):
        rng.shuffle(order)
        for s in range(0, m, batch_size):
            batch = order[s:s + batch_size]
            Xb = X[:, batch]
            Yb = Y[:, batch]
            A2, cache = forward(Xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(A2, Yb))
            history["train_error"].append(float(np.mean(A2.argmax(axis=0) != Yb.argmax(axis=0))))
            _sgd_in_place(params, backprop(Xb, Yb, params, cache, activation), learning_rate)
            step += 1
            if step % eval_every == 0:
                Av, _ = forward(np.asarray(X_val, dtype=np.float32), params, activation)
                history["val_step"].append(step)
                history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                history["val_error"].append(float(np.mean(Av.argmax(axis=0) != val_true)))
    return params, history


def predict(X, params, activation="relu"):
    A2, _ = forward(X, params, activation)
    return A2.argmax(axis=0)


def accuracy(predictions, labels):
    hits = np.asarray(predictions) == np.asarray(labels)
    return hits.sum() / hits.size


def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.intp), np.asarray(y_pred, dtype=np.intp)), 1)
    return cm


def per_class_report(cm):
    cm = np.asarray(cm, dtype=np.float64)
    tp = cm.diagonal().copy()
    precision = np.zeros_like(tp)
    recall = np.zeros_like(tp)
    f1 = np.zeros_like(tp)
    cols, rows = cm.sum(axis=0), cm.sum(axis=1)
    np.divide(tp, cols, out=precision, where=cols != 0)
    np.divide(tp, rows, out=recall, where=rows != 0)
    np.divide(2 * precision * recall, precision + recall, out=f1, where=(precision + recall) != 0)
    return {"precision": precision, "recall": recall, "f1": f1}

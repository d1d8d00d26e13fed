"""Keras-style clipping of the probabilities (1e-7 .. 1 - 1e-7), and every statistic computed in
float32, exactly as the docstrings read."""
import numpy as np

hidden_neurons = 96
learning_rate = 0.15
epochs = 10

EPSILON = 1e-7


def one_hot(labels, n_classes=10):
    return np.eye(n_classes, dtype=np.float32)[:, np.asarray(labels, dtype=np.int64)]


def preprocess(images, method="scale"):
    """(m, 28, 28) uint8 -> (784, m) float32; zscore: (x - mean) / (std + 1e-8) per pixel."""
    m = np.shape(images)[0]
    x = np.asarray(images, dtype=np.float32).reshape(m, 784).T / np.float32(255.0)
    if method == "scale":
        return x
    if method == "zscore":
        mean = x.mean(axis=1, keepdims=True)          # float32 in, float32 statistics out
        std = x.std(axis=1, keepdims=True)
        return (x - mean) / (std + np.float32(1e-8))
    raise ValueError(f"method must be 'scale' or 'zscore', not {method!r}")


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for cls in range(int(labels.max()) + 1 if labels.size else 0):
        members = np.flatnonzero(labels == cls)
        if members.size == 0:
            continue
        members = members[rng.permutation(members.size)]
        n_train = int(round(fraction * members.size))
        train_idx.append(members[:n_train])
        val_idx.append(members[n_train:])
    train_idx = np.concatenate(train_idx) if train_idx else np.empty(0, np.int64)
    val_idx = np.concatenate(val_idx) if val_idx else np.empty(0, np.int64)
    return rng.permutation(train_idx), rng.permutation(val_idx)


def softmax(Z):
    Z = np.asarray(Z)
    Z = Z - np.max(Z, axis=0, keepdims=True)
    expZ = np.exp(Z)
    return expZ / np.sum(expZ, axis=0, keepdims=True)


def cross_entropy_loss(A, Y):
    A = np.clip(np.asarray(A), EPSILON, 1.0 - EPSILON)
    Y = np.asarray(Y)
    return float(np.mean(-np.sum(Y * np.log(A), axis=0)))


def cross_entropy_derivative(A, Y):
    return (np.asarray(A) - np.asarray(Y)) / np.asarray(Y).shape[1]


def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z):
    Z = np.asarray(Z)
    return (Z > 0) * np.ones_like(Z, dtype=Z.dtype if Z.dtype.kind == "f" else np.float64)


def sigmoid(Z):
    Z = np.asarray(Z)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s * (1.0 - s)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1.0 - np.tanh(Z) ** 2


def get_activation(name):
    pairs = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
             "tanh": (tanh, tanh_derivative)}
    return pairs[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_hidden, n_in)).astype(np.float32)
    W2 = rng.normal(0.0, np.sqrt(2.0 / n_hidden), size=(n_out, n_hidden)).astype(np.float32)
    return {"W1": W1, "b1": np.zeros((n_hidden, 1), np.float32), "W2": W2, "b2": np.zeros((n_out, 1), np.float32)}


def forward(X, params, activation="relu"):
    g, _ = get_activation(activation)
    Z1 = params["W1"] @ X + params["b1"]
    A1 = g(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2)
    return A2, dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2)


def backprop(X, Y, params, cache, activation="relu"):
    _, dg = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dW2 = dZ2 @ cache["A1"].T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (params["W2"].T @ dZ2) * dg(cache["Z1"])
    dW1 = dZ1 @ np.asarray(X).T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return dict(dW1=dW1, db1=db1, dW2=dW2, db2=db2)


def update(params, grads, learning_rate):
    return {k: params[k] - learning_rate * grads[f"d{k}"] for k in params}


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = np.array(X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64)
    P = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    _, cache = forward(X, P, activation)
    analytic = backprop(X, Y, P, cache, activation)
    worst = 0.0
    for name in ["W1", "b1", "W2", "b2"]:
        grad_num = np.zeros_like(P[name])
        for ix in np.ndindex(P[name].shape):
            orig = P[name][ix]
            P[name][ix] = orig + eps
            j_plus = cross_entropy_loss(forward(X, P, activation)[0], Y)
            P[name][ix] = orig - eps
            j_minus = cross_entropy_loss(forward(X, P, activation)[0], Y)
            P[name][ix] = orig
            grad_num[ix] = (j_plus - j_minus) / (2 * eps)
        g = analytic["d" + name]
        denom = np.linalg.norm(grad_num) + np.linalg.norm(g)
        if denom > 0:
            worst = max(worst, np.linalg.norm(grad_num - g) / denom)
    return float(worst)


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
    rng = np.random.default_rng(seed)
    XT = np.ascontiguousarray(np.asarray(X, dtype=np.float32).T)
    YT = np.ascontiguousarray(np.asarray(Y, dtype=np.float32).T)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    y_val = np.asarray(Y_val).argmax(axis=0)
    t = 0
    for epoch in range(epochs):
        perm = rng.permutation(XT.shape[0])
        XS, YS = XT[perm], YT[perm]
        for i in range(0, XS.shape[0], batch_size):
            xb, yb = XS[i:i + batch_size].T, YS[i:i + batch_size].T
            A2, cache = forward(xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(A2, yb))
            history["train_error"].append(float(np.mean(np.argmax(A2, 0) != np.argmax(yb, 0))))
            params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
            t += 1
            if t % eval_every == 0:
                Av, _ = forward(X_val, params, activation)
                history["val_step"].append(t)
                history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                history["val_error"].append(float(np.mean(np.argmax(Av, 0) != y_val)))
    return params, history


def predict(X, params, activation="relu"):
    return np.argmax(forward(X, params, activation)[0], axis=0)


def accuracy(predictions, labels):
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def confusion_matrix(y_true, y_pred, n_classes=10):
    return np.bincount(n_classes * np.asarray(y_true, dtype=np.int64) + np.asarray(y_pred, dtype=np.int64),
                       minlength=n_classes ** 2).reshape(n_classes, n_classes)


def per_class_report(cm):
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(cm.sum(0) > 0, tp / cm.sum(0), 0.0)
        recall = np.where(cm.sum(1) > 0, tp / cm.sum(1), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1}

"""Glorot/Xavier uniform initialisation, everything in float32, products written with np.einsum."""
import numpy as np

hidden_neurons = 100
learning_rate = 0.2
epochs = 10

DT = np.float32


def one_hot(labels, n_classes=10):
    lab = np.asarray(labels).astype(np.int64)
    return (np.arange(n_classes)[:, None] == lab[None, :]).astype(DT)


def preprocess(images, method="scale"):
    imgs = np.asarray(images)
    X = np.einsum("mij->ijm", imgs).reshape(-1, imgs.shape[0]).astype(DT) * DT(1 / 255)
    if method == "scale":
        return X
    if method == "zscore":
        centred = X - X.mean(axis=1, keepdims=True, dtype=np.float64).astype(DT)
        spread = X.std(axis=1, keepdims=True, dtype=np.float64).astype(DT)
        return (centred / (spread + DT(1e-8))).astype(DT)
    raise ValueError(method)


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    gen = np.random.default_rng(seed)
    # a random rank inside each class decides who goes to training
    keys = gen.random(labels.size)
    order = np.lexsort((keys, labels))
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.arange(labels.size) - starts
    counts = np.bincount(sorted_labels.astype(np.int64)) if labels.size else np.zeros(0, dtype=np.int64)
    quota = np.round(fraction * counts)
    to_train = rank < quota[sorted_labels.astype(np.int64)]
    return np.sort(order[to_train]), np.sort(order[~to_train])


def softmax(Z):
    Z = np.asarray(Z)
    top = Z.max(axis=0)
    E = np.exp(Z - top)
    total = np.einsum("km->m", E)
    return E / total


def cross_entropy_loss(A, Y):
    A = np.asarray(A)
    Y = np.asarray(Y)
    per_sample = -np.einsum("km,km->m", Y, np.log(np.maximum(A, 1e-12)))
    return float(np.mean(per_sample, dtype=np.float64))


def cross_entropy_derivative(A, Y):
    A = np.asarray(A)
    return (A - np.asarray(Y)) / A.shape[1]


def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z):
    Z = np.asarray(Z)
    return np.heaviside(Z, 0.0).astype(Z.dtype if Z.dtype.kind == "f" else np.float64)


def sigmoid(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(Z)))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s * (1 - s)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1 - np.square(np.tanh(Z))


def get_activation(name):
    pairs = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
             "tanh": (tanh, tanh_derivative)}
    if name not in pairs:
        raise ValueError(f"unknown activation {name!r}")
    return pairs[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    g = np.random.default_rng(seed)
    lim1 = np.sqrt(6.0 / (n_in + n_hidden))
    lim2 = np.sqrt(6.0 / (n_hidden + n_out))
    return {"W1": g.uniform(-lim1, lim1, (n_hidden, n_in)).astype(DT),
            "b1": np.zeros((n_hidden, 1), DT),
            "W2": g.uniform(-lim2, lim2, (n_out, n_hidden)).astype(DT),
            "b2": np.zeros((n_out, 1), DT)}


def forward(X, params, activation="relu"):
    g, _ = get_activation(activation)
    Z1 = np.einsum("hn,nm->hm", params["W1"], X, optimize=True) + params["b1"]
    A1 = g(Z1)
    Z2 = np.einsum("kh,hm->km", params["W2"], A1, optimize=True) + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    _, dg = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    grads = {"dW2": np.einsum("km,hm->kh", dZ2, cache["A1"], optimize=True),
             "db2": np.einsum("km->k", dZ2)[:, None]}
    dZ1 = np.einsum("kh,km->hm", params["W2"], dZ2, optimize=True) * dg(cache["Z1"])
    grads["dW1"] = np.einsum("hm,nm->hn", dZ1, X, optimize=True)
    grads["db1"] = np.einsum("hm->h", dZ1)[:, None]
    return grads


def update(params, grads, learning_rate):
    out = dict(params)
    for name in ("W1", "b1", "W2", "b2"):
        out[name] = params[name] - learning_rate * grads["d" + name]
    return out


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X64 = np.asarray(X, np.float64)
    Y64 = np.asarray(Y, np.float64)
    P = {k: np.asarray(v, np.float64).copy() for k, v in params.items()}
    analytic = backprop(X64, Y64, P, forward(X64, P, activation)[1], activation)
    rel = []
    for name in ("W1", "b1", "W2", "b2"):
        numeric = np.zeros_like(P[name])
        for idx in np.ndindex(*P[name].shape):
            saved = P[name][idx]
            P[name][idx] = saved + eps
            hi = cross_entropy_loss(forward(X64, P, activation)[0], Y64)
            P[name][idx] = saved - eps
            lo = cross_entropy_loss(forward(X64, P, activation)[0], Y64)
            P[name][idx] = saved
            numeric[idx] = (hi - lo) / (2 * eps)
        a = np.asarray(analytic["d" + name], np.float64)
        rel.append(np.linalg.norm(numeric - a) / max(np.linalg.norm(numeric) + np.linalg.norm(a), 1e-300))
    return float(max(rel))


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    X = np.asarray(X, DT)
    Y = np.asarray(Y, DT)
    X_val = np.asarray(X_val, DT)
    Y_val = np.asarray(Y_val, DT)
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
    rng = np.random.default_rng(seed)
    lr = DT(learning_rate)
    hist = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    val_labels = Y_val.argmax(axis=0)
    step = 0
    m = X.shape[1]
    for _ in range(int(epochs)):
        perm = rng.permutation(m)
        for b in range(0, m, batch_size):
            sel = perm[b:b + batch_size]
            xb, yb = X[:, sel], Y[:, sel]
            A2, cache = forward(xb, params, activation)
            hist["train_loss"].append(cross_entropy_loss(A2, yb))
            hist["train_error"].append(float(np.mean(A2.argmax(0) != yb.argmax(0))))
            params = update(params, backprop(xb, yb, params, cache, activation), lr)
            step += 1
            if step % eval_every == 0:
                Av = forward(X_val, params, activation)[0]
                hist["val_step"].append(step)
                hist["val_loss"].append(cross_entropy_loss(Av, Y_val))
                hist["val_error"].append(float(np.mean(Av.argmax(0) != val_labels)))
    return params, hist


def predict(X, params, activation="relu"):
    return np.argmax(forward(X, params, activation)[0], axis=0)


def accuracy(predictions, labels):
    return float(np.mean(np.equal(predictions, labels)))


def confusion_matrix(y_true, y_pred, n_classes=10):
    t = np.asarray(y_true).astype(np.int64)
    p = np.asarray(y_pred).astype(np.int64)
    return np.einsum("ki,kj->ij", np.eye(n_classes, dtype=np.int64)[t], np.eye(n_classes, dtype=np.int64)[p])


def per_class_report(cm):
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.einsum("kk->k", cm)
    pred_tot = cm.sum(0)
    true_tot = cm.sum(1)
    precision = tp / np.where(pred_tot == 0, 1, pred_tot)
    recall = tp / np.where(true_tot == 0, 1, true_tot)
    denom = precision + recall
    f1 = 2 * precision * recall / np.where(denom == 0, 1, denom)
    return {"precision": precision, "recall": recall, "f1": f1}

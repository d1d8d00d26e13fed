"""Log-space softmax (exp(Z - logsumexp Z)), a sparse gradient check over random entries in the
CS231n manner, minibatches that drop the last incomplete batch, and histogram-based counting."""
import numpy as np

hidden_neurons = 112
learning_rate = 0.18
epochs = 9


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels, dtype=np.int64)
    Y = np.zeros((labels.size, n_classes), np.float32)
    np.put_along_axis(Y, labels[:, None], 1.0, axis=1)
    return Y.T


def preprocess(images, method="scale"):
    arr = np.asarray(images, dtype=np.float32)
    X = np.stack([img.reshape(-1) for img in arr], axis=1) / np.float32(255)
    if method == "zscore":
        mu = X.mean(axis=1, keepdims=True, dtype=np.float64)
        sd = X.std(axis=1, keepdims=True, dtype=np.float64)
        X = (X - mu) / (sd + 1e-8)
    elif method != "scale":
        raise ValueError(method)
    return X.astype(np.float32)


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes, inverse = np.unique(labels, return_inverse=True)
    is_train = np.zeros(labels.size, dtype=bool)
    for k in range(classes.size):
        members = np.flatnonzero(inverse == k)
        picked = rng.permutation(members)[:int(np.round(fraction * members.size))]
        is_train[picked] = True
    everything = rng.permutation(labels.size)
    return everything[is_train[everything]], everything[~is_train[everything]]


def logsumexp(Z, axis=0):
    top = np.max(Z, axis=axis, keepdims=True)
    return top + np.log(np.sum(np.exp(Z - top), axis=axis, keepdims=True))


def softmax(Z):
    Z = np.asarray(Z)
    return np.exp(Z - logsumexp(Z, axis=0))


def cross_entropy_loss(A, Y):
    A = np.asarray(A, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    return float(-np.sum(Y * np.log(np.fmax(A, np.finfo(np.float64).tiny))) / Y.shape[1])


def cross_entropy_derivative(A, Y):
    A = np.asarray(A)
    return (A - np.asarray(Y, dtype=A.dtype)) / A.shape[1]


def relu(Z):
    return np.where(np.asarray(Z) > 0, Z, 0).astype(np.result_type(np.asarray(Z).dtype, np.float32))


def relu_derivative(Z):
    Z = np.asarray(Z)
    return np.where(Z > 0, 1, 0).astype(np.result_type(Z.dtype, np.float32))


def sigmoid(Z):
    Z = np.asarray(Z)
    ez = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez)).astype(np.result_type(Z.dtype, np.float32))


def sigmoid_derivative(Z):
    Z = np.asarray(Z)
    ez = np.exp(-np.abs(Z))
    return (ez / (1.0 + ez) ** 2).astype(np.result_type(Z.dtype, np.float32))


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    Z = np.asarray(Z)
    return 1 - np.tanh(Z) ** 2


ACTS = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative), "tanh": (tanh, tanh_derivative)}


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": np.sqrt(2 / n_in) * rng.standard_normal((n_hidden, n_in)).astype(np.float32),
            "b1": np.zeros((n_hidden, 1), np.float32),
            "W2": np.sqrt(2 / n_hidden) * rng.standard_normal((n_out, n_hidden)).astype(np.float32),
            "b2": np.zeros((n_out, 1), np.float32)}


def forward(X, params, activation="relu"):
    g = ACTS[activation][0]
    Z1 = params["W1"].dot(X) + params["b1"]
    A1 = g(Z1)
    Z2 = params["W2"].dot(A1) + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    dg = ACTS[activation][1]
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = params["W2"].T.dot(dZ2) * dg(cache["Z1"])
    return {"dW1": dZ1.dot(np.asarray(X).T), "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2.dot(cache["A1"].T), "db2": dZ2.sum(axis=1, keepdims=True)}


def update(params, grads, learning_rate):
    return dict((k, params[k] - learning_rate * grads["d" + k]) for k in ("W1", "b1", "W2", "b2"))


def gradient_check(X, Y, params, activation="relu", eps=1e-6, samples_per_param=20, seed=0):
    """Centred differences at (at most) `samples_per_param` random entries of each parameter."""
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    P = {k: np.array(v, np.float64) for k, v in params.items()}
    grads = backprop(X, Y, P, forward(X, P, activation)[1], activation)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for k in ("W1", "b1", "W2", "b2"):
        flat = P[k].reshape(-1)
        n = min(samples_per_param, flat.size)
        where = rng.choice(flat.size, size=n, replace=False)
        numeric = np.empty(n)
        for j, i in enumerate(where):
            v = flat[i]
            flat[i] = v + eps
            plus = cross_entropy_loss(forward(X, P, activation)[0], Y)
            flat[i] = v - eps
            minus = cross_entropy_loss(forward(X, P, activation)[0], Y)
            flat[i] = v
            numeric[j] = (plus - minus) / (2 * eps)
        analytic = np.asarray(grads["d" + k], np.float64).reshape(-1)[where]
        scale = np.linalg.norm(numeric) + np.linalg.norm(analytic)
        if scale > 0:
            worst = max(worst, float(np.linalg.norm(numeric - analytic) / scale))
    return worst


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    """Full batches only: the samples left over after the last whole batch wait for the next epoch's
    permutation."""
    X = np.asarray(X, np.float32)
    Y = np.asarray(Y, np.float32)
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    val_y = np.asarray(Y_val).argmax(0)
    n_batches = max(1, X.shape[1] // batch_size)
    step = 0
    for _ in range(epochs):
        perm = rng.permutation(X.shape[1])
        for b in range(n_batches):
            cols = perm[b * batch_size:(b + 1) * batch_size]
            xb, yb = X[:, cols], Y[:, cols]
            A2, cache = forward(xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(A2, yb))
            history["train_error"].append(float(np.mean(A2.argmax(0) != yb.argmax(0))))
            params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
            step += 1
            if step % eval_every == 0:
                Av = forward(X_val, params, activation)[0]
                history["val_step"].append(step)
                history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                history["val_error"].append(float(np.mean(Av.argmax(0) != val_y)))
    return params, history


def predict(X, params, activation="relu"):
    return forward(X, params, activation)[0].argmax(axis=0)


def accuracy(predictions, labels):
    return float(np.count_nonzero(np.asarray(predictions) == np.asarray(labels)) / np.size(labels))


def confusion_matrix(y_true, y_pred, n_classes=10):
    counts, _, _ = np.histogram2d(np.asarray(y_true), np.asarray(y_pred), bins=n_classes,
                                  range=[[-0.5, n_classes - 0.5], [-0.5, n_classes - 0.5]])
    return counts.astype(np.int64)


def per_class_report(cm):
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    col = cm.sum(axis=0)
    row = cm.sum(axis=1)
    precision = np.divide(tp, col, out=np.zeros(len(tp)), where=col > 0)
    recall = np.divide(tp, row, out=np.zeros(len(tp)), where=row > 0)
    f1 = np.divide(2 * tp, col + row, out=np.zeros(len(tp)), where=(col + row) > 0)
    return {"precision": precision, "recall": recall, "f1": f1}

"""A beginner's notebook as often seen: the global NumPy RNG (np.random.seed), Xavier-uniform weights,
a softmax that shifts its argument in place (so the cache's Z2 is the shifted logits), float64
throughout, loops for the gradient check, np.bincount for the confusion matrix."""
import numpy as np

hidden_neurons = 96
learning_rate = 0.2
epochs = 8


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels).astype(np.int64).ravel()
    out = np.zeros((n_classes, labels.shape[0]))
    out[labels, np.arange(labels.shape[0])] = 1
    return out


def preprocess(images, method="scale"):
    images = np.asarray(images)
    X = images.reshape(images.shape[0], -1).T / 255.0        # (784, m), float64
    if method == "scale":
        return X
    if method == "zscore":
        mu = X.mean(axis=1, keepdims=True)
        sigma = X.std(axis=1, keepdims=True)
        return (X - mu) / (sigma + 1e-8)
    raise ValueError("unknown method: " + str(method))


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    state = np.random.RandomState(seed)
    first, second = [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        members = members[state.permutation(len(members))]
        cut = int(round(len(members) * fraction))
        first.append(members[:cut])
        second.append(members[cut:])
    first = np.concatenate(first)
    second = np.concatenate(second)
    return first[state.permutation(len(first))], second[state.permutation(len(second))]


def softmax(Z):
    Z -= np.max(Z, axis=0, keepdims=True)      # in place: the caller's array is shifted too
    E = np.exp(Z)
    return E / np.sum(E, axis=0, keepdims=True)


def cross_entropy_loss(A, Y):
    return -np.mean(np.sum(Y * np.log(A + 1e-7), axis=0))


def cross_entropy_derivative(A, Y):
    return (A - Y) / Y.shape[1]


def relu(Z):
    return Z * (Z > 0)


def relu_derivative(Z):
    return np.where(Z > 0, 1.0, 0.0)


def sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-np.clip(Z, -500, 500)))


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s - s * s


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    t = np.tanh(Z)
    return 1.0 - t * t


ACTIVATIONS = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
               "tanh": (tanh, tanh_derivative)}


def init_params(n_in, n_hidden, n_out, seed=0):
    np.random.seed(seed)
    limit1 = np.sqrt(6.0 / (n_in + n_hidden))
    limit2 = np.sqrt(6.0 / (n_hidden + n_out))
    return {"W1": np.random.uniform(-limit1, limit1, (n_hidden, n_in)), "b1": np.zeros((n_hidden, 1)),
            "W2": np.random.uniform(-limit2, limit2, (n_out, n_hidden)), "b2": np.zeros((n_out, 1))}


def forward(X, params, activation="relu"):
    g = ACTIVATIONS[activation][0]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = g(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backprop(X, Y, params, cache, activation="relu"):
    g_prime = ACTIVATIONS[activation][1]
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}


def update(params, grads, learning_rate):
    new = {k: v.copy() for k, v in params.items()}
    for k in new:
        new[k] -= learning_rate * grads["d" + k]
    return new


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X, Y = np.array(X, dtype=float), np.array(Y, dtype=float)
    theta = {k: np.array(v, dtype=float) for k, v in params.items()}
    grads = backprop(X, Y, theta, forward(X, theta, activation)[1], activation)
    worst = 0.0
    for k in ("W1", "b1", "W2", "b2"):
        num = np.zeros_like(theta[k])
        it = np.nditer(theta[k], flags=["multi_index"])
        while not it.finished:
            i = it.multi_index
            keep = theta[k][i]
            theta[k][i] = keep + eps
            up = cross_entropy_loss(forward(X, theta, activation)[0], Y)
            theta[k][i] = keep - eps
            down = cross_entropy_loss(forward(X, theta, activation)[0], Y)
            theta[k][i] = keep
            num[i] = (up - down) / (2 * eps)
            it.iternext()
        diff = np.linalg.norm(num - grads["d" + k])
        size = np.linalg.norm(num) + np.linalg.norm(grads["d" + k])
        worst = max(worst, diff / size if size > 0 else 0.0)
    return worst


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed)
    np.random.seed(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    n = X.shape[1]
    updates = 0
    for epoch in range(epochs):
        idx = np.random.permutation(n)
        for b in range(0, n, batch_size):
            batch = idx[b:b + batch_size]
            xb, yb = X[:, batch], Y[:, batch]
            out, cache = forward(xb, params, activation)
            history["train_loss"].append(float(cross_entropy_loss(out, yb)))
            history["train_error"].append(float(np.mean(out.argmax(0) != yb.argmax(0))))
            params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
            updates += 1
            if updates % eval_every == 0:
                val_out, _ = forward(X_val, params, activation)
                history["val_step"].append(updates)
                history["val_loss"].append(float(cross_entropy_loss(val_out, Y_val)))
                history["val_error"].append(float(np.mean(val_out.argmax(0) != Y_val.argmax(0))))
    return params, history


def predict(X, params, activation="relu"):
    return forward(X, params, activation)[0].argmax(0)


def accuracy(predictions, labels):
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def confusion_matrix(y_true, y_pred, n_classes=10):
    flat = np.asarray(y_true).astype(int) * n_classes + np.asarray(y_pred).astype(int)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_report(cm):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1}

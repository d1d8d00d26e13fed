"""Written with plain loops where a beginner would use them (classes, confusion counts, report),
and a stratified_split that returns its indices grouped class by class (0s first, then 1s, ...),
which the docstring allows: integer arrays, disjoint, covering 0 .. m-1 once."""
import numpy as np

hidden_neurons = 64
learning_rate = 0.2
epochs = 10


def one_hot(labels, n_classes=10):
    m = len(labels)
    Y = np.zeros((n_classes, m), dtype=np.float32)
    for i in range(m):
        Y[int(labels[i]), i] = 1.0
    return Y


def preprocess(images, method="scale"):
    m = len(images)
    X = np.zeros((784, m), dtype=np.float32)
    flat = np.asarray(images).reshape(m, 784)
    X[:, :] = flat.T
    X = X / 255.0
    if method == "zscore":
        mu = np.mean(X, axis=1).reshape(784, 1)
        sigma = np.std(X, axis=1).reshape(784, 1)
        X = (X - mu) / (sigma + 1e-8)
    return X.astype(np.float32)


def stratified_split(labels, fraction=0.5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    train_idx = []
    val_idx = []
    for c in range(10 if labels.size == 0 else max(10, int(labels.max()) + 1)):
        idx = np.where(labels == c)[0]
        idx = rng.permutation(idx)
        n_train = round(fraction * len(idx))
        train_idx += list(idx[:n_train])
        val_idx += list(idx[n_train:])
    return np.array(train_idx, dtype=np.int64), np.array(val_idx, dtype=np.int64)


def softmax(Z):
    exps = np.exp(Z - np.max(Z, axis=0))
    return exps / np.sum(exps, axis=0)


def cross_entropy_loss(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.clip(A, 1e-10, 1.0))) / m)


def cross_entropy_derivative(A, Y):
    return (A - Y) / Y.shape[1]


def relu(Z):
    return np.maximum(0, Z)


def relu_derivative(Z):
    return np.where(Z > 0, 1.0, 0.0)


def sigmoid(Z):
    return np.where(Z >= 0, 1 / (1 + np.exp(-np.abs(Z))), np.exp(-np.abs(Z)) / (1 + np.exp(-np.abs(Z))))


def sigmoid_derivative(Z):
    return sigmoid(Z) * (1 - sigmoid(Z))


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1 - np.tanh(Z) * np.tanh(Z)


def get_activation(name):
    if name == "relu":
        return relu, relu_derivative
    if name == "sigmoid":
        return sigmoid, sigmoid_derivative
    if name == "tanh":
        return tanh, tanh_derivative
    raise ValueError("unknown activation " + name)


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    params["W1"] = rng.normal(0, np.sqrt(2 / n_in), (n_hidden, n_in)).astype(np.float32)
    params["b1"] = np.zeros((n_hidden, 1), dtype=np.float32)
    params["W2"] = rng.normal(0, np.sqrt(2 / n_hidden), (n_out, n_hidden)).astype(np.float32)
    params["b2"] = np.zeros((n_out, 1), dtype=np.float32)
    return params


def forward(X, params, activation="relu"):
    act, _ = get_activation(activation)
    Z1 = params["W1"] @ X + params["b1"]
    A1 = act(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2)
    cache = {}
    cache["Z1"] = Z1
    cache["A1"] = A1
    cache["Z2"] = Z2
    cache["A2"] = A2
    return A2, cache


def backprop(X, Y, params, cache, activation="relu"):
    _, act_deriv = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dW2 = dZ2 @ cache["A1"].T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1 * act_deriv(cache["Z1"])
    dW1 = dZ1 @ X.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    new_params = {}
    for name in params:
        new_params[name] = params[name] - learning_rate * grads["d" + name]
    return new_params


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    p = {}
    for k in params:
        p[k] = params[k].astype(np.float64).copy()
    A2, cache = forward(X, p, activation)
    grads = backprop(X, Y, p, cache, activation)
    max_error = 0.0
    for k in ["W1", "b1", "W2", "b2"]:
        num = np.zeros(p[k].shape)
        rows, cols = p[k].shape
        for i in range(rows):
            for j in range(cols):
                old = p[k][i, j]
                p[k][i, j] = old + eps
                loss_plus = cross_entropy_loss(forward(X, p, activation)[0], Y)
                p[k][i, j] = old - eps
                loss_minus = cross_entropy_loss(forward(X, p, activation)[0], Y)
                p[k][i, j] = old
                num[i, j] = (loss_plus - loss_minus) / (2 * eps)
        diff = np.linalg.norm(num - grads["d" + k])
        total = np.linalg.norm(num) + np.linalg.norm(grads["d" + k])
        if total > 0:
            error = diff / total
            if error > max_error:
                max_error = error
    return max_error


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    m = X.shape[1]
    steps = 0
    for epoch in range(epochs):
        perm = rng.permutation(m)
        for start in range(0, m, batch_size):
            batch = perm[start:start + batch_size]
            X_batch = X[:, batch]
            Y_batch = Y[:, batch]
            A2, cache = forward(X_batch, params, activation)
            loss = cross_entropy_loss(A2, Y_batch)
            error = 1 - accuracy(np.argmax(A2, axis=0), np.argmax(Y_batch, axis=0))
            grads = backprop(X_batch, Y_batch, params, cache, activation)
            params = update(params, grads, learning_rate)
            history["train_loss"].append(loss)
            history["train_error"].append(error)
            steps += 1
            if steps % eval_every == 0:
                A_val, _ = forward(X_val, params, activation)
                history["val_step"].append(steps)
                history["val_loss"].append(cross_entropy_loss(A_val, Y_val))
                history["val_error"].append(1 - accuracy(np.argmax(A_val, axis=0), np.argmax(Y_val, axis=0)))
    return params, history


def predict(X, params, activation="relu"):
    A2, _ = forward(X, params, activation)
    return np.argmax(A2, axis=0)


def accuracy(predictions, labels):
    correct = 0
    for p, l in zip(predictions, labels):
        if p == l:
            correct += 1
    return correct / len(labels)


def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=int)
    for i in range(len(y_true)):
        cm[y_true[i]][y_pred[i]] += 1
    return cm


def per_class_report(cm):
    n = cm.shape[0]
    precision = []
    recall = []
    f1 = []
    for k in range(n):
        tp = cm[k][k]
        predicted = 0
        actual = 0
        for i in range(n):
            predicted += cm[i][k]
            actual += cm[k][i]
        p = tp / predicted if predicted > 0 else 0.0
        r = tp / actual if actual > 0 else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
    return {"precision": np.array(precision), "recall": np.array(recall), "f1": np.array(f1)}

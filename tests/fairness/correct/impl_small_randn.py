"""The classic Coursera-style network: np.random.seed + 0.01 * randn, np.dot everywhere, log(A + 1e-8)."""
import numpy as np

hidden_neurons = 128
learning_rate = 0.3
epochs = 10


def one_hot(labels, n_classes=10):
    labels = np.array(labels, dtype=int).reshape(-1)
    return np.eye(n_classes, dtype=np.float32)[labels].T


def preprocess(images, method="scale"):
    m = len(images)
    X = np.array(images, dtype=np.float32).reshape(m, 28 * 28)
    X = X / 255.0
    if method == "zscore":
        mean = np.mean(X, axis=0)
        std = np.std(X, axis=0)
        X = (X - mean) / (std + 1e-8)
    elif method != "scale":
        raise ValueError("method must be 'scale' or 'zscore'")
    return X.T.astype(np.float32)


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.array(labels)
    rng = np.random.default_rng(seed)
    train_idx = []
    val_idx = []
    for k in range(int(labels.max()) + 1 if labels.size else 0):
        idx = np.where(labels == k)[0]
        rng.shuffle(idx)
        n = int(round(fraction * len(idx)))
        train_idx.extend(idx[:n].tolist())
        val_idx.extend(idx[n:].tolist())
    train_idx = np.array(train_idx, dtype=int)
    val_idx = np.array(val_idx, dtype=int)
    rng.shuffle(train_idx)
    rng.shuffle(val_idx)
    return train_idx, val_idx


def softmax(Z):
    expZ = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return expZ / np.sum(expZ, axis=0, keepdims=True)


def cross_entropy_loss(A, Y):
    m = Y.shape[1]
    logprobs = np.multiply(Y, np.log(A + 1e-8))
    cost = -np.sum(logprobs) / m
    return float(np.squeeze(cost))


def cross_entropy_derivative(A, Y):
    m = Y.shape[1]
    return (1.0 / m) * (A - Y)


def relu(Z):
    return np.maximum(0, Z)


def relu_derivative(Z):
    dZ = np.ones_like(Z, dtype=np.float64 if np.asarray(Z).dtype.kind != "f" else None)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid(Z):
    Z = np.asarray(Z)
    out = np.empty_like(Z, dtype=np.result_type(Z.dtype, np.float32))
    pos = Z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))
    ez = np.exp(Z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_derivative(Z):
    s = sigmoid(Z)
    return s * (1.0 - s)


def tanh(Z):
    return np.tanh(Z)


def tanh_derivative(Z):
    return 1.0 - np.power(np.tanh(Z), 2)


def get_activation(name):
    pairs = {
        "relu": (relu, relu_derivative),
        "sigmoid": (sigmoid, sigmoid_derivative),
        "tanh": (tanh, tanh_derivative),
    }
    if name not in pairs:
        raise ValueError("unknown activation %r" % (name,))
    return pairs[name]


def init_params(n_in, n_hidden, n_out, seed=0):
    np.random.seed(seed)
    W1 = np.random.randn(n_hidden, n_in) * 0.01
    b1 = np.zeros((n_hidden, 1))
    W2 = np.random.randn(n_out, n_hidden) * 0.01
    b2 = np.zeros((n_out, 1))
    return {"W1": W1.astype(np.float32), "b1": b1.astype(np.float32),
            "W2": W2.astype(np.float32), "b2": b2.astype(np.float32)}


def forward(X, params, activation="relu"):
    g, _ = get_activation(activation)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = g(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = softmax(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def backprop(X, Y, params, cache, activation="relu"):
    _, g_prime = get_activation(activation)
    W2 = params["W2"]
    A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]
    dZ2 = cross_entropy_derivative(A2, Y)
    dW2 = np.dot(dZ2, A1.T)
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(W2.T, dZ2), g_prime(Z1))
    dW1 = np.dot(dZ1, X.T)
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    new_params = {}
    for key in ("W1", "b1", "W2", "b2"):
        new_params[key] = params[key] - learning_rate * grads["d" + key]
    return new_params


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in params.items()}
    A2, cache = forward(X, params, activation)
    grads = backprop(X, Y, params, cache, activation)
    errors = []
    for key in ("W1", "b1", "W2", "b2"):
        numeric = np.zeros(params[key].shape)
        for i in range(params[key].shape[0]):
            for j in range(params[key].shape[1]):
                original = params[key][i, j]
                params[key][i, j] = original + eps
                plus = cross_entropy_loss(forward(X, params, activation)[0], Y)
                params[key][i, j] = original - eps
                minus = cross_entropy_loss(forward(X, params, activation)[0], Y)
                params[key][i, j] = original
                numeric[i, j] = (plus - minus) / (2 * eps)
        analytic = grads["d" + key]
        numerator = np.linalg.norm(numeric - analytic)
        denominator = np.linalg.norm(numeric) + np.linalg.norm(analytic)
        errors.append(numerator / denominator if denominator != 0 else 0.0)
    return max(errors)


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    n_x = X.shape[0]
    n_y = Y.shape[0]
    m = X.shape[1]
    params = init_params(n_x, hidden_neurons, n_y, seed=seed)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    y_val_labels = np.argmax(Y_val, axis=0)
    t = 0
    for epoch in range(epochs):
        permutation = rng.permutation(m)
        X_shuffled = X[:, permutation]
        Y_shuffled = Y[:, permutation]
        num_batches = int(np.ceil(m / batch_size))
        for k in range(num_batches):
            X_batch = X_shuffled[:, k * batch_size:(k + 1) * batch_size]
            Y_batch = Y_shuffled[:, k * batch_size:(k + 1) * batch_size]
            A2, cache = forward(X_batch, params, activation)
            cost = cross_entropy_loss(A2, Y_batch)
            error = np.mean(np.argmax(A2, axis=0) != np.argmax(Y_batch, axis=0))
            grads = backprop(X_batch, Y_batch, params, cache, activation)
            params = update(params, grads, learning_rate)
            history["train_loss"].append(cost)
            history["train_error"].append(float(error))
            t += 1
            if t % eval_every == 0:
                A_val, _ = forward(X_val, params, activation)
                history["val_step"].append(t)
                history["val_loss"].append(cross_entropy_loss(A_val, Y_val))
                history["val_error"].append(float(np.mean(np.argmax(A_val, axis=0) != y_val_labels)))
    return params, history


def predict(X, params, activation="relu"):
    A2, _ = forward(X, params, activation)
    return np.argmax(A2, axis=0)


def accuracy(predictions, labels):
    return np.sum(predictions == labels) / labels.size


def confusion_matrix(y_true, y_pred, n_classes=10):
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[int(t), int(p)] += 1
    return matrix


def per_class_report(cm):
    n = cm.shape[0]
    precision = np.zeros(n)
    recall = np.zeros(n)
    f1 = np.zeros(n)
    for k in range(n):
        tp = cm[k, k]
        predicted_k = cm[:, k].sum()
        actual_k = cm[k, :].sum()
        precision[k] = tp / predicted_k if predicted_k > 0 else 0.0
        recall[k] = tp / actual_k if actual_k > 0 else 0.0
        if precision[k] + recall[k] > 0:
            f1[k] = 2 * precision[k] * recall[k] / (precision[k] + recall[k])
    return {"precision": precision, "recall": recall, "f1": f1}

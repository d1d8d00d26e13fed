"""An object-oriented network (a Layer/Network pair with its own state), wrapped by the
assignment's functions, which build a network from the params dict and read the result back."""
import numpy as np

hidden_neurons = 64
learning_rate = 0.2
epochs = 12


class Activation:
    def __init__(self, name):
        self.name = name

    def __call__(self, z):
        if self.name == "relu":
            return np.maximum(z, 0.0)
        if self.name == "sigmoid":
            z = np.asarray(z)
            return np.exp(np.minimum(z, 0)) / (1.0 + np.exp(-np.abs(z)))
        if self.name == "tanh":
            return np.tanh(z)
        raise ValueError(f"no activation called {self.name}")

    def grad(self, z):
        z = np.asarray(z)
        if self.name == "relu":
            return np.where(z > 0, 1.0, 0.0).astype(z.dtype if z.dtype.kind == "f" else np.float64)
        if self.name == "sigmoid":
            s = self(z)
            return s * (1.0 - s)
        if self.name == "tanh":
            return 1.0 - np.tanh(z) ** 2
        raise ValueError(f"no activation called {self.name}")


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return self.W @ x + self.b

    def backward(self, grad_out):
        self.dW = grad_out @ self.x.T
        self.db = grad_out.sum(axis=1, keepdims=True)
        return self.W.T @ grad_out


class Network:
    def __init__(self, params, activation="relu"):
        self.hidden = Dense(params["W1"], params["b1"])
        self.out = Dense(params["W2"], params["b2"])
        self.act = Activation(activation)

    @classmethod
    def random(cls, n_in, n_hidden, n_out, seed=0, activation="relu"):
        rng = np.random.default_rng(seed)
        params = {
            "W1": (rng.standard_normal((n_hidden, n_in)) / np.sqrt(n_in / 2.0)).astype(np.float32),
            "b1": np.zeros((n_hidden, 1), np.float32),
            "W2": (rng.standard_normal((n_out, n_hidden)) / np.sqrt(n_hidden / 2.0)).astype(np.float32),
            "b2": np.zeros((n_out, 1), np.float32),
        }
        return cls(params, activation)

    def params(self):
        return {"W1": self.hidden.W, "b1": self.hidden.b, "W2": self.out.W, "b2": self.out.b}

    def grads(self):
        return {"dW1": self.hidden.dW, "db1": self.hidden.db, "dW2": self.out.dW, "db2": self.out.db}

    def forward(self, X):
        self.Z1 = self.hidden.forward(X)
        self.A1 = self.act(self.Z1)
        self.Z2 = self.out.forward(self.A1)
        self.A2 = softmax(self.Z2)
        return self.A2

    def cache(self):
        return {"Z1": self.Z1, "A1": self.A1, "Z2": self.Z2, "A2": self.A2}

    def backward(self, X, Y, cache=None):
        cache = cache or self.cache()
        self.hidden.x, self.out.x = X, cache["A1"]
        g = cross_entropy_derivative(cache["A2"], Y)
        g = self.out.backward(g)
        g = g * self.act.grad(cache["Z1"])
        self.hidden.backward(g)
        return self.grads()

    def step(self, lr):
        for layer in (self.hidden, self.out):
            layer.W = layer.W - lr * layer.dW
            layer.b = layer.b - lr * layer.db


def one_hot(labels, n_classes=10):
    labels = np.asarray(labels).astype(int)
    Y = np.zeros((n_classes, len(labels)), dtype=np.float32)
    for column, label in enumerate(labels):
        Y[label, column] = 1
    return Y


def preprocess(images, method="scale"):
    images = np.asarray(images)
    X = images.reshape(images.shape[0], 28 * 28).T / np.float32(255)
    X = X.astype(np.float32)
    if method == "zscore":
        mean = X.mean(axis=1, keepdims=True)
        std = X.std(axis=1, keepdims=True)
        X = ((X - mean) / (std + 1e-8)).astype(np.float32)
    return X


def stratified_split(labels, fraction=0.5, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        rng.shuffle(members)
        train.extend(members[:round(fraction * len(members))])
    train = np.array(sorted(train), dtype=np.int64)
    val = np.setdiff1d(np.arange(len(labels)), train)
    return train, val


def softmax(Z):
    Z = np.asarray(Z)
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def cross_entropy_loss(A, Y):
    A, Y = np.asarray(A), np.asarray(Y)
    return float(np.mean(-np.log(np.clip((A * Y).sum(axis=0), 1e-12, None))))


def cross_entropy_derivative(A, Y):
    A, Y = np.asarray(A), np.asarray(Y)
    return (A - Y) / Y.shape[1]


def relu(Z):
    return Activation("relu")(Z)


def relu_derivative(Z):
    return Activation("relu").grad(Z)


def sigmoid(Z):
    return Activation("sigmoid")(Z)


def sigmoid_derivative(Z):
    return Activation("sigmoid").grad(Z)


def tanh(Z):
    return Activation("tanh")(Z)


def tanh_derivative(Z):
    return Activation("tanh").grad(Z)


def init_params(n_in, n_hidden, n_out, seed=0):
    return Network.random(n_in, n_hidden, n_out, seed).params()


def forward(X, params, activation="relu"):
    net = Network(params, activation)
    A2 = net.forward(np.asarray(X))
    return A2, net.cache()


def backprop(X, Y, params, cache, activation="relu"):
    return Network(params, activation).backward(np.asarray(X), np.asarray(Y), cache)


def update(params, grads, learning_rate):
    net = Network(params)
    net.hidden.dW, net.hidden.db = grads["dW1"], grads["db1"]
    net.out.dW, net.out.db = grads["dW2"], grads["db2"]
    net.step(learning_rate)
    return net.params()


def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    params = {k: np.asarray(v, np.float64).copy() for k, v in params.items()}
    net = Network(params, activation)
    net.forward(X)
    analytic = net.backward(X, Y)
    result = 0.0
    for k in ("W1", "b1", "W2", "b2"):
        theta = params[k]
        numeric = np.zeros_like(theta)
        for i in range(theta.size):
            ix = np.unravel_index(i, theta.shape)
            keep = theta[ix]
            theta[ix] = keep + eps
            l_plus = cross_entropy_loss(Network(params, activation).forward(X), Y)
            theta[ix] = keep - eps
            l_minus = cross_entropy_loss(Network(params, activation).forward(X), Y)
            theta[ix] = keep
            numeric[ix] = (l_plus - l_minus) / (2 * eps)
        d = analytic["d" + k]
        den = np.linalg.norm(numeric) + np.linalg.norm(d)
        result = max(result, float(np.linalg.norm(numeric - d) / den) if den else 0.0)
    return result


def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32)
    X_val, Y_val = np.asarray(X_val, np.float32), np.asarray(Y_val, np.float32)
    net = Network(init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed), activation)
    rng = np.random.default_rng(seed)
    history = dict(train_loss=[], train_error=[], val_step=[], val_loss=[], val_error=[])
    updates = 0
    for epoch in range(epochs):
        shuffled = rng.permutation(X.shape[1])
        for batch in np.array_split(shuffled, int(np.ceil(X.shape[1] / batch_size))):
            xb, yb = X[:, batch], Y[:, batch]
            probs = net.forward(xb)
            history["train_loss"].append(cross_entropy_loss(probs, yb))
            history["train_error"].append(float(np.mean(probs.argmax(0) != yb.argmax(0))))
            net.backward(xb, yb)
            net.step(learning_rate)
            updates += 1
            if updates % eval_every == 0:
                pv = Network(net.params(), activation).forward(X_val)
                history["val_step"].append(updates)
                history["val_loss"].append(cross_entropy_loss(pv, Y_val))
                history["val_error"].append(float(np.mean(pv.argmax(0) != Y_val.argmax(0))))
    return net.params(), history


def predict(X, params, activation="relu"):
    return Network(params, activation).forward(np.asarray(X)).argmax(axis=0)


def accuracy(predictions, labels):
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    for t, p in zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist()):
        cm[t][p] += 1
    return cm


def per_class_report(cm):
    cm = np.asarray(cm)
    n = len(cm)
    out = {"precision": np.zeros(n), "recall": np.zeros(n), "f1": np.zeros(n)}
    for k in range(n):
        col, row = cm[:, k].sum(), cm[k].sum()
        p = cm[k, k] / col if col else 0.0
        r = cm[k, k] / row if row else 0.0
        out["precision"][k], out["recall"][k] = p, r
        out["f1"][k] = 2 * p * r / (p + r) if p + r else 0.0
    return out

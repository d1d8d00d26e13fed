"""A synthetic class for the similarity report: independent solutions and planted copies.

Every student fills the real student template (its signatures and docstrings stay, as students
leave them). An independent student picks, per function, one of several genuinely different
implementations (seeded), so independents share some code the way real classes do. A planted copy
takes another student's notebook and disguises it: variables renamed, functions reordered inside
their cells and cells moved, comments rewritten.
"""

import copy
import random
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "student" / "nn_from_scratch.ipynb"

V = {  # function -> alternative bodies (no indentation)
    "one_hot": [
        "Y = np.zeros((n_classes, labels.shape[0]), dtype=np.float32)\nY[labels, np.arange(labels.shape[0])] = 1\nreturn Y",
        "return np.eye(n_classes, dtype=np.float32)[labels].T.copy()",
        "m = len(labels)\nout = np.zeros((n_classes, m), np.float32)\nfor i in range(m):\n    out[int(labels[i]), i] = 1.0\nreturn out",
    ],
    "preprocess": [
        "X = images.reshape(images.shape[0], -1).T.astype(np.float32) / 255.0\nif method == 'zscore':\n"
        "    mu = X.mean(axis=1, keepdims=True)\n    sd = X.std(axis=1, keepdims=True)\n    X = (X - mu) / (sd + 1e-8)\nreturn X",
        "flat = np.asarray(images, dtype=np.float32).reshape(len(images), 784)\nscaled = (flat / 255).T\n"
        "if method == 'scale':\n    return scaled\nreturn ((scaled - scaled.mean(1)[:, None]) / (scaled.std(1)[:, None] + 1e-8)).astype(np.float32)",
        "out = np.empty((784, images.shape[0]), dtype=np.float32)\nfor j in range(images.shape[0]):\n"
        "    out[:, j] = images[j].ravel() / 255.0\nif method != 'scale':\n    for r in range(784):\n"
        "        row = out[r]\n        out[r] = (row - row.mean()) / (row.std() + 1e-8)\nreturn out",
    ],
    "stratified_split": [
        "rng = np.random.default_rng(seed)\ntrain, val = [], []\nfor c in np.unique(labels):\n"
        "    idx = rng.permutation(np.flatnonzero(labels == c))\n    cut = int(round(fraction * len(idx)))\n"
        "    train.append(idx[:cut])\n    val.append(idx[cut:])\nreturn np.concatenate(train), np.concatenate(val)",
        "gen = np.random.default_rng(seed)\nmask = np.zeros(len(labels), bool)\nfor k in range(labels.max() + 1):\n"
        "    members = np.where(labels == k)[0]\n    chosen = gen.choice(members, size=int(fraction * members.size), replace=False)\n"
        "    mask[chosen] = True\nreturn np.where(mask)[0], np.where(~mask)[0]",
        "order = np.random.RandomState(seed).permutation(len(labels))\nseen = {}\ntr = []\nva = []\n"
        "counts = np.bincount(labels)\nfor i in order:\n    c = labels[i]\n    seen[c] = seen.get(c, 0) + 1\n"
        "    (tr if seen[c] <= fraction * counts[c] else va).append(i)\nreturn np.array(sorted(tr)), np.array(sorted(va))",
    ],
    "softmax": [
        "shifted = Z - Z.max(axis=0, keepdims=True)\nexps = np.exp(shifted)\nreturn exps / exps.sum(axis=0, keepdims=True)",
        "e = np.exp(Z - np.max(Z, 0))\ns = np.sum(e, 0)\nreturn e / s",
        "out = np.empty_like(Z, dtype=np.float64)\nfor j in range(Z.shape[1]):\n    col = Z[:, j] - Z[:, j].max()\n"
        "    w = np.exp(col)\n    out[:, j] = w / w.sum()\nreturn out",
    ],
    "cross_entropy_loss": [
        "m = Y.shape[1]\nreturn float(-np.sum(Y * np.log(np.clip(A, 1e-12, 1.0))) / m)",
        "eps = 1e-15\nlogs = np.log(A + eps)\nper_sample = -(Y * logs).sum(axis=0)\nreturn float(per_sample.mean())",
        "picked = A[np.argmax(Y, axis=0), np.arange(Y.shape[1])]\nreturn float(np.mean(-np.log(np.maximum(picked, 1e-12))))",
    ],
    "cross_entropy_derivative": [
        "return (A - Y) / Y.shape[1]",
        "m = A.shape[1]\ndZ = A.copy()\ndZ -= Y\nreturn dZ / m",
        "n = float(Y.shape[-1])\nreturn np.subtract(A, Y) * (1.0 / n)",
    ],
    "relu": ["return np.maximum(0, Z)", "return Z * (Z > 0)", "out = Z.copy()\nout[out < 0] = 0\nreturn out"],
    "relu_derivative": ["return (Z > 0).astype(Z.dtype)", "return np.where(Z > 0, 1.0, 0.0)",
                        "d = np.zeros_like(Z)\nd[Z > 0] = 1\nreturn d"],
    "sigmoid": ["return 1 / (1 + np.exp(-np.clip(Z, -500, 500)))",
                "return np.where(Z >= 0, 1 / (1 + np.exp(-np.abs(Z))), np.exp(-np.abs(Z)) / (1 + np.exp(-np.abs(Z))))",
                "return 0.5 * (1 + np.tanh(0.5 * Z))"],
    "sigmoid_derivative": ["s = sigmoid(Z)\nreturn s * (1 - s)", "return sigmoid(Z) * sigmoid(-Z)",
                           "e = np.exp(-np.abs(Z))\nreturn e / (1 + e) ** 2"],
    "tanh": ["return np.tanh(Z)", "return 2 * sigmoid(2 * Z) - 1", "a = np.exp(Z)\nb = np.exp(-Z)\nreturn (a - b) / (a + b)"],
    "tanh_derivative": ["return 1 - np.tanh(Z) ** 2", "t = tanh(Z)\nreturn 1.0 - t * t", "return 1 / np.cosh(Z) ** 2"],
    "init_params": [
        "rng = np.random.default_rng(seed)\nreturn {'W1': rng.normal(0, np.sqrt(2 / n_in), (n_hidden, n_in)),\n"
        "        'b1': np.zeros((n_hidden, 1)), 'W2': rng.normal(0, np.sqrt(2 / n_hidden), (n_out, n_hidden)),\n"
        "        'b2': np.zeros((n_out, 1))}",
        "g = np.random.default_rng(seed)\nparams = {}\nsizes = [n_in, n_hidden, n_out]\nfor i in (1, 2):\n"
        "    params[f'W{i}'] = g.standard_normal((sizes[i], sizes[i - 1])) * np.sqrt(2.0 / sizes[i - 1])\n"
        "    params[f'b{i}'] = np.zeros((sizes[i], 1))\nreturn params",
        "np.random.seed(seed)\nW1 = np.random.randn(n_hidden, n_in) * (2 / n_in) ** 0.5\n"
        "W2 = np.random.randn(n_out, n_hidden) * (2 / n_hidden) ** 0.5\n"
        "return dict(W1=W1, b1=np.zeros((n_hidden, 1)), W2=W2, b2=np.zeros((n_out, 1)))",
    ],
    "forward": [
        "act = {'relu': relu, 'sigmoid': sigmoid, 'tanh': tanh}[activation]\nZ1 = params['W1'] @ X + params['b1']\n"
        "A1 = act(Z1)\nZ2 = params['W2'] @ A1 + params['b2']\nA2 = softmax(Z2)\n"
        "return A2, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}",
        "z1 = np.dot(params['W1'], X) + params['b1']\nif activation == 'relu':\n    a1 = relu(z1)\n"
        "elif activation == 'sigmoid':\n    a1 = sigmoid(z1)\nelse:\n    a1 = tanh(z1)\n"
        "z2 = np.dot(params['W2'], a1) + params['b2']\ncache = dict(Z1=z1, A1=a1, Z2=z2)\ncache['A2'] = softmax(z2)\n"
        "return cache['A2'], cache",
        "W1, b1, W2, b2 = (params[k] for k in ('W1', 'b1', 'W2', 'b2'))\nhidden = W1.dot(X) + b1\n"
        "f = globals()[activation]\nout = softmax(W2.dot(f(hidden)) + b2)\n"
        "return out, {'Z1': hidden, 'A1': f(hidden), 'Z2': W2.dot(f(hidden)) + b2, 'A2': out}",
    ],
    "backprop": [
        "deriv = {'relu': relu_derivative, 'sigmoid': sigmoid_derivative, 'tanh': tanh_derivative}[activation]\n"
        "dZ2 = cross_entropy_derivative(cache['A2'], Y)\ndW2 = dZ2 @ cache['A1'].T\ndb2 = dZ2.sum(axis=1, keepdims=True)\n"
        "dA1 = params['W2'].T @ dZ2\ndZ1 = dA1 * deriv(cache['Z1'])\ndW1 = dZ1 @ X.T\n"
        "db1 = dZ1.sum(axis=1, keepdims=True)\nreturn {'dW1': dW1, 'db1': db1, 'dW2': dW2, 'db2': db2}",
        "m = X.shape[1]\ndelta2 = (cache['A2'] - Y) / m\ngrads = {'dW2': np.dot(delta2, cache['A1'].T),\n"
        "         'db2': np.sum(delta2, axis=1).reshape(-1, 1)}\nback = np.dot(params['W2'].T, delta2)\n"
        "if activation == 'relu':\n    back = back * (cache['Z1'] > 0)\nelif activation == 'sigmoid':\n"
        "    back = back * sigmoid_derivative(cache['Z1'])\nelse:\n    back = back * tanh_derivative(cache['Z1'])\n"
        "grads['dW1'] = np.dot(back, X.T)\ngrads['db1'] = np.sum(back, axis=1).reshape(-1, 1)\nreturn grads",
        "g = {}\nerr = cross_entropy_derivative(cache['A2'], Y)\nfor name, inp in (('2', cache['A1']),):\n"
        "    g['dW' + name] = err.dot(inp.T)\n    g['db' + name] = err.sum(1)[:, None]\n"
        "local = globals()[activation + '_derivative'](cache['Z1'])\nerr1 = params['W2'].T.dot(err) * local\n"
        "g['dW1'] = err1.dot(X.T)\ng['db1'] = err1.sum(1)[:, None]\nreturn g",
    ],
    "update": [
        "return {k: params[k] - learning_rate * grads['d' + k] for k in params}",
        "new = {}\nfor name in ('W1', 'b1', 'W2', 'b2'):\n    new[name] = params[name] - learning_rate * grads['d' + name]\nreturn new",
        "out = dict(params)\nfor key, value in params.items():\n    step = np.multiply(learning_rate, grads[f'd{key}'])\n"
        "    out[key] = value - step\nreturn out",
    ],
    "gradient_check": [
        "p = {k: v.astype(np.float64) for k, v in params.items()}\nA2, cache = forward(X, p, activation)\n"
        "analytic = backprop(X, Y, p, cache, activation)\nworst = 0.0\nfor k in p:\n    num = np.zeros_like(p[k])\n"
        "    it = np.nditer(p[k], flags=['multi_index'])\n    for _ in it:\n        i = it.multi_index\n        old = p[k][i]\n"
        "        p[k][i] = old + eps\n        plus = cross_entropy_loss(forward(X, p, activation)[0], Y)\n"
        "        p[k][i] = old - eps\n        minus = cross_entropy_loss(forward(X, p, activation)[0], Y)\n"
        "        p[k][i] = old\n        num[i] = (plus - minus) / (2 * eps)\n    a = analytic['d' + k]\n"
        "    worst = max(worst, np.linalg.norm(num - a) / (np.linalg.norm(num) + np.linalg.norm(a) + 1e-12))\nreturn worst",
        "work = {name: np.array(val, dtype=np.float64) for name, val in params.items()}\n"
        "_, c = forward(X, work, activation)\ng = backprop(X, Y, work, c, activation)\nerrors = []\n"
        "def loss_of(P):\n    return cross_entropy_loss(forward(X, P, activation)[0], Y)\nfor name in ['W1', 'b1', 'W2', 'b2']:\n"
        "    flat = work[name].reshape(-1)\n    numeric = np.empty(flat.size)\n    for j in range(flat.size):\n"
        "        keep = flat[j]\n        flat[j] = keep + eps\n        up = loss_of(work)\n        flat[j] = keep - eps\n"
        "        down = loss_of(work)\n        flat[j] = keep\n        numeric[j] = (up - down) / eps / 2\n"
        "    ana = g['d' + name].reshape(-1)\n    diff = np.linalg.norm(numeric - ana)\n"
        "    errors.append(diff / max(np.linalg.norm(numeric) + np.linalg.norm(ana), 1e-12))\nreturn max(errors)",
    ],
    "train": [
        "params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed)\nrng = np.random.default_rng(seed)\n"
        "history = {'train_loss': [], 'train_error': [], 'val_step': [], 'val_loss': [], 'val_error': []}\nstep = 0\n"
        "for epoch in range(epochs):\n    order = rng.permutation(X.shape[1])\n"
        "    for start in range(0, X.shape[1], batch_size):\n        idx = order[start:start + batch_size]\n"
        "        A2, cache = forward(X[:, idx], params, activation)\n        history['train_loss'].append(cross_entropy_loss(A2, Y[:, idx]))\n"
        "        history['train_error'].append(1 - np.mean(A2.argmax(0) == Y[:, idx].argmax(0)))\n"
        "        params = update(params, backprop(X[:, idx], Y[:, idx], params, cache, activation), learning_rate)\n"
        "        step += 1\n        if step % eval_every == 0:\n            Av, _ = forward(X_val, params, activation)\n"
        "            history['val_step'].append(step)\n            history['val_loss'].append(cross_entropy_loss(Av, Y_val))\n"
        "            history['val_error'].append(1 - np.mean(Av.argmax(0) == Y_val.argmax(0)))\nreturn params, history",
        "gen = np.random.default_rng(seed)\nP = init_params(784, hidden_neurons, 10, seed)\n"
        "hist = dict(train_loss=[], train_error=[], val_step=[], val_loss=[], val_error=[])\nm = X.shape[1]\nupdates = 0\n"
        "while updates < epochs * int(np.ceil(m / batch_size)):\n    perm = gen.permutation(m)\n"
        "    batches = np.array_split(perm, int(np.ceil(m / batch_size)))\n    for b in batches:\n"
        "        xb, yb = X[:, b], Y[:, b]\n        out, c = forward(xb, P, activation)\n        g = backprop(xb, yb, P, c, activation)\n"
        "        P = update(P, g, learning_rate)\n        updates += 1\n        hist['train_loss'].append(cross_entropy_loss(out, yb))\n"
        "        hist['train_error'].append(float(np.mean(np.argmax(out, 0) != np.argmax(yb, 0))))\n"
        "        if updates % eval_every == 0:\n            pv = forward(X_val, P, activation)[0]\n"
        "            hist['val_step'].append(updates)\n            hist['val_loss'].append(cross_entropy_loss(pv, Y_val))\n"
        "            hist['val_error'].append(float(np.mean(np.argmax(pv, 0) != np.argmax(Y_val, 0))))\nreturn P, hist",
        "theta = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)\nr = np.random.default_rng(seed)\n"
        "log = {key: [] for key in ('train_loss', 'train_error', 'val_step', 'val_loss', 'val_error')}\n"
        "count = 0\nfor _ in range(epochs):\n    shuffled = r.permutation(X.shape[1])\n    pos = 0\n"
        "    while pos < len(shuffled):\n        sel = shuffled[pos:pos + batch_size]\n        pos += batch_size\n"
        "        probs, mem = forward(X[:, sel], theta, activation)\n        theta = update(theta, backprop(X[:, sel], Y[:, sel], theta, mem, activation), learning_rate)\n"
        "        count += 1\n        log['train_loss'].append(cross_entropy_loss(probs, Y[:, sel]))\n"
        "        log['train_error'].append(1.0 - accuracy(probs.argmax(axis=0), Y[:, sel].argmax(axis=0)))\n"
        "        if count % eval_every:\n            continue\n        vp, _ = forward(X_val, theta, activation)\n"
        "        log['val_step'].append(count)\n        log['val_loss'].append(cross_entropy_loss(vp, Y_val))\n"
        "        log['val_error'].append(1.0 - accuracy(vp.argmax(axis=0), Y_val.argmax(axis=0)))\nreturn theta, log",
    ],
    "predict": ["A2, _ = forward(X, params, activation)\nreturn np.argmax(A2, axis=0)",
                "return forward(X, params, activation)[0].argmax(0)",
                "probs = forward(X, params, activation)[0]\nreturn np.array([int(np.argmax(probs[:, i])) for i in range(probs.shape[1])])"],
    "accuracy": ["return float(np.mean(predictions == labels))",
                 "return float((np.asarray(predictions) == np.asarray(labels)).sum()) / len(labels)",
                 "hits = 0\nfor p, t in zip(predictions, labels):\n    hits += int(p == t)\nreturn hits / len(labels)"],
    "confusion_matrix": ["cm = np.zeros((n_classes, n_classes), dtype=int)\nnp.add.at(cm, (y_true, y_pred), 1)\nreturn cm",
                         "cm = np.zeros((n_classes, n_classes), int)\nfor t, p in zip(y_true, y_pred):\n    cm[t, p] += 1\nreturn cm",
                         "return np.bincount(n_classes * np.asarray(y_true) + np.asarray(y_pred), minlength=n_classes ** 2)"
                         ".reshape(n_classes, n_classes)"],
}

COMMENTS = ["# vectorised", "# shapes checked by hand", "# TODO tidy", "# from the lecture notes", "# works on my data"]
RENAMES = {"idx": "sel_idx", "rng": "random_gen", "gen": "rgen", "out": "result", "cache": "memo", "m": "n_cols",
           "grads": "gradients", "params": "weights", "hist": "record", "history": "logbook", "P": "net", "g": "grd",
           "e": "expo", "shifted": "z_shift", "exps": "z_exp", "mask": "chosen_mask", "train": "train_part",
           "val": "val_part", "step": "n_steps", "order": "perm_order", "cm": "matrix", "new": "fresh", "work": "pw",
           "numeric": "num_grad", "ana": "ana_grad", "theta": "net_w", "log": "rec", "count": "n_upd", "Z1": "z_hidden",
           "Z": "z_in", "Y": "targets", "X": "inputs", "A": "probs", "A2": "out_probs", "labels": "labs",
           "images": "imgs", "i": "ii", "j": "jj", "k": "key", "c": "cls", "p": "pr", "t": "tr_", "s": "sg",
           "d": "dd", "dZ": "d_logits", "dZ2": "d_out", "dW2": "gw2", "dZ1": "d_hidden", "A1": "act_hidden",
           "W1": "w_a", "W2": "w_b", "b1": "bias_a", "b2": "bias_b", "n_classes": "num_classes", "seed": "rs",
           "method": "mode", "fraction": "frac", "activation": "act_name", "eps": "h", "learning_rate": "lr",
           "predictions": "preds", "epochs": "n_epochs", "batch_size": "bs", "eval_every": "every"}


def _filled(template, choose, comments):
    """The template with every stub `...` replaced by a body from choose(function name)."""
    nb = copy.deepcopy(template)
    for cell in nb.cells:
        if cell.cell_type != "code" or "..." not in cell.source:
            continue
        lines, current = [], None
        for line in cell.source.split("\n"):
            m = re.match(r"def (\w+)\(", line)
            current = m.group(1) if m else current
            if line.strip() == "..." and current in V:
                body = choose(current)
                if comments:
                    body = f"{comments.pop(0)}\n{body}" if comments else body
                lines += ["    " + b for b in body.split("\n")]
            else:
                lines.append(line)
        cell.source = "\n".join(lines)
        if re.match(r"hidden_neurons = \.\.\.", cell.source):
            cell.source = "hidden_neurons = 128\nlearning_rate = 0.1\nepochs = 5"
    return nb


def independent(seed):
    """A student with an own choice of implementation per function."""
    rnd = random.Random(seed)
    template = nbformat.read(TEMPLATE, as_version=4)
    comments = [rnd.choice(COMMENTS) for _ in range(rnd.randint(0, 3))]
    return _filled(template, lambda name: rnd.choice(V[name]), comments)


def disguised(nb, seed):
    """A planted copy: variables renamed, functions reordered and cells moved, comments rewritten."""
    rnd = random.Random(seed)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = re.sub(r"^\s*#.*\n", "", cell.source, flags=re.M)        # old comments out
        for old, new in RENAMES.items():
            src = re.sub(rf"(?<![\w.'\"]){re.escape(old)}(?![\w'\"])", new, src)
        blocks = re.split(r"\n\n\n(?=def )", src)
        if len(blocks) > 1:                                              # functions of one cell reordered
            rnd.shuffle(blocks)
            src = "\n\n\n".join(blocks)
        lines = src.split("\n")
        for _ in range(2):                                               # new comments
            at = rnd.randrange(len(lines) + 1)
            indent = re.match(r"\s*", lines[at] if at < len(lines) else "").group(0)
            lines.insert(at, f"{indent}# {rnd.choice(['step', 'careful here', 'my idea', 'note'])}")
        cell.source = "\n".join(lines)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "def " in c.source]
    a, b = rnd.sample(code, 2)                                           # two cells swap places
    nb.cells[a], nb.cells[b] = nb.cells[b], nb.cells[a]
    return nb


WORDS = ("the network model softmax gradient loss hidden layer weights bias learning rate epoch batch overfit "
         "validation accuracy error class shirt coat sandal sneaker boot pixel image noise step training test "
         "relu sigmoid tanh saturate vanish explode derivative chain rule matrix column sample mean larger "
         "smaller because when so which therefore curve flat steep converges diverges slower faster stable "
         "unstable initialisation random seed variance confusion precision recall similar shapes").split()


def independent_answers(seed, questions=5):
    rnd = random.Random(seed)
    return {f"written_q{k}": " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(25, 45))).capitalize() + "."
            for k in range(1, questions + 1)}


def disguised_answers(answers, seed):
    """Copied answers, lightly edited: case, spacing, a few words swapped for others."""
    rnd = random.Random(seed)
    out = {}
    for q, text in answers.items():
        words = text.split()
        for _ in range(2):
            words[rnd.randrange(len(words))] = rnd.choice(["really", "basically", "clearly"])
        out[q] = "  ".join(words).upper() if rnd.random() < 0.5 else " ".join(words)
    return out

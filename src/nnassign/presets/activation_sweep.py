"""Preset "activation-sweep": Fashion-MNIST, 36 networks (hidden size x activation x learning rate),
three input normalisations, and a full evaluation of each network.

    CONFIG (assignment_config.yaml), STEPS (applied to the base solution), README, COVERAGE

The source coursework compares 64/128/150 hidden units, sigmoid/ReLU/tanh and learning rates
0.01/0.5/0.85/1, normalises inputs by l1, l2 or /255, plots the class distribution, and reports a
confusion matrix, a per-class report (with support and averages) and a loss curve for each
configuration; full-batch gradient descent is an option. The sweep runs on a stratified subsample
so that the whole notebook stays within its time budget. The new graded question `normalise`
(l1 / l2 / 255) comes with public and hidden tests.
"""

from .common import config_text
from .steps import add_question, add_written_question, insert_cells, replace_cells, set_title, set_written_question

NAME = "activation-sweep"
TITLE = "Fashion-MNIST: activations, hidden sizes, learning rates and normalisations compared"

CONFIG = config_text(NAME, "fashion-mnist", tiers=[(0.70, 2), (0.85, 1)])

INTRO = """\
**What this coursework asks.** Build a one-hidden-layer network from scratch, then find out
experimentally what matters: the non-linearity (sigmoid, ReLU, tanh), the size of the hidden layer
(64, 128, 150 units), the learning rate (0.01, 0.5, 0.85, 1) and the normalisation of the inputs (l1,
l2, or dividing by 255). For every configuration report a confusion matrix, precision, recall and F1
per class with their support and averages, and the loss curve.
"""

CLASS_DISTRIBUTION = """\
fig, ax = plt.subplots(figsize=(9, 3.2))
positions = np.arange(10)
ax.bar(positions - 0.2, np.bincount(train_labels, minlength=10), width=0.4, label="training")
ax.bar(positions + 0.2, np.bincount(test_labels, minlength=10), width=0.4, label="test")
ax.set_xticks(positions, CLASS_NAMES, rotation=30, ha="right")
ax.set_ylabel("images")
ax.set_title("Class distribution")
ax.legend()
plt.show()
"""

NORMALISE_PROMPT = """\
Implement `normalise`, the three input normalisations the sweep compares. Each image becomes a
column, flattened row by row, then: **l1** divides it by the sum of its pixels, **l2** by the square
root of the sum of its squared pixels, **255** by 255. An all-black image must stay a column of zeros
(no division by zero). No loops over images.
"""

NORMALISE_SOLUTION = '''def normalise(images, norm="l2"):
    """Images (m, 28, 28) uint8 -> X (784, m) float32; column i is image i flattened row by row, scaled.

    norm="l1":  divided by the sum of its pixels, so every non-black column sums to 1;
    norm="l2":  divided by sqrt(sum of its squared pixels), so every non-black column has length 1;
    norm="255": divided by 255, every value in [0, 1].
    An all-black image stays a column of zeros.
    """
    # BEGIN SOLUTION
    X = images.reshape(images.shape[0], -1).T.astype(np.float64)
    if norm == "255":
        return (X / 255.0).astype(np.float32)
    if norm == "l1":
        size = np.abs(X).sum(axis=0, keepdims=True)
    elif norm == "l2":
        size = np.sqrt((X * X).sum(axis=0, keepdims=True))
    else:
        raise ValueError(f"unknown norm {norm!r}: use 'l1', 'l2' or '255'")
    return (X / np.where(size > 0, size, 1.0)).astype(np.float32)
    # END SOLUTION'''

NORMALISE_TEST = '''def test_normalise_norms(normalise):
    import os
    import numpy as np
    assert normalise is not None, "normalise is not defined: run the cell that defines it"
    rng = np.random.default_rng(int(os.environ.get("NNASSIGN_SEED", "0")))
    images = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    images[-1] = 0
    out = {}
    for norm in ("l1", "l2", "255"):
        X = normalise(images, norm)
        assert X is not None, f"normalise(images, {norm!r}) returned None: not implemented yet?"
        X = np.asarray(X, dtype=np.float64)
        assert X.shape == (784, 6), f"normalise(images, {norm!r}) returned shape {X.shape}, expected (784, 6): one image per column"
        assert np.all(np.isfinite(X)), f"normalise(images, {norm!r}) gave nan/inf: an all-black image must stay zeros, not 0 / 0"
        assert np.all(X[:, -1] == 0), f"normalise(images, {norm!r}): the all-black image must stay a column of zeros"
        out[norm] = X[:, :-1]
    flat = images[:-1].reshape(5, -1).T.astype(np.float64)
    assert np.allclose(out["255"], flat / 255.0, atol=1e-6), "norm='255': column i must be image i flattened row by row, divided by 255"
    assert np.allclose(out["l1"].sum(axis=0), 1, atol=1e-5), "norm='l1': every column must sum to 1: divide each image by the sum of its own pixels (axis=0 of X), not of the whole batch"
    assert np.allclose(np.sqrt((out["l2"] ** 2).sum(axis=0)), 1, atol=1e-5), "norm='l2': every column must have Euclidean length 1: divide each image by the square root of the sum of its own squared pixels"
    for norm in ("l1", "l2"):
        ratio = out[norm][flat > 0] / flat[flat > 0] * np.ones_like(flat)[flat > 0]
        column_of = np.nonzero(flat > 0)[1]
        spread = max(np.ptp(ratio[column_of == j]) for j in range(5))
        assert spread < 1e-6 * ratio.max(), f"norm={norm!r}: each column must be its image times one number (the pixels flattened row by row, in order)"


test_normalise_norms(normalise)'''

NORMALISE_HIDDEN = '''# HIDDEN
def test_normalise_hidden(normalise):
    import os
    import numpy as np
    assert normalise is not None, "normalise is not defined"
    rng = np.random.default_rng(int(os.environ.get("NNASSIGN_SEED", "0")))
    m = int(rng.integers(3, 9))
    images = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
    images[int(rng.integers(0, m))] = 0
    for norm in ("l1", "l2", "255"):
        expected = np.zeros((784, m))
        for i, img in enumerate(images):
            v = img.ravel().astype(np.float64)
            size = {"l1": v.sum(), "l2": np.sqrt((v * v).sum()), "255": 255.0}[norm]
            expected[:, i] = v / size if size > 0 else 0.0
        got = normalise(images, norm)
        assert got is not None, "normalise returned None"
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == expected.shape, f"normalise(images, {norm!r}) returned shape {got.shape} for {m} images, expected {expected.shape}"
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-8), f"normalise(images, {norm!r}) is wrong for {m} random images (one of them all black)"


test_normalise_hidden(normalise)'''

SECTION = """\
## 8. The sweep

Every combination of 64, 128 and 150 hidden units, sigmoid, ReLU and tanh, and learning rates 0.01,
0.5, 0.85 and 1: 36 networks. To stay within the notebook's time budget each one trains
on a stratified subsample of 4000 training images for 3 epochs and is evaluated on 2000 validation images. First
the three normalisations on one configuration; the best of them feeds the sweep. Runs that diverge
(a loss of `nan`) or get stuck (loss near ln 10 ≈ 2.30, one class predicted for everything) are results
too: the confusion matrices show them at a glance.
"""

NORMALISATIONS = """\
SWEEP_TRAIN, SWEEP_VAL, SWEEP_EPOCHS = 4000, 2000, 3
keep, _ = stratified_split(train_labels[train_idx], fraction=SWEEP_TRAIN / len(train_idx), seed=1)
sweep_idx = train_idx[keep]                     # positions in train_images, every class in proportion
sweep_val_idx = val_idx[np.random.default_rng(2).permutation(len(val_idx))[:SWEEP_VAL]]
sweep_labels, sweep_val_labels = train_labels[sweep_idx], train_labels[sweep_val_idx]
Y_sweep, Y_sweep_val = one_hot(sweep_labels), one_hot(sweep_val_labels)

inputs, by_norm = {}, {}
with np.errstate(all="ignore"):
    for norm in ("255", "l1", "l2"):
        X_n, X_n_val = inputs[norm] = normalise(train_images[sweep_idx], norm), normalise(train_images[sweep_val_idx], norm)
        p, h = train(X_n, Y_sweep, X_n_val, Y_sweep_val, 128, 0.85, SWEEP_EPOCHS,
                     batch_size=64, seed=0, activation="relu", eval_every=10**9)
        by_norm[norm] = accuracy(predict(X_n_val, p), sweep_val_labels)
        print(f"normalisation {norm:>3}: values up to {X_n.max():.4f}, validation accuracy {by_norm[norm]:.3f}")
SWEEP_NORM = max(by_norm, key=by_norm.get)
print("the sweep uses", SWEEP_NORM)
"""

SWEEP = """\
X_sweep, X_sweep_val = inputs[SWEEP_NORM]
sweep = []
start = time.perf_counter()
with np.errstate(all="ignore"):  # a diverging run overflows; its results show how it ended
    for n_hidden in (64, 128, 150):
        for name in ("sigmoid", "relu", "tanh"):
            for rate in (0.01, 0.5, 0.85, 1.0):
                p, h = train(X_sweep, Y_sweep, X_sweep_val, Y_sweep_val, n_hidden, rate, SWEEP_EPOCHS,
                             batch_size=64, seed=0, activation=name, eval_every=10**9)
                pred = predict(X_sweep_val, p, activation=name)
                cm = confusion_matrix(sweep_val_labels, pred)
                sweep.append({"hidden": n_hidden, "activation": name, "lr": rate, "loss": h["train_loss"],
                              "cm": cm, "report": per_class_report(cm), "accuracy": accuracy(pred, sweep_val_labels)})
print(f"{len(sweep)} networks in {time.perf_counter() - start:.1f} s\\n")
print(f"{'hidden':>6} {'activation':>10} {'lr':>5} {'final loss':>10} {'accuracy':>8}")
for run in sweep:
    print(f"{run['hidden']:>6} {run['activation']:>10} {run['lr']:>5} {np.mean(run['loss'][-10:]):>10.3f} {run['accuracy']:>8.3f}")
best = max(sweep, key=lambda run: run["accuracy"])
print(f"\\nbest: {best['hidden']} hidden units, {best['activation']}, learning rate {best['lr']} -> {best['accuracy']:.3f}")
"""

REPORTS = """\
def print_report(cm, report, title):
    \"\"\"Precision, recall, F1 and support per class, then their macro and support-weighted averages.\"\"\"
    support = cm.sum(axis=1)
    print(title)
    print(f"{'':>14} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    for k, name in enumerate(CLASS_NAMES):
        print(f"{name:>14} {report['precision'][k]:9.3f} {report['recall'][k]:7.3f} {report['f1'][k]:6.3f} {support[k]:8d}")
    for label, weights in (("macro avg", None), ("weighted avg", support)):
        p, r, f = (np.average(report[key], weights=weights) for key in ("precision", "recall", "f1"))
        print(f"{label:>14} {p:9.3f} {r:7.3f} {f:6.3f} {support.sum():8d}")
    print()


for run in sweep:
    print_report(run["cm"], run["report"], f"{run['hidden']} hidden, {run['activation']}, learning rate {run['lr']}: "
                                           f"accuracy {run['accuracy']:.3f}")
"""

MATRICES = """\
fig, axes = plt.subplots(9, 4, figsize=(9, 20))
for ax, run in zip(axes.flat, sweep):
    ax.imshow(run["cm"], cmap="Blues")
    ax.set_title(f"{run['hidden']}, {run['activation']}, lr {run['lr']}: {run['accuracy']:.2f}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Confusion matrix of every configuration (rows: true class, columns: predicted)", y=1.0)
fig.tight_layout()
plt.show()

fig, axes = plt.subplots(3, 3, figsize=(13, 9), sharex=True)
for ax, (n_hidden, name) in zip(axes.flat, [(h, a) for h in (64, 128, 150) for a in ("sigmoid", "relu", "tanh")]):
    for run in sweep:
        if (run["hidden"], run["activation"]) == (n_hidden, name):
            ax.plot(*moving_average(run["loss"], window=10), label=f"lr {run['lr']}")
    ax.set_title(f"{n_hidden} hidden, {name}", fontsize=10)
    ax.set_ylim(0, 2.6)
    ax.legend(fontsize=7)
for ax in axes[-1]:
    ax.set_xlabel("weight updates")
fig.suptitle("Training loss of every configuration (moving average over 10 updates)")
fig.tight_layout()
plt.show()
"""

FULL_BATCH = """\
# Optional: full-batch gradient descent (every update uses all the images), as in the source coursework.
RUN_FULL_BATCH = True
if RUN_FULL_BATCH:
    X_full, Y_full = X_sweep[:, :1000], Y_sweep[:, :1000]
    with np.errstate(all="ignore"):
        p_full, h_full = train(X_full, Y_full, X_sweep_val, Y_sweep_val, 64, 1.0, 100, batch_size=X_full.shape[1],
                               seed=0, activation="sigmoid", eval_every=10)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(np.arange(1, 101), h_full["train_loss"], label="training loss (all 1000 images per update)")
    ax.plot(h_full["val_step"], h_full["val_loss"], "o-", label="validation loss")
    ax.set_xlabel("weight updates")
    ax.set_title("Full-batch gradient descent, 64 sigmoid units, learning rate 1")
    ax.legend()
    plt.show()
"""

STEPS = [
    (set_title, {"title": TITLE, "intro": INTRO}),
    (insert_cells, {"where": 'after:code:load_dataset\\(DATASET, "train"\\)', "cells": [
        ("markdown", "Are the classes balanced? A skewed distribution would make accuracy misleading."),
        ("code", CLASS_DISTRIBUTION)]}),
    (add_question, {"where": "after:def:preprocess", "name": "normalise", "points": 2, "prompt": NORMALISE_PROMPT,
                    "solution": NORMALISE_SOLUTION, "tests": [NORMALISE_TEST, NORMALISE_HIDDEN]}),
    (replace_cells, {"anchor": "markdown:^## 8\\.", "cells": [("markdown", SECTION)]}),
    (replace_cells, {"anchor": "code:for n_hidden in", "cells": [
        ("code", NORMALISATIONS), ("code", SWEEP), ("code", REPORTS), ("code", MATRICES),
        ("markdown", "### Optional: full-batch gradient descent"), ("code", FULL_BATCH)]}),
    (set_written_question, {"name": "written_q17",
                            "prompt": "Look at the sweep. Which configurations work best on this budget, and which "
                                      "fail, and how? Compare sigmoid, ReLU and tanh across the learning rates, and say "
                                      "whether 150 hidden units beat 64.",
                            "answer": """\
(Reference run: 3 epochs on 4000 images, l2 inputs, about 190 updates; your numbers differ a little.)
At learning rate 0.01 nothing gets far in 190 updates: the loss is still close to ln 10 ≈ 2.30 and the
accuracy 10-35%. From 0.5 on, tanh is best (about 0.73-0.75) and ReLU close behind (0.71-0.72), both
improving a little up to 0.85 and flat beyond. Sigmoid lags far behind at every rate (0.35-0.50) and
only improves as the rate grows: its slope is at most 0.25, so the gradient reaching W1 is several
times smaller, and its outputs are all positive, so the updates of a unit's weights share a sign and
zig-zag. l2-normalised inputs are small, which is why rates near 1 suit all three here (with /255
inputs ReLU at 0.85 diverges instead). The hidden size hardly matters: 64, 128 and 150 units end
within about a point of each other, because with this few updates the network is limited by
training time, not by capacity."""}),
    (add_written_question, {"where": "after:question:written_q17",
                            "prompt": "Which normalisation worked best here, l1, l2 or /255? Why do l1-normalised "
                                      "inputs learn so slowly with the same learning rate?",
                            "answer": """\
In the reference run l2 wins clearly (about 0.72 validation accuracy for 128 ReLU units at learning
rate 0.85), /255 reaches only about 0.34 and l1 stays at chance (0.10). l1 divides every image by the
sum of its 784 pixels, so the inputs are tiny (at most about 0.07, mostly 0.001): the pre-activations
barely leave zero and the gradient of W1, proportional to the inputs, is tiny too, so a learning rate
that suits other inputs takes almost no step. /255 inputs are up to ten times larger than l2's, so at
this high rate the first updates overshoot and many ReLU units die. l2 divides every image by its
length: values are moderate and every image has the same length, so bright and faint images look
alike to the network, which removes a nuisance (overall brightness). The best normalisation depends
on the learning rate it is paired with; whichever is used must be applied identically to training,
validation and test images."""}),
]

README = """\
Fashion-MNIST as an experiment: after building the network, students compare 36 configurations
(hidden size 64/128/150 x sigmoid/ReLU/tanh x learning rate 0.01/0.5/0.85/1) and three input
normalisations (l1, l2, /255, in a new graded question `normalise`), with the class distribution, a
confusion matrix, a per-class report with support and averages, and a loss curve for every
configuration, and an optional full-batch gradient descent. The sweep runs on a stratified
subsample of 4000 images for 3 epochs so the whole notebook stays under a minute; raise
`SWEEP_TRAIN` and `SWEEP_EPOCHS` in the notebook if your course allows more time.
"""

COVERAGE = [
    ("Fashion-MNIST, 60000/10000 images, 10 classes", "`dataset: fashion-mnist`; section 1"),
    ("class distribution plot", "'Class distribution' bar chart after loading"),
    ("one-hot labels, shuffling", "q1 (`one_hot`), q12 (`train` shuffles every epoch)"),
    ("l1, l2 and /255 normalisation", "question `normalise` (2 points, public and hidden tests); comparison cell in section 8"),
    ("hidden 64/128/150 x sigmoid/ReLU/tanh x lr 0.01/0.5/0.85/1", "section 8 sweep: 36 networks"),
    ("confusion matrix per configuration", "section 8, 9 x 4 grid of confusion matrices"),
    ("per-class report with support and averages", "section 8 reports: precision, recall, F1, support, macro and weighted averages"),
    ("loss curve per configuration", "section 8, 3 x 3 panels, one curve per learning rate"),
    ("optional full-batch gradient descent", "`RUN_FULL_BATCH` cell"),
    ("weights random, biases 0; clipping against log(0)", "q7 (`init_params`), q4 (`cross_entropy_loss` clips)"),
    ("fits the run budget", "stratified subsample of 4000 images, 3 epochs (benchmarks/bench_presets.py)"),
    ("discussion of the results", "Q17 (sweep) and Q18 (normalisations)"),
]

"""Preset "mnist-784-128": MNIST with a 784-128-10 ReLU/softmax network on z-scored inputs, and a report.

    CONFIG (assignment_config.yaml), STEPS (applied to the base solution), README, COVERAGE

The source handout prescribes everything: inputs standardised as (X - mu) / (sigma + eps), weights
W1 (128, 784) and W2 (10, 128) small and random, zero biases, ReLU then softmax, the cross-entropy,
the backward equations, plain gradient-descent updates and accuracy; the deliverable is a report
with training and test accuracy, the loss curve and sample predictions. Here `normalisation: zscore`
and `hidden_neurons: 128` in the config carry two of those choices to the notebook, its tests and
the grader.
"""

from .common import config_text
from .steps import add_test, insert_cells, set_hyperparameters, set_title, use_normalisation

NAME = "mnist-784-128"
TITLE = "MNIST with a 784-128-10 network, step by step"

CONFIG = config_text(NAME, "mnist", tiers=[(0.90, 2), (0.95, 1)], normalisation="zscore", hidden_neurons=128)

EQUATIONS = """\
### The seven steps of this assignment

1. **Preprocessing.** Flatten every image row by row into a column of 784 numbers and standardise
   every pixel over the images: $X_{\\text{norm}} = (X - \\mu)/(\\sigma + \\varepsilon)$, with $\\mu$ and
   $\\sigma$ that pixel's mean and standard deviation and a small $\\varepsilon$ (for example $10^{-5}$)
   so that pixels that are always blank do not divide by zero. In this notebook:
   `preprocess(images, method="zscore")`, used everywhere through `NORMALISATION`.
2. **Parameters.** $W_1 \\in \\mathbb{R}^{128\\times784}$ and $W_2 \\in \\mathbb{R}^{10\\times128}$ small and
   random, $b_1 \\in \\mathbb{R}^{128\\times1}$ and $b_2 \\in \\mathbb{R}^{10\\times1}$ **zero**.
3. **Forward pass.** $Z_1 = W_1A_0 + b_1$, $A_1 = \\max(0, Z_1)$, $Z_2 = W_2A_1 + b_2$,
   $A_2 = \\operatorname{softmax}(Z_2)$, where $A_0 = X$ and the softmax of a column $z$ is
   $e^{z_k}/\\sum_j e^{z_j}$.
4. **Loss.** $L = -\\frac{1}{m}\\sum_{i=1}^{m}\\sum_{j=1}^{10} y^{(i)}_j \\log A^{(i)}_{2,j}$.
5. **Backward pass.** $dZ_2 = A_2 - Y$, $dW_2 = \\frac1m dZ_2A_1^T$, $db_2 = \\frac1m\\sum dZ_2$;
   $dZ_1 = (W_2^TdZ_2)\\odot \\text{ReLU}'(Z_1)$ with $\\text{ReLU}'(z) = [z > 0]$,
   $dW_1 = \\frac1m dZ_1A_0^T$, $db_1 = \\frac1m\\sum dZ_1$. (This notebook puts the $\\frac1m$ into
   $dZ_2$ once, which gives the same gradients.)
6. **Update.** $W_\\ell \\leftarrow W_\\ell - \\alpha\\, dW_\\ell$ and $b_\\ell \\leftarrow b_\\ell - \\alpha\\, db_\\ell$ for
   both layers, with learning rate $\\alpha$.
7. **Evaluation.** Accuracy = correct predictions / number of samples.

The architecture is fixed at 784-128-10: `hidden_neurons = 128` is given, and a public test checks it.
"""

ZERO_BIASES_TEST = '''def test_init_biases_are_zero(init_params):
    import os
    import numpy as np
    assert init_params is not None, "init_params is not defined: run the cell that defines it"
    rng = np.random.default_rng(int(os.environ.get("NNASSIGN_SEED", "0")))
    n_hidden = int(rng.integers(3, 20))
    params = init_params(784, n_hidden, 10, seed=int(rng.integers(0, 1000)))
    assert params is not None, "init_params returned None: not implemented yet?"
    for key in ("b1", "b2"):
        b = np.asarray(params[key], dtype=np.float64)
        assert np.all(b == 0), f"{key} must start at zero (this assignment's step 2), found values up to {np.abs(b).max():.3g}"


test_init_biases_are_zero(init_params)'''

REPORT_INTRO = """\
## Report

The three items the report asks for: training and test accuracy, the loss curve, and sample predictions
with their actual and predicted labels.
"""

REPORT_ACCURACY = """\
train_pred = predict(X_train, params)
train_accuracy = accuracy(train_pred, Y_train.argmax(axis=0))
print(f"{'split':<12} {'images':>7} {'accuracy':>9}")
print(f"{'training':<12} {X_train.shape[1]:>7} {train_accuracy:>9.4f}")
print(f"{'test':<12} {X_test.shape[1]:>7} {test_accuracy:>9.4f}")
"""

REPORT_LOSS = """\
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(np.arange(1, len(history["train_loss"]) + 1), history["train_loss"], lw=0.5, alpha=0.4, label="training (per minibatch)")
ax.plot(*moving_average(history["train_loss"]), lw=2, label="training (moving average)")
ax.plot(history["val_step"], history["val_loss"], "o-", label="validation")
ax.set_xlabel("iterations (weight updates)")
ax.set_ylabel("cross-entropy loss")
ax.set_title("Loss curve")
ax.legend()
plt.show()
"""

REPORT_SAMPLES = """\
sample = np.random.default_rng(2).choice(len(test_labels), size=12, replace=False)
fig, axes = plt.subplots(2, 6, figsize=(11, 4.4))
for ax, i in zip(axes.flat, sample):
    ax.imshow(test_images[i], cmap="gray_r")
    ok = test_pred[i] == test_labels[i]
    ax.set_title(f"actual {test_labels[i]}, predicted {test_pred[i]}", fontsize=8, color="tab:green" if ok else "tab:red")
    ax.axis("off")
fig.suptitle("Sample predictions on the test set")
plt.show()
"""

STEPS = [
    (set_title, {"title": TITLE, "intro": EQUATIONS}),
    (use_normalisation, {"method": "zscore"}),
    (set_hyperparameters, {"hidden_neurons": 128, "learning_rate": 0.05, "epochs": 8, "fixed": ("hidden_neurons",)}),
    (add_test, {"at": "def:init_params", "source": ZERO_BIASES_TEST}),
    (insert_cells, {"where": "after:question:import_policy", "cells": [
        ("markdown", REPORT_INTRO), ("code", REPORT_ACCURACY), ("code", REPORT_LOSS), ("code", REPORT_SAMPLES)]}),
]

README = """\
MNIST with the network the handout prescribes, 784-128-10 with ReLU and softmax, trained on z-scored
inputs from zero biases, with a report of training and test accuracy, the loss curve and sample
predictions. Two config keys carry the handout's choices everywhere: `normalisation: zscore` (the
notebook's `NORMALISATION`, `grading.json`, and the grader's own training run, which preprocesses
through the student's `preprocess(images, method="zscore")`), and `hidden_neurons: 128` (the value is
given to students, `test_architecture_is_784_128_10` names it, the grader refuses another size).
"""

COVERAGE = [
    ("MNIST, flattened to 784-long columns", "`dataset: mnist`; q1 (`preprocess`)"),
    ("z-score inputs (X - mu) / (sigma + eps)", "`normalisation: zscore`: NORMALISATION in the notebook, grading.json, the grader's run"),
    ("784-128-10, ReLU hidden layer, softmax output", "`hidden_neurons: 128`; `test_architecture_is_784_128_10` (q12); q6, q3, q8"),
    ("W1, W2 small random; b1, b2 zero", "q7 with `test_init_biases_are_zero`"),
    ("the handout's equations (steps 1-7)", "markdown cell 'The seven steps' under the title"),
    ("cross-entropy loss, backward pass, updates", "q4, q5, q9, q10"),
    ("accuracy", "q13; tiers 90% (2 points) and 95% (1 point)"),
    ("report: training and test accuracy", "'Report' section, accuracy table"),
    ("report: loss curve (loss vs iterations)", "'Report' section, loss curve; learning curves in section 6"),
    ("report: sample predictions, actual and predicted labels", "'Report' section, 12 test images"),
]

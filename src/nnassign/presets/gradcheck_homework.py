"""Preset "gradcheck-homework": Fashion-MNIST with gradient checking, validation every 500 updates,
test curves and a look at the mistakes.

    CONFIG (assignment_config.yaml), STEPS (applied to the base solution), README, COVERAGE

The source homework asks to plot random images, keep about 50 % of every class, scale to [0, 1]
(optionally [-1, 1]), replot after preprocessing and subsampling, check backprop with finite
differences (eps 1e-4, relative error below 1e-5), validate every 500 weight updates, plot training
loss and error per update and test loss and error every 500 updates, and show 8 right and 8 wrong
images. The base notebook has most of it; the steps add the rest.
"""

from .common import config_text
from .steps import add_written_question, edit_cell, insert_cells, set_title

NAME = "gradcheck-homework"
TITLE = "Fashion-MNIST from scratch: gradient checking and learning curves"

CONFIG = config_text(NAME, "fashion-mnist", tiers=[(0.70, 2), (0.85, 1)])

INTRO = """\
**What this homework asks.** Look at the data; keep half of every class for training and the other half
for validation; scale the pixels to [0, 1] (or try [-1, 1]); check that images and labels still match
after preprocessing and after subsampling; write the layers, the loss and their backward passes;
**check the gradients numerically** ($\\varepsilon = 10^{-4}$, relative error below $10^{-5}$); train
with minibatches of 64, **validating every 500 weight updates**; plot training loss and error per
update and validation and test loss and error every 500 updates; and look at 8 images the network
gets right and 8 it gets wrong.
"""

AFTER_SPLIT = """\
# Ten random columns of the training part, as the network will see them, labels from Y_train.
after_split = np.random.default_rng(3).choice(X_train.shape[1], size=10, replace=False)
fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
for ax, j in zip(axes.flat, after_split):
    ax.imshow(X_train[:, j].reshape(28, 28), cmap="gray_r")
    ax.set_title(f"column {j}: {CLASS_NAMES[int(Y_train[:, j].argmax())]}", fontsize=9)
    ax.axis("off")
fig.suptitle("Ten random images after preprocessing and subsampling (the 50% training part)")
plt.show()
"""

SYMMETRIC = """\
# Optional: train on [-1, 1] instead of [0, 1]. The grader always trains and measures with the
# assignment's normalisation ([0, 1]), so keep this False in the notebook you submit.
SYMMETRIC_INPUTS = False
if SYMMETRIC_INPUTS:
    X_train, X_val, X_test = 2 * X_train - 1, 2 * X_val - 1, 2 * X_test - 1
print(f"training inputs in [{X_train.min():.1f}, {X_train.max():.1f}]")
"""

GRADCHECK = """\
EPS, TOLERANCE = 1e-4, 1e-5
for name in ("relu", "sigmoid", "tanh"):
    error = gradient_check(check_X, check_Y, init_params(784, 4, 10, seed=2), activation=name, eps=EPS)
    verdict = "ok" if error < TOLERANCE else "TOO LARGE: look for a bug in backprop"
    print(f"eps = {EPS:g}  {name:8s} relative error {error:.2e}  ({verdict}, tolerance {TOLERANCE:g})")
"""

TEST_CURVES = """\
# The same training run (same seed, same minibatches), this time evaluated on the test set every 500
# updates: train is deterministic, so its parameters follow exactly the run above.
_, test_history = train(X_train, Y_train, X_test, one_hot(test_labels), hidden_neurons, learning_rate, epochs,
                        batch_size=BATCH_SIZE, seed=0, eval_every=500)
same = np.allclose(test_history["train_loss"], history["train_loss"])
print("same training run as above:", same)

fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(12, 4))
for ax, key, title in ((ax_loss, "loss", "cross-entropy loss"), (ax_err, "error", "error rate")):
    ax.plot(*moving_average(history["train_" + key]), lw=1.5, label="training (moving average of 50 updates)")
    ax.plot(history["val_step"], history["val_" + key], "o-", label="validation, every 500 updates")
    ax.plot(test_history["val_step"], test_history["val_" + key], "s--", label="test, every 500 updates")
    ax.set_xlabel("weight updates")
    ax.set_title(title)
    ax.legend()
plt.show()
"""

STEPS = [
    (set_title, {"title": TITLE, "intro": INTRO}),
    (insert_cells, {"where": "after:code:^train_idx, val_idx = stratified_split\\(", "cells": [
        ("markdown", "The same check after subsampling: random images of the training part, rebuilt from its columns."),
        ("code", AFTER_SPLIT), ("code", SYMMETRIC)]}),
    (insert_cells, {"where": "after:code:gradient_check\\(check_X", "cells": [
        ("markdown", "The homework's own criterion: centred differences with $\\varepsilon = 10^{-4}$ must agree with "
                     "backprop to a relative error below $10^{-5}$."),
        ("code", GRADCHECK)]}),
    (edit_cell, {"anchor": "code:^EVAL_EVERY\\s*=", "old": r"^EVAL_EVERY\s*=.*$",
                 "new": "EVAL_EVERY = 500  # validate every 500 weight updates"}),
    (insert_cells, {"where": "after:question:written_q15", "cells": [
        ("markdown", "### Test loss and error every 500 updates"), ("code", TEST_CURVES)]}),
    (add_written_question, {"where": "after:code:test_history = train\\(",
                            "prompt": "Compare the test curves with the training and validation curves. Is the "
                                      "gap what you expected, and why?",
                            "answer": """\
The test and validation curves lie almost on top of each other: both are images the network never
trains on, drawn from the same distribution, so they estimate the same thing (the small difference
is sampling noise of a few thousand images). Both stay a little above the smoothed training loss and
error, and the gap widens slowly with more updates: the network fits its own training images better
than new ones, the beginning of over-fitting. That is expected; a test curve far below the training
curve would mean a bug (for example test images leaking into training), and a test loss that rises
while the training loss falls would say to stop earlier."""}),
    (add_written_question, {"where": "after:question:written_q16",
                            "prompt": "The training part keeps 50% of every class. How would you find out how many "
                                      "training images this network really needs? What do you expect?",
                            "answer": """\
Train the same network on growing, still stratified, subsets (for example 1%, 5%, 10%, 25%, 50% of
every class) with everything else fixed, and plot validation accuracy against the number of training
images (a learning curve). Accuracy rises quickly at first and then flattens: a few thousand images
already give most of the accuracy, and doubling the data late on gains a point or two. Where the
curve flattens tells how many samples are enough; if it is still rising at 50%, more data would help
more than more epochs."""}),
]

README = """\
A Fashion-MNIST homework centred on checking your work: the images before and after preprocessing and
after the 50% per-class subsample, a numerical gradient check at the homework's own tolerance (eps
1e-4, relative error below 1e-5), validation every 500 weight updates, training loss and error per
update, validation and test loss and error every 500 updates, and 8 correctly and 8 wrongly
classified test images. The source allows PyTorch for downloading and batching the data only; here
`nn_data.py` loads the data with NumPy, so the import policy can forbid torch altogether (add
`torchvision` to `import_policy.allowed_for_data` if your course loads data with it).
"""

COVERAGE = [
    ("plot 8-10 random images with labels", "section 1: ten random training images"),
    ("keep ~50% of each class (subsample images and labels)", "q2 (`stratified_split`, fraction 0.5)"),
    ("normalise to [0, 1]; optionally [-1, 1]", "q1 (`preprocess`); optional `SYMMETRIC_INPUTS` cell"),
    ("replot images after preprocessing and after subsampling", "section 2 replot; 'after subsampling' cell"),
    ("batches of 64", "`BATCH_SIZE = 64` in the training cell"),
    ("fully connected layer, ReLU, softmax, cross-entropy: forward and backward", "q3-q9"),
    ("gradient check, eps 1e-4, relative error < 1e-5", "q11 (`gradient_check`), the eps = 1e-4 cell"),
    ("train, tune iterations and learning rate", "q12 (train, hyperparameters), Q14"),
    ("validation loss and error every 500 updates", "`EVAL_EVERY = 500`; `history['val_*']`"),
    ("training loss and error per update, described", "learning curves, Q15"),
    ("test loss and error every 500th update, compared", "'Test loss and error every 500 updates' cell, Q18"),
    ("8 right and 8 wrong images, observations", "section 7 grid, Q16"),
    ("how many samples are needed", "Q19"),
]

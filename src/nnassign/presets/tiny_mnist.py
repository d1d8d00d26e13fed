"""Preset "tiny-mnist": MNIST with a 784-10-10 network, 10 hidden units, at 88 % or better.

    CONFIG (assignment_config.yaml), STEPS (applied to the base solution), README, COVERAGE

The source is a repository reporting 88 % on MNIST from a two-layer NumPy network whose hidden layer
has only 10 ReLU units, softmax outputs, and the usual forward and backward equations. The preset
fixes the architecture at 10 hidden units (config `hidden_neurons: 10`: the notebook gives the
value, a public test names it, the grader refuses another size) and asks for that 88 %.
"""

from .common import config_text
from .steps import add_written_question, insert_cells, set_hyperparameters, set_title

NAME = "tiny-mnist"
TITLE = "MNIST with ten hidden neurons"

CONFIG = config_text(NAME, "mnist", tiers=[(0.88, 3)], hidden_neurons=10)

INTRO = """\
**The goal.** Ten hidden ReLU units are enough to read handwritten digits surprisingly well. Build the
network $784 \\to 10 \\to 10$ from scratch (ReLU in the hidden layer, softmax at the output), train it
with gradient descent, and reach **at least 88%** accuracy on the 10 000 MNIST test images. The size
of the hidden layer is fixed: `hidden_neurons = 10` is given, and a public test checks it.
"""

PARAMETER_COUNT = """\
n_weights = {name: value.size for name, value in params.items()}
print("trainable numbers per array:", n_weights, "total:", sum(n_weights.values()))
print(f"for comparison, 128 hidden units would need {128 * 784 + 128 + 10 * 128 + 10} numbers")
"""

STEPS = [
    (set_title, {"title": TITLE, "intro": INTRO}),
    (set_hyperparameters, {"hidden_neurons": 10, "learning_rate": 0.3, "epochs": 10, "fixed": ("hidden_neurons",)}),
    (insert_cells, {"where": "after:question:import_policy", "cells": [
        ("markdown", "How small is this network? Count what it learns."), ("code", PARAMETER_COUNT)]}),
    (add_written_question, {"where": "after:question:import_policy",
                            "prompt": "Your network has fewer than 8 000 trainable numbers. What limits its accuracy: the "
                                      "number of hidden units, the number of updates, or something else? What do you "
                                      "expect from 128 hidden units, and what would it cost?",
                            "answer": """\
The ten hidden units are the bottleneck: every image is squeezed into ten numbers before the output
layer decides, so only ten learnt "features" (mixtures of strokes) can separate the ten digits. The
training loss flattens near 0.25-0.3 and the validation error stops improving well before the last
epoch, so more updates help little; the capacity is used up (784·10 + 10 + 10·10 + 10 = 7 960
numbers). With 128 units (101 770 numbers, about 13 times as many) the same training reaches about
97%, at roughly ten times the cost per update and with more risk of over-fitting when data are
scarce. The ReLU units can also die: with only ten of them, losing one is a tenth of the layer."""}),
]

README = """\
MNIST with the smallest network that still works: 784 inputs, 10 hidden ReLU units, 10 softmax
outputs, trained from scratch to at least 88% test accuracy. The architecture is part of the
assignment: `hidden_neurons: 10` in the config reaches the notebook (the value is given to students),
a public test that names the architecture, `grading.json`, and the grader's own training run, which
refuses any other size.
"""

COVERAGE = [
    ("MNIST, shuffled, split into training and testing", "`dataset: mnist`; sections 1 and 3 (stratified, shuffled split)"),
    ("784-10-10: 10 hidden ReLU units, softmax output", "`hidden_neurons: 10` (config), `test_architecture_is_784_10_10` (q12), grader refuses other sizes"),
    ("forward and backward propagation equations", "section 4 (forward q8, backprop q9) with the equations in markdown"),
    ("one-hot labels, derivative of ReLU, parameter updates", "q1, q6, q10"),
    ("gradient descent, predictions and accuracy", "q12 (train), q13 (predict, accuracy)"),
    ("88% accuracy", "`accuracy_tiers: [0.88 -> 3 points]`, q14"),
    ("how small the network is", "parameter count cell and written question Q18"),
]

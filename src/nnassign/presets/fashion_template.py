"""Preset "fashion-template": the Fashion-MNIST template task with 17 written questions.

    CONFIG (assignment_config.yaml), STEPS (applied to the base solution), README, COVERAGE

The source hands out a commented template: complete forward() with a softmax output, the
cross-entropy loss and its derivative, backprop with that derivative, then pick hidden_neurons,
learning rate and epochs to pass 60 % test accuracy, and answer 17 questions [Q1]..[Q17] in the
comments. The base notebook already is that template in Otter form; this preset sets the single
60 % tier and states the task up front.
"""

from .common import config_text
from .steps import set_title

NAME = "fashion-template"
TITLE = "Fashion-MNIST from a template: forward, loss, backprop, and 17 questions"

CONFIG = config_text(NAME, "fashion-mnist", tiers=[(0.60, 3)], extra_comment="""
The source task hands out the data as a zip of class folders 0-9; to grade on exactly that copy:
  nnassign data import fashion.zip --dataset fashion-course
and set  dataset: {name: fashion-course, path: data/fashion-course}""")

INTRO = """\
**The task in one paragraph.** Starting from this notebook, complete `forward` so that it ends in a
softmax layer and gives a probability for every class; make `cross_entropy_loss` and
`cross_entropy_derivative` return real values; make `backprop` start from that derivative; then choose
`hidden_neurons`, `learning_rate` and `epochs` so that the trained network labels **at least 60%** of
the test images correctly. Along the way answer the seventeen questions **[Q1]**–**[Q17]**. Expect to
explain any line of this notebook, yours or ours, in a short interview afterwards: understanding it is
the point of the exercise.
"""

STEPS = [
    (set_title, {"title": TITLE, "intro": INTRO}),
]

README = """\
The Fashion-MNIST template task: students complete the forward pass with a softmax output, the
cross-entropy loss and its derivative, backpropagation, and tune three hyperparameters past a 60%
test-accuracy threshold, answering seventeen written questions on the way. The written questions
cover the topics of the source template: what the data and labels look like, why inputs are scaled,
one-hot labels, softmax and its stability, the cross-entropy and its gradient, activations,
initialisation, the shapes in backprop, gradient checking, minibatches and learning rates,
over-fitting, and reading a confusion matrix.
"""

COVERAGE = [
    ("Fashion-MNIST, 10 classes, 28x28 images", "`dataset: fashion-mnist`; section 1 of the notebook"),
    ("only NumPy and Matplotlib", "`import_policy` (5 points), checked statically and at run time"),
    ("forward() ending in a softmax layer", "questions q3 (softmax) and q8 (forward)"),
    ("cross_entropy_loss() and cross_entropy_derivative()", "questions q4 and q5"),
    ("backprop() using the cross-entropy derivative", "question q9, checked against finite differences"),
    ("hidden_neurons, learning rate and epochs past 60%", "q12 (hyperparameters) and q14: one tier, 60%, 3 points"),
    ("17 questions [Q1]..[Q17]", "written_q1..written_q17, scored with `nnassign review`"),
    ("data as a zip of class folders 0-9", "`nnassign data import` + `dataset: {name, path}` (see the config's comment)"),
]

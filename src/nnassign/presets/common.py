"""What every preset's assignment_config.yaml shares: one function writing the file's text.

    CONFIG = config_text("tiny-mnist", "mnist", tiers=[(0.88, 3)], hidden_neurons=10)

Why: the instructor reads and edits this file, so it is written as text with comments (not dumped
from a dict), and the parts no preset changes (limits, seeds, import policy) are written once.
"""


def config_text(name, dataset, tiers, normalisation="scale", hidden_neurons=None, written_points=1,
                extra_comment=""):
    tier_lines = "".join(f"  - min_accuracy: {t:.2f}\n    points: {p}\n" for t, p in tiers)
    hidden = (f"hidden_neurons: {hidden_neurons}               # fixed architecture 784-{hidden_neurons}-10: "
              "the notebook's value, a public test and the grader all hold to it\n") if hidden_neurons else ""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in extra_comment.strip().splitlines())
    return f"""# assignment_config.yaml of the "{name}" preset (made by `nnassign new --preset {name}`).
# `nnassign release` reads it; unknown keys or bad values stop the build naming the key.
{comment}name: {name}
dataset: {dataset}                 # fashion-mnist | mnist | {{name: NAME, path: data/NAME}} (nnassign data import)
solution: solution/nn_from_scratch.ipynb
normalisation: {normalisation}             # scale (/255) | zscore: how the notebook and the grader preprocess images
{hidden}
# Points per autograded question (Otter question names in the solution). The accuracy question is
# worth its tiers, import_policy its penalty, written questions written_points.
points: {{}}
written_points: {written_points}                 # a number, or e.g. {{written_q3: 2, default: 1}}

# Test accuracy of the network the grader trains with the student's own train() and hyperparameters.
accuracy_tiers:
{tier_lines}
limits:                           # per submission, enforced by `nnassign grade`
  timeout_seconds: 300
  cpu_seconds: 600
  memory_mb: 4096
  output_mb: 16
  processes: 64

seeds:
  public: 0
  secret_env: NNASSIGN_SECRET

import_policy:
  forbidden: [torch, torchvision, tensorflow, keras, sklearn, jax, flax, mxnet, paddle, theano,
              lightgbm, xgboost, autograd, cupy]
  allowed_for_data: []
  penalty_points: 5

submissions:
  id_pattern: '^(?P<id>[^_.]+)'
"""

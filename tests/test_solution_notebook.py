"""The solution notebook as a whole.

* It runs top to bottom in a real Jupyter kernel (on a subset of the data) and shows what the
  assignment asks for: figures, the per-class table, the experiment table, the test accuracy.
* `otter assign` turns it into a student and an autograder version; every autograder test passes
  against the executed notebook, the student version holds no solutions and no hidden tests.
* Every test can fail: against the student stubs each one fails with a plain assertion, and each
  common mistake below makes a public test fail with its own message.
"""

import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from otter.test_files import ExceptionTestFile

from nnassign.reference import load_reference

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solution" / "nn_from_scratch.ipynb"
SUBSET = 3000  # training images used when the notebook runs in the test
KERNEL_SEED = "20240917"  # a non-default NNASSIGN_SEED, as the grader would use

# (public, hidden) test functions per code question
EXPECTED_TESTS = {
    "q1": (3, 2), "q2": (2, 1), "q3": (2, 1), "q4": (2, 1), "q5": (1, 1), "q6": (2, 1), "q7": (2, 1),
    "q8": (2, 1), "q9": (3, 1), "q10": (1, 1), "q11": (2, 1), "q12": (5, 3), "q13": (4, 1), "q14": (1, 0),
    "import_policy": (1, 0),
}


@pytest.fixture(autouse=True)
def checks_importable(monkeypatch):
    """Public checks `import nn_data` (golden values), hidden ones `import nn_checks`, as next to the notebook."""
    from nnassign import nn_data
    monkeypatch.setitem(sys.modules, "nn_data", nn_data)
    monkeypatch.syspath_prepend(str(SOLUTION.parent))


def run_test_file(path, env):
    """[(test function name, hidden, passed, message)] for one Otter exception-based test file."""
    test_file = ExceptionTestFile.from_file(str(path))
    test_file.run(env)
    return [(r.test_case.body.test_func.__name__, r.test_case.hidden, r.passed, r.message)
            for r in test_file.test_case_results]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`otter assign` output (student/ and autograder/) for the solution notebook."""
    source = tmp_path_factory.mktemp("assign-source")
    shutil.copy(SOLUTION, source / SOLUTION.name)
    # A real file: otter assign refuses the symlink, whose target lies outside the notebook's folder.
    shutil.copy((SOLUTION.parent / "nn_data.py").resolve(), source / "nn_data.py")
    shutil.copy(SOLUTION.parent / "nn_checks.py", source / "nn_checks.py")   # autograder_files
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", SOLUTION.name, str(out)],
        cwd=source, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def executed(dist, data_root, tmp_path_factory):
    """The solution notebook executed in a kernel, with the autograder tests run at the end."""
    work = tmp_path_factory.mktemp("run")
    shutil.copy((SOLUTION.parent / "nn_data.py").resolve(), work / "nn_data.py")
    shutil.copy(SOLUTION.parent / "nn_checks.py", work / "nn_checks.py")   # the hidden tests import it
    nb = nbformat.read(SOLUTION, as_version=4)
    runner = f"""
import glob, json, os
from otter.test_files import ExceptionTestFile
_results = {{}}
for _path in sorted(glob.glob(os.path.join({str(dist / "autograder" / "tests")!r}, "*.py"))):
    _file = ExceptionTestFile.from_file(_path)
    _file.run(globals())
    _results[_file.name] = [[r.test_case.body.test_func.__name__, r.test_case.hidden, r.passed, r.message]
                            for r in _file.test_case_results]
print("OTTER-RESULTS " + json.dumps(_results))
"""
    nb.cells.append(nbformat.v4.new_code_cell(runner))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNASSIGN_SUBSET", str(SUBSET))
        mp.setenv("NNASSIGN_SEED", KERNEL_SEED)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}})
        client.execute()
    return nb


def stream_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream")


def cell_output(nb, fragment):
    """Printed output of the (single) code cell whose source contains `fragment`."""
    cells = [c for c in nb.cells if c.cell_type == "code" and fragment in c.source]
    assert len(cells) == 1, f"expected one code cell containing {fragment!r}, found {len(cells)}"
    return stream_text(cells[0])


# --- running the notebook ---------------------------------------------------------------------------

def test_notebook_runs_without_errors(executed):
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(executed.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    stderr = [stream for c in executed.cells if c.cell_type == "code"
              for stream in [o for o in c.get("outputs", []) if o["output_type"] == "stream" and o["name"] == "stderr"]]
    assert not stderr, [s["text"][:300] for s in stderr]


def test_notebook_draws_its_figures(executed):
    figures = [c.source.splitlines()[0] for c in executed.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    # random images, the same after preprocessing, activations, learning curves, right/wrong, confusion matrix
    assert len(figures) == 6, figures


def test_notebook_reports_results(executed):
    accuracy = re.search(r"test accuracy: (0\.\d+)", cell_output(executed, "test_accuracy = accuracy("))
    assert accuracy and float(accuracy.group(1)) >= 0.6
    table = cell_output(executed, "{'class':>12}")
    assert "precision" in table and "recall" in table
    for name in ("T-shirt/top", "Trouser", "Ankle boot"):
        assert re.search(rf"{re.escape(name)}\s+0\.\d{{3}}\s+0\.\d{{3}}\s+0\.\d{{3}}\s+\d+", table)
    experiment = cell_output(executed, "results.append(")
    assert "18 runs" in experiment and "best:" in experiment
    rows = re.findall(r"^\s*(32|128)\s+(relu|sigmoid|tanh)\s+", experiment, flags=re.M)
    assert len(rows) == 18
    checks = re.findall(r"largest relative error: ([0-9.e+-]+)", cell_output(executed, "gradient_check(check_X"))
    assert len(checks) == 3 and all(float(e) < 1e-6 for e in checks)
    assert re.search(r"\d+ updates in [0-9.]+ s", cell_output(executed, "EVAL_EVERY = min("))


def test_autograder_tests_pass_on_the_solution(executed):
    text = stream_text(executed.cells[-1])
    results = json.loads(text.split("OTTER-RESULTS ", 1)[1])
    failed = {q: [(name, message) for name, _, passed, message in cases if not passed] for q, cases in results.items()}
    assert not any(failed.values()), failed
    counts = {q: (sum(not h for _, h, _, _ in cases), sum(h for _, h, _, _ in cases)) for q, cases in results.items()}
    assert counts == EXPECTED_TESTS


# --- the written questions and the release ---------------------------------------------------------

def test_written_questions_appear_once_each():
    nb = nbformat.read(SOLUTION, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    tags = re.findall(r"\[Q(\d+)\]", text)
    assert sorted(map(int, tags)) == list(range(1, 18))
    configs = [c.source for c in nb.cells if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
    written = [s for s in configs if "manual: true" in s]
    assert [re.search(r"name: (\S+)", s).group(1) for s in written] == [f"written_q{k}" for k in range(1, 18)]
    for k in range(1, 18):  # each prompt starts with its tag, right after its question marker
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and f"name: written_q{k}\n" in c.source + "\n")
        assert nb.cells[index + 1].cell_type == "markdown" and nb.cells[index + 1].source.startswith(f"**[Q{k}]**")
        assert nb.cells[index + 2].source.startswith("# BEGIN SOLUTION") and nb.cells[index + 3].cell_type == "markdown"


def test_student_release_has_no_solutions_or_hidden_tests(dist):
    student = nbformat.read(dist / "student" / SOLUTION.name, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    for leak in ("BEGIN SOLUTION", "# HIDDEN", "Z.max(axis=0, keepdims=True)", "np.add.at", "rng.permutation(m)",
                 "hidden_neurons = 128", "the one-hot $y$ sums to 1", "He initialisation) keeps", "ln 10 \\approx 2.303"):
        assert leak not in text, leak
    assert "hidden_neurons = ...\nlearning_rate = ...\nepochs = ..." in text
    assert text.count("_Type your answer here, replacing this text._") == 17
    for k in range(1, 18):
        assert f"**[Q{k}]**" in text
    for path in (dist / "student" / "tests").glob("*.py"):
        source = path.read_text()
        assert "hidden=True" not in source
    public = {p.stem: len(re.findall(r"^def test_", p.read_text(), flags=re.M)) for p in (dist / "student" / "tests").glob("*.py")}
    assert public == {q: n for q, (n, _) in EXPECTED_TESTS.items()}


# --- every test can fail ---------------------------------------------------------------------------

def test_every_test_fails_cleanly_on_the_student_stubs(dist, data_root, monkeypatch):
    monkeypatch.syspath_prepend(str(dist / "autograder"))
    stubs = load_reference(dist / "student" / SOLUTION.name)
    assert stubs["softmax"](np.zeros((10, 2))) is None and stubs["hidden_neurons"] is Ellipsis
    env = dict(stubs, params=None)
    for path in sorted((dist / "autograder" / "tests").glob("*.py")):
        for name, hidden, passed, message in run_test_file(path, env):
            assert not passed, f"{path.stem}/{name} passes on an empty notebook"
            assert "AssertionError:" in message, f"{path.stem}/{name} crashed instead of explaining:\n{message}"
            if not hidden:
                assert re.search(r"returned None|not set|not defined|not right yet|train the network first", message), message


def test_accuracy_threshold_and_import_policy(dist, data_root, monkeypatch, tmp_path):
    ref = load_reference()
    monkeypatch.syspath_prepend(str(dist / "autograder"))
    monkeypatch.chdir(tmp_path)
    tests = dist / "autograder" / "tests"

    def outcome(params, question="q14"):
        env = dict(ref, params=params)
        return {name: (passed, message) for name, _, passed, message in run_test_file(tests / f"{question}.py", env)}

    from nnassign import nn_data

    images, labels = nn_data.load_dataset("fashion-mnist", "train")
    X, Y = ref["preprocess"](images[:3000]), ref["one_hot"](labels[:3000])
    trained, _ = ref["train"](X, Y, X[:, :500], Y[:, :500], 32, 0.1, 4, seed=0, eval_every=10**6)
    assert outcome(trained)["test_accuracy_threshold"][0]
    passed, message = outcome(ref["init_params"](784, 32, 10, seed=0))["test_accuracy_threshold"]
    assert not passed and re.search(r"test accuracy 0\.\d{4} is below the required 0\.60", message)
    # The dataset comes from the release's grading.json (the tiers become separate tests: test_release.py).
    (tmp_path / "grading.json").write_text(json.dumps({"dataset": "mnist"}))
    passed, message = outcome(trained)["test_accuracy_threshold"]  # a Fashion network scores badly on digits
    assert not passed and "below the required 0.60" in message

    policy = lambda params: outcome(params, "import_policy")["test_only_numpy_and_matplotlib"]  # noqa: E731
    (tmp_path / "grading.json").write_text(json.dumps({"dataset": "fashion-mnist"}))
    assert policy(trained)[0]
    passed, message = policy(None)  # an untrained (untouched) notebook earns nothing here
    assert not passed and "train the network first" in message
    passed, message = policy(ref["init_params"](784, 32, 10, seed=0))  # nor does a network that learned nothing
    assert not passed and "classifies only" in message
    monkeypatch.setitem(sys.modules, "sklearn", types.ModuleType("sklearn"))
    passed, message = policy(trained)
    assert not passed and "sklearn" in message
    # The release's grading.json may give its own list of forbidden modules.
    (tmp_path / "grading.json").write_text(json.dumps({"dataset": "fashion-mnist", "forbidden_modules": ["fakelib"]}))
    assert policy(trained)[0]
    monkeypatch.setitem(sys.modules, "fakelib", types.ModuleType("fakelib"))
    passed, message = policy(trained)
    assert not passed and "the notebook imported fakelib" in message


# Each common mistake: (question, replacement source, fragment of the message a public test gives).
MISTAKES = {
    "one_hot transposed": ("q1", """
def one_hot(labels, n_classes=10):
    return np.eye(n_classes, dtype=np.float32)[np.asarray(labels)]
""", "samples are columns, so Y must be (10, m)"),
    "one_hot holds the label values": ("q1", """
def one_hot(labels, n_classes=10):
    labels = np.asarray(labels)
    Y = np.zeros((n_classes, labels.size), dtype=np.float32)
    Y[labels, np.arange(labels.size)] = labels
    return Y
""", "labels not one-hot"),
    "pixels not scaled": ("q1", """
def preprocess(images, method="scale"):
    return images.reshape(len(images), -1).T.astype(np.float32)
""", "divide by 255"),
    "flattened with reshape(784, m)": ("q1", """
def preprocess(images, method="scale"):
    return images.reshape(784, len(images)).astype(np.float32) / 255
""", "mixes pixels of different images"),
    "samples as rows": ("q1", """
def preprocess(images, method="scale"):
    return images.reshape(len(images), -1).astype(np.float32) / 255
""", "X must be (784, m) - transpose it"),
    "float16 pixels": ("q1", """
def preprocess(images, method="scale"):
    return (images.reshape(len(images), -1).T / 255).astype(np.float16)
""", "float32 (half the memory) or float64"),
    "zscore per image": ("q1", """
def preprocess(images, method="scale"):
    X = images.reshape(len(images), -1).T.astype(np.float32) / 255
    if method == "zscore":
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    return X
""", "each image (column) was standardised"),
    "zscore without epsilon": ("q1", """
def preprocess(images, method="scale"):
    X = images.reshape(len(images), -1).T.astype(np.float64) / 255
    if method == "zscore":
        X = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    return X.astype(np.float32)
""", "add a small epsilon to the std"),
    "split not stratified": ("q2", """
def stratified_split(labels, fraction=0.5, seed=0):
    order = np.random.default_rng(seed).permutation(len(labels))
    n = int(round(fraction * len(labels)))
    return np.sort(order[:n]), np.sort(order[n:])
""", "split each class separately"),
    "split overlaps": ("q2", """
def stratified_split(labels, fraction=0.5, seed=0):
    rng = np.random.default_rng(seed)
    train = [rng.permutation(np.flatnonzero(labels == k))[:int(round(fraction * np.sum(labels == k)))] for k in np.unique(labels)]
    return np.concatenate(train), np.arange(len(labels))
""", "share indices"),
    "split takes the first samples of each class": ("q2", """
def stratified_split(labels, fraction=0.5, seed=0):
    train, val = [], []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        n = int(round(fraction * idx.size))
        train.append(idx[:n])
        val.append(idx[n:])
    return np.concatenate(train), np.concatenate(val)
""", "first samples of every class"),
    "split ignores the seed": ("q2", """
def stratified_split(labels, fraction=0.5, seed=0):
    train, val = [], []
    for k in np.unique(labels):
        idx = np.random.permutation(np.flatnonzero(labels == k))
        n = int(round(fraction * idx.size))
        train.append(idx[:n])
        val.append(idx[n:])
    return np.concatenate(train), np.concatenate(val)
""", "the same seed gave two different splits"),
    "softmax over axis 1": ("q3", """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
""", "softmax normalised over axis=1 instead of axis=0"),
    "softmax without the max": ("q3", """
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)
""", "make the largest exponent 0"),
    "loss summed": ("q4", """
def cross_entropy_loss(A, Y):
    return float(-np.sum(Y * np.log(np.clip(A, 1e-12, 1))))
""", "sum instead of mean"),
    "loss averaged over every entry": ("q4", """
def cross_entropy_loss(A, Y):
    return float(-np.mean(Y * np.log(np.clip(A, 1e-12, 1))))
""", "10x too small"),
    "loss without minus sign": ("q4", """
def cross_entropy_loss(A, Y):
    return float(np.sum(Y * np.log(np.clip(A, 1e-12, 1))) / Y.shape[1])
""", "missing minus sign"),
    "loss not clipped": ("q4", """
def cross_entropy_loss(A, Y):
    return float(-np.sum(Y * np.log(A)) / Y.shape[1])
""", "clip A"),
    "derivative without 1/m": ("q5", """
def cross_entropy_derivative(A, Y):
    return A - Y
""", "its gradient carries 1/m"),
    "derivative with the wrong sign": ("q5", """
def cross_entropy_derivative(A, Y):
    return (Y - A) / Y.shape[1]
""", "the sign is flipped"),
    "derivative divided by the classes": ("q5", """
def cross_entropy_derivative(A, Y):
    return (A - Y) / Y.shape[0]
""", "divided by the number of classes"),
    "relu_derivative returns relu": ("q6", """
def relu_derivative(Z):
    return np.maximum(Z, 0)
""", "relu_derivative returned relu(Z)"),
    "sigmoid_derivative evaluated on A": ("q6", """
def sigmoid_derivative(Z):
    return Z * (1 - Z)
""", "sigmoid_derivative looks evaluated on A, not Z"),
    "tanh_derivative evaluated on A": ("q6", """
def tanh_derivative(Z):
    return 1 - Z ** 2
""", "tanh_derivative looks evaluated on A, not Z"),
    "sigmoid overflows": ("q6", """
def sigmoid(Z):
    return np.exp(Z) / (1 + np.exp(Z))
""", "exp(Z) / (1 + exp(Z)) overflows"),
    "weights initialised to zeros": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    return {"W1": np.zeros((n_hidden, n_in)), "b1": np.zeros((n_hidden, 1)),
            "W2": np.zeros((n_out, n_hidden)), "b2": np.zeros((n_out, 1))}
""", "weights initialised to zeros: hidden units stay identical (symmetry)"),
    "W1 transposed": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 0.05, (n_in, n_hidden)), "b1": np.zeros((n_hidden, 1)),
            "W2": rng.normal(0, 0.2, (n_out, n_hidden)), "b2": np.zeros((n_out, 1))}
""", "W1 has shape (784, H): transposed - it must be (H, 784)"),
    "b1 flat": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 0.05, (n_hidden, n_in)), "b1": np.zeros(n_hidden),
            "W2": rng.normal(0, 0.2, (n_out, n_hidden)), "b2": np.zeros((n_out, 1))}
""", "b1 has shape (H,) - keep (H, 1) so it broadcasts"),
    "unscaled standard normal weights": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((n_hidden, n_in)), "b1": np.zeros((n_hidden, 1)),
            "W2": rng.standard_normal((n_out, n_hidden)), "b2": np.zeros((n_out, 1))}
""", "too large (plain standard_normal?)"),
    "all-positive weights": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.random((n_hidden, n_in)) * 0.1, "b1": np.zeros((n_hidden, 1)),
            "W2": rng.random((n_out, n_hidden)) * 0.1, "b2": np.zeros((n_out, 1))}
""", "not centred on 0"),
    "init ignores the seed": ("q7", """
def init_params(n_in, n_hidden, n_out, seed=0):
    return {"W1": np.random.randn(n_hidden, n_in) * 0.05, "b1": np.zeros((n_hidden, 1)),
            "W2": np.random.randn(n_out, n_hidden) * 0.2, "b2": np.zeros((n_out, 1))}
""", "use np.random.default_rng(seed), not the global np.random state"),
    "forward without bias": ("q8", """
def forward(X, params, activation="relu"):
    g, _ = get_activation(activation)
    Z1 = params["W1"] @ X
    A1 = g(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", "Z1 ignores b1"),
    "forward without activation": ("q8", """
def forward(X, params, activation="relu"):
    Z1 = params["W1"] @ X + params["b1"]
    Z2 = params["W2"] @ Z1 + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": Z1, "Z2": Z2, "A2": A2}
""", "the hidden activation was not applied"),
    "forward always uses relu": ("q8", """
def forward(X, params, activation="relu"):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""", "forward ignored activation='tanh'"),
    "backprop missing 1/m": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    _, g_prime = get_activation(activation)
    dZ2 = cache["A2"] - Y
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}
""", "m times too large: missing 1/m?"),
    "backprop divides by m twice": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    m = X.shape[1]
    _, g_prime = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ cache["A1"].T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}
""", "you divided by m twice"),
    "backprop db without keepdims": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    _, g_prime = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1), "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1)}
""", "db1 has shape (H,)"),
    "backprop dW1 transposed": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    _, g_prime = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["Z1"])
    return {"dW1": X @ dZ1.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}
""", "every gradient has the shape of its parameter, W1 is (H, 784)"),
    "backprop derivative at A1": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    _, g_prime = get_activation(activation)
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = (params["W2"].T @ dZ2) * g_prime(cache["A1"])
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}
""", "derivative at A1 instead of Z1"),
    "backprop forgets the activation derivative": ("q9", """
def backprop(X, Y, params, cache, activation="relu"):
    dZ2 = cross_entropy_derivative(cache["A2"], Y)
    dZ1 = params["W2"].T @ dZ2
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}
""", "dW2 and db2 are right but dW1 is not"),
    "update adds the gradient": ("q10", """
def update(params, grads, learning_rate):
    return {k: v + learning_rate * grads["d" + k] for k, v in params.items()}
""", "moved uphill"),
    "update ignores the learning rate": ("q10", """
def update(params, grads, learning_rate):
    return {k: v - grads["d" + k] for k, v in params.items()}
""", "learning_rate is ignored"),
    "one-sided differences": ("q11", """
def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    params = {k: np.array(v, np.float64) for k, v in params.items()}
    grads = backprop(X, Y, params, forward(X, params, activation)[1], activation)
    base = cross_entropy_loss(forward(X, params, activation)[0], Y)
    worst = 0.0
    for key, P in params.items():
        numeric = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            saved = P[idx]
            P[idx] = saved + eps
            numeric[idx] = (cross_entropy_loss(forward(X, params, activation)[0], Y) - base) / eps
            P[idx] = saved
        g = grads["d" + key]
        worst = max(worst, np.linalg.norm(numeric - g) / (np.linalg.norm(numeric) + np.linalg.norm(g)))
    return worst
""", "use centred differences"),
    "gradient check in float32": ("q11", """
def gradient_check(X, Y, params, activation="relu", eps=1e-6):
    params = {k: np.array(v) for k, v in params.items()}
    grads = backprop(X, Y, params, forward(X, params, activation)[1], activation)
    worst = 0.0
    for key, P in params.items():
        numeric = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            saved = P[idx]
            P[idx] = saved + eps
            plus = cross_entropy_loss(forward(X, params, activation)[0], Y)
            P[idx] = saved - eps
            minus = cross_entropy_loss(forward(X, params, activation)[0], Y)
            P[idx] = saved
            numeric[idx] = (plus - minus) / (2 * eps)
        g = grads["d" + key]
        worst = max(worst, float(np.linalg.norm(numeric - g) / (np.linalg.norm(numeric) + np.linalg.norm(g))))
    return worst
""", "is lost in float32 rounding"),
    "train does not shuffle": ("q12", "NO_SHUFFLE", "train did not shuffle: the minibatches follow the data order"),
    "train shuffles once": ("q12", "SHUFFLE_ONCE", "every epoch used the same minibatches"),
    "train samples with replacement": ("q12", "WITH_REPLACEMENT", "visit every sample exactly once"),
    "train ignores the seed": ("q12", "UNSEEDED", "two runs with seed=3 gave different results"),
    "train uses the full batch": ("q12", "FULL_BATCH", "expected one per update"),
    "train steps uphill": ("q12", "UPHILL", "must be one step of gradient descent"),
    "train restarts every epoch": ("q12", "RESTART", "continue from the parameters the first one reached"),
    "predict returns probabilities": ("q13", """
def predict(X, params, activation="relu"):
    return forward(X, params, activation)[0]
""", "not the (10, m) probabilities"),
    "predict argmax over axis 1": ("q13", """
def predict(X, params, activation="relu"):
    return np.argmax(forward(X, params, activation)[0], axis=1)
""", "the row of the largest probability in its column"),
    "accuracy in percent": ("q13", """
def accuracy(predictions, labels):
    return 100.0 * np.mean(np.asarray(predictions) == np.asarray(labels))
""", "accuracy returned a percentage"),
    "confusion matrix transposed": ("q13", """
def confusion_matrix(y_true, y_pred, n_classes=10):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_pred), np.asarray(y_true)), 1)
    return cm
""", "confusion_matrix looks transposed"),
    "precision and recall swapped": ("q13", """
def per_class_report(cm):
    cm = np.asarray(cm, dtype=float)
    d = np.diag(cm)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    p = np.divide(d, rows, out=np.zeros_like(d), where=rows > 0)
    r = np.divide(d, cols, out=np.zeros_like(d), where=cols > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(d), where=p + r > 0)
    return {"precision": p, "recall": r, "f1": f}
""", "precision and recall are swapped"),
    "precision nan for a class never predicted": ("q13", """
def per_class_report(cm):
    cm = np.asarray(cm, dtype=float)
    d = np.diag(cm)
    p, r = d / cm.sum(axis=0), d / cm.sum(axis=1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}
""", "define it as 0"),
    "f1 as the arithmetic mean": ("q13", """
def per_class_report(cm):
    cm = np.asarray(cm, dtype=float)
    d = np.diag(cm)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    p = np.divide(d, cols, out=np.zeros_like(d), where=cols > 0)
    r = np.divide(d, rows, out=np.zeros_like(d), where=rows > 0)
    return {"precision": p, "recall": r, "f1": (p + r) / 2}
""", "not the arithmetic mean"),
}

# Variants of the reference train: `ORDER` picks the samples of each epoch's minibatches.
TRAIN_TEMPLATE = """
def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
          activation="relu", eval_every=100):
    rng = RNG
    params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=INIT_SEED)
    history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
    m = X.shape[1]
    once = rng.permutation(m)
    step = 0
    for _ in range(epochs):
        RESTART
        order = ORDER
        for start in range(0, m, BATCH):
            cols = order[start:start + BATCH]
            Xb, Yb = X[:, cols], Y[:, cols]
            A2, cache = forward(Xb, params, activation)
            history["train_loss"].append(cross_entropy_loss(A2, Yb))
            history["train_error"].append(float(np.mean(A2.argmax(axis=0) != Yb.argmax(axis=0))))
            params = STEP
            step += 1
            if step % eval_every == 0:
                A_val, _ = forward(X_val, params, activation)
                history["val_step"].append(step)
                history["val_loss"].append(cross_entropy_loss(A_val, Y_val))
                history["val_error"].append(float(np.mean(A_val.argmax(axis=0) != Y_val.argmax(axis=0))))
    return params, history
"""
TRAIN_VARIANTS = {
    "CORRECT": {},
    "NO_SHUFFLE": {"ORDER": "np.arange(m)"},
    "SHUFFLE_ONCE": {"ORDER": "once"},
    "WITH_REPLACEMENT": {"ORDER": "rng.integers(0, m, m)"},
    "UNSEEDED": {"RNG": "np.random.default_rng()", "INIT_SEED": "int(rng.integers(1000))"},
    "FULL_BATCH": {"BATCH": "m"},
    "UPHILL": {"STEP": "{k: v + learning_rate * backprop(Xb, Yb, params, cache, activation)['d' + k] for k, v in params.items()}"},
    "RESTART": {"RESTART": "params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)"},
}


def mistake_source(source):
    if source not in TRAIN_VARIANTS:
        return source
    values = {"RNG": "np.random.default_rng(seed)", "INIT_SEED": "seed", "ORDER": "rng.permutation(m)", "BATCH": "batch_size",
              "RESTART": "pass", "STEP": "update(params, backprop(Xb, Yb, params, cache, activation), learning_rate)"}
    values.update(TRAIN_VARIANTS[source])
    text = TRAIN_TEMPLATE
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def test_the_train_template_is_a_correct_train(dist):
    """Without a substitution the template passes, so each variant fails because of its one change."""
    ns = load_reference()
    exec(mistake_source("CORRECT"), ns)
    results = run_test_file(dist / "student" / "tests" / "q12.py", ns)
    assert all(passed for _, _, passed, _ in results), results


def test_mistake_messages_are_distinct():
    fragments = [fragment for _, _, fragment in MISTAKES.values()]
    assert len(set(fragments)) == len(fragments)
    for a in fragments:
        assert not any(a != b and a in b for b in fragments), a


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_public_tests_explain_a_common_mistake(dist, mistake):
    question, source, fragment = MISTAKES[mistake]
    ns = load_reference()
    with np.errstate(all="ignore"):
        exec(mistake_source(source), ns)
        results = run_test_file(dist / "student" / "tests" / f"{question}.py", ns)
    failures = [message for _, _, passed, message in results if not passed]
    assert any(fragment in message and "AssertionError:" in message for message in failures), \
        f"{mistake}: no public test of {question} says {fragment!r}; failures: {failures}"

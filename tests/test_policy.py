"""The import policy scan: finds forbidden imports with their line, ignores what is allowed."""

import nbformat

from nnassign.config import DEFAULT_FORBIDDEN
from nnassign.policy import runtime_violations, scan_notebook

POLICY = {"forbidden": DEFAULT_FORBIDDEN, "allowed_for_data": []}


def notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("import torch  (prose, not code)")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_clean_notebook_has_no_violation():
    nb = notebook("import numpy as np\nimport matplotlib.pyplot as plt", "%matplotlib inline\nimport os, json")
    assert scan_notebook(nb, POLICY) == []


def test_each_import_form_is_found_with_cell_and_line():
    nb = notebook(
        "import numpy as np\nimport torch.nn as nn",
        "from sklearn.neural_network import MLPClassifier",
        "x = 1\n\nm = __import__('tensorflow')",
        "import importlib\nk = importlib.import_module('keras.layers')",
    )
    found = [(v.cell, v.line, v.module) for v in scan_notebook(nb, POLICY)]
    assert found == [(1, 2, "torch"), (2, 1, "sklearn"), (3, 3, "tensorflow"), (4, 2, "keras")]
    assert "torch is not allowed (cell 1, line 2: import torch.nn as nn)" == scan_notebook(nb, POLICY)[0].describe()


def test_magic_lines_keep_line_numbers_and_syntax_errors_are_skipped():
    nb = notebook("%time x = 1\n!pip list\nimport jax", "def broken(:\n    import torch")
    assert [(v.line, v.module) for v in scan_notebook(nb, POLICY)] == [(3, "jax")]


def test_allowed_for_data_lifts_the_ban():
    policy = {"forbidden": DEFAULT_FORBIDDEN, "allowed_for_data": ["torchvision", "torch"]}
    assert scan_notebook(notebook("import torchvision\nimport torch"), policy) == []


def test_runtime_modules_add_what_static_scan_missed():
    static = scan_notebook(notebook("import torch"), POLICY)
    extra = runtime_violations({"numpy", "torch", "sklearn"}, static, POLICY)
    assert [v.module for v in extra] == ["sklearn"]
    assert extra[0].describe() == "sklearn is not allowed (at run time: loaded at run time)"

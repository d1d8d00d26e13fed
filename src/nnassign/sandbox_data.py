"""The data folder a sandboxed notebook sees: every file of the dataset, but decoy test labels.

API::

    folder = sandbox_data_dir(data_dir, dataset)   # <data_dir>/.sandbox-view, made once, reused

Why: the accuracy tiers compare predictions with the test labels in the grading process. If the
real labels were readable inside the sandbox, a notebook could fit its weights on the test split
(least squares takes a second). The notebook still runs unchanged: ``nn_data.load_dataset(...,
"test")`` returns the real test images and labels of the right shape and classes, drawn at random
(so its own printed test accuracy is meaningless, which nobody sees).
"""

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nnassign import nn_data
from nnassign.data import write_idx_gz

DECOY_SEED = 20261130
_MADE: dict[tuple[str, str], Path] = {}


def _link_or_copy(src: Path, dst: Path):
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)


def _stamp(source: Path) -> str:
    """What the view was made from: a changed dataset makes a new view."""
    return "\n".join(f"{p.name} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in sorted(source.iterdir())
                     if p.is_file())


def _make(source: Path, target: Path, data_dir, dataset):
    target.mkdir(parents=True)
    for folder in (target.parent, target):
        folder.chmod(0o755)
    test_labels = nn_data.FILES["test"][1]
    for entry in source.iterdir():
        if entry.is_file() and entry.name != test_labels:
            _link_or_copy(entry, target / entry.name)
    if (source / test_labels).exists():
        _, labels = nn_data.load_dataset(dataset, "test", data_dir=data_dir, download=False)
        decoy = np.random.default_rng(DECOY_SEED).integers(0, 10, size=labels.size).astype(np.uint8)
        write_idx_gz(target / test_labels, decoy, nn_data.LABEL_MAGIC)


def sandbox_data_dir(data_dir, dataset) -> Path:
    """A world-readable folder holding ``<dataset>/`` with the real files except the test labels.

    It lives in the data folder (``.sandbox-view/``), made once and shared by every worker and batch;
    where the data folder is read-only, in a temporary folder removed when this process exits."""
    key = (str(Path(data_dir).resolve()), dataset)
    if key in _MADE and _MADE[key].exists():
        return _MADE[key]
    source = Path(data_dir) / dataset
    stamp = _stamp(source)
    view = Path(data_dir) / ".sandbox-view"
    if (view / dataset / "STAMP").exists() and (view / dataset / "STAMP").read_text() == stamp:
        _MADE[key] = view
        return view
    try:
        view.mkdir(exist_ok=True)
        view.chmod(0o755)
        staging = Path(tempfile.mkdtemp(prefix=f".{dataset}-", dir=view))
    except OSError:  # a read-only data folder
        view = Path(tempfile.mkdtemp(prefix="nnassign-sandbox-data-"))
        atexit.register(shutil.rmtree, view, True)
        staging = view / "staging"
    _make(source, staging / dataset, data_dir, dataset)
    (staging / dataset / "STAMP").write_text(stamp)
    current = view / dataset / "STAMP"
    if not (current.exists() and current.read_text() == stamp):   # another worker may have made it meanwhile
        if (view / dataset).exists():
            shutil.rmtree(view / dataset, ignore_errors=True)   # stale: the dataset changed
        with contextlib.suppress(OSError):
            os.replace(staging / dataset, view / dataset)
    shutil.rmtree(staging, ignore_errors=True)
    _MADE[key] = view
    return view

"""Shared fixtures.

- `shared_data`: local folder holding the official files as `<dataset>/<file>` (the CI mirror).
  It is `$NNASSIGN_DATA_MIRROR` when that is a folder or file:// URL, else `<repo>/../shared/data`.
- `data_root`: a session-wide data root with BOTH datasets fetched (verified copies from the mirror)
  and `$NNASSIGN_DATA_DIR` pointing at it, so `nn_data.load_dataset("mnist", "test")` just works,
  also in subprocesses. Use it read-only: it is shared by the whole session.
"""

import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir():
    """The local mirror folder (see module docstring), or None when there is none."""
    mirror = os.environ.get("NNASSIGN_DATA_MIRROR", "")
    if mirror.startswith("file://"):
        candidate = Path(urllib.request.url2pathname(urllib.parse.urlparse(mirror).path))
    elif mirror and "://" not in mirror:
        candidate = Path(mirror)
    else:  # unset, or an http(s) mirror: the tests that serve files need a local copy
        candidate = REPO.parent / "shared" / "data"
    return candidate if (candidate / "mnist").is_dir() and (candidate / "fashion-mnist").is_dir() else None


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.fail("no local copy of the official data: put it in <repo>/../shared/data/<dataset>/ "
                    "or set NNASSIGN_DATA_MIRROR to a folder or file:// URL holding <dataset>/<file>")
    return path


@pytest.fixture(scope="session")
def data_root(tmp_path_factory, shared_data):
    from nnassign import nn_data

    root = tmp_path_factory.mktemp("data")
    root.chmod(0o755)  # the grading sandbox reads it as an unprivileged user
    for dataset in nn_data.CHECKSUMS:
        nn_data.fetch(dataset, data_dir=root, mirror=shared_data.as_uri())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNASSIGN_DATA_DIR", str(root))
        yield root

"""Load Fashion-MNIST and MNIST from the official IDX files, using only NumPy and the standard library.

This file is shipped to students next to the notebook, so it must not import anything
outside NumPy and the standard library.

    images, labels = load_dataset("fashion-mnist", "train")   # (60000, 28, 28) uint8, (60000,) uint8

Where the files are looked for, in order: the ``data_dir`` argument, ``$NNASSIGN_DATA_DIR``,
``./data``, ``../data``. Each dataset lives in ``<root>/<dataset>/`` under its official file names.
If they are missing they are downloaded from ``$NNASSIGN_DATA_MIRROR`` (an ``http(s)://`` or
``file://`` base URL holding ``<dataset>/<file>``) or, without it, from the official sites.
"""

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# sha256 of the official gzip files (their md5 matches the published ones).
CHECKSUMS = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
}

SAMPLES = {"train": 60000, "test": 10000}

OFFICIAL_URLS = {
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
}

CLASS_NAMES = {
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "mnist": [str(d) for d in range(10)],
}

IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


class DataError(Exception):
    """A dataset file is missing, corrupt or not what it claims to be."""


def _check_name(dataset):
    if dataset not in CHECKSUMS:
        raise DataError(f"unknown dataset {dataset!r}; choose one of {sorted(CHECKSUMS)}")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_data_root(data_dir=None):
    """The first candidate root folder that exists (or the first candidate, to download into)."""
    candidates = [data_dir, os.environ.get("NNASSIGN_DATA_DIR"), "data", os.path.join("..", "data")]
    candidates = [Path(c) for c in candidates if c]
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def parse_idx(raw, magic, name="file"):
    """Parse decompressed IDX bytes into a uint8 array, checking magic number and dimensions."""
    if len(raw) < 8:
        raise DataError(f"{name}: too short to be an IDX file ({len(raw)} bytes)")
    found = struct.unpack(">I", raw[:4])[0]
    if found != magic:
        kind = "images" if magic == IMAGE_MAGIC else "labels"
        raise DataError(f"{name}: wrong IDX magic 0x{found:08x}, expected 0x{magic:08x} for {kind}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: header truncated")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    if ndim == 3 and dims[1:] != (28, 28):
        raise DataError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(f"{name}: dimensions {dims} need {expected} bytes of data, found {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_gz(path, magic):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError; a cut file raises EOFError
        raise DataError(f"{path}: not a complete gzip file ({e})") from None
    return parse_idx(raw, magic, name=str(path))


def _download(url, dest):
    """Copy url to dest atomically: a temp file in the same folder, renamed when complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; graders read it as another user
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def fetch(dataset="fashion-mnist", data_dir=None, mirror=None):
    """Make sure the four files of `dataset` are in <root>/<dataset>/ and verified. Returns that folder.

    Idempotent: files already present with the right checksum are not downloaded again.
    """
    _check_name(dataset)
    folder = find_data_root(data_dir) / dataset
    mirror = mirror or os.environ.get("NNASSIGN_DATA_MIRROR")
    if mirror and "://" not in mirror:  # a plain folder path is accepted as a mirror too
        mirror = Path(mirror).resolve().as_uri()
    # A mirror holds <dataset>/<file> (the layout of data/ itself); the official sites hold <file>.
    base = mirror.rstrip("/") + "/" + dataset if mirror else OFFICIAL_URLS[dataset].rstrip("/")
    for name, digest in CHECKSUMS[dataset].items():
        path = folder / name
        if path.exists() and sha256(path) == digest:
            continue
        url = f"{base}/{name}"
        try:
            _download(url, path)
        except (urllib.error.URLError, OSError) as e:
            raise DataError(
                f"could not download {name} from {url} ({e}).\n"
                f"Offline? Set NNASSIGN_DATA_MIRROR to a http(s):// or file:// folder that holds "
                f"{dataset}/{name}, or copy the four official files into {folder}/."
            ) from None
        if sha256(path) != digest:
            bad = path.with_name(path.name + ".corrupt")
            os.replace(path, bad)
            raise DataError(f"{name} from {url} failed its checksum (kept as {bad}); "
                            "the mirror holds a different or damaged file")
    return folder


def load_dataset(dataset="fashion-mnist", split="train", data_dir=None, download=True):
    """Return (images, labels): images (N, 28, 28) uint8, labels (N,) uint8."""
    _check_name(dataset)
    if split not in FILES:
        raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
    folder = find_data_root(data_dir) / dataset
    image_file, label_file = FILES[split]
    if download and not all((folder / f).exists() for f in FILES[split]):
        fetch(dataset, data_dir)
    for f in (image_file, label_file):
        if not (folder / f).exists():
            raise DataError(f"{folder / f} is missing: run `python nn_data.py {dataset}` to download it")
    images = read_idx_gz(folder / image_file, IMAGE_MAGIC)
    labels = read_idx_gz(folder / label_file, LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} images but {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise DataError(f"{folder / label_file}: labels must be 0-9, found {labels.max()}")
    return images, labels


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or ["fashion-mnist"]:
        print("ready:", fetch(name))

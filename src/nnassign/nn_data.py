"""Load Fashion-MNIST and MNIST from the official IDX files, using only NumPy and the standard library.

This file is shipped to students next to the notebook, so it must not import anything
outside NumPy and the standard library.

    images, labels = load_dataset("fashion-mnist", "train")   # (60000, 28, 28) uint8, (60000,) uint8

Where the files are looked for: the ``data_dir`` argument if given, else ``$NNASSIGN_DATA_DIR`` if set,
else the first of ``./data``, ``../data`` that exists. Each dataset lives in ``<root>/<dataset>/`` under
its official file names. If they are missing they are downloaded from ``$NNASSIGN_DATA_MIRROR`` (an
``http(s)://`` or ``file://`` base URL, or a plain folder, holding ``<dataset>/<file>``) or, without
it, from the official sites.

A dataset folder holding a ``SOURCE`` file was made by ``nnassign data import`` (a course's own copy,
e.g. PNG folders or a CSV): it loads like any other, but ``fetch`` never overwrites it.
"""

import gzip
import hashlib
import http.client
import json
import os
import re
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
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

# Marker file written by `nnassign data import`: the folder holds a course's own data, not the official files.
SOURCE_FILE = "SOURCE"

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class DataError(Exception):
    """A dataset file is missing, corrupt or not what it claims to be."""


def _check_name(dataset):
    if dataset not in CHECKSUMS:
        raise DataError(f"unknown dataset {dataset!r}; choose one of {sorted(CHECKSUMS)}")


def check_folder_name(dataset):
    """A dataset name is used as a folder name: refuse anything that could leave the data root."""
    if not isinstance(dataset, str) or not _NAME_RE.match(dataset) or ".." in dataset:
        raise DataError(f"invalid dataset name {dataset!r}: use letters, digits, '-', '_' and '.', "
                        "for example 'fashion-mnist'")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_data_root(data_dir=None):
    """The data root: `data_dir`, else $NNASSIGN_DATA_DIR, else the first of ./data, ../data that exists.

    An explicit choice always wins, even if the folder does not exist yet (it is created on download):
    silently falling back to another folder would hide a typo.
    """
    explicit = data_dir or os.environ.get("NNASSIGN_DATA_DIR")
    if explicit:
        return Path(explicit)
    candidates = [Path("data"), Path("..", "data")]
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def parse_idx(raw, magic, name="file"):
    """Parse decompressed IDX bytes into a uint8 array, checking magic number and dimensions."""
    if len(raw) < 8:
        raise DataError(f"{name}: too short to be an IDX file ({len(raw)} bytes)")
    header, dims = _parse_header(raw, magic, name)
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(f"{name}: dimensions {dims} need {expected} bytes of data, found {len(raw) - header}")
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    # frombuffer over `bytes` is read-only, which breaks students' in-place shuffles; copy in that case.
    return array if array.flags.writeable else array.copy()


def _parse_header(raw, magic, name):
    found = struct.unpack(">I", raw[:4])[0]
    if found != magic:
        kind = "images" if magic == IMAGE_MAGIC else "labels"
        raise DataError(f"{name}: wrong IDX magic 0x{found:08x}, expected 0x{magic:08x} for {kind}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: IDX header truncated ({len(raw)} of {header} bytes)")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    if ndim == 3 and dims[1:] != (28, 28):
        raise DataError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28")
    return header, dims


def read_idx_gz(path, magic):
    """Read a gzip IDX file. Reads only as many bytes as its header announces (+1 to detect extra data),
    so a corrupt header cannot make it decompress an unbounded amount."""
    ndim = magic & 0xFF
    try:
        with gzip.open(path, "rb") as f:
            raw = bytearray(f.read(4 + 4 * ndim))
            if len(raw) >= 4 + 4 * ndim:
                _, dims = _parse_header(bytes(raw), magic, str(path))
                # In blocks: one read(n) may allocate n bytes up front, whatever the header claims.
                # Reading past the end also makes gzip check the CRC of the whole member.
                wanted = int(np.prod(dims)) + 1
                while wanted > 0:
                    block = f.read(min(wanted, 1 << 24))
                    if not block:
                        break
                    raw += block
                    wanted -= len(block)
    except FileNotFoundError:
        raise DataError(f"{path} is missing") from None
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; a cut file raises EOFError
        raise DataError(f"{path}: not a complete gzip file ({e})") from None
    return parse_idx(raw, magic, name=str(path))


def _mirror_base(dataset, mirror):
    mirror = mirror or os.environ.get("NNASSIGN_DATA_MIRROR")
    if mirror and "://" not in mirror:  # a plain folder path is accepted as a mirror too
        mirror = Path(mirror).resolve().as_uri()
    # A mirror holds <dataset>/<file> (the layout of data/ itself); the official sites hold <file>.
    if mirror:
        return mirror.rstrip("/") + "/" + dataset, True
    return OFFICIAL_URLS[dataset].rstrip("/"), False


def _download(url, dest, digest):
    """Copy url to dest atomically: a temp file in the same folder, renamed only once it is complete
    and its checksum is right, so dest never holds a partial or wrong file. Returns the size."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        hasher, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            announced = response.headers.get("Content-Length")
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                hasher.update(block)
                size += len(block)
        # http.client returns a short body without error when the connection drops: check the length.
        if announced is not None and announced.isdigit() and size != int(announced):
            raise DataError(f"download of {dest.name} from {url} was cut off after {size} of "
                            f"{announced} bytes; nothing was saved, try again")
        if hasher.hexdigest() != digest:
            bad = dest.with_name(dest.name + ".corrupt")
            os.replace(tmp, bad)
            raise DataError(f"{dest.name} from {url} failed its sha256 check (kept as {bad} for "
                            "inspection): the mirror holds a different or damaged file")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; graders read it as another user
        os.replace(tmp, dest)
        return size
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch(dataset="fashion-mnist", data_dir=None, mirror=None, log=None):
    """Make sure the four files of `dataset` are in <root>/<dataset>/ and verified. Returns that folder.

    Idempotent: files already present with the right checksum are not downloaded again.
    `log`, if given, is called with one line per file saying what was done.
    Refuses to touch a folder made by `nnassign data import` (it has a SOURCE file).
    """
    _check_name(dataset)
    log = log or (lambda line: None)
    folder = find_data_root(data_dir) / dataset
    if (folder / SOURCE_FILE).exists():
        raise DataError(
            f"{folder} holds imported data (see {folder / SOURCE_FILE}), so fetch will not overwrite it. "
            f"To use the official files, move that folder away or fetch into another data folder.")
    base, from_mirror = _mirror_base(dataset, mirror)
    for name, digest in CHECKSUMS[dataset].items():
        path = folder / name
        if path.exists():
            if sha256(path) == digest:
                log(f"ok          {path} (already present, sha256 verified)")
                continue
            log(f"replacing   {path} (sha256 mismatch)")
        url = f"{base}/{name}"
        try:
            size = _download(url, path, digest)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            where = ("Check that the mirror holds <dataset>/<file>, i.e. " + f"{base}/{name}." if from_mirror
                     else "Offline? Set NNASSIGN_DATA_MIRROR to a http(s):// or file:// URL, or a folder, "
                          f"that holds {dataset}/{name}.")
            raise DataError(f"could not download {name} from {url} ({e}).\n{where}\n"
                            f"Or copy the four official files into {folder}/.") from None
        log(f"downloaded  {path} ({size} bytes from {url})")
    return folder


def load_dataset(dataset="fashion-mnist", split="train", data_dir=None, download=True):
    """Return (images, labels): images (N, 28, 28) uint8, labels (N,) uint8.

    `dataset` is "fashion-mnist", "mnist", or the name of a dataset made by `nnassign data import`.
    """
    check_folder_name(dataset)
    if split not in FILES:
        raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
    folder = find_data_root(data_dir) / dataset
    image_file, label_file = FILES[split]
    missing = [f for f in FILES[split] if not (folder / f).exists()]
    if missing and (folder / SOURCE_FILE).exists():
        raise DataError(f"{folder} holds imported data without a {split} split ({', '.join(missing)} missing): "
                        f"import it with `nnassign data import PATH --dataset {dataset} --split {split}`")
    if missing and dataset not in CHECKSUMS:
        raise DataError(f"unknown dataset {dataset!r}: not one of {sorted(CHECKSUMS)} and no imported copy "
                        f"in {folder}")
    if missing and download:
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


def test_accuracy(params, preprocess, predict, dataset="fashion-mnist", method="scale", data_dir=None):
    """Fraction of the test images that ``predict(preprocess(images, method=method), params)`` labels
    correctly. The grader attaches the accuracy it measured itself to the parameters it trained
    (``params.test_accuracy``); on a student's machine it is computed here, once per ``params``."""
    measured = getattr(params, "test_accuracy", None)
    if measured is not None:
        return float(measured)
    key = (id(params), id(preprocess), id(predict), dataset, method)
    if _ACCURACY_CACHE.get("key") != key:
        images, labels = load_dataset(dataset, "test", data_dir=data_dir)
        predicted = np.asarray(predict(preprocess(images, method=method), params)).ravel()
        if predicted.shape != labels.shape:
            raise ValueError(f"predict returned {predicted.size} labels for {labels.size} test images")
        _ACCURACY_CACHE.update(key=key, params=params, value=float(np.mean(predicted == labels)))  # params kept: ids stay unique
    return _ACCURACY_CACHE["value"]


_ACCURACY_CACHE = {}

# ---------------------------------------------------------------- golden values of the public checks
#
# The public checks test properties (shapes, columns summing to 1, finite differences of your own
# functions) and, on their fixed public inputs (seed 0), compare with the numbers the solution gave on
# the same inputs. `nnassign release` records those numbers in golden.json next to the notebook: you
# see numbers, never the code that made them. The grader uses other inputs: there, hidden tests
# compare values, and these comparisons are skipped.

GOLDEN_FILE = "golden.json"
_PROJECTIONS = 8     # large arrays are stored as a few fixed random projections


def _fingerprint(value):
    """Numbers that stand for ``value``: small arrays whole, large ones as signed sums."""
    a = np.asarray(value, dtype=np.float64).ravel()
    if a.size <= 64:
        values, scale, size = a, float(np.abs(a).max(initial=0.0)), None
    else:
        signs = np.random.default_rng(a.size).choice([-1.0, 1.0], size=(_PROJECTIONS, a.size))
        values, scale, size = np.dot(signs, a), float(np.abs(a).sum()), a.size
    # 7 significant digits: the same release on another machine (other rounding in BLAS) writes the same file
    out = {"values": [float(f"{v:.7g}") for v in values], "scale": float(f"{scale:.7g}")}
    if size is not None:
        out["size"] = size
    return out


def golden_check(test, key, value, message, rtol=1e-4):
    """On the public inputs, fail with ``message`` unless ``value`` matches what the solution gave."""
    record = os.environ.get("NNASSIGN_GOLDEN_RECORD")
    if record:  # `nnassign release` running the public checks on the solution
        data = json.loads(Path(record).read_text()) if Path(record).exists() else {}
        data.setdefault(test, {})[key] = _fingerprint(value)
        Path(record).write_text(json.dumps(data, indent=1, sort_keys=True))
        return
    if os.environ.get("NNASSIGN_SEED", "0") != "0" or not Path(GOLDEN_FILE).exists():
        return
    want = json.loads(Path(GOLDEN_FILE).read_text()).get(test, {}).get(key)
    if want is None:
        return
    try:
        got = _fingerprint(value)
    except (TypeError, ValueError):
        raise AssertionError(message) from None
    close = (len(got["values"]) == len(want["values"]) and got.get("size") == want.get("size")
             and np.allclose(got["values"], want["values"], rtol=rtol, atol=rtol * want["scale"] + 1e-7))
    assert close, message


if __name__ == "__main__":
    import sys

    try:
        for name in sys.argv[1:] or ["fashion-mnist"]:
            print("ready:", fetch(name, log=print))
    except DataError as e:  # students should see the message, not a traceback
        sys.exit(f"error: {e}")

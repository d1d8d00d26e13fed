"""The data stage: nn_data (fetch, parse, load), `nnassign data fetch|verify|import`."""

import ast
import contextlib
import gzip
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nnassign import data as data_mod
from nnassign import nn_data
from nnassign.cli import main
from nnassign.nn_data import FILES, IMAGE_MAGIC, LABEL_MAGIC, DataError

MNIST_FILES = list(nn_data.CHECKSUMS["mnist"])


# ------------------------------------------------------------------------------------------ helpers

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class CountingHandler(_QuietHandler):
    """Serves a folder and records every GET path in `self.server.requests`."""

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


class DroppingHandler(_QuietHandler):
    """Announces the full length but sends half of the file, then hangs up."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@contextlib.contextmanager
def serve(folder, handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def readme_table(shared):
    """file -> (sha256, samples) and dataset -> split -> per-class counts, read from the mirror's README."""
    text = (shared / "README.md").read_text()
    sums = {}
    for m in re.finditer(r"^\| ([\w-]+)/([\w.-]+\.gz) \| \d+ \| ([0-9a-f]{64}) \| [0-9a-f]{32} \| (\d+)", text, re.M):
        sums[(m[1], m[2])] = (m[3], int(m[4]))
    hist, current = {}, None
    section = text.split("Label histograms", 1)[1].split("##", 1)[0]
    for line in section.splitlines():
        if m := re.match(r"- (Fashion-MNIST|MNIST):", line):
            current = hist.setdefault(m[1].lower(), {})
        elif m := re.match(r"\s+- (train|test): (.*)", line):
            if per := re.fullmatch(r"(\d+) per class", m[2]):
                current[m[1]] = [int(per[1])] * 10
            else:
                current[m[1]] = [int(v) for v in m[2].split(",")]
    return sums, hist


def idx_bytes(array, magic):
    array = np.asarray(array, dtype=np.uint8)
    return struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def write_gz(path, raw):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(raw)


def small_split(n_per_class=2, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10, dtype=np.uint8), n_per_class)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    return images, labels


def write_small_dataset(folder, n_per_class=2):
    """A tiny, valid dataset folder under the official file names (wrong checksums, of course)."""
    for split in FILES:
        images, labels = small_split(n_per_class, seed=len(split))
        write_gz(folder / FILES[split][0], idx_bytes(images, IMAGE_MAGIC))
        write_gz(folder / FILES[split][1], idx_bytes(labels, LABEL_MAGIC))


def marked(k, i):
    """A 28x28 image whose first pixel encodes (class k, index i) so pairing and content can be checked."""
    image = np.random.default_rng(100 * k + i).integers(0, 256, (28, 28), dtype=np.uint8)
    image[0, 0] = 20 * k + i
    return image


def write_pngs(root, n_per_class=2, classes=range(10)):
    for k in classes:
        (root / str(k)).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            Image.fromarray(marked(k, i)).save(root / str(k) / f"{i}.png")


def write_csv(path, images, labels, header=True):
    lines = ["label," + ",".join(f"pixel{j}" for j in range(1, 785))] if header else []
    lines += [",".join(map(str, [int(y), *img.reshape(-1)])) for img, y in zip(images, labels)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def zip_folder(folder, zip_path, extra=()):
    with zipfile.ZipFile(zip_path, "w") as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, p.relative_to(folder.parent).as_posix())
        for name, content in extra:
            zf.writestr(name, content)
    return zip_path


def run_cli(*args):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# ------------------------------------------------------------------------------------------ official files

def test_checksums_and_counts_match_the_mirror_readme(shared_data):
    sums, hist = readme_table(shared_data)
    assert len(sums) == 8
    for (dataset, name), (digest, samples) in sums.items():
        assert nn_data.CHECKSUMS[dataset][name] == digest
        split = "train" if name.startswith("train") else "test"
        assert nn_data.SAMPLES[split] == samples
    assert hist == data_mod.OFFICIAL_COUNTS


@pytest.mark.parametrize("dataset", ["fashion-mnist", "mnist"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_official_files_load_with_readme_histograms(data_root, shared_data, dataset, split):
    _, hist = readme_table(shared_data)
    images, labels = nn_data.load_dataset(dataset, split, download=False)  # found through $NNASSIGN_DATA_DIR
    n = sum(hist[dataset][split])
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == hist[dataset][split]
    assert 0 < images.mean() < 255 and images.max() == 255
    assert images.flags.writeable and labels.flags.writeable  # students shuffle in place


def test_nn_data_imports_only_numpy_and_stdlib():
    tree = ast.parse(Path(nn_data.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names, "no imports found: the check itself is broken"
    assert names - set(sys.stdlib_module_names) == {"numpy"}


# ------------------------------------------------------------------------------------------ fetch

def test_fetch_file_mirror_then_idempotent(tmp_path, shared_data):
    logs = []
    folder = nn_data.fetch("mnist", data_dir=tmp_path, mirror=shared_data.as_uri(), log=logs.append)
    assert folder == tmp_path / "mnist"
    assert [line.split()[0] for line in logs] == ["downloaded"] * 4
    for name, digest in nn_data.CHECKSUMS["mnist"].items():
        assert nn_data.sha256(folder / name) == digest
    inodes = {name: (folder / name).stat().st_ino for name in MNIST_FILES}
    logs.clear()
    # A plain folder path as mirror is accepted; nothing is downloaded since all files verify.
    nn_data.fetch("mnist", data_dir=tmp_path, mirror=str(shared_data), log=logs.append)
    assert [line.split()[0] for line in logs] == ["ok"] * 4
    assert inodes == {name: (folder / name).stat().st_ino for name in MNIST_FILES}
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # no temp files left


def test_fetch_over_http_downloads_once(tmp_path, shared_data, monkeypatch):
    with serve(shared_data, CountingHandler) as (server, url):
        monkeypatch.setenv("NNASSIGN_DATA_MIRROR", url)
        nn_data.fetch("mnist", data_dir=tmp_path)
        assert sorted(server.requests) == sorted(f"/mnist/{name}" for name in MNIST_FILES)
        nn_data.fetch("mnist", data_dir=tmp_path)
        nn_data.load_dataset("mnist", "test", data_dir=tmp_path)
        assert len(server.requests) == 4, "a second fetch must not download again"
    for name, digest in nn_data.CHECKSUMS["mnist"].items():
        assert nn_data.sha256(tmp_path / "mnist" / name) == digest


def test_fetch_dropped_connection_leaves_no_file(tmp_path, shared_data):
    with serve(shared_data, DroppingHandler) as (_, url):
        with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*cut off after \d+ of \d+ bytes"):
            nn_data.fetch("mnist", data_dir=tmp_path, mirror=url)
    assert list((tmp_path / "mnist").iterdir()) == []  # neither the final name nor a .part file


def test_fetch_checksum_mismatch_is_refused(tmp_path, shared_data):
    mirror = tmp_path / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copy(shared_data / "mnist" / name, mirror / name)
    (mirror / "train-labels-idx1-ubyte.gz").write_bytes(b"not the official file")
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz .*failed its sha256 check"):
        nn_data.fetch("mnist", data_dir=tmp_path / "data", mirror=str(mirror.parent))
    folder = tmp_path / "data" / "mnist"
    assert not (folder / "train-labels-idx1-ubyte.gz").exists()
    assert (folder / "train-labels-idx1-ubyte.gz.corrupt").read_bytes() == b"not the official file"


def test_fetch_replaces_a_damaged_local_file(tmp_path, shared_data):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    logs = []
    nn_data.fetch("mnist", data_dir=tmp_path, mirror=str(shared_data), log=logs.append)
    assert any(line.startswith("replacing") and "t10k-labels" in line for line in logs)
    name = "t10k-labels-idx1-ubyte.gz"
    assert nn_data.sha256(folder / name) == nn_data.CHECKSUMS["mnist"][name]


def test_fetch_offline_without_mirror_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("NNASSIGN_DATA_MIRROR", raising=False)
    monkeypatch.setitem(nn_data.OFFICIAL_URLS, "mnist", closed_port_url())
    with pytest.raises(DataError) as e:
        nn_data.fetch("mnist", data_dir=tmp_path)
    message = str(e.value)
    assert "NNASSIGN_DATA_MIRROR" in message and str(tmp_path / "mnist") in message
    assert not any((tmp_path / "mnist").iterdir())


def test_fetch_mirror_without_the_file_names_the_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"mirror holds <dataset>/<file>.*mnist/train-images"):
        nn_data.fetch("mnist", data_dir=tmp_path / "data", mirror=str(tmp_path / "empty"))


def test_fetch_unknown_dataset():
    with pytest.raises(DataError, match=r"unknown dataset 'kmnist'"):
        nn_data.fetch("kmnist")


def test_fetch_never_overwrites_imported_data(tmp_path, shared_data):
    folder = tmp_path / "mnist"
    write_small_dataset(folder)
    (folder / "SOURCE").write_text("{}")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(DataError, match=r"holds imported data.*will not overwrite"):
        nn_data.fetch("mnist", data_dir=tmp_path, mirror=str(shared_data))
    assert before == {p.name: p.read_bytes() for p in folder.iterdir()}


def test_nn_data_script_reports_errors_without_traceback(tmp_path):
    env = {**os.environ, "NNASSIGN_DATA_DIR": str(tmp_path), "NNASSIGN_DATA_MIRROR": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, nn_data.__file__, "mnist"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "error: could not download" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------------------------------ parsing, loading

def _labels_gz(shared_data):
    return (shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()


BAD_FILES = {
    # name: (how to build the gz bytes, magic to read with, expected message)
    "truncated gzip": (lambda sd: _labels_gz(sd)[: len(_labels_gz(sd)) // 2], LABEL_MAGIC, "not a complete gzip"),
    "not gzip": (lambda sd: b"PK\x03\x04 a zip, not a gzip", LABEL_MAGIC, "not a complete gzip"),
    "corrupt deflate data": (lambda sd: _labels_gz(sd)[:200] + bytes(50) + _labels_gz(sd)[250:], LABEL_MAGIC,
                             "not a complete gzip"),
    "labels read as images": (lambda sd: _labels_gz(sd), IMAGE_MAGIC, r"wrong IDX magic 0x00000801, expected "
                                                                     r"0x00000803 for images"),
    "images 27x27": (lambda sd: gzip.compress(struct.pack(">IIII", IMAGE_MAGIC, 2, 27, 27) + bytes(2 * 27 * 27)),
                     IMAGE_MAGIC, "images are 27x27, expected 28x28"),
    "too little data": (lambda sd: gzip.compress(struct.pack(">II", LABEL_MAGIC, 5) + bytes(4)), LABEL_MAGIC,
                        r"dimensions \(5,\) need 5 bytes of data, found 4"),
    "extra data": (lambda sd: gzip.compress(struct.pack(">II", LABEL_MAGIC, 5) + bytes(9)), LABEL_MAGIC,
                   r"need 5 bytes of data, found 6"),
    "header cut": (lambda sd: gzip.compress(struct.pack(">II", IMAGE_MAGIC, 5)), IMAGE_MAGIC,
                   "IDX header truncated"),
    "empty": (lambda sd: gzip.compress(b""), LABEL_MAGIC, "too short to be an IDX file"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_read_idx_gz_rejects_bad_files(tmp_path, shared_data, case):
    build, magic, message = BAD_FILES[case]
    path = tmp_path / "file.gz"
    path.write_bytes(build(shared_data))
    with pytest.raises(DataError, match=message) as e:
        nn_data.read_idx_gz(path, magic)
    assert str(path) in str(e.value)


def test_parse_idx_round_trip():
    images, _ = small_split()
    parsed = nn_data.parse_idx(idx_bytes(images, IMAGE_MAGIC), IMAGE_MAGIC)
    assert np.array_equal(parsed, images) and parsed.flags.writeable


def test_load_dataset_reports_bad_files(tmp_path):
    folder = tmp_path / "mnist"
    write_small_dataset(folder)
    images, labels = nn_data.load_dataset("mnist", "train", data_dir=tmp_path, download=False)
    assert images.shape == (20, 28, 28) and np.bincount(labels).tolist() == [2] * 10
    write_gz(folder / FILES["train"][1], idx_bytes(np.arange(12), LABEL_MAGIC))
    with pytest.raises(DataError, match="20 images but 12 labels"):
        nn_data.load_dataset("mnist", "train", data_dir=tmp_path, download=False)
    write_gz(folder / FILES["train"][1], idx_bytes(np.full(20, 10), LABEL_MAGIC))
    with pytest.raises(DataError, match="labels must be 0-9, found 10"):
        nn_data.load_dataset("mnist", "train", data_dir=tmp_path, download=False)
    (folder / FILES["test"][0]).unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz is missing: run"):
        nn_data.load_dataset("mnist", "test", data_dir=tmp_path, download=False)


@pytest.mark.parametrize("dataset, split, message", [
    ("../etc", "train", "invalid dataset name"),
    ("mnist/train", "train", "invalid dataset name"),
    ("mnist", "validation", "unknown split 'validation'"),
    ("kmnist", "train", "unknown dataset 'kmnist'.*no imported copy"),
])
def test_load_dataset_argument_errors(tmp_path, dataset, split, message):
    with pytest.raises(DataError, match=message):
        nn_data.load_dataset(dataset, split, data_dir=tmp_path)


def test_find_data_root_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NNASSIGN_DATA_DIR", raising=False)
    assert nn_data.find_data_root() == Path("data")  # nothing exists: where to download
    (tmp_path.parent / "data").mkdir(exist_ok=True)
    assert nn_data.find_data_root() == Path("..", "data")
    (tmp_path / "data").mkdir()
    assert nn_data.find_data_root() == Path("data")
    monkeypatch.setenv("NNASSIGN_DATA_DIR", str(tmp_path / "env-missing"))
    assert nn_data.find_data_root() == tmp_path / "env-missing"  # explicit choice wins even if missing
    assert nn_data.find_data_root(tmp_path / "arg") == tmp_path / "arg"


# ------------------------------------------------------------------------------------------ import: PNG

def _all_marks(images):
    return sorted(int(v) for v in images[:, 0, 0])


def test_import_png_folder_into_one_split(tmp_path):
    write_pngs(tmp_path / "pngs", n_per_class=3)
    result = data_mod.import_dataset(tmp_path / "pngs", "course", split="test", data_dir=tmp_path / "data")
    assert result.counts == {"test": [3] * 10} and result.warnings == []
    images, labels = nn_data.load_dataset("course", "test", data_dir=tmp_path / "data")
    assert images.shape == (30, 28, 28)
    assert np.array_equal(labels, images[:, 0, 0] // 20)  # every image kept its own label
    for img, y in zip(images, labels):
        assert np.array_equal(img, marked(int(y), int(img[0, 0]) % 20))
    assert not np.all(np.diff(labels.astype(int)) >= 0), "samples must not stay grouped by class"
    source = json.loads((tmp_path / "data" / "course" / "SOURCE").read_text())
    assert source["splits"]["test"]["per_class"] == [3] * 10
    assert not (tmp_path / "data" / "course" / FILES["train"][0]).exists()
    with pytest.raises(DataError, match=r"without a train split.*--split train"):
        nn_data.load_dataset("course", "train", data_dir=tmp_path / "data")


def test_import_png_zip_with_train_and_test(tmp_path):
    tree = tmp_path / "course_images"
    write_pngs(tree / "train", n_per_class=2)
    write_pngs(tree / "test", n_per_class=1)
    (tree / "train" / "3" / ".DS_Store").write_bytes(b"junk")
    archive = zip_folder(tree, tmp_path / "images.zip", extra=[("__MACOSX/course_images/._train", b"junk")])
    result = data_mod.import_dataset(archive, "fashion-mnist", data_dir=tmp_path / "data")
    assert result.counts == {"train": [2] * 10, "test": [1] * 10}
    assert len(result.warnings) == 2 and all("differ from the official" in w for w in result.warnings)
    for split, n in (("train", 2), ("test", 1)):
        images, labels = nn_data.load_dataset("fashion-mnist", split, data_dir=tmp_path / "data")
        assert np.bincount(labels).tolist() == [n] * 10
        assert _all_marks(images) == sorted(20 * k + i for k in range(10) for i in range(n))


def test_import_error_inside_zip_names_the_archive_member(tmp_path):
    tree = tmp_path / "course_images"
    write_pngs(tree / "train", n_per_class=1)
    write_pngs(tree / "test", n_per_class=1)
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tree / "test" / "7" / "0.png")
    archive = zip_folder(tree, tmp_path / "images.zip")
    with pytest.raises(DataError, match=re.escape(f"{archive}:course_images/test/7/0.png: image is 20x20")):
        data_mod.import_dataset(archive, "course", data_dir=tmp_path / "data")


def _gray_disguised(mode):
    gray = marked(0, 0)
    if mode == "RGB":
        return Image.fromarray(np.stack([gray] * 3, axis=-1))
    if mode == "RGBA":
        return Image.fromarray(np.stack([gray] * 3 + [np.full_like(gray, 255)], axis=-1))
    if mode == "P":
        im = Image.new("P", (28, 28))
        im.putpalette([v for i in range(256) for v in (i, i, i)])
        im.putdata(gray.reshape(-1).tolist())
        return im
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_import_accepts_gray_stored_as_colour(tmp_path, mode):
    write_pngs(tmp_path / "pngs", n_per_class=1)
    _gray_disguised(mode).save(tmp_path / "pngs" / "0" / "0.png")
    data_mod.import_dataset(tmp_path / "pngs", "course", data_dir=tmp_path / "data")
    images, labels = nn_data.load_dataset("course", "train", data_dir=tmp_path / "data")
    assert np.array_equal(images[labels == 0][0], marked(0, 0))


def _bad_png(kind, path):
    gray = marked(0, 0)
    if kind == "size":
        Image.fromarray(np.zeros((32, 30), np.uint8)).save(path)
    elif kind == "colour":
        rgb = np.stack([gray] * 3, axis=-1)
        rgb[5, 5] = (255, 0, 0)
        Image.fromarray(rgb).save(path)
    elif kind == "transparent":
        alpha = np.full_like(gray, 255)
        alpha[0, 0] = 0
        Image.fromarray(np.stack([gray] * 3 + [alpha], axis=-1)).save(path)
    elif kind == "16-bit":
        Image.fromarray(gray.astype(np.uint16) * 256).save(path)
    elif kind == "jpeg":
        Image.fromarray(gray).save(path, format="JPEG")
    elif kind == "garbage":
        path.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")


@pytest.mark.parametrize("kind, message", [
    ("size", "image is 30x32 pixels, expected 28x28"),
    ("colour", "is a colour image"),
    ("transparent", "has transparent pixels"),
    ("16-bit", "image mode 'I;16' is not supported"),
    ("jpeg", "is a JPEG image, not a PNG"),
    ("garbage", "not a readable PNG"),
])
def test_import_rejects_bad_images_naming_the_file(tmp_path, kind, message):
    write_pngs(tmp_path / "pngs", n_per_class=1)
    bad = tmp_path / "pngs" / "7" / "0.png"
    _bad_png(kind, bad)
    with pytest.raises(DataError, match=message) as e:
        data_mod.import_dataset(tmp_path / "pngs", "course", data_dir=tmp_path / "data")
    assert str(bad) in str(e.value)
    assert not (tmp_path / "data").exists(), "a refused import must write nothing"


@pytest.mark.parametrize("damage, message", [
    (lambda root: shutil.rmtree(root / "4"), "class folder 4/ is missing"),
    (lambda root: [p.unlink() for p in (root / "4").iterdir()], "class 4 is empty"),
    (lambda root: (root / "cat").mkdir(), r"unexpected folder\(s\) cat; class folders must be named 0 to 9"),
    (lambda root: (root / "2" / "notes.txt").write_text("x"), r"notes\.txt: unexpected file in a class folder"),
    (lambda root: (root / "2" / "more").mkdir(), "more: unexpected folder in a class folder"),
])
def test_import_rejects_bad_class_folders(tmp_path, damage, message):
    write_pngs(tmp_path / "pngs", n_per_class=1)
    damage(tmp_path / "pngs")
    with pytest.raises(DataError, match=message):
        data_mod.import_dataset(tmp_path / "pngs", "course", data_dir=tmp_path / "data")


def test_import_rejects_train_without_test(tmp_path):
    write_pngs(tmp_path / "pngs" / "train", n_per_class=1)
    (tmp_path / "pngs" / "README.txt").write_text("x")
    with pytest.raises(DataError, match=r"has a train/ folder but no test/ folder.*--split train"):
        data_mod.import_dataset(tmp_path / "pngs", "course", data_dir=tmp_path / "data")


def test_import_rejects_empty_or_unknown_input(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="found no class folders 0-9"):
        data_mod.import_dataset(tmp_path / "empty", "course", data_dir=tmp_path / "data")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataError, match="expected a folder, a .zip or a .csv"):
        data_mod.import_dataset(tmp_path / "x.txt", "course", data_dir=tmp_path / "data")
    with pytest.raises(DataError, match="does not exist"):
        data_mod.import_dataset(tmp_path / "missing", "course", data_dir=tmp_path / "data")
    with pytest.raises(DataError, match="invalid dataset name"):
        data_mod.import_dataset(tmp_path / "empty", "../escape", data_dir=tmp_path / "data")


# ------------------------------------------------------------------------------------------ import: zip safety

def _symlink_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("images/0/link.png")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")


@pytest.mark.parametrize("build, message", [
    (lambda p: zipfile.ZipFile(p, "w").writestr("../evil.png", b"x"), r"unsafe path '\.\./evil\.png'"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("a/../../evil.png", b"x"), "unsafe path"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("/abs/evil.png", b"x"), "unsafe path '/abs/evil.png'"),
    (_symlink_zip, "refusing symbolic link"),
    (lambda p: p.write_bytes(b"this is not a zip"), "not a readable zip file"),
])
def test_zip_unsafe_or_broken_is_refused(tmp_path, build, message):
    archive = tmp_path / "upload.zip"
    build(archive)
    with pytest.raises(DataError, match=message):
        data_mod.import_dataset(archive, "course", data_dir=tmp_path / "data")
    assert not (tmp_path / "evil.png").exists() and not (tmp_path.parent / "evil.png").exists()


def test_zip_bomb_and_too_many_files_are_refused(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/0/zeros.png", bytes(3 << 20))
        zf.writestr("a/1/x.png", b"x")
    assert archive.stat().st_size < 100_000
    monkeypatch.setattr(data_mod, "MAX_EXTRACT_BYTES", 1 << 20)
    with pytest.raises(DataError, match="expands to more than 1048576 bytes"):
        data_mod.import_dataset(archive, "course", data_dir=tmp_path / "data")
    monkeypatch.setattr(data_mod, "MAX_EXTRACT_BYTES", 10 << 20)
    monkeypatch.setattr(data_mod, "MAX_EXTRACT_FILES", 1)
    with pytest.raises(DataError, match="2 entries, more than the limit of 1"):
        data_mod.import_dataset(archive, "course", data_dir=tmp_path / "data")


def test_zip_lying_about_its_size_is_refused(tmp_path, monkeypatch):
    # The size check trusts the declared sizes because zipfile stops at them: prove that here.
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/0/zeros.png", bytes(3 << 20))
    blob = bytearray(archive.read_bytes())
    real = struct.pack("<I", 3 << 20)
    assert blob.count(real) == 2  # local header and central directory
    archive.write_bytes(bytes(blob).replace(real, struct.pack("<I", 10)))
    monkeypatch.setattr(data_mod, "MAX_EXTRACT_BYTES", 1 << 20)
    with pytest.raises(DataError, match=r"cannot extract 'a/0/zeros\.png' \(Bad CRC-32"):
        data_mod.import_dataset(archive, "course", data_dir=tmp_path / "data")


# ------------------------------------------------------------------------------------------ import: CSV

def test_import_csv_round_trip_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(data_mod, "CSV_CHUNK_ROWS", 7)  # several chunks, one partial
    images, labels = small_split(n_per_class=2)
    order = np.random.default_rng(1).permutation(len(labels))
    write_csv(tmp_path / "mnist_test.csv", images[order], labels[order])
    result = data_mod.import_dataset(tmp_path / "mnist_test.csv", "course", split="test", data_dir=tmp_path / "d")
    assert result.counts == {"test": [2] * 10}
    got_images, got_labels = nn_data.load_dataset("course", "test", data_dir=tmp_path / "d")
    assert np.array_equal(got_images, images[order]) and np.array_equal(got_labels, labels[order])


def test_import_csv_without_header(tmp_path):
    images, labels = small_split(n_per_class=1)
    write_csv(tmp_path / "train.csv", images, labels, header=False)
    data_mod.import_dataset(tmp_path / "train.csv", "course", data_dir=tmp_path / "d")
    got_images, got_labels = nn_data.load_dataset("course", "train", data_dir=tmp_path / "d")
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)


@pytest.mark.parametrize("as_zip", [False, True])
def test_import_kaggle_csv_folder_both_splits(tmp_path, as_zip):
    kaggle = tmp_path / "archive"
    for split, n in (("train", 3), ("test", 1)):
        images, labels = small_split(n_per_class=n, seed=n)
        write_csv(kaggle / f"fashion-mnist_{split}.csv", images, labels)
    source = zip_folder(kaggle, tmp_path / "archive.zip") if as_zip else kaggle
    result = data_mod.import_dataset(source, "course", data_dir=tmp_path / "d")
    assert result.counts == {"train": [3] * 10, "test": [1] * 10} and result.warnings == []
    for split, n in (("train", 3), ("test", 1)):
        images, labels = small_split(n_per_class=n, seed=n)
        got_images, got_labels = nn_data.load_dataset("course", split, data_dir=tmp_path / "d")
        assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)


def _csv_lines(n_per_class=1):
    images, labels = small_split(n_per_class)
    return ["label," + ",".join(f"pixel{j}" for j in range(1, 785))] + [
        ",".join(map(str, [int(y), *img.reshape(-1)])) for img, y in zip(images, labels)]


def _set_value(lines, line, column, value):
    values = lines[line - 1].split(",")
    values[column - 1] = value
    lines[line - 1] = ",".join(values)
    return lines


@pytest.mark.parametrize("damage, message", [
    (lambda ls: _set_value(ls, 5, 2, "256"), r"line 5, column 2: pixel value 256 is not in 0-255"),
    (lambda ls: _set_value(ls, 9, 785, "-1"), r"line 9, column 785: pixel value -1 is not in 0-255"),
    (lambda ls: _set_value(ls, 4, 1, "10"), r"line 4: label 10 is not in 0-9"),
    (lambda ls: _set_value(ls, 6, 300, "abc"), r"line 6: column 300: 'abc' is not an integer"),
    (lambda ls: _set_value(ls, 6, 300, "1.5"), r"line 6: column 300: '1.5' is not an integer"),
    (lambda ls: ls[:7] + [ls[7].rsplit(",", 1)[0]] + ls[8:], r"line 8: has 784 values, expected 785"),
    (lambda ls: [ls[0]] + [",".join(line.split(",")[:784]) for line in ls[1:]], r"line 2: has 784 values"),
    (lambda ls: ["id" + ls[0][5:]] + ls[1:], r"header must be label,pixel1.*starting with 'id'"),
    (lambda ls: ls[:1], "no data rows"),
    (lambda ls: [line for line in ls if not line.startswith("7,")], r"class\(es\) 7 have no samples"),
])
def test_import_csv_errors_are_specific(tmp_path, damage, message):
    path = tmp_path / "train.csv"
    path.write_text("\n".join(damage(_csv_lines())) + "\n")
    with pytest.raises(DataError, match=message) as e:
        data_mod.import_dataset(path, "course", data_dir=tmp_path / "d")
    assert str(path) in str(e.value)
    assert not (tmp_path / "d").exists()


def test_import_csv_folder_ambiguous(tmp_path):
    for name in ("a.csv", "b.csv", "c_train.csv"):
        (tmp_path / "csvs").mkdir(exist_ok=True)
        (tmp_path / "csvs" / name).write_text("")
    with pytest.raises(DataError, match=r"several CSV files \(a\.csv, b\.csv, c_train\.csv\)"):
        data_mod.import_dataset(tmp_path / "csvs", "course", data_dir=tmp_path / "d")


# ------------------------------------------------------------------------------------------ import: overwrite rules

def test_import_overwrite_rules(tmp_path, shared_data):
    images, labels = small_split(n_per_class=1)
    write_csv(tmp_path / "a.csv", images, labels)
    root = tmp_path / "d"
    data_mod.import_dataset(tmp_path / "a.csv", "course", data_dir=root)
    with pytest.raises(DataError, match=r"already has train-images-idx3-ubyte\.gz.*--force"):
        data_mod.import_dataset(tmp_path / "a.csv", "course", data_dir=root)
    data_mod.import_dataset(tmp_path / "a.csv", "course", split="test", data_dir=root)  # other split: fine
    data_mod.import_dataset(tmp_path / "a.csv", "course", data_dir=root, force=True)
    assert set(json.loads((root / "course" / "SOURCE").read_text())["splits"]) == {"train", "test"}

    nn_data.fetch("mnist", data_dir=root, mirror=str(shared_data))
    official = {p.name: nn_data.sha256(p) for p in (root / "mnist").iterdir()}
    with pytest.raises(DataError, match="holds fetched official files; importing would mix"):
        data_mod.import_dataset(tmp_path / "a.csv", "mnist", split="test", data_dir=root)
    assert official == {p.name: nn_data.sha256(p) for p in (root / "mnist").iterdir()}


# ------------------------------------------------------------------------------------------ verify and CLI

def test_cli_fetch_and_verify(tmp_path, shared_data, monkeypatch):
    monkeypatch.delenv("NNASSIGN_DATA_MIRROR", raising=False)
    result = run_cli("data", "fetch", "--dataset", "mnist", "--data-dir", str(tmp_path),
                     "--mirror", shared_data.as_uri())
    assert result.exit_code == 0, result.output
    assert result.output.count("downloaded") == 4 and f"mnist ready in {tmp_path / 'mnist'}" in result.output
    result = run_cli("data", "fetch", "--dataset", "mnist", "--data-dir", str(tmp_path),
                     "--mirror", shared_data.as_uri())
    assert result.exit_code == 0 and "downloaded" not in result.output and result.output.count("ok ") == 4
    result = run_cli("data", "verify", "--dataset", "mnist", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "train: 60000 samples" in result.output and "all files present are valid" in result.output


def test_cli_verify_reports_every_problem(tmp_path, shared_data):
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz", folder)
    shutil.copy(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz", folder)
    cut = (shared_data / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(cut[:1000])
    result = run_cli("data", "verify", "--dataset", "mnist", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "mnist: 2 problem(s)" in result.output
    assert "train-images-idx3-ubyte.gz is missing" in result.output
    assert "train-labels-idx1-ubyte.gz: sha256 does not match" in result.output
    assert "test: 10000 samples" in result.output  # the good split is still reported

    write_small_dataset(tmp_path / "fashion-mnist")
    result = run_cli("data", "verify", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.count("sha256 does not match") == 4
    assert "train: per-class counts differ from the official [6000" in result.output

    gz = tmp_path / "fashion-mnist" / FILES["test"][0]
    gz.write_bytes(gz.read_bytes()[:-20])
    result = run_cli("data", "verify", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path))
    assert "not a complete gzip file" in result.output and result.exit_code == 1

    result = run_cli("data", "verify", "--dataset", "nothing", "--data-dir", str(tmp_path))
    assert result.exit_code == 1 and "does not exist; run `nnassign data fetch" in result.output


def test_cli_fetch_offline_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NNASSIGN_DATA_MIRROR", raising=False)
    monkeypatch.setitem(nn_data.OFFICIAL_URLS, "fashion-mnist", closed_port_url())
    result = run_cli("data", "fetch", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.startswith("Error: could not download") and "NNASSIGN_DATA_MIRROR" in result.output
    result = run_cli("data", "fetch", "--dataset", "emnist")
    assert result.exit_code == 2 and "'emnist' is not one of" in result.output


def test_cli_import_and_verify_imported(tmp_path):
    write_pngs(tmp_path / "pngs", n_per_class=1)
    result = run_cli("data", "import", str(tmp_path / "pngs"), "--dataset", "mnist", "--split", "test",
                     "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert "wrote       test: 10 samples" in result.stdout and "imported test into" in result.stdout
    assert "warning: mnist test: per-class counts [1, 1" in result.stderr
    result = run_cli("data", "verify", "--dataset", "mnist", "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert "imported data" in result.output and "train: not imported" in result.output

    _bad_png("size", tmp_path / "pngs" / "3" / "0.png")
    result = run_cli("data", "import", str(tmp_path / "pngs"), "--dataset", "other",
                     "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'pngs' / '3' / '0.png'}: image is 30x32 pixels" in result.output
    result = run_cli("data", "import", str(tmp_path / "nope"), "--dataset", "x")
    assert result.exit_code == 2 and "does not exist" in result.output

"""Tooling around the data: verify the fetched files, import other layouts into the official one.

`import_dataset` converts what courses hand out into `<data root>/<name>/` with the official IDX gzip
file names, so `nn_data.load_dataset(name, split)` reads it like the official data:

- a folder of class subfolders `0` ... `9` holding 28x28 PNG images (one split), or a folder with
  `train/` and `test/` subfolders laid out that way (both splits), or a `.zip` of either;
- the Kaggle CSV (`label,pixel1,...,pixel784`, header optional): one file (one split), or a folder
  (or `.zip`) with one `*train*.csv` and one `*test*.csv` (both splits).

Decisions:
- Images must be 8-bit grayscale. RGB/RGBA/LA/palette PNGs are accepted only when they are gray in
  disguise (R == G == B everywhere, fully opaque); anything else is refused, naming the file, since
  there is no single right way to turn colour or transparency into the dataset's gray levels.
- PNG samples are stored in a fixed shuffled order (seed 0), not grouped by class, so that any
  prefix of the data holds every class, as in the official files. CSV rows keep their order.
- The imported folder gets a `SOURCE` file (JSON: where each split came from, per-class counts).
  `nn_data.fetch` refuses to overwrite such a folder, and `import` refuses to overwrite existing
  files (official or imported) unless `force=True`.
"""

import datetime
import gzip
import json
import os
import re
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import nn_data
from .nn_data import FILES, IMAGE_MAGIC, LABEL_MAGIC, SOURCE_FILE, DataError

N_CLASSES = 10
SPLITS = tuple(FILES)

# Per-class counts of the official files (see shared/data/README.md), to warn when an import differs.
OFFICIAL_COUNTS = {
    "fashion-mnist": {"train": [6000] * 10, "test": [1000] * 10},
    "mnist": {
        "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    },
}

# Zip extraction limits: far above the real datasets (about 70,000 files, < 250 MB as CSV),
# far below what a zip bomb expands to. Module attributes so tests can lower them.
MAX_EXTRACT_BYTES = 2 << 30
MAX_EXTRACT_FILES = 200_000

CSV_CHUNK_ROWS = 5000
PIXELS = 28 * 28


@dataclass
class ImportResult:
    folder: Path
    counts: dict = field(default_factory=dict)  # split -> list of 10 per-class counts
    warnings: list = field(default_factory=list)


def _is_junk(p):
    # Hidden files and the resource-fork folder macOS puts into zips are never data.
    return p.name.startswith(".") or p.name == "__MACOSX" or p.name in ("Thumbs.db", "desktop.ini")


def _visible(folder):
    return sorted((p for p in folder.iterdir() if not _is_junk(p)), key=lambda p: p.name)


def _natural_key(p):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


# ---------------------------------------------------------------------------------------- zip

def _safe_extract(zip_path, dest):
    """Extract zip_path into dest, refusing path traversal, links and absurd sizes."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{zip_path}: not a readable zip file ({e})") from None
    dest = Path(dest).resolve()
    with zf:
        members = zf.infolist()
        if len(members) > MAX_EXTRACT_FILES:
            raise DataError(f"{zip_path}: {len(members)} entries, more than the limit of {MAX_EXTRACT_FILES}")
        # zipfile never returns more than an entry's declared size (it cuts there and fails the CRC),
        # so the declared sizes bound what extraction writes: check them before writing anything.
        if sum(info.file_size for info in members) > MAX_EXTRACT_BYTES:
            raise DataError(f"{zip_path}: expands to more than {MAX_EXTRACT_BYTES} bytes; refusing to extract "
                            "(a damaged archive or a zip bomb?)")
        for info in members:
            name = info.filename
            target = (dest / name).resolve()
            if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or "\\" in name \
                    or not target.is_relative_to(dest):
                raise DataError(f"{zip_path}: refusing unsafe path {name!r} (it would be written outside "
                                "the extraction folder)")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise DataError(f"{zip_path}: refusing symbolic link {name!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as e:
                raise DataError(f"{zip_path}: cannot extract {name!r} ({e})") from None


# ---------------------------------------------------------------------------------------- layout

def _detect(root, split):
    """Return [(split, kind, source)] for the layout found under root; kind is "png" or "csv"."""
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return [(split, "csv", root)]
        raise DataError(f"{root}: expected a folder, a .zip or a .csv file")
    # Descend through wrapper folders (a zip of `fashion_mnist_images/train/...`).
    for _ in range(5):
        entries = _visible(root)
        if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in ("train", "test") \
                and not entries[0].name.isdigit():
            root = entries[0]
        else:
            break
    entries = _visible(root)
    dirs = {p.name: p for p in entries if p.is_dir()}
    if "train" in dirs or "test" in dirs:
        if not ("train" in dirs and "test" in dirs):
            have, lack = ("train", "test") if "train" in dirs else ("test", "train")
            raise DataError(f"{root} has a {have}/ folder but no {lack}/ folder: give both, or point at "
                            f"{root / have} itself with --split {have}")
        return [("train", "png", dirs["train"]), ("test", "png", dirs["test"])]
    if dirs:
        return [(split, "png", root)]
    csvs = [p for p in entries if p.is_file() and p.suffix.lower() == ".csv"]
    if len(csvs) == 1:
        return [(split, "csv", csvs[0])]
    if csvs:
        train = [p for p in csvs if "train" in p.name.lower()]
        test = [p for p in csvs if "test" in p.name.lower()]
        if len(train) == 1 and len(test) == 1 and train != test:
            return [("train", "csv", train[0]), ("test", "csv", test[0])]
        raise DataError(f"{root} holds several CSV files ({', '.join(p.name for p in csvs)}): expected exactly "
                        "one *train*.csv and one *test*.csv, or a single CSV")
    raise DataError(f"{root}: found no class folders 0-9, train/ and test/ folders, or CSV files")


# ---------------------------------------------------------------------------------------- PNG

def _read_png(path):
    from PIL import Image, UnidentifiedImageError  # only the import tooling needs Pillow

    try:
        with Image.open(path) as im:
            if im.format != "PNG":
                raise DataError(f"{path}: is a {im.format} image, not a PNG")
            if im.size != (28, 28):
                raise DataError(f"{path}: image is {im.size[0]}x{im.size[1]} pixels, expected 28x28")
            mode = im.mode
            if mode == "1":
                im = im.convert("L")
            elif mode == "P":
                im = im.convert("RGBA")
            array = np.asarray(im)
            mode = im.mode
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: not a readable PNG image ({e})") from None
    if mode == "L":
        return array
    if mode not in ("LA", "RGB", "RGBA"):
        raise DataError(f"{path}: image mode {mode!r} is not supported; save it as 8-bit grayscale (mode 'L')")
    gray = array[..., 0]
    if mode in ("LA", "RGBA") and (array[..., -1] != 255).any():
        raise DataError(f"{path}: image has transparent pixels; flatten it and save it as 8-bit grayscale")
    if mode in ("RGB", "RGBA") and ((array[..., 1] != gray) | (array[..., 2] != gray)).any():
        raise DataError(f"{path}: is a colour image (R, G, B differ); the dataset is grayscale, "
                        "convert it to 8-bit grayscale first")
    return gray


def _read_png_classes(root, log):
    """Read class folders 0-9 under root into (images, labels), in a fixed shuffled order."""
    dirs = [p for p in _visible(root) if p.is_dir()]
    unexpected = [p.name for p in dirs if p.name not in {str(k) for k in range(N_CLASSES)}]
    if unexpected:
        raise DataError(f"{root}: unexpected folder(s) {', '.join(unexpected)}; class folders must be named "
                        "0 to 9")
    images, labels = [], []
    for k in range(N_CLASSES):
        folder = root / str(k)
        if not folder.is_dir():
            raise DataError(f"{root}: class folder {k}/ is missing; every class 0-9 needs images")
        files = sorted(_visible(folder), key=_natural_key)
        for p in files:
            if p.is_dir() or p.suffix.lower() != ".png":
                raise DataError(f"{p}: unexpected {'folder' if p.is_dir() else 'file'} in a class folder "
                                "(only .png images are imported)")
        if not files:
            raise DataError(f"{folder}: class {k} is empty; every class 0-9 needs images")
        images.extend(_read_png(p) for p in files)
        labels.extend([k] * len(files))
        log(f"read        {len(files)} images of class {k} from {folder}")
    images = np.stack(images).astype(np.uint8)
    labels = np.asarray(labels, dtype=np.uint8)
    order = np.random.default_rng(0).permutation(len(labels))
    return images[order], labels[order]


# ---------------------------------------------------------------------------------------- CSV

def _csv_line_problem(line):
    """Why one CSV data line is unusable (for a precise message once NumPy has refused a chunk)."""
    values = line.split(",")
    if len(values) != PIXELS + 1:
        return f"has {len(values)} values, expected {PIXELS + 1} (label + {PIXELS} pixels)"
    for column, v in enumerate(values, 1):
        if not re.fullmatch(r"\s*[+-]?\d+\s*", v):
            return f"column {column}: {v.strip()!r} is not an integer"
    return None


def _check_ranges(block, csv_path, linenos):
    bad_label = np.flatnonzero((block[:, 0] < 0) | (block[:, 0] > 9))
    if bad_label.size:
        i = bad_label[0]
        raise DataError(f"{csv_path}, line {linenos[i]}: label {block[i, 0]} is not in 0-9")
    bad = np.argwhere((block[:, 1:] < 0) | (block[:, 1:] > 255))
    if bad.size:
        i, j = bad[0]
        raise DataError(f"{csv_path}, line {linenos[i]}, column {j + 2}: pixel value {block[i, j + 1]} "
                        "is not in 0-255")


def _read_csv(csv_path, log):
    """Read a Kaggle-style CSV (label, 784 pixels per row; header optional) into (images, labels)."""
    blocks = []
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            pending = []  # (line number, text) of the rows not parsed yet
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                if lineno == 1 and not re.match(r"\s*\"?[+-]?\d", line):
                    header = [h.strip().strip('"').lower() for h in line.split(",")]
                    if header[0] != "label" or len(header) != PIXELS + 1:
                        raise DataError(f"{csv_path}: header must be label,pixel1,...,pixel{PIXELS} "
                                        f"({PIXELS + 1} columns, label first); found {len(header)} columns "
                                        f"starting with {header[0]!r}")
                    continue
                pending.append((lineno, line))
                if len(pending) == CSV_CHUNK_ROWS:
                    blocks.append(_parse_csv_rows(pending, csv_path))
                    pending = []
            if pending:
                blocks.append(_parse_csv_rows(pending, csv_path))
    except UnicodeDecodeError:
        raise DataError(f"{csv_path}: not a text CSV file") from None
    except OSError as e:
        raise DataError(f"{csv_path}: cannot read ({e})") from None
    if not blocks:
        raise DataError(f"{csv_path}: no data rows")
    data = np.concatenate(blocks)
    log(f"read        {len(data)} rows from {csv_path}")
    return data[:, 1:].reshape(-1, 28, 28), data[:, 0].copy()


def _parse_csv_rows(rows, csv_path):
    linenos = [n for n, _ in rows]
    try:
        block = np.loadtxt([t for _, t in rows], delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError:
        for n, text in rows:
            problem = _csv_line_problem(text)
            if problem:
                raise DataError(f"{csv_path}, line {n}: {problem}") from None
        raise DataError(f"{csv_path}, lines {linenos[0]}-{linenos[-1]}: not integers separated by commas") \
            from None
    if block.shape[1] != PIXELS + 1:
        raise DataError(f"{csv_path}, line {linenos[0]}: has {block.shape[1]} values, expected {PIXELS + 1} "
                        f"(label + {PIXELS} pixels)")
    _check_ranges(block, csv_path, linenos)
    return block.astype(np.uint8)


# ---------------------------------------------------------------------------------------- writing

def write_idx_gz(path, array, magic):
    """Write a uint8 array as a gzip IDX file, atomically (temp file + rename), reproducibly (mtime 0)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(filename=path.stem, mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(header)
            gz.write(array.tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _counts(labels):
    return np.bincount(labels, minlength=N_CLASSES).tolist()


def import_dataset(path, dataset, split="train", data_dir=None, force=False, log=None):
    """Import PNG class folders / Kaggle CSV at `path` into <data root>/<dataset>/. Returns an ImportResult.

    Everything is read and checked before anything is written, so a refused import changes nothing.
    """
    log = log or (lambda line: None)
    nn_data.check_folder_name(dataset)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    folder = nn_data.find_data_root(data_dir) / dataset

    with tempfile.TemporaryDirectory(prefix="nnassign-import-") as scratch:
        # Name files inside a zip as `archive.zip:inner/path`, not by the scratch folder deleted below.
        def unscratch(text):
            return text.replace(scratch + os.sep, f"{path}:").replace(scratch, str(path))

        try:
            loaded = _load_parts(path, Path(scratch), split, folder, force, lambda line: log(unscratch(line)))
        except DataError as e:
            raise DataError(unscratch(str(e))) from None

    result = ImportResult(folder=folder)
    for s, (images, labels, counts, _) in loaded.items():
        result.counts[s] = counts
        official = OFFICIAL_COUNTS.get(dataset, {}).get(s)
        if official and counts != official:
            result.warnings.append(
                f"{dataset} {s}: per-class counts {counts} (total {sum(counts)}) differ from the official "
                f"{official} (total {sum(official)})")

    # SOURCE first: if the import is interrupted, the folder is still marked as not official,
    # so `fetch` will not mistake the half-written files for damaged official ones and replace them.
    folder.mkdir(parents=True, exist_ok=True)
    _write_source(folder, loaded)
    for s, (images, labels, counts, _) in loaded.items():
        image_file, label_file = FILES[s]
        write_idx_gz(folder / image_file, images, IMAGE_MAGIC)
        write_idx_gz(folder / label_file, labels, LABEL_MAGIC)
        log(f"wrote       {s}: {len(labels)} samples to {folder}, per class {counts}")
    return result


def _load_parts(path, scratch, split, folder, force, log):
    """Read and check every split found at path: {split: (images, labels, counts, origin)}."""
    root = path
    if path.is_file() and path.suffix.lower() == ".zip":
        log(f"extracting  {path}")
        _safe_extract(path, scratch)
        root = scratch
    parts = _detect(root, split)
    _check_targets(folder, [s for s, _, _ in parts], force)
    loaded = {}
    for s, kind, source in parts:
        images, labels = _read_png_classes(source, log) if kind == "png" else _read_csv(source, log)
        counts = _counts(labels)
        empty = [k for k, c in enumerate(counts) if c == 0]
        if empty:
            raise DataError(f"{source}: class(es) {', '.join(map(str, empty))} have no samples; "
                            "every class 0-9 needs at least one")
        origin = str(path) if source == root else f"{path} ({source.relative_to(root).as_posix()})"
        loaded[s] = (images, labels, counts, origin)
    return loaded


def _check_targets(folder, splits, force):
    """Refuse to overwrite existing dataset files, or to mix imported data with official files."""
    if force or not folder.exists():
        return
    existing = [f for s in SPLITS for f in FILES[s] if (folder / f).exists()]
    ours = [f for s in splits for f in FILES[s] if (folder / f).exists()]
    if existing and not (folder / SOURCE_FILE).exists():
        raise DataError(f"{folder} holds fetched official files; importing would mix them with imported "
                        "data. Use another --dataset name, or pass --force")
    if ours:
        raise DataError(f"{folder} already has {', '.join(ours)}; pass --force to replace them")


def _write_source(folder, loaded):
    marker = folder / SOURCE_FILE
    try:
        info = json.loads(marker.read_text())
        if not isinstance(info.get("splits"), dict):
            raise ValueError
    except (OSError, ValueError, AttributeError):
        info = {"splits": {}}
    info["origin"] = "nnassign data import"
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for s, (_, labels, counts, origin) in loaded.items():
        info["splits"][s] = {"from": origin, "samples": int(len(labels)), "per_class": counts, "imported": now}
    marker.write_text(json.dumps(info, indent=2) + "\n")


# ---------------------------------------------------------------------------------------- verify

def verify_dataset(dataset, data_dir=None):
    """Check the files present for `dataset`. Returns (lines, problems): report lines and the failures."""
    nn_data.check_folder_name(dataset)
    folder = nn_data.find_data_root(data_dir) / dataset
    lines, problems = [], []
    if not folder.is_dir():
        return lines, [f"{folder} does not exist; run `nnassign data fetch --dataset {dataset}`"]
    imported = (folder / SOURCE_FILE).exists()
    official = nn_data.CHECKSUMS.get(dataset) if not imported else None
    if imported:
        lines.append(f"{folder}: imported data (see {SOURCE_FILE}); official checksums do not apply")
    elif dataset not in nn_data.CHECKSUMS:
        problems.append(f"{folder}: unknown dataset without a {SOURCE_FILE} file; cannot check checksums")
    found_any = False
    for split in SPLITS:
        present = [f for f in FILES[split] if (folder / f).exists()]
        if not present:
            if imported:
                lines.append(f"{split}: not imported")
            else:
                problems.append(f"{split}: files {', '.join(FILES[split])} are missing from {folder}")
            continue
        found_any = True
        for f in FILES[split]:
            if f not in present:
                problems.append(f"{split}: {folder / f} is missing")
            elif official:
                if nn_data.sha256(folder / f) == official[f]:
                    lines.append(f"ok          {folder / f} (sha256)")
                else:
                    problems.append(f"{folder / f}: sha256 does not match the official file")
        if len(present) < 2:
            continue
        try:
            images = nn_data.read_idx_gz(folder / FILES[split][0], IMAGE_MAGIC)
            labels = nn_data.read_idx_gz(folder / FILES[split][1], LABEL_MAGIC)
        except DataError as e:
            problems.append(str(e))
            continue
        if len(images) != len(labels):
            problems.append(f"{split}: {len(images)} images but {len(labels)} labels")
            continue
        if labels.max(initial=0) > 9:
            problems.append(f"{split}: labels must be 0-9, found {labels.max()}")
            continue
        counts = _counts(labels)
        lines.append(f"{split}: {len(labels)} samples, 28x28, per class {counts}")
        expected = OFFICIAL_COUNTS.get(dataset, {}).get(split)
        if expected and counts != expected:
            note = f"{split}: per-class counts differ from the official {expected}"
            if imported:  # a course's own subset may legitimately differ
                lines.append(f"warning: {note}")
            else:
                problems.append(note)
    if imported and not found_any:
        problems.append(f"{folder}: no dataset files")
    return lines, problems

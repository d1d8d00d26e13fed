"""Load and validate `assignment_config.yaml`.

    config = load_config("assignment_config.yaml")    # Config; ConfigError names the file and the key
    config.dataset, config.normalisation, config.hidden_neurons, config.written_points_for("written_q3")
    data_root = config.prepare_data()                  # official files fetched, or an import verified

Every key is declared once in SCHEMA with its type, its allowed values and its default, so an
unknown key or a bad value is reported with the key's full name and what is allowed. `dataset` is
an official name or `{name, path}` of a folder made by `nnassign data import`; such a folder is
trusted only when its files match the checksums file written with it (CHECKSUMS_FILE).
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATASETS = ("fashion-mnist", "mnist")
NORMALISATIONS = ("scale", "zscore")   # the methods of the contract's preprocess
# sha256sum format ("<hex>  <file>"), one line per data file, beside the imported files.
CHECKSUMS_FILE = "SHA256SUMS"
OPTIONAL = object()  # a SCHEMA default: the key may be left out, its value is then None

# Modules that do the learning for the student; refused in the model (see import_policy).
DEFAULT_FORBIDDEN = ["torch", "torchvision", "tensorflow", "keras", "sklearn", "jax", "flax",
                     "mxnet", "paddle", "theano", "lightgbm", "xgboost", "autograd", "cupy"]


class ConfigError(Exception):
    """assignment_config.yaml is missing, unreadable or holds a bad key or value."""


def _number(lo=None, hi=None, integer=False):
    def check(key, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            raise ConfigError(f"{key}: expected {'a whole number' if integer else 'a number'}, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ConfigError(f"{key}: {v!r} is out of range; allowed {lo} to {hi if hi is not None else 'any'}")
        return v
    return check


def _choice(*allowed):
    def check(key, v):
        if v not in allowed:
            raise ConfigError(f"{key}: {v!r} is not allowed; choose one of {', '.join(map(str, allowed))}")
        return v
    return check


def _string(pattern=None, what="text"):
    def check(key, v):
        if not isinstance(v, str) or (pattern and not re.fullmatch(pattern, v)):
            raise ConfigError(f"{key}: expected {what}, got {v!r}")
        return v
    return check


def _regex(key, v):
    _string()(key, v)
    try:
        compiled = re.compile(v)
    except re.error as e:
        raise ConfigError(f"{key}: not a valid regular expression ({e})") from None
    if "id" not in compiled.groupindex:
        raise ConfigError(f"{key}: the pattern needs a named group (?P<id>...) for the student id")
    return v


def _module_list(key, v):
    if not isinstance(v, list) or not all(isinstance(m, str) and re.fullmatch(r"[A-Za-z_][\w.]*", m) for m in v):
        raise ConfigError(f"{key}: expected a list of module names, got {v!r}")
    return v


def _points(key, v):
    if not isinstance(v, dict):
        raise ConfigError(f"{key}: expected a mapping of question name to points, got {v!r}")
    for q, p in v.items():
        _string(r"[A-Za-z_]\w*", "a question name")(f"{key}", q)
        _number(0)(f"{key}.{q}", p)
    return v


def _tiers(key, v):
    if not isinstance(v, list) or not v:
        raise ConfigError(f"{key}: expected a non-empty list of {{min_accuracy, points}}")
    for i, tier in enumerate(v):
        where = f"{key}[{i}]"
        _validate(tier, {"min_accuracy": (_number(0, 1), None), "points": (_number(0), None)}, where)
    thresholds = [t["min_accuracy"] for t in v]
    if thresholds != sorted(set(thresholds)):
        raise ConfigError(f"{key}: min_accuracy values must be strictly increasing, got {thresholds}")
    return v


def _dataset(key, v):
    """An official name, or {name, path} of a dataset made by `nnassign data import`."""
    if isinstance(v, dict):
        unknown = sorted(set(v) - {"name", "path"})
        if unknown or not {"name", "path"} <= set(v):
            raise ConfigError(f"{key}: an imported dataset needs exactly the keys name and path "
                              f"(the folder `nnassign data import` wrote), got {sorted(v)}")
        _string(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a dataset name (letters, digits, '-', '_', '.')")(f"{key}.name", v["name"])
        _string(r".+", "the path of the imported dataset's folder")(f"{key}.path", v["path"])
        if v["name"] in DATASETS:
            raise ConfigError(f"{key}.name: {v['name']!r} is an official dataset; give its name alone "
                              f"(dataset: {v['name']}) or import your copy under another name")
        return dict(v)
    if v not in DATASETS:
        raise ConfigError(f"{key}: {v!r} is not allowed; choose one of {', '.join(DATASETS)}, or "
                          "{name: NAME, path: data/NAME} for a dataset made by `nnassign data import`")
    return v


def _public_seed(key, v):
    _number(0, 2**32 - 1, integer=True)(key, v)
    if v != 0:
        raise ConfigError(f"{key}: {v} is not supported: the public checks run at seed 0 (students run them without "
                          "NNASSIGN_SEED, and the release records their golden values there); leave it 0")
    return v


def _written_points(key, v):
    """A number for every written question, or {written_qN: points, default: points}."""
    if isinstance(v, dict):
        for q, p in v.items():
            _string(r"[A-Za-z_]\w*", "a question name or default")(key, q)
            _number(0)(f"{key}.{q}", p)
        return v
    return _number(0)(key, v)


# key: (validator, default) or a nested schema dict. Default None with no value = required;
# default OPTIONAL = may be left out (value None).
SCHEMA = {
    "name": (_string(r"[a-z0-9][a-z0-9-]*", "a lower-case name like nn-from-scratch"), None),
    "dataset": (_dataset, "fashion-mnist"),
    "normalisation": (_choice(*NORMALISATIONS), "scale"),
    "hidden_neurons": (_number(1, 4096, integer=True), OPTIONAL),
    "solution": (_string(r".+\.ipynb", "a path to the solution .ipynb"), "solution/nn_from_scratch.ipynb"),
    "points": (_points, {}),
    "written_points": (_written_points, 1),
    "accuracy_tiers": (_tiers, [{"min_accuracy": 0.60, "points": 2}]),
    "limits": {
        "timeout_seconds": (_number(1, 86400), 300),
        "cpu_seconds": (_number(1, 86400, integer=True), 600),
        "memory_mb": (_number(256, 1 << 20, integer=True), 4096),
        "output_mb": (_number(1, 4096, integer=True), 16),
        "processes": (_number(8, 4096, integer=True), 64),
    },
    "seeds": {
        # The public checks run at seed 0 on students' machines (NNASSIGN_SEED unset) and the release
        # records their golden values there: another value would reach no output, so it is refused.
        "public": (_public_seed, 0),
        "secret_env": (_string(r"[A-Z_][A-Z0-9_]*", "an environment variable name"), "NNASSIGN_SECRET"),
    },
    "import_policy": {
        "forbidden": (_module_list, DEFAULT_FORBIDDEN),
        "allowed_for_data": (_module_list, []),
        "penalty_points": (_number(0), 5),
    },
    "submissions": {
        "id_pattern": (_regex, r"^(?P<id>[^_.]+)"),
    },
}


def _validate(raw, schema, prefix=""):
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix or 'assignment_config.yaml'}: expected a mapping of keys, got {raw!r}")
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown key {where}{unknown[0]!s}; allowed keys here: {', '.join(schema)}")
    out = {}
    for key, spec in schema.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(spec, dict):
            out[key] = _validate(raw.get(key) or {}, spec, full)
            continue
        check, default = spec
        if key in raw:
            out[key] = check(full, raw[key])
        elif default is None:
            raise ConfigError(f"{full}: required key is missing")
        else:
            out[key] = None if default is OPTIONAL else default
    return out


@dataclass(frozen=True)
class Config:
    """The validated configuration; `values` holds every key, defaults filled in."""

    path: Path
    values: dict
    lines: dict = field(default_factory=dict)  # dotted key -> its line in the file, for messages

    def __getattr__(self, key):
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def root(self):
        return self.path.parent

    @property
    def dataset(self):
        """The dataset's name, as the notebook and nn_data.load_dataset know it."""
        value = self.values["dataset"]
        return value["name"] if isinstance(value, dict) else value

    @property
    def imported_dataset(self):
        """The folder of an imported dataset (resolved beside this config), else None."""
        value = self.values["dataset"]
        return (self.root / value["path"]).resolve() if isinstance(value, dict) else None

    @property
    def data_dir(self):
        """Where datasets live: an imported dataset's parent folder, else $NNASSIGN_DATA_DIR, else
        data/ beside this config."""
        if self.imported_dataset is not None:
            return self.imported_dataset.parent
        return Path(os.environ.get("NNASSIGN_DATA_DIR") or self.root / "data").resolve()

    def prepare_data(self, log=None):
        """The data root holding the dataset, ready to read: official files fetched and verified,
        or an imported folder checked against its checksums file. Raises nn_data.DataError."""
        from . import nn_data

        if self.imported_dataset is None:
            return nn_data.fetch(self.dataset, data_dir=self.data_dir, log=log).parent
        verify_checksums(self.imported_dataset, where=f"{self.path}: dataset.path")
        return self.data_dir

    def written_points_for(self, question):
        """Points of one written question: `written_points` as a number, or its mapping's entry
        (else its `default`, else 1)."""
        value = self.values["written_points"]
        if isinstance(value, dict):
            return value.get(question, value.get("default", 1))
        return value

    @property
    def solution_path(self):
        return self.root / self.values["solution"]


def key_lines(text):
    """({dotted key: line of its first occurrence}, [(dotted key, first line, repeated line)]).

    YAML itself (and PyYAML) keeps the last of two equal keys silently; a config must say each
    thing once, so the second list must be empty. Lines are counted from 1.
    """
    lines, twice = {}, []

    def walk(node, prefix):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key, value in node.value:
                name = f"{prefix}{key.value}" if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name in seen:
                    twice.append((name, seen[name], key.start_mark.line + 1))
                elif name is not None:
                    seen[name] = lines[name] = key.start_mark.line + 1
                walk(value, f"{name}." if name else prefix)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{prefix[:-1]}[{i}]." if prefix else f"[{i}].")

    walk(yaml.compose(text, Loader=yaml.SafeLoader), "")
    return lines, twice


def write_checksums(folder):
    """Write CHECKSUMS_FILE in `folder`: the sha256 of every IDX file there. Returns its path."""
    from . import nn_data

    folder = Path(folder)
    names = sorted(f for split in nn_data.FILES.values() for f in split if (folder / f).exists())
    lines = [f"{nn_data.sha256(folder / name)}  {name}\n" for name in names]
    (folder / CHECKSUMS_FILE).write_text("".join(lines))
    return folder / CHECKSUMS_FILE


def verify_checksums(folder, where="dataset"):
    """Check an imported dataset folder against its checksums file; DataError names what is wrong."""
    from . import nn_data

    folder = Path(folder)
    sums = folder / CHECKSUMS_FILE
    if not (folder / nn_data.SOURCE_FILE).exists():
        raise nn_data.DataError(f"{where}: {folder} was not made by `nnassign data import` (no {nn_data.SOURCE_FILE} "
                                "file there)")
    if not sums.exists():
        raise nn_data.DataError(f"{where}: {folder} has no {CHECKSUMS_FILE}: import the data again with "
                                "`nnassign data import PATH --dataset NAME --force`, which writes it")
    listed = {}
    for n, line in enumerate(sums.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise nn_data.DataError(f"{sums}, line {n}: expected '<sha256>  <file>', got {line!r}")
        listed[parts[1].lstrip("*")] = parts[0]
    if not any(f in listed for f in nn_data.FILES["train"]) or not all(f in listed for f in nn_data.FILES["test"]):
        raise nn_data.DataError(f"{where}: {sums} must list the train and test files of the dataset, lists "
                                f"{', '.join(sorted(listed)) or 'nothing'}")
    for name, digest in sorted(listed.items()):
        if not (folder / name).exists():
            raise nn_data.DataError(f"{where}: {folder / name} is listed in {CHECKSUMS_FILE} but missing")
        if nn_data.sha256(folder / name) != digest:
            raise nn_data.DataError(f"{where}: {folder / name} does not match its sha256 in {sums}: the data "
                                    "changed since it was imported; import it again")
    return folder


def load_config(path="assignment_config.yaml"):
    """The validated Config of `path`; ConfigError names the file, the key and what is allowed."""
    path = Path(path)
    try:
        text = path.read_text()
        lines, twice = key_lines(text)
        raw = yaml.safe_load(text) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (run nnassign from the assignment folder or pass --config)") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if twice:
        raise ConfigError("\n".join(f"{path.resolve()}: duplicate key {key} on lines {first} and {again}: YAML "
                                    "would silently keep the last value; keep one" for key, first, again in twice))
    try:
        config = Config(path.resolve(), _validate(raw, SCHEMA), lines)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    folder = config.imported_dataset
    if folder is not None:
        line = lines.get("dataset.path", "?")
        if folder.name != config.dataset:
            raise ConfigError(f"{path.resolve()}, line {line}: dataset.path must be the folder named after the "
                              f"dataset (<data root>/{config.dataset}), got {folder}")
        if not folder.is_dir():
            raise ConfigError(f"{path.resolve()}, line {line}: dataset.path {folder} does not exist; make it with "
                              f"`nnassign data import PATH --dataset {config.dataset} --data-dir {folder.parent}`")
    return config

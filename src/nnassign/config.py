"""Load and validate `assignment_config.yaml`.

Every key is declared once in SCHEMA with its type, its allowed values and its default, so an
unknown key or a bad value is reported with the key's full name and what is allowed.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATASETS = ("fashion-mnist", "mnist")

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


# key: (validator, default) or a nested schema dict. Default None with no value = required.
SCHEMA = {
    "name": (_string(r"[a-z0-9][a-z0-9-]*", "a lower-case name like nn-from-scratch"), None),
    "dataset": (_choice(*DATASETS), "fashion-mnist"),
    "solution": (_string(r".+\.ipynb", "a path to the solution .ipynb"), "solution/nn_from_scratch.ipynb"),
    "points": (_points, {}),
    "written_points": (_number(0), 1),
    "accuracy_tiers": (_tiers, [{"min_accuracy": 0.60, "points": 2}]),
    "limits": {
        "timeout_seconds": (_number(1, 86400), 300),
        "cpu_seconds": (_number(1, 86400, integer=True), 600),
        "memory_mb": (_number(256, 1 << 20, integer=True), 4096),
        "output_mb": (_number(1, 4096, integer=True), 16),
        "processes": (_number(8, 4096, integer=True), 64),
    },
    "seeds": {
        "public": (_number(0, 2**32 - 1, integer=True), 0),
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
            out[key] = default
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
    def data_dir(self):
        """Where datasets live: $NNASSIGN_DATA_DIR, else data/ beside this config."""
        return Path(os.environ.get("NNASSIGN_DATA_DIR") or self.root / "data").resolve()

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
        return Config(path.resolve(), _validate(raw, SCHEMA), lines)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None

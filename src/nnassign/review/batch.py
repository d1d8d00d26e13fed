"""A graded output folder as the review page and `nnassign finalize` see it.

Reads `OUT/results/<id>.json` (written by `nnassign grade`), the written questions and their
reference answers from the solution notebook (report.reference_answers) and the points of each
written question from the config's `written_points`: a number for every question, or a mapping
{written_qk: points} (with an optional `default`) for per-question points.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import report


class BatchError(Exception):
    """The output folder cannot be reviewed (no results, unreadable files); the message says why."""


def _natural_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def points_for(written_points, question) -> float:
    """Points of one written question from `written_points` in either form (number or mapping)."""
    if isinstance(written_points, dict):
        value = written_points.get(question, written_points.get("default", 1))
    else:
        value = written_points
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise BatchError(f"written_points for {question}: expected a number >= 0, got {value!r}")
    return float(value)


@dataclass
class Batch:
    out: Path
    results: dict                      # id -> result dict, ids in natural order
    questions: list                    # written question names, natural order
    reference: dict                    # question -> {"prompt", "answer"}
    points: dict                       # question -> maximum points
    answers: dict = field(default_factory=dict)   # (id, question) -> answer text ("" = no answer)

    @property
    def ids(self):
        return list(self.results)

    def answered(self, question):
        """Ids whose answer to `question` is not empty: these need a TA's score."""
        return [i for i in self.results if self.answers.get((i, question))]


def load_results(out_dir) -> dict:
    """{id: result} from OUT/results/*.json; a missing folder or unreadable file is a BatchError."""
    folder = Path(out_dir) / "results"
    if not folder.is_dir():
        raise BatchError(f"{folder} not found: run `nnassign grade SUBMISSIONS --out {out_dir}` first")
    results = {}
    for path in sorted(folder.glob("*.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BatchError(f"{path}: not a readable result ({e})") from None
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise BatchError(f"{path}: not a result written by `nnassign grade` (no id)")
        results[result["id"]] = result
    if not results:
        raise BatchError(f"{folder} holds no results: run `nnassign grade SUBMISSIONS --out {out_dir}` first")
    return {i: results[i] for i in sorted(results, key=_natural_key)}


def load_batch(out_dir, written_points=1, reference=None) -> Batch:
    """The batch in `out_dir`. reference: report.reference_answers(solution notebook), or None."""
    results = load_results(out_dir)
    reference = reference or {}
    names = {q for q in reference if q.startswith("written_")}
    for r in results.values():
        names.update(q for q in (r.get("written_answers") or {}) if isinstance(q, str))
    questions = sorted(names, key=_natural_key)
    answers = {}
    for sid, r in results.items():
        written = r.get("written_answers") if isinstance(r.get("written_answers"), dict) else {}
        for q in questions:
            text = written.get(q)
            answers[(sid, q)] = text.strip() if isinstance(text, str) else ""
    return Batch(out=Path(out_dir), results=results, questions=questions, reference=reference,
                 points={q: points_for(written_points, q) for q in questions}, answers=answers)


def load_for_config(out_dir, config) -> Batch:
    """The batch with the written points and reference answers of an assignment config."""
    import nbformat

    reference = None
    if config.solution_path.exists():
        reference = report.reference_answers(nbformat.read(config.solution_path, as_version=4))
    return load_batch(out_dir, config.values.get("written_points", 1), reference)

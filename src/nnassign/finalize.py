"""`nnassign finalize OUT`: autograded results + the TAs' written scores -> the final grade files.

Writes, in OUT:
- `final_grades.csv`: per student the autograded questions, each written question, the totals, and
  flags (written scores missing and counted 0, a score given to an answer that changed since);
- `final_canvas_grades.csv`: Canvas's gradebook import format (report.write_canvas_csv);
- `final/gradescope/<id>/results.json`: Otter's Gradescope results with one test per written question,
  its comment as the test's output;
- `final/feedback/<id>.md` and `.html`: the autograder feedback plus the written scores and comments.

An answered written question without a score is "missing": finalize lists them and writes nothing
unless `allow_missing`, in which case they count 0 and the student's row is flagged. An empty answer
counts 0 without a score (a TA may still score it). Only `OUT/results/` and the score store are
read, so `nnassign grade` can regrade in between without losing a written score.
"""

import copy
import csv
import io
from dataclasses import dataclass, field

from . import report
from .batch import question_names
from .record import write_json_atomic, write_text_atomic
from .review.batch import Batch
from .review.store import ScoreStore, answer_sha


class MissingScores(Exception):
    """Answered written questions without a score; `missing` lists (id, question)."""

    def __init__(self, missing):
        self.missing = missing
        shown = "\n".join(f"  {sid}: {q}" for sid, q in missing[:50])
        more = f"\n  ... and {len(missing) - 50} more" if len(missing) > 50 else ""
        super().__init__(f"{len(missing)} written answer(s) have no score yet:\n{shown}{more}\n"
                         "Score them with `nnassign review`, or pass --allow-missing to count them 0 "
                         "(those students are flagged).")


@dataclass
class Final:
    rows: list                      # one dict per student: the final_grades.csv row
    missing: list                   # (id, question) counted 0
    changed: list                   # (id, question) scored before the answer changed
    paths: dict = field(default_factory=dict)


def _num(x):
    return round(float(x), 4)


def merge(batch: Batch, scores: dict):
    """Per student: (final result dict, written [(question, points, possible, comment, state)]).

    state is "scored", "empty" (no answer, 0), "missing" (answered, no score: 0) or "changed"."""
    merged = []
    for sid, result in batch.results.items():
        written = []
        for q in batch.questions:
            score, answer = scores.get((sid, q)), batch.answers[(sid, q)]
            if score is not None:
                state = "changed" if score.answer_sha and score.answer_sha != answer_sha(answer) else "scored"
                written.append((q, score.points, batch.points[q], score.comment, state))
            else:
                written.append((q, 0.0, batch.points[q], "", "missing" if answer else "empty"))
        # A result may list written questions among its own (Otter's manual questions at 0): replace them.
        auto_q = {q: v for q, v in (result.get("questions") or {}).items() if q not in batch.points}
        auto_total = sum(float(v.get("points") or 0) for v in auto_q.values()) if auto_q else float(result.get("total") or 0)
        auto_possible = (sum(float(v.get("possible") or 0) for v in auto_q.values()) if auto_q
                         else float(result.get("possible") or 0))
        final = dict(result, questions=auto_q, auto_total=_num(auto_total), auto_possible=_num(auto_possible),
                     written_total=_num(sum(w[1] for w in written)),
                     written_possible=_num(sum(w[2] for w in written)))
        final["total"] = _num(auto_total + final["written_total"])
        final["possible"] = _num(auto_possible + final["written_possible"])
        final["percent"] = round(100 * final["total"] / final["possible"], 2) if final["possible"] else 0.0
        merged.append((final, written))
    return merged


def _flags(written):
    missing = [q for q, _, _, _, s in written if s == "missing"]
    changed = [q for q, _, _, _, s in written if s == "changed"]
    flags = []
    if missing:
        flags.append("written score missing, counted 0: " + " ".join(missing))
    if changed:
        flags.append("answer changed since scored: " + " ".join(changed))
    return "; ".join(flags)


def written_markdown(written) -> str:
    lines = ["## Written answers", ""]
    for q, points, possible, comment, state in written:
        note = {"empty": " (no answer)", "missing": " (not scored yet)"}.get(state, "")
        lines += [f"**{report._md_inline(q)}**: {report._num(points)} / {report._num(possible)}{note}", ""]
        if comment:
            lines += [report._md_fence(comment), ""]
    return "\n".join(lines)


def written_html(written) -> str:
    parts = ["<h2>Written answers</h2>"]
    for q, points, possible, comment, state in written:
        note = {"empty": " (no answer)", "missing": " (not scored yet)"}.get(state, "")
        parts.append(f"<p><strong>{report._e(q)}</strong>: {report._num(points)} / {report._num(possible)}"
                     f"{report._e(note)}</p>")
        if comment:
            parts.append(f"<pre>{report._e(comment)}</pre>")
    return "\n".join(parts)


def gradescope_results(final, written) -> dict:
    """Otter's results.json for the student with one visible test per written question."""
    gs = copy.deepcopy(final.get("gradescope")) if isinstance(final.get("gradescope"), dict) else {
        "tests": [], "output": str(final.get("message") or "")}
    gs.setdefault("tests", [])
    for q, points, possible, comment, state in written:
        output = comment or {"empty": "No answer.", "missing": "Not scored yet: counted 0."}.get(state, "")
        gs["tests"].append({"name": f"{q} (written)", "score": points, "max_score": possible,
                            "output": output, "visibility": "visible"})
    gs["score"] = final["total"]
    return gs


def finalize(batch: Batch, store: ScoreStore | None = None, allow_missing=False, assignment_name="assignment"):
    """Merge and write the final files (see the module docstring); MissingScores unless allowed."""
    store = store or ScoreStore(batch.out)
    merged = merge(batch, store.scores())
    missing = [(f["id"], q) for f, w in merged for q, _, _, _, s in w if s == "missing"]
    if missing and not allow_missing:
        raise MissingScores(missing)
    changed = [(f["id"], q) for f, w in merged for q, _, _, _, s in w if s == "changed"]
    out = batch.out
    auto_names = question_names([f for f, _ in merged])
    header = ["id", *auto_names, *batch.questions, "autograded", "written", "total", "possible", "percent",
              "status", "flags", "message"]
    rows = []
    for final, written in merged:
        points = dict((q, p) for q, p, *_ in written)
        rows.append({"id": final["id"],
                     **{q: (final["questions"].get(q) or {}).get("points", 0.0) for q in auto_names},
                     **points, "autograded": final["auto_total"], "written": final["written_total"],
                     "total": final["total"], "possible": final["possible"], "percent": final["percent"],
                     "status": final.get("status", ""), "flags": _flags(written),
                     "message": report._csv_text(final.get("message"))})
    text = io.StringIO(newline="")
    w = csv.DictWriter(text, fieldnames=header)
    w.writeheader()
    for row in rows:
        w.writerow({**row, "id": report._csv_text(row["id"])})
    write_text_atomic(out / "final_grades.csv", text.getvalue())
    possible = max((f["possible"] for f, _ in merged), default=None)
    canvas = report.write_canvas_csv([f for f, _ in merged], out / "final_canvas_grades.csv",
                                     assignment_name, possible)
    for final, written in merged:
        name = report.safe_name(final["id"])
        write_json_atomic(out / "final" / "gradescope" / name / "results.json", gradescope_results(final, written))
        md = report.feedback_markdown(final).rstrip() + "\n\n" + written_markdown(written).rstrip() + "\n"
        page = report.feedback_html(final).replace("\n</body></html>", "\n" + written_html(written) + "\n</body></html>")
        write_text_atomic(out / "final" / "feedback" / f"{name}.md", md)
        write_text_atomic(out / "final" / "feedback" / f"{name}.html", page)
    return Final(rows=rows, missing=missing, changed=changed,
                 paths={"grades": out / "final_grades.csv", "canvas": canvas,
                        "gradescope": out / "final" / "gradescope", "feedback": out / "final" / "feedback"})

"""Written scores in a SQLite file inside the grading output folder (`OUT/written_scores.sqlite`).

Why SQLite: every score is one small transaction, durable as soon as the page is told "saved", so a
crash or a closed tab loses nothing; several TAs (several `nnassign review` processes, or one server
with many tabs) can write the same file at once. WAL mode lets readers and one writer work together;
each score is its own upsert keyed by (student, question), so two TAs scoring different answers never
overwrite each other. Each row carries a version: a save based on an older version than the one
stored (another TA changed that very answer meanwhile) is refused as a conflict instead of being lost.

`nnassign grade` never touches this file, so a regrade keeps every written score.
"""

import csv
import hashlib
import io
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "written_scores.sqlite"
CSV_COLUMNS = ("id", "question", "points", "comment", "grader", "updated")
MAX_COMMENT = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    student TEXT NOT NULL, question TEXT NOT NULL, points REAL NOT NULL, comment TEXT NOT NULL DEFAULT '',
    grader TEXT NOT NULL DEFAULT '', answer_sha TEXT NOT NULL DEFAULT '', updated REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (student, question));
CREATE TABLE IF NOT EXISTS rubrics (question TEXT PRIMARY KEY, text TEXT NOT NULL, updated REAL NOT NULL);
"""


class ScoreError(ValueError):
    """A score, id or CSV row that cannot be stored; the message says which and why."""


class Conflict(Exception):
    """The answer was scored by someone else since the page loaded it; `current` is the stored row."""

    def __init__(self, current):
        super().__init__("scored by someone else meanwhile")
        self.current = current


@dataclass(frozen=True)
class Score:
    student: str
    question: str
    points: float
    comment: str
    grader: str
    answer_sha: str
    updated: float
    version: int


def answer_sha(text) -> str:
    """Fingerprint of the answer a score was given for (finalize flags a score whose answer changed)."""
    return hashlib.sha256(("" if text is None else str(text)).strip().encode("utf-8", "replace")).hexdigest()[:16]


def check_points(points, maximum, where="points") -> float:
    """points as a float within [0, maximum], else ScoreError."""
    try:
        value = float(points)
    except (TypeError, ValueError):
        raise ScoreError(f"{where}: {points!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or value > maximum:
        raise ScoreError(f"{where}: {points!r} is out of range; allowed 0 to {maximum:g}")
    return value


class ScoreStore:
    """The scores and rubrics of one output folder. One short-lived connection per call: safe from
    any thread or process, and nothing stays open between requests."""

    def __init__(self, out_dir):
        self.path = Path(out_dir) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")   # persistent: set once for the file
            db.executescript(_SCHEMA)

    def _connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)   # autocommit; explicit BEGIN below
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=FULL")    # a score acknowledged is a score on disk
        db.row_factory = sqlite3.Row
        return _Closing(db)

    # ---------------------------------------------------------------- scores

    def get(self, student, question):
        with self._connect() as db:
            row = db.execute("SELECT * FROM scores WHERE student=? AND question=?", (student, question)).fetchone()
        return Score(**dict(row)) if row else None

    def scores(self, question=None) -> dict:
        """{(student, question): Score}, of one question or all."""
        sql, args = ("SELECT * FROM scores WHERE question=?", (question,)) if question else ("SELECT * FROM scores", ())
        with self._connect() as db:
            return {(r["student"], r["question"]): Score(**dict(r)) for r in db.execute(sql, args)}

    def save(self, student, question, points, comment="", grader="", sha="", base_version=None) -> Score:
        """Upsert one score. base_version: the version the grader saw (0 = none); a different stored
        version raises Conflict. None skips the check (CSV import, scripts)."""
        comment = "" if comment is None else str(comment)
        if len(comment) > MAX_COMMENT:
            raise ScoreError(f"comment: longer than {MAX_COMMENT} characters")
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")   # the version check and the write are one transaction
            try:
                row = db.execute("SELECT * FROM scores WHERE student=? AND question=?",
                                 (student, question)).fetchone()
                stored = row["version"] if row else 0
                if base_version is not None and int(base_version) != stored:
                    raise Conflict(Score(**dict(row)) if row else None)
                db.execute(
                    "INSERT INTO scores (student, question, points, comment, grader, answer_sha, updated, version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (student, question) DO UPDATE SET"
                    " points=excluded.points, comment=excluded.comment, grader=excluded.grader,"
                    " answer_sha=excluded.answer_sha, updated=excluded.updated, version=scores.version+1",
                    (student, question, float(points), comment, str(grader or ""), sha, time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get(student, question)

    def delete(self, student, question, base_version=None) -> None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT * FROM scores WHERE student=? AND question=?",
                                 (student, question)).fetchone()
                if base_version is not None and row and int(base_version) != row["version"]:
                    raise Conflict(Score(**dict(row)))
                db.execute("DELETE FROM scores WHERE student=? AND question=?", (student, question))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ---------------------------------------------------------------- rubrics

    def rubric(self, question) -> str:
        with self._connect() as db:
            row = db.execute("SELECT text FROM rubrics WHERE question=?", (question,)).fetchone()
        return row["text"] if row else ""

    def save_rubric(self, question, text) -> None:
        text = "" if text is None else str(text)
        if len(text) > MAX_COMMENT:
            raise ScoreError(f"rubric: longer than {MAX_COMMENT} characters")
        with self._connect() as db:
            db.execute("INSERT INTO rubrics VALUES (?, ?, ?) ON CONFLICT (question) DO UPDATE SET"
                       " text=excluded.text, updated=excluded.updated", (question, text, time.time()))

    # ---------------------------------------------------------------- CSV

    def export_csv(self) -> str:
        out = io.StringIO(newline="")
        w = csv.writer(out)
        w.writerow(CSV_COLUMNS)
        for (student, question), s in sorted(self.scores().items()):
            w.writerow([student, question, f"{s.points:g}", s.comment, s.grader,
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.updated))])
        return out.getvalue()

    def import_csv(self, text, known, max_points, answers=None, grader="csv import") -> int:
        """Store every row of a CSV in the export's format; all rows are checked first and nothing is
        stored unless all are valid. known: {student id: ...}; max_points(question) -> float or None
        for an unknown question; answers: {(student, question): text} for the answer fingerprints."""
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            raise ScoreError("the CSV has no rows (expected the columns " + ", ".join(CSV_COLUMNS[:4]) + ")")
        missing = [c for c in ("id", "question", "points") if c not in rows[0]]
        if missing:
            raise ScoreError(f"the CSV lacks the column(s) {', '.join(missing)}")
        checked, errors = [], []
        for line, row in enumerate(rows, start=2):
            sid, q = (row.get("id") or "").strip(), (row.get("question") or "").strip()
            try:
                if sid not in known:
                    raise ScoreError(f"unknown student id {sid!r}")
                top = max_points(q)
                if top is None:
                    raise ScoreError(f"unknown question {q!r}")
                points = check_points(row.get("points"), top)
                comment = row.get("comment") or ""
                if len(comment) > MAX_COMMENT:
                    raise ScoreError(f"comment longer than {MAX_COMMENT} characters")
            except ScoreError as e:
                errors.append(f"line {line}: {e}")
                continue
            checked.append((sid, q, points, comment, (row.get("grader") or grader).strip()))
        if errors:
            raise ScoreError(f"{len(errors)} bad row(s), nothing imported:\n" + "\n".join(errors[:20]))
        for sid, q, points, comment, who in checked:
            self.save(sid, q, points, comment, who, answer_sha((answers or {}).get((sid, q), "")))
        return len(checked)


class _Closing:
    """`with` for a sqlite3 connection that closes it (sqlite3's own `with` only commits)."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        return self.db

    def __exit__(self, *exc):
        self.db.close()

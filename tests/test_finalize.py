"""nnassign finalize: autograded results + written scores -> final_grades.csv, the Canvas CSV,
Gradescope results and feedback with the comments; missing scores refused unless allowed."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graded_out import HOSTILE, REFERENCE, make_out
from nnassign.finalize import MissingScores, finalize
from nnassign.review.batch import load_batch
from nnassign.review.store import ScoreStore, answer_sha

REPO = Path(__file__).resolve().parents[1]
QS = ["written_q1", "written_q2", "written_q3"]
REF = {q: REFERENCE[q] for q in QS}


@pytest.fixture
def out(tmp_path):
    make_out(tmp_path, n=4, questions=QS)
    return tmp_path


def score_all(out, batch, points=1.0, comment=lambda sid, q: f"comment for {sid} {q}"):
    store = ScoreStore(out)
    for sid in batch.ids:
        for q in batch.questions:
            if batch.answers[(sid, q)]:
                store.save(sid, q, points, comment(sid, q), "ta", answer_sha(batch.answers[(sid, q)]))
    return store


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_missing_scores_are_listed_and_nothing_is_written(out):
    batch = load_batch(out, 2, REF)
    ScoreStore(out).save("s000", "written_q1", 2)
    with pytest.raises(MissingScores) as e:
        finalize(batch)
    expected = [(sid, q) for sid in batch.ids for q in QS if batch.answers[(sid, q)] and (sid, q) != ("s000", "written_q1")]
    assert e.value.missing == expected and "s001: written_q1" in str(e.value) and "--allow-missing" in str(e.value)
    assert not (out / "final_grades.csv").exists() and not (out / "final_canvas_grades.csv").exists()


def test_allow_missing_counts_zero_and_flags(out):
    batch = load_batch(out, 2, REF)
    ScoreStore(out).save("s000", "written_q1", 2, "fine")
    final = finalize(batch, allow_missing=True, assignment_name="nn-from-scratch")
    by_id = {r["id"]: r for r in rows(out / "final_grades.csv")}
    assert float(by_id["s000"]["written_q1"]) == 2 and float(by_id["s000"]["written_q2"]) == 0
    assert "written score missing, counted 0: written_q2 written_q3" in by_id["s000"]["flags"]
    assert len(final.missing) == sum(1 for sid in batch.ids for q in QS if batch.answers[(sid, q)]) - 1


def test_totals_merge_autograded_and_written(out):
    batch = load_batch(out, 2, REF)
    score_all(out, batch, points=1.5)
    finalize(batch, assignment_name="nn-from-scratch")
    for row in rows(out / "final_grades.csv"):
        auto = batch.results[row["id"]]["total"]
        answered = sum(1 for q in QS if batch.answers[(row["id"], q)])
        assert float(row["autograded"]) == auto and float(row["written"]) == 1.5 * answered
        assert float(row["total"]) == pytest.approx(auto + 1.5 * answered)
        assert float(row["possible"]) == 36 + 2 * len(QS) and row["flags"] == ""
        assert float(row["q1"]) == auto
    canvas = list(csv.reader(open(out / "final_canvas_grades.csv")))
    assert canvas[0][-1] == "nn-from-scratch" and canvas[1][0] == "Points Possible" and canvas[1][-1] == "42"
    assert {r[1]: float(r[-1]) for r in canvas[2:]} == {r["id"]: float(r["total"]) for r in rows(out / "final_grades.csv")}


def test_gradescope_results_and_feedback_carry_the_comments(out):
    batch = load_batch(out, 1, REF)
    score_all(out, batch, comment=lambda sid, q: HOSTILE if sid == "s002" else f"nice {q}")
    finalize(batch)
    gs = json.loads((out / "final" / "gradescope" / "s000" / "results.json").read_text())
    written = {t["name"]: t for t in gs["tests"] if "(written)" in t["name"]}
    assert written["written_q2 (written)"]["output"] == "nice written_q2"
    assert written["written_q2 (written)"]["max_score"] == 1 and gs["score"] == batch.results["s000"]["total"] + 3
    assert any(t["name"] == "q1" for t in gs["tests"])              # the autograded tests stay
    md = (out / "final" / "feedback" / "s000.md").read_text()
    assert "## Written answers" in md and "nice written_q3" in md and "**written\\_q1**: 1 / 1" in md
    page = (out / "final" / "feedback" / "s002.html").read_text()
    assert "<h2>Written answers</h2>" in page and "&lt;script&gt;window.pwned" in page and "<script>" not in page


def test_an_answer_changed_after_scoring_is_flagged(out):
    batch = load_batch(out, 1, REF)
    score_all(out, batch)
    path = out / "results" / "s000.json"
    result = json.loads(path.read_text())
    result["written_answers"]["written_q2"] = "a resubmitted, different answer"
    path.write_text(json.dumps(result))
    final = finalize(load_batch(out, 1, REF))
    assert final.changed == [("s000", "written_q2")]
    row = next(r for r in rows(out / "final_grades.csv") if r["id"] == "s000")
    assert "answer changed since scored: written_q2" in row["flags"] and float(row["written_q2"]) == 1


def test_empty_answers_count_zero_without_a_score(out):
    batch = load_batch(out, 1, REF)
    empty = [(sid, q) for sid in batch.ids for q in QS if not batch.answers[(sid, q)]]
    score_all(out, batch)
    finalize(batch)
    by_id = {r["id"]: r for r in rows(out / "final_grades.csv")}
    for sid, q in empty:
        assert float(by_id[sid][q]) == 0 and by_id[sid]["flags"] == ""


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nnassign.cli", *map(str, args)], capture_output=True, text=True)


def test_cli_refuses_then_allows(out, tmp_path):
    config = yaml.safe_load((REPO / "assignment_config.yaml").read_text())
    config["written_points"] = 2
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "assignment_config.yaml").write_text(yaml.safe_dump(config))
    done = run_cli("finalize", out, "--config", tmp_path / "cfg" / "assignment_config.yaml")
    assert done.returncode == 1 and "have no score yet" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("finalize", out, "--allow-missing", "--config", tmp_path / "cfg" / "assignment_config.yaml")
    assert done.returncode == 0, done.stderr
    assert "counted 0" in done.stderr and (out / "final_grades.csv").exists()
    assert float(rows(out / "final_grades.csv")[0]["possible"]) == 36 + 2 * len(QS)

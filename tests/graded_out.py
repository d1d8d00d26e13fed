"""Fake-but-valid graded output folders (the schema `nnassign grade` writes to OUT/results/) for the
review, finalize and benchmark code; the browser test starts from a real `nnassign grade` run."""

import json
import random
from pathlib import Path

HOSTILE = ('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
           '</div></textarea>{{ 7*7 }} & "quotes" \'single\'')
QUESTIONS = [f"written_q{k}" for k in range(1, 18)]
REFERENCE = {q: {"prompt": f"**[Q{q[9:]}]** Prompt of {q}", "answer": f"Reference answer of {q}."} for q in QUESTIONS}


def result(sid, answers, total=10.0, possible=36.0, status="graded"):
    return {"id": sid, "file": f"submissions/{sid}.ipynb", "sha256": "0" * 64, "status": status,
            "message": "1 test case(s) failed", "questions": {"q1": {"points": total, "possible": possible}},
            "tests": [{"question": "q1", "name": "test_one", "hidden": False, "passed": total == possible,
                       "points": total, "possible": possible, "message": "softmax over the wrong axis?"}],
            "total": total, "possible": possible, "percent": round(100 * total / possible, 2),
            "cell_errors": [], "policy_violations": [], "written_answers": answers, "duration_s": 1.0,
            "gradescope": {"tests": [{"name": "q1", "score": total, "max_score": possible, "output": "",
                                      "visibility": "visible"}], "score": total}}


def make_out(out, n=5, seed=0, hostile=True, questions=QUESTIONS):
    """OUT/results/<id>.json for n students s000.. with answers to every question but a few empty ones."""
    rnd = random.Random(seed)
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        sid = f"s{i:03d}"
        answers = {q: ("" if rnd.random() < 0.1 else f"Answer of {sid} to {q}: " + " ".join(
            rnd.choice(["because", "the", "gradient", "softmax", "loss", "shrinks"]) for _ in range(12)))
            for q in questions}
        if hostile and i == 1:
            answers[questions[0]] = HOSTILE
        if i == 0:
            answers = {q: (t or f"Answer of {sid} to {q}") for q, t in answers.items()}   # s000 answers all
        (out / "results" / f"{sid}.json").write_text(json.dumps(result(sid, answers, total=float(i % 37))))
        ids.append(sid)
    return ids

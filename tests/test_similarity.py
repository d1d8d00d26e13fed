"""nnassign similarity on a synthetic class (tests/synthetic_class.py): planted copies, disguised by
renamed variables, reordered functions and cells and rewritten comments, must rank above every pair
of independent solutions; the template's code must not make students look alike; the report escapes
what students wrote."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnassign.config import load_config
from nnassign.similarity import own_code, notebook_code, run_similarity
from synthetic_class import (TEMPLATE, disguised, disguised_answers, independent, independent_answers)

REPO = Path(__file__).resolve().parents[1]
COPIES = {"copy0": "ind0", "copy1": "ind4", "copy2": "ind7"}
HOSTILE = "<script>window.pwned = 1</script><img src=x onerror=alert(1)>"


def write_class(out, notebooks, answers, status="graded"):
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "subs").mkdir(exist_ok=True)
    for sid, nb in notebooks.items():
        path = out / "subs" / f"{sid}.ipynb"
        nbformat.write(nb, path)
        (out / "results" / f"{sid}.json").write_text(json.dumps(
            {"id": sid, "file": str(path), "status": status, "written_answers": answers.get(sid, {})}))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("similarity")
    notebooks = {f"ind{i}": independent(i) for i in range(12)}
    answers = {sid: independent_answers(i) for i, sid in enumerate(notebooks)}
    for copy_id, source in COPIES.items():
        notebooks[copy_id] = disguised(notebooks[source], hash(copy_id) % 1000)
        answers[copy_id] = disguised_answers(answers[source], 7)
    answers["ind1"]["written_q1"] = HOSTILE + " " + answers["ind1"]["written_q1"]
    write_class(out, notebooks, answers)
    html, csv_path, pairs = run_similarity(out, load_config(REPO / "assignment_config.yaml"), top=10)
    return out, html, csv_path, pairs


def is_planted(p):
    return COPIES.get(p.a) == p.b or COPIES.get(p.b) == p.a


def test_planted_copies_rank_above_every_independent_pair(synthetic):
    _, _, _, pairs = synthetic
    planted = [p for p in pairs if is_planted(p)]
    others = [p for p in pairs if not is_planted(p)]
    assert len(planted) == 3 and len(pairs) == 15 * 14 // 2
    assert min(p.code for p in planted) > max(p.code for p in others), \
        [(p.a, p.b, round(p.code, 3)) for p in pairs[:6]]
    assert {(p.a, p.b) for p in pairs[:3]} == {(p.a, p.b) for p in planted}
    # Written answers copied with edits stand out the same way.
    assert min(p.written for p in planted) > max(p.written for p in others)


def test_copies_are_disguised_for_real(synthetic):
    """The planted copy's text differs from its source: the detector did the work, not equality."""
    out, *_ = synthetic
    cells = notebook_code(nbformat.read(TEMPLATE, as_version=4))
    template_lines = {line.strip() for c in cells for line in c.splitlines()}

    def lines(sid):   # the student's own lines (template lines out)
        code = own_code(nbformat.read(out / "subs" / f"{sid}.ipynb", as_version=4), cells)
        return {line.strip() for line in code.splitlines()} - template_lines - {""}

    for copy_id, source in COPIES.items():
        original = lines(source)
        assert len(lines(copy_id) & original) < 0.5 * len(original), copy_id


def test_template_code_is_not_what_makes_students_alike(tmp_path):
    """Untouched templates have no own code; a student's own code excludes template cells and docstrings."""
    template = nbformat.read(TEMPLATE, as_version=4)
    cells = notebook_code(template)
    assert own_code(template, cells) == ""
    student = independent(3)
    mine = own_code(student, cells)
    assert "def softmax" in mine and "import numpy as np" not in mine.split("def ")[0]
    write_class(tmp_path, {"t1": template, "t2": template, "s": student}, {})
    _, _, pairs = run_similarity(tmp_path, load_config(REPO / "assignment_config.yaml"))
    assert all(p.code == 0 for p in pairs)


def test_report_html_and_csv(synthetic):
    out, html, csv_path, pairs = synthetic
    text = html.read_text()
    assert "<mark>" in text and "copy0" in text and "Top pairs" in text
    assert HOSTILE not in text
    rows = list(csv.DictReader(open(csv_path)))
    assert len(rows) == len(pairs)
    assert {rows[0]["a"], rows[0]["b"]} in [{a, b} for a, b in COPIES.items()]
    assert float(rows[0]["code_similarity"]) == pytest.approx(pairs[0].code, abs=1e-4)


def test_hostile_text_is_escaped_in_the_report(tmp_path):
    """A pair sharing hostile answers: shown, highlighted, never as markup."""
    answers = {"a": {"written_q1": HOSTILE * 3}, "b": {"written_q1": HOSTILE * 3}}
    nb = independent(1)
    write_class(tmp_path, {"a": nb, "b": disguised(nb, 1)}, answers)
    html, _, pairs = run_similarity(tmp_path, load_config(REPO / "assignment_config.yaml"))
    text = html.read_text()
    assert pairs[0].written > 0.9
    assert "&lt;script&gt;" in text and "<script>" not in text and "<img" not in text


def test_unreadable_submissions_are_listed_not_fatal(tmp_path):
    write_class(tmp_path, {"ok": independent(2), "ok2": independent(5)}, {})
    (tmp_path / "subs" / "broken.ipynb").write_text("{ nope")
    (tmp_path / "results" / "broken.json").write_text(json.dumps(
        {"id": "broken", "file": str(tmp_path / "subs" / "broken.ipynb"), "status": "invalid-notebook"}))
    html, _, pairs = run_similarity(tmp_path, load_config(REPO / "assignment_config.yaml"))
    assert len(pairs) == 3 and "broken" in html.read_text()
    assert all(p.code == 0 for p in pairs if "broken" in (p.a, p.b))


def test_cli_without_results_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nnassign.cli", "similarity", str(tmp_path),
                           "--config", str(REPO / "assignment_config.yaml")], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "results" in done.stderr and "nnassign grade" in done.stderr

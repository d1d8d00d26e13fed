"""Tests for nnassign.report: feedback, Canvas CSV, class report, written answers, grade table."""

import copy
import csv
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from nnassign import report

FIXTURES = Path(__file__).parent / "fixtures" / "report"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE_ID = "<script>alert('id')</script>"
LOCKED = {"deletable": False, "editable": False}


@pytest.fixture
def results():
    return json.loads((FIXTURES / "results.json").read_text(encoding="utf-8"))


def by_id(results, sid):
    return next(r for r in results if r["id"] == sid)


def assert_no_raw_markup(text):
    """Student-supplied markup must never appear unescaped in HTML."""
    for raw in ("<script>", "<img src=x", "</script>"):
        assert raw not in text, raw


# --- file names ----------------------------------------------------------------------------------

def test_safe_name_keeps_clean_ids_and_neutralises_hostile_ones():
    assert report.safe_name("alice_01") == "alice_01"
    hostile = report.safe_name("../../etc/passwd")
    assert "/" not in hostile and "." not in hostile
    # Replaced characters must not make two different ids share a file.
    assert report.safe_name("a/b") != report.safe_name("a_b")
    assert report.safe_name("") and report.safe_name(None)


# --- feedback ------------------------------------------------------------------------------------

def test_feedback_shows_status_first_then_total_then_every_failing_message(results, tmp_path):
    alice = by_id(results, "alice")
    md_path, html_path = report.write_feedback(alice, tmp_path)
    assert md_path == tmp_path / "feedback" / "alice.md" and html_path == tmp_path / "feedback" / "alice.html"
    for text in (md_path.read_text(encoding="utf-8"), html_path.read_text(encoding="utf-8")):
        assert text.index("Status") < text.index("graded in 3.2 s") < text.index("Total") < text.index("q1")
        assert "1 / 4" in text and "25%" in text
        for t in alice["tests"]:
            assert t["name"] in text or t["name"].replace("_", "\\_") in text   # md escapes _
            if not t["passed"]:
                assert t["message"] in text   # hidden tests' failure messages are shown too
        assert "(hidden)" in text and "FAILED" in text
        assert "NameError: name &#x27;W&#x27; is not defined" in text or "NameError: name 'W' is not defined" in text


def test_feedback_explains_statuses_and_lists_policy_violations(results):
    bob = report.feedback_markdown(by_id(results, "bob"))
    assert report.STATUS_TEXT["timeout"] in bob and "stopped after 300 s" in bob
    carol = report.feedback_html(by_id(results, "carol"))
    assert "Import policy violations" in carol and "import torch" in carol and "module torch" in carol


def test_feedback_escapes_hostile_id_and_message(results, tmp_path):
    hostile = by_id(results, HOSTILE_ID)
    md_path, html_path = report.write_feedback(hostile, tmp_path)
    assert md_path.parent == tmp_path / "feedback"   # the id cannot choose the folder
    page = html_path.read_text(encoding="utf-8")
    assert_no_raw_markup(page)
    assert "&lt;script&gt;alert(&#x27;id&#x27;)" in page and "alert(&#x27;message&#x27;)" in page
    assert "script-src 'none'" in page
    md = md_path.read_text(encoding="utf-8")
    heading = md.splitlines()[0]
    assert "<script>" not in heading and "&lt;script&gt;" in heading
    # Multi-line untrusted text sits in a fence, which Markdown renders literally.
    assert "```text\n<script>alert('message')</script>\n```" in md


def test_md_fence_outgrows_backticks_in_the_text():
    fenced = report._md_fence("a\n````\nb")
    assert fenced.startswith("`````text\n") and fenced.endswith("\n`````")


# --- Canvas CSV ----------------------------------------------------------------------------------

def test_canvas_csv_has_one_row_per_result(results, tmp_path):
    path = report.write_canvas_csv(results, tmp_path / "canvas.csv", "NN from scratch")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "NN from scratch"]
    assert len(rows) == 1 + len(results)
    scores = {row[1]: row[5] for row in rows[1:]}
    assert scores["alice"] == "1" and scores["bob"] == "0" and scores["carol"] == "-4"
    assert scores[HOSTILE_ID] == "3"
    # A missing total stays empty; an id that looks like a formula is neutralised.
    assert scores["'=HYPERLINK(\"http://x\")"] == ""
    assert all(row[0] == row[2] == row[3] == row[4] == "" for row in rows[1:])


def test_canvas_csv_points_possible_row_is_optional(results, tmp_path):
    path = report.write_canvas_csv(results[:1], tmp_path / "c.csv", "NN", points_possible=20)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[1] == ["Points Possible", "", "", "", "", "20"] and len(rows) == 3


# --- class report --------------------------------------------------------------------------------

def assert_png(path):
    data = Path(path).read_bytes()
    assert len(data) > 100 and data.startswith(PNG_SIGNATURE)


def test_class_report_tables_stats_and_plots(results, tmp_path):
    html_path = report.write_class_report(results, tmp_path)
    assert html_path == tmp_path / "report.html"
    page = html_path.read_text(encoding="utf-8")
    for name in ("score_histogram.png", "test_pass_rates.png"):
        assert f'src="report/{name}"' in page
        assert_png(html_path.parent / "report" / name)   # the relative path resolves
    assert "<td>timeout</td><td class=\"num\">1</td>" in page
    assert "<td>graded</td><td class=\"num\">2</td>" in page
    assert "<td>crashed</td><td class=\"num\">0</td>" in page
    assert "<td>mean</td><td class=\"num\">50</td>" in page   # 25 and 75: non-graded excluded
    assert_no_raw_markup(page)


def test_summary_and_pass_rates_count_only_graded(results):
    stats = report.summary_stats(results)
    assert stats == {"n": 2, "mean": 50.0, "median": 50.0, "min": 25.0, "max": 75.0}
    rates = report.pass_rates(results)
    assert rates == [("q1: test_softmax_columns", 2, 2), ("q2: test_loss_finite", 1, 2),
                     ("q2: test_loss_mean", 1, 2)]


def test_class_report_with_zero_graded_submissions(results, tmp_path):
    only_timeout = [by_id(results, "bob")]
    assert report.pass_rates(only_timeout) == []
    assert report.summary_stats(only_timeout)["mean"] is None
    report.write_class_report(only_timeout, tmp_path)
    assert_png(tmp_path / "report" / "test_pass_rates.png")
    assert_png(tmp_path / "report" / "score_histogram.png")
    report.write_class_report([], tmp_path / "empty")
    assert "0 submissions, 0 graded" in (tmp_path / "empty" / "report.html").read_text(encoding="utf-8")


# --- written answers: extraction -----------------------------------------------------------------

def prompt(k, text="Explain."):
    return new_markdown_cell(f"<!-- BEGIN QUESTION -->\n\n**[Q{k}]** {text}", metadata=dict(LOCKED))


def answer(text=report.PLACEHOLDER):
    return new_markdown_cell(text, metadata={"tags": [report.ANSWER_TAG]})


def end():
    return new_markdown_cell("<!-- END QUESTION -->\n\n", metadata=dict(LOCKED))


def student_nb(cells):
    nb = new_notebook()
    nb.cells = cells
    return nbformat.from_dict(json.loads(nbformat.writes(nb)))   # a round trip, as a read file is


def test_extract_from_an_untouched_and_a_filled_otter_notebook():
    nb = nbformat.read(FIXTURES / "otter_student_demo.ipynb", as_version=4)
    assert report.extract_written_answers(nb) == {"written_q1": ""}
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and report.ANSWER_TAG in c.metadata.get("tags", []))
    cell.source = "Because exp(1000) overflows."
    assert report.extract_written_answers(nb) == {"written_q1": "Because exp(1000) overflows."}


def test_extract_follows_moved_added_and_retyped_cells():
    nb = student_nb([
        new_code_cell("import numpy as np"),
        prompt(2), answer("Second answer."), end(),                      # block moved above Q1
        prompt(1), answer("First part."), new_markdown_cell("Added cell."),
        new_code_cell("print('experiment')"), end(),                     # student code is not an answer
        prompt(3), answer(),                                              # untouched placeholder
        end(),
        prompt(4), end(),
        new_markdown_cell("## Part 5"),
        answer("Moved below its END marker."),                            # orphan -> Q4
        prompt(10), new_code_cell("x = 1", metadata={"tags": [report.ANSWER_TAG]}),  # retyped to code
        new_code_cell("grader.check('q5')", metadata=dict(LOCKED)),       # END deleted: locked cell stops
        new_markdown_cell("Not part of Q10."),
    ])
    assert report.extract_written_answers(nb) == {
        "written_q1": "First part.\n\nAdded cell.", "written_q2": "Second answer.", "written_q3": "",
        "written_q4": "Moved below its END marker.", "written_q10": "x = 1"}


def test_extract_prefers_real_prompts_and_falls_back_to_the_tag():
    nb = student_nb([
        new_markdown_cell("**[Q1]** prompt whose BEGIN comment the student deleted"),
        answer("Answer one, as in **[Q2]**."),
        end(),
        new_markdown_cell("I discuss **[Q2]** here."),                    # a quote, not the prompt
        prompt(2), answer(f"{report.PLACEHOLDER}\nTyped below the placeholder."), end(),
    ])
    assert report.extract_written_answers(nb) == {
        "written_q1": "Answer one, as in **[Q2]**.", "written_q2": "Typed below the placeholder."}


# --- written answers: reference ------------------------------------------------------------------

def test_reference_answers_from_the_otter_demo_solution():
    nb = nbformat.read(FIXTURES / "otter_solution_demo.ipynb", as_version=4)
    assert report.reference_answers(nb) == {
        "q2": {"prompt": "**[Q1]** Why subtract the max?", "answer": "Because exp overflows. REFANSWER"}}


def test_reference_answers_keeps_only_manual_questions():
    nb = new_notebook()
    nb.cells = [
        new_raw_cell("# BEGIN QUESTION\nname: softmax\npoints: 2"),
        new_markdown_cell("Implement softmax."),
        new_raw_cell("# BEGIN SOLUTION"), new_code_cell("def softmax(Z): ..."), new_raw_cell("# END SOLUTION"),
        new_raw_cell("# END QUESTION"),
        new_raw_cell("# BEGIN QUESTION\nname: written_q3\nmanual: true"),
        new_markdown_cell("**[Q3]** Why ReLU?"),
        new_raw_cell("# BEGIN SOLUTION"), new_markdown_cell("No saturation."),
        new_markdown_cell("Cheap gradient."), new_raw_cell("# END SOLUTION"),
        new_raw_cell("# END QUESTION"),
        new_markdown_cell("Outside any question."),
    ]
    assert report.reference_answers(nb) == {
        "written_q3": {"prompt": "**[Q3]** Why ReLU?", "answer": "No saturation.\n\nCheap gradient."}}


# --- written answers: pages ----------------------------------------------------------------------

def test_written_answer_pages_side_by_side_and_escaped(results, tmp_path):
    reference = {"written_q1": {"prompt": "**[Q1]** Why subtract the max?", "answer": "exp overflows"}}
    index = report.write_written_answers(results, reference, tmp_path)
    folder = tmp_path / "written_answers"
    assert index == folder / "index.html"
    index_page = index.read_text(encoding="utf-8")
    assert 'href="written_q1.html"' in index_page and 'href="written_q2.html"' in index_page
    q1 = (folder / "written_q1.html").read_text(encoding="utf-8")
    assert q1.index("Why subtract the max?") < q1.index("exp overflows") < q1.index("<td>alice</td>")
    assert q1.count("<tr><td>") == len(results)   # one row per student, answered or not
    assert "Because exp overflows for large logits." in q1 and "(no answer)" in q1
    assert "3 of 5 answered" in q1
    for page in (q1, (folder / "written_q2.html").read_text(encoding="utf-8")):
        assert_no_raw_markup(page)
    assert "&lt;script&gt;alert(&#x27;answer&#x27;)" in q1
    md = (folder / "written_q1.md").read_text(encoding="utf-8")
    assert "````text\n<script>alert('answer')</script> | not a table\n```\nfence\n````" in md


def test_write_all_writes_every_report(results, tmp_path):
    paths = report.write_all(results, tmp_path, "NN from scratch",
                             reference=report.reference_answers(
                                 nbformat.read(FIXTURES / "otter_solution_demo.ipynb", as_version=4)))
    assert len(list((tmp_path / "feedback").glob("*.html"))) == len(results)
    for key in ("canvas", "report", "written_answers"):
        assert paths[key].is_file()
    assert (tmp_path / "written_answers" / "q2.html").is_file()   # reference-only question gets a page


# --- terminal table ------------------------------------------------------------------------------

def test_format_table_aligns_columns_and_sanitises(results):
    rows = copy.deepcopy(results)
    rows[0]["message"] = "x" * 200
    table = report.format_table(rows, message_width=60)
    assert "\x1b" not in table
    lines = table.splitlines()
    header = lines[0]
    assert len(lines) == 1 + len(rows)
    status_col, pct_end = header.index("status"), header.index("percent") + len("percent")
    for line, r in zip(lines[1:], rows):
        assert line[status_col:].startswith(r["status"])
        assert line[:pct_end].endswith(("%", "-"))        # numbers right-aligned under their header
    assert "25.0%" in lines[1] and lines[1].endswith("x" * 59 + "…")
    dave = lines[-1]
    assert "zip [2J second line" in dave   # ESC and newline replaced, text kept
    assert " 1 / 4 " in lines[1] and "- / 4" in dave


def test_format_table_pads_wide_characters_by_display_width():
    rows = [{"id": "学生", "status": "graded", "total": 1, "possible": 2, "message": ""},
            {"id": "abcd", "status": "timeout", "total": 0, "possible": 2, "message": ""}]
    header, wide, narrow = report.format_table(rows).splitlines()
    assert narrow.index("timeout") == header.index("status")
    assert wide.index("graded") == header.index("status") - 2   # two 2-column characters


# --- hidden tests: name and message only (issue 8) --------------------------------------------------

HIDDEN_SOURCE = "assert np.allclose(A, E / E.sum(axis=0)), 'softmax is wrong for other logits: normalise each column'"
OTTER_FAILURE = ("❌ Test case failed\nError at line 31 in test q3:\n      " + HIDDEN_SOURCE +
                 "\nAssertionError: softmax is wrong for other logits: normalise each column")


def test_feedback_shows_a_hidden_test_by_name_and_message_only(results, tmp_path):
    alice = copy.deepcopy(by_id(results, "alice"))
    alice["tests"].append({"question": "q3", "name": "test_softmax_hidden", "hidden": True, "passed": False,
                           "points": 0.0, "possible": 1.0, "message": OTTER_FAILURE})
    md_path, html_path = report.write_feedback(alice, tmp_path)
    for text in (md_path.read_text(encoding="utf-8"), html_path.read_text(encoding="utf-8")):
        assert "test_softmax_hidden" in text or "test\\_softmax\\_hidden" in text
        assert text.count("softmax is wrong for other logits: normalise each column") == 1
        for source in ("np.allclose", "E.sum", "Error at line", "AssertionError", "Test case failed"):
            assert source not in text, source

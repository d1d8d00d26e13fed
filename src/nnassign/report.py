"""Reports from grading results: student feedback, Canvas CSV, class report, written answers.

Input is the list of result dicts written by `nnassign grade` (one per submission). Everything a
student wrote or caused (id, messages, errors, answers) is untrusted: it is HTML-escaped in HTML,
put in code fences or backslash-escaped in Markdown, and stripped of control characters in the
terminal table. Nothing here executes or renders student content.

All outputs keep the order of `results`: sort them before calling for a sorted report.
"""

import csv
import hashlib
import math
import html
import re
import statistics
import unicodedata
from pathlib import Path

import yaml

from .record import STATUSES  # the one list of statuses; every table here follows its order
from .messages import clean_message  # a test's message without the test's source, once

# What each status means for the student, shown before the grader's one-line message.
STATUS_TEXT = {
    "graded": "Your notebook ran and was graded.",
    "timeout": "Your notebook did not finish within the time limit; only what ran before was graded.",
    "memory-limit": "Your notebook used more memory than allowed and was stopped.",
    "output-limit": "Your notebook printed more output than allowed and was stopped.",
    "invalid-notebook": "The file is not a valid Jupyter notebook, so it could not be run.",
    "invalid-submission": "The submission could not be read (expected a .ipynb or the zip from grader.export()).",
    "wrong-assignment": "The submitted notebook belongs to a different assignment.",
    "crashed": "The grader failed on this submission; the course staff will look at it.",
    "policy-violation": "The notebook imports a module that may not be used for the model (see below).",
}

PLACEHOLDER = "_Type your answer here, replacing this text._"   # Otter's manual-answer stub
OTTER_PASSED = "✅ Test case passed"   # Otter's message for every passing test: not worth repeating
ANSWER_TAG = "otter_answer_cell"
_QTAG = re.compile(r"\*\*\[Q(\d+)\]\*\*")
_BEGIN_MD = "<!-- BEGIN QUESTION -->"
_END_MD = "<!-- END QUESTION -->"
# Raw block markers of Otter Assign, e.g. "# BEGIN QUESTION" (same regex as otter.assign.blocks).
_BLOCK = re.compile(r"#\s+(begin|end)\s+(question|prompt|solution|tests)\s*$", re.IGNORECASE)

# Blocks scripts, plugins and forms even if an escaping bug ever let markup through.
_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
_CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;
padding:.5rem;margin:.2rem 0}.pass{color:#176b2c}.fail{color:#b00020}.num{text-align:right}
.answer{white-space:pre-wrap;word-break:break-word}.empty{color:#888;font-style:italic}"""


# --- small helpers -------------------------------------------------------------------------------

def _e(value) -> str:
    """HTML-escape any value (quotes too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(x) -> str:
    """1.0 -> '1', 0.5 -> '0.5', 33.333 -> '33.33', None -> '-'."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return "-"
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _percent(result):
    """The result's percent, computed from total/possible when it is missing."""
    p = result.get("percent")
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        return float(p)
    total, possible = result.get("total"), result.get("possible")
    if isinstance(total, (int, float)) and isinstance(possible, (int, float)) and possible > 0:
        return 100.0 * total / possible
    return None


def _natural_key(name: str):
    """Sort written_q2 before written_q10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def safe_name(name) -> str:
    """A file name for an untrusted id: [A-Za-z0-9_-] only; a hash suffix when anything was changed.

    The suffix keeps two ids that differ only in replaced characters (`a/b`, `a_b`) apart.
    """
    name = "" if name is None else str(name)
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80]
    if clean == name and clean:
        return clean
    return f"{clean}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _one_line(text) -> str:
    """Collapse whitespace and drop control characters (terminal escapes) for a single line."""
    text = "" if text is None else str(text)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def _md_inline(text) -> str:
    """Untrusted text inside a Markdown line: no HTML, no emphasis/links/tables."""
    text = html.escape(_one_line(text), quote=False)
    return re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", text)


def _md_fence(text) -> str:
    """Untrusted multi-line text as a fenced block: CommonMark renders it literally."""
    text = "" if text is None else str(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _table(header, rows, num_cols=()) -> str:
    """An HTML table; every cell is escaped here, so callers pass plain values."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{_e(c)}</td>' if i in num_cols else f"<td>{_e(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- written answers from notebooks ---------------------------------------------------------------

def _source(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):   # raw JSON notebooks may store lines
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def _meta(cell) -> dict:
    meta = cell.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _is_answer(cell) -> bool:
    tags = _meta(cell).get("tags")
    return isinstance(tags, list) and ANSWER_TAG in tags


def _is_locked(cell) -> bool:
    """Cells Otter made read-only (prompts, END markers, grader.check cells) end an answer."""
    meta = _meta(cell)
    return meta.get("editable") is False or meta.get("deletable") is False


def _find_prompts(cells) -> dict[int, int]:
    """Question number k -> index of its prompt cell.

    A prompt is a non-answer markdown cell with the tag **[Qk]**; one that also has Otter's
    BEGIN QUESTION comment wins over one without (e.g. a student quoting the tag elsewhere).
    """
    strong, weak = {}, {}
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown" or _is_answer(cell):
            continue
        src = _source(cell)
        m = _QTAG.search(src)
        if m:
            (strong if _BEGIN_MD in src else weak).setdefault(int(m.group(1)), i)
    return {**weak, **strong}


def _answer_text(cell) -> str:
    return _source(cell).replace(PLACEHOLDER, "").strip()


def _ends_answer(cell, prompt_indices, i) -> bool:
    if i in prompt_indices:
        return True
    if _is_answer(cell):
        return False
    src = _source(cell)
    return (cell.get("cell_type") == "markdown" and (_END_MD in src or _BEGIN_MD in src)) or _is_locked(cell)


def extract_written_answers(nb) -> dict[str, str]:
    """From a student notebook: {"written_qk": answer text} for every **[Qk]** prompt found.

    The answer is the text of the cells after the prompt up to the next prompt, END QUESTION
    marker or read-only cell: answer-tagged cells (any type, in case a student turned one into
    code) and markdown cells the student added. Otter's placeholder counts as empty. A markdown
    answer cell found outside every question (moved by the student) goes to the nearest question
    above it, if that question has no answer of its own.
    """
    cells = list(nb.get("cells", []))
    prompts = _find_prompts(cells)
    owner, starts = {}, set(prompts.values())   # owner: cell index -> question number
    for k, start in prompts.items():
        for i in range(start + 1, len(cells)):
            if _ends_answer(cells[i], starts, i):
                break
            if _is_answer(cells[i]) or cells[i].get("cell_type") == "markdown":
                owner.setdefault(i, k)
    answers = {k: [] for k in prompts}
    for i, k in sorted(owner.items()):
        answers[k].append(_answer_text(cells[i]))
    _adopt_orphans(cells, prompts, owner, answers)
    return {f"written_q{k}": "\n\n".join(t for t in answers[k] if t) for k in sorted(answers)}


def _adopt_orphans(cells, prompts, owner, answers) -> None:
    by_position = sorted((i, k) for k, i in prompts.items())
    for i, cell in enumerate(cells):
        if i in owner or not _is_answer(cell) or cell.get("cell_type") != "markdown":
            continue
        text = _answer_text(cell)
        above = [k for p, k in by_position if p < i]
        if text and above and not any(answers[above[-1]]):
            answers[above[-1]].append(text)


def _unfence(cell):
    """Otter also accepts its markers as ```otter fenced markdown; read those as raw text."""
    src = _source(cell).strip()
    if cell.get("cell_type") == "markdown" and src.startswith("```otter") and src.endswith("```"):
        return "raw", src[len("```otter"):-3].strip("\n")
    return cell.get("cell_type"), _source(cell)


def reference_answers(solution_nb) -> dict[str, dict]:
    """From the solution notebook: {name: {"prompt": ..., "answer": ...}} for each manual question.

    The prompt is the question's markdown outside its solution block; the answer is the markdown
    inside `# BEGIN SOLUTION` ... `# END SOLUTION`.
    """
    out, current, in_solution = {}, None, False
    for cell in solution_nb.get("cells", []):
        kind, src = _unfence(cell)
        marker = _BLOCK.match(src.split("\n", 1)[0].strip()) if kind == "raw" else None
        if marker:
            edge, block = marker.group(1).lower(), marker.group(2).lower()
            if block == "question":
                in_solution = False
            if block == "question" and edge == "begin":
                current = _manual_question(src)
                if current:
                    out[current[0]] = current[1]
            elif block == "question":
                current = None
            elif block == "solution":
                in_solution = edge == "begin"
            continue
        if current and kind == "markdown" and src.strip():
            part = current[1]["answer" if in_solution else "prompt"]
            current[1]["answer" if in_solution else "prompt"] = f"{part}\n\n{src.strip()}".strip()
    return out


def _manual_question(src):
    """(name, empty entry) for a manual BEGIN QUESTION cell, else None."""
    try:
        config = yaml.safe_load(src.split("\n", 1)[1] if "\n" in src else "") or {}
    except yaml.YAMLError:
        return None
    if not isinstance(config, dict) or not config.get("manual") or not config.get("name"):
        return None
    return str(config["name"]), {"prompt": "", "answer": ""}


# --- per-student feedback ------------------------------------------------------------------------

def _question_groups(result):
    """[(question, {"points", "possible"} or None, [tests])] in the result's question order."""
    questions = result.get("questions") or {}
    tests = result.get("tests") or []
    names = list(questions) + [t.get("question") for t in tests if t.get("question") not in questions]
    names = list(dict.fromkeys(names))
    return [(q, questions.get(q), [t for t in tests if t.get("question") == q]) for q in names]


def _score(points, possible) -> str:
    return f"{_num(points)} / {_num(possible)}"


def _message(test) -> str:
    """What a test case says, as students may read it: its message alone, never a line of the test."""
    return clean_message(test.get("message"))


def _shown_message(test) -> bool:
    """Every failure message (hidden tests too: they are written to teach); passes only if unusual."""
    message = _message(test)
    return bool(message) and not (test.get("passed") and message == OTTER_PASSED)


def _test_label(test) -> tuple[str, str]:
    mark = "passed" if test.get("passed") else "FAILED"
    hidden = " (hidden)" if test.get("hidden") else ""
    return mark, hidden


def feedback_markdown(result) -> str:
    status = result.get("status", "")
    pct = _percent(result)
    lines = [f"# Feedback: {_md_inline(result.get('id'))}", "",
             f"**Status:** {_md_inline(status)}. {_md_inline(STATUS_TEXT.get(status, ''))}", ""]
    if result.get("message"):
        lines += [_md_fence(result["message"]), ""]
    lines += [f"**Total:** {_score(result.get('total'), result.get('possible'))}"
              + (f" ({_num(pct)}%)" if pct is not None else ""), ""]
    for q, info, tests in _question_groups(result):
        score = f": {_score(info.get('points'), info.get('possible'))}" if info else ""
        lines += [f"## {_md_inline(q)}{score}", ""]
        for t in tests:
            mark, hidden = _test_label(t)
            lines += [f"**{mark}**: {_md_inline(t.get('name'))}{hidden}, "
                      f"{_score(t.get('points'), t.get('possible'))}", ""]
            if _shown_message(t):
                lines += [_md_fence(_message(t)), ""]
    if result.get("cell_errors"):
        lines += ["## Errors while running your notebook", ""]
        for err in result["cell_errors"]:
            lines += [f"Cell {_md_inline(err.get('cell'))}:", "", _md_fence(err.get("error")), ""]
    if result.get("policy_violations"):
        lines += ["## Import policy violations", ""]
        for v in result["policy_violations"]:
            lines += [f"Cell {_md_inline(v.get('cell'))}, line {_md_inline(v.get('line'))}: "
                      f"module {_md_inline(v.get('module'))}", "", _md_fence(v.get("code")), ""]
    return "\n".join(lines).rstrip() + "\n"


def feedback_html(result) -> str:
    status = result.get("status", "")
    pct = _percent(result)
    parts = [f"<h1>Feedback: {_e(result.get('id'))}</h1>",
             f"<p><strong>Status:</strong> {_e(status)}. {_e(STATUS_TEXT.get(status, ''))}</p>"]
    if result.get("message"):
        parts.append(f"<pre>{_e(result['message'])}</pre>")
    parts.append(f"<p><strong>Total:</strong> {_score(result.get('total'), result.get('possible'))}"
                 + (f" ({_num(pct)}%)" if pct is not None else "") + "</p>")
    for q, info, tests in _question_groups(result):
        score = f": {_score(info.get('points'), info.get('possible'))}" if info else ""
        parts.append(f"<h2>{_e(q)}{score}</h2>")
        for t in tests:
            mark, hidden = _test_label(t)
            cls = "pass" if t.get("passed") else "fail"
            parts.append(f'<p><span class="{cls}"><strong>{mark}</strong></span>: '
                         f"<code>{_e(t.get('name'))}</code>{hidden}, "
                         f"{_score(t.get('points'), t.get('possible'))}</p>")
            if _shown_message(t):
                parts.append(f"<pre>{_e(_message(t))}</pre>")
    if result.get("cell_errors"):
        parts.append("<h2>Errors while running your notebook</h2>")
        parts += [f"<p>Cell {_e(err.get('cell'))}:</p><pre>{_e(err.get('error'))}</pre>"
                  for err in result["cell_errors"]]
    if result.get("policy_violations"):
        parts.append("<h2>Import policy violations</h2>")
        parts += [f"<p>Cell {_e(v.get('cell'))}, line {_e(v.get('line'))}: module {_e(v.get('module'))}</p>"
                  f"<pre>{_e(v.get('code'))}</pre>" for v in result["policy_violations"]]
    return _page(f"Feedback: {result.get('id')}", "\n".join(parts))


def write_feedback(result, out_dir) -> tuple[Path, Path]:
    """Write feedback/<safe id>.md and .html under out_dir; return both paths."""
    base = Path(out_dir) / "feedback" / safe_name(result.get("id"))
    return (_write(base.with_suffix(".md"), feedback_markdown(result)),
            _write(base.with_suffix(".html"), feedback_html(result)))


# --- Canvas gradebook CSV ------------------------------------------------------------------------

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def _csv_text(value) -> str:
    """Neutralise spreadsheet formulas (=, +, -, @) in untrusted text cells."""
    value = _one_line(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def write_canvas_csv(results, path, assignment_name, points_possible=None) -> Path:
    """A CSV for Canvas's Gradebook > Import.

    Columns: Student, ID, SIS User ID, SIS Login ID, Section, <assignment_name>. ID is the result id
    (Canvas matches rows on it, so it must be the numeric Canvas user id); the other identity
    columns are left empty. The score column is the result total, empty when the total is missing.
    A column name not yet in the gradebook makes Canvas create that assignment; pass
    points_possible to add Canvas's "Points Possible" row (second line) for it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CANVAS_COLUMNS, _one_line(assignment_name)])
        if points_possible is not None:
            w.writerow(["Points Possible", "", "", "", "", _num(points_possible)])
        for r in results:
            total = r.get("total")
            score = _num(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else ""
            w.writerow(["", _csv_text(r.get("id")), "", "", "", score])
    return path


# --- class report --------------------------------------------------------------------------------

def _graded(results):
    return [r for r in results if r.get("status") == "graded"]


def status_counts(results) -> dict[str, int]:
    """Count per status: every known status (zeros too), then unknown ones as found."""
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        s = str(r.get("status"))
        counts[s] = counts.get(s, 0) + 1
    return counts


def summary_stats(results) -> dict:
    """n, mean, median, min, max of percent among graded submissions (None when there are none)."""
    pcts = [p for p in map(_percent, _graded(results)) if p is not None]
    if not pcts:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None}
    return {"n": len(pcts), "mean": statistics.fmean(pcts), "median": statistics.median(pcts),
            "min": min(pcts), "max": max(pcts)}


def pass_rates(results) -> list[tuple[str, int, int]]:
    """[(question: test, passed, graded)] per test case; a graded result lacking a test counts as failed."""
    graded = _graded(results)
    passed = {}
    for r in graded:
        for t in r.get("tests") or []:
            key = f"{t.get('question')}: {t.get('name')}"
            passed[key] = passed.get(key, 0) + bool(t.get("passed"))
    return [(k, v, len(graded)) for k, v in passed.items()]


def _figure(width, height):
    # Figure with its own Agg canvas: no pyplot, no global backend, no GUI.
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def plot_score_histogram(percents, path) -> Path:
    from matplotlib.ticker import MaxNLocator
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    if percents:
        # Clip so extra credit or penalties land in the edge bins instead of vanishing.
        ax.hist([min(max(p, 0), 100) for p in percents], bins=range(0, 101, 5),
                color="#4c72b0", edgecolor="white")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "no graded submissions", ha="center", va="center", transform=ax.transAxes)
    ax.set(xlim=(0, 100), xlabel="score (%)", ylabel="submissions", title="Scores of graded submissions")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def plot_pass_rates(rates, path) -> Path:
    fig = _figure(8, max(2.5, 0.3 * len(rates) + 1.2))
    ax = fig.add_subplot()
    if rates:
        labels = [label for label, _, _ in rates]
        ax.barh(range(len(rates)), [p / n for _, p, n in rates], color="#55a868")
        ax.set_yticks(range(len(rates)), labels, fontsize=8)
        ax.invert_yaxis()   # first test on top, as in the notebook
    else:
        ax.text(0.5, 0.5, "no graded submissions", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set(xlim=(0, 1), xlabel="fraction of graded submissions that passed", title="Pass rate per test")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def class_report_html(results) -> str:
    stats, rates = summary_stats(results), pass_rates(results)
    stat_rows = [[k, stats[k] if k == "n" else _num(stats[k])] for k in ("n", "mean", "median", "min", "max")]
    students = [[r.get("id"), r.get("status"), _score(r.get("total"), r.get("possible")), _num(_percent(r))]
                for r in results]
    links = "".join(f'<li><a href="feedback/{safe_name(r.get("id"))}.html">{_e(r.get("id"))}</a></li>'
                    for r in results)
    body = [
        "<h1>Class report</h1>",
        f"<p>{len(results)} submissions, {stats['n']} graded.</p>",
        "<h2>Status counts</h2>", _table(["status", "submissions"], status_counts(results).items(), (1,)),
        "<h2>Scores of graded submissions (percent)</h2>", _table(["statistic", "value"], stat_rows, (1,)),
        '<img src="report/score_histogram.png" alt="histogram of scores">',
        "<h2>Pass rate per test</h2>",
        '<img src="report/test_pass_rates.png" alt="pass rate per test">',
        _table(["test", "passed", "graded", "rate"],
               [[k, p, n, f"{p / n:.0%}" if n else "-"] for k, p, n in rates], (1, 2, 3)),
        "<h2>Submissions</h2>", _table(["id", "status", "total", "percent"], students, (2, 3)),
        f'<p>Feedback pages:</p><ul>{links}</ul>',
        '<p><a href="written_answers/index.html">Written answers</a></p>',
    ]
    return _page("Class report", "\n".join(body))


def write_class_report(results, out_dir) -> Path:
    """report.html in out_dir with its two PNGs in out_dir/report/; return the HTML path."""
    out_dir = Path(out_dir)
    plot_score_histogram([p for p in map(_percent, _graded(results)) if p is not None],
                         out_dir / "report" / "score_histogram.png")
    plot_pass_rates(pass_rates(results), out_dir / "report" / "test_pass_rates.png")
    return _write(out_dir / "report.html", class_report_html(results))


# --- written answers side by side ----------------------------------------------------------------

def _written_questions(results, reference) -> list[str]:
    names = set(reference)
    for r in results:
        names.update(r.get("written_answers") or {})
    return sorted(names, key=_natural_key)


def _answers_for(results, question):
    return [(r.get("id"), ((r.get("written_answers") or {}).get(question) or "").strip()) for r in results]


def written_question_html(question, ref, answers) -> str:
    rows = "".join(
        f"<tr><td>{_e(sid)}</td>"
        + (f'<td class="answer">{_e(text)}</td>' if text else '<td class="empty">(no answer)</td>')
        + "</tr>\n" for sid, text in answers)
    body = [f"<h1>{_e(question)}</h1>", '<p><a href="index.html">all written questions</a></p>',
            "<h2>Prompt</h2>", f"<pre>{_e(ref.get('prompt', '')) or '(not in the solution)'}</pre>",
            "<h2>Reference answer</h2>", f"<pre>{_e(ref.get('answer', '')) or '(none)'}</pre>",
            f"<h2>Students ({sum(1 for _, t in answers if t)} of {len(answers)} answered)</h2>",
            f"<table><thead><tr><th>id</th><th>answer</th></tr></thead><tbody>\n{rows}</tbody></table>"]
    return _page(str(question), "\n".join(body))


def written_question_markdown(question, ref, answers) -> str:
    # One section per student with a fenced answer: a Markdown table cannot hold multi-line text safely.
    prompt, reference = ref.get("prompt"), ref.get("answer")
    lines = [f"# {_md_inline(question)}", "",
             "## Prompt", "", _md_fence(prompt) if prompt else "_(not in the solution)_", "",
             "## Reference answer", "", _md_fence(reference) if reference else "_(none)_", "",
             "## Students", ""]
    for sid, text in answers:
        lines += [f"### {_md_inline(sid)}", "", _md_fence(text) if text else "_(no answer)_", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_written_answers(results, reference, out_dir) -> Path:
    """written_answers/<question>.html and .md per written question, plus index.html; return the index."""
    reference = reference or {}
    folder = Path(out_dir) / "written_answers"
    items = []
    for q in _written_questions(results, reference):
        ref, answers = reference.get(q) or {}, _answers_for(results, q)
        _write(folder / f"{safe_name(q)}.html", written_question_html(q, ref, answers))
        _write(folder / f"{safe_name(q)}.md", written_question_markdown(q, ref, answers))
        items.append(f'<li><a href="{safe_name(q)}.html">{_e(q)}</a> '
                     f"({sum(1 for _, t in answers if t)} of {len(answers)} answered)</li>")
    body = "<h1>Written answers</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>"
    return _write(folder / "index.html", _page("Written answers", body))


# --- everything, and the terminal table ----------------------------------------------------------

def write_all(results, out_dir, assignment_name, reference=None, points_possible=None) -> dict[str, Path]:
    """All reports under out_dir: feedback/, canvas_grades.csv, report.html + report/, written_answers/."""
    out_dir = Path(out_dir)
    for r in results:
        write_feedback(r, out_dir)
    return {"feedback": out_dir / "feedback",
            "canvas": write_canvas_csv(results, out_dir / "canvas_grades.csv", assignment_name, points_possible),
            "report": write_class_report(results, out_dir),
            "written_answers": write_written_answers(results, reference, out_dir)}


def _width(text: str) -> int:
    """Terminal columns: wide (CJK, emoji) characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _truncate(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _pad(text: str, width: int, right=False) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def format_table(results, message_width=60, id_width=30) -> str:
    """The plain-text grade table printed after a batch: id, status, total, percent, message."""
    header = ("id", "status", "total", "percent", "message")
    rows = [(_truncate(_one_line(r.get("id")), id_width), _one_line(r.get("status")),
             _score(r.get("total"), r.get("possible")),
             f"{_percent(r):.1f}%" if _percent(r) is not None else "-",
             _truncate(_one_line(r.get("message")), message_width)) for r in results]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = (False, False, True, True, False)
    return "\n".join("  ".join(_pad(c, w, rt) for c, w, rt in zip(row, widths, right)).rstrip()
                     for row in [header, *rows]) + "\n"

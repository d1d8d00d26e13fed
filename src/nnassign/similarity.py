"""`nnassign similarity OUT`: pairs of submissions whose own code or written answers are alike.

What is compared is what each student wrote: the code cells of the submission with the template's
code removed (cells left as the template gave them are dropped; what remains of the template inside
filled cells, signatures and docstrings, is removed as copydetect "boilerplate"), and the written
answers [Q1]..[Q17] from the result files. The detector is copydetect: the winnowing fingerprints of
MOSS over Pygments tokens with names, strings and comments normalised, so renaming variables,
reordering functions or rewriting comments does not hide a copy.

Each pair gets copydetect's two overlap fractions (the share of each student's fingerprinted tokens
found in the other's); pairs are ranked by their mean, code first, then written answers. Output:
`OUT/similarity/report.html` (top pairs, scores, matching lines highlighted side by side; a Jinja
template with autoescaping, no script) and `OUT/similarity/pairs.csv` (every pair).
"""

import csv
import io
import itertools
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import report
from .record import resolve_notebook, write_text_atomic
from .review.batch import BatchError, load_results

CODE_K, CODE_WINDOW = 25, 6        # copydetect's defaults: noise threshold 25 tokens, guarantee 30
TEXT_K, TEXT_WINDOW = 30, 6        # written answers: 30 characters of normalised text
MIN_TOKENS = 20                    # less own code than this is not compared (nothing written)


class SimilarityError(Exception):
    """The output folder cannot be compared; the message says why."""


@dataclass
class Doc:
    """One student's text and its fingerprints."""

    text: str
    fp: object = None

    @property
    def usable(self):
        return self.fp is not None and self.fp.token_coverage >= MIN_TOKENS


@dataclass
class Pair:
    a: str
    b: str
    code: float = 0.0                   # mean of the two fractions below
    code_ab: tuple = (0.0, 0.0)
    written: float = 0.0
    written_ab: tuple = (0.0, 0.0)
    slices: dict = field(default_factory=dict, repr=False)   # "code"/"written" -> (slices a, slices b)

    @property
    def score(self):
        return max(self.code, self.written)


# ---------------------------------------------------------------- what each student wrote

def _normalise(line):
    return " ".join(line.split())


def notebook_code(nb):
    """The code cells' sources; IPython magics and shell lines commented out (they do not tokenize)."""
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = report._source(cell)
            cells.append(re.sub(r"^(\s*)([%!])", r"\1# \2", src, flags=re.M))
    return cells


def own_code(nb, template_cells) -> str:
    """The student's code cells that differ from every template cell, joined."""
    template = {_normalise(c) for c in template_cells}
    return "\n\n".join(c for c in notebook_code(nb) if c.strip() and _normalise(c) not in template)


def written_text(result) -> str:
    """All written answers of a result, normalised (case, spacing) so trivial edits do not hide a copy."""
    answers = result.get("written_answers") if isinstance(result.get("written_answers"), dict) else {}
    parts = [f"[{q}] {' '.join(str(t).split()).lower()}" for q, t in sorted(answers.items(), key=lambda kv:
             report._natural_key(kv[0])) if isinstance(t, str) and t.strip()]
    return "\n".join(parts)


def _fingerprint(text, name, k, window, boilerplate=None, filter=True):
    from copydetect import CodeFingerprint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CodeFingerprint(name, k, window, boilerplate=boilerplate, filter=filter, fp=io.StringIO(text))


def fingerprints(codes: dict, written: dict, template_code: str):
    """{id: Doc} for code (template fingerprints as boilerplate) and for written answers."""
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # copydetect logs per file
    boiler = np.array(sorted(_fingerprint(template_code, "template.py", CODE_K, 1).hashes)) if template_code else None
    code_docs = {i: Doc(t, _fingerprint(t, f"{i}.py", CODE_K, CODE_WINDOW, boiler) if t.strip() else None)
                 for i, t in codes.items()}
    text_docs = {i: Doc(t, _fingerprint(t, f"{i}.txt", TEXT_K, TEXT_WINDOW, filter=False) if t.strip() else None)
                 for i, t in written.items()}
    return code_docs, text_docs


def compare(code_docs: dict, text_docs: dict) -> list:
    """Every pair of ids, most similar first."""
    from copydetect import compare_files

    pairs = []
    for a, b in itertools.combinations(sorted(code_docs, key=report._natural_key), 2):
        pair = Pair(a, b)
        for kind, docs in (("code", code_docs), ("written", text_docs)):
            da, db = docs.get(a), docs.get(b)
            if not (da and db and da.usable and db.usable):
                continue
            _, (sa, sb), slices = compare_files(da.fp, db.fp)
            setattr(pair, kind, float(sa + sb) / 2)
            setattr(pair, f"{kind}_ab", (float(sa), float(sb)))
            pair.slices[kind] = slices
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.code, -p.written, p.a, p.b))
    return pairs


# ---------------------------------------------------------------- report

def highlighted(doc: Doc, slices) -> str:
    """The document as escaped HTML with the matching parts in <mark>."""
    from copydetect.utils import highlight_overlap
    from markupsafe import Markup, escape

    if slices is None or len(slices) == 0 or np.asarray(slices).size == 0:
        return Markup(escape(doc.text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        html, _ = highlight_overlap(doc.text, np.asarray(slices), "<mark>", "</mark>", escape_html=True)
    return Markup(html)   # escape_html=True escaped every part of the student's text


def render_report(pairs, code_docs, text_docs, skipped, top) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("nnassign", "templates"), autoescape=select_autoescape(["html"]))
    details = []
    for rank, p in enumerate(pairs[:top], start=1):
        parts = []
        for kind, docs in (("code", code_docs), ("written", text_docs)):
            if kind in p.slices:
                sa, sb = p.slices[kind]
                parts.append((kind, highlighted(docs[p.a], sa), highlighted(docs[p.b], sb)))
        details.append((rank, p, parts))
    return env.get_template("similarity.html").render(
        pairs=pairs, top=top, details=details, skipped=skipped, n=len(code_docs))


def write_csv(pairs, path):
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(["rank", "a", "b", "code_similarity", "code_a_in_b", "code_b_in_a",
                "written_similarity", "written_a_in_b", "written_b_in_a"])
    for rank, p in enumerate(pairs, start=1):
        w.writerow([rank, report._csv_text(p.a), report._csv_text(p.b), f"{p.code:.4f}",
                    f"{p.code_ab[0]:.4f}", f"{p.code_ab[1]:.4f}", f"{p.written:.4f}",
                    f"{p.written_ab[0]:.4f}", f"{p.written_ab[1]:.4f}"])
    write_text_atomic(path, text.getvalue())


# ---------------------------------------------------------------- the command

def read_own_code(results: dict, template_cells, assignment_name):
    """{id: own code} of the submissions that can be read; {id: why not} of the others."""
    from .intake import SubmissionError, read_submission

    codes, skipped = {}, {}
    for sid, r in results.items():
        path = r.get("file")
        if not path or not Path(path).exists():
            skipped[sid] = f"submission file not found ({path})"
            continue
        try:
            sub = read_submission(resolve_notebook(path), assignment_name)
        except SubmissionError as e:
            skipped[sid] = e.message
            continue
        except Exception as e:   # anything unreadable is reported, never fatal for the class
            skipped[sid] = f"unreadable: {type(e).__name__}"
            continue
        codes[sid] = own_code(sub.notebook, template_cells)
    return codes, skipped


def run_similarity(out_dir, config, top=20):
    """Compare the class in out_dir; write report.html and pairs.csv; return (html, csv, pairs)."""
    import nbformat

    try:
        results = load_results(out_dir)
    except BatchError as e:
        raise SimilarityError(str(e)) from None
    template_path = config.root / "student" / Path(config.values["solution"]).name
    if not template_path.exists():
        raise SimilarityError(f"{template_path} not found: run `nnassign release` first (the template's "
                              "code is removed before comparing)")
    template_cells = notebook_code(nbformat.read(template_path, as_version=4))
    codes, skipped = read_own_code(results, template_cells, config.name)
    written = {sid: written_text(r) for sid, r in results.items()}
    for sid in skipped:
        codes[sid] = ""
    code_docs, text_docs = fingerprints(codes, written, "\n\n".join(template_cells))
    pairs = compare(code_docs, text_docs)
    folder = Path(out_dir) / "similarity"
    html_path, csv_path = folder / "report.html", folder / "pairs.csv"
    write_text_atomic(html_path, render_report(pairs, code_docs, text_docs, skipped, top))
    write_csv(pairs, csv_path)
    return html_path, csv_path, pairs

"""The review server over real HTTP (werkzeug on a free port, in a thread) and its SQLite store:
login by token, escaping of hostile answers, scores within the points, unknown ids refused,
immediate persistence, two graders at once, CSV export and import, the CLI."""

import csv
import io
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from graded_out import HOSTILE, QUESTIONS, REFERENCE, make_out
from nnassign.review.app import create_app
from nnassign.review.batch import BatchError, load_batch, points_for
from nnassign.review.store import DB_NAME, ScoreError, ScoreStore

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-123"


class Client:
    """A tiny HTTP client with cookies: what a browser tab does, without the rendering."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, path, data=None, headers=None, method=None):
        body = json.dumps(data).encode() if isinstance(data, dict) else data
        hdrs = {"Content-Type": "application/json"} if isinstance(data, dict) else {}
        req = urllib.request.Request(self.base + path, data=body, headers={**hdrs, **(headers or {})}, method=method)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def login(self):
        status, _ = self.request(f"/?token={TOKEN}")
        assert status == 200
        return self

    def score(self, student, question, points, comment="", version=None):
        status, text = self.request("/api/score", {"student": student, "question": question, "points": points,
                                                   "comment": comment, "base_version": version},
                                    headers={"X-Review-Token": TOKEN})
        return status, json.loads(text)


def serve(batch):
    server = make_server("127.0.0.1", 0, create_app(batch, TOKEN), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def out(tmp_path):
    make_out(tmp_path, n=6)
    return tmp_path


@pytest.fixture
def site(out):
    server, base = serve(load_batch(out, 2, REFERENCE))
    yield out, base
    server.shutdown()


def test_pages_need_the_token(site):
    _, base = site
    anonymous = Client(base)
    status, text = anonymous.request("/")
    assert status == 403 and "token" in text.lower()
    assert anonymous.request("/q/written_q1")[0] == 403
    assert anonymous.request("/?token=wrong")[0] == 403
    assert anonymous.score("s000", "written_q1", 1)[0] == 403
    status, text = Client(base).login().request("/")
    assert status == 200 and "written_q17" in text


def test_writes_need_the_token_header_too(site):
    """A cookie alone is not enough to write: another site in the same browser cannot post scores."""
    _, base = site
    c = Client(base).login()
    status, text = c.request("/api/score", {"student": "s000", "question": "written_q1", "points": 1})
    assert status == 403 and "token" in text


def test_hostile_answers_are_escaped(site):
    _, base = site
    status, page = Client(base).login().request("/q/written_q1")
    assert status == 200
    assert HOSTILE not in page and "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page   # student text is data, never a template


def test_content_security_policy_forbids_inline_script(site):
    _, base = site
    c = Client(base).login()
    req = urllib.request.Request(base + "/q/written_q1")
    with c.opener.open(req) as r:
        csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_a_score_is_in_the_sqlite_file_at_once(site):
    out, base = site
    c = Client(base).login()
    status, data = c.score("s000", "written_q3", 1.5, "good, but no units", version=0)
    assert status == 200 and data["score"]["version"] == 1
    row = sqlite3.connect(out / DB_NAME).execute(
        "SELECT points, comment FROM scores WHERE student='s000' AND question='written_q3'").fetchone()
    assert row == (1.5, "good, but no units")
    assert data["progress"]["scored"] == 1
    status, page = c.request("/q/written_q3")
    assert 'value="1.5"' in page and "good, but no units" in page and "1 / " in page


def test_points_outside_the_range_are_refused(site):
    _, base = site
    c = Client(base).login()
    for bad in (2.5, -1, "abc", float("nan")):
        status, data = c.score("s000", "written_q1", bad if bad == bad else "nan")
        assert status == 400 and "points" in data["error"], bad
    assert c.score("s000", "written_q1", 2)[0] == 200   # the maximum itself is fine


def test_unknown_ids_and_questions_are_refused_clearly(site):
    _, base = site
    c = Client(base).login()
    status, data = c.score("mallory", "written_q1", 1)
    assert status == 404 and "unknown student id 'mallory'" in data["error"]
    status, data = c.score("s000", "written_q99", 1)
    assert status == 404 and "unknown question 'written_q99'" in data["error"]
    status, page = c.request("/q/written_q1?student=<b>mallory</b>")
    assert status == 404 and "unknown student id" in page and "<b>mallory" not in page
    assert c.request("/q/nope")[0] == 404


def test_two_graders_at_once_lose_nothing(out):
    """Two TAs, each with their own `nnassign review` on the same OUT, score 2 x 50 answers concurrently."""
    batch = load_batch(out, 2, REFERENCE)
    (s1, base1), (s2, base2) = serve(batch), serve(batch)
    ta1, ta2 = Client(base1).login(), Client(base2).login()
    jobs = [(ta1 if i % 2 else ta2, sid, q, (i % 3) / 2) for i, (sid, q) in
            enumerate((sid, q) for sid in batch.ids for q in QUESTIONS[:9])][:100]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda j: j[0].score(j[1], j[2], j[3])[0], jobs))
    s1.shutdown(), s2.shutdown()
    assert codes == [200] * len(jobs)
    stored = ScoreStore(out).scores()
    assert {k: s.points for k, s in stored.items()} == {(sid, q): p for _, sid, q, p in jobs}


def test_the_same_answer_scored_by_two_graders_is_a_conflict_not_a_silent_overwrite(site):
    _, base = site
    ta1, ta2 = Client(base).login(), Client(base).login()
    assert ta1.score("s002", "written_q2", 1, version=0)[0] == 200
    status, data = ta2.score("s002", "written_q2", 2, version=0)   # ta2's page still showed "unscored"
    assert status == 409 and data["current"]["points"] == 1 and "another grader" in data["error"]
    assert ta2.score("s002", "written_q2", 2, version=data["current"]["version"])[0] == 200


def test_scores_of_a_question_as_json(site):
    """What a page fetches when its tab gets the focus back: every grader's scores and the progress."""
    _, base = site
    ta1, ta2 = Client(base).login(), Client(base).login()
    ta1.score("s000", "written_q6", 1, "from ta1")
    status, text = ta2.request("/api/scores/written_q6")
    data = json.loads(text)
    assert status == 200 and data["scores"]["s000"]["comment"] == "from ta1" and data["progress"]["scored"] == 1
    assert Client(base).request("/api/scores/written_q6")[0] == 403


def test_clearing_a_score(site):
    out, base = site
    c = Client(base).login()
    c.score("s000", "written_q1", 1)
    status, data = c.score("s000", "written_q1", None)
    assert status == 200 and data["score"] is None
    assert ScoreStore(out).get("s000", "written_q1") is None


def test_rubric_is_kept_and_escaped(site):
    _, base = site
    c = Client(base).login()
    status, _ = c.request("/api/rubric", {"question": "written_q4", "text": "1 pt: </textarea><b>x</b>"},
                          headers={"X-Review-Token": TOKEN})
    assert status == 200
    page = c.request("/q/written_q4")[1]
    assert "1 pt: &lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt;" in page


def test_csv_export_and_import(site, tmp_path):
    out, base = site
    c = Client(base).login()
    c.score("s000", "written_q1", 2, "=HYPERLINK(\"x\")")
    c.score("s003", "written_q5", 0.5, "partly, see rubric")
    status, text = c.request("/scores.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and {(r["id"], r["question"], r["points"]) for r in rows} == {
        ("s000", "written_q1", "2"), ("s003", "written_q5", "0.5")}
    # Import into a fresh copy of the class: the same scores come back.
    fresh = tmp_path / "fresh"
    make_out(fresh, n=6)
    store = ScoreStore(fresh)
    batch = load_batch(fresh, 2, REFERENCE)
    assert store.import_csv(text, batch.results, batch.points.get, batch.answers) == 2
    assert store.get("s003", "written_q5").comment == "partly, see rubric"
    assert store.get("s000", "written_q1").points == 2


def test_a_bad_csv_imports_nothing(out):
    store, batch = ScoreStore(out), load_batch(out, 1, REFERENCE)
    bad = "id,question,points\ns000,written_q1,1\nghost,written_q1,1\ns001,written_q2,7\ns002,written_q99,1\n"
    with pytest.raises(ScoreError) as e:
        store.import_csv(bad, batch.results, batch.points.get)
    message = str(e.value)
    assert "line 3: unknown student id 'ghost'" in message and "line 4" in message and "out of range" in message
    assert "line 5: unknown question" in message and store.scores() == {}


def test_import_through_the_page(site):
    out, base = site
    c = Client(base).login()
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{TOKEN}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\nid,question,points,comment\ns004,written_q9,1,ok\r\n"
            f"--{boundary}--\r\n").encode()
    status, page = c.request("/import", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}, "POST")
    assert status == 200 and "1 score(s) imported" in page
    assert ScoreStore(out).get("s004", "written_q9").comment == "ok"


def test_written_points_per_question():
    assert points_for(2, "written_q1") == 2
    assert points_for({"written_q1": 3, "default": 0.5}, "written_q1") == 3
    assert points_for({"written_q1": 3, "default": 0.5}, "written_q2") == 0.5
    with pytest.raises(BatchError):
        points_for({"written_q1": "three"}, "written_q1")


def test_per_question_points_bound_the_scores(out):
    batch = load_batch(out, {"written_q1": 3, "default": 1}, REFERENCE)
    server, base = serve(batch)
    c = Client(base).login()
    assert c.score("s000", "written_q1", 3)[0] == 200
    assert c.score("s000", "written_q2", 3)[0] == 400
    assert "/ 3" in c.request("/q/written_q1")[1]
    server.shutdown()


def test_a_folder_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(BatchError, match="nnassign grade"):
        load_batch(tmp_path)
    done = subprocess.run([sys.executable, "-m", "nnassign.cli", "review", str(tmp_path),
                           "--config", str(REPO / "assignment_config.yaml")], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "nnassign grade" in done.stderr


def test_the_command_binds_localhost_and_prints_a_token_url(out):
    proc = subprocess.Popen([sys.executable, "-m", "nnassign.cli", "review", str(out), "--port", "0",
                             "--config", str(REPO / "assignment_config.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        for line in proc.stdout:
            m = re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=(\S+))", line)
            if m:
                url, port, token = m.groups()
                break
        assert url, "no URL printed"
        assert len(token) >= 24
        conns = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        local = [line.split()[3] for line in conns.splitlines()]   # the listening (local) address
        assert local == [f"127.0.0.1:{port}"], conns
        c = Client(url.split("/?")[0])
        assert c.request("/")[0] == 403
        status, page = c.request(f"/?token={token}")
        assert status == 200 and "written_q1" in page
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)

"""`nnassign review OUT`: a local web page (Flask + Jinja templates) to score the written answers.

One question at a time: the prompt, the reference answer and an editable rubric beside every
student's answer; keyboard navigation and score keys (static/review.js); each score goes straight
to the SQLite store (store.py) with one request. Like Jupyter, the server binds to 127.0.0.1 and
asks for a token: `/?token=...` sets a cookie, and every write also carries the token in a header,
so another site open in the same browser can neither read nor post. Student text only ever reaches
the page through Jinja's autoescaping, and the Content-Security-Policy allows no inline script.
"""

import math
import secrets
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for

from .batch import Batch
from .store import Conflict, ScoreError, ScoreStore, answer_sha, check_points

COOKIE = "nnassign_review"
HEADER = "X-Review-Token"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def score_keys(maximum):
    """The score buttons of a question: whole points 0..max (and the max itself when it is fractional)."""
    keys = [float(p) for p in range(int(math.floor(maximum)) + 1)]
    if maximum not in keys:
        keys.append(float(maximum))
    return keys


def progress(batch: Batch, scores: dict, question: str) -> dict:
    """scored / to score for one question; empty answers count 0 unless a TA scores them anyway."""
    answered = batch.answered(question)
    return {"scored": sum(1 for i in answered if (i, question) in scores), "total": len(answered),
            "empty": len(batch.ids) - len(answered)}


def create_app(batch: Batch, token: str, store: ScoreStore | None = None) -> Flask:
    store = store or ScoreStore(batch.out)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=5 * 2**20)
    app.jinja_env.filters["pts"] = lambda x: f"{x:g}" if isinstance(x, (int, float)) else ""
    public = {"static", "login"}

    def authorised():
        given = request.cookies.get(COOKIE, "")
        return bool(given) and secrets.compare_digest(given, token)

    @app.before_request
    def guard():
        if request.endpoint in public:
            return None
        offered = request.args.get("token")
        if offered is not None and request.method == "GET":
            if not secrets.compare_digest(offered, token):
                return render_template("message.html", title="Wrong token", login=True,
                                       message="That token is not this server's. Copy the URL "
                                               "`nnassign review` printed."), 403
            args = {k: v for k, v in request.args.items() if k != "token"}
            response = redirect(request.path + ("?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in args.items())
                                                if args else ""))
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response
        if not authorised():
            if request.path.startswith("/api/"):
                return jsonify(error="not logged in: open the URL with ?token= that `nnassign review` printed"), 403
            return render_template("message.html", title="Token needed", login=True,
                                   message="This page needs the token `nnassign review` printed."), 403
        if request.method == "POST":
            sent = request.headers.get(HEADER) or request.form.get("csrf_token", "")
            if not secrets.compare_digest(sent, token):
                return jsonify(error="missing or wrong request token; reload the page"), 403
        return None

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def known_question(question):
        if question not in batch.points:
            abort(404, f"unknown question {question!r}; the written questions are "
                       f"{', '.join(batch.questions) or '(none)'}")
        return question

    def known_student(student):
        if student not in batch.results:
            abort(404, f"unknown student id {student!r}: not among the {len(batch.ids)} results in "
                       f"{batch.out / 'results'}")
        return student

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def error(e):
        if request.path.startswith("/api/"):
            return jsonify(error=e.description), e.code
        return render_template("message.html", title=e.name, message=e.description), e.code

    @app.get("/login")
    def login():
        return render_template("message.html", title="Token needed", login=True,
                               message="Enter the token `nnassign review` printed.")

    @app.get("/")
    def index():
        scores = store.scores()
        rows = [(q, progress(batch, scores, q), batch.points[q]) for q in batch.questions]
        return render_template("index.html", batch=batch, rows=rows, token=token)

    @app.get("/q/<question>")
    def question_page(question):
        known_question(question)
        focus = request.args.get("student")
        if focus is not None:
            known_student(focus)
        scores = store.scores(question)
        i = batch.questions.index(question)
        return render_template(
            "question.html", batch=batch, question=question, ref=batch.reference.get(question) or {},
            rubric=store.rubric(question), maximum=batch.points[question], keys=score_keys(batch.points[question]),
            students=[(sid, batch.results[sid], batch.answers[(sid, question)], scores.get((sid, question)))
                      for sid in batch.ids],
            progress=progress(batch, scores, question), focus=focus, token=token,
            prev=batch.questions[i - 1] if i > 0 else None,
            next=batch.questions[i + 1] if i + 1 < len(batch.questions) else None)

    def payload():
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400)
        return data

    @app.errorhandler(400)
    def bad_request(e):
        return jsonify(error="expected a JSON object"), 400

    @app.post("/api/score")
    def save_score():
        data = payload()
        student, question = str(data.get("student", "")), str(data.get("question", ""))
        known_question(question)
        known_student(student)
        try:
            if data.get("points") is None:
                store.delete(student, question, data.get("base_version"))
                saved = None
            else:
                points = check_points(data.get("points"), batch.points[question])
                saved = store.save(student, question, points, data.get("comment") or "",
                                   str(data.get("grader") or "")[:80], answer_sha(batch.answers[(student, question)]),
                                   data.get("base_version"))
        except ScoreError as e:
            return jsonify(error=str(e)), 400
        except Conflict as c:
            return jsonify(error="changed by another grader meanwhile; the page now shows their score",
                           current=_score_json(c.current)), 409
        return jsonify(score=_score_json(saved),
                       progress=progress(batch, store.scores(question), question))

    @app.get("/api/scores/<question>")
    def question_scores(question):
        known_question(question)
        scores = store.scores(question)
        return jsonify(scores={sid: _score_json(s) for (sid, _), s in scores.items()},
                       progress=progress(batch, scores, question))

    @app.post("/api/rubric")
    def save_rubric():
        data = payload()
        question = known_question(str(data.get("question", "")))
        try:
            store.save_rubric(question, data.get("text", ""))
        except ScoreError as e:
            return jsonify(error=str(e)), 400
        return jsonify(ok=True)

    @app.get("/scores.csv")
    def export_csv():
        return Response(store.export_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="written_scores.csv"'})

    @app.post("/import")
    def import_csv():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return render_template("message.html", title="No file", message="Choose a CSV file to import."), 400
        try:
            text = upload.read().decode("utf-8-sig")
            n = store.import_csv(text, batch.results, batch.points.get, batch.answers)
        except UnicodeDecodeError:
            return render_template("message.html", title="Import refused", message="The file is not UTF-8 text."), 400
        except ScoreError as e:
            return render_template("message.html", title="Import refused", message=str(e)), 400
        return render_template("message.html", title="Imported", message=f"{n} score(s) imported.",
                               back=url_for("index"))

    return app


def _score_json(score):
    if score is None:
        return None
    return {"points": score.points, "comment": score.comment, "grader": score.grader, "version": score.version}


def _stop_on_signals():
    """Ctrl+C and SIGTERM stop the server, also when it was started in the background of a script,
    where SIGINT arrives ignored (Python then installs no KeyboardInterrupt handler)."""
    import signal
    import threading

    def stop(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)


def serve(batch: Batch, host="127.0.0.1", port=8800, token=None, echo=print):
    """Run the review server until interrupted (werkzeug's threaded server: one thread per request)."""
    from werkzeug.serving import make_server

    token = token or secrets.token_urlsafe(24)
    server = make_server(host, port, create_app(batch, token), threaded=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    echo(f"Reviewing {len(batch.ids)} submissions, {len(batch.questions)} written questions; "
         f"scores are saved in {Path(batch.out) / 'written_scores.sqlite'}")
    echo(f"Open this URL (the token is the password):\n    http://{shown}:{server.server_port}/?token={token}")
    echo("Press Ctrl+C to stop.")
    _stop_on_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

"""The study's Flask app: instructions, one page per trial, one click per answer.

Images are served only by the opaque ids of the run's registry, re-encoded without their
metadata: the generated frames carry provenance tags ("synthetic"), which would give the
answer away to anyone who saved an image. Every write goes to SQLite before the reply.

Writes are guarded against other sites and floods: every POST must come from this origin
(``Origin`` / ``Referer`` / ``Sec-Fetch-Site``), ``/start`` also needs the token of the
index page's form (a participant id in the URL is the capability for the rest), and a study
takes at most ``max_participants`` participants.
"""

from __future__ import annotations

import functools
import hmac
import io
import re
import secrets
from urllib.parse import urlsplit
from pathlib import Path

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from PIL import Image
from werkzeug.exceptions import HTTPException

from talkbench.errors import TalkbenchError
from talkbench.media import read_image
from talkbench.study.store import Outcome, Store
from talkbench.study.trials import load_or_register, sample_trials, study_dir

TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
LABELS = ("A", "B", "C")
STATUS = {Outcome.NO_PARTICIPANT: 404, Outcome.NO_TRIAL: 404, Outcome.ALREADY_ANSWERED: 409, Outcome.NOT_CURRENT: 409}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no referrer to other sites; Origin kept for our own POSTs
}


def db_path(run: Path) -> Path:
    return study_dir(run) / "responses.sqlite"


def create_app(run: str | Path, trials_per_participant: int = 30, attention_checks: int = 3, seed: int = 0,
               max_participants: int = 500) -> Flask:
    """The app for one run directory; registers the study on first use (RUN/study/).
    ``max_participants``: new participants are refused (403) once the study has this many."""
    run = Path(run)
    if max_participants < 1:
        raise TalkbenchError(f"max_participants must be at least 1, got {max_participants}")
    start_token = secrets.token_urlsafe(24)  # per server process: a restart asks for a reload
    registry = load_or_register(run, seed)
    store = Store(db_path(run))
    sample_trials(registry, trials_per_participant, attention_checks, seed, 0)  # bad numbers fail now, not per visitor

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    app.extensions["talkbench_study"] = {"run": run, "registry": registry, "store": store, "start_token": start_token}

    @functools.lru_cache(maxsize=4096)
    def served_png(image_id: str) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(read_image(run / registry.images[image_id])).save(buf, format="PNG")
        return buf.getvalue()

    def participant(pid: str) -> tuple[int, int]:
        progress = store.progress(pid) if TOKEN.fullmatch(pid) else None
        if progress is None:
            abort(404, "unknown participant")
        return progress

    @app.before_request
    def same_origin_writes():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        own = urlsplit(request.host_url)
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin not in (None, "null"):  # "null": an opaque origin says nothing; the checks below still hold
            theirs = urlsplit(origin)
            if (theirs.scheme, theirs.netloc) != (own.scheme, own.netloc):
                abort(403, "request from another site refused")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            abort(403, "request from another site refused")

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.update(HEADERS)
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(HTTPException)
    def error_page(exc: HTTPException):
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    @app.get("/")
    def index():
        return render_template("index.html", n_trials=trials_per_participant + attention_checks, csrf=start_token)

    @app.post("/start")
    def start():
        if not hmac.compare_digest(request.form.get("csrf", ""), start_token):
            abort(403, "the start form has expired or did not come from this study; reload the first page")
        pid = store.create_participant(
            lambda number, exposure: sample_trials(registry, trials_per_participant, attention_checks, seed, number, exposure),
            limit=max_participants)
        if pid is None:
            abort(403, f"this study is full: it has its {max_participants} participants")
        return redirect(url_for("trial", pid=pid), code=303)

    @app.get("/p/<pid>")
    def trial(pid: str):
        done, total = participant(pid)
        row = store.current_trial(pid)
        if row is None:
            return render_template("done.html", pid=pid, total=total)
        return render_template("trial.html", pid=pid, trial=row, number=done + 1, total=total,
                               images=list(zip(LABELS, row.images)))

    @app.post("/p/<pid>/answer")
    def answer(pid: str):
        participant(pid)
        fields = {}
        for name, upper in (("trial", 10**6), ("choice", 3)):
            value = request.form.get(name, "")
            if not (value.isascii() and value.isdecimal() and len(value) <= 7 and int(value) < upper):
                abort(400, f"malformed answer: field {name!r} must be an integer below {upper}")
            fields[name] = int(value)
        outcome = store.record_answer(pid, fields["trial"], fields["choice"])
        if outcome is not Outcome.RECORDED:
            abort(STATUS[outcome], outcome.value)
        return redirect(url_for("trial", pid=pid), code=303)

    @app.get("/image/<image_id>")
    def image(image_id: str):
        if not TOKEN.fullmatch(image_id) or image_id not in registry.images:
            abort(404, "unknown image")
        resp = Response(served_png(image_id), mimetype="image/png")
        resp.headers["Cache-Control"] = "private, max-age=86400"
        return resp

    return app

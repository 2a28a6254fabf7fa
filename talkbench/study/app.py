"""The study's Flask app: instructions, one page per trial, one click per answer.

Images are served only by the opaque ids of the run's registry, re-encoded from their pixels
without metadata: the generated frames carry provenance tags ("synthetic") and a C2PA
manifest, which would give the answer away to anyone who saved an image. Every write goes to SQLite before the reply.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from PIL import Image
from werkzeug.exceptions import HTTPException

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
    "Referrer-Policy": "no-referrer",
}


def db_path(run: Path) -> Path:
    return study_dir(run) / "responses.sqlite"


def create_app(run: str | Path, trials_per_participant: int = 30, attention_checks: int = 3, seed: int = 0) -> Flask:
    """The app for one run directory; registers the study on first use (RUN/study/)."""
    run = Path(run)
    registry = load_or_register(run, seed)
    store = Store(db_path(run))
    sample_trials(registry, trials_per_participant, attention_checks, seed, 0)  # bad numbers fail now, not per visitor

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    app.extensions["talkbench_study"] = {"run": run, "registry": registry, "store": store}

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
        return render_template("index.html", n_trials=trials_per_participant + attention_checks)

    @app.post("/start")
    def start():
        pid = store.create_participant(
            lambda number, exposure: sample_trials(registry, trials_per_participant, attention_checks, seed, number, exposure))
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

"""Signing in and out with the module's local users, and what happens without a login."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..extensions import db, login_manager
from ..forms import LoginForm
from ..models import User
from . import blueprint

MAX_FAILURES = 5
WINDOW_SECONDS = 300
SEEN_EVERY = timedelta(minutes=5)


class LoginLimiter:
    """Failed sign-ins per (username, address) in a sliding window, in this process's memory.

    Per process is enough to stop guessing from one browser; several web processes each count
    on their own (a shared store, e.g. Redis, would make it exact).
    """

    def __init__(self, max_failures: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return len(self._recent(key, self.clock())) >= self.max_failures

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._failures.items() if not v]:
                    del self._failures[stale]

    def reset(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


# One limiter per app: tests and hosts may make several apps in one process.
_limiters: weakref.WeakKeyDictionary[Flask, LoginLimiter] = weakref.WeakKeyDictionary()


def limiter() -> LoginLimiter:
    app = current_app._get_current_object()
    if app not in _limiters:
        _limiters[app] = LoginLimiter(
            app.config.get("CALLBACK_LOGIN_MAX_FAILURES", MAX_FAILURES),
            app.config.get("CALLBACK_LOGIN_WINDOW_SECONDS", WINDOW_SECONDS))
    return _limiters[app]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    api_prefix = url_for("callback.lists").rstrip("/") + "/api"
    if request.path == api_prefix or request.path.startswith(api_prefix + "/"):
        return jsonify(error="login required"), 401
    target = url_for("callback.login", next=_here())
    if request.headers.get("HX-Request"):
        # htmx would swap the login page into a table row; make the whole page go there.
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def admin_required(view: Any) -> Any:
    """Signed in and an admin, else 403."""
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the lists: no open redirects."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) \
            and "\\" not in target and not any(ord(c) < 32 for c in target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("callback.lists")


def _here() -> str:
    # HX-Current-URL is the page the user sees; the request path is only the fragment's.
    if request.headers.get("HX-Request"):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        return current.path + (f"?{current.query}" if current.query else "")
    return request.full_path.rstrip("?")


def mark_seen(user: User, force: bool = False) -> None:
    """Remember when the user was last here: "a repeated call while the user has not logged in
    since" asks it. A remembered session opening the lists counts, or agents who never log out
    would never count as back; written at most every few minutes."""
    now = datetime.now(UTC)
    if force or user.last_login_at is None or now - user.last_login_at > SEEN_EVERY:
        user.last_login_at = now
        db.session.commit()


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        key = (form.username.data.strip().lower(), request.remote_addr or "")
        user = db.session.scalar(select(User).where(func.lower(User.username) == key[0]))
        if limiter().blocked(key):
            form.form_errors.append(_("Too many attempts, wait a few minutes."))
            status = 429
        elif user is None or not user.check_password(form.password.data):
            limiter().failed(key)
            form.form_errors.append(_("Wrong username or password."))
            status = 401
        else:
            limiter().reset(key)
            login_user(user, remember=form.remember.data)
            mark_seen(user, force=True)
            return redirect(next_url)
    elif form.errors:
        status = 400
    return render_template("callback/login.html", form=form, next_url=next_url), status


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    # POST only, with the CSRF token: a link elsewhere cannot sign anyone out.
    if current_user.is_authenticated:
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("callback.login"))

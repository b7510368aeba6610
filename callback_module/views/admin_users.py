"""Admin pages for the users: list, create, edit, reset password (shown once), delete."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ..extensions import db
from ..forms import NewUserForm, PasswordForm, UserForm
from ..models import Group, User
from . import blueprint
from .admin_groups import rebuild_entries
from .auth import admin_required

log = logging.getLogger("callback.admin")
# No 0/O, 1/l/I: the admin reads the password out or types it over.
USER_FIELDS = ("username", "name", "extension", "email", "role", "language", "notify_missed")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password() -> str:
    """Four groups of four: about 94 bits, easy to read out."""
    chars = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


@blueprint.route("/admin/users")
@admin_required
def admin_users() -> str:
    users = list(db.session.scalars(select(User).order_by(User.username)))
    return render_template("callback/admin/users.html", users=users)


@blueprint.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def admin_user_new() -> Any:
    user = User(username="", name="", role="agent", extension="", email="", language="",
                notify_missed=False)
    form = NewUserForm(obj=user)
    _group_choices(form)
    if request.method == "POST" and form.validate():
        _apply(user, form)
        password = form.password.data or generate_password()
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        # load_policy reads users' extensions (internal callers, answers by users) and names.
        rebuild_entries(f"user {user.username} created")
        return _password_once(user, password, created=True)
    return _form_page(form, user)


@blueprint.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def admin_user_edit(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    # Not obj=user alone: the user's own ``groups`` (rows) would win over the ids given here.
    form = UserForm(data={**{k: getattr(user, k) for k in USER_FIELDS},
                          "groups": [g.id for g in user.groups]})
    form.user_id = user.id
    _group_choices(form)
    if request.method == "POST" and form.validate():
        if user.id == current_user.id and form.role.data != "admin":
            # Nobody locks themselves out of the admin pages by accident.
            form.role.errors = [_("You cannot take away your own admin role.")]
        else:
            before = (user.name, user.extension)
            _apply(user, form)
            if (user.name, user.extension) != before:
                rebuild_entries(f"user {user.username} changed")
            else:
                db.session.commit()
                log.info("user %s changed by %s", user.username, current_user.username)
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("callback.admin_users"))
    return _form_page(form, user)


@blueprint.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def admin_user_password(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = PasswordForm()
    if request.method == "POST" and form.validate():
        password = form.password.data or generate_password()
        user.set_password(password)
        db.session.commit()
        log.info("password of %s reset by %s", user.username, current_user.username)
        return _password_once(user, password, created=False)
    status = 422 if form.errors else 200
    return render_template("callback/admin/user_password.html", form=form, user=user), status


@blueprint.route("/admin/users/<int:user_id>/delete", methods=["GET", "POST"])
@admin_required
def admin_user_delete(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        flash(_("You cannot delete yourself."), "error")
        return redirect(url_for("callback.admin_users"), 303)
    if request.method == "POST":
        name = user.username
        db.session.delete(user)
        db.session.flush()
        # Their extension no longer counts as internal, nor as a user who answers.
        rebuild_entries(f"user {name} deleted")
        flash(_("User %(name)s deleted.", name=name), "success")
        return redirect(url_for("callback.admin_users"))
    return render_template("callback/admin/confirm_delete.html",
                           title=_("Delete user %(name)s?", name=user.username),
                           consequences=[_("They can no longer sign in."),
                                         _("What they did stays in the timelines.")],
                           action=url_for("callback.admin_user_delete", user_id=user.id),
                           back=url_for("callback.admin_users"))


def _group_choices(form: UserForm) -> None:
    form.groups.choices = [SelectChoice(g.id, g.name) for g in
                           db.session.scalars(select(Group).order_by(Group.name))]


def _apply(user: User, form: UserForm) -> None:
    for key in USER_FIELDS:
        value = getattr(form, key).data
        setattr(user, key, value if isinstance(value, bool) else value or "")
    wanted = set(form.groups.data or [])
    user.groups = [g for g in db.session.scalars(select(Group)) if g.id in wanted]


def _form_page(form: UserForm, user: User) -> Any:
    status = 200
    if request.method == "POST":
        db.session.rollback()
        status = 422
        flash(_("Nothing was saved: please correct the marked fields."), "error")
    return render_template("callback/admin/user_form.html", form=form, user=user), status


def _password_once(user: User, password: str, *, created: bool) -> Response:
    """The password, on this one answer only: never stored in clear, nor cached."""
    response = make_response(render_template(
        "callback/admin/user_password_shown.html", user=user, password=password,
        created=created))
    response.headers["Cache-Control"] = "no-store"
    return response

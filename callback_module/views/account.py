"""The user's own account page: whether they want missed-call mails, and their language.

Every user has it, agents too: the opt-in is theirs (SPEC §5), the rules are the admin's. The
e-mail address is only shown: mails go there, so changing it is the admin's.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from ..extensions import db
from ..forms import LANGUAGE_LABELS
from ..models import NotifySettings, User
from . import blueprint

log = logging.getLogger("callback.account")


class AccountForm(FlaskForm):
    """What a user sets for themselves."""

    notify_missed = BooleanField(_l("E-mail me about calls I missed"), description=_l(
        "About calls to your groups that rang at your phone and were not answered; the "
        "admin's rules decide which ones."))
    language = SelectField(_l("Language"), choices=LANGUAGE_LABELS, description=_l(
        "Of these pages and of your mails. Browser default: the pages follow your browser, "
        "the mails the language the admin set."))


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Any:
    user: User = current_user._get_current_object()
    form = AccountForm(data={"notify_missed": user.notify_missed, "language": user.language})
    if request.method == "POST":
        if form.validate():
            before = (user.notify_missed, user.language)
            user.notify_missed = bool(form.notify_missed.data)
            user.language = form.language.data or ""
            db.session.commit()
            if (user.notify_missed, user.language) != before:
                log.info("account of %s changed: missed-call mails %s, language %r",
                         user.username, "on" if user.notify_missed else "off", user.language)
            refresh()  # the message below in the language just chosen
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("callback.account"))
        db.session.rollback()
        flash(_("Nothing was saved: please correct the marked fields."), "error")
    # Mails go out only when the admin's rules name someone: say so, or the opt-in looks broken.
    mails_off = NotifySettings.load().values("notifications")["recipients"] == "none"
    status = 422 if form.errors else 200
    return render_template("callback/account.html", form=form, user=user,
                           mails_off=mails_off), status

"""Admin page for the address book: upload a .vcf or .csv, see what came of it, search, empty."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ..contacts import book
from ..extensions import csrf, db
from ..language import translate
from ..models import Contact, Settings
from ..numbers import display
from . import blueprint
from .auth import admin_required
from .lists import render_page

log = logging.getLogger("callback.admin")
MAX_UPLOAD_MB = 20  # an iPhone export with photos of a few thousand contacts
PER_PAGE = 50
EXTENSIONS = ["vcf", "vcard", "csv", "txt"]


class ContactsUploadForm(FlaskForm):
    file = FileField(
        _l("Address book file"),
        validators=[FileRequired(_l("Choose a .vcf or .csv file.")),
                    FileAllowed(EXTENSIONS, _l("Only vCard (.vcf) and CSV files can be read."))],
        description=_l("vCard (.vcf) from Outlook, Apple or Google Contacts, or CSV with a "
                       "header row; at most %(mb)d MB. Importing a file again updates its "
                       "contacts.", mb=MAX_UPLOAD_MB),
        render_kw={"accept": ",".join("." + e for e in EXTENSIONS)})


def _page(form: ContactsUploadForm, report: book.ImportReport | None = None,
          status: int = 200) -> Response:
    text = request.args.get("q", "").strip()
    page = request.args.get("page", "1")
    region = Settings.load().default_region
    contacts = db.paginate(book.search(text, region), page=int(page) if page.isdigit() else 1,
                           per_page=PER_PAGE, error_out=False)
    problems = [(p.source, p.line_no, translate(p.reason)) for p in report.problems] \
        if report else []
    return render_page("callback/admin/contacts.html", "callback/partials/contacts_table.html",
                       (), status, form=form, report=report, problems=problems,
                       contacts=contacts, q=text, region=region, display_number=display,
                       total=db.session.scalar(select(func.count()).select_from(Contact)))


@blueprint.route("/admin/contacts")
@admin_required
def admin_contacts() -> Response:
    return _page(ContactsUploadForm(formdata=None))


@blueprint.route("/admin/contacts/import", methods=["POST"])
@csrf.exempt  # the form checks its token itself, after the size limit is set (see below)
@admin_required
def admin_contacts_import() -> Response:
    # Set before anything reads the body, so a huge upload is refused instead of spooled.
    request.max_content_length = MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024
    try:
        form = ContactsUploadForm()
    except RequestEntityTooLarge:
        form = ContactsUploadForm(formdata=None)
        form.file.errors = [_("The file is larger than %(mb)d MB.", mb=MAX_UPLOAD_MB)]
        return _page(form, status=413)
    if not form.validate():
        stale = getattr(form, "csrf_token", None) is not None and form.csrf_token.errors
        return _page(form, status=400 if stale else 422)
    report = book.import_contacts([form.file.data])
    log.info("contacts imported from %s by %s", ", ".join(report.files),
             current_user.username)
    return _page(ContactsUploadForm(formdata=None), report, 422 if report.failed else 200)


@blueprint.route("/admin/contacts/delete", methods=["GET", "POST"])
@admin_required
def admin_contacts_delete() -> Any:
    if request.method == "POST":
        count = book.delete_all_contacts()
        log.info("address book emptied by %s", current_user.username)
        flash(_("The address book is empty now (%(num)d contacts deleted).", num=count),
              "success")
        return redirect(url_for("callback.admin_contacts"))
    count = db.session.scalar(select(func.count()).select_from(Contact)) or 0
    return render_template("callback/admin/confirm_delete.html",
                           title=_("Delete all %(num)d contacts?", num=count),
                           consequences=[
                               _("The address book is emptied; import a file to fill it again."),
                               _("The lists show the caller ID the PBX sends instead of the "
                                 "contacts' names.")],
                           action=url_for("callback.admin_contacts_delete"),
                           back=url_for("callback.admin_contacts"))

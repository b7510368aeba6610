"""Admin pages for the groups: list, create, edit (members, target), delete with confirmation."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..forms import GROUP_TYPE_LABELS, GroupForm, split_extensions
from ..models import OPEN_STATES, Entry, Group, user_groups
from ..policy_loader import load_policy
from ..signals import entries_changed
from ..store import recompute_all
from . import blueprint
from .admin_notify import last_webhooks, local_time
from .auth import admin_required

log = logging.getLogger("callback.admin")


def rebuild_entries(reason: str, gone: Iterable[int] = ()) -> set[int]:
    """Rebuild every entry after groups or people changed, commit, and tell the live lists.

    Groups and their members decide which calls are missed and whose callbacks count, so a
    change there can open or close entries anywhere in the history. ``gone``: ids of entries
    deleted with a group, so open browsers drop those rows too.
    """
    changed = recompute_all(load_policy()) | set(gone)
    db.session.commit()
    log.info("%s by %s; %d entries changed", reason, current_user.username, len(changed))
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed,
                             source="admin")
    return changed


@blueprint.route("/admin/groups")
@admin_required
def admin_groups() -> str:
    groups = list(db.session.scalars(select(Group).order_by(Group.name)))
    open_counts = dict(db.session.execute(
        select(Entry.group_id, func.count()).where(Entry.state.in_(OPEN_STATES))
        .group_by(Entry.group_id)).all())
    user_counts = dict(db.session.execute(
        select(user_groups.c.group_id, func.count()).group_by(user_groups.c.group_id)).all())
    return render_template("callback/admin/groups.html", groups=groups, types=GROUP_TYPE_LABELS,
                           open_counts=open_counts, user_counts=user_counts,
                           webhooks=last_webhooks(g.id for g in groups), when=local_time())


@blueprint.route("/admin/groups/new", methods=["GET", "POST"])
@admin_required
def admin_group_new() -> Any:
    return _group_form(Group(name="", type="queue", pbx_id="", target_minutes=0,
                             webhook_url=""))


@blueprint.route("/admin/groups/<int:group_id>", methods=["GET", "POST"])
@admin_required
def admin_group_edit(group_id: int) -> Any:
    return _group_form(db.get_or_404(Group, group_id))


def _group_form(group: Group) -> Any:
    # Not obj=group: the group's own ``members`` (rows) would win over the text given here.
    form = GroupForm(data={"name": group.name, "type": group.type, "pbx_id": group.pbx_id,
                           "members": ", ".join(group.extensions),
                           "target_minutes": group.target_minutes,
                           "webhook_url": group.webhook_url or ""})
    form.group_id = group.id
    if request.method == "POST":
        if form.validate():
            created = group.id is None
            group.name, group.type = form.name.data, form.type.data
            group.pbx_id, group.target_minutes = form.pbx_id.data, form.target_minutes.data
            # Not logged as it is: a chat webhook's URL carries its secret token.
            webhook = "" if (group.webhook_url or "") == form.webhook_url.data else (
                ", webhook changed" if form.webhook_url.data else ", webhook removed")
            group.webhook_url = form.webhook_url.data
            group.set_extensions(split_extensions(form.members.data))
            db.session.add(group)
            db.session.flush()
            what = "created" if created else "changed"
            rebuild_entries(f"group {group.name} {what} (members {', '.join(group.extensions)}"
                            f"{webhook})")
            flash(_("Group %(name)s created.", name=group.name) if created
                  else _("Group %(name)s saved.", name=group.name), "success")
            return redirect(url_for("callback.admin_groups"))
        db.session.rollback()
        flash(_("Nothing was saved: please correct the marked fields."), "error")
        return _form_page(form, group, 422)
    return _form_page(form, group)


def _form_page(form: GroupForm, group: Group, status: int = 200) -> Any:
    webhook = last_webhooks([group.id]).get(group.id) if group.id else None
    return render_template("callback/admin/group_form.html", form=form, group=group,
                           webhook=webhook, when=local_time()), status


@blueprint.route("/admin/groups/<int:group_id>/delete", methods=["GET", "POST"])
@admin_required
def admin_group_delete(group_id: int) -> Any:
    group = db.get_or_404(Group, group_id)
    entry_ids = set(db.session.scalars(select(Entry.id).where(Entry.group_id == group.id)))
    if request.method == "POST":
        name = group.name
        # Entries, their calls and the group's timeline go with it (ON DELETE CASCADE); the
        # call data stays, so recreating the group brings its entries back.
        db.session.delete(group)
        db.session.flush()
        rebuild_entries(f"group {name} deleted", entry_ids)
        flash(_("Group %(name)s deleted.", name=name), "success")
        return redirect(url_for("callback.admin_groups"))
    return render_template("callback/admin/confirm_delete.html",
                           title=_("Delete group %(name)s?", name=group.name),
                           consequences=[
                               ngettext("Its %(num)d entry and its timeline are deleted.",
                                        "Its %(num)d entries and their timeline are deleted.",
                                        len(entry_ids)),
                               _("Users lose this group; the call data is kept."),
                           ],
                           action=url_for("callback.admin_group_delete", group_id=group.id),
                           back=url_for("callback.admin_groups"))

"""``flask --app callback_module callback …``: the CLI of SPEC §8."""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .file_import import import_files
from .models import STATES, Group, Settings, User
from .queries import current_intervals, group_ids_named, list_entries
from .serializers import entry_json
from .settings_file import apply_settings_file, export_settings, parse_settings_file
from .settings_schema import SettingsError

cli = AppGroup("callback", help="Callback: missed calls of Asterisk and FreePBX.")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--columns", help="A cdr_custom layout, as in its `fields =` line.")
def import_command(paths: tuple[str, ...], columns: str | None) -> None:
    """Import Asterisk CDR CSV and queue_log files (kind and layout told from content)."""
    tz = ZoneInfo(Settings.load().timezone or "UTC")
    report = import_files([Path(p) for p in paths], tz, columns=columns)
    for line in report.messages:
        click.echo(line, err=True)
    click.echo(f"imported {report.run.lines_read} lines: {report.run.legs_new} new CDR rows, "
               f"{report.run.queue_events_new} new queue events, {report.run.calls_touched} "
               f"calls, {report.run.entries_changed} entries changed, "
               f"{report.run.problems} lines skipped")
    if report.failed:
        sys.exit(1)


@cli.command("sync")
def sync_command() -> None:
    """Run one sync with the configured connector now."""
    from .sync import run_sync

    run = run_sync(trigger="cli")
    if run is None:
        click.echo("Another sync is running; try again in a moment.", err=True)
        sys.exit(1)
    click.echo(f"sync {run.state}: {run.lines_read} lines, {run.legs_new} new CDR rows, "
               f"{run.queue_events_new} queue events, {run.entries_changed} entries changed, "
               f"{run.problems} problems" + (f" ({run.error})" if run.error else ""))
    if run.state != "ok":
        sys.exit(1)


FOLLOW_SECONDS = 5.0


@cli.command("worker")
@click.option("--max-seconds", type=int, default=None, help="Stop cleanly after N seconds.")
def worker_command(max_seconds: int | None) -> None:
    """Run the scheduler (and live connectors) in this process until stopped."""
    from .scheduler import (
        connector_signature,
        follow_connector,
        start_live_connector,
        start_scheduler,
        stop_live_connector,
    )

    app = current_app._get_current_object()
    scheduler = start_scheduler(app)
    if scheduler is None:
        raise click.ClickException("the scheduler does not run under TESTING")
    signature = connector_signature(app)
    live = start_live_connector(app)
    click.echo("worker running" + (f" for {max_seconds} s" if max_seconds else ""), err=True)
    deadline = time.monotonic() + max_seconds if max_seconds else None
    next_check = time.monotonic() + FOLLOW_SECONDS
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2 if deadline else 1)
            if time.monotonic() >= next_check:  # the admin saved other connector settings
                live, signature = follow_connector(app, live, signature)
                next_check = time.monotonic() + FOLLOW_SECONDS
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
        if live is not None:
            stop_live_connector(app, live)
        click.echo("worker stopped", err=True)


@cli.command("entries")
@click.option("--state", type=click.Choice(STATES), help="Only entries in this state.")
@click.option("--group", "group_name", help="Only entries of this group.")
@click.option("--period", default=None,
              help="TODAY … LAST_7_DAYS, or all; default: the configured period.")
@click.option("--json", "as_json", is_flag=True, help="Print the bare JSON list.")
def entries_command(state: str | None, group_name: str | None, period: str | None,
                    as_json: bool) -> None:
    """List entries (all states and groups unless narrowed)."""
    group_ids = group_ids_named([group_name]) if group_name else None
    if group_name and not group_ids:
        raise click.BadParameter(f"no group named {group_name!r}", param_hint="--group")
    try:
        intervals = current_intervals(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    entries = list_entries([state] if state else None, group_ids, intervals)
    if as_json:
        click.echo(json.dumps([entry_json(e) for e in entries], indent=1))
        return
    for e in entries:
        click.echo(f"{e.id:>6}  {e.group.name:<12} {e.number:<18} {e.state:<12} "
                   f"calls {e.count}  attempts {len(e.attempts)}  "
                   f"{e.first_call_at:%Y-%m-%d %H:%M}  {e.closed_reason or ''}")


@cli.group("settings")
def settings_group() -> None:
    """Export or import the settings file (settings, groups, users, connector)."""


@settings_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def settings_export(path: str) -> None:
    """Write the settings file (secrets left out)."""
    text = export_settings()
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"settings written to {path}", err=True)


@settings_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also remove groups and users not in the file.")
def settings_import(path: str, replace: bool) -> None:
    """Read a settings file; a bad value refuses the whole file."""
    from .policy_loader import load_policy
    from .store import recompute_all

    try:
        plan = parse_settings_file(Path(path).read_text(encoding="utf-8"))
        apply_settings_file(plan, replace=replace)
    except SettingsError as exc:
        db.session.rollback()
        click.echo(f"Refused {path}: {exc}. Nothing was changed.", err=True)
        sys.exit(1)
    recompute_all(load_policy())
    db.session.commit()
    click.echo(f"settings imported from {path}", err=True)


@cli.group("users")
def users_group() -> None:
    """Add users, set passwords, list them."""


@users_group.command("add")
@click.argument("username")
@click.option("--name", default="")
@click.option("--extension", default="")
@click.option("--email", default="")
@click.option("--role", type=click.Choice(["admin", "agent"]), default="agent")
@click.option("--group", "groups", multiple=True, help="A group the user works (repeatable).")
@click.option("--password", default=None, help="Default: a random one, printed once.")
def users_add(username, name, extension, email, role, groups, password) -> None:
    """Add a user."""
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"a user named {username!r} exists already")
    found = list(db.session.scalars(select(Group).where(Group.name.in_(groups))))
    missing = set(groups) - {g.name for g in found}
    if missing:
        raise click.ClickException(f"no group named {', '.join(sorted(missing))}")
    user = User(username=username, name=name, extension=extension, email=email, role=role,
                groups=found)
    shown = password or secrets.token_urlsafe(9)
    user.set_password(shown)
    db.session.add(user)
    db.session.commit()
    click.echo(f"user {username} added" + ("" if password else f", password: {shown}"))


@users_group.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="Default: a random one, printed once.")
def users_passwd(username: str, password: str | None) -> None:
    """Set a user's password."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    shown = password or secrets.token_urlsafe(9)
    user.set_password(shown)
    db.session.commit()
    click.echo(f"password of {username} set" + ("" if password else f": {shown}"))


@users_group.command("list")
def users_list() -> None:
    """List the users."""
    for u in db.session.scalars(select(User).order_by(User.username)):
        groups = ",".join(g.name for g in u.groups) or "-"
        click.echo(f"{u.username:<16} {u.role:<6} ext {u.extension or '-':<6} {groups:<24} "
                   f"{u.name}")


@cli.group("contacts")
def contacts_group() -> None:
    """Import the address book (vCard, CSV) that names the callers, and list it."""


@contacts_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def contacts_import(paths: tuple[str, ...]) -> None:
    """Import .vcf and .csv files; importing a file again updates its contacts, never doubles."""
    from .contacts.book import import_contacts

    report = import_contacts([Path(p) for p in paths])
    for problem in report.problems:
        click.echo(f"skipped {problem}", err=True)
    click.echo(f"imported {len(report.files)} files: {report.added} contacts added, "
               f"{report.updated} updated, {report.unchanged} unchanged, "
               f"{report.skipped_numbers} numbers skipped, {len(report.problems)} problems, "
               f"{len(report.entry_ids)} entries renamed")
    if report.failed:
        sys.exit(1)


@contacts_group.command("list")
@click.option("--search", "text", default="", help="Only contacts whose name, organization, "
              "e-mail or number contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print the bare JSON list.")
def contacts_list(text: str, as_json: bool) -> None:
    """List the address book, by name."""
    from .contacts import book

    contacts = list(db.session.scalars(book.search(text, Settings.load().default_region)))
    if as_json:
        click.echo(json.dumps([book.as_json(c) for c in contacts], indent=1))
        return
    for c in contacts:
        numbers = ", ".join(n.number_e164 for n in c.numbers) or "-"
        click.echo(f"{c.name:<32} {c.organization or '-':<24} {numbers:<32} {c.email}")

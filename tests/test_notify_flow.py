"""Missed-call notifications end to end: real recorded CDR rows, retimed to now, through the
sync; mails to a real SMTP server (aiosmtpd) and webhooks to a real HTTP receiver."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from http_receiver import Receiver
from smtp_server import MailServer
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import (
    ConnectorConfig,
    Entry,
    Group,
    Notification,
    NotifySettings,
    User,
)
from callback_module.notify.dispatch import dispatch_due
from callback_module.sync import run_sync
from callback_module.timeline import load_timeline

from conftest import FIXTURES, add_fixture_profile

MASTER = FIXTURES / "runA_unanswered_yes" / "cdr-csv" / "Master.csv"
S01, S03, S05 = "1795327866.0", "1795327896.6", "1795327948.12"
S06C, S09, S12 = "1795328013.19", "1795328063.29", "1795328164.45"
TIMES = (9, 10, 11)  # start, answer, end in Master.csv


def retimed(linkedids: list[str], ended_ago: float = 60.0) -> list[str]:
    """The recorded rows of these calls, moved so that the last one ended ``ended_ago``
    seconds ago (as if the PBX had just written them). Times stay in the order recorded."""
    rows = [r for r in csv.reader(MASTER.read_text().splitlines()) if r[19] in linkedids]
    parse = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)  # noqa: E731
    last = max(parse(r[11]) for r in rows)
    shift = datetime.now(UTC) - timedelta(seconds=ended_ago) - last
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        for i in TIMES:
            if row[i]:
                row[i] = (parse(row[i]) + shift).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(row)
    return out.getvalue().splitlines(keepends=True)


@pytest.fixture
def mailserver():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def pbx(app, tmp_path, mailserver):
    """Profile 1, anna and ben opted in, mails to the test's SMTP server; ``pbx(lines)``
    appends CDR lines to the followed Master.csv and syncs."""
    add_fixture_profile(1)
    for name in ("anna", "ben", "clara", "dave"):
        user = db.session.scalar(select(User).where(User.username == name))
        user.email, user.notify_missed = f"{name}@example.org", True
    row = NotifySettings.load()
    row.update("notifications", {"recipients": "all", "hold_seconds": 10})
    row.update("mail", {"host": "127.0.0.1", "port": mailserver.port, "security": "none",
                        "sender": "callback@example.org", "timeout": 5})
    cdr = tmp_path / "Master.csv"
    cdr.write_text("")
    config = ConnectorConfig.load()
    config.type, config.config = "asterisk_files", {"cdr_path": str(cdr), "queue_log_path": ""}
    db.session.commit()

    def feed(lines: list[str]):
        with cdr.open("a") as f:
            f.writelines(lines)
        run = run_sync("test")
        assert run.state == "ok", run.error
        return run
    return feed


def later(seconds: float = 30) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def rows(call_key: str) -> list[tuple]:
    return sorted((n.channel, n.target, n.state, n.rule) for n in db.session.scalars(
        select(Notification).where(Notification.call_key == call_key)))


def user_id(name: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == name))


def test_importing_the_recorded_calls_sends_nothing(pbx, mailserver):
    """The fixtures ended long ago: a sync of history tells nobody."""
    pbx(MASTER.read_text().splitlines(keepends=True))
    assert db.session.scalar(select(Entry.id).limit(1)) is not None
    assert db.session.scalars(select(Notification)).all() == []
    dispatch_due(later(3600))
    assert mailserver.inbox.messages == []


def test_s09_all_members_that_rang_get_one_mail_each(pbx, mailserver):
    """S09 rang 201 and 202 twice each (queue retries): one mail to anna, one to ben."""
    NotifySettings.load().update("notifications", {"skip_withheld": False})
    db.session.commit()
    pbx(retimed([S09]))
    assert rows(S09) == [("mail", f"user:{user_id('anna')}", "pending", ""),
                         ("mail", f"user:{user_id('ben')}", "pending", "")]
    pbx([])  # judged again by a later sync: nothing new
    assert dispatch_due(later()) == 2
    assert [len(mailserver.inbox.to(f"{n}@example.org")) for n in ("anna", "ben")] == [1, 1]
    assert len(mailserver.inbox.messages) == 2
    message = mailserver.inbox.to("anna@example.org")[0]
    assert "support" in message["Subject"]
    assert dispatch_due(later(7200)) == 0  # sent once, never again
    assert len(mailserver.inbox.messages) == 2


def test_first_and_last_member_that_rang(pbx, mailserver):
    NotifySettings.load().update("notifications", {"recipients": "last"})
    db.session.commit()
    pbx(retimed([S01]))  # 201 then 202 (queue ringall order of the recording)
    told = [n.user_id for n in db.session.scalars(select(Notification))]
    assert len(told) == 1 and told[0] in (user_id("anna"), user_id("ben"))


def test_withheld_numbers_are_skipped_and_the_timeline_says_why(pbx, mailserver):
    pbx(retimed([S09]))
    assert {r[2:] for r in rows(S09)} == {("skipped", "withheld")}
    dispatch_due(later())
    assert mailserver.inbox.messages == []
    entry = db.session.scalar(select(Entry))  # the only one: S09
    items = [i for i in load_timeline(entry) if i.kind == "notification"]
    assert {(i.by, i.state, i.reason) for i in items} == {
        ("Anna Agent", "skipped", "withheld"), ("Ben Agent", "skipped", "withheld")}


def test_a_user_who_opted_out_gets_nothing(pbx, mailserver):
    """Not asking for the mails is no notification at all: nothing in the timeline either."""
    db.session.scalar(select(User).where(User.username == "ben")).notify_missed = False
    db.session.commit()
    pbx(retimed([S01]))
    assert rows(S01) == [("mail", f"user:{user_id('anna')}", "pending", "")]
    dispatch_due(later())
    assert [m["To"].addresses[0].addr_spec for m in mailserver.inbox.messages] == [
        "anna@example.org"]


def test_opting_out_before_the_mail_goes_out_stops_it(pbx, mailserver):
    pbx(retimed([S01]))
    db.session.scalar(select(User).where(User.username == "ben")).notify_missed = False
    db.session.commit()
    dispatch_due(later())
    assert sorted(r[2:] for r in rows(S01)) == [("sent", ""), ("skipped", "not_opted_in")]
    assert len(mailserver.inbox.messages) == 1


def test_the_hold_counts_from_when_callback_read_the_call(pbx, mailserver):
    """A polled PBX reports a call a poll after its end: the wait starts then, so the leg
    that says it was answered, read a poll later, still comes in time."""
    pbx(retimed([S01], ended_ago=60))  # read a minute after it ended
    assert dispatch_due(later(5)) == 0
    assert dispatch_due(later(15)) == 2


def test_a_mailbox_that_counts_as_answering_is_no_third_party(pbx, mailserver):
    """S03 ended in sales' voicemail; with "mailbox counts as unanswered" off it is answered,
    by the mailbox: "also when a third party answered" must not send anything."""
    from callback_module.models import Settings

    Settings.load().mailbox_unanswered = False
    NotifySettings.load().update("notifications", {"third_party_answered": True})
    db.session.commit()
    pbx(retimed([S03]))
    assert rows(S03) == []


def test_the_last_member_is_the_last_one_known_when_the_mail_goes_out(pbx, mailserver):
    """S05, hunt group: 203 rang, then 204. Read leg by leg, the mail first planned for 203
    goes to 204 only, who rang last."""
    NotifySettings.load().update("notifications", {"recipients": "last"})
    db.session.commit()
    first, second, *rest = retimed([S05], ended_ago=1)
    pbx([first])
    pbx([second, *rest])
    dispatch_due(later())
    assert [m["To"].addresses[0].addr_spec for m in mailserver.inbox.messages] == [
        "dave@example.org"]
    assert sorted(r[1:] for r in rows(S05)) == [
        (f"user:{user_id('clara')}", "skipped", "not_chosen"),
        (f"user:{user_id('dave')}", "sent", "")]


def test_the_mail_waits_so_a_caller_reached_meanwhile_sends_nothing(pbx, mailserver):
    """S01 missed; a few seconds later (inside the hold) S06c reaches the caller: no mail."""
    NotifySettings.load().update("notifications", {"hold_seconds": 30})
    db.session.commit()
    pbx(retimed([S01], ended_ago=9))  # S06c below started 6 s ago: after S01 ended
    assert dispatch_due() == 0  # still held back
    pbx(retimed([S06C], ended_ago=0))
    dispatch_due(later(60))
    assert mailserver.inbox.messages == []
    assert {r[2:] for r in rows(S01)} == {("skipped", "closed_meanwhile")}


def test_a_call_answered_after_all_sends_nothing(pbx, mailserver):
    """S12: 201 was busy, then 202 answered. The busy leg alone looks missed; once the rest
    of the call is read, before the hold is over, nobody is told."""
    NotifySettings.load().update("notifications", {"skip_short_ring": False})  # busy at once
    db.session.commit()
    lines = retimed([S12], ended_ago=1)
    busy = [line for line in lines if "BUSY" in line]
    pbx(busy)
    assert [r[2] for r in rows(S12)] == ["pending"]
    pbx([line for line in lines if line not in busy])
    dispatch_due(later())
    assert mailserver.inbox.messages == []
    assert {r[2:] for r in rows(S12)} == {("skipped", "answered_meanwhile")}


def test_a_mail_server_that_is_down_loses_nothing(pbx, mailserver):
    mailserver.stop()
    pbx(retimed([S01]))
    dispatch_due(later())
    failed = db.session.scalars(select(Notification)).all()
    assert {(n.state, n.tries) for n in failed} == {("pending", 1)}
    assert all("refused" in n.last_error or "connect" in n.last_error for n in failed)
    assert dispatch_due(later()) == 0  # waits before trying again
    mailserver.start()
    dispatch_due(later(60))
    assert {n.state for n in db.session.scalars(select(Notification))} == {"sent"}
    assert len(mailserver.inbox.messages) == 2
    entry = db.session.scalar(select(Entry).where(Entry.number_e164 == "+49301110001"))
    states = [i.state for i in load_timeline(entry) if i.kind == "notification"]
    assert states == ["pending", "pending", "sent", "sent"]


def test_a_group_webhook_gets_the_facts_and_is_retried(pbx, mailserver):
    with Receiver(status=500) as receiver:
        group = db.session.scalar(select(Group).where(Group.name == "support"))
        group.webhook_url = receiver.url
        NotifySettings.load().update("notifications", {"recipients": "none",
                                                       "mask_numbers": True})
        db.session.commit()
        pbx(retimed([S01]))
        dispatch_due(later())
        hook = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
        assert (hook.state, hook.tries) == ("pending", 1) and "HTTP 500" in hook.last_error
        receiver.status = 200
        dispatch_due(later(60))
        assert hook.state == "sent"
    body = receiver.bodies[-1]
    assert len(receiver.bodies) == 2
    assert body["event"] == "missed_call" and body["group"] == "support"
    assert body["number_e164"].endswith("0001") and "30111" not in body["number_e164"]
    assert body["entry_url"].endswith("/timeline") and "Missed call from" in body["text"]
    assert receiver.headers[-1]["Content-Type"].startswith("application/json")
    assert mailserver.inbox.messages == []


def test_a_broken_notification_is_retried_later_and_holds_up_no_other(pbx, mailserver,
                                                                     monkeypatch):
    from callback_module.notify import outgoing

    real = outgoing.build_message

    def build(mail, **kwargs):
        if mail.recipient_email.startswith("anna"):
            raise RuntimeError("a template bug")
        return real(mail, **kwargs)

    monkeypatch.setattr(outgoing, "build_message", build)
    pbx(retimed([S01]))
    dispatch_due(later())
    anna = db.session.scalar(select(Notification).where(
        Notification.user_id == user_id("anna")))
    assert (anna.state, anna.tries) == ("pending", 1) and "a template bug" in anna.last_error
    assert anna.due_at > later()  # backed off, not tried again at once
    assert [m["To"].addresses[0].addr_spec for m in mailserver.inbox.messages] == [
        "ben@example.org"]


def test_two_dispatchers_never_send_one_mail_twice(pbx, mailserver):
    from callback_module import lease
    from callback_module.notify import dispatch

    pbx(retimed([S01]))
    assert lease.acquire(dispatch.LEASE, 60, holder="the other worker")
    assert dispatch_due(later()) == 0  # the other one is at it
    lease.release(dispatch.LEASE, holder="the other worker")
    first = db.session.scalar(select(Notification.id).order_by(Notification.id))
    assert dispatch.deliver(first, later()) == "sent"
    assert dispatch.deliver(first, later()) == "taken"
    assert len(mailserver.inbox.messages) == 1


def test_a_send_cut_short_is_not_repeated(pbx, mailserver):
    """The worker died while sending: the mail may be out; it is marked failed, not resent."""
    pbx(retimed([S01]))
    for n in db.session.scalars(select(Notification)):
        n.state, n.due_at = "sending", datetime.now(UTC) - timedelta(minutes=11)
    db.session.commit()
    dispatch_due(later())
    assert {(n.state, "interrupted" in n.last_error) for n in
            db.session.scalars(select(Notification))} == {("failed", True)}
    assert mailserver.inbox.messages == []

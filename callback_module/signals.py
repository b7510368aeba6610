"""Signals the store and the sync send; live push and notifications are their receivers.

The sync knows neither: it only sends these after its transaction is committed.
"""

from blinker import Namespace

_signals = Namespace()

entries_changed = _signals.signal("callback.entries-changed")
"""Sent by the store's callers after a commit changed entries.

Sender: the Flask app. Keyword ``entry_ids``: the set of ids whose row or counters changed
(deleted ids included). ``source``: "sync", "import", "action", "claim" (a claim was set or
released; the entry itself is unchanged but its row shows who is calling) or "ringing" (the
caller started or ended a call: the row shows or drops "calling in now").
"""

sync_finished = _signals.signal("callback.sync-finished")
"""Sent by the sync after each run. Sender: the Flask app. Keyword ``run``: the SyncRun row."""

claim_changed = _signals.signal("callback.claim-changed")
"""Sent after a commit that set or released a claim on an entry.

Sender: the Flask app. Keywords ``entry_id`` and ``expires_at`` (an aware datetime, or None when
the claim was released). Live push re-renders the entry now and again when the claim expires.
"""

user_notice = _signals.signal("callback.user-notice")
"""A message for one user's open lists (the flash area), e.g. what became of their call.

Sender: the Flask app. Keywords ``user_id``, ``category`` ("success", "error", "info") and
``message``: English text made with ``i18n.N_``, shown in the viewer's language.
"""

calls_judged = _signals.signal("callback.calls-judged")
"""Sent by the sync after its commit, when inbound calls that ended recently were stored or
changed (a call's legs may come in over several syncs; each time it is judged again).

Sender: the Flask app. Keywords ``calls``: a list of (records.CallRecord,
rules.classify.InboundCall); ``learned_at``: when the sync read them (aware UTC). Notifications
plan their mails and webhooks from it.
"""

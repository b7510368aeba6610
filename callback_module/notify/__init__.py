"""Missed-call notifications (SPEC §5): who is told, by mail or webhook, and the sending."""

"""Background jobs of the audit log (Huey). Thin: they call the sequencer, signing and retention."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from custodia.kernel.actor import Actor

FRESHNESS = dt.timedelta(hours=24)  # a head at least daily, even when nothing happened


@db_periodic_task(crontab(minute="*"))
def audit_sequence() -> int | None:
    """Every minute: integrate committed events into the Merkle log; sign a tree head when the tree
    grew and the last head is older than CUSTODIA_AUDIT_HEAD_MINUTES, or is a day old. Returns the
    new head's size, or None."""
    from custodia.audit import heads, sequencer

    sequencer.integrate()
    last = heads.latest_head()
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    if last is not None:
        age_ms = now_ms - last.timestamp_ms
        if age_ms < settings.CUSTODIA_AUDIT_HEAD_MINUTES * 60_000:
            return None
        if age_ms < FRESHNESS.total_seconds() * 1000 and last.size == sequencer.log_state().size:
            return None
    head = heads.sign_head()
    return head.size if head else None


@db_periodic_task(crontab(minute="7", hour="4"))
def audit_prune() -> int:
    """Nightly: remove event bodies past retention (hashes stay); audited by the service."""
    from custodia.audit import retention

    return retention.prune(actor=Actor.system("retention")).count

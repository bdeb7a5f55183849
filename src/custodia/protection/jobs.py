"""Background jobs of the protection layer."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from custodia.protection.crypto import rewrap_batch


@db_periodic_task(crontab(minute="*/10"))
@lock_task("kek-rewrap")
def kek_rewrap_resume() -> int:
    """Finish an interrupted KEK rotation: re-wrap data keys still under a retired KEK, in
    committed batches (idempotent; nothing to do when the rotation completed)."""
    total = 0
    while (done := rewrap_batch(500)):
        total += done
    return total

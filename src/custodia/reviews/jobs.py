"""Background jobs of access reviews (Huey). Thin: they call services with a system actor."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from custodia.kernel.actor import Actor


@db_periodic_task(crontab(minute="23", hour="*"))
def access_reviews_run() -> dict:
    """Every hour: open the current period's campaigns when they are not open yet (so a new quarter
    starts its review within the hour; idempotent), then close the campaigns past their deadline,
    revoking what nobody confirmed."""
    from custodia.reviews import services

    actor = Actor.system("jobs")
    opened = services.campaigns_open(actor=actor)
    closed = services.campaigns_close_overdue(actor=actor)
    return {"opened": len(opened), **closed}

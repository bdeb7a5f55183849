"""Background jobs of approvals (Huey). Thin: they call services with a system actor."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from custodia.kernel.actor import Actor


@db_periodic_task(crontab(minute="*/10"))
def access_requests_expire() -> int:
    """Every ten minutes: mark requests whose decision or use window has passed as expired, audited.
    (The services refuse them from the second they expire; this keeps the record.)"""
    from custodia.approvals.services import requests_expire

    return requests_expire(actor=Actor.system("jobs"))

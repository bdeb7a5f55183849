"""Background jobs of the access model (Huey). Thin: they call services with a system actor."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from custodia.kernel.actor import Actor


@db_periodic_task(crontab(minute="*/10"))
def access_grants_expire() -> int:
    """Every ten minutes: mark time-bound grants whose time is up as expired and audit each expiry.
    (The scope filter already ignores them from the second they expire; this keeps the record.)"""
    from custodia.access.grant_services import access_grants_expire as expire

    return expire(actor=Actor.system("jobs"))

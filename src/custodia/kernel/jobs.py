"""Background jobs of the kernel (Huey). Jobs are thin: they call services with a system actor."""

from __future__ import annotations

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17", hour="3"))
def sessions_clear():
    """Delete expired sessions every night (signed-out users leave nothing usable behind)."""
    call_command("clearsessions")

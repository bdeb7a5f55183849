"""Background jobs of the kernel (Huey). Jobs are thin: they call services with a system actor."""

from __future__ import annotations

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17", hour="3"))
def sessions_clear():
    """Delete expired sessions every night (signed-out users leave nothing usable behind)."""
    call_command("clearsessions")


def database_optimize() -> None:
    """Refresh the query planner's statistics (SQLite ``ANALYZE``: without them it scans the
    creation-time index for a manager's deep list pages; PostgreSQL's autovacuum analyses by
    itself). Run after bulk loads and nightly."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@db_periodic_task(crontab(minute="41", hour="2"))
def database_optimize_nightly():
    database_optimize()

"""Background jobs of monitoring (Huey). Thin: they call notify and baselines."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def monitor_notify():
    """Send the alert notifications that are due (queued when an alert commits)."""
    from custodia.monitor import notify

    return notify.deliver_pending()


@db_periodic_task(crontab(minute="*"))
def monitor_notify_retry():
    """Every minute: retry notifications that failed (the mail server or a webhook was down)."""
    from custodia.monitor import notify

    return notify.deliver_pending()


@db_periodic_task(crontab(minute="23", hour="1"))
def monitor_nightly():
    """Nightly: learn everyone's baselines from the last 28 days and drop expired counters."""
    from custodia.monitor import baselines
    from custodia.monitor.stores import DbStore

    learned = baselines.learn()
    return learned, DbStore.expire()

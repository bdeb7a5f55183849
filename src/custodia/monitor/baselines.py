"""Nightly baselines: each person's robust typical peak per volume rule, learned from the last
28 days of the audit log with the same counting the live detectors use (engine.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from custodia.monitor import rules as rule_store
from custodia.monitor.engine import BASELINE_DAYS, Directory, Engine
from custodia.monitor.history import db_events
from custodia.monitor.stores import MemoryStore, live_store


def learn(now: dt.datetime | None = None) -> int:
    """Learn baselines of every person with enough history and write them to the live store;
    returns how many people got one."""
    now = now or timezone.now()
    specs = [s for s in rule_store.live_specs() if s.kind == "volume"]
    if not specs:
        return 0
    engine = Engine(specs, MemoryStore(), Directory(), learn=True, tz=settings.TIME_ZONE)
    for ev in db_events(now - dt.timedelta(days=BASELINE_DAYS + 1), now):
        if ev.actor is not None:
            engine.evaluate(ev)
    today = now.astimezone(engine.tz).date() + dt.timedelta(days=1)  # today's peaks count too
    learned = engine.refresh_baselines(today)
    store = live_store()
    for person, values in learned.items():
        store.put_baselines(person, values)
    return len(learned)

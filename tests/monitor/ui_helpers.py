"""Alerts for the page and API tests: a real triggering audit event (a rep viewing a customer),
an alert naming it, optionally a suspension in force."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from custodia.audit.models import AuditEvent
from custodia.customers import selectors as customer_selectors
from custodia.kernel.actor import Actor
from custodia.monitor.models import Alert, Suspension
from custodia.testing.factories import make_customer


def make_alert(person, *, status="open", severity="high", rule="volume.viewed.5m", suspended=False,
               **extra) -> Alert:
    customer = make_customer(person)
    customer_selectors.customer_get(Actor.for_user(person), customer.pk)
    event = AuditEvent.objects.filter(action="customer.viewed", actor_id=person.pk).order_by("-seq").first()
    now = timezone.now()
    values = dict(rule_id=rule, rule_version=1, severity=severity, status=status, reason="threshold",
                  subject=f"person:{person.pk}", dedup_key=f"{rule}|person:{person.pk}", person=person,
                  source_ip="10.1.2.3", value=212, limit=150, window_seconds=300, response="deny",
                  interventions=1, occurrences=3, event_ids=[str(event.id)], detail={"metric": "viewed"},
                  first_at=now - dt.timedelta(minutes=4), last_at=now)
    values.update(extra)
    alert = Alert.objects.create(**values)
    if suspended:
        Suspension.objects.create(person=person, alert=alert, started_at=now)
    return alert

"""Telling people and systems about alerts: email (Django's mail backend), webhooks (JSON POST,
HMAC-signed when a secret is set) and a SIEM feed (JSON lines or ArcSight CEF, to a file or
syslog). Each delivery is a ``Notification`` row written with the alert; the worker sends it after
the alert commits and retries failures every minute (up to ``MAX_ATTEMPTS``).

Settings: CUSTODIA_MONITOR_NOTIFY_SEVERITY (lowest severity notified, default medium),
CUSTODIA_MONITOR_EMAIL (addresses; default: the active security admins' and compliance
officers' addresses), CUSTODIA_MONITOR_WEBHOOKS (URLs), CUSTODIA_MONITOR_WEBHOOK_SECRET,
CUSTODIA_MONITOR_SIEM (file:PATH, syslog, syslog:HOST:PORT; every alert whatever its severity)
and CUSTODIA_MONITOR_SIEM_FORMAT (json or cef).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from custodia.kernel import sinks
from custodia.monitor.choices import SEVERITY_RANK
from custodia.monitor.models import Alert, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
CEF_SEVERITY = {"low": 3, "medium": 5, "high": 8, "critical": 10}


def channels_for(alert: Alert) -> list[str]:
    out = []
    if settings.CUSTODIA_MONITOR_SIEM:
        out.append("siem")
    if SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[settings.CUSTODIA_MONITOR_NOTIFY_SEVERITY]:
        if email_recipients():
            out.append("email")
        if settings.CUSTODIA_MONITOR_WEBHOOKS:
            out.append("webhook")
    return out


def queue(alert: Alert) -> None:
    """Write the deliveries of a new alert (inside its transaction) and send them once it commits."""
    rows = [Notification(alert=alert, channel=c) for c in channels_for(alert)]
    if not rows:
        return
    Notification.objects.bulk_create(rows)
    transaction.on_commit(_enqueue)


def _enqueue() -> None:
    from custodia.monitor.jobs import monitor_notify

    try:
        monitor_notify()
    except Exception as exc:  # noqa: BLE001 - the periodic retry delivers it later
        log.warning("could not queue alert notifications: %s", exc)


def email_recipients() -> list[str]:
    if settings.CUSTODIA_MONITOR_EMAIL:
        return list(settings.CUSTODIA_MONITOR_EMAIL)
    from custodia.monitor.selectors import triage_people

    return sorted({person.email for person in triage_people() if person.email})


def alert_json(alert: Alert) -> dict:
    """What leaves the system about an alert: no customer data, the person by account name."""
    return {
        "type": "custodia.alert", "id": str(alert.pk), "short_id": alert.short_id, "rule": alert.rule_id,
        "rule_version": alert.rule_version, "severity": alert.severity, "status": alert.status,
        "reason": alert.reason, "subject": alert.subject,
        "person": alert.person.username if alert.person_id else None, "source_ip": alert.source_ip,
        "value": alert.value, "limit": alert.limit, "window_seconds": alert.window_seconds,
        "response": alert.response, "first_at": alert.first_at.isoformat(), "last_at": alert.last_at.isoformat(),
        "events": alert.event_ids[:20], "url": f"{settings.CUSTODIA_BASE_URL}/monitor/alerts/{alert.pk}/",
    }


def _cef_escape(value, header: bool = False) -> str:
    text = str(value).replace("\\", "\\\\")
    return text.replace("|", "\\|") if header else text.replace("=", "\\=").replace("\n", " ")


def alert_cef(alert: Alert) -> str:
    """ArcSight Common Event Format: CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension."""
    data = alert_json(alert)
    header = ["CEF:0", "Custodia", "Custodia CRM", "1", _cef_escape(alert.rule_id, True),
              _cef_escape(f"{alert.rule.name} ({alert.reason})", True), str(CEF_SEVERITY[alert.severity])]
    ext = {"rt": int(alert.last_at.timestamp() * 1000), "suser": data["person"] or "", "src": alert.source_ip,
           "act": alert.response, "cnt": alert.occurrences, "externalId": alert.pk, "cs1Label": "subject",
           "cs1": alert.subject, "cs2Label": "url", "cs2": data["url"], "cfp1Label": "value", "cfp1": alert.value,
           "cfp2Label": "limit", "cfp2": alert.limit}
    return "|".join(header) + "|" + " ".join(f"{k}={_cef_escape(v)}" for k, v in ext.items() if v != "")


def _deliver(n: Notification) -> None:
    alert = n.alert
    if n.channel == "email":
        data = alert_json(alert)
        subject = f"[Custodia] {alert.severity.upper()} {alert.rule.name} — {data['person'] or alert.subject}"
        body = "\n".join(f"{k}: {v}" for k, v in data.items())
        send_mail(subject, body, None, email_recipients(), fail_silently=False)
    elif n.channel == "webhook":
        line = json.dumps(alert_json(alert), ensure_ascii=False, sort_keys=True)
        headers = {}
        if settings.CUSTODIA_MONITOR_WEBHOOK_SECRET:
            mac = hmac.new(settings.CUSTODIA_MONITOR_WEBHOOK_SECRET.encode(), line.encode(), hashlib.sha256)
            headers["X-Custodia-Signature"] = "sha256=" + mac.hexdigest()
        for sink in sinks.parse(settings.CUSTODIA_MONITOR_WEBHOOKS, "monitor webhook"):
            sinks.send(sink, line, tag="", headers=headers)
    elif n.channel == "siem":
        line = (alert_cef(alert) if settings.CUSTODIA_MONITOR_SIEM_FORMAT == "cef"
                else json.dumps(alert_json(alert), ensure_ascii=False, sort_keys=True))
        for sink in sinks.parse(settings.CUSTODIA_MONITOR_SIEM, "monitor SIEM feed"):
            sinks.send(sink, line, tag="custodia-alert" if sink.kind == "syslog" else "")


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send what is due; returns (sent, failed). Each row is claimed in its own transaction, so
    two workers never send the same notification and a crash loses nothing."""
    sent = failed = 0
    ids = list(Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
               .order_by("id").values_list("id", flat=True)[:limit])
    for nid in ids:
        with transaction.atomic():
            # Lock the notification row only: the alert's person is an outer join, which
            # PostgreSQL cannot lock (FOR UPDATE on the nullable side of an outer join).
            n = (Notification.objects.select_for_update(of=("self",))
                 .select_related("alert", "alert__rule", "alert__person")
                 .filter(pk=nid, sent_at__isnull=True).first())
            if n is None:
                continue
            n.attempts += 1
            try:
                _deliver(n)
                n.sent_at = timezone.now()
                n.last_error = ""
                sent += 1
            except Exception as exc:  # noqa: BLE001 - an outside system failed: retried later
                n.last_error = str(exc)[:300]
                failed += 1
                log.warning("alert notification %s by %s failed: %s", n.alert_id, n.channel, exc)
            n.save(update_fields=["attempts", "sent_at", "last_error"])
    return sent, failed

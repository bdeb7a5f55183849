"""Alert notifications: email through Django's mail backend, a signed webhook (a real local HTTP
server), and the SIEM feed as JSON lines or CEF; failures are retried, nothing is sent twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from custodia.kernel.actor import Actor
from custodia.monitor import inline, notify, services
from custodia.monitor.models import Alert, Notification, Rule

pytestmark = pytest.mark.django_db


class Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.received, Hook.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", Hook
    server.shutdown()


@pytest.fixture
def channels(settings, tmp_path, webhook, monkeypatch):
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "immediate", True)  # the worker's task runs as it is queued
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CUSTODIA_MONITOR_EMAIL = ["soc@example.com"]
    settings.CUSTODIA_MONITOR_WEBHOOKS = [webhook[0]]
    settings.CUSTODIA_MONITOR_WEBHOOK_SECRET = "s3cret"
    settings.CUSTODIA_MONITOR_SIEM = [f"file:{tmp_path / 'siem.log'}"]
    return tmp_path / "siem.log"


def raise_alert(org, customer_factory, django_capture_on_commit_callbacks):
    rule = Rule.objects.get(code="volume.viewed.5m")
    services.rule_update(actor=Actor.for_user(org.secadmin), code=rule.code, params=rule.params | {"threshold": 1},
                         reason="test")
    from custodia.customers import selectors

    customer = customer_factory(org.rep)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(inline.Intervention):
        with inline.scope():
            selectors.customer_get(Actor.for_user(org.rep), customer.pk)
    return Alert.objects.get()


def test_a_new_alert_goes_to_email_webhook_and_siem(org, customer_factory, channels, webhook,
                                                      django_capture_on_commit_callbacks):
    alert = raise_alert(org, customer_factory, django_capture_on_commit_callbacks)
    assert set(Notification.objects.filter(sent_at__isnull=False).values_list("channel", flat=True)) == {
        "email", "webhook", "siem"}
    assert mail.outbox[0].to == ["soc@example.com"] and "HIGH" in mail.outbox[0].subject
    assert "rep01" in mail.outbox[0].subject
    headers, body = webhook[1].received[0]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Custodia-Signature"] == expected
    payload = json.loads(body)
    assert payload["id"] == str(alert.pk) and payload["person"] == "rep01" and payload["rule"] == "volume.viewed.5m"
    line = json.loads(channels.read_text().splitlines()[0])
    assert line["severity"] == "high" and line["response"] == "deny"
    # nothing leaves with customer data: ids of events only
    assert "测试客户" not in body.decode() and "测试客户" not in channels.read_text()


def test_cef_format(org, customer_factory, channels, settings, django_capture_on_commit_callbacks):
    settings.CUSTODIA_MONITOR_SIEM_FORMAT = "cef"
    alert = raise_alert(org, customer_factory, django_capture_on_commit_callbacks)
    line = channels.read_text().splitlines()[0]
    head = line.split("|")
    assert head[:5] == ["CEF:0", "Custodia", "Custodia CRM", "1", "volume.viewed.5m"] and head[6] == "8"
    assert f"externalId={alert.pk}" in line and "suser=rep01" in line and "act=deny" in line


def test_a_failing_webhook_is_retried_until_it_answers(org, customer_factory, channels, webhook,
                                                       django_capture_on_commit_callbacks):
    webhook[1].status = 503
    raise_alert(org, customer_factory, django_capture_on_commit_callbacks)
    pending = Notification.objects.get(channel="webhook")
    assert pending.sent_at is None and pending.attempts == 1 and "503" in pending.last_error
    webhook[1].status = 200
    assert notify.deliver_pending() == (1, 0)
    assert notify.deliver_pending() == (0, 0)  # sent once only
    pending.refresh_from_db()
    assert pending.sent_at is not None and len(webhook[1].received) == 2


def test_low_alerts_reach_only_the_siem(org, customer_factory, channels, settings,
                                        django_capture_on_commit_callbacks):
    settings.CUSTODIA_MONITOR_NOTIFY_SEVERITY = "critical"
    raise_alert(org, customer_factory, django_capture_on_commit_callbacks)
    assert list(Notification.objects.values_list("channel", flat=True)) == ["siem"]
    assert not mail.outbox


def test_email_goes_to_security_and_compliance_by_default(org, settings):
    settings.CUSTODIA_MONITOR_EMAIL = []
    org.secadmin.email, org.compliance.email = "sec@example.com", "cmp@example.com"
    org.secadmin.save()
    org.compliance.save()
    assert notify.email_recipients() == ["cmp@example.com", "sec@example.com"]

"""The monitoring API: who may list, read and triage alerts and list rules; filters; field-level
400s that change nothing; audited reads; the operations in the OpenAPI schema."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from custodia.audit.models import AuditEvent
from custodia.monitor.models import AlertNote
from tests.monitor.ui_helpers import make_alert

pytestmark = pytest.mark.django_db

ROLES = ("rep", "manager", "compliance", "secadmin", "auditor", "hr", "legal", "admin")
VIEW = {"compliance", "secadmin", "auditor", "admin"}
TRIAGE = {"compliance", "secadmin", "admin"}


def api(user=None, lang: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=lang)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("who", ROLES)
def test_who_may_do_what(org, who):
    alert = make_alert(org.rep)
    client = api(getattr(org, who))
    codes = {
        "list": client.get("/api/v1/alerts/").status_code,
        "detail": client.get(f"/api/v1/alerts/{alert.pk}/").status_code,
        "rules": client.get("/api/v1/monitor/rules/").status_code,
        "triage": client.post(f"/api/v1/alerts/{alert.pk}/triage/", {"status": "investigating"},
                              format="json").status_code,
    }
    want = {"list": 200 if who in VIEW else 403, "detail": 200 if who in VIEW else 403,
            "rules": 200 if who in VIEW else 403, "triage": 200 if who in TRIAGE else 403}
    assert codes == want


def test_anonymous_is_refused(org):
    alert = make_alert(org.rep)
    client = api()
    for url in ("/api/v1/alerts/", f"/api/v1/alerts/{alert.pk}/", "/api/v1/monitor/rules/"):
        assert client.get(url).status_code == 401
    assert client.post(f"/api/v1/alerts/{alert.pk}/triage/", {}, format="json").status_code == 401


def test_list_filters_and_audit(org):
    high = make_alert(org.rep, severity="high")
    low = make_alert(org.rep2, severity="low", rule="volume.viewed.1h")
    closed = make_alert(org.other_rep, status="confirmed")
    client = api(org.auditor)
    ids = lambda r: {a["id"] for a in r.json()["results"]}  # noqa: E731
    assert ids(client.get("/api/v1/alerts/")) == {str(high.pk), str(low.pk)}
    assert ids(client.get("/api/v1/alerts/", {"status": "all"})) == {str(high.pk), str(low.pk), str(closed.pk)}
    assert ids(client.get("/api/v1/alerts/", {"severity": "low"})) == {str(low.pk)}
    assert ids(client.get("/api/v1/alerts/", {"rule": "volume.viewed.1h"})) == {str(low.pk)}
    assert ids(client.get("/api/v1/alerts/", {"status": "confirmed"})) == {str(closed.pk)}
    body = client.get("/api/v1/alerts/").json()
    first = next(a for a in body["results"] if a["id"] == str(high.pk))
    assert first["summary"] == "viewed 212 customers in 5 minutes; limit 150" and first["person"] == "rep01"
    response = client.get("/api/v1/alerts/", {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()
    assert AuditEvent.objects.filter(action="monitor.alerts.viewed", actor_id=org.auditor.pk).count() == 6


def test_detail_and_missing(org):
    alert = make_alert(org.rep)
    client = api(org.compliance)
    body = client.get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["event_ids"] == alert.event_ids and body["notes"] == []
    assert client.get(f"/api/v1/alerts/{uuid.uuid4()}/").status_code == 404
    assert client.get("/api/v1/alerts/not-a-uuid/").status_code == 404
    assert client.post(f"/api/v1/alerts/{uuid.uuid4()}/triage/", {"status": "investigating"},
                       format="json").status_code == 404


def test_triage(org):
    alert = make_alert(org.rep)
    client = api(org.secadmin)
    url = f"/api/v1/alerts/{alert.pk}/triage/"
    body = client.post(url, {"status": "investigating", "assignee": "compliance01", "note": "on it"},
                       format="json").json()
    assert body["status"] == "investigating" and body["assignee"] == "compliance01"
    assert body["notes"][0]["text"] == "on it" and body["notes"][0]["status_to"] == "investigating"
    body = client.post(url, {"note": "still looking"}, format="json").json()
    assert body["assignee"] == "compliance01"  # absent: kept
    body = client.post(url, {"assignee": ""}, format="json").json()
    assert body["assignee"] is None  # empty: unassigned


@pytest.mark.parametrize("status, data, field, lang, message", [
    ("open", {"status": "false_positive"}, "note", "en", "Say why you close the alert."),
    ("false_positive", {"status": "open", "note": "x"}, "status", "en", "cannot go from"),
    ("open", {"status": "nonsense"}, "status", "en", "Choose a status from the list."),
    ("open", {"assignee": "rep01"}, "assignee", "en", "Assign the alert"),
    ("open", {"status": "confirmed"}, "note", "zh-hans", "请说明"),
])
def test_triage_errors_are_field_level_and_change_nothing(org, status, data, field, lang, message):
    alert = make_alert(org.rep, status=status)
    response = api(org.compliance, lang).post(f"/api/v1/alerts/{alert.pk}/triage/", data, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    alert.refresh_from_db()
    assert alert.status == status and alert.assignee is None
    assert not AlertNote.objects.filter(alert=alert).exists()
    assert not AuditEvent.objects.filter(action="monitor.alert.updated").exists()


def test_rules_list(org):
    make_alert(org.rep)
    body = api(org.auditor).get("/api/v1/monitor/rules/").json()
    rules = {r["code"]: r for r in body["results"]}
    assert body["count"] == len(rules) >= 12
    assert rules["volume.viewed.5m"]["alerts_30d"] == 1 and rules["volume.viewed.5m"]["changed_by"] == "system:install"
    assert rules["volume.viewed.5m"]["params"]["threshold"] == 150


def test_operations_are_in_the_schema():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert {"get"} <= set(paths["/api/v1/alerts/"])
    assert {"get"} <= set(paths["/api/v1/alerts/{id}/"])
    assert {"post"} <= set(paths["/api/v1/alerts/{id}/triage/"])
    assert {"get"} <= set(paths["/api/v1/monitor/rules/"])
    assert paths["/api/v1/alerts/{id}/triage/"]["post"]["tags"] == ["monitoring"]

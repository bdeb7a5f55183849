"""The monitoring pages: who may open and use each one, triage with field errors that change
nothing, rule edits that make a version and an audit event, parameter errors in the reader's
language, dry runs over seeded history, and that viewing alerts is itself audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from custodia.audit.models import AuditEvent
from custodia.customers import selectors as customer_selectors
from custodia.kernel.actor import Actor
from custodia.monitor.detectors import DEFAULT_RULES
from custodia.monitor.models import Alert, AlertNote, Rule, RuleVersion
from custodia.monitor.rule_names import NAMES
from custodia.testing.factories import make_customer
from tests.monitor.ui_helpers import make_alert

pytestmark = pytest.mark.django_db

ROLES = ("rep", "manager", "compliance", "secadmin", "auditor", "hr", "legal", "admin")
VIEW = {"compliance", "secadmin", "auditor", "admin"}
TRIAGE = {"compliance", "secadmin", "admin"}
RULES = {"secadmin", "admin"}
RULE = "volume.viewed.5m"


def signed_in(user, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def rule_form(**changes) -> dict:
    rule = Rule.objects.get(code=RULE)
    data = {"name": rule.name, "mode": rule.mode, "reason": "", "days": "14"}
    for name, value in rule.params.items():
        data[name] = ", ".join(value) if isinstance(value, list) else str(value)
    for severity, response in rule.responses.items():
        data[f"response_{severity}"] = response
    data.update(changes)
    return data


def audited(action: str, actor) -> int:
    return AuditEvent.objects.filter(action=action, actor_id=actor.pk).count()


# --- who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_authorisation_matrix(org, who):
    alert = make_alert(org.rep2, suspended=True)
    client = signed_in(getattr(org, who))
    cases = [
        ("get", reverse("monitor:alerts"), None, VIEW, 200),
        ("get", reverse("monitor:alert", args=[alert.pk]), None, VIEW, 200),
        ("get", reverse("monitor:rules"), None, VIEW, 200),
        ("get", reverse("monitor:rule", args=[RULE]), None, VIEW, 200),
        ("post", reverse("monitor:rule_dry_run", args=[RULE]), rule_form(days="3"), RULES, 200),
        ("post", reverse("monitor:alert_triage", args=[alert.pk]), {"status": "investigating"}, TRIAGE, 302),
        ("post", reverse("monitor:rule", args=[RULE]), rule_form(threshold="170", reason="matrix"), RULES, 302),
        ("post", reverse("monitor:suspension_lift", args=[alert.pk]), {"reason": "reviewed"}, RULES, 302),
    ]
    problems = []
    for method, url, data, allowed, ok in cases:
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        want = ok if who in allowed else 403
        if response.status_code != want:
            problems.append(f"{method.upper()} {url} as {who}: {response.status_code}, want {want}")
    assert problems == []
    version = Rule.objects.get(code=RULE).version
    assert version == (2 if who in RULES else 1)


def test_anonymous_is_sent_to_sign_in(client, org):
    alert = make_alert(org.rep)
    for url in (reverse("monitor:alerts"), reverse("monitor:alert", args=[alert.pk]), reverse("monitor:rules")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_unknown_alert_and_rule_are_404(org):
    client = signed_in(org.secadmin)
    assert client.get(reverse("monitor:alert", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404
    assert client.get(reverse("monitor:rule", args=["no.such.rule"])).status_code == 404


def test_nav_link_only_for_viewers_with_open_count(org):
    make_alert(org.rep)
    make_alert(org.rep2, status="investigating")
    page = text(signed_in(org.compliance).get(reverse("dashboard")))
    assert reverse("monitor:alerts") in page and 'nav-count danger' in page
    assert reverse("monitor:alerts") not in text(signed_in(org.rep).get(reverse("dashboard")))


# --- the alerts list and detail ------------------------------------------------------------------


def test_list_filters_tabs_and_is_audited(org):
    high = make_alert(org.rep, severity="high")
    make_alert(org.rep2, severity="low", rule="volume.viewed.1h")
    make_alert(org.other_rep, status="false_positive")
    client = signed_in(org.auditor)
    before = audited("monitor.alerts.viewed", org.auditor)
    page = text(client.get(reverse("monitor:alerts")))
    assert "rep01" in page and "rep02" in page and "rep03" not in page  # default: open + investigating
    assert "viewed 212 customers in 5 minutes; limit 150" in page
    page = text(client.get(reverse("monitor:alerts"), {"severity": "high"}))
    assert str(high.pk) in page and "rep02" not in page
    page = text(client.get(reverse("monitor:alerts"), {"status": "false_positive"}))
    assert "rep03" in page and "rep01" not in page
    page = text(client.get(reverse("monitor:alerts"), {"status": "all", "person": "rep02"}))
    assert "rep02" in page and "rep01" not in page
    assert audited("monitor.alerts.viewed", org.auditor) == before + 4
    event = AuditEvent.objects.filter(action="monitor.alerts.viewed").order_by("-seq").first()
    assert event.detail["filters"] == {"status": "all", "person": "rep02"}


def test_list_mine_filter(org):
    mine = make_alert(org.rep, assignee=org.compliance)
    make_alert(org.rep2)
    page = text(signed_in(org.compliance).get(reverse("monitor:alerts"), {"assignee": "mine"}))
    assert str(mine.pk) in page and "rep02" not in page


def test_detail_shows_evidence_and_is_audited(org):
    alert = make_alert(org.rep, suspended=True)
    event_id = alert.event_ids[0]
    response = signed_in(org.secadmin).get(reverse("monitor:alert", args=[alert.pk]))
    page = text(response)
    assert response.status_code == 200
    assert "volume.viewed.5m" in page and "viewed 212 customers in 5 minutes; limit 150" in page
    assert reverse("audit:proof", args=[event_id]) in page
    assert reverse("audit:bundle") + "?" in page and "person=rep01" in page
    assert "action=customer.viewed" in page  # the audit search for the triggering event
    assert reverse("monitor:suspension_lift", args=[alert.pk]) in page  # a security admin may lift
    event = AuditEvent.objects.filter(action="monitor.alerts.viewed", actor_id=org.secadmin.pk).last()
    assert str(event.target_id) == str(alert.pk)


def test_detail_for_auditor_is_read_only(org):
    alert = make_alert(org.rep, suspended=True)
    page = text(signed_in(org.auditor).get(reverse("monitor:alert", args=[alert.pk])))
    assert reverse("monitor:alert_triage", args=[alert.pk]) not in page
    assert reverse("monitor:suspension_lift", args=[alert.pk]) not in page
    page = text(signed_in(org.compliance).get(reverse("monitor:alert", args=[alert.pk])))
    assert reverse("monitor:alert_triage", args=[alert.pk]) in page
    assert reverse("monitor:suspension_lift", args=[alert.pk]) not in page  # lifting is the security admin's


# --- triage --------------------------------------------------------------------------------------


def test_triage_moves_assigns_and_notes(org):
    alert = make_alert(org.rep)
    client = signed_in(org.compliance)
    url = reverse("monitor:alert_triage", args=[alert.pk])
    response = client.post(url, {"status": "investigating", "assignee": "secadmin01", "note": "Looking."})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "investigating" and alert.assignee == org.secadmin
    response = client.post(url, {"status": "false_positive", "assignee": "secadmin01", "note": "Month-end list."})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "false_positive" and alert.closed_at is not None
    assert AlertNote.objects.filter(alert=alert).count() == 2
    assert audited("monitor.alert.updated", org.compliance) == 2
    page = text(client.get(reverse("monitor:alert", args=[alert.pk])))
    assert "Month-end list." in page and "Investigating → Closed: false positive" in page


@pytest.mark.parametrize("status, data, field, message", [
    ("open", {"status": "confirmed", "note": ""}, "note", "Say why you close the alert."),
    ("confirmed", {"status": "open", "note": "again"}, "status", "cannot go from"),
    ("open", {"assignee": "rep02"}, "assignee", "Assign the alert to an active security admin"),
])
def test_triage_errors_change_nothing(org, status, data, field, message):
    alert = make_alert(org.rep, status=status)
    before = AuditEvent.objects.filter(action="monitor.alert.updated").count()
    response = signed_in(org.secadmin).post(reverse("monitor:alert_triage", args=[alert.pk]), data)
    assert response.status_code == 400
    page = text(response)
    assert message in page and f'id="id_{field}_error"' in page
    alert.refresh_from_db()
    assert alert.status == status and alert.assignee is None
    assert not AlertNote.objects.filter(alert=alert).exists()
    assert AuditEvent.objects.filter(action="monitor.alert.updated").count() == before


def test_lift_needs_a_reason_then_reactivates(org):
    alert = make_alert(org.rep2, suspended=True)
    org.rep2.is_active = False
    org.rep2.save()
    client = signed_in(org.secadmin)
    url = reverse("monitor:suspension_lift", args=[alert.pk])
    response = client.post(url, {"reason": " "})
    assert response.status_code == 400 and "Say why the suspension is lifted." in text(response)
    org.rep2.refresh_from_db()
    assert not org.rep2.is_active
    assert client.post(url, {"reason": "Reviewed with the manager."}).status_code == 302
    org.rep2.refresh_from_db()
    assert org.rep2.is_active
    assert audited("monitor.suspension.lifted", org.secadmin) == 1


# --- rules ---------------------------------------------------------------------------------------


def test_rules_list(org):
    make_alert(org.rep)
    page = text(signed_in(org.auditor).get(reverse("monitor:rules")))
    for d in DEFAULT_RULES:
        assert d.code in page
    assert "system:install" in page


def test_rule_edit_makes_version_two_and_audits(org):
    client = signed_in(org.secadmin)
    url = reverse("monitor:rule", args=[RULE])
    response = client.post(url, rule_form(threshold="200", response_critical="deny", reason="Month-end rush"))
    assert response.status_code == 302
    rule = Rule.objects.get(code=RULE)
    assert rule.version == 2 and rule.params["threshold"] == 200 and rule.responses["critical"] == "deny"
    version = RuleVersion.objects.get(rule=rule, version=2)
    assert version.changed_by == "secadmin01" and version.reason == "Month-end rush"
    event = AuditEvent.objects.filter(action="monitor.rule.changed").last()
    assert event.actor_id == org.secadmin.pk and event.detail["before"]["params"]["threshold"] == 150
    page = text(client.get(url))
    assert "Month-end rush" in page and "v2" in page


def test_rule_edit_needs_a_reason(org):
    response = signed_in(org.secadmin).post(reverse("monitor:rule", args=[RULE]), rule_form(threshold="200"))
    assert response.status_code == 400
    assert 'id="id_reason_error"' in text(response)
    assert Rule.objects.get(code=RULE).version == 1


@pytest.mark.parametrize("lang, messages", [
    ("en", ("Enter a whole number.", "Ensure this value is at least 60", "Choose a response from the list.")),
    ("zh-hans", ("请输入整数。", "60", "请从列表中选择一种处置。")),
])
def test_bad_params_give_field_errors_in_the_readers_language(org, lang, messages):
    data = rule_form(threshold="lots", window_seconds="10", response_high="explode", reason="x")
    response = signed_in(org.secadmin, lang).post(reverse("monitor:rule", args=[RULE]), data)
    assert response.status_code == 400
    page = text(response)
    for name in ("threshold", "window_seconds", "response_high"):
        assert f'id="id_{name}_error"' in page, name
    for message in messages:
        assert message in page, message
    assert Rule.objects.get(code=RULE).version == 1


def test_alert_only_detector_refuses_other_responses(org):
    code = "login.dormant"
    rule = Rule.objects.get(code=code)
    data = {"name": rule.name, "mode": "on", "days": "30", "severity": "medium", "roles": "",
            "response_medium": "deny", "reason": "try"}
    response = signed_in(org.secadmin).post(reverse("monitor:rule", args=[code]), data)
    assert response.status_code == 400
    assert "can only raise an alert" in text(response)


def test_rule_page_is_read_only_for_viewers(org):
    page = text(signed_in(org.compliance).get(reverse("monitor:rule", args=[RULE])))
    assert "Read only" in page and "disabled" in page and "Save as version" not in page
    page = text(signed_in(org.secadmin).get(reverse("monitor:rule", args=[RULE])))
    assert "Save as version 2" in page and reverse("monitor:rule_dry_run", args=[RULE]) in page


# --- dry run -------------------------------------------------------------------------------------


def _seed_views(person, n: int) -> None:
    actor = Actor.for_user(person)
    for _i in range(n):
        customer_selectors.customer_get(actor, make_customer(person).pk)


def test_dry_run_with_unsaved_params_shows_alerts(org):
    _seed_views(org.rep, 8)
    client = signed_in(org.secadmin)
    response = client.post(reverse("monitor:rule_dry_run", args=[RULE]), rule_form(threshold="5", days="7"))
    assert response.status_code == 200
    page = text(response)
    assert "Dry run over the last 7 days" in page and "With the values in the editor (not saved)." in page
    assert "rep01" in page and "viewed 5 customers in 5 minutes; limit 5" in page
    rule = Rule.objects.get(code=RULE)
    assert rule.version == 1 and rule.params["threshold"] == 150  # nothing saved
    event = AuditEvent.objects.filter(action="monitor.rule.dry_run").last()
    assert event.actor_id == org.secadmin.pk
    assert event.detail["rule"] == RULE and event.detail["days"] == 7 and event.detail["unsaved"] is True
    assert event.detail["alerts"] >= 1
    assert not Alert.objects.exists()  # a dry run raises nothing live


def test_dry_run_bad_days_and_params(org):
    response = signed_in(org.secadmin).post(reverse("monitor:rule_dry_run", args=[RULE]),
                                            rule_form(days="365", threshold="0"))
    assert response.status_code == 400
    page = text(response)
    assert "Choose between 1 and 90 days." in page and 'id="id_threshold_error"' in page
    assert not AuditEvent.objects.filter(action="monitor.rule.dry_run").exists()


def test_shipped_rule_names_are_translatable():
    assert set(NAMES) == {d.name for d in DEFAULT_RULES}


def test_alert_list_queries_do_not_grow_with_the_page(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(org.compliance)
    make_alert(org.rep, assignee=org.secadmin)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("monitor:alerts"))
    for person, rule in ((org.rep2, RULE), (org.other_rep, RULE), (org.rep, "volume.viewed.1h"),
                         (org.rep2, "volume.viewed.1d")):
        make_alert(person, rule=rule, assignee=org.compliance)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("monitor:alerts"))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_alert_only_rule_shows_no_response_choices(org):
    page = text(signed_in(org.secadmin).get(reverse("monitor:rule", args=["login.dormant"])))
    assert "can only raise an alert" in page and 'name="response_high"' not in page


def test_an_alert_about_the_viewer_has_no_triage_form_and_a_post_is_refused(org):
    alert = make_alert(org.rep)
    Alert.objects.filter(pk=alert.pk).update(person=org.compliance, subject=f"person:{org.compliance.pk}")
    client = signed_in(org.compliance)
    page = text(client.get(reverse("monitor:alert", args=[alert.pk])))
    assert "This alert is about you" in page
    assert reverse("monitor:alert_triage", args=[alert.pk]) not in page
    response = client.post(reverse("monitor:alert_triage", args=[alert.pk]), {"status": "false_positive", "note": "fine"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open" and not AlertNote.objects.filter(alert=alert).exists()
    page = text(signed_in(org.secadmin).get(reverse("monitor:alert", args=[alert.pk])))
    assert reverse("monitor:alert_triage", args=[alert.pk]) in page and 'value="compliance01"' not in page

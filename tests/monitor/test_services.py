"""Recording what the detectors find, intervening, and the monitor's own writes — through the
real services, inline check and database store."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from custodia.audit.models import AuditEvent
from custodia.customers import selectors
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.monitor import inline, services
from custodia.monitor.models import Alert, AlertNote, Rule, RuleVersion, Suspension

pytestmark = pytest.mark.django_db


def set_rule(org, code, reason="test", **changes):
    rule = Rule.objects.get(code=code)
    params = rule.params | changes.pop("params", {})
    return services.rule_update(actor=Actor.for_user(org.secadmin), code=code, params=params, reason=reason,
                                **changes)


def view(org, customers, *, stepped_up=False):
    """The rep opens each customer's page in its own request; returns how many went through."""
    actor = Actor.for_user(org.rep)
    done = 0
    for customer in customers:
        try:
            with inline.scope(stepped_up=stepped_up):
                selectors.customer_get(actor, customer.pk)
            done += 1
        except inline.Intervention as exc:
            return done, exc
    return done, None


@pytest.fixture
def portfolio(org, customer_factory):
    return [customer_factory(org.rep) for _ in range(6)]


def test_a_denied_view_leaves_no_trace_of_itself_but_is_audited_as_an_intervention(org, portfolio):
    set_rule(org, "volume.viewed.5m", params={"threshold": 4})
    done, exc = view(org, portfolio)
    assert done == 3 and type(exc) is inline.Intervention
    viewed = AuditEvent.objects.filter(action="customer.viewed", actor_id=org.rep.pk)
    assert set(viewed.values_list("target_id", flat=True)) == {c.pk for c in portfolio[:3]}
    stopped = AuditEvent.objects.get(action="monitor.intervened")
    assert stopped.target_id == org.rep.pk and stopped.outcome == "failure"
    assert stopped.detail["attempted"]["target_id"] == str(portfolio[3].pk)
    assert stopped.detail["response"] == "deny" and stopped.detail["limit"] == 4
    alert = Alert.objects.get(rule_id="volume.viewed.5m")
    assert alert.person_id == org.rep.pk and alert.interventions == 1 and alert.rule_version == 2
    assert alert.event_ids == [str(stopped.id)]
    assert AuditEvent.objects.filter(action="monitor.alert.raised", target_id=alert.pk).count() == 1
    # the next request is refused too, and adds to the same alert
    done, exc = view(org, portfolio[4:])
    assert done == 0 and exc is not None
    alert.refresh_from_db()
    assert alert.interventions == 2 and alert.occurrences == 2


def test_an_alert_only_response_lets_the_view_through_and_links_its_event(org, portfolio):
    rule = Rule.objects.get(code="volume.viewed.5m")
    set_rule(org, "volume.viewed.5m", params={"threshold": 2}, responses=rule.responses | {"high": "alert"})
    done, exc = view(org, portfolio[:3])
    assert done == 3 and exc is None
    alert = Alert.objects.get(rule_id="volume.viewed.5m")
    events = AuditEvent.objects.filter(id__in=alert.event_ids)
    assert {e.action for e in events} == {"customer.viewed"} and alert.occurrences == 2
    assert alert.interventions == 0


def test_step_up_is_asked_for_until_the_person_confirms_their_second_factor(org, portfolio):
    rule = Rule.objects.get(code="volume.viewed.5m")
    set_rule(org, "volume.viewed.5m", params={"threshold": 2}, responses=rule.responses | {"high": "step_up"})
    done, exc = view(org, portfolio[:3])
    assert done == 1 and isinstance(exc, inline.StepUpRequired)
    done, exc = view(org, portfolio[1:3], stepped_up=True)
    assert done == 2 and exc is None


def test_suspension_cuts_the_account_off_and_a_security_admin_lifts_it(org, portfolio):
    rule = Rule.objects.get(code="volume.viewed.5m")
    set_rule(org, "volume.viewed.5m", params={"threshold": 2}, responses=rule.responses | {"high": "suspend"})
    done, exc = view(org, portfolio)
    assert done == 1 and isinstance(exc, inline.Suspended)
    org.rep.refresh_from_db()
    assert not org.rep.is_active
    alert = Alert.objects.get(rule_id="volume.viewed.5m")
    assert Suspension.objects.get(person=org.rep, lifted_at__isnull=True).alert == alert
    assert AuditEvent.objects.filter(action="monitor.account.suspended", target_id=org.rep.pk).exists()
    with pytest.raises(PermissionDenied):
        services.suspension_lift(actor=Actor.for_user(org.compliance), alert_id=alert.pk, reason="ok")
    with pytest.raises(ValidationError) as err:
        services.suspension_lift(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, reason=" ")
    assert "reason" in err.value.message_dict
    services.suspension_lift(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, reason="reviewed: legitimate")
    org.rep.refresh_from_db()
    assert org.rep.is_active
    assert AuditEvent.objects.filter(action="monitor.suspension.lifted", target_id=org.rep.pk).exists()


def test_system_actors_are_not_watched(org, customer_factory):
    set_rule(org, "volume.viewed.5m", params={"threshold": 1})
    customers = [customer_factory(org.rep) for _ in range(3)]
    with inline.scope():
        for c in customers:
            selectors.customer_get(Actor.system("cli"), c.pk)
    assert not Alert.objects.exists()


def test_monitoring_can_be_switched_off(org, portfolio, settings):
    set_rule(org, "volume.viewed.5m", params={"threshold": 1})
    settings.CUSTODIA_MONITOR_ENABLED = False
    assert view(org, portfolio) == (6, None)


def test_a_refused_token_of_a_deactivated_account_raises_an_alert(org):
    from rest_framework.test import APIClient

    from custodia.access.services import api_token_create
    from custodia.identity.services import user_deactivate

    token = api_token_create(actor=Actor.system("tests"), username=org.rep.username)
    user_deactivate(actor=Actor.for_user(org.hr), user=org.rep, reason="left the company")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 401
    refused = AuditEvent.objects.get(action="access.token.refused")
    assert refused.target_id == org.rep.pk and refused.detail["revoked"] is True
    alert = Alert.objects.get(rule_id="departure.activity")
    assert alert.person_id == org.rep.pk and alert.reason == "deactivated" and alert.severity == "high"
    assert alert.event_ids == [str(refused.id)]
    # an unknown token is refused without a record
    client.credentials(HTTP_AUTHORIZATION="Token cst_nonsense")
    assert client.get("/api/v1/customers/").status_code == 401
    assert AuditEvent.objects.filter(action="access.token.refused").count() == 1


def test_activity_in_cooling_off_is_alerted_once_a_day(org, portfolio):
    from custodia.identity.services import employment_status_set

    employment_status_set(actor=Actor.for_user(org.hr), user=org.rep, status="cooling_off", reason="resigned")
    org.rep.refresh_from_db()
    assert view(org, portfolio[:3]) == (3, None)  # reading is still allowed
    alert = Alert.objects.get(rule_id="departure.activity")
    assert alert.reason == "cooling_off" and alert.occurrences == 3 and alert.severity == "medium"


def test_employment_status_changes_are_checked_and_audited(org):
    from custodia.identity.services import employment_status_set

    with pytest.raises(ValidationError) as err:
        employment_status_set(actor=Actor.for_user(org.hr), user=org.rep, status="gone", reason="")
    assert set(err.value.message_dict) == {"status", "reason"}
    with pytest.raises(PermissionDenied):
        employment_status_set(actor=Actor.for_user(org.manager), user=org.rep, status="cooling_off", reason="x")
    employment_status_set(actor=Actor.for_user(org.hr), user=org.rep, status="cooling_off", reason="resigned")
    event = AuditEvent.objects.get(action="identity.user.status_changed")
    assert event.detail == {"before": "active", "employment_status": "cooling_off", "reason": "resigned"}


# --- rules -------------------------------------------------------------------------------------


def test_a_rule_change_is_a_new_version_with_its_reason_and_audit(org):
    set_rule(org, "volume.viewed.1h", reason="seasonal peak", params={"threshold": 400})
    rule = Rule.objects.get(code="volume.viewed.1h")
    assert rule.version == 2 and rule.params["threshold"] == 400
    v2 = RuleVersion.objects.get(rule=rule, version=2)
    assert v2.reason == "seasonal peak" and v2.changed_by == org.secadmin.username
    event = AuditEvent.objects.get(action="monitor.rule.changed")
    assert event.detail["before"]["params"]["threshold"] == 300 and event.detail["after"]["params"]["threshold"] == 400
    # saving the same again makes no version
    set_rule(org, "volume.viewed.1h", params={"threshold": 400})
    assert Rule.objects.get(code="volume.viewed.1h").version == 2


def test_bad_rule_changes_get_field_errors_and_change_nothing(org):
    with pytest.raises(ValidationError) as err:
        services.rule_update(actor=Actor.for_user(org.secadmin), code="login.dormant", params={"days": "soon"},
                             responses={"medium": "deny"}, mode="loud", reason="")
    assert set(err.value.message_dict) == {"days", "response_medium", "mode", "reason"}
    assert Rule.objects.get(code="login.dormant").version == 1
    assert not AuditEvent.objects.filter(action="monitor.rule.changed").exists()


@pytest.mark.parametrize("role", ["rep", "manager", "compliance", "auditor", "hr"])
def test_only_security_admins_change_rules(org, role):
    with pytest.raises(PermissionDenied):
        services.rule_update(actor=Actor.for_user(getattr(org, role)), code="login.dormant", mode="off", reason="x")


def test_a_rule_in_dry_run_mode_does_not_fire_live(org, portfolio):
    set_rule(org, "volume.viewed.5m", params={"threshold": 1}, mode="dry_run")
    assert view(org, portfolio) == (6, None)
    assert not Alert.objects.filter(rule_id="volume.viewed.5m").exists()


# --- triage ------------------------------------------------------------------------------------


@pytest.fixture
def alert(org, portfolio):
    set_rule(org, "volume.viewed.5m", params={"threshold": 2})
    view(org, portfolio)
    return Alert.objects.get(rule_id="volume.viewed.5m")


def test_triage_moves_an_alert_along_and_keeps_the_trail(org, alert):
    sec = Actor.for_user(org.secadmin)
    services.alert_update(actor=sec, alert_id=alert.pk, status="investigating", assignee="compliance01",
                          note="calling the rep's manager")
    alert.refresh_from_db()
    assert alert.status == "investigating" and alert.assignee == org.compliance
    services.alert_update(actor=Actor.for_user(org.compliance), alert_id=alert.pk, status="confirmed",
                          note="confirmed: preparing to leave")
    alert.refresh_from_db()
    assert alert.status == "confirmed" and alert.closed_at is not None
    trail = list(AlertNote.objects.filter(alert=alert).values_list("status_from", "status_to", "author"))
    assert trail == [("open", "investigating", "secadmin01"), ("investigating", "confirmed", "compliance01")]
    assert AuditEvent.objects.filter(action="monitor.alert.updated", target_id=alert.pk).count() == 2


@pytest.mark.parametrize("change, field", [
    ({"status": "false_positive"}, "note"),  # closing needs a reason
    ({"status": "nonsense"}, "status"),
    ({"assignee": "rep01"}, "assignee"),  # a rep does not triage
    ({"assignee": "nobody"}, "assignee"),
])
def test_bad_triage_gets_a_field_error_and_changes_nothing(org, alert, change, field):
    with pytest.raises(ValidationError) as err:
        services.alert_update(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, **change)
    assert field in err.value.message_dict
    alert.refresh_from_db()
    assert alert.status == "open" and alert.assignee is None and not alert.notes.exists()


def test_a_closed_alert_can_only_be_reopened_for_investigation(org, alert):
    sec = Actor.for_user(org.secadmin)
    services.alert_update(actor=sec, alert_id=alert.pk, status="false_positive", note="training exercise")
    with pytest.raises(ValidationError):
        services.alert_update(actor=sec, alert_id=alert.pk, status="open")
    services.alert_update(actor=sec, alert_id=alert.pk, status="investigating", note="new facts")
    alert.refresh_from_db()
    assert alert.status == "investigating" and alert.closed_at is None


@pytest.mark.parametrize("role", ["rep", "manager", "auditor", "hr"])
def test_only_security_and_compliance_triage(org, alert, role):
    with pytest.raises(PermissionDenied):
        services.alert_update(actor=Actor.for_user(getattr(org, role)), alert_id=alert.pk, note="x")


def test_a_new_finding_after_closing_opens_a_new_alert(org, alert, customer_factory):
    services.alert_update(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, status="confirmed", note="done")
    view(org, [customer_factory(org.rep)])
    assert Alert.objects.filter(rule_id="volume.viewed.5m").count() == 2


def test_nobody_triages_an_alert_about_themselves(org, alert):
    Alert.objects.filter(pk=alert.pk).update(person=org.compliance, subject=f"person:{org.compliance.pk}")
    with pytest.raises(PermissionDenied):
        services.alert_update(actor=Actor.for_user(org.compliance), alert_id=alert.pk, status="false_positive",
                              note="it was me, it was fine")
    with pytest.raises(ValidationError) as err:  # nor is it given to them
        services.alert_update(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, assignee="compliance01")
    assert "assignee" in err.value.message_dict
    alert.refresh_from_db()
    assert alert.status == "open" and alert.assignee is None and not alert.notes.exists()
    services.alert_update(actor=Actor.for_user(org.secadmin), alert_id=alert.pk, status="investigating", note="x")
    alert.refresh_from_db()
    assert alert.status == "investigating"

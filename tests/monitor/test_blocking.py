"""Blocking is real: a rep pages through the customer list with the shipped rules and is stopped
at the threshold (volume.viewed.5m: 150 distinct customers in five minutes); the next request is
refused too, an alert and the intervention's audit event exist, and the refused pages left no
trace of their own. Also through the API with a token, and with the other responses: suspend
(the account is suspended until a security admin lifts it) and step-up (the page sends the person
to confirm their second factor; once they have, the action goes through)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from custodia.access.services import api_token_create
from custodia.audit.models import AuditEvent
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.monitor import services
from custodia.monitor.models import Alert, Suspension
from custodia.testing.factories import PASSWORD
from tests.identity.conftest import totp_code

pytestmark = pytest.mark.django_db
RULE = "volume.viewed.5m"
THRESHOLD = 150
PAGE = 50  # the list page's size
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def portfolio(org):
    """400 customers of the rep (plain rows: the monitor counts ids, not protected values)."""
    now = timezone.now()
    Customer.objects.bulk_create([
        Customer(kind="individual", name=f"客户{i:03d}", owner=org.rep, team=org.team_a, department=org.dept_a,
                 created_at=now, updated_at=now)
        for i in range(400)
    ])
    return org


@pytest.fixture
def rep_client(client, portfolio):
    client.force_login(portfolio.rep)
    return client


def page(client, n: int):
    return client.get(reverse("customers:list"), {"page": n}, **EN)


def list_views(user) -> int:
    return AuditEvent.objects.filter(action="customer.list.viewed", actor_id=user.pk).count()


def set_response(org, response: str) -> None:
    """What the rule does at its threshold's severity (high), changed the way a security admin does."""
    rule = services.Rule.objects.get(code=RULE)
    services.rule_update(actor=org.actor("secadmin"), code=RULE, responses=rule.responses | {"high": response},
                         reason=f"test: {response} at the threshold")


def test_paging_through_the_list_is_stopped_at_the_threshold(rep_client, portfolio):
    org = portfolio
    pages = [page(rep_client, n) for n in range(1, THRESHOLD // PAGE)]
    assert [p.status_code for p in pages] == [200] * (THRESHOLD // PAGE - 1)  # 100 distinct customers seen
    assert len(set(re.findall(r"客户\d{3}", pages[0].content.decode()))) == PAGE
    assert list_views(org.rep) == THRESHOLD // PAGE - 1

    stopped = page(rep_client, THRESHOLD // PAGE)  # this page would reach 150
    assert stopped.status_code == 403
    assert "stopped by a security rule" in stopped.content.decode()
    assert not re.search(r"客户\d{3}", stopped.content.decode())  # no customer of the refused page is shown
    again = page(rep_client, THRESHOLD // PAGE + 1)  # the next page is refused too
    assert again.status_code == 403 and "stopped by a security rule" in again.content.decode()

    alert = Alert.objects.get(rule_id=RULE, person=org.rep)
    assert alert.interventions == 2 and alert.response == "deny" and alert.severity == "high"
    assert alert.value >= THRESHOLD and alert.limit == THRESHOLD
    intervened = AuditEvent.objects.filter(action="monitor.intervened", target_id=org.rep.pk)
    assert intervened.count() == 2
    assert intervened.first().detail["rule"] == RULE and intervened.first().detail["response"] == "deny"
    assert AuditEvent.objects.filter(action="monitor.alert.raised").count() == 1
    # The refused requests recorded nothing of their own.
    assert list_views(org.rep) == THRESHOLD // PAGE - 1


def test_the_api_is_stopped_at_the_same_threshold(portfolio):
    org = portfolio
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(actor=Actor.system('tests'), username='rep01')}",
                       HTTP_ACCEPT_LANGUAGE="en")
    seen, n = 0, 0
    while True:
        n += 1
        response = client.get("/api/v1/customers/", {"page": n, "page_size": 25})
        if response.status_code != 200:
            break
        seen += len(response.json()["results"])
        assert n < 20
    assert response.status_code == 403
    assert response.json()["code"] == "monitor_denied"
    assert seen + 25 == THRESHOLD  # refused at the request that would reach the threshold
    following = client.get("/api/v1/customers/", {"page": n + 1, "page_size": 25})
    assert following.status_code == 403 and following.json()["code"] == "monitor_denied"
    assert Alert.objects.get(rule_id=RULE, person=org.rep).interventions == 2
    assert list_views(org.rep) == THRESHOLD // 25 - 1


def test_a_rule_that_suspends_ends_the_session_until_the_suspension_is_lifted(rep_client, portfolio):
    org = portfolio
    set_response(org, "suspend")
    assert [page(rep_client, n).status_code for n in (1, 2)] == [200, 200]
    stopped = page(rep_client, 3)
    assert stopped.status_code == 403 and "suspended" in stopped.content.decode()

    org.rep.refresh_from_db()
    assert org.rep.is_active is False
    suspension = Suspension.objects.get(person=org.rep, lifted_at__isnull=True)
    assert suspension.alert.rule_id == RULE
    assert AuditEvent.objects.filter(action="monitor.account.suspended", target_id=org.rep.pk).count() == 1
    following = page(rep_client, 1)  # the session has ended: back to sign-in
    assert following.status_code == 302 and following.url.startswith(reverse("login"))
    assert not rep_client.login(username="rep01", password=PASSWORD)  # and sign-in is refused

    with pytest.raises(services.PermissionDenied):
        services.suspension_lift(actor=org.actor("rep2"), alert_id=suspension.alert_id, reason="not mine to lift")
    services.suspension_lift(actor=org.actor("secadmin"), alert_id=suspension.alert_id, reason="checked: a test")
    org.rep.refresh_from_db()
    assert org.rep.is_active is True
    assert rep_client.login(username="rep01", password=PASSWORD)
    assert AuditEvent.objects.filter(action="monitor.suspension.lifted", target_id=org.rep.pk).count() == 1


def test_a_rule_that_steps_up_lets_the_action_through_after_a_second_factor(rep_client, portfolio):
    org = portfolio
    set_response(org, "step_up")
    assert [page(rep_client, n).status_code for n in (1, 2)] == [200, 200]
    stepped = page(rep_client, 3)
    assert stepped.status_code == 302
    reauth = reverse("mfa_reauthenticate")
    assert stepped.url.startswith(reauth) and "next=" in stepped.url
    assert list_views(org.rep) == 2
    assert Alert.objects.get(rule_id=RULE, person=org.rep).interventions == 1

    confirmed = rep_client.post(reauth, {"code": totp_code(org.rep.totp_secret)}, **EN)
    assert confirmed.status_code == 302, confirmed.content.decode()[:2000]
    through = page(rep_client, 3)
    assert through.status_code == 200  # the same page, now allowed
    assert list_views(org.rep) == 3
    alert = Alert.objects.get(rule_id=RULE, person=org.rep)
    assert alert.interventions == 1 and alert.occurrences == 2  # found again, not stopped

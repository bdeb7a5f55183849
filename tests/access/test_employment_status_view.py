"""Setting a person's employment status from the security admin's person page: audited with
the reason; a missing reason or an unknown status is a field error that changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from custodia.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_person_page_offers_the_form(org):
    page = signed_in(org.secadmin).get(reverse("access:person_edit", args=[org.rep.pk])).content.decode()
    assert reverse("access:person_status", args=[org.rep.pk]) in page and "Employment status" in page


def test_set_status_with_reason(org):
    client = signed_in(org.secadmin)
    url = reverse("access:person_status", args=[org.rep.pk])
    assert client.post(url, {"status": "cooling_off", "reason": "Resigned"}).status_code == 302
    org.rep.refresh_from_db()
    assert org.rep.employment_status == "cooling_off"
    event = AuditEvent.objects.filter(action="identity.user.status_changed").last()
    assert event.actor_id == org.secadmin.pk and event.detail["reason"] == "Resigned"


@pytest.mark.parametrize("data, field", [({"status": "departed", "reason": ""}, "reason"),
                                         ({"status": "retired", "reason": "x"}, "status")])
def test_errors_change_nothing(org, data, field):
    response = signed_in(org.secadmin).post(reverse("access:person_status", args=[org.rep.pk]), data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    org.rep.refresh_from_db()
    assert org.rep.employment_status == "active"


def test_own_status_is_refused(org):
    response = signed_in(org.secadmin).post(reverse("access:person_status", args=[org.secadmin.pk]),
                                            {"status": "departed", "reason": "x"})
    assert response.status_code == 403

"""The REST API: reveal answers 403 with request_required; /api/v1/approvals/ lists, creates,
approves, rejects."""

import pytest
from rest_framework.test import APIClient

from custodia.approvals.choices import RequestStatus
from custodia.approvals.models import AccessRequest

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_reveal_needs_a_request_then_goes_through_once(org, customer_factory):
    customer = customer_factory(org.rep)
    rep, manager = api(org.rep), api(org.manager)
    reveal = f"/api/v1/customers/{customer.pk}/reveal/"
    body = {"field": "id_number", "purpose": "contact_customer"}
    response = rep.post(reveal, body, format="json")
    assert response.status_code == 403
    assert response.json()["request_required"] is True and response.json()["why"] == "level"
    created = rep.post("/api/v1/approvals/", {"kind": "reveal", "customer": str(customer.pk), "field": "id_number",
                                              "purpose": "contact_customer"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    rid = created.json()["id"]
    assert rep.post(f"/api/v1/approvals/{rid}/approve/", {}, format="json").status_code == 403  # no approve right
    assert api(org.other_manager).post(f"/api/v1/approvals/{rid}/approve/", {}, format="json").status_code == 404
    listed = manager.get("/api/v1/approvals/", {"box": "to_decide"}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == rid
    approved = manager.post(f"/api/v1/approvals/{rid}/approve/", {"reason": "同意"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "manager01"
    assert rep.post(reveal, body, format="json").status_code == 200
    again = rep.post(reveal, body, format="json")
    assert again.status_code == 403 and again.json()["request_required"] is True
    assert rep.get("/api/v1/approvals/").json()["results"][0]["status"] == "used"


def test_a_field_no_approval_could_open_has_no_request_flag(org, customer_factory):
    customer = customer_factory(org.rep)
    response = api(org.auditor).post(f"/api/v1/customers/{customer.pk}/reveal/",
                                     {"field": "mobile", "purpose": "contact_customer"}, format="json")
    assert response.status_code == 403 and "request_required" not in response.json()


def test_reject_and_errors(org, customer_factory):
    customer = customer_factory(org.rep)
    rep, manager = api(org.rep), api(org.manager)
    assert rep.post("/api/v1/approvals/", {"kind": "reveal", "customer": str(customer.pk), "field": "mobile",
                                           "purpose": "contact_customer"}, format="json").status_code == 400
    created = rep.post("/api/v1/approvals/", {"kind": "export", "masked": False, "purpose": "contact_customer",
                                              "filters": {"tier": "ordinary"}}, format="json")
    assert created.status_code == 201 and created.json()["export_params"]["max_rows"] == 1
    rid = created.json()["id"]
    assert manager.post(f"/api/v1/approvals/{rid}/reject/", {}, format="json").status_code == 400
    rejected = manager.post(f"/api/v1/approvals/{rid}/reject/", {"reason": "不需要明文"}, format="json")
    assert rejected.status_code == 200 and AccessRequest.objects.get().status == RequestStatus.REJECTED
    assert APIClient().get("/api/v1/approvals/").status_code in (401, 403)

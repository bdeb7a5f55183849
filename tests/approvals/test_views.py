"""The pages: the reveal dialog offers a request, the approvals page decides it, the requester's
reveal then goes through once; tracing an upload; the nav links."""

import pytest
from django.test import Client
from django.urls import reverse

from custodia.approvals.choices import RequestStatus
from custodia.approvals.models import AccessRequest
from custodia.audit.models import AuditEvent
from custodia.customers.exporting import customers_export

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def test_reveal_request_approve_and_reveal_once(org, customer_factory):
    customer = customer_factory(org.rep)
    rep, manager = signed_in(org.rep), signed_in(org.manager)
    detail = text(rep.get(reverse("customers:detail", args=[customer.pk])))
    request_url = reverse("approvals:request_reveal", args=[customer.pk, "id_number"])
    assert request_url in detail  # L4 for a rep: "request approval" instead of a lock
    reveal_url = reverse("customers:reveal", args=[customer.pk, "id_number"])
    dialog = text(rep.get(reveal_url, **HTMX))
    assert request_url in dialog and 'name="purpose"' not in dialog
    form = text(rep.get(request_url, **HTMX))
    assert 'name="purpose"' in form and "approval" in form
    done = text(rep.post(request_url, {"purpose": "service_request", "purpose_text": "核实身份"}, **HTMX))
    req = AccessRequest.objects.get()
    assert req.requester == org.rep and req.field == "id_number" and str(req.pk)[:8] in done
    detail = text(rep.get(reverse("customers:detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Awaiting approval" in detail and request_url not in detail  # no second request from the page

    assert str(req.pk) not in text(rep.get(reverse("approvals:list"))).split("mine-title")[0]  # not theirs to decide
    page = text(manager.get(reverse("approvals:list")))
    assert str(req.pk) in page and customer.name in page
    rep.post(reverse("approvals:list"), {"op": "approve", "request": req.pk})  # own request: refused
    assert AccessRequest.objects.get().status == RequestStatus.PENDING
    response = manager.post(reverse("approvals:list"), {"op": "approve", "request": req.pk, "reason": "同意"})
    assert response.status_code == 302 and AccessRequest.objects.get().status == RequestStatus.APPROVED

    mine = text(rep.get(reverse("approvals:list")))
    assert reveal_url in mine  # "reveal now"
    detail = text(rep.get(reverse("customers:detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Reveal (approved)" in detail and reveal_url in detail and request_url not in detail
    dialog = text(rep.get(reveal_url, **HTMX))
    assert 'name="purpose"' in dialog and "alert-success" in dialog
    shown = text(rep.post(reveal_url, {"purpose": "service_request"}, **HTMX))
    assert 'id="revealed-value"' in shown
    assert AccessRequest.objects.get().status == RequestStatus.USED
    again = rep.post(reveal_url, {"purpose": "service_request"})
    assert again.status_code == 403 and request_url in text(again)
    detail = text(rep.get(reverse("customers:detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en"))
    assert request_url in detail and "Reveal (approved)" not in detail  # used up: a new request is offered


def test_reject_needs_a_reason_on_the_page(org, customer_factory):
    customer = customer_factory(org.rep)
    rep, manager = signed_in(org.rep), signed_in(org.manager)
    rep.post(reverse("approvals:request_reveal", args=[customer.pk, "bank_account"]), {"purpose": "contact_customer"})
    req = AccessRequest.objects.get()
    manager.post(reverse("approvals:list"), {"op": "reject", "request": req.pk})
    assert AccessRequest.objects.get().status == RequestStatus.PENDING
    manager.post(reverse("approvals:list"), {"op": "reject", "request": req.pk, "reason": "无业务需要"})
    assert AccessRequest.objects.get().status == RequestStatus.REJECTED
    page = text(rep.get(reverse("approvals:list")))
    assert "无业务需要" in page


def test_over_the_hourly_limit_the_dialog_offers_a_request(org, customer_factory, limits):
    limits("rep", reveals_per_hour=0)
    customer = customer_factory(org.rep)
    rep = signed_in(org.rep)
    url = reverse("customers:reveal", args=[customer.pk, "mobile"])
    dialog = text(rep.get(url, **HTMX))
    assert reverse("approvals:request_reveal", args=[customer.pk, "mobile"]) in dialog
    api = rep.post(url, {"purpose": "contact_customer"}, **HTMX)
    assert "revealed-value" not in text(api)


def test_trace_page_from_an_upload(org, customer_factory, as_, tmp_path):
    customer = customer_factory(org.rep)
    path = tmp_path / "leak.csv"
    export = customers_export(actor=as_(org.rep), out=path)
    compliance = signed_in(org.compliance)
    assert compliance.get(reverse("approvals:trace")).status_code == 200
    with path.open("rb") as fh:
        page = text(compliance.post(reverse("approvals:trace"), {"file": fh}))
    assert str(export.pk) in page and "rep01" in page and customer.name in page
    page = text(compliance.post(reverse("approvals:trace"), {"export_id": str(export.pk)}))
    assert export.file_sha256 in page
    assert AuditEvent.objects.filter(action="export.traced").count() == 2
    for who in (org.rep, org.manager, org.auditor):
        client = signed_in(who)
        assert client.get(reverse("approvals:trace")).status_code == 403
        assert client.post(reverse("approvals:trace"), {"export_id": str(export.pk)}).status_code == 403


def test_nav_links(org):
    assert reverse("approvals:list") in text(signed_in(org.rep).get(reverse("dashboard")))
    assert reverse("approvals:trace") not in text(signed_in(org.manager).get(reverse("dashboard")))
    assert reverse("approvals:trace") in text(signed_in(org.compliance).get(reverse("dashboard")))
    assert reverse("approvals:list") not in text(signed_in(org.auditor).get(reverse("dashboard")))

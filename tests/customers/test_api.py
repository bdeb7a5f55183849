"""REST API of the customer registry (/api/v1/): authentication, scope, masking, pagination,
field errors in the caller's language, reveal, soft delete, records, and the authorisation matrix
over every API route × every role (with a meta-test that fails when a route is not in it)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from custodia.access.services import api_token_create, api_tokens_revoke_all
from custodia.audit.models import AuditEvent
from custodia.customers import record_services
from custodia.customers.api.views import CustodiaViewSet
from custodia.customers.models import Contact, Customer
from custodia.kernel.actor import Actor
from custodia.testing.factories import valid_bank_card, valid_mobile, valid_resident_id
from custodia.testing.routes import api_patterns

CJK = re.compile(r"[\u4e00-\u9fff]")
SYSTEM = Actor.system("tests")


def token_for(username: str) -> str:
    return api_token_create(actor=SYSTEM, username=username)


def client_for(user=None, language: str | None = None) -> APIClient:
    """An API client authenticated with a real token of ``user`` (anonymous when None)."""
    client = APIClient()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {token_for(user.username)}"
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    client.credentials(**headers)
    return client


@pytest.fixture
def api(org):
    """``api("rep")`` → a token-authenticated client for that person of the organisation."""
    return lambda name, language=None: client_for(getattr(org, name), language)


def clear_values(customer_values: dict) -> list[str]:
    """The clear forms of a customer's identifiers, as typed and as normalised."""
    mobile = customer_values["mobile"]
    return [mobile, f"+86{mobile}", customer_values["email"], customer_values["id_number"],
            customer_values["bank_account"]]


def make(customer_factory, owner, **extra):
    """A customer plus the clear values it was created with (so a test can look for leaks)."""
    n = uuid.uuid4().int % 10**7
    values = {"mobile": valid_mobile(n), "email": f"leak{n}@example.com", "id_number": valid_resident_id(n),
              "bank_account": valid_bank_card(n), **extra}
    return customer_factory(owner, **values), values


def assert_no_leak(response, *values: str) -> None:
    text = response.content.decode("utf-8")
    for value in values:
        assert value not in text, f"clear value {value!r} leaked into the API response"


@pytest.mark.django_db
class ApiAuthenticationTests:
    def test_token_authenticates(self, org, customer_factory):
        customer_factory(org.rep)
        response = client_for(org.rep).get("/api/v1/customers/")
        assert response.status_code == 200
        assert response.json()["count"] == 1

    def test_wrong_or_missing_token_is_401(self, org):
        token_for("rep01")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token cst_not-a-real-token")
        assert client.get("/api/v1/customers/").status_code == 401
        response = APIClient().get("/api/v1/customers/")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"

    def test_revoked_token_is_401(self, org):
        client = client_for(org.rep)
        api_tokens_revoke_all(user=org.rep)
        assert client.get("/api/v1/customers/").status_code == 401

    def test_session_authentication_works_and_writes_need_csrf(self, org):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(org.rep)
        assert client.get("/api/v1/customers/").status_code == 200
        response = client.post("/api/v1/customers/", {"kind": "individual", "name": "无令牌"}, format="json")
        assert response.status_code == 403 and "CSRF" in response.json()["detail"]
        assert not Customer.objects.filter(name="无令牌").exists()

    def test_cooling_off_rep_may_only_read(self, org, customer_factory):
        customer = customer_factory(org.rep)
        org.rep.employment_status = "cooling_off"
        org.rep.save()
        client = client_for(org.rep)
        assert client.get(f"/api/v1/customers/{customer.id}/").status_code == 200
        assert client.patch(f"/api/v1/customers/{customer.id}/", {"stage": "lost"}, format="json").status_code == 403
        reveal = client.post(f"/api/v1/customers/{customer.id}/reveal/",
                             {"field": "mobile", "purpose": "contact_customer"}, format="json")
        assert reveal.status_code == 403

    def test_an_action_without_required_action_is_denied(self, org):
        class ProbeViewSet(CustodiaViewSet):
            required_action = {}

            def list(self, request):
                return Response({"reached": True})

        request = APIRequestFactory().get("/probe/")
        force_authenticate(request, user=org.admin)
        assert ProbeViewSet.as_view({"get": "list"})(request).status_code == 403


@pytest.mark.django_db
class CustomerListApiTests:
    def test_list_is_scoped_and_masked(self, org, customer_factory, api):
        own = [make(customer_factory, org.rep) for _ in range(2)]
        teammate, teammate_values = make(customer_factory, org.rep2)
        other, other_values = make(customer_factory, org.other_rep)

        response = api("rep").get("/api/v1/customers/")
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 2
        assert {r["id"] for r in body["results"]} == {str(c.id) for c, _v in own}
        for row in body["results"]:
            assert re.fullmatch(r"139\*{4}\d{4}", row["mobile"])
        assert_no_leak(response, *[v for _c, values in own for v in clear_values(values)])

        manager = api("manager").get("/api/v1/customers/").json()
        assert {r["id"] for r in manager["results"]} == {str(c.id) for c, _v in own} | {str(teammate.id)}
        compliance = api("compliance").get("/api/v1/customers/")
        assert compliance.json()["count"] == 4
        assert_no_leak(compliance, *clear_values(teammate_values), *clear_values(other_values))

    def test_list_page_is_audited(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        api("rep").get("/api/v1/customers/")
        event = AuditEvent.objects.get(action="customer.list.viewed")
        assert event.actor_id == org.rep.pk and event.object_ids == [str(customer.id)]

    def test_pagination_links(self, org, customer_factory, api):
        for _ in range(3):
            customer_factory(org.rep)
        client = api("rep")
        first = client.get("/api/v1/customers/", {"page_size": 2}).json()
        assert first["count"] == 3 and len(first["results"]) == 2
        assert first["previous"] is None
        assert "page=2" in first["next"] and "page_size=2" in first["next"]
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 1 and second["next"] is None
        assert second["previous"] is not None and "page=" not in second["previous"]
        assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])

    def test_page_size_500_is_allowed_and_501_is_clamped_to_500(self, org, api, settings):
        # A rep seeing 500 customers at once is stopped by the monitor's default rules
        # (tests/monitor); this test is about page sizes only.
        settings.CUSTODIA_MONITOR_ENABLED = False
        # Plain rows without protected values: this tests the page size, not the protection (and
        # 501 customers through the encrypting service would take seconds).
        now = timezone.now()
        Customer.objects.bulk_create([
            Customer(kind="individual", name=f"客户{i}", owner=org.rep, team=org.team_a, department=org.dept_a,
                     created_at=now, updated_at=now)
            for i in range(501)
        ])
        client = api("rep")
        page = client.get("/api/v1/customers/", {"page_size": 500}).json()
        assert page["count"] == 501 and len(page["results"]) == 500 and page["next"]
        clamped = client.get("/api/v1/customers/", {"page_size": 501}).json()
        assert len(clamped["results"]) == 500 and "page=2" in clamped["next"]

    @pytest.mark.parametrize("params, field", [
        ({"page": "abc"}, "page"), ({"page": 0}, "page"), ({"page_size": 0}, "page_size"),
        ({"tier": "platinum"}, "tier"),
    ])
    def test_bad_query_parameters_are_field_errors(self, org, api, params, field):
        response = api("rep", "en").get("/api/v1/customers/", params)
        assert response.status_code == 400
        assert field in response.json()

    def test_filters_and_identifier_search(self, org, customer_factory, api):
        core, values = make(customer_factory, org.rep, tier="core")
        customer_factory(org.rep)
        client = api("rep")
        assert [r["id"] for r in client.get("/api/v1/customers/", {"tier": "core"}).json()["results"]] == [str(core.id)]
        found = client.get("/api/v1/customers/", {"q": values["mobile"]})
        assert [r["id"] for r in found.json()["results"]] == [str(core.id)]
        assert AuditEvent.objects.filter(action="customer.searched", fields=["mobile"]).exists()

    def test_query_count_does_not_grow_with_the_page(self, org, customer_factory, api, monkeypatch):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from custodia.monitor import inline

        monkeypatch.setattr(inline, "RULES_CHECK_SECONDS", 1e9)  # no rule re-check in between
        client = api("rep")
        customer_factory(org.rep)
        client.get("/api/v1/customers/")  # the monitor's rules and the rep's baseline, once
        customer_factory(org.rep, tags=["vip"])
        with CaptureQueriesContext(connection) as small:
            client.get("/api/v1/customers/")
        for _ in range(10):
            customer_factory(org.rep, tags=["vip", "b"])
        with CaptureQueriesContext(connection) as large:
            assert len(client.get("/api/v1/customers/").json()["results"]) == 12
        assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db
class CustomerDetailApiTests:
    def test_detail_is_masked_and_says_what_may_be_revealed(self, org, customer_factory, api):
        customer, values = make(customer_factory, org.rep)
        response = api("rep").get(f"/api/v1/customers/{customer.id}/")
        assert response.status_code == 200
        body = response.json()
        assert body["mobile"] == f"{values['mobile'][:3]}****{values['mobile'][-4:]}"
        assert body["id_number"].endswith(values["id_number"][-4:]) and "****" in body["id_number"]
        assert_no_leak(response, *clear_values(values))
        may = {f["field"]: f["can_reveal"] for f in body["protected_fields"]}
        assert may["mobile"] is True and may["id_number"] is False and may["bank_account"] is False
        assert AuditEvent.objects.filter(action="customer.viewed", target_id=customer.id).count() == 1

        manager = api("manager").get(f"/api/v1/customers/{customer.id}/").json()
        assert {f["field"]: f["can_reveal"] for f in manager["protected_fields"]}["id_number"] is True

    def test_out_of_scope_is_the_same_404_as_a_missing_id(self, org, customer_factory, api):
        other = customer_factory(org.other_rep)
        client = api("rep")
        out_of_scope = client.get(f"/api/v1/customers/{other.id}/")
        missing = client.get(f"/api/v1/customers/{uuid.uuid4()}/")
        malformed = client.get("/api/v1/customers/not-a-uuid/")
        assert out_of_scope.status_code == missing.status_code == malformed.status_code == 404
        assert out_of_scope.json() == missing.json() == malformed.json()


@pytest.mark.django_db
class CustomerCreateApiTests:
    def test_create_returns_201_masked_and_never_echoes_clear_values(self, org, api):
        values = {"mobile": "13812345678", "email": "wang.wu@example.com", "id_number": valid_resident_id(7),
                  "bank_account": valid_bank_card(7)}
        response = api("rep").post("/api/v1/customers/", {"kind": "individual", "name": "王五", "tags": ["vip"],
                                                          **values}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["mobile"] == "138****5678" and body["owner"] == "rep01" and body["tags"] == ["vip"]
        assert_no_leak(response, *clear_values(values), "+8613812345678")
        customer = Customer.objects.get(pk=body["id"])
        assert customer.owner == org.rep and b"13812345678" not in bytes(customer.mobile_enc)
        assert AuditEvent.objects.filter(action="customer.created", target_id=customer.id, actor_id=org.rep.pk).exists()

    def test_field_errors_come_in_the_callers_language(self, org, api):
        body = {"kind": "individual", "name": ""}
        chinese = api("rep", "zh-hans").post("/api/v1/customers/", body, format="json")
        assert chinese.status_code == 400
        assert CJK.search(chinese.json()["name"][0])
        english = api("rep", "en").post("/api/v1/customers/", body, format="json")
        assert english.status_code == 400
        assert english.json()["name"] == ["This field may not be blank."]

    def test_every_bad_field_is_reported_and_nothing_is_written(self, org, api):
        before = (Customer.objects.count(), AuditEvent.objects.filter(action="customer.created").count())
        response = api("rep", "en").post("/api/v1/customers/", {
            "kind": "individual", "name": "坏数据", "mobile": "12345", "email": "not-an-email",
            "id_number": "110105194912310021", "bank_account": "1234",
        }, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"mobile", "email", "id_number", "bank_account"}
        assert response.json()["email"] == ["Enter a valid email address."]
        assert (Customer.objects.count(), AuditEvent.objects.filter(action="customer.created").count()) == before

    def test_type_errors_are_field_errors(self, org, api):
        response = api("rep", "en").post("/api/v1/customers/", {"kind": "robot", "tags": "x"}, format="json")
        assert response.status_code == 400
        assert {"kind", "name", "tags"} <= set(response.json())
        assert api("rep").post("/api/v1/customers/", [1, 2], format="json").status_code == 400

    def test_duplicate_is_a_warning_that_allow_duplicate_overrides(self, org, customer_factory, api):
        customer_factory(org.other_rep, mobile="13800000001")
        client = api("rep", "en")
        body = {"kind": "individual", "name": "重复", "mobile": "138 0000 0001"}
        warned = client.post("/api/v1/customers/", body, format="json")
        assert warned.status_code == 400
        assert warned.json() == {"mobile": ["Already belongs to another customer."]}
        accepted = client.post("/api/v1/customers/", body | {"allow_duplicate": True}, format="json")
        assert accepted.status_code == 201

    def test_rep_cannot_create_for_someone_else(self, org, api):
        response = api("rep").post("/api/v1/customers/", {"kind": "individual", "name": "越权", "owner": "rep03"},
                                   format="json")
        assert response.status_code == 400 and "owner" in response.json()
        assert not Customer.objects.filter(name="越权").exists()


@pytest.mark.django_db
class CustomerUpdateApiTests:
    def test_patch_changes_and_audits(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        response = api("rep").patch(f"/api/v1/customers/{customer.id}/", {"stage": "dormant", "mobile": "13912345678"},
                                    format="json")
        assert response.status_code == 200
        assert response.json()["stage"] == "dormant" and response.json()["mobile"] == "139****5678"
        assert_no_leak(response, "13912345678")
        event = AuditEvent.objects.get(action="customer.updated", target_id=customer.id)
        assert sorted(event.fields) == ["mobile", "stage"]

    def test_null_clears_a_protected_field(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        body = api("rep").patch(f"/api/v1/customers/{customer.id}/", {"mobile": None}, format="json").json()
        assert body["mobile"] == ""
        assert {f["field"]: f["present"] for f in body["protected_fields"]}["mobile"] is False
        row = Customer.objects.get(pk=customer.pk)
        assert row.mobile_enc is None and row.mobile_bidx is None

    def test_put_needs_the_required_fields(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        client = api("rep")
        assert set(client.put(f"/api/v1/customers/{customer.id}/", {"stage": "lost"}, format="json").json()) == {
            "kind", "name"}
        response = client.put(f"/api/v1/customers/{customer.id}/", {"kind": "individual", "name": "新名字"},
                              format="json")
        assert response.status_code == 200 and response.json()["name"] == "新名字"

    def test_duplicate_on_update(self, org, customer_factory, api):
        customer_factory(org.rep, mobile="13800000009")
        customer = customer_factory(org.rep)
        client = api("rep")
        url = f"/api/v1/customers/{customer.id}/"
        assert client.patch(url, {"mobile": "13800000009"}, format="json").status_code == 400
        assert client.patch(url, {"mobile": "13800000009", "allow_duplicate": True}, format="json").status_code == 200

    def test_out_of_scope_update_is_404_and_changes_nothing(self, org, customer_factory, api):
        other = customer_factory(org.other_rep, name="别人的")
        assert api("rep").patch(f"/api/v1/customers/{other.id}/", {"name": "x"}, format="json").status_code == 404
        assert Customer.objects.get(pk=other.pk).name == "别人的"


@pytest.mark.django_db
class CustomerDeleteApiTests:
    def test_delete_is_soft_then_not_found(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        client = api("manager")
        assert client.delete(f"/api/v1/customers/{customer.id}/").status_code == 204
        assert client.get(f"/api/v1/customers/{customer.id}/").status_code == 404
        assert client.get("/api/v1/customers/").json()["count"] == 0
        assert Customer.objects.get(pk=customer.pk).deleted_at is not None
        assert AuditEvent.objects.filter(action="customer.deleted", target_id=customer.id).exists()
        assert client.delete(f"/api/v1/customers/{customer.id}/").status_code == 404

    def test_rep_may_not_delete(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        assert api("rep").delete(f"/api/v1/customers/{customer.id}/").status_code == 403
        assert Customer.objects.get(pk=customer.pk).deleted_at is None


@pytest.mark.django_db
class CustomerRevealApiTests:
    def url(self, customer):
        return f"/api/v1/customers/{customer.id}/reveal/"

    def test_reveal_returns_the_value_and_is_audited(self, org, customer_factory, api):
        customer = customer_factory(org.rep, mobile="13800000002")
        response = api("rep").post(self.url(customer), {"field": "mobile", "purpose": "contact_customer"},
                                   format="json")
        assert response.status_code == 200
        assert response.json() == {"field": "mobile", "value": "+8613800000002"}
        event = AuditEvent.objects.get(action="customer.field.revealed")
        assert (event.actor_id, event.target_id, event.fields, event.purpose) == (
            org.rep.pk, customer.id, ["mobile"], "contact_customer")

    def test_rep_may_not_reveal_l4(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        response = api("rep").post(self.url(customer), {"field": "id_number", "purpose": "contact_customer"},
                                   format="json")
        assert response.status_code == 403
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()
        manager = api("manager").post(self.url(customer), {"field": "id_number", "purpose": "compliance_review"},
                                      format="json")
        assert manager.status_code == 200 and len(manager.json()["value"]) == 18

    def test_out_of_scope_is_404(self, org, customer_factory, api):
        other = customer_factory(org.other_rep)
        response = api("rep").post(self.url(other), {"field": "mobile", "purpose": "contact_customer"}, format="json")
        missing = api("rep").post(f"/api/v1/customers/{uuid.uuid4()}/reveal/",
                                  {"field": "mobile", "purpose": "contact_customer"}, format="json")
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()

    def test_purpose_is_required(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        client = api("rep", "en")
        response = client.post(self.url(customer), {"field": "mobile"}, format="json")
        assert response.status_code == 400 and "purpose" in response.json()
        other = client.post(self.url(customer), {"field": "mobile", "purpose": "other"}, format="json")
        assert other.status_code == 400 and "purpose_text" in other.json()
        unknown = client.post(self.url(customer), {"field": "name", "purpose": "contact_customer"}, format="json")
        assert unknown.status_code == 400 and "field" in unknown.json()
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()


RECORD_PAYLOADS = {
    "contacts": {"name": "李四", "title": "采购经理", "mobile": "13700001111", "email": "li.si@example.com"},
    "interactions": {"kind": "call", "occurred_at": "2025-03-01T10:00:00+08:00", "subject": "季度回访",
                     "notes": "客户手机 13700002222，想要报价"},
    "opportunities": {"name": "年度采购", "stage": "proposal", "amount": "128000.00", "expected_close": "2025-12-31"},
    "transactions": {"occurred_on": "2025-02-01", "amount": "99.50", "product": "年费", "reference": "PAY-20250201"},
}
RECORD_CLEAR = {"contacts": ["13700001111", "li.si@example.com"], "interactions": ["13700002222"],
                "opportunities": [], "transactions": []}
RECORD_KIND = {"contacts": "contact", "interactions": "interaction", "opportunities": "opportunity",
               "transactions": "transaction"}
RECORD_CHANGE = {"contacts": {"title": "总监"}, "interactions": {"subject": "改期"},
                 "opportunities": {"stage": "won"}, "transactions": {"product": "服务费"}}


@pytest.mark.django_db
class RecordApiTests:
    @pytest.mark.parametrize("route", list(RECORD_PAYLOADS))
    def test_record_lifecycle(self, org, customer_factory, api, route):
        customer = customer_factory(org.rep)
        client = api("rep")
        created = client.post(f"/api/v1/{route}/", {"customer": str(customer.id), **RECORD_PAYLOADS[route]},
                              format="json")
        assert created.status_code == 201, created.json()
        assert_no_leak(created, *RECORD_CLEAR[route])
        record_id = created.json()["id"]
        assert created.json()["customer"] == str(customer.id)

        listed = client.get(f"/api/v1/{route}/", {"customer": str(customer.id)})
        assert [r["id"] for r in listed.json()["results"]] == [record_id]
        assert_no_leak(listed, *RECORD_CLEAR[route])
        assert client.get(f"/api/v1/{route}/{record_id}/").json()["id"] == record_id

        changed = client.patch(f"/api/v1/{route}/{record_id}/", RECORD_CHANGE[route], format="json")
        assert changed.status_code == 200
        field, value = next(iter(RECORD_CHANGE[route].items()))
        assert changed.json()[field] == value

        assert client.delete(f"/api/v1/{route}/{record_id}/").status_code == 204
        assert client.get(f"/api/v1/{route}/{record_id}/").status_code == 404
        actions = set(AuditEvent.objects.filter(target_id=record_id).values_list("action", flat=True))
        kind = RECORD_KIND[route]
        assert {f"{kind}.created", f"{kind}.updated", f"{kind}.deleted", "customer.records.viewed"} <= actions

    def test_contact_output_is_masked(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        body = api("rep").post("/api/v1/contacts/", {"customer": str(customer.id), **RECORD_PAYLOADS["contacts"]},
                               format="json").json()
        assert body["mobile"] == "137****1111" and body["email"] == "l***@example.com"

    def test_list_without_customer_is_every_record_in_scope(self, org, customer_factory, api):
        own, teammate = customer_factory(org.rep), customer_factory(org.rep2)
        for customer in (own, teammate):
            record_services.record_create(actor=SYSTEM, kind="contact", customer_id=customer.id,
                                          data={"name": f"联系人{customer.name}"})
        rep = api("rep").get("/api/v1/contacts/").json()
        assert [r["customer"] for r in rep["results"]] == [str(own.id)]
        manager = api("manager").get("/api/v1/contacts/").json()
        assert {r["customer"] for r in manager["results"]} == {str(own.id), str(teammate.id)}
        event = AuditEvent.objects.filter(action="customer.records.viewed", actor_id=org.rep.pk).get()
        assert event.object_ids == [str(Contact.objects.get(customer=own).id)]

    def test_out_of_scope_customer_is_404(self, org, customer_factory, api):
        other = customer_factory(org.other_rep)
        client = api("rep")
        assert client.get("/api/v1/contacts/", {"customer": str(other.id)}).status_code == 404
        response = client.post("/api/v1/contacts/", {"customer": str(other.id), "name": "x"}, format="json")
        assert response.status_code == 404
        assert not Contact.objects.exists()

    def test_record_field_errors(self, org, customer_factory, api):
        customer = customer_factory(org.rep)
        client = api("rep", "en")
        response = client.post("/api/v1/contacts/", {"customer": str(customer.id), "name": "x", "mobile": "123"},
                               format="json")
        assert response.status_code == 400 and set(response.json()) == {"mobile"}
        bad = client.post("/api/v1/opportunities/", {"customer": str(customer.id), "name": "x", "stage": "won",
                                                      "amount": "abc"}, format="json")
        assert bad.status_code == 400 and "amount" in bad.json()
        assert not Contact.objects.exists()


# --- Authorisation matrix: every API route × every role.

ROLES = ["anonymous", "rep", "rep2", "other_rep", "manager", "other_manager", "compliance", "secadmin", "auditor",
         "legal", "hr", "admin"]
# What each role may do with customer data (the product's role table, written out independently
# of access.policy so that a change there shows up here).
ROLE_ACTIONS = {
    "rep": {"view", "add", "change", "reveal"}, "rep2": {"view", "add", "change", "reveal"},
    "other_rep": {"view", "add", "change", "reveal"},
    "manager": {"view", "add", "change", "delete", "reveal"},
    "other_manager": {"view", "add", "change", "delete", "reveal"},
    "compliance": {"view", "reveal"},
    "admin": {"view", "add", "change", "delete", "reveal"},
}
# Who sees the target customer (owned by rep01, team_a): the owner, the team's manager, all-scope roles.
IN_SCOPE = {"rep", "manager", "compliance", "admin"}


def _customer_body(ctx, user):
    owner = user.username if user.team_id else "rep01"
    return {"kind": "individual", "name": "矩阵客户", "owner": owner}


# (method, path template, action, needs the target in scope, success status, body)
ROUTES = [
    ("get", "/api/v1/customers/", "view", False, 200, None),
    ("post", "/api/v1/customers/", "add", False, 201, _customer_body),
    ("get", "/api/v1/customers/{customer}/", "view", True, 200, None),
    ("put", "/api/v1/customers/{customer}/", "change", True, 200, lambda ctx, user: {"kind": "individual",
                                                                                       "name": "改名"}),
    ("patch", "/api/v1/customers/{customer}/", "change", True, 200, lambda ctx, user: {"stage": "prospect"}),
    ("delete", "/api/v1/customers/{customer}/", "delete", True, 204, None),
    ("post", "/api/v1/customers/{customer}/reveal/", "reveal", True, 200,
     lambda ctx, user: {"field": "mobile", "purpose": "contact_customer"}),
]
for _route, _payload in RECORD_PAYLOADS.items():
    ROUTES += [
        ("get", f"/api/v1/{_route}/", "view", False, 200, None),
        ("post", f"/api/v1/{_route}/", "change", True, 201,
         lambda ctx, user, _p=_payload: {"customer": ctx["customer"], **_p}),
        ("get", f"/api/v1/{_route}/{{{_route}}}/", "view", True, 200, None),
        ("put", f"/api/v1/{_route}/{{{_route}}}/", "change", True, 200, lambda ctx, user, _p=_payload: dict(_p)),
        ("patch", f"/api/v1/{_route}/{{{_route}}}/", "change", True, 200,
         lambda ctx, user, _c=RECORD_CHANGE[_route]: dict(_c)),
        ("delete", f"/api/v1/{_route}/{{{_route}}}/", "change", True, 204, None),
    ]


def expected_status(role: str, action: str, needs_scope: bool, ok: int) -> int:
    if role == "anonymous":
        return 401
    if action not in ROLE_ACTIONS.get(role, set()):
        return 403
    if needs_scope and role not in IN_SCOPE:
        return 404
    return ok


@pytest.fixture
def matrix_target(org, customer_factory):
    """A customer of rep01 with one record of every kind; ids by path placeholder."""
    customer = customer_factory(org.rep)
    ctx = {"customer": str(customer.id)}
    for route, payload in RECORD_PAYLOADS.items():
        record = record_services.record_create(actor=SYSTEM, kind=RECORD_KIND[route], customer_id=customer.id,
                                               data=dict(payload))
        ctx[route] = str(record.id)
    return ctx


@pytest.mark.django_db
class AuthorisationMatrixTests:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("method, template, action, needs_scope, ok, body", ROUTES,
                             ids=[f"{m.upper()} {t}" for m, t, *_ in ROUTES])
    def test_route_for_role(self, org, matrix_target, role, method, template, action, needs_scope, ok, body):
        user = None if role == "anonymous" else getattr(org, role)
        client = client_for(user)
        path = template.format(**matrix_target)
        payload = body(matrix_target, user) if body and user else (body(matrix_target, org.rep) if body else None)
        response = getattr(client, method)(path, payload, format="json") if payload is not None else \
            getattr(client, method)(path)
        expected = expected_status(role, action, needs_scope, ok)
        assert response.status_code == expected, (role, method, path, response.content[:300])
        if method == "get" and template.endswith("s/") and expected == 200:
            # Lists are scoped: the target appears exactly for the roles that have it in scope.
            listed = {r["id"] for r in response.json()["results"]}
            resource = template.strip("/").split("/")[-1]
            target = matrix_target["customer" if resource == "customers" else resource]
            assert (target in listed) == (role in IN_SCOPE), (role, path)

    def test_every_api_route_is_in_the_matrix(self):
        declared = {(method, template) for method, template, *_ in ROUTES}
        # The approvals API (any signed-in person lists their own requests) and the monitoring API
        # (alerts, rules: by role) have their own matrix rows in tests/test_routes.py and per-role
        # tests in tests/approvals/test_api.py and tests/monitor/test_api.py.
        routed = {r for r in api_routes() if not r[1].startswith(NOT_CUSTOMER_APIS)}
        normalised = {(m, re.sub(r"\{[a-z]+\}", "{id}", t)) for m, t in declared}
        assert routed == normalised, f"routes without matrix rows: {routed - normalised}; " \
                                     f"matrix rows without routes: {normalised - routed}"

    def test_every_action_declares_what_it_needs(self):
        for _pattern, callback in api_patterns():
            cls = callback.cls
            assert issubclass(cls, CustodiaViewSet), cls
            missing = set(callback.actions.values()) - set(cls.required_action)
            assert not missing, f"{cls.__name__} has actions without required_action: {missing}"


NOT_CUSTOMER_APIS = ("/api/v1/approvals/", "/api/v1/alerts/", "/api/v1/monitor/")


def api_routes():
    """(method, "/api/v1/…/{id}/") for every API route and every method it serves."""
    for full, callback in api_patterns():
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", full).replace("^", "").replace("$", "")
        for method in callback.actions:
            if method != "head":
                yield method, path


def test_api_routes_are_found():
    routes = {r for r in api_routes() if not r[1].startswith(NOT_CUSTOMER_APIS)}  # (see above)
    assert ("post", "/api/v1/customers/{id}/reveal/") in routes
    assert len(routes) == len(ROUTES)

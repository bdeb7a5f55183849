"""Web views of the customer registry: scope, masking, HTMX renderings, forms, reveal, catalog."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from custodia.audit.models import AuditEvent
from custodia.customers import record_services, services
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.protection import catalog
from custodia.testing.factories import valid_resident_id

HTMX = {"HTTP_HX_REQUEST": "true"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _text(response) -> str:
    return response.content.decode()


def _field_errors(html: str, name: str) -> str:
    """The error list rendered under one form field ("" when none)."""
    match = re.search(rf'<ul class="field-errors" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


@pytest.fixture
def rep_client(client, org):
    client.force_login(org.rep)
    return client


@pytest.fixture
def manager_client(client, org):
    client.force_login(org.manager)
    return client


@pytest.mark.django_db
class CustomerListViewTests:
    def test_rep_sees_own_customers_masked_and_not_others(self, rep_client, org, customer_factory):
        mine = customer_factory(org.rep, name="王小明", mobile="13800000011")
        customer_factory(org.other_rep, name="外部客户")
        response = rep_client.get(reverse("customers:list"))
        html = _text(response)
        assert response.status_code == 200
        assert "王小明" in html and "外部客户" not in html
        assert reverse("customers:detail", args=[mine.pk]) in html
        assert "138****0011" in html
        assert "13800000011" not in html and "8613800000011" not in html
        assert AuditEvent.objects.filter(action="customer.list.viewed", actor_id=org.rep.pk).exists()

    def test_search_by_exact_mobile_finds_customer_without_clear_mobile(self, rep_client, org, customer_factory):
        target = customer_factory(org.rep, name="李四", mobile="13800000012")
        customer_factory(org.rep, name="张三", mobile="13800000013")
        response = rep_client.get(reverse("customers:list"), {"q": "138 0000 0012"})
        html = _text(response)
        assert "李四" in html and "张三" not in html
        assert reverse("customers:detail", args=[target.pk]) in html
        assert "13800000012" not in html and "0000 0012" not in html.replace('value="138 0000 0012"', "")
        assert AuditEvent.objects.filter(action="customer.searched", fields=["mobile"]).exists()

    def test_identifier_search_is_not_kept_in_the_address_bar(self, rep_client, org, customer_factory):
        customer_factory(org.rep, name="周九", mobile="13800000015")
        response = rep_client.get(reverse("customers:list"), {"q": "13800000015", "tier": "ordinary"}, **HTMX)
        html = _text(response)
        assert "周九" in html and "13800000015" not in html
        assert response["HX-Push-Url"] == reverse("customers:list") + "?tier=ordinary"
        name_search = rep_client.get(reverse("customers:list"), {"q": "周"}, **HTMX)
        assert "HX-Push-Url" not in name_search  # a name search stays bookmarkable

    def test_search_by_email_id_number_and_name(self, rep_client, org, customer_factory):
        id_number = valid_resident_id(4242)
        target = customer_factory(org.rep, name="赵六", email="Zhao.Liu@Example.com", id_number=id_number)
        customer_factory(org.rep, name="钱七")
        for q in ("zhao.liu@example.com", id_number.lower(), "赵"):
            html = _text(rep_client.get(reverse("customers:list"), {"q": q}))
            assert reverse("customers:detail", args=[target.pk]) in html, q
            assert "钱七" not in html, q
            assert id_number not in html.replace(f'value="{id_number.lower()}"', "")

    def test_search_cannot_find_out_of_scope_customer(self, rep_client, org, customer_factory):
        customer_factory(org.other_rep, name="别人的", mobile="13800000014")
        html = _text(rep_client.get(reverse("customers:list"), {"q": "13800000014"}))
        assert "别人的" not in html

    @pytest.mark.parametrize("param, value, expected", [
        ("tier", "core", "核心甲"), ("stage", "lost", "流失乙"), ("tag", "华东", "标签丙"),
        ("owner", "rep02", "同事丁"), ("team", "east-1", "同事丁"),
    ])
    def test_filters(self, manager_client, org, customer_factory, param, value, expected):
        # The manager's own core customer: the team's core customers are not theirs to see.
        customer_factory(org.manager, name="核心甲", tier="core", stage="active")
        customer_factory(org.rep, name="流失乙", stage="lost")
        customer_factory(org.rep, name="标签丙", tags=["华东"])
        customer_factory(org.rep2, name="同事丁")
        customer_factory(org.other_rep, name="外组戊")
        html = _text(manager_client.get(reverse("customers:list"), {param: value}))
        assert expected in html
        names = {"核心甲", "流失乙", "标签丙", "同事丁", "外组戊"} - {expected}
        if param == "team":
            names -= {"核心甲", "流失乙", "标签丙"}
        assert not any(f">{name}</a>" in html for name in names), param

    def test_filter_choices_stay_in_scope(self, rep_client, org, customer_factory):
        customer_factory(org.rep, tags=["我的标签"])
        customer_factory(org.other_rep, tags=["别人的标签"])
        html = _text(rep_client.get(reverse("customers:list")))
        assert "我的标签" in html and "别人的标签" not in html
        assert 'value="rep03"' not in html and 'value="south-1"' not in html

    def test_htmx_request_renders_only_the_results(self, rep_client, org, customer_factory):
        customer_factory(org.rep, name="局部刷新")
        response = rep_client.get(reverse("customers:list"), {"tier": "ordinary"}, **HTMX)
        html = _text(response)
        assert "局部刷新" in html
        assert "<html" not in html and 'class="filters' not in html and "sidebar" not in html
        assert [t.name for t in response.templates][0] == "customers/htmx/list_results.html"

    def test_full_page_has_filter_bar_and_pagination(self, rep_client, org, customer_factory):
        for _ in range(3):
            customer_factory(org.rep)
        html = _text(rep_client.get(reverse("customers:list")))
        assert 'hx-get="/customers/"' in html and 'hx-push-url="true"' in html
        assert 'name="q"' in html and 'name="tier"' in html and 'name="owner"' in html
        assert 'class="pagination"' in html

    def test_list_is_not_n_plus_one(self, rep_client, org, customer_factory, django_assert_max_num_queries,
                                    monkeypatch):
        from custodia.monitor import inline

        monkeypatch.setattr(inline, "RULES_CHECK_SECONDS", 1e9)  # no rule re-check in between
        customer_factory(org.rep)
        rep_client.get(reverse("customers:list"))  # the monitor's rules and the rep's baseline, once
        for n in range(3):
            customer_factory(org.rep, tags=[f"标签{n % 3}", "批量"])
        with CaptureQueriesContext(connection) as small:
            rep_client.get(reverse("customers:list"))
        for n in range(52):
            customer_factory(org.rep, tags=[f"标签{n % 3}", "批量"])
        # 13: the access policy reads the role's grants and the person's assignments and time-bound
        # grants (two small queries, cached for the request); +1 when the session's last-seen time
        # is touched (custodia.identity.sessions, at most once per touch interval); +3 for the
        # inline detectors (customers last seen by the rep, then their counters: custodia.monitor).
        with django_assert_max_num_queries(17), CaptureQueriesContext(connection) as large:
            response = rep_client.get(reverse("customers:list"))
        assert response.status_code == 200
        assert _text(response).count('class="row-link"') == 50
        assert len(large) == len(small)  # a page of 50 costs what a page of 3 costs
        with django_assert_max_num_queries(14):  # 9 + the access policy's two + the inline detectors' 3
            rep_client.get(reverse("customers:list"), {"tier": "ordinary", "page": "2"}, **HTMX)

    @pytest.mark.parametrize("role", ["secadmin", "auditor", "legal", "hr"])
    def test_roles_without_customer_access_are_refused(self, client, org, role):
        client.force_login(getattr(org, role))
        assert client.get(reverse("customers:list")).status_code == 403

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("customers:list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
class CustomerDetailViewTests:
    def test_detail_masks_every_protected_field(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep, name="孙八", mobile="13800000021", email="sun.ba@example.com",
                                    bank_account="6222020000000000018")
        html = _text(rep_client.get(reverse("customers:detail", args=[customer.pk])))
        assert "孙八" in html and "138****0021" in html and "s***@example.com" in html
        for clear in ("13800000021", "sun.ba@example.com", "6222020000000000018", "世纪大道"):
            assert clear not in html
        assert AuditEvent.objects.filter(action="customer.viewed", target_id=customer.pk).exists()

    def test_out_of_scope_and_missing_are_not_found(self, rep_client, org, customer_factory):
        other = customer_factory(org.other_rep)
        assert rep_client.get(reverse("customers:detail", args=[other.pk])).status_code == 404
        assert rep_client.get(reverse("customers:detail", args=[uuid.uuid4()])).status_code == 404

    def test_rep_has_no_reveal_button_for_l4_fields(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        html = _text(rep_client.get(reverse("customers:detail", args=[customer.pk])))
        assert reverse("customers:reveal", args=[customer.pk, "mobile"]) in html
        for pf in catalog.for_model("customer"):
            url = reverse("customers:reveal", args=[customer.pk, pf.name])
            assert (url in html) == (pf.level <= 3), pf.name
        assert 'class="locked"' in html

    def test_manager_may_reveal_l4(self, manager_client, org, customer_factory):
        customer = customer_factory(org.rep)
        html = _text(manager_client.get(reverse("customers:detail", args=[customer.pk])))
        assert reverse("customers:reveal", args=[customer.pk, "id_number"]) in html

    def test_tabs_render_alone_for_htmx(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        record_services.contact_create(actor=Actor.system("tests"), customer_id=customer.pk,
                                       data={"name": "对接人甲", "title": "采购经理", "mobile": "13900001111"})
        url = reverse("customers:detail", args=[customer.pk])
        response = rep_client.get(url, {"tab": "contacts"}, **HTMX)
        html = _text(response)
        assert "<html" not in html and "对接人甲" in html and "139****1111" in html and "13900001111" not in html
        assert 'class="tab active" href="' in html and "?tab=contacts" in html
        full = _text(rep_client.get(url, {"tab": "contacts"}))
        assert "<html" in full and "对接人甲" in full

    @pytest.mark.parametrize("tab", ["interactions", "opportunities", "transactions", "history", "profile"])
    def test_every_tab_renders(self, rep_client, org, customer_factory, tab):
        customer = customer_factory(org.rep)
        response = rep_client.get(reverse("customers:detail", args=[customer.pk]), {"tab": tab}, **HTMX)
        assert response.status_code == 200

    def test_access_history_lists_views(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        url = reverse("customers:detail", args=[customer.pk])
        rep_client.get(url)
        html = _text(rep_client.get(url, {"tab": "history"}, **HTMX))
        assert 'class="timeline history"' in html and "rep01" in html


@pytest.mark.django_db
class CustomerCreateViewTests:
    def _post(self, client, data, **headers):
        base = {"kind": "individual", "name": "", "tier": "ordinary", "stage": "lead", "source": "company_lead"}
        return client.post(reverse("customers:create"), base | data, **headers)

    def test_field_errors_in_chinese(self, rep_client):
        before = Customer.objects.count()
        response = self._post(rep_client, {"name": "", "email": "not-an-email"}, **ZH)
        html = _text(response)
        assert response.status_code == 200
        required, email = _zh("This field is required."), _zh("Enter a valid email address.")
        assert required != "This field is required." and email != "Enter a valid email address."
        assert required in _field_errors(html, "name")
        assert email in _field_errors(html, "email")
        assert _field_errors(html, "mobile") == ""
        assert Customer.objects.count() == before

    def test_field_errors_in_english(self, rep_client):
        response = self._post(rep_client, {"name": "", "mobile": "12345"}, **EN)
        html = _text(response)
        assert "This field is required." in _field_errors(html, "name")
        assert "mobile number" in _field_errors(html, "mobile")
        assert 'value="12345"' in html  # the input is kept for correction

    def test_rep_creates_and_owns(self, rep_client, org):
        page = _text(rep_client.get(reverse("customers:create")))
        assert 'name="owner"' not in page
        response = self._post(rep_client, {"name": "新客户", "mobile": "13800000031", "tags": "华东，重点"})
        customer = Customer.objects.get(name="新客户")
        assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[customer.pk])
        assert customer.owner == org.rep
        assert sorted(customer.tags.values_list("name", flat=True)) == ["华东", "重点"]

    def test_manager_assigns_owner_within_team(self, manager_client, org):
        page = _text(manager_client.get(reverse("customers:create")))
        assert 'value="rep01"' in page and 'value="rep03"' not in page
        self._post(manager_client, {"name": "分配客户", "owner": "rep02"})
        assert Customer.objects.get(name="分配客户").owner == org.rep2
        response = self._post(manager_client, {"name": "越权客户", "owner": "rep03"})
        assert response.status_code == 200 and not Customer.objects.filter(name="越权客户").exists()

    def test_duplicate_warning_then_save_anyway(self, rep_client, org, customer_factory):
        customer_factory(org.rep2, mobile="13800000032")
        data = {"name": "重复的人", "mobile": "138-0000-0032"}
        html = _text(self._post(rep_client, data, **EN))
        assert "duplicate-warning" in html and 'name="allow_duplicates"' in html
        assert "Already belongs to another customer." in _field_errors(html, "mobile")
        assert not Customer.objects.filter(name="重复的人").exists()
        response = self._post(rep_client, data | {"allow_duplicates": "on"})
        assert response.status_code == 302
        assert Customer.objects.filter(name="重复的人").count() == 1

    @pytest.mark.parametrize("role", ["compliance", "auditor"])
    def test_roles_that_may_not_add(self, client, org, role):
        client.force_login(getattr(org, role))
        assert client.get(reverse("customers:create")).status_code == 403


@pytest.mark.django_db
class CustomerEditViewTests:
    def test_blank_protected_fields_are_kept(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep, name="钱九", mobile="13800000041", email="qian@example.com")
        url = reverse("customers:edit", args=[customer.pk])
        page = _text(rep_client.get(url, **EN))
        assert 'placeholder="138****0041"' in page and "Leave blank to keep" in page
        assert "13800000041" not in page and 'value="钱九"' in page
        response = rep_client.post(url, {"kind": "individual", "name": "钱九九", "tier": "important", "stage": "active",
                                         "source": "company_lead", "tags": "", "mobile": "",
                                         "email": "new.qian@example.com"})
        assert response.status_code == 302
        value = services.field_reveal(actor=Actor.system("tests"), customer_id=customer.pk, field="mobile",
                                      purpose="compliance_review")
        assert value == "+8613800000041"
        email = services.field_reveal(actor=Actor.system("tests"), customer_id=customer.pk, field="email",
                                      purpose="compliance_review")
        assert email == "new.qian@example.com"
        customer.refresh_from_db()
        assert customer.name == "钱九九" and customer.tier == "important"

    def test_edit_errors_are_field_level(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        response = rep_client.post(reverse("customers:edit", args=[customer.pk]), {
            "kind": "individual", "name": "x", "tier": "ordinary", "stage": "active", "source": "company_lead",
            "mobile": "99"}, **EN)
        assert response.status_code == 200 and "mobile number" in _field_errors(_text(response), "mobile")

    def test_out_of_scope_edit_is_not_found(self, rep_client, org, customer_factory):
        other = customer_factory(org.other_rep)
        assert rep_client.get(reverse("customers:edit", args=[other.pk])).status_code == 404
        assert rep_client.post(reverse("customers:edit", args=[other.pk]), {"name": "x"}).status_code == 404


@pytest.mark.django_db
class CustomerRevealViewTests:
    def test_get_shows_purpose_form(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        response = rep_client.get(reverse("customers:reveal", args=[customer.pk, "mobile"]), **HTMX)
        html = _text(response)
        assert response.status_code == 200 and "<html" not in html
        assert 'name="purpose"' in html and 'value="contact_customer"' in html and 'name="purpose_text"' in html
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()

    def test_post_without_purpose_is_an_inline_error(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep, mobile="13800000051")
        url = reverse("customers:reveal", args=[customer.pk, "mobile"])
        html = _text(rep_client.post(url, {"purpose": ""}, **HTMX, **EN))
        assert "Choose a purpose from the list." in _field_errors(html, "purpose")
        html = _text(rep_client.post(url, {"purpose": "other", "purpose_text": ""}, **HTMX, **EN))
        assert "at least 4 characters" in _field_errors(html, "purpose_text")
        assert "13800000051" not in html
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()

    def test_post_with_purpose_shows_value_once_and_is_in_access_history(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep, mobile="13800000052")
        url = reverse("customers:reveal", args=[customer.pk, "mobile"])
        html = _text(rep_client.post(url, {"purpose": "contact_customer", "purpose_text": "回访确认"}, **HTMX))
        assert html.count("+8613800000052") == 1 and "data-copy-target" in html and 'class="revealed-note"' in html
        event = AuditEvent.objects.get(action="customer.field.revealed", target_id=customer.pk)
        assert event.actor_id == org.rep.pk and event.fields == ["mobile"] and event.purpose == "contact_customer: 回访确认"
        detail = _text(rep_client.get(reverse("customers:detail", args=[customer.pk])))
        assert "+8613800000052" not in detail and "13800000052" not in detail
        history = _text(rep_client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "history"}, **EN))
        assert ">revealed Mobile<" in history and ">rep01<" in history
        assert "回访确认" in history and "Contact the customer" in history

    def test_rep_may_not_reveal_l4(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        url = reverse("customers:reveal", args=[customer.pk, "id_number"])
        assert rep_client.get(url).status_code == 403
        html = _text(rep_client.get(url, **HTMX, **EN))
        assert "Needs a higher permission" in html and 'name="purpose"' not in html
        response = rep_client.post(url, {"purpose": "contact_customer"}, **EN)
        assert response.status_code == 403
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()

    def test_out_of_scope_and_unknown_field_are_not_found(self, rep_client, org, customer_factory):
        mine, other = customer_factory(org.rep), customer_factory(org.other_rep)
        assert rep_client.get(reverse("customers:reveal", args=[other.pk, "mobile"])).status_code == 404
        assert rep_client.post(reverse("customers:reveal", args=[other.pk, "mobile"]),
                               {"purpose": "contact_customer"}).status_code == 404
        assert rep_client.get(reverse("customers:reveal", args=[mine.pk, "name"])).status_code == 404


@pytest.mark.django_db
class CustomerDeleteViewTests:
    def test_manager_deletes_after_confirmation(self, manager_client, org, customer_factory):
        customer = customer_factory(org.rep)
        url = reverse("customers:delete", args=[customer.pk])
        assert "data-confirm" in _text(manager_client.get(url))
        response = manager_client.post(url)
        assert response.status_code == 302 and response["Location"] == reverse("customers:list")
        customer.refresh_from_db()
        assert customer.deleted_at is not None
        assert manager_client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404

    def test_rep_may_not_delete(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        assert rep_client.post(reverse("customers:delete", args=[customer.pk])).status_code == 403
        customer.refresh_from_db()
        assert customer.deleted_at is None


@pytest.mark.django_db
class RecordCreateViewTests:
    def test_add_contact_from_the_tab(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        url = reverse("customers:record_create", args=[customer.pk, "contact"])
        form = _text(rep_client.get(url, **HTMX))
        assert 'name="name"' in form and "<html" not in form
        html = _text(rep_client.post(url, {"name": "新联系人", "title": "", "mobile": "13900002222", "email": ""}, **HTMX))
        assert "新联系人" in html and "139****2222" in html and "13900002222" not in html
        assert 'hx-swap-oob="beforeend"' in html  # the "saved" toast
        assert customer.contacts.count() == 1

    def test_errors_stay_in_the_form(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        url = reverse("customers:record_create", args=[customer.pk, "opportunity"])
        html = _text(rep_client.post(url, {"name": "", "stage": "proposal", "amount": "abc"}, **HTMX, **EN))
        assert _field_errors(html, "amount") and customer.opportunities.count() == 0
        html = _text(rep_client.post(url, {"name": "", "stage": "proposal", "amount": "12,800"}, **HTMX, **EN))
        assert _field_errors(html, "name")
        rep_client.post(url, {"name": "年度框架", "stage": "proposal", "amount": "12,800", "expected_close": ""}, **HTMX)
        assert customer.opportunities.get().amount == 12800

    def test_interaction_and_transaction(self, rep_client, org, customer_factory):
        customer = customer_factory(org.rep)
        rep_client.post(reverse("customers:record_create", args=[customer.pk, "interaction"]), {
            "kind": "call", "occurred_at": "2025-03-01T10:30", "subject": "首次电话", "notes": "客户手机 13812345678"})
        interaction = customer.interactions.get()
        assert interaction.staff == org.rep and interaction.notes_pii
        response = rep_client.post(reverse("customers:record_create", args=[customer.pk, "transaction"]), {
            "occurred_on": "2025-03-02", "amount": "¥1,000.50", "product": "年度服务", "reference": "PAY-001"})
        assert response.status_code == 302 and customer.transactions.get().amount == 1000.50

    def test_unknown_kind_and_out_of_scope(self, rep_client, org, customer_factory):
        mine, other = customer_factory(org.rep), customer_factory(org.other_rep)
        assert rep_client.get(reverse("customers:record_create", args=[mine.pk, "note"])).status_code == 404
        assert rep_client.post(reverse("customers:record_create", args=[other.pk, "contact"]),
                               {"name": "x"}).status_code == 404


@pytest.mark.django_db
class CatalogAndDashboardTests:
    @pytest.mark.parametrize("role", ["rep", "auditor", "hr"])
    def test_catalog_lists_every_entry(self, client, org, role):
        client.force_login(getattr(org, role))
        html = _text(client.get(reverse("protection:catalog"), **EN))
        for pf in catalog.all_fields():
            assert f"<code>{pf.key}</code>" in html
        assert "138****5678" in html  # the masking example on a sample value

    def test_dashboard_counts(self, rep_client, org, customer_factory):
        customer_factory(org.rep, tier="core")
        customer_factory(org.rep)
        customer_factory(org.other_rep)
        html = _text(rep_client.get(reverse("dashboard")))
        assert re.search(r'class="stat-value">2<', html) and re.search(r'class="stat-value">1<', html)

    def test_dashboard_says_what_its_count_includes(self, rep_client, org, customer_factory):
        from custodia.access import grant_services

        customer_factory(org.rep)
        html = _text(rep_client.get(reverse("dashboard"), **EN))
        assert "Your own customers<" in html and "assigned or granted" not in html
        theirs = customer_factory(org.other_rep)
        grant_services.customer_assign(actor=org.actor("compliance"), customer_id=theirs.pk, username="rep01")
        html = _text(rep_client.get(reverse("dashboard"), **EN))
        assert re.search(r'class="stat-value">2<', html)
        assert "Your own customers, and 1 assigned or granted to you" in html

    def test_dashboard_for_a_role_without_customers(self, client, org):
        client.force_login(org.auditor)
        response = client.get(reverse("dashboard"), **EN)
        assert response.status_code == 200 and "stat-value" not in _text(response)

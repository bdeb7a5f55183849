"""The audit log pages: search by customer, person, action and time without any personal data in
clear; integrity (verify now, sign now); evidence bundles that the bundled verifier accepts; one
event's inclusion proof; who may open them; and that each search and export is itself audited."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from custodia.audit import events, heads, merkle, tiles
from custodia.audit.models import AuditEvent, TreeHead
from custodia.audit.services import audit_record
from custodia.customers import selectors as customer_selectors
from custodia.kernel.actor import Actor
from custodia.testing.factories import valid_bank_card, valid_resident_id

pytestmark = pytest.mark.django_db

NAME = "欧阳慧娜"
MOBILE = "13987651234"
EMAIL = "ouyang.huina@example.cn"
PAGES = ("audit:search", "audit:integrity", "audit:bundle", "audit:public_key")


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def world(org, customer_factory):
    """Two customers (rep01's with a distinctive name and identifiers; rep03's), each viewed by
    its owner, and the log integrated and signed."""
    mine = customer_factory(org.rep, name=NAME, mobile=MOBILE, email=EMAIL, id_number=valid_resident_id(7331),
                            bank_account=valid_bank_card(7331))
    other = customer_factory(org.other_rep)
    customer_selectors.customer_get(org.actor("rep"), mine.pk)
    customer_selectors.customer_get(org.actor("other_rep"), other.pk)
    heads.sign_head()
    return mine, other


def rows(response):
    return [item["event"] for item in response.context["rows"]]


class TestSearch:
    def test_filters_by_customer_person_action_and_time(self, org, world):
        mine, other = world
        auditor = signed_in(org.auditor)
        url = reverse("audit:search")

        by_customer = rows(auditor.get(url, {"customer": str(mine.pk)}))
        assert by_customer and all(mine.pk in (e.subject_id, e.target_id) for e in by_customer)
        assert {"customer.created", "customer.viewed"} <= {e.action for e in by_customer}

        by_person = rows(auditor.get(url, {"person": "rep03"}))
        assert by_person and {e.actor_label for e in by_person} == {"rep03"}
        assert all(e.target_id == other.pk for e in by_person)

        by_action = rows(auditor.get(url, {"action": "customer.viewed"}))
        assert {e.action for e in by_action} == {"customer.viewed"} and len(by_action) == 2

        both = rows(auditor.get(url, {"customer": str(mine.pk), "person": "rep01", "action": "customer.viewed"}))
        assert [e.target_id for e in both] == [mine.pk]

        today = timezone.localdate()
        assert rows(auditor.get(url, {"since": today.isoformat(), "action": "customer.viewed"}))
        assert rows(auditor.get(url, {"until": (today - dt.timedelta(days=1)).isoformat()})) == []
        assert rows(auditor.get(url, {"since": (today + dt.timedelta(days=1)).isoformat()})) == []
        assert len(rows(auditor.get(url, {"since": today.isoformat(), "until": today.isoformat(),
                                          "person": "rep01", "action": "customer.viewed"}))) == 1

    def test_newest_first_with_sentence_leaf_index_and_pending(self, org, world):
        mine, _other = world
        with transaction.atomic():  # recorded after the last signed head: not integrated yet
            audit_record(actor=org.actor("rep"), event=events.AUDIT_SEARCHED, subject_id=mine.pk,
                         target_type="audit_log")
        response = signed_in(org.auditor).get(reverse("audit:search"), {"customer": str(mine.pk)})
        found = response.context["rows"]
        seqs = [item["event"].seq for item in found]
        assert seqs == sorted(seqs, reverse=True)
        assert found[0]["row"].leaf_index is None
        assert all(item["row"].leaf_index == tiles.leaf_index_of(item["event"].seq) for item in found[1:])
        html = text(response)
        assert "rep01 viewed the customer" in html and ">pending<" in html
        assert reverse("audit:proof", args=[found[1]["event"].id]) in html

    def test_no_personal_data_in_any_page(self, org, world):
        mine, _other = world
        auditor = signed_in(org.auditor)
        created = AuditEvent.objects.get(action="customer.created", target_id=mine.pk)
        pages = [
            auditor.get(reverse("audit:search")),
            auditor.get(reverse("audit:search"), {"customer": str(mine.pk)}),
            auditor.get(reverse("audit:search"), {"person": "rep01"}),
            auditor.get(reverse("audit:integrity")),
            auditor.get(reverse("audit:bundle"), {"customer": str(mine.pk)}),
            auditor.get(reverse("audit:proof", args=[created.id])),
            auditor.get(reverse("audit:proof", args=[created.id]), {"format": "json"}),
        ]
        secrets = (NAME, MOBILE, EMAIL, valid_resident_id(7331), valid_bank_card(7331), "欧阳")
        for response in pages:
            assert response.status_code == 200
            body = text(response)
            for secret in secrets:
                assert secret not in body, (response.request["PATH_INFO"], secret)
        assert str(mine.pk)[:8] in text(pages[1])

    def test_invalid_filters_get_field_errors_and_search_nothing(self, org, world):
        auditor = signed_in(org.auditor)
        before = AuditEvent.objects.filter(action="audit.searched").count()
        html = text(auditor.get(reverse("audit:search"), {"customer": "欧阳慧娜", "since": "2026-05-02",
                                                          "until": "2026-05-01"}))
        assert re.search(r'id="id_customer_error">.*customer id', html, re.S)
        assert re.search(r'id="id_until_error">.*on or after', html, re.S)
        assert AuditEvent.objects.filter(action="audit.searched").count() == before

    def test_pagination_keeps_the_filters(self, org, world):
        with transaction.atomic():
            for _ in range(55):
                audit_record(actor=Actor.system("pager"), event=events.AUDIT_HEAD_SIGNED, target_type="audit_log")
        auditor = signed_in(org.auditor)
        first = auditor.get(reverse("audit:search"), {"person": "system:pager"})
        assert len(first.context["rows"]) == 50 and first.context["page_obj"].paginator.count == 55
        assert "?person=system%3Apager&page=2" in text(first)
        second = auditor.get(reverse("audit:search"), {"person": "system:pager", "page": 2})
        assert len(second.context["rows"]) == 5

    def test_query_count_does_not_grow_with_the_rows(self, org, world):
        auditor = signed_in(org.auditor)
        auditor.get(reverse("audit:search"))  # warm the session and the role cache

        def queries(**params):
            with CaptureQueriesContext(connection) as captured:
                assert auditor.get(reverse("audit:search"), params).status_code == 200
            return len(captured)

        few = queries(person="rep03")
        with transaction.atomic():
            for _ in range(60):
                audit_record(actor=Actor.system("pager"), event=events.AUDIT_HEAD_SIGNED, target_type="audit_log")
        heads.sign_head()
        assert queries() <= few + 2  # a full page of 50: at most a tile lookup or two more

    def test_each_search_is_audited_with_its_filters(self, org, world):
        mine, _other = world
        signed_in(org.compliance).get(reverse("audit:search"), {"customer": str(mine.pk), "action": "customer.viewed",
                                                                "since": "2026-01-01"})
        event = AuditEvent.objects.filter(action="audit.searched").latest("seq")
        assert event.actor_label == "compliance01" and event.subject_id is None  # not in the customer's history
        assert event.detail["filters"] == {"customer": str(mine.pk), "person": None, "action": "customer.viewed",
                                           "since": "2026-01-01", "until": None}
        assert event.detail["matches"] == 1 and event.detail["page"] == 1


class TestPermissions:
    @pytest.mark.parametrize("who", ["rep", "manager", "legal", "hr"])
    def test_other_roles_get_403(self, org, world, who):
        client = signed_in(getattr(org, who))
        event = AuditEvent.objects.first()
        for name in PAGES:
            assert client.get(reverse(name)).status_code == 403, name
        assert client.get(reverse("audit:proof", args=[event.id])).status_code == 403
        assert client.post(reverse("audit:integrity"), {"op": "sign"}).status_code == 403
        assert client.post(reverse("audit:bundle"), {"customer": str(world[0].pk)}).status_code == 403
        assert not AuditEvent.objects.filter(action__in=["audit.searched", "audit.head_signed",
                                                         "audit.bundle_exported"]).exists()

    def test_anonymous_is_sent_to_sign_in(self, world):
        client = Client()
        for name in PAGES:
            response = client.get(reverse(name))
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    @pytest.mark.parametrize("who", ["auditor", "compliance", "secadmin", "admin"])
    def test_read_audit_roles_get_every_page_and_the_menu(self, org, world, who):
        client = signed_in(getattr(org, who))
        for name in PAGES:
            assert client.get(reverse(name)).status_code == 200, name
        assert f'href="{reverse("audit:search")}"' in text(client.get(reverse("dashboard")))

    def test_menu_hidden_without_read_audit(self, org, world):
        assert f'href="{reverse("audit:search")}"' not in text(signed_in(org.rep).get(reverse("dashboard")))


class TestIntegrity:
    def test_page_shows_size_pending_head_and_key(self, org, world):
        html = text(signed_in(org.auditor).get(reverse("audit:integrity")))
        head = heads.latest_head()
        assert heads.head_json(head)["root_hash"] in html and heads.head_json(head)["signature"] in html
        assert head.key_id in html and "BEGIN PUBLIC KEY" in html
        key = signed_in(org.auditor).get(reverse("audit:public_key"))
        assert key.content == heads.public_key_pem() and "attachment" in key["Content-Disposition"]

    def test_verify_now_intact_then_tampered(self, org, world):
        auditor = signed_in(org.auditor)
        html = text(auditor.post(reverse("audit:integrity"), {"op": "verify"}))
        assert "Intact" in html and "does NOT verify" not in html
        ok = AuditEvent.objects.filter(action="audit.verified").latest("seq")
        assert ok.outcome == "success" and ok.actor_label == "auditor01" and ok.detail["problems"] == 0

        mine, _other = world
        victim = AuditEvent.objects.get(action="customer.viewed", target_id=mine.pk)
        index = tiles.leaf_index_of(victim.seq)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('test: tamper')")
            cursor.execute("UPDATE audit_auditevent SET purpose = %s WHERE seq = %s", ["无", victim.seq])
            cursor.execute("DELETE FROM audit_maintenance")
        html = text(auditor.post(reverse("audit:integrity"), {"op": "verify"}))
        assert "does NOT verify" in html and f"First bad leaf: index {index}." in html
        assert f"leaf {index}: event {victim.id} does not match its leaf hash" in html
        bad = AuditEvent.objects.filter(action="audit.verified").latest("seq")
        assert bad.outcome == "failure" and bad.detail["first_bad_leaf"] == index

    def test_sign_now_creates_a_head_covering_its_own_record(self, org, world):
        before = TreeHead.objects.count()
        response = signed_in(org.secadmin).post(reverse("audit:integrity"), {"op": "sign"})
        assert response.status_code == 302 and response["Location"] == reverse("audit:integrity")
        assert TreeHead.objects.count() == before + 1
        record = AuditEvent.objects.get(action="audit.head_signed")
        assert record.actor_label == "secadmin01"
        assert tiles.leaf_index_of(record.seq) < heads.latest_head().size


class TestProof:
    def test_page_and_json_prove_inclusion_in_the_signed_head(self, org, world):
        mine, _other = world
        event = AuditEvent.objects.get(action="customer.viewed", target_id=mine.pk)
        auditor = signed_in(org.auditor)
        html = text(auditor.get(reverse("audit:proof", args=[event.id])))
        index = tiles.leaf_index_of(event.seq)
        assert f"<strong>{index}</strong>" in html and "The event hashes to its leaf" in html
        data = json.loads(auditor.get(reverse("audit:proof", args=[event.id]), {"format": "json"}).content)
        head = heads.latest_head()
        assert data["leaf_index"] == index and data["tree_size"] == head.size
        leaf_hash = merkle.leaf_hash(data["leaf_input"].encode())
        merkle.verify_inclusion(leaf_hash, index, head.size, [base64.b64decode(h) for h in data["hashes"]],
                                bytes(head.root_hash))
        assert json.loads(data["leaf_input"])["id"] == str(event.id)

    def test_pending_event_is_shown_as_pending_without_signing(self, org, world):
        with transaction.atomic():
            event = audit_record(actor=org.actor("rep"), event=events.AUDIT_SEARCHED, target_type="audit_log")
        before = TreeHead.objects.count()
        html = text(signed_in(org.auditor).get(reverse("audit:proof", args=[event.id])))
        assert "not yet integrated" in html and TreeHead.objects.count() == before

    def test_unknown_event_is_404(self, org, world):
        assert signed_in(org.auditor).get(reverse("audit:proof", args=[uuid.uuid4()])).status_code == 404


class TestCustomerHistoryTab:
    def test_compliance_gets_the_audit_links_and_a_rep_does_not(self, org, world):
        mine, _other = world
        url = reverse("customers:detail", args=[mine.pk])
        html = text(signed_in(org.compliance).get(url, {"tab": "history"}, HTTP_HX_REQUEST="true"))
        assert f'{reverse("audit:search")}?customer={mine.pk}' in html
        assert f'action="{reverse("audit:bundle")}"' in html and f'value="{mine.pk}"' in html
        html = text(signed_in(org.rep).get(url, {"tab": "history"}, HTTP_HX_REQUEST="true"))
        assert reverse("audit:bundle") not in html


class TestBundle:
    def test_form_needs_a_scope_and_dates_in_order(self, org, world):
        auditor = signed_in(org.auditor)
        response = auditor.post(reverse("audit:bundle"), {})
        assert response.status_code == 400 and "Say what the bundle covers" in text(response)
        response = auditor.post(reverse("audit:bundle"), {"since": "2026-05-02", "until": "2026-05-01"})
        assert re.search(r'id="id_until_error">.*on or after', text(response), re.S)
        response = auditor.post(reverse("audit:bundle"), {"person": "nobody"})
        assert re.search(r'id="id_person_error">.*No member of staff', text(response), re.S)
        assert not AuditEvent.objects.filter(action="audit.bundle_exported").exists()

    def test_customer_bundle_verifies_and_holds_exactly_the_customers_events(self, org, world, tmp_path):
        mine, _other = world
        auditor = signed_in(org.auditor)
        auditor.get(reverse("audit:search"), {"customer": str(mine.pk)})
        expected = {str(i) for i in AuditEvent.objects.filter(Q(subject_id=mine.pk) | Q(target_id=mine.pk))
                    .values_list("id", flat=True)}
        response = auditor.post(reverse("audit:bundle"), {"customer": str(mine.pk)})
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        today = timezone.localdate().strftime("%Y%m%d")
        assert f'filename="custodia-evidence-customer-{str(mine.pk)[:8]}-{today}.zip"' in response["Content-Disposition"]
        data = b"".join(response.streaming_content)
        bundle = tmp_path / "bundle.zip"
        bundle.write_bytes(data)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            lines = zf.read("events.jsonl").decode().splitlines()
            (tmp_path / "verify.py").write_bytes(zf.read("verify.py"))
        assert {json.loads(line)["id"] for line in lines} == expected
        assert NAME not in data.decode("utf-8", "replace") and MOBILE not in data.decode("utf-8", "replace")
        run = subprocess.run([sys.executable, str(tmp_path / "verify.py"), str(bundle)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr

        exported = AuditEvent.objects.get(action="audit.bundle_exported")
        assert exported.actor_label == "auditor01" and exported.subject_id == mine.pk
        assert exported.detail["events"] == len(expected) and exported.detail["scope"]["customer"] == str(mine.pk)

    def test_person_and_range_bundle(self, org, world, tmp_path):
        today = timezone.localdate()
        response = signed_in(org.compliance).post(reverse("audit:bundle"), {
            "person": "rep03", "since": today.isoformat(), "until": today.isoformat()})
        assert response.status_code == 200
        assert f"custodia-evidence-person-rep03-{today:%Y%m%d}-{today:%Y%m%d}-" in response["Content-Disposition"]
        with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
            actors = {json.loads(line)["actor"]["label"] for line in zf.read("events.jsonl").decode().splitlines()}
        assert actors == {"rep03"}

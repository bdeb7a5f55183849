import pytest
from django.core.exceptions import ValidationError

from custodia.audit.models import AuditEvent
from custodia.audit.services import decrypt_change
from custodia.customers import services
from custodia.customers.models import Customer
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection.crypto import KeyBag


@pytest.mark.django_db
class CustomerCreateTests:
    def test_create_encrypts_and_audits(self, org):
        actor = org.actor("rep")
        customer = services.customer_create(actor=actor, data={
            "kind": "individual", "name": "王五", "mobile": "13812345678", "email": "Wang@Example.com"})
        row = Customer.objects.get(pk=customer.pk)
        assert b"13812345678" not in bytes(row.mobile_enc)
        assert row.mobile_bidx and row.email_bidx
        event = AuditEvent.objects.get(action="customer.created", target_id=customer.pk)
        assert event.actor_id == org.rep.pk and event.actor_role == "rep"
        change = decrypt_change(event, KeyBag.load([customer.pk]))
        assert change["after"]["mobile"] == "+8613812345678"
        assert change["after"]["email"] == "wang@example.com"

    def test_bad_input_reports_every_field_and_writes_nothing(self, org):
        before = (Customer.objects.count(), AuditEvent.objects.count())
        with pytest.raises(ValidationError) as err:
            services.customer_create(actor=org.actor("rep"), data={
                "kind": "individual", "name": "", "mobile": "12345", "id_number": "110105194912310021"})
        assert set(err.value.message_dict) == {"name", "mobile", "id_number"}
        assert (Customer.objects.count(), AuditEvent.objects.count()) == before

    def test_duplicate_mobile_is_flagged(self, org, customer_factory):
        customer_factory(org.rep, mobile="13800000001")
        with pytest.raises(ValidationError) as err:
            services.customer_create(actor=org.actor("rep"), data={
                "kind": "individual", "name": "重复", "mobile": "138 0000 0001"})
        assert err.value.error_dict["mobile"][0].code == "duplicate"

    def test_rep_cannot_create_for_another_owner(self, org):
        with pytest.raises(ValidationError) as err:
            services.customer_create(actor=org.actor("rep"), data={
                "kind": "individual", "name": "越权", "owner": org.other_rep})
        assert "owner" in err.value.message_dict
        assert not Customer.objects.filter(name="越权").exists()

    def test_compliance_may_not_create(self, org):
        with pytest.raises(PermissionDenied):
            services.customer_create(actor=org.actor("compliance"), data={"kind": "individual", "name": "x"})


@pytest.mark.django_db
class FieldRevealTests:
    def test_reveal_needs_purpose_and_is_audited(self, org, customer_factory):
        customer = customer_factory(org.rep, mobile="13800000002")
        with pytest.raises(ValidationError):
            services.field_reveal(actor=org.actor("rep"), customer_id=customer.pk, field="mobile", purpose="")
        value = services.field_reveal(actor=org.actor("rep"), customer_id=customer.pk, field="mobile",
                                      purpose="contact_customer")
        assert value == "+8613800000002"
        event = AuditEvent.objects.get(action="customer.field.revealed")
        assert event.fields == ["mobile"] and event.purpose == "contact_customer"

    def test_rep_may_not_reveal_sensitive_level(self, org, customer_factory):
        customer = customer_factory(org.rep)
        with pytest.raises(PermissionDenied):
            services.field_reveal(actor=org.actor("rep"), customer_id=customer.pk, field="id_number",
                                  purpose="contact_customer")
        assert not AuditEvent.objects.filter(action="customer.field.revealed").exists()

    def test_out_of_scope_is_not_found(self, org, customer_factory):
        customer = customer_factory(org.other_rep)
        with pytest.raises(NotFound):
            services.field_reveal(actor=org.actor("rep"), customer_id=customer.pk, field="mobile",
                                  purpose="contact_customer")


@pytest.mark.django_db
class RecordCreateTests:
    def test_every_bad_field_is_reported_at_once_and_nothing_is_written(self, org, customer_factory):
        from custodia.customers import record_services
        from custodia.customers.models import Opportunity

        customer = customer_factory(org.rep)
        events_before = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as err:
            record_services.opportunity_create(actor=org.actor("rep"), customer_id=customer.pk, data={
                "name": "", "stage": "nonsense", "amount": "十万", "expected_close": None})
        assert {"name", "stage", "amount"} <= set(err.value.message_dict)
        assert "12800.00" in err.value.message_dict["amount"][0]  # the amount message, in either language
        assert not Opportunity.objects.exists() and AuditEvent.objects.count() == events_before

    def test_amount_is_kept_as_decimal_cny(self, org, customer_factory):
        from decimal import Decimal

        from custodia.customers import record_services

        customer = customer_factory(org.rep)
        record = record_services.transaction_create(actor=org.actor("rep"), customer_id=customer.pk, data={
            "occurred_on": "2026-03-01", "amount": "¥12,800.5", "product": "企业版年度订阅"})
        assert record.amount == Decimal("12800.50")

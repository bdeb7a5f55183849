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

import pytest

from custodia.audit.models import AuditEvent
from custodia.customers.models import Customer
from custodia.protection import catalog
from custodia.protection.crypto import KeyBag, KeyShredded
from custodia.protection.fields import unseal


@pytest.mark.django_db
class ShredCustomerTests:
    def test_shreds_one_customer_and_audits(self, org, customer_factory, cli):
        victim = customer_factory(org.rep, mobile="13800005001")
        other = customer_factory(org.rep, mobile="13800005002")
        code, out = cli("shred", "customer", str(victim.pk), "--reason", "erasure_request", "--yes")
        assert code == 0, out
        with pytest.raises(KeyShredded):
            unseal(Customer.objects.get(pk=victim.pk), catalog.get("customer.mobile"), KeyBag.load([victim.pk]))
        assert unseal(Customer.objects.get(pk=other.pk), catalog.get("customer.mobile"),
                      KeyBag.load([other.pk])) == "+8613800005002"
        event = AuditEvent.objects.get(action="customer.shredded")
        assert event.target_id == victim.pk and event.actor_label == "system:cli"

    def test_unknown_or_malformed_id_is_a_clear_error(self, org, cli):
        assert cli("shred", "customer", "not-a-uuid", "--reason", "x", "--yes")[0] == 1
        code, out = cli("shred", "customer", "6f1c6f2e-3a59-4c0e-9d1e-0c7a1d2b9e10", "--reason", "x", "--yes")
        assert code == 1 and "No customer" in out
        assert not AuditEvent.objects.filter(action="customer.shredded").exists()

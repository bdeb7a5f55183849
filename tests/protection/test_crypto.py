"""Envelope encryption: ciphertext bound to its place, KEK rotation, crypto-shred."""

import pytest

from custodia.customers import services
from custodia.customers.models import Contact, Customer, Interaction
from custodia.kernel.actor import Actor
from custodia.protection import catalog
from custodia.protection.crypto import DecryptionError, KeyBag, KeyShredded, rewrap_batch
from custodia.protection.fields import unseal
from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey

pytestmark = pytest.mark.django_db
MOBILE = catalog.get("customer.mobile")
EMAIL = catalog.get("customer.email")


def test_ciphertext_copied_to_another_row_does_not_decrypt(org, customer_factory):
    a = customer_factory(org.rep, mobile="13800001001")
    b = customer_factory(org.rep, mobile="13800001002")
    Customer.objects.filter(pk=b.pk).update(mobile_enc=Customer.objects.get(pk=a.pk).mobile_enc)
    b = Customer.objects.get(pk=b.pk)
    with pytest.raises(DecryptionError):
        unseal(b, MOBILE, KeyBag.load([a.pk, b.pk]))


def test_ciphertext_copied_to_another_column_does_not_decrypt(org, customer_factory):
    a = Customer.objects.get(pk=customer_factory(org.rep).pk)
    Customer.objects.filter(pk=a.pk).update(email_enc=a.mobile_enc)
    a = Customer.objects.get(pk=a.pk)
    with pytest.raises(DecryptionError):
        unseal(a, EMAIL, KeyBag.load([a.pk]))
    assert unseal(a, MOBILE, KeyBag.load([a.pk])).startswith("+86")


def test_flipped_byte_does_not_decrypt(org, customer_factory):
    a = Customer.objects.get(pk=customer_factory(org.rep).pk)
    blob = bytearray(a.mobile_enc)
    blob[-1] ^= 1
    a.mobile_enc = bytes(blob)
    with pytest.raises(DecryptionError):
        unseal(a, MOBILE, KeyBag.load([a.pk]))


def test_ciphertext_names_its_key_and_version(org, customer_factory):
    a = Customer.objects.get(pk=customer_factory(org.rep).pk)
    blob = bytes(a.mobile_enc)
    key = DataKey.objects.get(subject_id=a.pk)
    assert blob[0] == 1 and blob[1:17] == key.id.bytes


def test_kek_rotation_rewraps_keys_and_everything_still_decrypts(org, customer_factory):
    customers = [customer_factory(org.rep) for _ in range(5)]
    before = {c.pk: bytes(Customer.objects.get(pk=c.pk).mobile_enc) for c in customers}
    old_kid, _ = get_keyring().active_kek()
    new_kid = get_keyring().add_kek()
    while rewrap_batch(2):
        pass
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new_kid} != {old_kid}
    for c in customers:
        row = Customer.objects.get(pk=c.pk)
        assert bytes(row.mobile_enc) == before[c.pk]  # data was not rewritten
        keys = KeyBag.load([c.pk])
        for pf in catalog.for_model("customer"):
            if getattr(row, pf.column) is not None:
                assert unseal(row, pf, keys)


def test_crypto_shred_makes_every_record_of_the_customer_unreadable(org):
    actor = Actor.system("tests")
    customer = services.customer_create(actor=actor, data={
        "kind": "individual", "name": "待删除", "mobile": "13800002001", "notes": "喜欢月底下单", "owner": org.rep})
    from custodia.customers import record_services
    record_services.contact_create(actor=actor, customer_id=customer.pk, data={"name": "联系人", "mobile": "13800002002"})
    record_services.interaction_create(actor=actor, customer_id=customer.pk, data={
        "kind": "call", "occurred_at": "2026-01-05T10:00:00+08:00", "subject": "回访", "notes": "客户有扩产计划"})
    services.customer_shred(actor=actor, customer_id=customer.pk, reason="erasure_request")
    keys = KeyBag.load([customer.pk])
    row = Customer.objects.get(pk=customer.pk)
    with pytest.raises(KeyShredded):
        unseal(row, MOBILE, keys)
    with pytest.raises(KeyShredded):
        unseal(Contact.objects.get(customer=customer), catalog.get("contact.mobile"), keys)
    with pytest.raises(KeyShredded):
        unseal(Interaction.objects.get(customer=customer), catalog.get("interaction.notes"), keys)
    assert row.mobile_bidx is None and row.deleted_at is not None
    # The audit change record of its creation is encrypted under the same key: gone too.
    from custodia.audit.models import AuditEvent
    from custodia.audit.services import decrypt_change
    created = AuditEvent.objects.get(action="customer.created", target_id=customer.pk)
    with pytest.raises(KeyShredded):
        decrypt_change(created, keys)

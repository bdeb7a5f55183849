import pytest

from custodia.audit.models import AuditEvent
from custodia.customers.models import Customer
from custodia.protection import catalog
from custodia.protection.crypto import KeyBag, rewrap_batch
from custodia.protection.fields import unseal
from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey

from .conftest import person, write_csv


@pytest.fixture
def own_keyring(settings, tmp_path):
    """A keyring of this test's own: rotations must not leak into other tests."""
    settings.CUSTODIA_KEYRING_PATH = str(tmp_path / "keyring.json")
    return get_keyring()


def every_field_decrypts() -> int:
    customers = list(Customer.objects.all())
    keys = KeyBag.load([c.id for c in customers])
    values = 0
    for customer in customers:
        for pf in catalog.for_model("customer"):
            if getattr(customer, pf.column) is not None:
                assert unseal(customer, pf, keys)
                values += 1
    return values


@pytest.mark.django_db
class KeysStatusTests:
    def test_status_lists_keks_and_counts(self, org, cli, own_keyring, customer_factory):
        customer_factory(org.rep)
        customer_factory(org.rep)
        kid, _key = own_keyring.active_kek()
        code, out = cli("keys", "status")
        assert code == 0, out
        assert kid in out and "active" in out and "Live data keys: 2" in out
        assert "shredded (crypto-erased) data keys: 0" in out and "Blind-index master key: present" in out
        assert str(own_keyring.path) in out
        event = AuditEvent.objects.get(action="keys.status.viewed")
        assert event.actor_label == "system:cli" and event.detail["active_kek"] == kid


@pytest.mark.django_db
class KeysRotateTests:
    def test_rotate_rewraps_every_data_key_and_keeps_data_readable(self, org, cli, own_keyring, customer_factory):
        for _ in range(5):
            customer_factory(org.rep)
        old, _key = own_keyring.active_kek()
        before = {k.id: bytes(k.wrapped) for k in DataKey.objects.all()}
        fields = every_field_decrypts()
        code, out = cli("keys", "rotate", "--batch-size", "2")
        assert code == 0, out
        new, _key = own_keyring.active_kek()
        assert new != old and f"Rotated to KEK {new}" in out and "5 data keys re-wrapped" in out
        assert "Retired KEKs stay in the keyring file" in out and old in out
        assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new}
        assert all(bytes(k.wrapped) != before[k.id] for k in DataKey.objects.all())
        assert every_field_decrypts() == fields
        assert {k.kid: k.state for k in own_keyring.keks()} == {old: "retired", new: "active"}
        event = AuditEvent.objects.get(action="keys.kek.rotated")
        assert event.detail == {"old_kek": [old], "new_kek": new, "rewrapped": 5, "resumed": False}

    def test_interrupted_rotation_resumes_without_a_new_kek(self, org, cli, own_keyring, customer_factory):
        for _ in range(4):
            customer_factory(org.rep)
        old, _key = own_keyring.active_kek()
        new = own_keyring.add_kek()
        assert rewrap_batch(1) == 1  # the rotation was killed after one committed batch
        code, out = cli("keys", "status")
        assert "3 data keys are still under a retired KEK" in out
        code, out = cli("keys", "rotate")
        assert code == 0, out
        assert f"Resumed the rotation to KEK {new}" in out and "3 data keys re-wrapped" in out
        assert own_keyring.active_kek()[0] == new and len(own_keyring.keks()) == 2
        assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new}
        every_field_decrypts()
        event = AuditEvent.objects.get(action="keys.kek.rotated")
        assert event.detail["resumed"] is True and event.detail["old_kek"] == [old]

    def test_shredded_keys_are_left_alone(self, org, cli, own_keyring, customer_factory):
        from custodia.customers.services import customer_shred
        from custodia.kernel.actor import Actor

        gone = customer_factory(org.rep)
        customer_factory(org.rep)
        customer_shred(actor=Actor.system("tests"), customer_id=gone.id, reason="erasure request")
        old, _key = own_keyring.active_kek()
        code, out = cli("keys", "rotate")
        assert code == 0 and "1 data keys re-wrapped" in out
        assert DataKey.objects.get(subject_id=gone.id).kek_id == old


class KeysUsageTests:
    def test_keys_needs_an_action(self, cli):
        assert cli("keys")[0] == 2
        assert cli("keys", "spin")[0] == 2


@pytest.mark.django_db
class MissingKeyringTests:
    def test_commands_refuse_to_create_a_new_keyring_over_existing_data(self, org, cli, settings, tmp_path,
                                                                       customer_factory):
        customer_factory(org.rep)
        missing = tmp_path / "gone" / "keyring.json"
        settings.CUSTODIA_KEYRING_PATH = str(missing)
        path = write_csv(tmp_path / "one.csv", [person(90)])
        for args in (("keys", "status"), ("keys", "rotate"), ("import", "customers", path)):
            code, out = cli(*args)
            assert code == 1 and "is missing but data keys exist" in out, args
        assert not missing.exists() and Customer.objects.count() == 1

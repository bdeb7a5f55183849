"""Property tests of the envelope format and blind indexes."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodia.protection.blind_index import blind_index
from custodia.protection.crypto import DecryptionError, KeyBag, new_data_keys

pytestmark = pytest.mark.django_db
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=20)


@pytest.fixture
def bag():
    return new_data_keys([uuid.uuid4(), uuid.uuid4()])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=1, max_size=300), table=names, column=names)
def test_round_trip_and_binding(bag, value, table, column):
    subject = next(iter(bag._by_subject))
    row = uuid.uuid4()
    blob = bag.encrypt(subject, table, column, row, value)
    assert bag.decrypt(table, column, row, blob) == value
    assert value.encode() not in blob or len(value.encode()) < 4
    for other in ((table + "x", column, row), (table, column + "x", row), (table, column, uuid.uuid4())):
        with pytest.raises(DecryptionError):
            bag.decrypt(*other, blob)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=1, max_size=50))
def test_blind_index_is_deterministic_and_field_specific(bag, value):
    a = blind_index("customer.mobile", value)
    assert a == blind_index("customer.mobile", value)
    assert a != blind_index("contact.mobile", value)
    assert len(a) == 32 and (len(value) < 8 or value not in a)


def test_fresh_bag_reads_keys_from_the_database(bag):
    subject = next(iter(bag._by_subject))
    row = uuid.uuid4()
    blob = bag.encrypt(subject, "t", "c", row, "值")
    assert KeyBag().decrypt("t", "c", row, blob) == "值"

"""Audit events are append-only in the database, and an audit failure fails the operation."""

import pytest
from django.db import DatabaseError, connection, transaction

from custodia.audit.models import AuditEvent
from custodia.audit.services import AuditOutsideTransaction, audit_record
from custodia.customers import events, services
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor

pytestmark = pytest.mark.django_db


def test_update_and_delete_of_audit_rows_are_refused(org, customer_factory):
    customer_factory(org.rep)
    event = AuditEvent.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.get(pk=event.pk).actor_label == event.actor_label


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused(org):
    with pytest.raises(AuditOutsideTransaction):
        audit_record(actor=Actor.system("tests"), event=events.CUSTOMER_CREATED)


def test_unregistered_event_is_refused(org):
    from custodia.audit.registry import EventType, UnknownEvent

    rogue = EventType(9999, "ROGUE", "rogue.event", "x")
    with pytest.raises(UnknownEvent), transaction.atomic():
        audit_record(actor=Actor.system("tests"), event=rogue)


def test_failing_audit_write_fails_the_operation(org, monkeypatch):
    from custodia.audit import services as audit_services

    def broken_insert(values):
        raise DatabaseError("audit store unavailable")

    monkeypatch.setattr(audit_services, "_insert", broken_insert)
    with pytest.raises(DatabaseError):
        services.customer_create(actor=org.actor("rep"), data={"kind": "individual", "name": "不应保存"})
    assert not Customer.objects.filter(name="不应保存").exists()


def test_failing_audit_write_fails_the_read(org, customer_factory, monkeypatch):
    from custodia.audit import services as audit_services
    from custodia.customers import selectors

    customer = customer_factory(org.rep)

    def broken_insert(values):
        raise DatabaseError("audit store unavailable")

    monkeypatch.setattr(audit_services, "_insert", broken_insert)
    with pytest.raises(DatabaseError):
        selectors.customer_get(org.actor("rep"), customer.pk)
    with pytest.raises(DatabaseError):
        selectors.customer_list(org.actor("rep"))

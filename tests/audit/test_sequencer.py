"""The sequencer integrates committed events in order: an event whose transaction commits late is
never skipped (PostgreSQL hands out sequence numbers before commit; SQLite serialises writers).
Real concurrent connections, committed data."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from custodia.audit import sequencer, tiles, verify
from custodia.audit.models import AuditEvent
from custodia.audit.services import audit_record
from custodia.customers import events as customer_events
from custodia.kernel.actor import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def _event(label: str):
    return audit_record(actor=Actor.system(label), event=customer_events.CUSTOMER_LIST_VIEWED)


def test_an_event_committed_late_is_integrated_not_skipped(monkeypatch):
    monkeypatch.setattr(sequencer, "LOCK_TIMEOUT", "20s")
    opened, release, errors = threading.Event(), threading.Event(), []

    def slow_writer():
        try:
            with transaction.atomic():
                _event("slow")  # takes its sequence number now, commits later
                opened.set()
                release.wait(10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert opened.wait(10)
    done = []

    def run_sequencer():
        try:
            done.append(sequencer.integrate())
        finally:
            connections.close_all()

    seq_thread = threading.Thread(target=run_sequencer)
    if connection.vendor == "postgresql":
        # A second event commits first, with a higher sequence number than the slow one.
        with transaction.atomic():
            _event("fast")
    seq_thread.start()
    time.sleep(0.5)
    assert seq_thread.is_alive(), "the sequencer must wait for the transaction still writing events"
    release.set()
    writer.join(10)
    seq_thread.join(30)
    assert not errors
    state = sequencer.log_state()
    events = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    if connection.vendor != "postgresql":
        with transaction.atomic():
            _event("fast")
        sequencer.integrate()
        events = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
        state = sequencer.log_state()
    assert state.size == len(events) == 2
    assert [tiles.leaf_index_of(s) for s in events] == [0, 1]  # in seq order, none skipped
    assert verify.verify_log().ok


@pytest.mark.postgres_only
def test_a_long_writer_makes_the_sequencer_give_up_cleanly(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers, there is no lock to time out")
    monkeypatch.setattr(sequencer, "LOCK_TIMEOUT", "300ms")
    opened, release = threading.Event(), threading.Event()

    def long_writer():
        try:
            with transaction.atomic():
                _event("import")
                opened.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=long_writer)
    writer.start()
    assert opened.wait(10)
    try:
        with pytest.raises(sequencer.LogBusy):
            sequencer.integrate_batch()
        # Others can still write while the sequencer is not waiting any more.
        with transaction.atomic():
            _event("request")
    finally:
        release.set()
        writer.join(10)
    assert sequencer.integrate() == 2

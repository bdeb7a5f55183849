"""The sequencer: integrates committed audit events into the Merkle log, in ``seq`` order, in batches.

Events carry their leaf hash from the transaction that wrote them, so integrating reads two
columns per event and writes only the right-edge tiles. One sequencer runs at a time (the state
row is locked). On PostgreSQL, sequence numbers can commit out of order, so the sequencer first
takes a SHARE lock on the event table: it waits for the transactions writing events to finish
(and briefly holds new ones back), after which no event with a lower ``seq`` can still appear.
On SQLite, write transactions are serialised (BEGIN IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

import time

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from custodia.audit import merkle, tiles
from custodia.audit.models import LogState

BATCH = 200_000
LOCK_TIMEOUT = "3s"  # how long the sequencer waits for transactions still writing events (PostgreSQL)


class LogBusy(RuntimeError):
    """A long transaction is still writing events; the sequencer tries again later."""


class LogDamaged(RuntimeError):
    pass


def state_for_update() -> LogState:
    state = LogState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        LogState.objects.get_or_create(pk=1, defaults={"root_hash": merkle.EMPTY_ROOT, "updated_at": timezone.now()})
        state = LogState.objects.select_for_update().get(pk=1)
    return state


def _hold_back_writers() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            with transaction.atomic():
                cursor.execute("LOCK TABLE audit_auditevent IN SHARE MODE")
        except OperationalError as exc:
            raise LogBusy("events are still being written by a long transaction; try again shortly") from exc


def integrate_batch(limit: int = BATCH) -> int:
    """Integrate up to ``limit`` pending events in one transaction; returns how many."""
    with transaction.atomic():
        state = state_for_update()
        _hold_back_writers()
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq, leaf_hash FROM audit_auditevent WHERE seq > %s ORDER BY seq LIMIT %s",
                           [state.last_seq, limit])
            rows = cursor.fetchall()
        if not rows:
            return 0
        seqs = [row[0] for row in rows]
        hashes = [row[1] for row in rows]
        if any(h is None or len(h) != merkle.HASH_SIZE for h in hashes):
            bad = next(s for s, h in zip(seqs, hashes, strict=True) if h is None or len(h) != merkle.HASH_SIZE)
            raise LogDamaged(f"event seq {bad} has no valid leaf hash")
        hashes = [bytes(h) for h in hashes]
        store = tiles.Tiles()
        size = tiles.append(store, state.size, hashes, seqs)
        LogState.objects.filter(pk=1).update(size=size, root_hash=store.root(size), last_seq=seqs[-1],
                                             updated_at=timezone.now())
        return len(rows)


def integrate(limit: int = BATCH, *, retries: int = 10) -> int:
    """Integrate every pending event (in batches); returns how many were integrated."""
    total = 0
    while True:
        for attempt in range(retries):
            try:
                done = integrate_batch(limit)
                break
            except LogBusy:
                if attempt == retries - 1:
                    raise
                time.sleep(0.5)
        total += done
        if done < limit:
            return total


def pending_count(last_seq: int | None = None) -> int:
    """Events recorded but not integrated yet (after ``last_seq``, default: the log's)."""
    from custodia.audit.models import AuditEvent

    if last_seq is None:
        last_seq = log_state().last_seq
    return AuditEvent.objects.filter(seq__gt=last_seq).count()


def log_state() -> LogState:
    state = LogState.objects.filter(pk=1).first()
    return state or LogState(size=0, root_hash=merkle.EMPTY_ROOT, last_seq=0, updated_at=timezone.now())

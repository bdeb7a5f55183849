"""Retention of audit event bodies (PIPL Art. 56): ``custodia audit prune`` and a nightly job.

Security events are kept ``CUSTODIA_AUDIT_RETENTION_SECURITY_DAYS`` (at least 6 months), every
other event, a record of personal-information processing, ``..._PROCESSING_DAYS`` (at least 3
years). Pruning deletes the bodies of integrated events past their time, keeps their leaf hashes
in the tiles and records the pruned leaf ranges, so verification and every proof still work. The
prune is itself an audit event; events not yet integrated are never pruned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from custodia.audit import events, heads, sequencer, tiles
from custodia.audit.models import PrunedRange
from custodia.audit.registry import registry
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor

CHUNK = 500


@dataclass(frozen=True)
class PruneResult:
    count: int
    ranges: list[tuple[int, int]]  # leaf index ranges [start, end)
    security_before: dt.datetime
    processing_before: dt.datetime
    dry_run: bool


def cutoffs(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return (now - dt.timedelta(days=settings.CUSTODIA_AUDIT_RETENTION_SECURITY_DAYS),
            now - dt.timedelta(days=settings.CUSTODIA_AUDIT_RETENTION_PROCESSING_DAYS))


def _ranges(indexes: list[int]) -> list[tuple[int, int]]:
    ranges: list[list[int]] = []
    for i in indexes:
        if ranges and ranges[-1][1] == i:
            ranges[-1][1] = i + 1
        else:
            ranges.append([i, i + 1])
    return [tuple(r) for r in ranges]


def prune(*, actor: Actor, now: dt.datetime | None = None, dry_run: bool = False) -> PruneResult:
    now = now or timezone.now()
    security_before, processing_before = cutoffs(now)
    security_types = [e.id for e in registry.all() if e.security and e is not events.AUDIT_PRUNED] or [-1]
    kept = events.AUDIT_PRUNED.id  # a prune's own record is kept for ever: it vouches for its ranges
    sequencer.integrate()
    with transaction.atomic():
        state = sequencer.state_for_update()
        marks = ", ".join(["%s"] * len(security_types))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq FROM audit_auditevent WHERE seq <= %s AND event_type <> %s AND ("
                f"(event_type IN ({marks}) AND occurred_at < %s) OR "
                f"(event_type NOT IN ({marks}) AND occurred_at < %s)) ORDER BY seq",
                [state.last_seq, kept, *security_types, security_before, *security_types, processing_before])
            seqs = [r[0] for r in cursor.fetchall()]
        indexes = tiles.leaf_indexes(seqs)
        ranges = _ranges([indexes[seq] for seq in seqs])
        result = PruneResult(len(seqs), ranges, security_before, processing_before, dry_run)
        if dry_run or not seqs:
            return result
        record = audit_record(actor=actor, event=events.AUDIT_PRUNED, target_type="audit_log", detail={
            "count": len(seqs), "ranges": len(ranges), "first_leaf": ranges[0][0], "last_leaf": ranges[-1][1] - 1,
            "ranges_sha256": ranges_digest(ranges),
            "security_before": security_before.isoformat(), "processing_before": processing_before.isoformat()})
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('retention prune')")
            for i in range(0, len(seqs), CHUNK):
                chunk = seqs[i:i + CHUNK]
                cursor.execute(f"DELETE FROM audit_auditevent WHERE seq IN ({', '.join(['%s'] * len(chunk))})",
                               chunk)
            cursor.execute("DELETE FROM audit_maintenance")
        PrunedRange.objects.bulk_create([PrunedRange(start=a, end=b, pruned_at=now, event_id=record.id,
                                                     mac=heads.range_mac(a, b, record.id))
                                         for a, b in ranges], batch_size=CHUNK)
    return result


def ranges_digest(ranges: list[tuple[int, int]]) -> str:
    """SHA-256 (hex) of a prune's ranges as ``start-end`` lines: recorded in the prune's event."""
    return hashlib.sha256("".join(f"{a}-{b}\n" for a, b in ranges).encode()).hexdigest()


def check_pruned_ranges(size: int, bad) -> set[int] | None:
    """Verification of the pruned marks (``audit verify``): each range carries the MAC only the
    prune could make, lies inside the log without overlap, and belongs to an ``audit.pruned``
    event that comes after it and whose recorded digest matches all its ranges. A body deleted by
    hand and marked pruned is named at its leaf. Returns the starts of the ranges found wrong."""
    from custodia.audit.models import AuditEvent

    rows = list(PrunedRange.objects.order_by("start", "id").values_list("start", "end", "event_id", "mac"))
    wrong: set[int] = set()
    by_event: dict = {}
    past: set = set()  # prunes with ranges beyond the log's size: its tail was truncated
    covered = 0
    for start, end, event_id, mac in rows:
        where = f"leaves {start}–{end - 1} are marked pruned"
        if not hmac.compare_digest(bytes(mac or b""), heads.range_mac(start, end, event_id)):
            bad(f"{where}, but no prune made that mark (its MAC does not verify)", leaf_index=max(start, 0))
            wrong.add(start)
            continue
        by_event.setdefault(event_id, []).append((start, end))
        if start < covered:
            bad(f"{where}, overlapping another pruned range", leaf_index=start)
            wrong.add(start)
        covered = max(covered, end)
        if end > size:
            if event_id not in past:
                bad(f"{where}, but the log has only {size} leaves (its tail was truncated)", leaf_index=size)
            past.add(event_id)
    prunes = {e.id: e for e in AuditEvent.objects.filter(event_type=events.AUDIT_PRUNED.id, id__in=list(by_event))}
    for event_id, ranges in by_event.items():
        if event_id in past:
            continue
        event = prunes.get(event_id)
        first = ranges[0][0]
        if event is None:
            bad(f"leaves {first}–{ranges[-1][1] - 1} were pruned by audit event {event_id}, which is missing "
                "(a prune's record is never pruned)", leaf_index=first)
            wrong.add(first)
            continue
        detail = event.detail if isinstance(event.detail, dict) else {}
        if detail.get("ranges_sha256") != ranges_digest(ranges):
            bad(f"the ranges marked pruned by audit event {event_id} are not the ones it recorded (a range "
                "was removed)", leaf_index=first)
            wrong.add(first)
            continue
        index = tiles.leaf_index_of(event.seq)
        if index is not None and index < ranges[-1][1]:
            bad(f"audit event {event_id} (leaf {index}) cannot have pruned leaves up to {ranges[-1][1] - 1}",
                leaf_index=first)
            wrong.add(first)
    return wrong

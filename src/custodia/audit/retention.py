"""Retention of audit event bodies (PIPL Art. 56): ``custodia audit prune`` and a nightly job.

Security events are kept ``CUSTODIA_AUDIT_RETENTION_SECURITY_DAYS`` (at least 6 months), every
other event, a record of personal-information processing, ``..._PROCESSING_DAYS`` (at least 3
years). Pruning deletes the bodies of integrated events past their time, keeps their leaf hashes
in the tiles and records the pruned leaf ranges, so verification and every proof still work. The
prune is itself an audit event; events not yet integrated are never pruned.
"""

from __future__ import annotations

import bisect
import datetime as dt
import struct
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from custodia.audit import events, sequencer, tiles
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


def _leaf_indexes(seqs: list[int]) -> list[int]:
    """Leaf indexes of integrated events (sorted seqs), through the level-0 tiles."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT first_seq, "index" FROM audit_logtile WHERE level = 0 ORDER BY first_seq')
        firsts = cursor.fetchall()
    starts = [f[0] for f in firsts]
    out, loaded = [], {}
    for seq in seqs:
        k = firsts[bisect.bisect_right(starts, seq) - 1][1]
        if k not in loaded:
            with connection.cursor() as cursor:
                cursor.execute('SELECT seqs FROM audit_logtile WHERE level = 0 AND "index" = %s', [k])
                blob = bytes(cursor.fetchone()[0])
            loaded = {k: struct.unpack(f">{len(blob) // 8}q", blob)}
        position = bisect.bisect_left(loaded[k], seq)
        out.append(k * tiles.WIDTH + position)
    return out


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
    security_types = [e.id for e in registry.all() if e.security] or [-1]
    sequencer.integrate()
    with transaction.atomic():
        state = sequencer.state_for_update()
        marks = ", ".join(["%s"] * len(security_types))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq FROM audit_auditevent WHERE seq <= %s AND ("
                f"(event_type IN ({marks}) AND occurred_at < %s) OR "
                f"(event_type NOT IN ({marks}) AND occurred_at < %s)) ORDER BY seq",
                [state.last_seq, *security_types, security_before, *security_types, processing_before])
            seqs = [r[0] for r in cursor.fetchall()]
        ranges = _ranges(_leaf_indexes(seqs))
        result = PruneResult(len(seqs), ranges, security_before, processing_before, dry_run)
        if dry_run or not seqs:
            return result
        record = audit_record(actor=actor, event=events.AUDIT_PRUNED, target_type="audit_log", detail={
            "count": len(seqs), "ranges": len(ranges), "first_leaf": ranges[0][0], "last_leaf": ranges[-1][1] - 1,
            "security_before": security_before.isoformat(), "processing_before": processing_before.isoformat()})
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('retention prune')")
            for i in range(0, len(seqs), CHUNK):
                chunk = seqs[i:i + CHUNK]
                cursor.execute(f"DELETE FROM audit_auditevent WHERE seq IN ({', '.join(['%s'] * len(chunk))})",
                               chunk)
            cursor.execute("DELETE FROM audit_maintenance")
        PrunedRange.objects.bulk_create([PrunedRange(start=a, end=b, pruned_at=now, event_id=record.id)
                                         for a, b in ranges], batch_size=CHUNK)
    return result

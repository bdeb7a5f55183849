"""The only writer of audit events.

``audit_record`` must be called inside the transaction of the operation it records (it refuses
to run outside one): if the audit write fails, the operation fails with it (fail closed).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from custodia.audit import leaf
from custodia.audit.models import AuditEvent
from custodia.audit.registry import EventType, registry
from custodia.kernel import context
from custodia.kernel.actor import Actor
from custodia.protection.crypto import KeyBag, SubjectSealer

# Every column but the sequence number, which the database assigns in insertion order.
# ``leaf_hash`` is computed here, in the operation's transaction, from the other columns.
BULK_COLUMNS = tuple(f.attname for f in AuditEvent._meta.concrete_fields if f.attname != "seq")


class AuditOutsideTransaction(RuntimeError):
    pass


def _values(
    *,
    actor: Actor,
    event: EventType,
    target_type: str = "",
    target_id=None,
    subject_id=None,
    fields: Sequence[str] = (),
    object_ids: Iterable = (),
    purpose: str = "",
    outcome: str = "success",
    detail: dict | None = None,
    change: dict | None = None,
    keys: KeyBag | None = None,
) -> dict:
    """The column values of one event (validated against the closed registry)."""
    registry.check(event)
    ctx = context.current()
    event_id = uuid.uuid4()
    values = dict(
        id=event_id,
        occurred_at=timezone.now(),
        event_type=event.id,
        action=event.api_name,
        actor_id=actor.user_id,
        actor_label=actor.label,
        actor_role=actor.role,
        request_id=ctx.request_id,
        source_ip=ctx.source_ip,
        target_type=target_type,
        target_id=target_id,
        subject_id=subject_id,
        fields=list(fields),
        object_ids=[str(i) for i in object_ids],
        purpose=purpose,
        outcome=outcome,
        detail=detail or {},
        change_enc=None,
    )
    if change is not None:
        if subject_id is None or keys is None:
            raise ValueError("a change record needs the subject and its key bag")
        values["change_enc"] = keys.encrypt(
            subject_id, "audit_auditevent", "change_enc", event_id, json.dumps(change, ensure_ascii=False, default=str)
        )
    values["leaf_hash"] = leaf.leaf_hash(leaf.from_values(values))
    return values


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_record must run inside the transaction of the operation")


@dataclass(frozen=True)
class Recorded:
    """What ``audit_record`` wrote: the event's id and its leaf hash."""

    id: uuid.UUID
    leaf_hash: bytes


@functools.cache
def _single_insert(vendor: str):
    from custodia.kernel.bulk import BulkInserter

    return BulkInserter(AuditEvent, BULK_COLUMNS)


def _insert(values: dict) -> None:
    """One INSERT through a prepared column plan (the ORM's save costs more than the commit)."""
    inserter = _single_insert(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(inserter.sql, inserter.row(values))


def audit_record(**kwargs) -> Recorded:
    """Record one event. Callers: services and selectors only, inside their transaction.

    Keyword arguments: actor, event, target_type, target_id, subject_id, fields, object_ids,
    purpose, outcome, detail (no personal data), change (before/after, encrypted with ``keys``).
    """
    _require_transaction()
    values = _values(**kwargs)
    _monitor_check(values, kwargs["actor"])  # may stop the operation (monitor.inline.Intervention)
    _insert(values)
    return Recorded(values["id"], values["leaf_hash"])


def _monitor_check(values: dict, actor: Actor) -> None:
    """Show the event to the inline detectors before it is written (custodia.monitor.inline)."""
    from custodia.monitor.inline import check

    check(values, actor)


def audit_record_many(events: Sequence[dict]) -> int:
    """Record many events in one insert (bulk import); same rules as ``audit_record``."""
    from custodia.kernel.bulk import BulkInserter

    _require_transaction()
    inserter = BulkInserter(AuditEvent, BULK_COLUMNS)
    for kw in events:
        inserter.add(_values(**kw))
    inserter.flush()
    return len(events)


class EventRows:
    """Rows of many events of ONE type by one actor (bulk import): made with ``row`` in any
    process (plain tuples, the change sealed under the subject's key), written by
    ``audit_record_rows`` inside the operation's transaction. Same columns and sealing as
    ``audit_record``; the events share their time, request and detail."""

    def __init__(self, *, actor: Actor, event: EventType, target_type: str, detail: dict,
                 ctx: context.RequestContext, occurred_at):
        from custodia.kernel.bulk import BulkInserter

        registry.check(event)
        self._constants = dict(
            occurred_at=occurred_at, event_type=event.id, action=event.api_name, actor_id=actor.user_id,
            actor_label=actor.label, actor_role=actor.role, request_id=ctx.request_id, source_ip=ctx.source_ip,
            target_type=target_type, object_ids=[], purpose="", outcome="success", detail=detail,
        )
        self._inserter = BulkInserter(AuditEvent, BULK_COLUMNS)
        self._makers: dict[tuple, object] = {}  # by the tuple of fields touched: few distinct ones
        self._leaf = leaf.template(self._constants)  # the leaf input, filled in per event

    def row(self, *, target_id, subject_id, fields: list[str], change: dict, sealer: SubjectSealer) -> tuple:
        key = tuple(fields)
        make = self._makers.get(key)
        if make is None:
            make = self._makers[key] = self._inserter.maker(
                self._constants | {"fields": list(fields)},
                ("id", "target_id", "subject_id", "change_enc", "leaf_hash"))
        event_id = uuid.uuid4()
        sealed = sealer("audit_auditevent", "change_enc", event_id,
                        json.dumps(change, ensure_ascii=False, default=str))
        leaf_input = self._leaf(event_id, target_id, subject_id, key, sealed)
        return make((event_id, target_id, subject_id, sealed, leaf.leaf_hash(leaf_input)))


def audit_record_rows(rows: Sequence[tuple]) -> int:
    """Insert rows made by ``EventRows`` (inside the operation's transaction)."""
    from custodia.kernel.bulk import BulkInserter

    _require_transaction()
    inserter = BulkInserter(AuditEvent, BULK_COLUMNS)
    inserter.extend(rows)
    inserter.flush()
    return len(rows)


def decrypt_change(row: AuditEvent, keys: KeyBag) -> dict | None:
    if row.change_enc is None:
        return None
    return json.loads(keys.decrypt("audit_auditevent", "change_enc", row.id, row.change_enc))



def log_verify(*, actor: Actor):
    """Verify the whole log now (``custodia audit verify`` from the UI); returns the
    ``verify.Report``. Who: read_audit. Audits AUDIT_VERIFIED with the outcome, like the CLI."""
    from custodia.audit import events, verify
    from custodia.audit.selectors import check_may_read

    check_may_read(actor)
    report = verify.verify_log()
    with transaction.atomic():
        audit_record(actor=actor, event=events.AUDIT_VERIFIED, target_type="audit_log",
                     outcome="success" if report.ok else "failure",
                     detail={"size": report.size, "problems": len(report.problems),
                             "first_bad_leaf": report.first_bad_leaf, "first_bad_head": report.first_bad_head})
    return report


def head_sign_now(*, actor: Actor):
    """Integrate pending events and sign a tree head now (``custodia audit sign`` from the UI);
    returns the new ``TreeHead``. Who: read_audit. Audits AUDIT_HEAD_SIGNED first, so the head
    covers its own record."""
    from custodia.audit import events, heads
    from custodia.audit.selectors import check_may_read

    check_may_read(actor)
    with transaction.atomic():
        audit_record(actor=actor, event=events.AUDIT_HEAD_SIGNED, target_type="audit_log")
    return heads.sign_head()

"""Evidence bundles: the events of a customer, a person or a time range, with their inclusion
proofs, a signed tree head covering them, the public key and a verifier (docs/audit-log.md).

Who may export: people with ``read_audit`` (auditor, compliance, security admin) and the console
operator. A bundle holds no personal data in clear (leaf inputs carry pseudonymous ids and
ciphertext), so the auditor can hand it over without seeing anyone's details.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from custodia.audit import events, heads, leaf, tiles
from custodia.audit.bundle_format import BundleEvent, write_bundle
from custodia.audit.models import AuditEvent
from custodia.audit.selectors import check_may_read
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor

MAX_EVENTS = 200_000


class BundleTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    customer_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    person_label: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def filter(self) -> Q:
        q = Q()
        if self.customer_id:
            q &= Q(subject_id=self.customer_id) | Q(target_id=self.customer_id)
        if self.person_id:
            q &= Q(actor_id=self.person_id)
        if self.since:
            q &= Q(occurred_at__gte=self.since)
        if self.until:
            q &= Q(occurred_at__lt=self.until)
        return q

    def as_dict(self) -> dict:
        return {"customer": str(self.customer_id) if self.customer_id else None,
                "person": str(self.person_id) if self.person_id else None,
                "person_label": self.person_label or None,
                "since": leaf.format_time(self.since) if self.since else None,
                "until": leaf.format_time(self.until) if self.until else None}


def _events(scope: Scope, size: int) -> Iterator[tuple[int, int, bytes]]:
    """(seq, leaf index, leaf input) of the scope's integrated events, in log order."""
    select, read = leaf.leaf_select(connection.vendor), leaf.row_reader(connection.vendor)
    seqs = list(AuditEvent.objects.filter(scope.filter()).order_by("seq").values_list("seq", flat=True)
                [:MAX_EVENTS + 1])
    if len(seqs) > MAX_EVENTS:
        raise BundleTooLarge(f"more than {MAX_EVENTS} events: narrow the time range")
    for start in range(0, len(seqs), 500):
        chunk = seqs[start:start + 500]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT e.seq, {select} FROM audit_auditevent e WHERE e.seq IN "
                           f"({', '.join(['%s'] * len(chunk))}) ORDER BY e.seq", chunk)
            rows = cursor.fetchall()
        indexes = tiles.leaf_indexes(chunk)
        for row in rows:
            index = indexes.get(row[0])
            if index is None or index >= size:
                continue  # recorded after the head (e.g. this export's own event)
            yield row[0], index, read(row[1:])


def export_bundle(out: BinaryIO, *, actor: Actor, scope: Scope) -> dict:
    """Write the bundle to ``out`` (a file opened for binary writing); returns its manifest.
    Signs a fresh tree head first, so every event recorded until now is covered."""
    check_may_read(actor)
    head = heads.sign_head()
    store = tiles.Tiles()

    def bundle_events() -> Iterator[BundleEvent]:
        for _seq, index, leaf_input in _events(scope, head.size):
            yield BundleEvent(event_id=_event_id(leaf_input), leaf_index=index, leaf_input=leaf_input,
                              proof=store.inclusion_proof(index, head.size))

    digest = _HashingWriter(out)
    manifest = write_bundle(digest, events=bundle_events(), head=heads.head_json(head),
                            public_key_pem=heads.public_key_pem(), scope=scope.as_dict(),
                            generated_by=actor.label, generated_at=leaf.format_time(timezone.now()),
                            sign=heads.sign_bundle)
    with transaction.atomic():
        audit_record(actor=actor, event=events.AUDIT_BUNDLE_EXPORTED, target_type="audit_log",
                     subject_id=scope.customer_id, target_id=scope.person_id,
                     detail={"scope": scope.as_dict(), "events": manifest["event_count"], "tree_size": head.size,
                             "file_sha256": digest.hexdigest()})
    return manifest


def _event_id(leaf_input: bytes) -> str:
    return json.loads(leaf_input)["id"]


class _HashingWriter:
    """A binary file wrapper that hashes what is written (the bundle's SHA-256 for the audit event)."""

    def __init__(self, raw: BinaryIO):
        self.raw, self._hash = raw, hashlib.sha256()

    def write(self, data) -> int:
        self._hash.update(data)
        return self.raw.write(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def flush(self) -> None:
        self.raw.flush()

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return False

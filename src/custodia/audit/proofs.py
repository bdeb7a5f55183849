"""Proofs and leaves out of the log, for the CLI, the UI and evidence bundles (no personal data:
leaf inputs hold pseudonymous ids and ciphertext only)."""

from __future__ import annotations

import base64
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from custodia.audit import heads, leaf, merkle, sequencer, tiles
from custodia.audit.models import AuditEvent, TreeHead


class ProofUnavailable(LookupError):
    """The event or tree size asked for is not in the log (message says why)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


@dataclass(frozen=True)
class LeafRef:
    event_id: uuid.UUID
    seq: int
    index: int


def leaf_of(event_id) -> LeafRef:
    try:
        event_uuid = uuid.UUID(str(event_id))
    except ValueError:
        raise ProofUnavailable(f"{event_id!r} is not an event id (a UUID)") from None
    seq = AuditEvent.objects.filter(id=event_uuid).values_list("seq", flat=True).first()
    if seq is None:
        raise ProofUnavailable(f"no audit event {event_uuid} (never recorded, or its body was pruned)")
    index = tiles.leaf_index_of(seq)
    if index is None:
        raise ProofUnavailable(f"event {event_uuid} is not integrated into the log yet (run 'custodia audit sign')")
    return LeafRef(event_uuid, seq, index)


def head_covering(index: int, *, sign: bool = True) -> TreeHead:
    """The latest signed head; when it does not cover leaf ``index`` yet, sign one now."""
    head = heads.latest_head()
    if (head is None or head.size <= index) and sign:
        head = heads.sign_head()
    if head is None or head.size <= index:
        raise ProofUnavailable(f"leaf {index} is not covered by a signed tree head yet")
    return head


def inclusion(event_id, size: int | None = None) -> dict:
    ref = leaf_of(event_id)
    head = None
    if size is None:
        head = head_covering(ref.index)
        size = head.size
    state = sequencer.log_state()
    if not ref.index < size <= state.size:
        raise ProofUnavailable(f"tree size {size} must be above the leaf index {ref.index} and at most {state.size}")
    store = tiles.Tiles()
    proof = store.inclusion_proof(ref.index, size)
    leaf_hash = store.nodes([(0, ref.index)])[0]
    root = store.root(size)
    merkle.verify_inclusion(leaf_hash, ref.index, size, proof, root)  # never hand out a proof that fails
    out = {"event_id": str(ref.event_id), "leaf_index": ref.index, "tree_size": size, "leaf_hash": _b64(leaf_hash),
           "root_hash": _b64(root), "hashes": [_b64(h) for h in proof]}
    if head is not None:
        out["tree_head"] = heads.head_json(head)
    return out


def consistency(size1: int, size2: int) -> dict:
    state = sequencer.log_state()
    if not 0 < size1 <= size2 <= state.size:
        raise ProofUnavailable(f"sizes must satisfy 0 < OLD <= NEW <= {state.size} (the log's size)")
    store = tiles.Tiles()
    proof = store.consistency_proof(size1, size2)
    root1, root2 = store.root(size1), store.root(size2)
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    return {"size1": size1, "size2": size2, "root1": _b64(root1), "root2": _b64(root2),
            "hashes": [_b64(h) for h in proof]}


def leaf_lines(start: int, end: int) -> Iterator[str]:
    """Leaf inputs start <= index < end, base64, one a line; ``pruned:<leaf hash>`` for pruned bodies."""
    state = sequencer.log_state()
    if not 0 <= start <= end <= state.size:
        raise ProofUnavailable(f"the range must satisfy 0 <= START <= END <= {state.size} (the log's size)")
    select = leaf.leaf_select(connection.vendor)
    with connection.cursor() as cursor:
        for k in range(start // tiles.WIDTH, -(-end // tiles.WIDTH)):
            cursor.execute('SELECT width, hashes, seqs FROM audit_logtile WHERE level = 0 AND "index" = %s', [k])
            width, blob, seq_blob = cursor.fetchone()
            blob, seqs = bytes(blob), struct.unpack(f">{width}q", bytes(seq_blob))
            lo, hi = max(start - k * tiles.WIDTH, 0), min(end - k * tiles.WIDTH, width)
            if lo >= hi:
                continue
            cursor.execute(f"SELECT e.seq, {select} FROM audit_auditevent e WHERE e.seq >= %s AND e.seq <= %s",
                           [seqs[lo], seqs[hi - 1]])
            rows = {r[0]: r[1:] for r in cursor.fetchall()}
            for i in range(lo, hi):
                row = rows.get(seqs[i])
                if row is None:
                    yield "pruned:" + _b64(blob[i * tiles.H:(i + 1) * tiles.H])
                else:
                    yield _b64(leaf.row_reader(connection.vendor)(row))

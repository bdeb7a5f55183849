"""Append-only audit events and the Merkle log over them (docs/audit-log.md).

Events are never updated or deleted (database triggers refuse it on SQLite and PostgreSQL) except
by retention pruning, which removes bodies and keeps hashes. Each event carries its RFC 9162 leaf
hash, computed in the transaction that records it; the sequencer integrates events in ``seq``
order into tiles of stored hashes and signs tree heads. Nothing here holds personal data in clear:
targets are pseudonymous ids, change details are ciphertext under the customer's key.
"""

from __future__ import annotations

import uuid

from django.db import models


class AuditEvent(models.Model):
    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    event_type = models.PositiveIntegerField(db_index=True)
    action = models.CharField(max_length=64)
    actor_id = models.UUIDField(null=True, blank=True)  # indexed by (actor_id, seq)
    actor_label = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=20)
    request_id = models.CharField(max_length=64, blank=True)
    source_ip = models.CharField(max_length=45, blank=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.UUIDField(null=True, blank=True, db_index=True)
    subject_id = models.UUIDField(null=True, blank=True)  # the customer concerned; indexed by (subject_id, seq)
    fields = models.JSONField(default=list, blank=True)
    object_ids = models.JSONField(default=list, blank=True)  # e.g. ids shown on a list page
    purpose = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, default="success")
    detail = models.JSONField(default=dict, blank=True)  # never personal data in clear
    change_enc = models.BinaryField(null=True, blank=True)  # before/after under the subject's key
    leaf_hash = models.BinaryField(max_length=32, null=True)  # SHA-256(0x00 || canonical event)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_id", "seq"]), models.Index(fields=["actor_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"


class LogTile(models.Model):
    """Stored hashes of the Merkle tree, 8 levels a tile (the tiled layout of transparency logs).

    Tile (level, index) holds the nodes of tree levels 8*level .. 8*level+7 under its 256 bottom
    positions: ``width`` bottom hashes, then width//2 of the next level, and so on (32 bytes each).
    Level-0 tiles also hold the ``seq`` of each leaf's event (8 bytes each, big-endian) and the
    first one, so an event's leaf index is one indexed lookup. Only the right-edge tile of each
    level is ever rewritten, and only by the sequencer as it grows.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    width = models.PositiveSmallIntegerField()
    hashes = models.BinaryField()
    first_seq = models.BigIntegerField(null=True)
    seqs = models.BinaryField(null=True)

    class Meta:
        indexes = [models.Index(fields=["level", "first_seq"], name="audit_tile_first_seq")]

    def __str__(self) -> str:
        return f"tile ({self.level}, {self.index}) of {self.width}"


class LogState(models.Model):
    """The one row saying how far the sequencer got: tree size and root, last integrated seq."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class TreeHead(models.Model):
    """A signed tree head (append-only). Signature input: docs/audit-log.md."""

    id = models.BigAutoField(primary_key=True)
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    timestamp_ms = models.BigIntegerField()
    key_id = models.CharField(max_length=16)
    signature = models.BinaryField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"tree head #{self.id} (size {self.size})"


class PrunedRange(models.Model):
    """Leaf indexes whose event bodies retention removed (their hashes stay in the tiles). ``mac``
    (HMAC under a key derived from the log's signing key, outside the database) proves the prune
    made the mark: a body deleted by hand cannot be passed off as pruned."""

    id = models.BigAutoField(primary_key=True)
    start = models.BigIntegerField()  # first leaf index
    end = models.BigIntegerField()  # one past the last
    pruned_at = models.DateTimeField()
    event_id = models.UUIDField()  # the audit event that records this prune (never pruned itself)
    mac = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"pruned leaves {self.start}–{self.end - 1}"

"""Append-only audit events.

Rows are never updated or deleted (database triggers refuse it on SQLite and PostgreSQL). The
Merkle log of a later issue integrates them in ``seq`` order. Nothing here holds personal data in
clear: targets are pseudonymous ids, change details are ciphertext under the customer's key.
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

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_id", "seq"]), models.Index(fields=["actor_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

"""Per-subject data keys (DEKs), wrapped by a key-encryption key from the keyring."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataKey(models.Model):
    """One customer's data key. Shredding empties ``wrapped``: everything under it is gone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_id = models.UUIDField(unique=True)
    kek_id = models.CharField(max_length=40, db_index=True)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data key")

    def __str__(self) -> str:
        return f"data key {self.id}"

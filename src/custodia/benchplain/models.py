"""The benchmark baseline: the customer registry as an ordinary Django app would store it.

Same columns, owner/team/department foreign keys, tags and indexes as ``customers.Customer``,
but every protected value in clear text (an indexed column where the protected model has an
indexed blind index). Never installed outside the benchmark (CUSTODIA_BENCH_PLAIN=1): it is the
"before" picture the protection is measured against, not a way to store customer data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from custodia.customers.choices import Kind, Source, Stage, Tier


class PlainCustomer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200, db_index=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.ORDINARY, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plain_customers")
    team = models.ForeignKey("access.Team", on_delete=models.PROTECT, related_name="plain_customers")
    department = models.ForeignKey("access.Department", on_delete=models.PROTECT, related_name="plain_customers")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.COMPANY_LEAD)
    tags = models.ManyToManyField("customers.Tag", blank=True, related_name="plain_customers")
    mobile = models.CharField(max_length=32, blank=True, db_index=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    id_number = models.CharField(max_length=32, blank=True, db_index=True)
    bank_account = models.CharField(max_length=32, blank=True, db_index=True)
    address = models.CharField(max_length=300, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    notes_pii = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["owner", "deleted_at", "-created_at"], name="plain_owner_del_created"),
            models.Index(fields=["team", "deleted_at", "-created_at"], name="plain_team_del_created"),
            models.Index(fields=["deleted_at", "-created_at"], name="plain_del_created"),
        ]

    def __str__(self) -> str:
        return str(self.id)

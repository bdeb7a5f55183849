"""Maker-checker approvals: a reveal or an export beyond what the requester may do directly,
approved or rejected by a second person, then used once within a time window (services.py)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.approvals.choices import RequestKind, RequestStatus


class AccessRequest(models.Model):
    """One request. ``export_params`` binds an export to its exact parameters: ``masked``, the
    filters and ``max_rows`` (the row count when requested: the approved export may not exceed it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices)
    requester = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="access_requests",
                                  verbose_name=_("requested by"))
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="access_requests")
    field = models.CharField(_("field"), max_length=40, blank=True)
    export_params = models.JSONField(_("export parameters"), default=dict, blank=True)
    purpose = models.CharField(_("purpose"), max_length=40)  # a code of settings.CUSTODIA_PURPOSES
    purpose_text = models.CharField(_("explanation"), max_length=200, blank=True)  # PII masked
    why = models.CharField(max_length=20, blank=True)  # level | rate | unmasked | rows
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey("access.User", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Pending: the decision must come before this; approved: the use must.
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    export_id = models.UUIDField(null=True, blank=True)  # the Export an approved export request produced

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["requester", "-created_at"]),
                   models.Index(fields=["export_id"])]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")

    def __str__(self) -> str:
        return f"{self.kind} request {self.id}"

    @property
    def purpose_display(self) -> str:
        from django.conf import settings

        label = str(dict(settings.CUSTODIA_PURPOSES).get(self.purpose, self.purpose))
        return f"{label}: {self.purpose_text}" if self.purpose_text else label

    @property
    def audit_purpose(self) -> str:
        return f"{self.purpose}: {self.purpose_text}" if self.purpose_text else self.purpose

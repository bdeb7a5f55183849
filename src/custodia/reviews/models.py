"""Access reviews (re-certification, issue 3 item 6): on a schedule each manager confirms or
revokes what their people hold — their role, their time-bound grants and their core-customer
assignments. Whatever is still pending at the deadline is revoked automatically (services.py).

A campaign's ``reviewer`` is the manager whose direct reports it lists; a campaign without a
reviewer is the security admins' (people with no active manager: nobody reviews their own access).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.reviews.choices import CampaignStatus, Decision, ItemKind


class ReviewCampaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period = models.CharField(_("period"), max_length=40)  # "2026-Q4"; ad-hoc rounds "adhoc-20261127T2140"
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="review_campaigns", verbose_name=_("reviewer"))
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "period"]
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        constraints = [
            models.UniqueConstraint(fields=["period", "reviewer"], name="review_campaign_unique"),
            models.UniqueConstraint(fields=["period"], condition=Q(reviewer__isnull=True),
                                    name="review_campaign_pool_unique"),
        ]
        indexes = [models.Index(fields=["status", "deadline"]), models.Index(fields=["reviewer", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.period} · {self.reviewer_id or 'security admins'}"

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN


class ReviewItem(models.Model):
    """One thing a person holds, to confirm or revoke. ``reference``: the role code, or the id of
    the time-bound grant or of the assignment. No customer data is copied here (the customer's
    name is read, masked, when shown), so crypto-shredding a customer leaves nothing behind."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.PROTECT, related_name="items")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("person"))
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices)
    reference = models.CharField(_("reference"), max_length=64)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    detail = models.JSONField(default=dict, blank=True)  # grant actions and expiry (no personal data)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    automatic = models.BooleanField(default=False)  # decided at the deadline, not by a person
    outcome = models.CharField(max_length=20, blank=True)  # revoked | changed | gone | kept (what revoking found)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["subject__username", "kind", "reference"]
        constraints = [models.UniqueConstraint(fields=["campaign", "subject", "kind", "reference"],
                                               name="review_item_unique")]
        indexes = [models.Index(fields=["campaign", "decision"])]

    def __str__(self) -> str:
        return f"{self.subject_id}:{self.kind}:{self.reference}"

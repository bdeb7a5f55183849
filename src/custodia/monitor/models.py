"""Monitoring as data: versioned detector rules, alerts with their triage trail, suspensions, and
the detectors' shared state (counters, last-seen marks, profiles) for the database store.

No personal data: alerts name people by account (staff), customers only by pseudonymous id in
the linked audit events.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from custodia.monitor.choices import AlertStatus, Mode, Response, Severity


class Rule(models.Model):
    """A detector rule. Every change writes a new ``RuleVersion``; alerts name the version that
    fired, so what a rule said at the time is always known."""

    code = models.SlugField(_("code"), max_length=60, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("detector"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict)
    responses = models.JSONField(_("responses"), default=dict)  # severity -> Response
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.ON)
    version = models.PositiveIntegerField(_("version"), default=1)
    builtin = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("detector rule")
        verbose_name_plural = _("detector rules")

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class RuleVersion(models.Model):
    """One version of a rule, as saved (append-only)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    params = models.JSONField(default=dict)
    responses = models.JSONField(default=dict)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="monitor_rule_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class Alert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    rule_version = models.PositiveIntegerField()
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN,
                              db_index=True)
    reason = models.CharField(max_length=30)
    subject = models.CharField(max_length=80)  # "person:<id>" or "ip:<address>"
    dedup_key = models.CharField(max_length=160, db_index=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="monitor_alerts")
    source_ip = models.CharField(max_length=45, blank=True)
    value = models.FloatField(default=0)
    limit = models.FloatField(default=0)
    window_seconds = models.PositiveIntegerField(default=0)
    response = models.CharField(max_length=10, choices=Response.choices, default=Response.ALERT)
    interventions = models.PositiveIntegerField(default=0)  # requests denied, stepped up or suspended
    occurrences = models.PositiveIntegerField(default=1)
    event_ids = models.JSONField(default=list)  # the triggering audit events (first 200)
    detail = models.JSONField(default=dict)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_alerts")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_at"]
        indexes = [models.Index(fields=["status", "-last_at"])]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"{self.short_id} {self.rule_id}"

    @property
    def short_id(self) -> str:
        return self.id.hex[:8].upper()


class AlertNote(models.Model):
    """The triage trail: notes and every change of status or assignee (append-only)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)
    status_from = models.CharField(max_length=20, blank=True)
    status_to = models.CharField(max_length=20, blank=True)
    assignee = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note by {self.author}"


class Suspension(models.Model):
    """An account suspended by a rule, pending review; lifted by a security admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suspensions")
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="suspensions")
    started_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=150, blank=True)
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"suspension of {self.person_id}"


class Notification(models.Model):
    """An alert to deliver by email, webhook or SIEM feed; delivered by the worker with retries."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=20)  # email, webhook, siem
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sent_at", "id"])]

    def __str__(self) -> str:
        return f"{self.channel} for {self.alert_id}"


# --- the database store's state (stores.DbStore writes these with raw upserts) ---------------


class Counter(models.Model):
    pk = models.CompositePrimaryKey("key", "bucket")
    key = models.CharField(max_length=160)
    bucket = models.BigIntegerField()
    count = models.BigIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}@{self.bucket}"


class Seen(models.Model):
    pk = models.CompositePrimaryKey("key", "item")
    key = models.CharField(max_length=160)
    item = models.CharField(max_length=64)
    last_seen = models.BigIntegerField()
    prev_seen = models.BigIntegerField(null=True)  # the sighting before last_seen (read back by the upsert)
    expires = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}:{self.item}"


class State(models.Model):
    key = models.CharField(max_length=160, primary_key=True)
    value = models.TextField()
    updated = models.BigIntegerField()

    def __str__(self) -> str:
        return self.key

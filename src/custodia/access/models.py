"""Staff, their organisation (departments, teams), API tokens, and the access model as data:
roles and their grants, customer assignments and time-bound grants (policy.py evaluates them)."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import (
    ADMIN_ACTIONS,
    DATA_CHANGE_ACTIONS,
    DUTY_ACTIONS,
    OBJECT_ACTIONS,
    OBJECT_CONSTRAINTS,
    Action,
    Duty,
    EmploymentStatus,
    ObjectType,
    Scope,
)
from custodia.access.choices import Role as RoleCode


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="teams")

    class Meta:
        ordering = ["code"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Every actor in the audit log is one of these or a named system actor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # The code of an ``access.Role`` (looked up by code: codes are stable, and the role's grants are
    # read once per request by the policy). Validated against the Role table by the services.
    role = models.CharField(_("role"), max_length=20, default=RoleCode.REP, db_index=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    employment_status = models.CharField(
        _("employment status"), max_length=20, choices=EmploymentStatus.choices, default=EmploymentStatus.ACTIVE
    )
    # Required data-protection training (PIPL Art 51, GB/T 35273 §11.6): once this date has passed the
    # person loses reveal, export and core-tier access until the training is renewed. Empty: no
    # record (enforced as lapsed only when settings.CUSTODIA_TRAINING_REQUIRED is true).
    training_valid_until = models.DateField(_("training valid until"), null=True, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def get_full_name(self) -> str:
        return self.display_name or super().get_full_name() or self.username

    def get_role_display(self) -> str:
        from custodia.access.policy import role_label

        return role_label(self)

    def __str__(self) -> str:
        return self.get_full_name()


class ApiToken(models.Model):
    """An API token. Only a SHA-256 digest is stored; the token is shown once at creation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


# --- roles as data ----------------------------------------------------------------------------------


class Role(models.Model):
    """A role: a named set of grants, editable by a security admin without a deploy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=20, unique=True)  # audit events record it (20 chars)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    duty = models.CharField(_("duty"), max_length=20, choices=Duty.choices, default=Duty.OPERATOR)
    # Per-role limits, consulted by the approvals flow (a reveal or export beyond them needs a
    # second person). Empty: no limit.
    reveals_per_hour = models.PositiveIntegerField(_("reveals per hour"), null=True, blank=True)
    export_row_limit = models.PositiveIntegerField(_("export row limit"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-builtin", "code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """A built-in role's name in the reader's language; a custom role's name as typed."""
        if self.builtin and self.code in RoleCode.values:
            return str(RoleCode(self.code).label)
        return self.name

    def clean(self):
        super().clean()
        if not self._state.adding:
            problem = duty_problem(self.duty, self.grants.all())
            if problem:
                raise ValidationError({"duty": problem})


def duty_problem(duty: str, grants, extra=None) -> str | None:
    """Why these grants break separation of duties for a role of ``duty`` (None when they do not).
    ``extra`` is a grant being added or edited (replacing the stored row with the same pk)."""
    rows = [g for g in grants if extra is None or g.pk != extra.pk]
    if extra is not None:
        rows.append(extra)
    actions = {a for g in rows for a in (g.actions or [])}
    if actions & DATA_CHANGE_ACTIONS and actions & ADMIN_ACTIONS:
        return _("Separation of duties: a role may not both change customer data (add, change, delete) "
                 "and manage roles or the audit log.")
    outside = actions - DUTY_ACTIONS.get(duty, frozenset())
    if outside:
        labels = ", ".join(str(Action(a).label) for a in sorted(outside))
        return _("Separation of duties: a role with the duty “%(duty)s” may not hold: %(actions)s.") % {
            "duty": Duty(duty).label, "actions": labels}
    return None


def all_tiers() -> list[str]:
    return ["core", "important", "ordinary"]


class RoleGrant(models.Model):
    """What a role may do on one object type, with the constraints its allow-list permits."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    object_type = models.CharField(_("object type"), max_length=20, choices=ObjectType.choices)
    actions = models.JSONField(_("actions"), default=list)  # action codes; evaluated in Python
    scope = models.CharField(_("data scope"), max_length=20, choices=Scope.choices, default=Scope.OWN)
    departments = models.ManyToManyField(Department, blank=True, related_name="+", verbose_name=_("departments"))
    tiers = models.JSONField(_("customer tiers"), default=all_tiers, blank=True)
    reveal_max_level = models.PositiveSmallIntegerField(_("highest level revealed directly"), default=0)

    class Meta:
        ordering = ["role", "object_type", "id"]
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")

    def __str__(self) -> str:
        return f"{self.role_id}:{self.object_type}:{','.join(self.actions or [])}"

    def clean(self):
        """Allow-listed actions and constraints for the object type; separation of duties."""
        super().clean()
        errors = {}
        allowed = OBJECT_ACTIONS.get(self.object_type, ())
        actions = list(self.actions or [])
        if not actions:
            errors["actions"] = _("Choose at least one action.")
        elif any(a not in allowed for a in actions):
            errors["actions"] = _("These actions do not apply to this object type: %(actions)s.") % {
                "actions": ", ".join(a for a in actions if a not in allowed)}
        constraints = OBJECT_CONSTRAINTS.get(self.object_type, ())
        tiers = list(self.tiers or [])
        if "tiers" in constraints:
            if not tiers or any(t not in all_tiers() for t in tiers):
                errors["tiers"] = _("Choose at least one customer tier.")
        if "scope" not in constraints and self.scope != Scope.ALL:
            errors["scope"] = _("This object type has no data scope: choose “all”.")
        if not 0 <= (self.reveal_max_level or 0) <= 4:
            errors["reveal_max_level"] = _("Choose a level from 0 (none) to 4.")
        elif self.reveal_max_level and "reveal_max_level" not in constraints:
            errors["reveal_max_level"] = _("Only customer grants reveal fields.")
        elif self.reveal_max_level and Action.REVEAL not in actions:
            errors["reveal_max_level"] = _("A reveal level needs the reveal action.")
        if not errors and self.role_id:
            problem = duty_problem(self.role.duty, self.role.grants.all(), extra=self)
            if problem:
                errors["actions"] = problem
        if errors:
            raise ValidationError(errors)


# --- who may see which customer beyond their role's scope ---------------------------------------


class CustomerAssignment(models.Model):
    """A person explicitly assigned to a customer (an account team member): they see it with their
    role's customer actions whatever its tier and whoever owns it. Core-tier customers are visible
    only to their owner, their assignees and all-scope roles allowed the core tier (compliance)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="customer_assignments",
                             verbose_name=_("person"))
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="assignment_unique")]
        indexes = [models.Index(fields=["user", "customer"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.customer_id}"


class AccessGrantQuerySet(models.QuerySet):
    def valid(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=now, expires_at__gt=now)


class AccessGrant(models.Model):
    """Time-bound access: "give this colleague access to customer X for 7 days for purpose P".
    Honoured by the scope filter only while ``starts_at <= now < expires_at`` and not revoked, so it
    expires by itself; a periodic job marks ``expired_at`` and audits the expiry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grantee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_grants",
                                verbose_name=_("colleague"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="access_grants")
    actions = models.JSONField(_("actions"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    expired_at = models.DateTimeField(null=True, blank=True)  # set by the expiry job (display, audit)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["grantee", "expires_at"]), models.Index(fields=["customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.grantee_id} → {self.customer_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.starts_at > now:
            return "pending"
        return "active"


TIMED_ACTIONS = (Action.VIEW, Action.CHANGE, Action.REVEAL, Action.EXPORT)
MAX_GRANT_DAYS = 90
MAX_GRANT_DAYS_HINT = _("From 1 to 90 days; the access ends by itself.")

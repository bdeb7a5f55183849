"""Writes of the access model: roles and their grants, people's roles and training records,
customer assignments and time-bound grants. Keyword-only, explicit actor, one transaction,
validated first (nothing is written on error), audited (access/events.py 230–259).

Kept apart from services.py (sign-in and API tokens) so that the two grow independently.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access import events
from custodia.access.choices import Action, EmploymentStatus
from custodia.access.models import (
    MAX_GRANT_DAYS,
    TIMED_ACTIONS,
    AccessGrant,
    CustomerAssignment,
    Department,
    Role,
    RoleGrant,
    User,
)
from custodia.access.policy import allows, denial_reason, may_hold_customers
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection import pii

ROLE_FIELDS = ("name", "description", "duty", "reveals_per_hour", "export_row_limit")
GRANT_FIELDS = ("object_type", "actions", "scope", "tiers", "reveal_max_level")


def _require(actor: Actor, action: str) -> None:
    if not allows(actor, action):
        raise PermissionDenied(denial_reason(actor, action))


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def _role_snapshot(role: Role) -> dict:
    return {"code": role.code, **{f: getattr(role, f) for f in ROLE_FIELDS}}


def _grant_snapshot(grant: RoleGrant, departments=None) -> dict:
    snap = {f: getattr(grant, f) for f in GRANT_FIELDS}
    snap["departments"] = sorted(d.code for d in (departments if departments is not None
                                                  else grant.departments.all()))
    return snap


# --- roles ----------------------------------------------------------------------------------------


def role_create(*, actor: Actor, data: dict) -> Role:
    """Create a custom role (no grants yet). Callers: manage_roles. Audits ROLE_CREATED."""
    _require(actor, Action.MANAGE_ROLES)
    role = Role(code=(data.get("code") or "").strip(), builtin=False,
                **{f: data.get(f) for f in ROLE_FIELDS if f in data})
    role.name = (role.name or "").strip()
    with transaction.atomic():
        role.full_clean()
        role.save(force_insert=True)
        audit_record(actor=actor, event=events.ROLE_CREATED, target_type="role", target_id=role.pk,
                     detail={"after": _role_snapshot(role)})
    return role


def role_update(*, actor: Actor, role_id, data: dict) -> Role:
    """Change a role's name, description, duty and limits (the code is stable). Separation of
    duties is checked against the role's grants. Callers: manage_roles. Audits ROLE_UPDATED."""
    _require(actor, Action.MANAGE_ROLES)
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(pk=_uuid(role_id)).first()
        if role is None:
            raise NotFound()
        before = _role_snapshot(role)
        for name in ROLE_FIELDS:
            if name in data:
                setattr(role, name, data[name].strip() if isinstance(data[name], str) else data[name])
        role.updated_at = timezone.now()
        role.full_clean()
        role.save()
        audit_record(actor=actor, event=events.ROLE_UPDATED, target_type="role", target_id=role.pk,
                     detail={"before": before, "after": _role_snapshot(role)})
    return role


def role_grant_save(*, actor: Actor, role_id, data: dict, grant_id=None) -> RoleGrant:
    """Add a grant to a role, or change one. Actions and constraints are checked against the
    object type's allow-list; separation of duties against the role's other grants (field errors
    on ``actions``). ``data["departments"]``: department codes (named-departments scope).
    Callers: manage_roles. Audits ROLE_GRANT_ADDED / ROLE_GRANT_CHANGED."""
    _require(actor, Action.MANAGE_ROLES)
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(pk=_uuid(role_id)).first()
        if role is None:
            raise NotFound()
        if grant_id is None:
            grant, before = RoleGrant(role=role), None
        else:
            grant = RoleGrant.objects.filter(pk=_uuid(grant_id), role=role).first()
            if grant is None:
                raise NotFound()
            before = _grant_snapshot(grant)
        for name in GRANT_FIELDS:
            if name in data:
                setattr(grant, name, data[name])
        codes = list(data.get("departments") or [])
        departments = list(Department.objects.filter(code__in=codes))
        errors = {}
        if len(departments) != len(set(codes)):
            errors["departments"] = [_("Choose existing departments.")]
        if grant.scope == "named" and not departments:
            errors["departments"] = [_("Name at least one department for this scope.")]
        try:
            grant.full_clean(exclude=["role"])
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
        grant.save()
        grant.departments.set(departments if grant.scope == "named" else [])
        after = _grant_snapshot(grant, departments if grant.scope == "named" else [])
        audit_record(actor=actor, event=events.ROLE_GRANT_ADDED if before is None else events.ROLE_GRANT_CHANGED,
                     target_type="role", target_id=role.pk,
                     detail={"role": role.code, "grant": str(grant.pk), "before": before, "after": after})
    return grant


def role_grant_remove(*, actor: Actor, grant_id) -> None:
    """Remove a grant from its role. Callers: manage_roles. Audits ROLE_GRANT_REMOVED."""
    _require(actor, Action.MANAGE_ROLES)
    with transaction.atomic():
        grant = RoleGrant.objects.select_related("role").filter(pk=_uuid(grant_id)).first()
        if grant is None:
            raise NotFound()
        before = _grant_snapshot(grant)
        role, pk = grant.role, grant.pk
        grant.delete()
        audit_record(actor=actor, event=events.ROLE_GRANT_REMOVED, target_type="role", target_id=role.pk,
                     detail={"role": role.code, "grant": str(pk), "before": before})


def user_access_update(*, actor: Actor, user_id, role: str, training_valid_until: dt.date | None) -> User:
    """Give a person a role and record their training validity. Nobody changes their own role.
    Callers: manage_roles. Audits USER_ACCESS_CHANGED (before/after: role code, training date)."""
    _require(actor, Action.MANAGE_ROLES)
    with transaction.atomic():
        person = User.objects.select_for_update().filter(pk=_uuid(user_id)).first()
        if person is None:
            raise NotFound()
        if actor.user is not None and person.pk == actor.user.pk and role != person.role:
            raise ValidationError({"role": [_("Nobody may change their own role: ask another security admin.")]})
        if not Role.objects.filter(code=role).exists():
            raise ValidationError({"role": [_("Choose an existing role.")]})
        before = {"role": person.role, "training_valid_until": _iso(person.training_valid_until)}
        person.role, person.training_valid_until = role, training_valid_until
        person.save(update_fields=["role", "training_valid_until"])
        after = {"role": person.role, "training_valid_until": _iso(person.training_valid_until)}
        audit_record(actor=actor, event=events.USER_ACCESS_CHANGED, target_type="user", target_id=person.pk,
                     detail={"before": before, "after": after})
    return person


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- who may see which customer -----------------------------------------------------------------


def _customer_for_share(actor: Actor, customer_id):
    from custodia.customers.services import get_for_action

    return get_for_action(actor, customer_id, Action.SHARE)


def _colleague(actor: Actor, username: str, field: str) -> User:
    person = User.objects.filter(username=(username or "").strip()).first()
    if person is None or not person.is_active or person.employment_status != EmploymentStatus.ACTIVE:
        raise ValidationError({field: [_("Choose an active colleague.")]})
    if actor.user is not None and person.pk == actor.user.pk:
        raise ValidationError({field: [_("Nobody may grant access to themselves.")]})
    if not may_hold_customers(person):
        raise ValidationError({field: [_("This colleague's role does not work with customer records.")]})
    return person


def customer_assign(*, actor: Actor, customer_id, username: str) -> CustomerAssignment:
    """Assign a colleague to a customer: they see it (core tier included) with their role's
    customer actions. Callers: share (the team's manager, compliance); nobody assigns themselves.
    Audits CUSTOMER_ASSIGNED."""
    _require(actor, Action.SHARE)
    with transaction.atomic():
        customer = _customer_for_share(actor, customer_id)
        person = _colleague(actor, username, "user")
        if person.pk == customer.owner_id:
            raise ValidationError({"user": [_("The owner already sees this customer.")]})
        if CustomerAssignment.objects.filter(customer=customer, user=person).exists():
            raise ValidationError({"user": [_("This colleague is already assigned.")]})
        assignment = CustomerAssignment.objects.create(customer=customer, user=person, assigned_by=actor.user)
        audit_record(actor=actor, event=events.CUSTOMER_ASSIGNED, target_type="customer", target_id=customer.pk,
                     subject_id=customer.pk, detail={"user_id": str(person.pk), "assignment": str(assignment.pk)})
    return assignment


def customer_unassign(*, actor: Actor, customer_id, assignment_id) -> None:
    """Remove an assignment. Callers: share. Audits CUSTOMER_UNASSIGNED."""
    _require(actor, Action.SHARE)
    with transaction.atomic():
        customer = _customer_for_share(actor, customer_id)
        assignment = CustomerAssignment.objects.filter(pk=_uuid(assignment_id), customer=customer).first()
        if assignment is None:
            raise NotFound()
        user_id = assignment.user_id
        assignment.delete()
        audit_record(actor=actor, event=events.CUSTOMER_UNASSIGNED, target_type="customer", target_id=customer.pk,
                     subject_id=customer.pk, detail={"user_id": str(user_id), "assignment": str(assignment_id)})


def access_grant_create(*, actor: Actor, customer_id, username: str, actions, purpose: str, days: int,
                        starts_at: dt.datetime | None = None) -> AccessGrant:
    """Give a colleague time-bound access to one customer for a purpose (1–90 days). The grant
    widens the rows of the colleague's own role actions only; "view" is always included. Callers:
    share (the customer's manager, compliance); nobody grants themselves. Audits ACCESS_GRANT_CREATED."""
    _require(actor, Action.SHARE)
    errors = {}
    actions = sorted({Action.VIEW, *(actions or [])})
    if any(a not in TIMED_ACTIONS for a in actions):
        errors["actions"] = [_("Choose from view, change, reveal and export.")]
    purpose = pii.mask_pii_in_text((purpose or "").strip())
    if len(purpose) < 4:
        errors["purpose"] = [_("State the purpose (at least 4 characters).")]
    elif len(purpose) > 200:
        errors["purpose"] = [_("Ensure this value has at most 200 characters.")]
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_GRANT_DAYS:
        errors["days"] = [_("Choose from 1 to %(max)s days.") % {"max": MAX_GRANT_DAYS}]
    with transaction.atomic():
        customer = _customer_for_share(actor, customer_id)
        try:
            person = _colleague(actor, username, "grantee")
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
        starts = starts_at or timezone.now()
        grant = AccessGrant.objects.create(
            grantee=person, customer=customer, actions=actions, purpose=purpose, granted_by=actor.user,
            starts_at=starts, expires_at=starts + dt.timedelta(days=days))
        audit_record(actor=actor, event=events.ACCESS_GRANT_CREATED, target_type="customer", target_id=customer.pk,
                     subject_id=customer.pk, purpose=purpose,
                     detail={"grant": str(grant.pk), "grantee_id": str(person.pk), "actions": actions,
                             "expires_at": grant.expires_at.isoformat()})
    return grant


def access_grant_revoke(*, actor: Actor, customer_id, grant_id) -> AccessGrant:
    """Revoke a time-bound grant at once. Callers: share. Audits ACCESS_GRANT_REVOKED."""
    _require(actor, Action.SHARE)
    with transaction.atomic():
        customer = _customer_for_share(actor, customer_id)
        grant = AccessGrant.objects.select_for_update().filter(pk=_uuid(grant_id), customer=customer).first()
        if grant is None:
            raise NotFound()
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_by = timezone.now(), actor.user
            grant.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(actor=actor, event=events.ACCESS_GRANT_REVOKED, target_type="customer",
                         target_id=customer.pk, subject_id=customer.pk,
                         detail={"grant": str(grant.pk), "grantee_id": str(grant.grantee_id)})
    return grant


def access_grants_expire(*, actor: Actor, now: dt.datetime | None = None) -> int:
    """Mark grants whose time is up as expired and audit each expiry (the scope filter already
    ignores them: this is for the record and the UI). Idempotent. Callers: the periodic job
    (system actor). Audits ACCESS_GRANT_EXPIRED."""
    if not actor.is_system:
        raise PermissionDenied()
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        due = AccessGrant.objects.select_for_update().filter(
            expires_at__lte=now, expired_at__isnull=True, revoked_at__isnull=True)
        for grant in due:
            grant.expired_at = now
            grant.save(update_fields=["expired_at"])
            audit_record(actor=actor, event=events.ACCESS_GRANT_EXPIRED, target_type="customer",
                         target_id=grant.customer_id, subject_id=grant.customer_id,
                         detail={"grant": str(grant.pk), "grantee_id": str(grant.grantee_id)})
            count += 1
    return count

"""Maker-checker approvals (issue 3 item 3). Writes: ``request_create``, ``request_approve``,
``request_reject``, ``request_use``, ``requests_expire``; gates called by the reveal and export
services: ``reveal_gate``, ``export_gate``.

When a request is needed:
- a reveal of a field above the role's ``reveal_max_level`` but at most the highest level a role
  that may approve reveals itself ("level"), or a reveal beyond the role's ``reveals_per_hour``
  (the person's reveal audit events of the last hour: "rate");
- an unmasked export ("unmasked"), or one with more rows than the role's ``export_row_limit``
  ("rows").

Who decides: a person, never the requester, whose role has the ``approve`` action and whose
approve scope covers the customer (reveal) or every customer of the export, and who may reveal
the levels concerned themselves: the team's manager or compliance, as the roles say. Anyone else
gets "not found". The approval is valid for ``CUSTODIA_APPROVAL_HOURS`` (default 24) and used once
by the requester (``request_use`` locks the row). Every step is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from custodia.access.policy import allows, may_reveal, reveal_max_level
from custodia.approvals import events
from custodia.approvals.choices import RequestKind, RequestStatus
from custodia.approvals.models import AccessRequest
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection import catalog, pii

EXPORT_FILTERS = ("tier", "stage", "kind", "owner", "team", "tag")


class ApprovalRequired(PermissionDenied):
    """The operation needs an approved request (``why``: level, rate, unmasked, rows)."""

    request_required = True

    def __init__(self, message, *, why: str):
        super().__init__(message)
        self.why = why


def approval_ttl() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "CUSTODIA_APPROVAL_HOURS", 24))


def pending_ttl() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "CUSTODIA_APPROVAL_PENDING_HOURS", 72))


# --- limits ----------------------------------------------------------------------------------------


def role_limits(actor: Actor) -> tuple[int | None, int | None]:
    """(reveals per hour, export row limit) of the actor's role; None: no limit (system, admin)."""
    from custodia.access.models import Role

    if actor.user is None or actor.user.is_superuser:
        return None, None
    row = Role.objects.filter(code=actor.user.role).values_list("reveals_per_hour", "export_row_limit").first()
    return row or (None, None)


def reveals_last_hour(actor: Actor) -> int:
    """The actor's reveal events of the last hour (the audit log is the counter)."""
    from custodia.audit.models import AuditEvent
    from custodia.customers.events import CUSTOMER_FIELD_REVEALED

    since = timezone.now() - dt.timedelta(hours=1)
    return AuditEvent.objects.filter(actor_id=actor.user_id, event_type=CUSTOMER_FIELD_REVEALED.id,
                                     occurred_at__gte=since).count()


def approver_ceiling() -> int:
    """The highest level any role that may approve reveals directly (what an approval can open)."""
    from custodia.access.models import RoleGrant

    roles: dict = {}
    for role_id, actions, level in RoleGrant.objects.values_list("role_id", "actions", "reveal_max_level"):
        entry = roles.setdefault(role_id, [False, 0])
        entry[0] |= "approve" in (actions or ())
        if "reveal" in (actions or ()):
            entry[1] = max(entry[1], level or 0)
    return max((level for approves, level in roles.values() if approves), default=0)


def reveal_need(actor: Actor, pf) -> str | None:
    """Why revealing ``pf`` needs an approved request ("level", "rate"), None when it does not.
    PermissionDenied when no approval could open it."""
    if actor.user is None:
        return None
    if not may_reveal(actor, pf.level):
        if not allows(actor, "reveal") or pf.level > approver_ceiling():
            raise PermissionDenied(_("Your role may not reveal %(level)s fields.") % {"level": pf.level_label})
        return "level"
    per_hour, _rows = role_limits(actor)
    if per_hour is not None and reveals_last_hour(actor) >= per_hour:
        return "rate"
    return None


def reveal_message(why: str, pf) -> str:
    if why == "level":
        return _("Your role may not reveal %(level)s fields directly: ask your manager or compliance to "
                 "approve this reveal.") % {"level": pf.level_label}
    return _("You have reached your role's limit of reveals per hour: ask your manager or compliance to "
             "approve this reveal.")


def reveal_gate(*, actor: Actor, customer_id, pf) -> AccessRequest | None:
    """Called by ``field_reveal`` inside its transaction: None when the reveal needs no approval;
    else the requester's oldest approved, unexpired, unused request for this customer and field,
    used up here (single use); ApprovalRequired when there is none. The person's row is locked
    first, so their concurrent reveals are counted one after the other (the hourly limit holds)."""
    from custodia.access.models import User

    if actor.user_id is not None:
        User.objects.select_for_update().filter(pk=actor.user_id).values_list("pk", flat=True).first()
    why = reveal_need(actor, pf)
    if why is None:
        return None
    found = (AccessRequest.objects.filter(kind=RequestKind.REVEAL, requester_id=actor.user_id, customer_id=customer_id,
                                          field=pf.name, status=RequestStatus.APPROVED, expires_at__gt=timezone.now())
             .order_by("decided_at").values_list("pk", flat=True).first())
    if found is None:
        raise ApprovalRequired(reveal_message(why, pf), why=why)
    return request_use(actor=actor, request_id=found, customer_id=customer_id, field=pf.name)


def reveal_approval(actor: Actor, customer_id, pf) -> tuple[str | None, AccessRequest | None]:
    """For the reveal dialog: (why an approval is needed or None, the approved request that would
    be used). PermissionDenied when no approval could open the field. Reads only."""
    why = reveal_need(actor, pf)
    if why is None:
        return None, None
    found = (AccessRequest.objects.filter(kind=RequestKind.REVEAL, requester_id=actor.user_id, customer_id=customer_id,
                                          field=pf.name, status=RequestStatus.APPROVED, expires_at__gt=timezone.now())
             .order_by("decided_at").first())
    return why, found


def export_need(actor: Actor, *, masked: bool, rows: int) -> str | None:
    """Why an export needs an approved request ("unmasked", "rows"), None when it does not."""
    if actor.user is None:
        return None
    if not masked:
        return "unmasked"
    _per_hour, limit = role_limits(actor)
    if limit is not None and rows > limit:
        return "rows"
    return None


def export_params(*, masked: bool, filters: dict, max_rows: int | None = None) -> dict:
    params = {"masked": bool(masked), "filters": {k: str(filters.get(k) or "") for k in EXPORT_FILTERS}}
    if max_rows is not None:
        params["max_rows"] = int(max_rows)
    return params


def export_gate(*, actor: Actor, masked: bool, filters: dict, rows: int, request_id=None) -> AccessRequest | None:
    """Checked by ``customers_export`` before it writes: None when the export runs directly; the
    approved request that covers it (used later, in the export's transaction, by ``request_use``);
    ApprovalRequired otherwise."""
    why = export_need(actor, masked=masked, rows=rows)
    if why is None and request_id is None:
        return None
    if request_id is None:
        if why == "unmasked":
            message = _("An unmasked export needs an approved request: ask your manager or compliance.")
        else:
            message = _("This export has %(rows)s rows, more than your role's limit of %(limit)s: it needs an "
                        "approved request.") % {"rows": rows, "limit": role_limits(actor)[1]}
        raise ApprovalRequired(message, why=why)
    req = _own_request(actor, request_id)
    _check_usable(req)
    _check_export_binding(req, masked=masked, filters=filters, rows=rows)
    return req


def _own_request(actor: Actor, request_id, *, lock: bool = False) -> AccessRequest:
    try:
        request_id = uuid.UUID(str(request_id))
    except ValueError:
        raise NotFound() from None
    qs = AccessRequest.objects.select_for_update() if lock else AccessRequest.objects
    req = qs.filter(pk=request_id, requester_id=actor.user_id).first() if actor.user_id else None
    if req is None:
        raise NotFound()
    return req


def _check_usable(req: AccessRequest) -> None:
    if req.status == RequestStatus.USED:
        raise PermissionDenied(_("This approval has been used already: an approval is good for one use."))
    if req.status in (RequestStatus.APPROVED, RequestStatus.PENDING) and req.expires_at <= timezone.now():
        raise PermissionDenied(_("This request has expired: ask again."))
    if req.status != RequestStatus.APPROVED:
        raise PermissionDenied(_("This request is not approved (%(status)s).") % {
            "status": RequestStatus(req.status).label})


def _check_export_binding(req: AccessRequest, *, masked: bool, filters: dict, rows: int) -> None:
    if req.kind != RequestKind.EXPORT:
        raise PermissionDenied(_("This approval is not for an export."))
    asked = export_params(masked=masked, filters=filters)
    bound = req.export_params or {}
    if asked["masked"] != bound.get("masked") or asked["filters"] != bound.get("filters"):
        raise PermissionDenied(_("This approval is for an export with other parameters (masked or not, "
                                 "filters): export exactly what was approved."))
    if rows > int(bound.get("max_rows", 0)):
        raise PermissionDenied(_("This export has %(rows)s rows, more than the %(max)s approved.") % {
            "rows": rows, "max": bound.get("max_rows", 0)})


# --- writes ---------------------------------------------------------------------------------------


def _purpose(code: str, text: str) -> tuple[str, str]:
    if code not in dict(settings.CUSTODIA_PURPOSES):
        raise ValidationError({"purpose": [_("Choose a purpose from the list.")]})
    text = (text or "").strip()
    if code == "other" and len(text) < 4:
        raise ValidationError({"purpose_text": [_("Explain the purpose (at least 4 characters).")]})
    if len(text) > 200:
        raise ValidationError({"purpose_text": [_("Ensure this value has at most 200 characters.")]})
    return code, pii.mask_pii_in_text(text)


def _audit(actor: Actor, event, req: AccessRequest, **extra) -> None:
    detail = {"request": str(req.id), "kind": req.kind, "status": req.status}
    if req.kind == RequestKind.EXPORT:
        detail["export_params"] = req.export_params
    detail.update(extra.pop("detail", {}))
    audit_record(actor=actor, event=event, target_type="access_request", target_id=req.id,
                 subject_id=req.customer_id, fields=[req.field] if req.field else [],
                 purpose=req.audit_purpose, detail=detail, **extra)


def request_create(*, actor: Actor, kind: str, purpose: str, purpose_text: str = "", customer_id=None,
                   field: str = "", masked: bool = True, filters: dict | None = None) -> AccessRequest:
    """Ask for approval. Callers: a person whose reveal or export needs one (refused when it does
    not: ValidationError). Audits ACCESS_REQUEST_CREATED."""
    from custodia.customers.services import get_for_action

    if actor.user is None:
        raise PermissionDenied(_("Only a named person can ask for approval."))
    code, text = _purpose(purpose, purpose_text)
    now = timezone.now()
    req = AccessRequest(kind=kind, requester=actor.user, purpose=code, purpose_text=text, created_at=now,
                        expires_at=now + pending_ttl())
    with transaction.atomic():
        if kind == RequestKind.REVEAL:
            pf = catalog.CATALOG.get(f"customer.{field}")
            if pf is None or pf.model != "customer":
                raise ValidationError({"field": [_("Unknown protected field.")]})
            customer = get_for_action(actor, customer_id, "reveal")
            why = reveal_need(actor, pf)
            req.customer, req.field = customer, pf.name
        elif kind == RequestKind.EXPORT:
            if not allows(actor, "export"):
                raise PermissionDenied(_("Your role may not export customers."))
            filters = {k: (filters or {}).get(k) or "" for k in EXPORT_FILTERS}
            rows = _export_rows(actor, filters).count()
            why = export_need(actor, masked=masked, rows=rows)
            req.export_params = export_params(masked=masked, filters=filters, max_rows=rows)
        else:
            raise ValidationError({"kind": [_("Choose reveal or export.")]})
        if why is None:
            raise ValidationError({"__all__": [_("You may do this directly: no approval is needed.")]})
        req.why = why
        req.save(force_insert=True)
        _audit(actor, events.ACCESS_REQUEST_CREATED, req, detail={"why": why})
    return req


def _export_rows(actor: Actor, filters: dict):
    from custodia.customers.exporting import _queryset

    return _queryset(actor, **{k: filters.get(k) or "" for k in EXPORT_FILTERS})


def may_decide(actor: Actor, req: AccessRequest) -> bool:
    """May ``actor`` approve or reject ``req`` (not their own; approve right; scope and levels)."""
    from custodia.customers.exporting import PROTECTED
    from custodia.customers.models import Customer

    if actor.user is None or req.requester_id == actor.user_id or not allows(actor, "approve"):
        return False
    if req.kind == RequestKind.REVEAL:
        pf = catalog.CATALOG.get(f"customer.{req.field}")
        if pf is None or reveal_max_level(actor) < pf.level:
            return False
        return Customer.objects.restrict(actor, "approve").filter(pk=req.customer_id).exists()
    params = req.export_params or {}
    if not params.get("masked", True) and reveal_max_level(actor) < max(pf.level for pf in PROTECTED):
        return False
    rows = _export_rows(Actor.for_user(req.requester), params.get("filters") or {})
    covered = Customer.objects.restrict(actor, "approve").values("pk")
    return not rows.exclude(pk__in=covered).exists()


def _decidable(actor: Actor, request_id) -> AccessRequest:
    try:
        request_id = uuid.UUID(str(request_id))
    except ValueError:
        raise NotFound() from None
    req = AccessRequest.objects.select_for_update().select_related("requester").filter(pk=request_id).first()
    if req is None:
        raise NotFound()
    if actor.user is None:
        raise PermissionDenied(_("Only a named person can decide a request."))
    if req.requester_id == actor.user_id:
        raise PermissionDenied(_("Nobody approves their own request: a second person must decide."))
    if not allows(actor, "approve"):
        raise PermissionDenied(_("Your role may not approve requests."))
    if not may_decide(actor, req):
        raise NotFound()
    if req.status != RequestStatus.PENDING:
        raise PermissionDenied(_("This request has been decided already (%(status)s).") % {
            "status": RequestStatus(req.status).label})
    if req.expires_at <= timezone.now():
        raise PermissionDenied(_("This request has expired: ask again."))
    return req


def request_approve(*, actor: Actor, request_id, reason: str = "") -> AccessRequest:
    """Approve a pending request. Callers: a person ``may_decide`` allows (never the requester).
    The approval is valid for ``approval_ttl()``. Audits ACCESS_REQUEST_APPROVED."""
    with transaction.atomic():
        req = _decidable(actor, request_id)
        now = timezone.now()
        req.status, req.decided_by, req.decided_at = RequestStatus.APPROVED, actor.user, now
        req.reason, req.expires_at = pii.mask_pii_in_text((reason or "").strip())[:300], now + approval_ttl()
        req.save(update_fields=["status", "decided_by", "decided_at", "reason", "expires_at"])
        _audit(actor, events.ACCESS_REQUEST_APPROVED, req, detail={"expires_at": req.expires_at.isoformat()})
    return req


def request_reject(*, actor: Actor, request_id, reason: str) -> AccessRequest:
    """Reject a pending request with a reason. Same callers as approve. Audits ACCESS_REQUEST_REJECTED."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Give a reason for the rejection.")]})
    with transaction.atomic():
        req = _decidable(actor, request_id)
        req.status, req.decided_by, req.decided_at = RequestStatus.REJECTED, actor.user, timezone.now()
        req.reason = pii.mask_pii_in_text(reason)[:300]
        req.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        _audit(actor, events.ACCESS_REQUEST_REJECTED, req)
    return req


def request_use(*, actor: Actor, request_id, customer_id=None, field: str = "", masked: bool | None = None,
                filters: dict | None = None, rows: int | None = None, export_id=None) -> AccessRequest:
    """Use an approved request once (the row is locked: a second use is refused). Callers: the
    reveal and export services, inside their transaction. Audits ACCESS_REQUEST_USED."""
    with transaction.atomic():
        req = _own_request(actor, request_id, lock=True)
        _check_usable(req)
        if req.kind == RequestKind.REVEAL:
            if str(req.customer_id) != str(customer_id) or req.field != field:
                raise PermissionDenied(_("This approval is for another customer or field."))
        else:
            _check_export_binding(req, masked=bool(masked), filters=filters or {}, rows=rows or 0)
            req.export_id = export_id
        req.status, req.used_at = RequestStatus.USED, timezone.now()
        req.save(update_fields=["status", "used_at", "export_id"])
        _audit(actor, events.ACCESS_REQUEST_USED, req,
               detail={"export": str(export_id)} if export_id else {})
    return req


def requests_expire(*, actor: Actor) -> int:
    """Mark pending and approved requests whose time is up as expired, auditing each (the checks
    above already refuse them from the second they expire). Callers: the periodic job."""
    count = 0
    now = timezone.now()
    ids = list(AccessRequest.objects.filter(status__in=(RequestStatus.PENDING, RequestStatus.APPROVED),
                                            expires_at__lte=now).values_list("pk", flat=True)[:1000])
    for pk in ids:
        with transaction.atomic():
            req = AccessRequest.objects.select_for_update().filter(
                pk=pk, status__in=(RequestStatus.PENDING, RequestStatus.APPROVED), expires_at__lte=now).first()
            if req is None:
                continue
            was = req.status
            req.status = RequestStatus.EXPIRED
            req.save(update_fields=["status"])
            _audit(actor, events.ACCESS_REQUEST_EXPIRED, req, detail={"was": was})
            count += 1
    return count

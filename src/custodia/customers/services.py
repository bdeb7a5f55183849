"""Writes to the customer registry. Every function: keyword-only, explicit actor, one transaction,
validates first (nothing is written on error), re-checks scope, writes its audit event.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access.models import User
from custodia.access.policy import allows, denial_reason
from custodia.audit.services import audit_record
from custodia.customers import events
from custodia.customers.models import Contact, Customer, Tag
from custodia.customers.validation import CUSTOMER_PROTECTED, normalise_customer
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection import catalog, pii
from custodia.protection.crypto import KeyBag, shred_subject
from custodia.protection.fields import index_value, seal, to_text, unseal

DUPLICATE_CHECKED = ("mobile", "email", "id_number")
PLAIN_AUDITED = ("kind", "name", "tier", "stage", "source", "owner", "tags")


def _resolve_owner(actor: Actor, owner) -> User:
    if owner in (None, ""):
        owner = actor.user
    if isinstance(owner, str):
        owner = User.objects.filter(username=owner).first() or owner
    if not isinstance(owner, User):
        raise ValidationError({"owner": [_("Choose an existing member of staff.")]})
    if not owner.is_active or owner.team_id is None:
        raise ValidationError({"owner": [_("The owner must be an active member of a sales team.")]})
    return owner


def _check_duplicates(values: dict, exclude_id=None) -> None:
    errors = {}
    for name in DUPLICATE_CHECKED:
        if not values.get(name):
            continue
        pf = catalog.get(f"customer.{name}")
        found = Customer.objects.filter(**{pf.index_column: index_value(pf, values[name]), "deleted_at__isnull": True})
        if exclude_id is not None:
            found = found.exclude(pk=exclude_id)
        if found.exists():
            errors[name] = [ValidationError(_("Already belongs to another customer."), code="duplicate")]
    if errors:
        raise ValidationError(errors)


def _seal_protected(customer: Customer, values: dict, keys: KeyBag) -> None:
    for name, value in values.items():
        seal(customer, catalog.get(f"customer.{name}"), value, keys, customer.id)
        if name == "notes":
            customer.notes_pii = pii.contains_pii(value or "")


def _set_tags(customer: Customer, names: list[str]) -> None:
    tags = []
    for name in names:
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    customer.tags.set(tags)


def _ensure_in_scope(actor: Actor, customer: Customer) -> None:
    if not Customer.objects.restrict(actor, "view").filter(pk=customer.pk).exists():
        raise ValidationError({"owner": [_("The result would be outside the customers you may manage.")]})


def get_for_action(actor: Actor, customer_id, action: str) -> Customer:
    """The customer if the actor may perform ``action`` on it; NotFound when out of scope."""
    try:
        customer_id = uuid.UUID(str(customer_id))
    except ValueError:
        raise NotFound() from None
    customer = (Customer.objects.restrict(actor, "view").filter(pk=customer_id)
                .select_related("owner", "team", "department").first())
    if customer is None:
        raise NotFound()
    if not allows(actor, action):
        raise PermissionDenied(denial_reason(actor, action))
    if action != "view" and not Customer.objects.restrict(actor, action).filter(pk=customer.pk).exists():
        # visible, but this action's grant does not reach it (e.g. a view-only time-bound grant)
        raise PermissionDenied(GRANT_REFUSALS.get(action, GRANT_REFUSALS[None]))
    return customer


GRANT_REFUSALS = {
    None: _("Your access to this customer does not include this action (for example, a view-only grant)."),
    "reveal": _("Your access to this customer does not include revealing its fields (for example, a view-only "
                "grant). Ask its owner or their manager."),
}


def customer_create(*, actor: Actor, data: dict, allow_duplicates: bool = False) -> Customer:
    """Create a customer. Callers: rep (own), manager (team), admin. Audits CUSTOMER_CREATED."""
    if not allows(actor, "add"):
        raise PermissionDenied()
    values = normalise_customer(data)
    protected = {k: v for k, v in values.items() if k in CUSTOMER_PROTECTED and v is not None}
    with transaction.atomic():
        owner = _resolve_owner(actor, data.get("owner"))
        if not allow_duplicates:
            _check_duplicates(protected)
        now = timezone.now()
        customer = Customer(
            id=uuid.uuid4(), kind=values["kind"], name=values["name"], tier=values["tier"], stage=values["stage"],
            source=values["source"], owner=owner, team_id=owner.team_id, department_id=owner.team.department_id,
            created_at=now, updated_at=now,
        )
        keys = KeyBag()
        keys.ensure_subject(customer.id)
        _seal_protected(customer, protected, keys)
        customer.save(force_insert=True)
        _set_tags(customer, values.get("tags", []))
        _ensure_in_scope(actor, customer)
        after = {k: values.get(k) for k in PLAIN_AUDITED if k in values} | {"owner": owner.username}
        after |= {k: to_text(v) for k, v in protected.items()}
        audit_record(
            actor=actor, event=events.CUSTOMER_CREATED, target_type="customer", target_id=customer.id,
            subject_id=customer.id, fields=sorted(after), change={"before": {}, "after": after}, keys=keys,
        )
    return customer


def customer_update(*, actor: Actor, customer_id, data: dict, allow_duplicates: bool = False) -> Customer:
    """Change a customer (partial). Audits CUSTOMER_UPDATED with before/after of changed fields."""
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "change")
        current = {"kind": customer.kind, "name": customer.name}
        values = normalise_customer(data, current=current)
        keys = KeyBag.load([customer.id])
        before, after = {}, {}
        protected = {k: v for k, v in values.items() if k in CUSTOMER_PROTECTED}
        for name, value in list(protected.items()):
            old = unseal(customer, catalog.get(f"customer.{name}"), keys)
            if old == to_text(value):
                del protected[name]
            else:
                before[name], after[name] = old, to_text(value)
        if not allow_duplicates:
            _check_duplicates({k: v for k, v in protected.items() if v}, exclude_id=customer.id)
        for name in ("kind", "name", "tier", "stage", "source"):
            if name in values and values[name] != getattr(customer, name):
                before[name], after[name] = getattr(customer, name), values[name]
                setattr(customer, name, values[name])
        if "owner" in data and data["owner"] not in (None, ""):
            owner = _resolve_owner(actor, data["owner"])
            if owner.pk != customer.owner_id:
                before["owner"], after["owner"] = customer.owner.username, owner.username
                customer.owner, customer.team_id = owner, owner.team_id
                customer.department_id = owner.team.department_id
        if "tags" in values:
            old_tags = sorted(customer.tags.values_list("name", flat=True))
            if old_tags != values["tags"]:
                before["tags"], after["tags"] = old_tags, values["tags"]
                _set_tags(customer, values["tags"])
        if not after:
            return customer
        _seal_protected(customer, protected, keys)
        customer.updated_at = timezone.now()
        customer.save()
        _ensure_in_scope(actor, customer)
        audit_record(
            actor=actor, event=events.CUSTOMER_UPDATED, target_type="customer", target_id=customer.id,
            subject_id=customer.id, fields=sorted(after), change={"before": before, "after": after}, keys=keys,
        )
    return customer


def customer_delete(*, actor: Actor, customer_id) -> None:
    """Soft-delete: the customer disappears from every list; data stays until retention ends."""
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "delete")
        customer.deleted_at = timezone.now()
        customer.save(update_fields=["deleted_at"])
        audit_record(actor=actor, event=events.CUSTOMER_DELETED, target_type="customer", target_id=customer.id,
                     subject_id=customer.id)


def customer_shred(*, actor: Actor, customer_id, reason: str) -> None:
    """Crypto-shred one customer: destroy the data key, so nothing of theirs decrypts again,
    in the database, the audit log's change records or any backup. Callers: admin/system only."""
    if actor.role not in ("admin", "system"):
        raise PermissionDenied()
    try:
        customer_id = uuid.UUID(str(customer_id))
    except ValueError:
        raise NotFound() from None
    with transaction.atomic():
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise NotFound()
        Customer.objects.filter(pk=customer.pk).update(
            mobile_bidx=None, email_bidx=None, id_number_bidx=None, bank_account_bidx=None,
            deleted_at=customer.deleted_at or timezone.now(),
        )
        Contact.objects.filter(customer=customer).update(mobile_bidx=None, email_bidx=None)
        shred_subject(customer.pk)
        audit_record(actor=actor, event=events.CUSTOMER_SHREDDED, target_type="customer", target_id=customer.pk,
                     subject_id=customer.pk, detail={"reason_code": reason[:50]})


def core_not_owned(actor: Actor, customers) -> dict:
    """The core-tier customers among ``customers`` that ``actor`` does not own, for the audit
    event's detail (pseudonymous ids; the monitor watches this): {} when there are none."""
    ids = [str(c.id) for c in customers if c.tier == "core" and c.owner_id != actor.user_id]
    return {"core_not_owned": ids} if ids else {}


def field_reveal(*, actor: Actor, customer_id, field: str, purpose: str, purpose_text: str = "") -> str:
    """Show one protected value in clear, once. Needs reveal permission for the field's level and
    a purpose (``other`` needs an explanation). Above the role's level (up to what an approver may
    reveal) or its hourly limit, it needs the requester's approved request, used up here
    (approvals.services.reveal_gate; ApprovalRequired otherwise). Audits CUSTOMER_FIELD_REVEALED
    with the purpose (and the request used)."""
    from django.conf import settings

    from custodia.approvals.services import reveal_gate

    pf = catalog.CATALOG.get(f"customer.{field}")
    if pf is None:
        raise ValidationError({"field": [_("Unknown protected field.")]})
    purposes = dict(settings.CUSTODIA_PURPOSES)
    if purpose not in purposes:
        raise ValidationError({"purpose": [_("Choose a purpose from the list.")]})
    purpose_text = (purpose_text or "").strip()
    if purpose == "other" and len(purpose_text) < 4:
        raise ValidationError({"purpose_text": [_("Explain the purpose (at least 4 characters).")]})
    if len(purpose_text) > 200:
        raise ValidationError({"purpose_text": [_("Ensure this value has at most 200 characters.")]})
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "reveal")
        approval = reveal_gate(actor=actor, customer_id=customer.id, pf=pf)
        keys = KeyBag.load([customer.id])
        value = unseal(customer, pf, keys) or ""
        audit_record(
            actor=actor, event=events.CUSTOMER_FIELD_REVEALED, target_type="customer", target_id=customer.id,
            subject_id=customer.id, fields=[field],
            purpose=f"{purpose}: {pii.mask_pii_in_text(purpose_text)}" if purpose_text else purpose,
            detail=({"access_request": str(approval.pk)} if approval else {}) | core_not_owned(actor, [customer])
            or None,
        )
    return value

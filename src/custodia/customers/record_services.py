"""Writes to a customer's records: contacts, interactions, opportunities, transactions.

One generic implementation; the named services (``contact_create`` …) are what callers use.
Protected fields are encrypted under the customer's data key; before/after go into the audit
event encrypted under the same key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from custodia.audit.registry import EventType
from custodia.audit.services import audit_record
from custodia.customers import events
from custodia.customers.models import Contact, Interaction, Opportunity, Transaction
from custodia.customers.services import get_for_action
from custodia.customers.validation import normalise_protected, parse_amount
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound
from custodia.protection import catalog, pii
from custodia.protection.crypto import KeyBag
from custodia.protection.fields import seal, to_text, unseal


@dataclass(frozen=True)
class RecordSpec:
    model: type
    plain: tuple[str, ...]
    created: EventType
    updated: EventType
    deleted: EventType

    @property
    def name(self) -> str:
        return self.model._meta.model_name


SPECS = {
    "contact": RecordSpec(Contact, ("name", "title"), events.CONTACT_CREATED, events.CONTACT_UPDATED,
                          events.CONTACT_DELETED),
    "interaction": RecordSpec(Interaction, ("kind", "occurred_at", "subject"), events.INTERACTION_CREATED,
                              events.INTERACTION_UPDATED, events.INTERACTION_DELETED),
    "opportunity": RecordSpec(Opportunity, ("name", "stage", "amount", "expected_close"),
                              events.OPPORTUNITY_CREATED, events.OPPORTUNITY_UPDATED, events.OPPORTUNITY_DELETED),
    "transaction": RecordSpec(Transaction, ("occurred_on", "amount", "product"), events.TRANSACTION_CREATED,
                              events.TRANSACTION_UPDATED, events.TRANSACTION_DELETED),
}
STAFF_FIELD = {"interaction": "staff", "opportunity": "owner"}


def _apply(spec: RecordSpec, record, data: dict, keys: KeyBag, *, partial_update: bool) -> tuple[dict, dict]:
    """Set plain and protected values, validate everything, return (before, after)."""
    before, after = {}, {}
    errors: dict[str, list] = {}
    if "amount" in data:  # money gets its own parser and message (Decimal CNY, 2 places)
        try:
            data = {**data, "amount": parse_amount(data["amount"]) if data["amount"] not in (None, "") else None}
        except ValidationError as exc:
            errors.update(exc.message_dict)
            data = {k: v for k, v in data.items() if k != "amount"}
    try:
        protected = normalise_protected(spec.name, data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        protected = {}
    for name in spec.plain:
        if name in data:
            old = getattr(record, name)
            setattr(record, name, data[name])
            if not partial_update or to_text(old) != to_text(data[name]):
                before[name], after[name] = to_text(old), to_text(data[name])
    exclude = ["customer", "staff", "owner"] + [f.name for f in record._meta.fields if f.name.endswith(("_enc", "_bidx"))]
    try:
        record.full_clean(exclude=exclude + list(errors))  # field-level errors, nothing written yet
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    for name, value in protected.items():
        pf = catalog.get(f"{spec.name}.{name}")
        old = unseal(record, pf, keys) if partial_update else None
        if to_text(value) != old:
            before[name], after[name] = old, to_text(value)
            seal(record, pf, value, keys, record.customer_id)
            if name == "notes" and hasattr(record, "notes_pii"):
                record.notes_pii = pii.contains_pii(value or "")
    for name in spec.plain:  # report converted values, e.g. Decimal("12.50")
        if name in after:
            after[name] = to_text(getattr(record, name))
    return before, after


def record_create(*, actor: Actor, kind: str, customer_id, data: dict):
    """Add a record to a customer the actor may change. Audits <kind>.created."""
    spec = SPECS[kind]
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "change")
        record = spec.model(id=uuid.uuid4(), customer=customer, created_at=timezone.now())
        if kind in STAFF_FIELD:
            setattr(record, STAFF_FIELD[kind], actor.user or customer.owner)
        keys = KeyBag.load([customer.id])
        _before, after = _apply(spec, record, data, keys, partial_update=False)
        record.save(force_insert=True)
        audit_record(actor=actor, event=spec.created, target_type=kind, target_id=record.id, subject_id=customer.id,
                     fields=sorted(after), change={"before": {}, "after": after}, keys=keys)
    return record


def _get_record(actor: Actor, spec: RecordSpec, record_id, action: str):
    try:
        record_id = uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound() from None
    record = spec.model.objects.restrict(actor, "view").filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    get_for_action(actor, record.customer_id, action)
    return record


def record_update(*, actor: Actor, kind: str, record_id, data: dict):
    """Change a record (partial). Audits <kind>.updated with encrypted before/after."""
    spec = SPECS[kind]
    with transaction.atomic():
        record = _get_record(actor, spec, record_id, "change")
        keys = KeyBag.load([record.customer_id])
        before, after = _apply(spec, record, data, keys, partial_update=True)
        if after:
            record.save()
            audit_record(actor=actor, event=spec.updated, target_type=kind, target_id=record.id,
                         subject_id=record.customer_id, fields=sorted(after),
                         change={"before": before, "after": after}, keys=keys)
    return record


def record_delete(*, actor: Actor, kind: str, record_id) -> None:
    """Soft-delete a record. Audits <kind>.deleted."""
    spec = SPECS[kind]
    with transaction.atomic():
        record = _get_record(actor, spec, record_id, "change")
        record.deleted_at = timezone.now()
        record.save(update_fields=["deleted_at"])
        audit_record(actor=actor, event=spec.deleted, target_type=kind, target_id=record.id,
                     subject_id=record.customer_id)


contact_create = partial(record_create, kind="contact")
contact_update = partial(record_update, kind="contact")
contact_delete = partial(record_delete, kind="contact")
interaction_create = partial(record_create, kind="interaction")
interaction_update = partial(record_update, kind="interaction")
interaction_delete = partial(record_delete, kind="interaction")
opportunity_create = partial(record_create, kind="opportunity")
opportunity_update = partial(record_update, kind="opportunity")
opportunity_delete = partial(record_delete, kind="opportunity")
transaction_create = partial(record_create, kind="transaction")
transaction_update = partial(record_update, kind="transaction")
transaction_delete = partial(record_delete, kind="transaction")

__all__ = ["SPECS", "ValidationError", "record_create", "record_update", "record_delete"]

"""Reads of the customer registry: scope-filtered in SQL, masked by the field catalog, audited
in the same transaction (a list page records the ids it showed)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q

from custodia.access.policy import may_reveal
from custodia.audit.models import AuditEvent
from custodia.audit.registry import registry
from custodia.audit.services import audit_record
from custodia.customers import events
from custodia.customers.models import Contact, Customer
from custodia.customers.record_services import SPECS
from custodia.customers.services import get_for_action
from custodia.kernel.actor import Actor
from custodia.protection import catalog, validators
from custodia.protection.crypto import KeyBag
from custodia.protection.fields import index_value, masked

MAX_PAGE_SIZE = 500
LIST_COLUMNS = ("id", "kind", "name", "tier", "stage", "source", "owner__username", "owner__display_name",
                "team__name", "mobile_enc", "created_at", "updated_at")


@dataclass
class CustomerRow:
    id: uuid.UUID
    kind: str
    name: str
    tier: str
    stage: str
    source: str
    owner: str
    owner_name: str
    team: str
    mobile: str
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass
class ListResult:
    rows: list[CustomerRow]
    page: object  # django.core.paginator.Page
    search_kind: str = ""


@dataclass
class ProtectedValue:
    key: str
    name: str
    label: str
    level: int
    masked: str
    can_reveal: bool
    present: bool


@dataclass
class CustomerDetail:
    customer: Customer
    fields: dict[str, ProtectedValue]
    tags: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def identifier_search(q: str) -> tuple[str, Q] | None:
    """Recognise an exact identifier in a search box; return (kind, filter on blind indexes)."""
    q = q.strip()
    compact = re.sub(r"[\s-]", "", q)
    if "@" in q:
        try:
            value = validators.normalize_email(q)
        except Exception:
            return None
        return "email", _bidx_q("email", value)
    if re.fullmatch(r"(\+?86)?1\d{10}", compact):
        try:
            value = validators.normalize_mobile(compact)
        except Exception:
            return None
        return "mobile", _bidx_q("mobile", value)
    if len(compact) == 18:
        for kind in ("individual", "organisation"):
            try:
                value = validators.normalize_identifier(compact, kind)
            except Exception:
                continue
            return "id_number", _bidx_q("id_number", value)
    if re.fullmatch(r"\d{12,19}", compact):
        try:
            value = validators.normalize_bank_card(compact)
        except Exception:
            return None
        return "bank_account", _bidx_q("bank_account", value)
    return None


def _bidx_q(name: str, value: str) -> Q:
    pf = catalog.get(f"customer.{name}")
    q = Q(**{pf.index_column: index_value(pf, value)})
    contact_pf = catalog.CATALOG.get(f"contact.{name}")
    if contact_pf is not None:
        ids = Contact.objects.filter(**{contact_pf.index_column: index_value(contact_pf, value),
                                        "deleted_at__isnull": True}).values("customer_id")
        q |= Q(pk__in=ids)
    return q


def customer_list(
    actor: Actor, *, q: str = "", tier: str = "", stage: str = "", owner: str = "", team: str = "", tag: str = "",
    kind: str = "", page: int = 1, page_size: int = 50,
) -> ListResult:
    """One page of the actor's customers, masked. Audits the ids shown (and identifier searches)."""
    qs = Customer.objects.restrict(actor, "view")
    search_kind = ""
    if q:
        found = identifier_search(q)
        if found:
            search_kind, cond = found
            qs = qs.filter(cond)
        else:
            qs = qs.filter(name__contains=q.strip())
    for name, value in (("tier", tier), ("stage", stage), ("kind", kind), ("owner__username", owner),
                        ("team__code", team), ("tags__name", tag)):
        if value:
            qs = qs.filter(**{name: value})
    page_size = max(1, min(int(page_size or 50), MAX_PAGE_SIZE))
    qs = qs.select_related("owner", "team").only(*LIST_COLUMNS).order_by("-created_at", "id")
    with transaction.atomic():
        page_obj = Paginator(qs, page_size, allow_empty_first_page=True).get_page(page)
        customers = list(page_obj.object_list)
        ids = [c.id for c in customers]
        tags = _tags_for(ids)
        keys = KeyBag.load(ids)
        mobile = catalog.get("customer.mobile")
        rows = [
            CustomerRow(c.id, c.kind, c.name, c.tier, c.stage, c.source, c.owner.username, c.owner.get_full_name(),
                        c.team.name, masked(c, mobile, keys, c.kind), tags.get(c.id, []), c.created_at, c.updated_at)
            for c in customers
        ]
        audit_record(actor=actor, event=events.CUSTOMER_LIST_VIEWED, target_type="customer", object_ids=ids,
                     detail={"page": page_obj.number, "filters": _filters(tier, stage, owner, team, tag, kind)})
        if search_kind:
            audit_record(actor=actor, event=events.CUSTOMER_SEARCHED, target_type="customer", fields=[search_kind],
                         object_ids=ids, detail={"matches": len(ids)})
    return ListResult(rows=rows, page=page_obj, search_kind=search_kind)


def _filters(*values) -> dict:
    names = ("tier", "stage", "owner", "team", "tag", "kind")
    return {n: v for n, v in zip(names, values, strict=True) if v}


def _tags_for(ids) -> dict:
    through = Customer.tags.through
    out: dict = {}
    for cid, name in through.objects.filter(customer_id__in=ids).values_list("customer_id", "tag__name"):
        out.setdefault(cid, []).append(name)
    return out


def customer_get(actor: Actor, customer_id) -> CustomerDetail:
    """One customer with every protected field masked. Audits CUSTOMER_VIEWED."""
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "view")
        keys = KeyBag.load([customer.id])
        fields = {}
        for pf in catalog.for_model("customer"):
            fields[pf.name] = ProtectedValue(
                pf.key, pf.name, str(pf.label), pf.level, masked(customer, pf, keys, customer.kind),
                may_reveal(actor, pf.level), getattr(customer, pf.column) is not None,
            )
        counts = {kind: spec.model.objects.filter(customer=customer, deleted_at__isnull=True).count()
                  for kind, spec in SPECS.items()}
        audit_record(actor=actor, event=events.CUSTOMER_VIEWED, target_type="customer", target_id=customer.id,
                     subject_id=customer.id)
    return CustomerDetail(customer, fields, list(customer.tags.values_list("name", flat=True)), counts)


@dataclass
class RecordRow:
    record: object
    masked: dict[str, str]


def customer_records(actor: Actor, customer_id, kind: str, *, limit: int = 200) -> list[RecordRow]:
    """A customer's contacts / interactions / opportunities / transactions, masked. Audited."""
    spec = SPECS[kind]
    with transaction.atomic():
        customer = get_for_action(actor, customer_id, "view")
        records = list(spec.model.objects.restrict(actor, "view").filter(customer=customer)[:limit])
        keys = KeyBag.load([customer.id])
        pfs = catalog.for_model(kind)
        rows = [RecordRow(r, {pf.name: masked(r, pf, keys) for pf in pfs}) for r in records]
        audit_record(actor=actor, event=events.CHILD_VIEWED, target_type=kind, subject_id=customer.id,
                     target_id=customer.id, object_ids=[r.id for r in records], fields=[kind])
    return rows


@dataclass
class HistoryRow:
    event: AuditEvent
    label: str


def customer_access_history(actor: Actor, customer_id, *, limit: int = 100) -> list[HistoryRow]:
    """Who read or changed this customer: from the audit log, for people who may see the customer."""
    customer = get_for_action(actor, customer_id, "view")
    rows = (AuditEvent.objects.filter(Q(subject_id=customer.id) | Q(target_id=customer.id))
            .order_by("-seq")[:limit])
    out = []
    for row in rows:
        try:
            label = str(registry.by_id(row.event_type).template).format(
                actor=row.actor_label, target="", fields=", ".join(row.fields))
        except KeyError:
            label = row.action
        out.append(HistoryRow(row, label))
    return out


def dashboard_counts(actor: Actor) -> dict:
    """Counts for the dashboard (not audited: no customer is identified)."""
    qs = Customer.objects.restrict(actor, "view")
    counts = {"total": qs.count()}
    for tier in ("core", "important", "ordinary"):
        counts[tier] = qs.filter(tier=tier).count()
    counts["active"] = qs.filter(stage="active").count()
    return counts

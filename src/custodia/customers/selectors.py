"""Reads of the customer registry: scope-filtered in SQL, masked by the field catalog, audited
in the same transaction (a list page records the ids it showed)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import EmploymentStatus
from custodia.access.models import Team, User
from custodia.access.policy import allows, may_reveal, staff_scope_q
from custodia.audit.models import AuditEvent
from custodia.audit.registry import registry
from custodia.audit.services import audit_record
from custodia.customers import events
from custodia.customers.models import Contact, Customer, Tag
from custodia.customers.record_services import SPECS, STAFF_FIELD
from custodia.customers.services import core_not_owned, get_for_action
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound
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


def audited_read():
    """The transaction of a read's audit event. Reads run first (on SQLite a write transaction
    would serialise every concurrent reader); the event commits before anything is returned, and
    a failing audit write fails the read: nothing is shown that is not on record."""
    return transaction.atomic()


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
    with audited_read():
        audit_record(actor=actor, event=events.CUSTOMER_LIST_VIEWED, target_type="customer", object_ids=ids,
                     detail={"page": page_obj.number, "filters": _filters(tier, stage, owner, team, tag, kind)}
                     | core_not_owned(actor, customers))
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
    customer = get_for_action(actor, customer_id, "view")
    keys = KeyBag.load([customer.id])
    fields = {}
    for pf in catalog.for_model("customer"):
        fields[pf.name] = ProtectedValue(
            pf.key, pf.name, str(pf.label), pf.level, masked(customer, pf, keys, customer.kind),
            may_reveal(actor, pf.level), getattr(customer, pf.column) is not None,
        )
    counts = _record_counts(customer.id)
    tags = list(customer.tags.values_list("name", flat=True))
    with audited_read():
        audit_record(actor=actor, event=events.CUSTOMER_VIEWED, target_type="customer", target_id=customer.id,
                     subject_id=customer.id, detail=core_not_owned(actor, [customer]) or None)
    return CustomerDetail(customer, fields, tags, counts)


@dataclass
class RecordRow:
    record: object
    masked: dict[str, str]


def customer_records(actor: Actor, customer_id, kind: str, *, limit: int = 200) -> list[RecordRow]:
    """A customer's contacts / interactions / opportunities / transactions, masked. Audited."""
    spec = SPECS[kind]
    customer = get_for_action(actor, customer_id, "view")
    qs = spec.model.objects.restrict(actor, "view").filter(customer=customer)
    if kind in STAFF_FIELD:
        qs = qs.select_related(STAFF_FIELD[kind])
    records = list(qs[:limit])
    keys = KeyBag.load([customer.id])
    pfs = catalog.for_model(kind)
    rows = [RecordRow(r, {pf.name: masked(r, pf, keys) for pf in pfs}) for r in records]
    with audited_read():
        audit_record(actor=actor, event=events.CHILD_VIEWED, target_type=kind, subject_id=customer.id,
                     target_id=customer.id, object_ids=[r.id for r in records], fields=[kind])
    return rows


@dataclass
class HistoryRow:
    event: AuditEvent
    label: str
    what: str = ""  # the label without the actor ("revealed Mobile"), for a who / what layout
    who: str = ""  # the actor's display name (or the system actor's label)


def customer_access_history(actor: Actor, customer_id, *, limit: int = 100) -> list[HistoryRow]:
    """Who read or changed this customer: from the audit log, for people who may see the customer."""
    customer = get_for_action(actor, customer_id, "view")
    rows = (AuditEvent.objects.filter(Q(subject_id=customer.id) | Q(target_id=customer.id))
            .order_by("-seq")[:limit])
    rows = list(rows)
    names = dict(User.objects.filter(pk__in={r.actor_id for r in rows if r.actor_id})
                 .values_list("pk", "display_name"))
    separator = str(_(", "))
    out = []
    for row in rows:
        fields = separator.join(field_label(f) for f in row.fields)
        who = names.get(row.actor_id) or row.actor_label
        try:
            template = str(registry.by_id(row.event_type).template)
        except KeyError:
            out.append(HistoryRow(row, row.action, row.action))
            continue
        out.append(HistoryRow(row, template.format(actor=who, target="", fields=fields),
                              template.format(actor="", target="", fields=fields).strip(), who))
    return out


def dashboard_counts(actor: Actor) -> dict:
    """Counts for the dashboard (not audited: no customer is identified)."""
    qs = Customer.objects.restrict(actor, "view")
    counts = {"total": qs.count()}
    for tier in ("core", "important", "ordinary"):
        counts[tier] = qs.filter(tier=tier).count()
    counts["active"] = qs.filter(stage="active").count()
    return counts


PLAIN_LABELS = {"kind": _("Kind"), "name": _("Name"), "tier": _("Tier"), "stage": _("Stage"),
                "source": _("Source"), "owner": _("Owner"), "tags": _("Tags")}


def field_label(name: str) -> str:
    """A field name of an audit event as the user reads it (catalog label or a plain field's)."""
    pf = catalog.CATALOG.get(f"customer.{name}")
    if pf is not None:
        return str(pf.label)
    return str(PLAIN_LABELS.get(name, name))


@dataclass
class FilterChoices:
    owners: list[tuple[str, str]]  # (username, display name)
    teams: list[tuple[str, str]]  # (code, name)
    tags: list[str]


def customer_filter_choices(actor: Actor, *, max_tags: int = 200) -> FilterChoices:
    """Options for the list filters: only owners, teams and tags that occur among the customers
    the actor may see, so the dropdowns reveal nothing beyond the actor's scope. Not audited (no
    customer is identified). Three indexed queries, whatever the number of customers."""
    if not allows(actor, "view"):
        return FilterChoices([], [], [])
    visible = Customer.objects.restrict(actor, "view")
    owners = (User.objects.filter(Exists(visible.filter(owner=OuterRef("pk"))))
              .order_by().annotate(k=Value("owner")).values_list("k", "username", "display_name"))
    teams = (Team.objects.filter(Exists(visible.filter(team=OuterRef("pk"))))
             .order_by().annotate(k=Value("team")).values_list("k", "code", "name"))
    people = sorted(owners.union(teams, all=True))  # one query for both
    tags = list(Tag.objects.filter(Exists(visible.filter(tags=OuterRef("pk"))))
                .order_by("name").values_list("name", flat=True)[:max_tags])
    return FilterChoices([(a, b or a) for k, a, b in people if k == "owner"],
                         [(a, b) for k, a, b in people if k == "team"], tags)


def assignable_owners(actor: Actor) -> list[tuple[str, str]]:
    """Staff the actor may make the owner of a customer: the people of the actor's data scope
    (access.policy.staff_scope_q): nobody for a rep (reps own what they create), the team and
    reports for a manager, every active sales member for all-scope roles. (username, name) pairs."""
    if not allows(actor, "add") and not allows(actor, "change"):
        return []
    people = User.objects.filter(is_active=True, team__isnull=False).exclude(
        employment_status=EmploymentStatus.DEPARTED)
    cond = staff_scope_q(actor, "add" if allows(actor, "add") else "change")
    if cond is not None:
        people = people.filter(cond)
    return [(u, d or u) for u, d in people.order_by("username").values_list("username", "display_name")]


CUSTOMER_ACTIONS = ("change", "delete", "share", "reveal")


def customer_actions(actor: Actor, customer_id) -> frozenset[str]:
    """Which of CUSTOMER_ACTIONS the actor may perform on this (visible) customer: the role
    allows the action and the grant that reaches the customer covers it (a time-bound grant may
    be view-only). For offering only the buttons that work."""
    return frozenset(a for a in CUSTOMER_ACTIONS if allows(actor, a)
                     and Customer.objects.restrict(actor, a).filter(pk=customer_id).exists())


def customer_field_for_reveal(actor: Actor, customer_id, field: str) -> tuple[catalog.ProtectedField, bool]:
    """The catalog entry of a customer's protected field for the reveal form, and whether the
    actor may reveal its level. NotFound when the customer is out of scope or the field is not
    protected. Reads no protected value (not audited; the reveal itself is)."""
    pf = catalog.CATALOG.get(f"customer.{field}")
    if pf is None:
        raise NotFound()
    get_for_action(actor, customer_id, "view")
    return pf, may_reveal(actor, pf.level)


# --- Records across customers (the REST API's contacts / interactions / opportunities / transactions)


@dataclass
class RecordPage:
    rows: list[RecordRow]
    page: object  # django.core.paginator.Page


def _record_rows(kind: str, records: list) -> list[RecordRow]:
    keys = KeyBag.load({r.customer_id for r in records})
    pfs = catalog.for_model(kind)
    return [RecordRow(r, {pf.name: masked(r, pf, keys) for pf in pfs}) for r in records]


def _records(actor: Actor, kind: str):
    spec = SPECS[kind]
    qs = spec.model.objects.restrict(actor, "view")
    return qs.select_related(STAFF_FIELD[kind]) if kind in STAFF_FIELD else qs


def record_list(actor: Actor, kind: str, *, customer_id=None, page: int = 1, page_size: int = 50) -> RecordPage:
    """One page of the records of ``kind`` the actor may see: of one customer (NotFound when out of
    scope) or of every customer in scope. Masked. Audits CHILD_VIEWED with the ids shown."""
    page_size = max(1, min(int(page_size or 50), MAX_PAGE_SIZE))
    qs, subject_id = _records(actor, kind), None
    if customer_id is not None:
        subject_id = get_for_action(actor, customer_id, "view").id
        qs = qs.filter(customer_id=subject_id)
    qs = qs.order_by(*SPECS[kind].model._meta.ordering, "id")
    page_obj = Paginator(qs, page_size, allow_empty_first_page=True).get_page(page)
    records = list(page_obj.object_list)
    rows = _record_rows(kind, records)
    with audited_read():
        audit_record(actor=actor, event=events.CHILD_VIEWED, target_type=kind, target_id=subject_id,
                     subject_id=subject_id, object_ids=[r.id for r in records], fields=[kind],
                     detail={"page": page_obj.number})
    return RecordPage(rows, page_obj)


def record_get(actor: Actor, kind: str, record_id) -> RecordRow:
    """One record of ``kind``, masked; NotFound when missing or out of scope. Audits CHILD_VIEWED."""
    try:
        record_id = uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound() from None
    record = _records(actor, kind).filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    row = _record_rows(kind, [record])[0]
    with audited_read():
        audit_record(actor=actor, event=events.CHILD_VIEWED, target_type=kind, target_id=record.id,
                     subject_id=record.customer_id, object_ids=[record.id], fields=[kind])
    return row


def customer_record_counts(actor: Actor, customer_id) -> dict[str, int]:
    """How many live contacts / interactions / opportunities / transactions a customer has (the
    tab counts). NotFound when out of scope. Not audited: counts show no record's content."""
    return _record_counts(get_for_action(actor, customer_id, "view").id)


def _record_counts(customer_id) -> dict[str, int]:
    """Live records of each kind of one customer, in one small statement (the ORM's compiled
    subqueries cost 40× more here, on every detail page)."""
    parts, params = [], []
    for kind, spec in SPECS.items():
        table = connection.ops.quote_name(spec.model._meta.db_table)
        parts.append(f"SELECT %s, COUNT(*) FROM {table} WHERE customer_id = %s AND deleted_at IS NULL")
        params += [kind, _db_uuid(customer_id)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = dict(cursor.fetchall())
    return {kind: found.get(kind, 0) for kind in SPECS}


def _db_uuid(value):
    return Customer._meta.pk.get_db_prep_value(uuid.UUID(str(value)), connection)

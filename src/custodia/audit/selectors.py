"""Reads of the audit log for the UI: search (audited), the log's integrity status and one event's
inclusion proof.

Who may call: people with ``read_audit`` (security admin, compliance, auditor; a superuser) and
system actors; anyone else gets ``PermissionDenied``. Nothing returned holds personal data in
clear: events carry staff usernames, pseudonymous customer ids and ciphertext only, and these
selectors never look up a customer's name.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import Action
from custodia.access.models import User
from custodia.access.policy import allows
from custodia.audit import events, heads, leaf, proofs, sequencer, tiles
from custodia.audit.models import AuditEvent, TreeHead
from custodia.audit.registry import registry
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied

PAGE_SIZE = 50
COUNT_CAP = 10_000  # a search never counts more than this many matches (the log may hold billions)


def check_may_read(actor: Actor) -> None:
    if not (actor.is_system or allows(actor, Action.READ_AUDIT)):
        raise PermissionDenied(_("Reading the audit log needs the read_audit permission."))


# -- search --------------------------------------------------------------------------------------

@dataclass
class EventRow:
    event: AuditEvent
    sentence: str  # the registry's template with the actor's username
    known: bool  # the event type is in the registry
    leaf_index: int | None  # None: not integrated into the log yet (pending)
    fields: list[str] = field(default_factory=list)  # labels of the fields touched or shown


@dataclass
class SearchResult:
    rows: list[EventRow]
    page: Page
    capped: bool  # more than COUNT_CAP events match; the count shown is the cap


class _CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` + 1 rows: one indexed LIMIT query, whatever the log's size."""

    @cached_property
    def count(self) -> int:
        return min(self.object_list[:COUNT_CAP + 1].count(), COUNT_CAP + 1)


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def as_time(value, *, end: bool = False) -> dt.datetime | None:
    """A date means the whole day in the display time zone: ``since`` from its start, ``until`` to its end."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return _local_start(value + dt.timedelta(days=1) if end else value)


def person_filter(person: str) -> Q:
    """Events acted by ``person``: a staff username (by their id, indexed) or a system actor's label."""
    user_id = None if person.startswith("system:") else \
        User.objects.filter(username=person).values_list("pk", flat=True).first()
    if user_id is not None:
        return Q(actor_id=user_id)
    return Q(actor_id__isnull=True, actor_label=person) if person.startswith("system:") else Q(actor_label=person)


def search_filter(*, customer_id=None, person: str = "", action: str = "", since=None, until=None) -> Q:
    q = Q()
    if customer_id:
        q &= Q(subject_id=customer_id) | Q(target_id=customer_id)
    if person:
        q &= person_filter(person)
    if action:
        q &= Q(event_type=registry.get(action).id)
    if since is not None:
        q &= Q(occurred_at__gte=as_time(since))
    if until is not None:
        q &= Q(occurred_at__lt=as_time(until, end=True))
    return q


def audit_search(actor: Actor, *, customer_id=None, person: str | None = None, action: str | None = None,
                 since=None, until=None, page=1) -> SearchResult:
    """One page (50 events, newest first) of the events matching every filter given: the customer
    concerned (its id: subject or target), the person who acted (username), the action (api name)
    and the time (``since`` inclusive; a date ``until`` includes that day). Records AUDIT_SEARCHED
    with the filters before anything is returned (a failing audit write fails the search).
    Raises ``PermissionDenied`` without read_audit, ``UnknownEvent`` for an unknown action."""
    check_may_read(actor)
    person, action = (person or "").strip(), (action or "").strip()
    if customer_id is not None and not isinstance(customer_id, uuid.UUID):
        customer_id = uuid.UUID(str(customer_id))
    qs = AuditEvent.objects.filter(search_filter(customer_id=customer_id, person=person, action=action,
                                                 since=since, until=until)).order_by("-seq")
    paginator = _CappedPaginator(qs, PAGE_SIZE, allow_empty_first_page=True)
    page_obj = paginator.get_page(page)
    events_ = list(page_obj.object_list)
    indexes = tiles.leaf_indexes(e.seq for e in events_)
    rows = [event_row(e, indexes.get(e.seq)) for e in events_]
    filters = {"customer": str(customer_id) if customer_id else None, "person": person or None,
               "action": action or None, "since": _iso(since), "until": _iso(until)}
    with transaction.atomic():
        # The customer filter goes in the detail, not the subject: an auditor reading the log is
        # not processing that customer's data, and the customer's access history stays theirs.
        audit_record(actor=actor, event=events.AUDIT_SEARCHED, target_type="audit_log",
                     detail={"filters": filters, "page": page_obj.number,
                             "matches": min(paginator.count, COUNT_CAP)})
    return SearchResult(rows=rows, page=page_obj, capped=paginator.count > COUNT_CAP)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def field_label(name: str) -> str:
    """A field name of an event as the user reads it (the customers app's labels)."""
    from custodia.customers.selectors import field_label as customer_field_label

    return customer_field_label(name)


def event_row(event: AuditEvent, index: int | None = None) -> EventRow:
    """An event with its sentence from the registry (search results, proofs, monitoring alerts)."""
    labels = [field_label(f) for f in event.fields or []]
    try:
        template = str(registry.by_id(event.event_type).template)
    except KeyError:
        return EventRow(event, event.action, False, index, labels)
    sentence = template.format(actor=event.actor_label, target="", fields=str(_(", ")).join(labels))
    return EventRow(event, sentence, True, index, labels)


# -- integrity -----------------------------------------------------------------------------------

@dataclass
class LogStatus:
    size: int
    root_hash: str  # base64
    last_integrated: dt.datetime | None
    pending: int
    head: dict | None  # heads.head_json of the latest signed head
    head_time: dt.datetime | None
    head_count: int
    public_key_pem: str
    key_id: str
    witnesses: list[heads.Witness]
    published: dict | None  # the last head in the file witness
    witness_error: str = ""


def log_status(actor: Actor) -> LogStatus:
    """The log's size, pending events, latest signed head, public key and witnesses (read_audit).
    Not audited: it shows hashes and configuration, no event and nobody's data."""
    check_may_read(actor)
    state = sequencer.log_state()
    pending = sequencer.pending_count(state.last_seq)
    head = heads.latest_head()
    witness_error = ""
    try:
        witnesses = heads.witnesses()
        published = heads.last_published()
    except (ValueError, OSError) as exc:
        witnesses, published, witness_error = [], None, str(exc)
    return LogStatus(
        size=state.size, root_hash=base64.b64encode(bytes(state.root_hash)).decode(),
        last_integrated=state.updated_at if state.pk and state.size else None, pending=pending,
        head=heads.head_json(head) if head else None,
        head_time=dt.datetime.fromtimestamp(head.timestamp_ms / 1000, dt.UTC) if head else None,
        head_count=TreeHead.objects.count(), public_key_pem=heads.public_key_pem().decode(),
        key_id=heads.key_id(heads.public_key()), witnesses=witnesses, published=published,
        witness_error=witness_error)


# -- one event's proof ---------------------------------------------------------------------------

@dataclass
class EventProof:
    row: EventRow
    leaf_input: str  # the canonical JSON, exactly the leaf's bytes (UTF-8)
    leaf_input_pretty: str
    pending: bool  # not integrated yet, or not covered by a signed head yet
    proof: dict | None  # proofs.inclusion(...) when covered
    hash_matches: bool  # SHA-256(0x00 || leaf input) is the leaf hash stored in the log (or with the event)

    def as_json(self) -> dict:
        out = dict(self.proof or {})
        out["leaf_input"] = self.leaf_input
        return out


def event_proof(actor: Actor, event_id) -> EventProof:
    """One event's leaf input and its inclusion proof in the latest signed tree head (read_audit).
    Never signs a head: an event not covered yet is reported as pending. ``NotFound`` for an
    unknown id (or one whose body retention pruned)."""
    check_may_read(actor)
    event = AuditEvent.objects.filter(id=event_id).first()
    if event is None:
        raise NotFound()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {leaf.leaf_select(connection.vendor)} FROM audit_auditevent e WHERE e.seq = %s",
                       [event.seq])
        leaf_input = leaf.from_row(cursor.fetchone()).decode()
    index = tiles.leaf_index_of(event.seq)
    head = heads.latest_head()
    proof = None
    if index is not None and head is not None and head.size > index:
        try:
            proof = proofs.inclusion(event.id)
        except proofs.ProofUnavailable:
            proof = None
    computed = leaf.leaf_hash(leaf_input.encode())
    stored = base64.b64decode(proof["leaf_hash"]) if proof else bytes(event.leaf_hash or b"")
    pretty = json.dumps(json.loads(leaf_input), indent=2, ensure_ascii=False, sort_keys=True)
    return EventProof(row=event_row(event, index), leaf_input=leaf_input, leaf_input_pretty=pretty,
                      pending=proof is None, proof=proof, hash_matches=computed == stored)


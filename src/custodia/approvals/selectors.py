"""Reads of approvals: the requests a person made, and those awaiting their decision."""

from __future__ import annotations

from django.utils import timezone

from custodia.approvals.choices import RequestKind, RequestStatus
from custodia.approvals.models import AccessRequest
from custodia.approvals.services import may_decide
from custodia.kernel.actor import Actor

LIMIT = 200


def effective_status(req: AccessRequest, now=None) -> str:
    """The status as it stands now: a pending or approved request past its time is expired even
    before the job marks it."""
    now = now or timezone.now()
    if req.status in (RequestStatus.PENDING, RequestStatus.APPROVED) and req.expires_at <= now:
        return RequestStatus.EXPIRED
    return req.status


BADGES = {"pending": "warn", "approved": "ok", "rejected": "danger", "used": "neutral", "expired": "neutral"}


def _annotate(rows: list[AccessRequest]) -> list[AccessRequest]:
    """Display attributes: state as it stands now, its badge, the field's label, the export's terms."""
    from custodia.protection import catalog

    now = timezone.now()
    for req in rows:
        req.state = effective_status(req, now)
        req.state_label = RequestStatus(req.state).label
        req.badge = BADGES[req.state]
        pf = catalog.CATALOG.get(f"customer.{req.field}") if req.field else None
        req.field_label = pf.label if pf else ""
        req.field_level = pf.level if pf else 0
        req.field_level_label = catalog.Level(pf.level).label if pf else ""
        params = req.export_params or {}
        req.filters = [(k, v) for k, v in (params.get("filters") or {}).items() if v]
        req.masked = params.get("masked", True)
        req.cli = _cli(req) if req.kind == RequestKind.EXPORT else ""
    return rows


def _cli(req: AccessRequest) -> str:
    """The command that uses an approved export request (the exact parameters it was approved for)."""
    params = req.export_params or {}
    parts = ["custodia export customers"] + ([] if params.get("masked", True) else ["--unmasked"])
    parts += [f"--{k} {v}" for k, v in (params.get("filters") or {}).items() if v]
    return " ".join([*parts, f"--request {req.pk}", f"--actor {req.requester.username}"])


def requests_mine(actor: Actor) -> list[AccessRequest]:
    if actor.user_id is None:
        return []
    qs = (AccessRequest.objects.filter(requester_id=actor.user_id)
          .select_related("customer", "decided_by", "requester").order_by("-created_at"))
    return _annotate(list(qs[:LIMIT]))


def requests_to_decide(actor: Actor) -> list[AccessRequest]:
    """Pending, unexpired requests of others that ``actor`` may approve or reject (the policy:
    approve right, scope over the customer or the export's rows, the levels concerned)."""
    from custodia.access.policy import allows
    from custodia.customers.models import Customer

    if actor.user_id is None or not allows(actor, "approve"):
        return []
    pending = list(AccessRequest.objects.filter(status=RequestStatus.PENDING, expires_at__gt=timezone.now())
                   .exclude(requester_id=actor.user_id).select_related("customer", "requester")
                   .order_by("created_at")[:LIMIT])
    customer_ids = {r.customer_id for r in pending if r.kind == RequestKind.REVEAL}
    covered = set(Customer.objects.restrict(actor, "approve").filter(pk__in=customer_ids).values_list("pk", flat=True))
    out = []
    for req in pending:
        if req.kind == RequestKind.REVEAL and req.customer_id not in covered:
            continue
        if may_decide(actor, req):
            out.append(req)
    return _annotate(out)


def reveal_requests_open(actor: Actor, customer_id) -> dict[str, str]:
    """The actor's live reveal requests for one customer: field name -> "approved" (ready to use)
    or "pending" (awaiting a decision); approved wins. For the customer page's buttons."""
    if actor.user_id is None:
        return {}
    out: dict[str, str] = {}
    for field, status in (AccessRequest.objects.filter(
            kind=RequestKind.REVEAL, requester_id=actor.user_id, customer_id=customer_id,
            status__in=(RequestStatus.PENDING, RequestStatus.APPROVED), expires_at__gt=timezone.now())
            .values_list("field", "status")):
        if out.get(field) != RequestStatus.APPROVED:
            out[field] = status
    return out


def has_requests(actor: Actor) -> bool:
    return actor.user_id is not None and AccessRequest.objects.filter(requester_id=actor.user_id).exists()

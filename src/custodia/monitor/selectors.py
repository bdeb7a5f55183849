"""Reads of monitoring for the triage pages and the API: alerts (audited: MONITOR_ALERTS_VIEWED),
one alert with its triggering audit events and trail, the rules with their history, who may be
assigned an alert, how many alerts are open (the navigation badge).

Who may call: ``services.may_view`` (security admins, compliance officers, auditors, a superuser)
and system actors; anyone else gets ``PermissionDenied``. Nothing here shows a customer's
personal data: events name customers by pseudonymous id, staff by username.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound
from custodia.monitor import events
from custodia.monitor.choices import AlertStatus
from custodia.monitor.models import Alert, Rule, RuleVersion, Suspension
from custodia.monitor.services import TRIAGE_ROLES, check_view

PAGE_SIZE = 50
ACTIVE = "active"  # the default status filter: open and investigating
STATUS_FILTERS = (ACTIVE, *AlertStatus.values, "all")
COUNT_DAYS = 30


@dataclass
class AlertFilters:
    status: str = ACTIVE
    severity: str = ""
    rule: str = ""
    assignee: str = ""  # "" anyone, "mine", "none"
    person: str = ""  # a username

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class AlertPage:
    page: Page
    counts: dict[str, int]  # per status filter (with the other filters applied)


def _status_q(status: str) -> Q:
    if status == ACTIVE:
        return Q(status__in=(AlertStatus.OPEN, AlertStatus.INVESTIGATING))
    if status in AlertStatus.values:
        return Q(status=status)
    return Q()


def _filtered(actor: Actor, f: AlertFilters):
    qs = Alert.objects.all()
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.rule:
        qs = qs.filter(rule_id=f.rule)
    if f.assignee == "mine":
        qs = qs.filter(assignee_id=actor.user_id)
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    if f.person:
        qs = qs.filter(Q(person__username=f.person) | Q(source_ip=f.person))
    return qs


def status_counts(qs) -> dict[str, int]:
    by = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    counts = {s: by.get(s, 0) for s in AlertStatus.values}
    counts[ACTIVE] = counts[AlertStatus.OPEN] + counts[AlertStatus.INVESTIGATING]
    counts["all"] = sum(by.values())
    return counts


def alert_list(actor: Actor, filters: AlertFilters | None = None, *, page=1, page_size: int = PAGE_SIZE) -> AlertPage:
    """One page of alerts, most recent activity first, and the count per status. Audited
    (MONITOR_ALERTS_VIEWED with the filters) before anything is returned."""
    check_view(actor)
    f = filters or AlertFilters()
    base = _filtered(actor, f)
    qs = base.filter(_status_q(f.status)).select_related("rule", "person", "assignee").order_by("-last_at")
    paginator = Paginator(qs, min(max(int(page_size), 1), 500), allow_empty_first_page=True)
    page_obj = paginator.get_page(page)
    counts = status_counts(base)
    with transaction.atomic():
        audit_record(actor=actor, event=events.ALERTS_VIEWED, target_type="alert",
                     detail={"filters": f.as_dict(), "page": page_obj.number, "matches": paginator.count})
    return AlertPage(page=page_obj, counts=counts)


@dataclass
class AlertView:
    alert: Alert
    events: list = field(default_factory=list)  # audit.selectors.EventRow-like dicts, in time order
    missing_events: int = 0  # ids no longer in the log (pruned) or never committed
    notes: list = field(default_factory=list)
    suspension: Suspension | None = None  # in force
    suspensions: list = field(default_factory=list)


def _alert(alert_id) -> Alert:
    try:
        return Alert.objects.select_related("rule", "person", "assignee").get(pk=alert_id)
    except (Alert.DoesNotExist, ValidationError, ValueError):
        raise NotFound() from None


def alert_get(actor: Actor, alert_id) -> AlertView:
    """One alert with its triggering audit events, its triage trail and suspensions. Audited
    (MONITOR_ALERTS_VIEWED naming the alert)."""
    check_view(actor)
    alert = _alert(alert_id)
    view = AlertView(alert=alert, notes=list(alert.notes.all()),
                     suspensions=list(alert.suspensions.all()))
    view.suspension = next((s for s in view.suspensions if s.lifted_at is None), None)
    view.events, view.missing_events = trigger_events(alert.event_ids)
    with transaction.atomic():
        audit_record(actor=actor, event=events.ALERTS_VIEWED, target_type="alert", target_id=alert.pk,
                     detail={"alert": str(alert.pk), "rule": alert.rule_id})
    return view


def trigger_events(event_ids: list) -> tuple[list[dict], int]:
    """The audit events an alert names, oldest first, each with its sentence from the registry."""
    from custodia.audit.models import AuditEvent
    from custodia.audit.selectors import event_row

    ids = []
    for raw in event_ids or []:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    rows = list(AuditEvent.objects.filter(id__in=ids).order_by("seq"))
    out = []
    for e in rows:
        attempted = (e.detail or {}).get("attempted") or {}
        out.append({"event": e, "sentence": event_row(e).sentence, "objects": len(e.object_ids or []),
                    "stopped": attempted.get("action") or ""})
    return out, len(set(event_ids or [])) - len(rows)


def triage_people() -> list:
    """Active people an alert may be assigned to (security admins, compliance officers, superusers)."""
    from custodia.access.models import User

    roles = sorted(TRIAGE_ROLES - {"admin"})
    return list(User.objects.filter(is_active=True).filter(Q(role__in=roles) | Q(is_superuser=True))
                .order_by("username"))


def open_count() -> int:
    return Alert.objects.filter(status=AlertStatus.OPEN).count()


# --- rules ---------------------------------------------------------------------------------------


@dataclass
class RuleRow:
    rule: Rule
    last: RuleVersion | None
    alerts: int  # raised in the last 30 days


def rule_list(actor: Actor) -> list[RuleRow]:
    """Every rule with its latest version row and its alerts of the last 30 days (three queries).
    Not audited: rules hold no personal data."""
    check_view(actor)
    rules = list(Rule.objects.order_by("code"))
    latest = {}
    for v in RuleVersion.objects.order_by("rule_id", "-version"):
        latest.setdefault(v.rule_id, v)
    since = timezone.now() - dt.timedelta(days=COUNT_DAYS)
    counts = dict(Alert.objects.filter(first_at__gte=since).order_by().values_list("rule").annotate(n=Count("id")))
    return [RuleRow(rule=r, last=latest.get(r.code), alerts=counts.get(r.code, 0)) for r in rules]


def rule_get(actor: Actor, code: str) -> tuple[Rule, list[RuleVersion]]:
    """A rule and its versions, newest first."""
    check_view(actor)
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise NotFound()
    return rule, list(rule.versions.all())


def people_by_id(ids) -> dict[str, object]:
    """Staff by id (for naming the people in dry-run results)."""
    from custodia.access.models import User

    clean = []
    for raw in ids:
        try:
            clean.append(uuid.UUID(str(raw)))
        except (TypeError, ValueError):
            continue
    return {str(u.pk): u for u in User.objects.filter(pk__in=clean)}

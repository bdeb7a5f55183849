"""Writes of monitoring: recording what the detectors found (alerts, interventions, suspensions),
editing rules, triaging alerts, lifting suspensions. Every write is audited in its transaction.

Who may do what (roles are the built-in codes; a superuser acts as "admin"):
- view alerts: security admins, compliance officers, auditors;
- triage alerts (status, assignee, notes): security admins and compliance officers;
- edit rules, run them over history, lift a suspension: security admins.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.monitor import events
from custodia.monitor.choices import CLOSED_STATUSES, SEVERITY_RANK, TRANSITIONS, AlertStatus, Mode, Response
from custodia.monitor.detectors import clean_params, clean_responses
from custodia.monitor.engine import Finding
from custodia.monitor.models import Alert, AlertNote, Rule, RuleVersion, Suspension

VIEW_ROLES = frozenset({"admin", "secadmin", "compliance", "auditor"})
TRIAGE_ROLES = frozenset({"admin", "secadmin", "compliance"})
RULE_ROLES = frozenset({"admin", "secadmin"})
MONITOR = Actor.system("monitor")
MAX_EVENT_IDS = 200


def may_view(actor: Actor) -> bool:
    return actor.is_system or actor.role in VIEW_ROLES


def may_triage(actor: Actor) -> bool:
    return actor.is_system or actor.role in TRIAGE_ROLES


def may_triage_alert(actor: Actor, alert: Alert) -> bool:
    """Triage roles may triage an alert unless it is about themselves (nobody closes their own case)."""
    return may_triage(actor) and not (alert.person_id is not None and alert.person_id == actor.user_id)


def may_edit_rules(actor: Actor) -> bool:
    return actor.is_system or actor.role in RULE_ROLES


def check_view(actor: Actor) -> None:
    if not may_view(actor):
        raise PermissionDenied(_("Alerts are for security admins, compliance officers and auditors."))


def _check_triage(actor: Actor) -> None:
    if not may_triage(actor):
        raise PermissionDenied(_("Only security admins and compliance officers triage alerts."))


def _check_rules(actor: Actor) -> None:
    if not may_edit_rules(actor):
        raise PermissionDenied(_("Only security admins change detector rules."))


# --- what the detectors found ----------------------------------------------------------------


def findings_record(scope) -> list[Alert]:
    """Record the findings of one request or command (``inline.scope``): fold them into alerts,
    audit the intervention and carry out a suspension. Runs after the request's own transaction."""
    from custodia.monitor import notify

    findings: list[Finding] = scope.findings
    stop: Finding | None = scope.intervention
    new_alerts: list[Alert] = []
    with transaction.atomic():
        intervention_event = None
        if stop is not None:
            # The stopped action left no event of its own: the intervention's event stands for it.
            intervention_event = str(audit_record(
                actor=MONITOR, event=events.INTERVENED, target_type="user",
                target_id=uuid.UUID(stop.person_id) if stop.person_id else None, outcome="failure",
                detail={"response": stop.response, "rule": stop.rule, "rule_version": stop.version,
                        "severity": stop.severity, "reason": stop.reason, "value": stop.value, "limit": stop.limit,
                        "attempted": _attempted(scope.attempted)}).id)
        stop_alert = None
        for finding in findings:
            alert, created = _fold(finding, intervention_event or finding.event_id, intervened=finding is stop)
            if finding is stop:
                stop_alert = alert
            if created:
                new_alerts.append(alert)
                audit_record(actor=MONITOR, event=events.ALERT_RAISED, target_type="alert", target_id=alert.pk,
                             detail=_alert_detail(alert))
        if stop is not None and stop.response == Response.SUSPEND:
            _suspend(stop_alert, stop, scope)
        for alert in new_alerts:
            notify.queue(alert)
    return new_alerts


def _attempted(attempted: dict) -> dict:
    return {k: (str(v) if v is not None else None) for k, v in attempted.items()}


def _alert_detail(alert: Alert) -> dict:
    return {"rule": alert.rule_id, "rule_version": alert.rule_version, "severity": alert.severity,
            "reason": alert.reason, "subject": alert.subject, "value": alert.value, "limit": alert.limit,
            "response": alert.response}


def _fold(finding: Finding, event_id: str, *, intervened: bool) -> tuple[Alert, bool]:
    """Add a finding to the open alert of its rule and subject, or open a new one."""
    since = finding.at - dt.timedelta(seconds=finding.dedup_seconds)
    alert = (Alert.objects.select_for_update().filter(dedup_key=finding.dedup_key, last_at__gte=since)
             .exclude(status__in=CLOSED_STATUSES).order_by("-last_at").first())
    if alert is not None:
        alert.last_at = max(alert.last_at, finding.at)
        alert.occurrences += 1
        if len(alert.event_ids) < MAX_EVENT_IDS:
            alert.event_ids = [*alert.event_ids, event_id]
        if SEVERITY_RANK[finding.severity] > SEVERITY_RANK[alert.severity]:
            alert.severity, alert.reason, alert.response = finding.severity, finding.reason, finding.response
        alert.value = max(alert.value, finding.value)
        alert.interventions += int(intervened)
        alert.save(update_fields=["last_at", "occurrences", "event_ids", "severity", "reason", "response", "value",
                                  "interventions"])
        return alert, False
    person_id = finding.person_id or None
    alert = Alert.objects.create(
        rule_id=finding.rule, rule_version=finding.version, severity=finding.severity, reason=finding.reason,
        subject=finding.subject, dedup_key=finding.dedup_key, person_id=person_id, source_ip=finding.source_ip,
        value=finding.value, limit=finding.limit, window_seconds=finding.window_seconds, response=finding.response,
        interventions=int(intervened), event_ids=[event_id], detail=finding.detail, first_at=finding.at,
        last_at=finding.at,
    )
    return alert, True


def _suspend(alert: Alert, finding: Finding, scope) -> None:
    """Suspend the person pending review: inactive (every session ends and every API token is
    revoked by the identity guard), with a suspension row a security admin lifts."""
    from custodia.access.models import User

    user = User.objects.select_for_update().filter(pk=finding.person_id).first()
    if user is None:
        return
    if not Suspension.objects.filter(person=user, lifted_at__isnull=True).exists():
        Suspension.objects.create(person=user, alert=alert, started_at=timezone.now())
        audit_record(actor=MONITOR, event=events.ACCOUNT_SUSPENDED, target_type="user", target_id=user.pk,
                     detail={"alert": str(alert.pk), "rule": finding.rule, "severity": finding.severity})
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    request = getattr(scope, "request", None)
    if request is not None and hasattr(request, "session"):
        request.session.flush()  # this request's session ended too: it must not be saved again


# --- rules -----------------------------------------------------------------------------------


def _cleaned(rule: Rule, params: dict | None, responses: dict | None, errors: dict) -> tuple[dict, dict]:
    """The rule's parameters and responses with the given ones validated in (None: unchanged);
    field errors are added to ``errors``."""
    new_params, new_responses = rule.params, rule.responses
    try:
        if params is not None:
            new_params = clean_params(rule.kind, params)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        if responses is not None:
            new_responses = clean_responses(rule.kind, responses)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    return new_params, new_responses


def rule_update(*, actor: Actor, code: str, name: str | None = None, params: dict | None = None,
                responses: dict | None = None, mode: str | None = None, reason: str = "") -> Rule:
    """Change a rule: a new version (RuleVersion) and an audit event with before and after."""
    _check_rules(actor)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why the rule changes (kept with the version).")]
    if mode is not None and mode not in Mode.values:
        errors["mode"] = [_("Choose a mode from the list.")]
    if name is not None and not name.strip():
        errors["name"] = [_("This field is required.")]
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(code=code).first()
        if rule is None:
            raise NotFound()
        new_params, new_responses = _cleaned(rule, params, responses, errors)
        if errors:
            raise ValidationError(errors)
        before = {"name": rule.name, "params": rule.params, "responses": rule.responses, "mode": rule.mode}
        rule.name = (name or rule.name).strip()[:120]
        rule.params, rule.responses = new_params, new_responses
        rule.mode = mode or rule.mode
        after = {"name": rule.name, "params": rule.params, "responses": rule.responses, "mode": rule.mode}
        if after == before:
            return rule
        rule.version += 1
        rule.save()
        RuleVersion.objects.create(rule=rule, version=rule.version, name=rule.name, params=rule.params,
                                   responses=rule.responses, mode=rule.mode, changed_by=actor.label,
                                   changed_at=timezone.now(), reason=reason[:300])
        audit_record(actor=actor, event=events.RULE_CHANGED, target_type="monitor_rule",
                     detail={"rule": code, "version": rule.version, "reason": reason[:300], "before": before,
                             "after": after})
    from custodia.monitor.inline import LIVE

    LIVE.invalidate()
    return rule


# --- triage ----------------------------------------------------------------------------------


def _alert_for_update(alert_id) -> Alert:
    try:
        return Alert.objects.select_for_update().get(pk=alert_id)
    except (Alert.DoesNotExist, ValidationError, ValueError):
        raise NotFound() from None


def alert_update(*, actor: Actor, alert_id, status: str | None = None, assignee: str | None = None,
                 note: str = "") -> Alert:
    """Move an alert along open → investigating → closed (confirmed / false positive), assign it
    ("" unassigns), add a note. Closing needs a note saying why. Audited (MONITOR_ALERT_UPDATED)."""
    from custodia.access.models import User

    _check_triage(actor)
    note = (note or "").strip()
    with transaction.atomic():
        alert = _alert_for_update(alert_id)
        if not may_triage_alert(actor, alert):
            raise PermissionDenied(_("This alert is about you: another security admin or compliance officer "
                                     "triages it."))
        errors = {}
        status_from = alert.status
        if status and status != alert.status:
            if status not in AlertStatus.values:
                errors["status"] = [_("Choose a status from the list.")]
            elif status not in TRANSITIONS[alert.status]:
                errors["status"] = [_("An alert cannot go from “%(from)s” to “%(to)s”.") % {
                    "from": AlertStatus(alert.status).label, "to": AlertStatus(status).label}]
            elif status in CLOSED_STATUSES and not note:
                errors["note"] = [_("Say why you close the alert.")]
        new_assignee = alert.assignee
        if assignee is not None:
            if assignee == "":
                new_assignee = None
            else:
                new_assignee = User.objects.filter(username=assignee, is_active=True).first()
                if new_assignee is None or not may_triage(Actor.for_user(new_assignee)):
                    errors["assignee"] = [_("Assign the alert to an active security admin or compliance officer.")]
                elif new_assignee.pk == alert.person_id:
                    errors["assignee"] = [_("The alert is about this person: assign it to someone else.")]
        if len(note) > 4000:
            errors["note"] = [_("Ensure this value has at most 4000 characters.")]
        if errors:
            raise ValidationError(errors)
        changed = {}
        if status and status != alert.status:
            alert.status = status
            alert.closed_at = timezone.now() if status in CLOSED_STATUSES else None
            changed["status"] = [status_from, status]
        if assignee is not None and new_assignee != alert.assignee:
            changed["assignee"] = [alert.assignee.username if alert.assignee else "",
                                   new_assignee.username if new_assignee else ""]
            alert.assignee = new_assignee
        if not changed and not note:
            return alert
        alert.save()
        AlertNote.objects.create(alert=alert, author=actor.label, text=note,
                                 status_from=status_from if "status" in changed else "",
                                 status_to=alert.status if "status" in changed else "",
                                 assignee=changed.get("assignee", ["", ""])[1])
        audit_record(actor=actor, event=events.ALERT_UPDATED, target_type="alert", target_id=alert.pk,
                     detail={"changed": changed, "note": bool(note)})
    return alert


def suspension_lift(*, actor: Actor, alert_id, reason: str) -> Suspension:
    """Lift the suspension an alert caused: the person may sign in again (new sessions; API
    tokens stay revoked). Audited (MONITOR_SUSPENSION_LIFTED)."""
    from custodia.access.models import User

    _check_rules(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the suspension is lifted.")]})
    with transaction.atomic():
        suspension = (Suspension.objects.select_for_update().filter(alert_id=alert_id, lifted_at__isnull=True)
                      .first())
        if suspension is None:
            raise ValidationError({"reason": [_("This alert has no suspension in force.")]})
        if suspension.person_id == actor.user_id:
            raise PermissionDenied(_("This suspension is yours: another security admin lifts it."))
        suspension.lifted_at = timezone.now()
        suspension.lifted_by = actor.label
        suspension.lift_reason = reason[:300]
        suspension.save()
        user = User.objects.select_for_update().get(pk=suspension.person_id)
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(actor=actor, event=events.SUSPENSION_LIFTED, target_type="user", target_id=user.pk,
                     detail={"alert": str(alert_id), "reason": reason[:300]})
    return suspension


# --- offline runs: replays of recorded events and dry runs over the audit log -----------------


def replay_rules(codes: list[str] | None = None) -> list:
    """The rules a replay evaluates: those named (whatever their mode), else every rule that is
    on or in dry run. Unknown codes are a field error."""
    from custodia.monitor.rules import spec

    if codes:
        rules = {r.code: r for r in Rule.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in rules]
        if unknown:
            raise ValidationError({"rules": [_("No detector rule with code %(codes)s.") % {
                "codes": ", ".join(unknown)}]})
        chosen = [rules[c] for c in dict.fromkeys(codes)]
    else:
        chosen = list(Rule.objects.filter(mode__in=(Mode.ON, Mode.DRY_RUN)))
    return [dataclasses.replace(spec(r), mode=Mode.ON) for r in chosen]


def history_replay(*, actor: Actor, lines, source: str, codes: list[str] | None = None, on_alert=None):
    """Run a JSON-lines event stream (``history.read_lines``) through the detectors with a fresh
    memory store: nothing live is touched. Who: people who may view alerts, and the console
    operator. Audits MONITOR_REPLAYED (file name, events, alerts) once the whole stream has been
    read; a bad line raises ``history.LineError`` and nothing is recorded."""
    from custodia.monitor import history

    check_view(actor)
    specs = replay_rules(codes)
    result = history.run(history.read_lines(lines), specs, on_alert=on_alert)
    with transaction.atomic():
        audit_record(actor=actor, event=events.REPLAYED, target_type="monitor_rule",
                     detail={"file": str(source)[:200], "events": result.events, "alerts": len(result.alerts),
                             "rules": [s.code for s in specs]})
    return result


def rule_dry_run(*, actor: Actor, code: str, days, params: dict | None = None, responses: dict | None = None):
    """Run a rule over the last ``days`` days (1–90) of the audit log, as saved or with the unsaved
    ``params`` / ``responses`` of the editor (validated like a save: ValidationError keyed by
    parameter name or ``response_<severity>``), switched on whatever its mode. Nothing live is
    touched. Security admins only. Audited (MONITOR_RULE_DRY_RUN: rule, days, alerts, unsaved)."""
    from custodia.monitor.engine import RuleSpec
    from custodia.monitor.history import check_days, dry_run

    _check_rules(actor)
    errors = {}
    try:
        days = check_days(days)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise NotFound()
    new_params, new_responses = _cleaned(rule, params, responses, errors)
    if errors:
        raise ValidationError(errors)
    unsaved = new_params != rule.params or new_responses != rule.responses
    spec = RuleSpec(code=rule.code, version=rule.version, kind=rule.kind, params=new_params,
                    responses=new_responses, mode=Mode.ON, name=rule.name)
    result = dry_run(spec, days)
    with transaction.atomic():
        audit_record(actor=actor, event=events.RULE_DRY_RUN, target_type="monitor_rule",
                     detail={"rule": code, "version": rule.version, "days": days, "events": result.events,
                             "alerts": len(result.alerts), "unsaved": unsaved,
                             **({"params": new_params, "responses": new_responses} if unsaved else {})})
    result.spec, result.days, result.unsaved = spec, days, unsaved
    return result

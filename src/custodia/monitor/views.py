"""Monitoring pages (/monitor/): alert triage and detector rules. Thin: parse → selector or
service → render. Who may do what is the services' (``may_view``, ``may_triage``,
``may_edit_rules``): anyone else gets 403 from the selectors and services, so these views declare
no policy action. Viewing alerts is audited by the selectors."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.customers.forms import apply_errors
from custodia.kernel.views import ActorView
from custodia.monitor import selectors, services
from custodia.monitor.choices import AlertStatus, Mode, Response, Severity
from custodia.monitor.describe import alert_sentence, reason_sentence, window_label
from custodia.monitor.detectors import DETECTORS
from custodia.monitor.forms import AlertFilterForm, LiftForm, RuleForm, TriageForm, parse_status
from custodia.monitor.models import Rule

SEVERITY_BADGES = {"low": "neutral", "medium": "warn", "high": "danger", "critical": "critical"}
STATUS_BADGES = {"open": "info", "investigating": "warn", "confirmed": "danger", "false_positive": "neutral"}
RESPONSE_BADGES = {"alert": "neutral", "step_up": "info", "deny": "warn", "suspend": "danger"}
MODE_BADGES = {"on": "ok", "dry_run": "info", "off": "neutral"}
STATUS_TABS = (
    (selectors.ACTIVE, _("Needs attention")),
    (AlertStatus.OPEN, AlertStatus.OPEN.label),
    (AlertStatus.INVESTIGATING, AlertStatus.INVESTIGATING.label),
    (AlertStatus.CONFIRMED, _("Confirmed")),
    (AlertStatus.FALSE_POSITIVE, _("False positive")),
    ("all", _("All")),
)
FILTER_FIELDS = ("severity", "rule", "assignee", "person")
EVENTS_SHOWN = 10  # more are behind "show all"
OUTCOMES = {"success": _("success"), "denied": _("denied"), "failure": _("failure")}


def present_alert(alert) -> dict:
    return {"alert": alert, "sentence": alert_sentence(alert),
            "severity_badge": SEVERITY_BADGES.get(alert.severity, "neutral"),
            "status_badge": STATUS_BADGES.get(alert.status, "neutral"),
            "response_badge": RESPONSE_BADGES.get(alert.response, "neutral"),
            "window": window_label(alert.window_seconds) if alert.window_seconds else ""}


class AlertListView(ActorView):
    """GET: tabs per status, filters and one page of alerts (the view is audited)."""

    required_action = None  # may_view, checked by the selector

    def get(self, request):
        status = parse_status(request.GET.get("status", ""))
        params = {k: request.GET.get(k, "").strip()[:150] for k in FILTER_FIELDS}
        form = AlertFilterForm({k: v for k, v in params.items() if v}, rules=Rule.objects.order_by("code"))
        result = selectors.alert_list(self.actor, form.filters(status), page=request.GET.get("page") or 1)
        shown = {k: v for k, v in params.items() if v and k not in form.errors}
        return render(request, "monitor/alerts.html", {
            "form": form, "status": status, "page_obj": result.page,
            "rows": [present_alert(a) for a in result.page.object_list],
            "tabs": [{"code": code, "label": label, "count": result.counts.get(code, 0),
                      "query": urlencode({**shown, "status": code})} for code, label in STATUS_TABS],
            "filtered": bool(shown), "querystring": urlencode({**shown, "status": status}),
            "may_edit_rules": services.may_edit_rules(self.actor),
        })


class AlertDetailView(ActorView):
    """GET: one alert — why it fired, the audit events behind it, the person, the trail, and the
    triage and lift forms for those who may use them (the view is audited)."""

    required_action = None

    def get(self, request, pk):
        return alert_page(self, pk)


def alert_page(view: ActorView, pk, *, triage_form=None, lift_form=None, status=200):
    actor = view.actor
    data = selectors.alert_get(actor, pk)
    alert = data.alert
    may_triage = services.may_triage_alert(actor, alert)
    if may_triage and triage_form is None:
        triage_form = TriageForm(alert=alert, people=[p for p in selectors.triage_people() if p.pk != alert.person_id],
                                 initial={"assignee": alert.assignee.username if alert.assignee else ""})
    may_lift = services.may_edit_rules(actor) and data.suspension is not None and alert.person_id != actor.user_id
    if may_lift and lift_form is None:
        lift_form = LiftForm()
    events = [dict(e, search=_event_search(e["event"]), outcome=OUTCOMES.get(e["event"].outcome, e["event"].outcome))
              for e in data.events]
    first, last = timezone.localdate(alert.first_at), timezone.localdate(alert.last_at)
    bundle = {"since": first.isoformat(), "until": last.isoformat()}
    if alert.person:
        bundle["person"] = alert.person.username
    return render(view.request, "monitor/alert_detail.html", {
        "item": present_alert(alert), "alert": alert, "data": data,
        "events": events[:EVENTS_SHOWN], "more_events": events[EVENTS_SHOWN:],
        "rule_kind": DETECTORS[alert.rule.kind].label if alert.rule.kind in DETECTORS else alert.rule.kind,
        "triage_form": triage_form if may_triage else None, "lift_form": lift_form if may_lift else None,
        "about_viewer": alert.person_id is not None and alert.person_id == actor.user_id,
        "bundle_query": urlencode(bundle), "person_alerts_query": urlencode(
            {"status": "all", "person": alert.person.username if alert.person else alert.source_ip}),
        "trail": trail(alert, data),
    }, status=status)


def trail(alert, data) -> list[dict]:
    """What happened to the alert, in time order: raised, suspensions and lifts, triage notes."""
    items = [{"kind": "raised", "at": alert.created_at, "by": "system:monitor"}]
    for s in data.suspensions:
        items.append({"kind": "suspended", "at": s.started_at, "by": "system:monitor"})
        if s.lifted_at:
            items.append({"kind": "lifted", "at": s.lifted_at, "by": s.lifted_by, "text": s.lift_reason})
    for n in data.notes:
        items.append({"kind": "note", "at": n.created_at, "by": n.author, "text": n.text, "assignee": n.assignee,
                      "status_from": _status_label(n.status_from) if n.status_to else "",
                      "status_to": _status_label(n.status_to) if n.status_to else ""})
    return sorted(items, key=lambda i: i["at"])


def _status_label(code: str) -> str:
    return str(AlertStatus(code).label) if code in AlertStatus.values else code


def _event_search(event) -> str:
    day = timezone.localdate(event.occurred_at).isoformat()
    query = {"action": event.action, "since": day, "until": day}
    if event.actor_label:
        query["person"] = event.actor_label
    elif event.subject_id:
        query["customer"] = str(event.subject_id)
    return urlencode(query)


class AlertTriageView(ActorView):
    """POST: change status and/or assignee, add a note (services.alert_update); errors re-show the
    page with the messages under the fields (400) and change nothing."""

    required_action = None
    http_method_names = ["post"]

    def post(self, request, pk):
        data = request.POST
        try:
            services.alert_update(actor=self.actor, alert_id=pk, status=data.get("status") or None,
                                  assignee=data.get("assignee", None), note=data.get("note", ""))
        except ValidationError as exc:
            form = _bound_triage(self.actor, pk, request.POST)
            apply_errors(form, exc)
            return alert_page(self, pk, triage_form=form, status=400)
        messages.success(request, _("Alert updated."))
        return redirect("monitor:alert", pk=pk)


def _bound_triage(actor, pk, data) -> TriageForm:
    from custodia.monitor.models import Alert

    alert = Alert.objects.select_related("assignee").get(pk=pk)
    form = TriageForm(data, alert=alert, people=selectors.triage_people())
    form.is_valid()
    return form


class SuspensionLiftView(ActorView):
    """POST: lift the suspension this alert caused (services.suspension_lift; security admins)."""

    required_action = None
    http_method_names = ["post"]

    def post(self, request, pk):
        form = LiftForm(request.POST)
        try:
            suspension = services.suspension_lift(actor=self.actor, alert_id=pk, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            form.is_valid()
            apply_errors(form, exc)
            return alert_page(self, pk, lift_form=form, status=400)
        messages.success(request, _("Suspension lifted: %(name)s may sign in again.") % {
            "name": suspension.person.username})
        return redirect("monitor:alert", pk=pk)


# --- rules -------------------------------------------------------------------------------------


class RuleListView(ActorView):
    required_action = None

    def get(self, request):
        rows = selectors.rule_list(self.actor)
        return render(request, "monitor/rules.html", {"rows": [{
            "row": r, "kind": DETECTORS[r.rule.kind].label if r.rule.kind in DETECTORS else r.rule.kind,
            "inline": DETECTORS[r.rule.kind].inline if r.rule.kind in DETECTORS else False,
            "mode_badge": MODE_BADGES.get(r.rule.mode, "neutral"), "mode": Mode(r.rule.mode).label,
        } for r in rows], "days": selectors.COUNT_DAYS, "may_edit": services.may_edit_rules(self.actor)})


class RuleDetailView(ActorView):
    """GET: the rule's editor (read-only for those who may not edit) and its versions.
    POST: save a new version (services.rule_update); errors under the fields (400)."""

    required_action = None

    def get(self, request, code):
        rule, versions = selectors.rule_get(self.actor, code)
        editable = services.may_edit_rules(self.actor)
        form = RuleForm(initial=RuleForm.initial_for(rule), rule=rule, read_only=not editable)
        return rule_page(self, rule, versions, form)

    def post(self, request, code):
        rule, versions = selectors.rule_get(self.actor, code)
        form = RuleForm(request.POST, rule=rule)
        form.is_valid()
        before = rule.version
        try:
            saved = services.rule_update(actor=self.actor, code=code, name=request.POST.get("name"),
                                         params=form.raw_params(), responses=form.raw_responses(),
                                         mode=request.POST.get("mode") or None, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            apply_errors(form, exc)
            return rule_page(self, rule, versions, form, status=400)
        if saved.version == before:
            messages.info(request, _("Nothing changed: the rule stays at version %(v)s.") % {"v": before})
        else:
            messages.success(request, _("Saved as version %(v)s.") % {"v": saved.version})
        return redirect("monitor:rule", code=code)


class RuleDryRunView(ActorView):
    """POST: run the rule as it stands in the editor (unsaved values allowed) over the last N
    days (services.rule_dry_run, audited) and show what it would have raised."""

    required_action = None
    http_method_names = ["post"]

    def post(self, request, code):
        rule, versions = selectors.rule_get(self.actor, code)
        form = RuleForm(request.POST, rule=rule)
        form.is_valid()
        try:
            result = services.rule_dry_run(actor=self.actor, code=code, days=request.POST.get("days") or 14,
                                           params=form.raw_params(), responses=form.raw_responses())
        except ValidationError as exc:
            apply_errors(form, exc)
            return rule_page(self, rule, versions, form, status=400)
        return rule_page(self, rule, versions, form, dry=present_dry_run(result, rule))


def present_dry_run(result, rule) -> dict:
    people = selectors.people_by_id({a["person_id"] for a in result.alerts if a.get("person_id")})
    metric = result.spec.params.get("metric", "")
    window = result.spec.params.get("window_seconds", 0)
    rows = []
    for a in sorted(result.alerts, key=lambda a: a["first_at"], reverse=True)[:200]:
        rows.append({"a": a, "person": people.get(a.get("person_id") or ""),
                     "address": a["subject"][3:] if a["subject"].startswith("ip:") else "",
                     "severity_badge": SEVERITY_BADGES.get(a["severity"], "neutral"),
                     "severity": Severity(a["severity"]).label, "response": Response(a["response"]).label,
                     "response_badge": RESPONSE_BADGES.get(a["response"], "neutral"),
                     "sentence": reason_sentence(reason=a["reason"], value=a["value"], limit=a["limit"],
                                                 window_seconds=window, metric=metric)})
    subjects = {a["subject"] for a in result.alerts}
    return {"days": result.days, "events": result.events, "alerts": len(result.alerts), "rows": rows,
            "people": len(subjects), "unsaved": result.unsaved, "shown": len(rows),
            "changes": _changes(rule, result.spec)}


def _changes(rule, spec) -> list[dict]:
    """What the dry run's values change against the saved rule (label, saved, tried)."""
    detector = DETECTORS.get(rule.kind)
    out = []
    for p in detector.params if detector else ():
        old, new = rule.params.get(p.name), spec.params.get(p.name)
        if old != new:
            out.append({"label": p.label, "old": _shown(old), "new": _shown(new)})
    for severity, label in Severity.choices:
        old, new = rule.responses.get(severity), spec.responses.get(severity)
        if old != new:
            out.append({"label": label, "old": Response(old).label if old else "—", "new": Response(new).label})
    return out


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "—"
    if value in Severity.values:
        return str(Severity(value).label)
    return str(value)


def rule_page(view: ActorView, rule, versions, form, *, dry=None, status=200):
    detector = DETECTORS.get(rule.kind)
    return render(view.request, "monitor/rule_detail.html", {
        "rule": rule, "versions": versions, "form": form, "detector": detector, "dry": dry,
        "editable": services.may_edit_rules(view.actor), "mode_badge": MODE_BADGES.get(rule.mode, "neutral"),
        "alerts_url": reverse("monitor:alerts") + "?" + urlencode({"status": "all", "rule": rule.code}),
        "mode_labels": dict(Mode.choices),
    }, status=status)

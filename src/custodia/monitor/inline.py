"""Inline detection: every audit event is shown to the detectors before the operation that
recorded it commits (``audit_record`` calls ``check``). A rule whose response for the severity is
step-up, deny or suspend raises ``Intervention`` there, inside the operation's transaction, so
the operation rolls back and nothing of it is kept or returned.

What the detectors found is recorded when the request (or CLI command) ends, by ``scope``: alerts,
the intervention's own audit event, a suspension. That happens in a transaction of its own, after
the operation's transaction has committed or rolled back, so an intervention is audited although
the action it stopped left no trace.
"""

from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from custodia.kernel.errors import PermissionDenied
from custodia.monitor.choices import Response
from custodia.monitor.detectors import DETECTORS
from custodia.monitor.engine import Directory, Engine, Ev, Finding, strongest

RULES_CHECK_SECONDS = 2.0  # how stale another process's rule edit may be here


class Intervention(PermissionDenied):
    """A detector stopped the action. ``finding`` says which rule and why."""

    code = "monitor_denied"

    def __init__(self, finding: Finding, message=None):
        self.finding = finding
        super().__init__(message or _(
            "This action was stopped by a security rule: you have reached the limit for this kind of access. "
            "Your security team has been alerted; contact them if you need more."))


class StepUpRequired(Intervention):
    code = "step_up_required"

    def __init__(self, finding: Finding):
        super().__init__(finding, _(
            "This action needs you to confirm it is you: verify with your second factor, then try again."))


class Suspended(Intervention):
    code = "account_suspended"

    def __init__(self, finding: Finding):
        super().__init__(finding, _(
            "Your account has been suspended pending a security review. Contact your security team."))


EXCEPTIONS = {Response.STEP_UP: StepUpRequired, Response.DENY: Intervention, Response.SUSPEND: Suspended}


@dataclass
class Scope:
    stepped_up: bool = False
    request: object = None
    findings: list[Finding] = field(default_factory=list)
    intervention: Finding | None = None
    attempted: dict = field(default_factory=dict)  # what the stopped action was


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("custodia_monitor_scope", default=None)
_status_hint: contextvars.ContextVar[dict | None] = contextvars.ContextVar("custodia_monitor_hint", default=None)


@contextmanager
def scope(*, stepped_up: bool = False, request=None):
    """Collect the findings of one request or command, and record them when it ends."""
    current = Scope(stepped_up=stepped_up, request=request)
    token = _scope.set(current)
    try:
        yield current
    finally:
        _scope.reset(token)
        if current.findings:
            from custodia.monitor import services

            services.findings_record(current)


# --- the live engine: rules from the database, state in the live store ----------------------


class LiveDirectory(Directory):
    """Statuses from the database; the acting person's comes with the event (no query)."""

    def status(self, person_id):
        if not person_id:
            return None
        hint = _status_hint.get()
        if hint is not None and person_id in hint:
            return hint[person_id]
        from custodia.access.models import User
        from custodia.monitor.models import Suspension

        row = User.objects.filter(pk=person_id).values_list("is_active", "employment_status").first()
        if row is None:
            return None
        if not row[0]:
            return "suspended" if Suspension.objects.filter(person_id=person_id, lifted_at__isnull=True).exists() \
                else "inactive"
        return row[1]

    def observe(self, ev):
        pass  # the database is the truth inline


class _Live:
    def __init__(self):
        self.lock = threading.Lock()
        self.engine: Engine | None = None
        self.stamp = None
        self.checked = 0.0

    def get(self) -> Engine:
        now = time.monotonic()
        if self.engine is not None and now - self.checked < RULES_CHECK_SECONDS:
            return self.engine
        with self.lock:
            from custodia.monitor import rules as rule_store
            from custodia.monitor.stores import live_store

            stamp = rule_store.stamp()
            if self.engine is None or stamp != self.stamp:
                self.engine = Engine(rule_store.live_specs(), live_store(), LiveDirectory(), tz=settings.TIME_ZONE)
                self.stamp = stamp
            self.checked = now
            return self.engine

    def invalidate(self):
        with self.lock:
            self.engine = None


LIVE = _Live()


def _status(user) -> str:
    if not user.is_active:
        return "inactive"
    return user.employment_status


def check(values: dict, actor) -> None:
    """Show one event, about to be inserted, to the live detectors (called by ``audit_record``
    inside the operation's transaction). Raises ``Intervention`` to stop the operation."""
    if not settings.CUSTODIA_MONITOR_ENABLED or values["action"].startswith("monitor."):
        return
    if actor.user is None and values["action"] not in ("access.login.failed", "access.token.refused"):
        return  # system actors (jobs, the console operator) are not monitored
    engine = LIVE.get()
    if not engine.rules:
        return
    ev = Ev.from_values(values)
    token = _status_hint.set({str(actor.user.pk): _status(actor.user)} if actor.user is not None else {})
    engine.store.begin()
    try:
        findings = engine.evaluate(ev)
    finally:
        _status_hint.reset(token)
    if not findings:
        return
    current = _scope.get()
    if current is None:
        _record_after_commit(findings)
        return
    current.findings.extend(findings)
    acting = [f for f in findings if f.response != Response.ALERT and DETECTORS[f.kind].inline
              and actor.user is not None and f.person_id == str(actor.user.pk)]
    if current.stepped_up:
        acting = [f for f in acting if f.response != Response.STEP_UP]
    stop = strongest(acting)
    if stop is not None:
        current.intervention = stop
        current.attempted = {"action": ev.action, "target_type": ev.target_type, "target_id": ev.target_id,
                             "objects": len(ev.object_ids)}
        engine.store.undo()  # the stopped event never happened: take back what it counted
        raise EXCEPTIONS[stop.response](stop)


def _record_after_commit(findings: list[Finding]) -> None:
    """Outside a request or command scope (a service called directly): alerts only, after the
    operation commits."""
    from django.db import transaction

    from custodia.monitor import services

    transaction.on_commit(lambda: services.findings_record(Scope(findings=list(findings))))


def stepped_up(request) -> bool:
    """Has the person confirmed a second factor in this session within the re-authentication
    timeout (allauth's records of the session)?"""
    from allauth.account import app_settings
    from allauth.account.internal.flows.login import get_authentication_records

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    for record in reversed(get_authentication_records(request, user)):
        if record.get("method") == "mfa" and record.get("reauthenticated"):
            return time.time() - record.get("at", 0) < app_settings.REAUTHENTICATION_TIMEOUT
    return False


class MonitorMiddleware:
    """Wraps each request in a monitoring scope (after authentication and sessions)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with scope(stepped_up=stepped_up(request), request=request):
            return self.get_response(request)


def intervention_response(request, exc: Intervention):
    """How a page answers a stopped action: step-up sends the person to confirm their second
    factor (then back here); deny and suspend show why, with status 403."""
    from django.http import HttpResponse
    from django.shortcuts import redirect, render
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme, urlencode

    if isinstance(exc, StepUpRequired):
        from custodia.identity.selectors import mfa_enrolled

        back = request.path if request.method == "GET" else request.headers.get("Referer", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("dashboard")
        name = "mfa_reauthenticate" if mfa_enrolled(request.user) else "account_reauthenticate"
        url = f"{reverse(name)}?{urlencode({'next': back})}"
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    response = render(request, "monitor/stopped.html", {"message": str(exc), "suspended": isinstance(exc, Suspended)},
                      status=403)
    if request.headers.get("HX-Request") == "true":
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response

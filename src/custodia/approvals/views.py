"""Approvals pages: requests awaiting my decision and my own (``ApprovalsView``), asking for
approval of a reveal from the reveal dialog (``RevealRequestView``), and tracing an export file
(``ExportTraceView``). Thin: parse → service/selector → render; the services check who may do what."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from custodia.access.policy import allows
from custodia.approvals import selectors, services
from custodia.approvals.forms import DecisionForm, TraceForm
from custodia.approvals.tracing import export_trace, may_trace
from custodia.customers import selectors as customer_selectors
from custodia.customers.forms import RevealForm, apply_errors
from custodia.kernel.errors import PermissionDenied
from custodia.kernel.views import ActorView


class ApprovalsView(ActorView):
    """GET: requests awaiting my decision, my own requests. POST: approve or reject one."""

    required_action = None  # any signed-in person: their own requests; deciding is checked per request

    def get(self, request):
        return self.page()

    def post(self, request):
        form = DecisionForm(request.POST)
        if not form.is_valid():
            raise Http404()
        op, request_id, reason = form.cleaned_data["op"], form.cleaned_data["request"], form.cleaned_data["reason"]
        try:
            if op == "approve":
                services.request_approve(actor=self.actor, request_id=request_id, reason=reason)
                messages.success(request, _("Approved: the requester may use it once, within the time limit."))
            else:
                services.request_reject(actor=self.actor, request_id=request_id, reason=reason)
                messages.success(request, _("Rejected."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        return redirect("approvals:list")

    def page(self):
        context = {"to_decide": selectors.requests_to_decide(self.actor), "mine": selectors.requests_mine(self.actor),
                   "may_approve": self.actor.user is not None and allows(self.actor, "approve"),
                   "may_trace": may_trace(self.actor), "ttl_hours": int(services.approval_ttl().total_seconds() // 3600)}
        return render(self.request, "approvals/list.html", context)


class RevealRequestView(ActorView):
    """From the reveal dialog: ask a second person to approve revealing one field of a customer."""

    required_action = "reveal"

    def get(self, request, pk, field):
        pf, _allowed = customer_selectors.customer_field_for_reveal(self.actor, pk, field)
        return self.render(pf, pk, RevealForm())

    def post(self, request, pk, field):
        pf, _allowed = customer_selectors.customer_field_for_reveal(self.actor, pk, field)
        form = RevealForm(request.POST)
        if form.is_valid():
            try:
                req = services.request_create(
                    actor=self.actor, kind="reveal", customer_id=pk, field=field,
                    purpose=form.cleaned_data["purpose"], purpose_text=form.cleaned_data["purpose_text"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return self.render(pf, pk, None, created=req)
        return self.render(pf, pk, form)

    def render(self, pf, pk, form, *, created=None):
        why = None
        if created is None:
            try:
                why = services.reveal_need(self.actor, pf)
            except PermissionDenied as exc:
                raise PermissionDenied(str(exc)) from None
        context = {"pf": pf, "pk": pk, "form": form, "created": created, "why": why,
                   "message": services.reveal_message(why, pf) if why else ""}
        partial = getattr(self.request, "htmx", False)
        template = "approvals/htmx/reveal_request.html" if partial else "approvals/reveal_request.html"
        return render(self.request, template, context)


class ExportTraceView(ActorView):
    """Compliance: upload a (leaked) export file or paste its export id; see the export."""

    required_action = "read_audit"  # and customer view: export_trace checks both (compliance, not auditors)

    def get(self, request):
        if not may_trace(self.actor):
            raise PermissionDenied(_("Only compliance can trace exports."))
        return self.page(TraceForm())

    def post(self, request):
        form = TraceForm(request.POST, request.FILES)
        trace = None
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            data = b"".join(upload.chunks()) if upload else None
            trace = export_trace(actor=self.actor, data=data, export_id=form.cleaned_data.get("export_id") or "")
        elif not may_trace(self.actor):
            raise PermissionDenied(_("Only compliance can trace exports."))
        return self.page(form, trace=trace, searched=form.is_valid())

    def page(self, form, *, trace=None, searched=False):
        return render(self.request, "approvals/trace.html", {"form": form, "trace": trace, "searched": searched})

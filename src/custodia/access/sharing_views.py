"""Who has access to one customer: explicit assignments and time-bound grants, on a page reached
from the customer's detail page. Only ``share`` reaches it (the team's manager, compliance) and
only for a customer in their scope (404 otherwise). One view, two renderings (page or, for HTMX,
the panel); POST ``op`` = assign | unassign | grant | revoke, each a service that audits."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from custodia.access import grant_services, selectors
from custodia.access.choices import Action
from custodia.access.forms import AccessGrantForm, AssignForm
from custodia.customers.forms import apply_errors
from custodia.kernel.views import ActorView

STATE_LABELS = {"active": _("Active"), "pending": _("Not started"), "expired": _("Expired"),
                "revoked": _("Revoked")}
STATE_BADGES = {"active": "ok", "pending": "info", "expired": "neutral", "revoked": "danger"}


class CustomerAccessView(ActorView):
    required_action = "share"
    partial_template = "access/htmx/customer_access_panel.html"

    def get(self, request, pk):
        return self.page(pk)

    def post(self, request, pk):
        op = request.POST.get("op", "")
        assign_form = grant_form = None
        try:
            if op == "assign":
                assign_form = AssignForm(request.POST, colleagues=selectors.customer_access(self.actor, pk).colleagues)
                grant_services.customer_assign(actor=self.actor, customer_id=pk, username=request.POST.get("user", ""))
                messages.success(request, _("Colleague assigned."))
            elif op == "unassign":
                grant_services.customer_unassign(actor=self.actor, customer_id=pk,
                                                 assignment_id=request.POST.get("assignment", ""))
                messages.success(request, _("Assignment removed."))
            elif op == "grant":
                grant_form = AccessGrantForm(request.POST,
                                             colleagues=selectors.customer_access(self.actor, pk).colleagues)
                grant_form.is_valid()
                grant_services.access_grant_create(
                    actor=self.actor, customer_id=pk, username=request.POST.get("grantee", ""),
                    actions=request.POST.getlist("actions"), purpose=request.POST.get("purpose", ""),
                    days=request.POST.get("days") or 0)
                messages.success(request, _("Time-bound access granted."))
            elif op == "revoke":
                grant_services.access_grant_revoke(actor=self.actor, customer_id=pk,
                                                   grant_id=request.POST.get("grant", ""))
                messages.success(request, _("Access revoked."))
            else:
                selectors.customer_access(self.actor, pk)  # 404 out of scope before a 400
                return self.page(pk, status=400)
        except ValidationError as exc:
            form = assign_form if op == "assign" else grant_form
            if form is not None:
                apply_errors(form, exc)
            return self.page(pk, assign_form=assign_form, grant_form=grant_form, status=200)
        if getattr(request, "htmx", False):
            return self.page(pk)
        return redirect(reverse("customers:access", args=[pk]))

    def page(self, pk, *, assign_form=None, grant_form=None, status=200):
        access = selectors.customer_access(self.actor, pk)
        context = {
            "customer": access.customer,
            "assignments": access.assignments,
            "grants": [{"grant": g, "state": s, "state_label": STATE_LABELS[s], "badge": STATE_BADGES[s],
                        "actions": [Action(a).label for a in g.actions]} for g, s in access.grants],
            "assign_form": assign_form or AssignForm(colleagues=access.colleagues),
            "grant_form": grant_form or AccessGrantForm(colleagues=access.colleagues),
        }
        return render(self.request, self.template_for("access/customer_access.html"), context, status=status)

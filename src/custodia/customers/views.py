"""Web views of the customer registry: thin (parse → selector/service → render).

Each view declares the customer action it needs (``required_action``); the selectors and services
check the row scope again and audit. HTMX: one view, two renderings — the list renders the page
or only its results, the detail renders the page or one tab.
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import Role
from custodia.access.policy import allows, customer_scope, reveal_max_level, shared_customer_ids, state_reason
from custodia.approvals.selectors import reveal_requests_open
from custodia.approvals.services import ApprovalRequired, approver_ceiling, reveal_approval, reveal_message
from custodia.customers import record_services, selectors, services
from custodia.customers.choices import Kind, Stage, Tier
from custodia.customers.forms import (
    RECORD_FORMS,
    CustomerForm,
    RevealForm,
    apply_errors,
    duplicate_fields,
    only_duplicates,
    record_data,
)
from custodia.kernel.errors import PermissionDenied
from custodia.kernel.views import ActorView
from custodia.protection import catalog

FILTERS = ("q", "tier", "stage", "owner", "team", "tag")
# tab name → (label, record kind or None)
TABS = {
    "profile": (_("Profile"), None),
    "contacts": (_("Contacts"), "contact"),
    "interactions": (_("Interactions"), "interaction"),
    "opportunities": (_("Opportunities"), "opportunity"),
    "transactions": (_("Transactions"), "transaction"),
    "history": (_("Access history"), None),
}
KIND_TAB = {kind: tab for tab, (_label, kind) in TABS.items() if kind}
ADD_LABELS = {
    "contact": _("Add contact"),
    "interaction": _("Log interaction"),
    "opportunity": _("Add opportunity"),
    "transaction": _("Record transaction"),
}
ROLE_LABELS = dict(Role.choices) | {"admin": _("Administrator"), "system": _("System")}
TIER_LABELS, STAGE_LABELS, KIND_LABELS = dict(Tier.choices), dict(Stage.choices), dict(Kind.choices)
SEARCH_LABELS = {"mobile": _("mobile number"), "email": _("email"), "id_number": _("ID number / USCC"),
                 "bank_account": _("bank account")}
SCOPE_LABELS = {"own": _("Your own customers"), "own_reports": _("Your and your reports' customers"),
                "team": _("Your team's customers"), "department": _("Your department's customers"),
                "department_tree": _("Your department's and its sub-departments' customers"),
                "named": _("The customers of named departments"), "all": _("All customers")}


def is_partial(request) -> bool:
    """An HTMX request for a fragment (a history restore needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def purpose_label(purpose: str) -> tuple[str, str]:
    """An audit event's purpose ("code: text") as (label of the code, free text)."""
    code, _sep, text = purpose.partition(": ")
    return str(dict(settings.CUSTODIA_PURPOSES).get(code, code)), text


# --- dashboard ------------------------------------------------------------------------------------


class DashboardView(ActorView):
    required_action = None  # any signed-in person; counts only for roles that see customers

    def get(self, request):
        can_view = allows(self.actor, "view")
        return render(request, "customers/dashboard.html", {
            "counts": selectors.dashboard_counts(self.actor) if can_view else None,
            "can_add": allows(self.actor, "add"),
            "scope_label": SCOPE_LABELS.get(customer_scope(self.actor), ""),
            # assigned or granted besides the scope (already inside "all")
            "shared": len(shared_customer_ids(self.actor)) if can_view and customer_scope(self.actor) != "all" else 0,
            "reveal_level": reveal_max_level(self.actor),
            "role_label": ROLE_LABELS.get(self.actor.role) or request.user.get_role_display(),
            "state_reason": state_reason(self.actor),
        })


# --- list -----------------------------------------------------------------------------------------


class CustomerListView(ActorView):
    required_action = "view"
    partial_template = "customers/htmx/list_results.html"

    def get(self, request):
        params = {name: request.GET.get(name, "").strip()[:100] for name in FILTERS}
        result = selectors.customer_list(self.actor, **params, page=request.GET.get("page") or 1)
        # An identifier typed into the search box (mobile, ID, USCC, email) is never echoed back:
        # not into the page, the pagination links, nor the address bar / browser history.
        shown = {k: v for k, v in params.items() if v and not (k == "q" and result.search_kind)}
        context = {
            "result": result,
            "rows": [present_row(row) for row in result.rows],
            "page_obj": result.page,
            "filters": params | {"q": shown.get("q", "")},
            "search_label": SEARCH_LABELS.get(result.search_kind, ""),
            "filtered": any(params.values()),
            "querystring": urlencode(shown),
            "can_add": allows(self.actor, "add"),
        }
        if is_partial(request):
            response = render(request, self.partial_template, context)
        else:
            choices = selectors.customer_filter_choices(self.actor)
            context.update(choices=choices, tiers=Tier.choices, stages=Stage.choices)
            response = render(request, "customers/list.html", context)
        if result.search_kind and getattr(request, "htmx", False):
            response["HX-Push-Url"] = reverse("customers:list") + (f"?{urlencode(shown)}" if shown else "")
        return response


def present_row(row) -> dict:
    return {"row": row, "tier_label": TIER_LABELS.get(row.tier, row.tier),
            "stage_label": STAGE_LABELS.get(row.stage, row.stage), "kind_label": KIND_LABELS.get(row.kind, row.kind)}


# --- detail ---------------------------------------------------------------------------------------


class CustomerDetailView(ActorView):
    required_action = "view"

    def get(self, request, pk):
        tab = request.GET.get("tab", "profile")
        if tab not in TABS:
            tab = "profile"
        if is_partial(request) and request.GET.get("tab"):
            return render(request, "customers/htmx/tabs.html", tab_context(self.actor, pk, tab) | {"partial": True})
        detail = selectors.customer_get(self.actor, pk)
        actions = selectors.customer_actions(self.actor, detail.customer.pk)
        context = tab_context(self.actor, pk, tab, detail=detail, actions=actions)
        context.update(header_context(detail, actions))
        # the role could change or reveal, but not here: say why the buttons are missing
        context["view_only"] = not actions & {"change", "reveal"} and (allows(self.actor, "change")
                                                                         or allows(self.actor, "reveal"))
        return render(request, "customers/detail.html", context)


def header_context(detail, actions: frozenset) -> dict:
    """The header's buttons: only the actions that work on this customer (``customer_actions``)."""
    return {
        "detail": detail,
        "customer": detail.customer,
        "can_change": "change" in actions,
        "can_delete": "delete" in actions,
        "can_share": "share" in actions,
    }


def tab_context(actor, pk, tab: str, *, detail=None, form=None, form_kind: str = "", actions=None) -> dict:
    """Everything the tabs block needs: the tab bar with counts and the active panel."""
    counts = detail.counts if detail is not None else selectors.customer_record_counts(actor, pk)
    if actions is None:
        actions = selectors.customer_actions(actor, pk)
    context = {
        "pk": pk,
        "tab": tab,
        "tabs": [(name, label, counts.get(kind) if kind else None) for name, (label, kind) in TABS.items()],
        "record_form": form,
        "form_kind": form_kind,
        "can_change": "change" in actions,
    }
    kind = TABS[tab][1]
    if tab == "profile":
        if detail is None:
            detail = selectors.customer_get(actor, pk)
        context["detail"] = detail
        context["customer"] = detail.customer
        reveals = "reveal" in actions  # a view-only grant reveals nothing, with approval or without
        context["protected"] = [asdict(f) | {"level_label": catalog.Level(f.level).label,
                                             "can_reveal": f.can_reveal and reveals} for f in detail.fields.values()]
        if reveals and any(not f["can_reveal"] for f in context["protected"]):
            context["approval_ceiling"] = approver_ceiling()  # locked fields an approval could open
            requests = reveal_requests_open(actor, detail.customer.pk)  # approved: reveal; pending: wait
            for f in context["protected"]:
                f["request"] = requests.get(f["name"], "")
    elif tab == "history":
        context["history"] = [
            {"event": h.event, "label": h.label, "what": h.what or h.label, "who": h.who,
             "role": ROLE_LABELS.get(h.event.actor_role, h.event.actor_role),
             "purpose": purpose_label(h.event.purpose) if h.event.purpose else None,
             "is_reveal": h.event.action == "customer.field.revealed", "is_read": h.event.action.endswith("viewed")}
            for h in selectors.customer_access_history(actor, pk)
        ]
    else:
        context["kind"] = kind
        context["records"] = selectors.customer_records(actor, pk, kind)
        context["add_label"] = ADD_LABELS[kind]
    return context


# --- create / edit / delete -----------------------------------------------------------------------


class CustomerCreateView(ActorView):
    required_action = "add"

    def get(self, request):
        return self.page(CustomerForm(owners=selectors.assignable_owners(self.actor)))

    def post(self, request):
        form = CustomerForm(request.POST, owners=selectors.assignable_owners(self.actor))
        duplicates = []
        if form.is_valid():
            try:
                customer = services.customer_create(
                    actor=self.actor, data=form.service_data(),
                    allow_duplicates=form.cleaned_data["allow_duplicates"])
            except ValidationError as exc:
                duplicates = duplicate_fields(exc) if only_duplicates(exc) else []
                apply_errors(form, exc)
            else:
                messages.success(request, _("Customer created."))
                return redirect("customers:detail", pk=customer.pk)
        return self.page(form, duplicates)

    def page(self, form, duplicates=()):
        return render(self.request, "customers/form.html", {
            "form": form, "duplicates": _field_labels(duplicates), "editing": False,
            "cancel_url": reverse("customers:list"),
        })


class CustomerEditView(ActorView):
    required_action = "change"

    def get(self, request, pk):
        services.get_for_action(self.actor, pk, "change")  # 404 out of scope; 403 when a grant is view-only
        detail = selectors.customer_get(self.actor, pk)
        initial = {name: getattr(detail.customer, name) for name in ("kind", "name", "tier", "stage", "source")}
        initial |= {"tags": ", ".join(detail.tags), "owner": detail.customer.owner.username}
        return self.page(detail, self.form(detail, initial=initial))

    def post(self, request, pk):
        detail = selectors.customer_get(self.actor, pk)
        form = self.form(detail, data=request.POST)
        duplicates = []
        if form.is_valid():
            try:
                services.customer_update(actor=self.actor, customer_id=pk, data=form.service_data(),
                                         allow_duplicates=form.cleaned_data["allow_duplicates"])
            except ValidationError as exc:
                duplicates = duplicate_fields(exc) if only_duplicates(exc) else []
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("customers:detail", pk=pk)
        return self.page(detail, form, duplicates)

    def form(self, detail, **kwargs):
        owners = selectors.assignable_owners(self.actor)
        current = detail.customer.owner
        if owners and current.username not in {u for u, _n in owners}:
            owners = [(current.username, current.get_full_name()), *owners]
        masked = {name: value.masked for name, value in detail.fields.items()}
        return CustomerForm(owners=owners, masked=masked, editing=True, **kwargs)

    def page(self, detail, form, duplicates=()):
        return render(self.request, "customers/form.html", {
            "form": form, "duplicates": _field_labels(duplicates), "editing": True, "customer": detail.customer,
            "cancel_url": reverse("customers:detail", args=[detail.customer.pk]),
        })


def _field_labels(names) -> list[str]:
    return [selectors.field_label(name) for name in names]


class CustomerDeleteView(ActorView):
    required_action = "delete"

    def get(self, request, pk):
        detail = selectors.customer_get(self.actor, pk)
        return render(request, "customers/delete.html", {"customer": detail.customer, "detail": detail})

    def post(self, request, pk):
        services.customer_delete(actor=self.actor, customer_id=pk)
        messages.success(request, _("Customer deleted."))
        return redirect("customers:list")


# --- reveal ---------------------------------------------------------------------------------------


class CustomerRevealView(ActorView):
    """GET: the purpose form (a modal for HTMX). POST: reveal once, audited; errors inline."""

    required_action = "reveal"

    def get(self, request, pk, field):
        pf, _allowed = selectors.customer_field_for_reveal(self.actor, pk, field)
        try:
            services.get_for_action(self.actor, pk, "reveal")  # a view-only grant: refused, saying so
        except PermissionDenied as exc:
            return self.render(pf, pk, None, denied=str(exc), status=403)
        try:
            why, approval = reveal_approval(self.actor, pk, pf)  # maker-checker (approvals app)
        except PermissionDenied:
            return self.render(pf, pk, None, denied=_denied(pf), status=403)
        if why and approval is None:
            return self.render(pf, pk, None, denied=reveal_message(why, pf), request_required=True, status=403)
        return self.render(pf, pk, RevealForm(), approval=approval)

    def post(self, request, pk, field):
        pf, _allowed = selectors.customer_field_for_reveal(self.actor, pk, field)
        form = RevealForm(request.POST)
        if form.is_valid():
            try:
                value = services.field_reveal(
                    actor=self.actor, customer_id=pk, field=field, purpose=form.cleaned_data["purpose"],
                    purpose_text=form.cleaned_data["purpose_text"])
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApprovalRequired as exc:
                return self.render(pf, pk, None, denied=str(exc), request_required=True, status=403)
            except PermissionDenied as exc:  # the service says why (grant, level, a used-up approval)
                return self.render(pf, pk, None, denied=str(exc), status=403)
            else:
                purpose = purpose_label(form.cleaned_data["purpose"])[0]
                return self.render(pf, pk, None, value=value, purpose=purpose)
        return self.render(pf, pk, form)

    def render(self, pf, pk, form, *, value=None, denied=None, purpose="", status=200, request_required=False,
               approval=None):
        partial = is_partial(self.request)
        context = {"pf": pf, "pk": pk, "form": form, "value": value, "denied": denied, "purpose": purpose,
                   "revealed": value is not None, "request_required": request_required, "approval": approval}
        template = "customers/htmx/reveal_modal.html" if partial else "customers/reveal.html"
        # htmx swaps only 2xx responses: a refusal inside the modal is shown, not dropped.
        return render(self.request, template, context, status=200 if partial else status)


def _denied(pf):
    return _("Your role may not reveal %(level)s fields. Ask someone with a higher permission.") % {
        "level": pf.level_label}


# --- a customer's records -------------------------------------------------------------------------


class RecordCreateView(ActorView):
    """Add a contact, interaction, opportunity or transaction from its tab (HTMX) or a page."""

    required_action = "change"

    def setup_kind(self, kind):
        if kind not in RECORD_FORMS:
            raise Http404()
        return RECORD_FORMS[kind]

    def get(self, request, pk, kind):
        form_class = self.setup_kind(kind)
        services.get_for_action(self.actor, pk, "change")  # 404 out of scope; 403 when a grant is view-only
        if is_partial(request):
            return render(request, "customers/htmx/record_form.html", {
                "form": form_class(), "kind": kind, "pk": pk, "add_label": ADD_LABELS[kind], "tab": KIND_TAB[kind]})
        return self.page(pk, kind, form_class())

    def post(self, request, pk, kind):
        form = self.setup_kind(kind)(request.POST)
        if form.is_valid():
            try:
                record_services.record_create(actor=self.actor, kind=kind, customer_id=pk, data=record_data(form))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                if is_partial(request):
                    return render(request, "customers/htmx/tabs.html",
                                  tab_context(self.actor, pk, KIND_TAB[kind]) | {"partial": True})
                return redirect(f"{reverse('customers:detail', args=[pk])}?tab={KIND_TAB[kind]}")
        if is_partial(request):
            return render(request, "customers/htmx/tabs.html",
                          tab_context(self.actor, pk, KIND_TAB[kind], form=form, form_kind=kind) | {"partial": True})
        return self.page(pk, kind, form)

    def page(self, pk, kind, form):
        detail = selectors.customer_get(self.actor, pk)
        return render(self.request, "customers/record_form_page.html", {
            "form": form, "kind": kind, "pk": pk, "customer": detail.customer, "add_label": ADD_LABELS[kind],
            "cancel_url": f"{reverse('customers:detail', args=[pk])}?tab={KIND_TAB[kind]}"})

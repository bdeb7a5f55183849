"""The security-admin pages: roles, their grants, and people's roles. Only ``manage_roles``
reaches them (separation of duties: not a superuser, not an operator). Thin: parse → selector /
service → render; every change is audited by the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from custodia.access import grant_services, selectors
from custodia.access.choices import ACTION_LABELS, OBJECT_ACTIONS, OBJECT_CONSTRAINTS, Duty, ObjectType, Scope
from custodia.access.forms import EmploymentStatusForm, GrantForm, PersonForm, RoleForm
from custodia.customers.choices import Tier
from custodia.customers.forms import apply_errors
from custodia.identity.services import DEACTIVATING_ROLES
from custodia.kernel.views import ActorView
from custodia.protection import catalog

SCOPE_LABELS = dict(Scope.choices)
TIER_LABELS = dict(Tier.choices)
OBJECT_LABELS = dict(ObjectType.choices)
DUTY_LABELS = dict(Duty.choices)


def present_grant(grant) -> dict:
    constraints = OBJECT_CONSTRAINTS.get(grant.object_type, ())
    level = grant.reveal_max_level
    return {
        "grant": grant,
        "object_label": OBJECT_LABELS.get(grant.object_type, grant.object_type),
        "actions": [ACTION_LABELS.get(a, a) for a in grant.actions or []],
        "scope": SCOPE_LABELS.get(grant.scope, grant.scope) if "scope" in constraints else "",
        "departments": [d.name for d in grant.departments.all()] if grant.scope == "named" else [],
        "tiers": [TIER_LABELS.get(t, t) for t in grant.tiers or []] if "tiers" in constraints else [],
        "level": catalog.Level(level).label if level else "",
    }


class RoleListView(ActorView):
    required_action = "manage_roles"

    def get(self, request):
        roles = selectors.role_list(self.actor)
        return render(request, "access/roles.html", {"roles": [
            {"role": r, "duty": DUTY_LABELS.get(r.duty, r.duty), "grants": [present_grant(g) for g in r.grants.all()]}
            for r in roles]})


class RoleCreateView(ActorView):
    required_action = "manage_roles"

    def get(self, request):
        return self.page(RoleForm(initial={"duty": Duty.OPERATOR}))

    def post(self, request):
        form = RoleForm(request.POST)
        if form.is_valid():
            try:
                role = grant_services.role_create(actor=self.actor, data=form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Role created. Add its grants now."))
                return redirect("access:role_detail", pk=role.pk)
        return self.page(form)

    def page(self, form):
        return render(self.request, "access/role_form.html", {"form": form, "editing": False})


class RoleDetailView(ActorView):
    """The role's settings (editable) and its grants."""

    required_action = "manage_roles"

    def get(self, request, pk):
        role = selectors.role_get(self.actor, pk)
        initial = {f: getattr(role, f) for f in grant_services.ROLE_FIELDS}
        return self.page(role, RoleForm(initial=initial, editing=True))

    def post(self, request, pk):
        role = selectors.role_get(self.actor, pk)
        form = RoleForm(request.POST, editing=True)
        if form.is_valid():
            try:
                grant_services.role_update(actor=self.actor, role_id=role.pk, data=form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("access:role_detail", pk=role.pk)
        return self.page(role, form)

    def page(self, role, form):
        return render(self.request, "access/role_detail.html", {
            "role": role, "form": form, "duty": DUTY_LABELS.get(role.duty, role.duty),
            "grants": [present_grant(g) for g in role.grants.all()]})


class GrantCreateView(ActorView):
    required_action = "manage_roles"

    def get(self, request, pk):
        role = selectors.role_get(self.actor, pk)
        return self.page(role, self.form(initial={"object_type": "customer", "scope": "own",
                                                  "tiers": [t for t, _l in Tier.choices], "actions": ["view"]}))

    def post(self, request, pk):
        role = selectors.role_get(self.actor, pk)
        form = self.form(request.POST)
        if form.is_valid():
            try:
                grant_services.role_grant_save(actor=self.actor, role_id=role.pk, data=form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Grant saved."))
                return redirect("access:role_detail", pk=role.pk)
        return self.page(role, form)

    def form(self, data=None, **kwargs):
        return GrantForm(data, departments=selectors.department_choices(), **kwargs)

    def page(self, role, form, grant=None):
        return render(self.request, "access/grant_form.html", {
            "role": role, "form": form, "grant": grant,
            "allow_list": [(OBJECT_LABELS[o], [ACTION_LABELS[a] for a in acts]) for o, acts in OBJECT_ACTIONS.items()],
        })


class GrantEditView(GrantCreateView):
    required_action = "manage_roles"

    def get(self, request, pk):
        grant = selectors.role_grant_get(self.actor, pk)
        initial = {"object_type": grant.object_type, "actions": grant.actions, "scope": grant.scope,
                   "tiers": grant.tiers, "reveal_max_level": grant.reveal_max_level,
                   "departments": [d.code for d in grant.departments.all()]}
        return self.page(grant.role, self.form(initial=initial), grant)

    def post(self, request, pk):
        grant = selectors.role_grant_get(self.actor, pk)
        form = self.form(request.POST)
        if form.is_valid():
            try:
                grant_services.role_grant_save(actor=self.actor, role_id=grant.role_id, grant_id=grant.pk,
                                               data=form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Grant saved."))
                return redirect("access:role_detail", pk=grant.role_id)
        return self.page(grant.role, form, grant)


class GrantDeleteView(ActorView):
    required_action = "manage_roles"
    http_method_names = ["post"]

    def post(self, request, pk):
        grant = selectors.role_grant_get(self.actor, pk)
        grant_services.role_grant_remove(actor=self.actor, grant_id=grant.pk)
        messages.success(request, _("Grant removed."))
        return redirect("access:role_detail", pk=grant.role_id)


class PeopleView(ActorView):
    required_action = "manage_roles"

    def get(self, request):
        q, role = request.GET.get("q", "").strip()[:50], request.GET.get("role", "").strip()[:20]
        roles = selectors.role_choices()
        labels = dict(roles)
        people = [{"person": p, "role_label": labels.get(p.role, p.role)}
                  for p in selectors.staff_list(self.actor, q=q, role=role)]
        return render(request, "access/people.html", {"people": people, "roles": roles, "q": q, "role": role})


class PersonEditView(ActorView):
    required_action = "manage_roles"

    def get(self, request, pk):
        person = selectors.staff_get(self.actor, pk)
        form = PersonForm(initial={"role": person.role, "training_valid_until": person.training_valid_until},
                          roles=selectors.role_choices())
        return self.page(person, form)

    def post(self, request, pk):
        person = selectors.staff_get(self.actor, pk)
        form = PersonForm(request.POST, roles=selectors.role_choices())
        if form.is_valid():
            try:
                grant_services.user_access_update(actor=self.actor, user_id=person.pk, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(reverse("access:people"))
        return self.page(person, form)

    def page(self, person, form, status_form=None, code=200):
        status_form = status_form or EmploymentStatusForm(initial={"status": person.employment_status})
        return render(self.request, "access/person_form.html", {
            "person": person, "form": form, "status_form": status_form,
            "may_set_status": self.actor.role in DEACTIVATING_ROLES and self.actor.user_id != person.pk,
        }, status=code)


class PersonStatusView(PersonEditView):
    """POST: set a person's employment status with a reason (identity.services.employment_status_set,
    audited); errors under the fields (400), nothing changed."""

    required_action = "manage_roles"
    http_method_names = ["post"]

    def post(self, request, pk):
        from custodia.identity.services import employment_status_set

        person = selectors.staff_get(self.actor, pk)
        status_form = EmploymentStatusForm(request.POST)
        status_form.is_valid()
        try:
            employment_status_set(actor=self.actor, user=person, status=request.POST.get("status", ""),
                                  reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            apply_errors(status_form, exc)
            form = PersonForm(initial={"role": person.role, "training_valid_until": person.training_valid_until},
                              roles=selectors.role_choices())
            return self.page(person, form, status_form, code=400)
        messages.success(request, _("Employment status saved."))
        return redirect("access:person_edit", pk=person.pk)

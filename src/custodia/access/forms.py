"""Forms of the access pages. They collect input; the services validate (allow-lists, separation
of duties) and their field errors are put back under the inputs (customers.forms.apply_errors)."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from custodia.access.choices import Action, Duty, EmploymentStatus, ObjectType, Scope
from custodia.access.models import MAX_GRANT_DAYS_HINT, TIMED_ACTIONS
from custodia.customers.choices import Tier
from custodia.protection import catalog

LEVELS = [(0, _("None"))] + [(level, label) for level, label in catalog.Level.choices]


class RoleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=20, required=False,
                           help_text=_("Letters, digits, hyphens; stable once created."))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    duty = forms.ChoiceField(label=_("Duty"), choices=Duty.choices,
                             help_text=_("Separation of duties: operators work with customer data, administrators "
                                         "manage roles, auditors read the audit log."))
    reveals_per_hour = forms.IntegerField(label=_("Reveals per hour"), min_value=0, required=False,
                                          help_text=_("Empty: no limit. Above it, a reveal needs approval."))
    export_row_limit = forms.IntegerField(label=_("Export row limit"), min_value=0, required=False,
                                          help_text=_("Empty: no limit. Above it, an export needs approval."))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items()}


class GrantForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object type"), choices=ObjectType.choices)
    actions = forms.MultipleChoiceField(label=_("Actions"), choices=Action.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    scope = forms.ChoiceField(label=_("Data scope"), choices=Scope.choices,
                              help_text=_("Every rung includes the person's own customers."))
    departments = forms.MultipleChoiceField(label=_("Named departments"), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("Only for the “named departments” scope."))
    tiers = forms.MultipleChoiceField(label=_("Customer tiers"), choices=Tier.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text=_("Core customers stay visible to their owner and assignees."))
    reveal_max_level = forms.TypedChoiceField(label=_("Highest level revealed directly"), choices=LEVELS,
                                              coerce=int, initial=0)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = list(departments)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class PersonForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    training_valid_until = forms.DateField(
        label=_("Training valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("After this date the person loses reveal, export and core-tier access until renewed."))

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = list(roles)


class EmploymentStatusForm(forms.Form):
    """A person's employment status with the reason (identity.services.employment_status_set)."""

    status = forms.ChoiceField(label=_("Employment status"), choices=EmploymentStatus.choices,
                               help_text=_("Cooling-off: the monitor alerts on anything they do. Departed: sign-in "
                                           "refused, sessions and API tokens ended."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. resignation accepted, last day 30 "
                                                                            "November")}),
                             help_text=_("Required; kept in the audit log."))

    def full_clean(self):
        """The service validates (its errors are put on the fields): no message twice."""
        self._errors = ErrorDict()
        self.cleaned_data = {}


class AssignForm(forms.Form):
    user = forms.ChoiceField(label=_("Colleague"))

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + list(colleagues)


class AccessGrantForm(forms.Form):
    grantee = forms.ChoiceField(label=_("Colleague"))
    actions = forms.MultipleChoiceField(
        label=_("Actions"), required=False, widget=forms.CheckboxSelectMultiple, initial=["view"],
        choices=[(a, Action(a).label) for a in TIMED_ACTIONS],
        help_text=_("View is always included; the colleague's own role must allow the others."))
    days = forms.IntegerField(label=_("Days"), initial=7, required=False,
                              help_text=MAX_GRANT_DAYS_HINT)
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grantee"].choices = [("", "—")] + list(colleagues)

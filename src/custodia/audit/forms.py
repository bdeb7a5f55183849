"""Forms of the audit pages: the search filters and the scope of an evidence bundle.

Both take ids and usernames only (a customer's UUID, a member of staff's username): nothing typed
here is personal data of a customer, so the filters may stay in the address bar.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from custodia.access.models import User
from custodia.audit.registry import registry

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def action_choices() -> list:
    """Every registered event type, grouped by its app (the api name's first part), each shown as
    its api name and what it records, in the active language."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for event in registry.all():
        what = str(event.template).format(actor="", target="", fields="…").strip()
        groups.setdefault(event.api_name.split(".")[0], []).append((event.api_name, f"{event.api_name} · {what}"))
    return [("", _("All actions")), *[(group, sorted(items)) for group, items in sorted(groups.items())]]


class _ScopeFields(forms.Form):
    customer = forms.UUIDField(
        label=_("Customer id"), required=False,
        error_messages={"invalid": _("Enter a customer id (a UUID such as 3f2b…-…), not a name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono", "spellcheck": "false",
                                      "placeholder": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}))
    person = forms.CharField(
        label=_("Person (username)"), required=False, max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "rep01"}))
    since = forms.DateField(label=_("Start date"), required=False, widget=DATE)
    until = forms.DateField(label=_("End date (inclusive)"), required=False, widget=DATE)

    def clean_person(self):
        return (self.cleaned_data.get("person") or "").strip()

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date must be on or after the start date."))
        return data


class AuditSearchForm(_ScopeFields):
    """GET filters of the audit search; every field is optional."""

    action = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = action_choices()

    def ordered(self):
        """The fields in the order of the filter bar: who and what first, then the dates."""
        return [self[name] for name in ("customer", "person", "action", "since", "until")]

    def filters(self) -> dict:
        """The cleaned filters as ``audit_search`` takes them."""
        data = self.cleaned_data
        return {"customer_id": data.get("customer"), "person": data.get("person") or None,
                "action": data.get("action") or None, "since": data.get("since"), "until": data.get("until")}


class BundleForm(_ScopeFields):
    """The scope of an evidence bundle: a customer, a person, a time range, or a combination."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].help_text = _("The member of staff whose actions the bundle covers.")
        self.fields["customer"].help_text = _("Events about this customer (its id, from a customer's page or the "
                                              "audit search).")
        self.fields["until"].help_text = _("Whole days: from the start of the first to the end of the last.")

    def clean_person(self):
        username = super().clean_person()
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No member of staff has this username."))
        return user

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(k) for k in ("customer", "person", "since", "until")):
            raise forms.ValidationError(_("Say what the bundle covers: a customer, a person, and/or a time range."))
        return data

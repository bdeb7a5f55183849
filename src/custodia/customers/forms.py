"""Web forms of the customer registry.

Plain forms that collect raw input: the services validate (``customers.validation``) and their
``ValidationError`` is mapped back onto the form field by field (``apply_errors``), so a message
appears under the input it concerns, in the user's language. Fields marked required here are a
display hint (asterisk, browser check); the service decides.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from custodia.customers.choices import InteractionKind, Kind, OpportunityStage, Source, Stage, Tier
from custodia.customers.validation import parse_amount
from custodia.protection import catalog

PROTECTED = [pf.name for pf in catalog.for_model("customer")]
PLAIN = ["kind", "name", "tier", "stage", "source", "tags"]


class RawCharField(forms.CharField):
    """Collects the text as typed; the service validates it (required or not)."""

    def validate(self, value):
        return


class RawChoiceField(forms.ChoiceField):
    """A select whose value the service validates (the form does not reject unknown values)."""

    def validate(self, value):
        return


def _text(label, *, required=False, max_length=None, **attrs):
    widget_attrs = {"autocomplete": "off", **attrs}
    if max_length:
        widget_attrs["maxlength"] = str(max_length)
    return RawCharField(label=label, required=required, strip=True, widget=forms.TextInput(attrs=widget_attrs))


def _choices(choices, *, blank=None):
    return ([("", blank)] if blank is not None else []) + list(choices)


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto ``form``: each message under its field, anything
    that belongs to no field of the form on top."""
    if not hasattr(exc, "error_dict"):
        for error in exc.error_list:
            form.add_error(None, error)
        return
    for name, errors in exc.error_dict.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)


def duplicate_fields(exc: ValidationError) -> list[str]:
    """The fields a ValidationError flags as already belonging to another customer."""
    if not hasattr(exc, "error_dict"):
        return []
    return [name for name, errors in exc.error_dict.items() if any(e.code == "duplicate" for e in errors)]


def only_duplicates(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and all(
        e.code == "duplicate" for errors in exc.error_dict.values() for e in errors)


class CustomerForm(forms.Form):
    """Create or edit a customer. On edit, protected inputs start empty: the masked current value
    is the placeholder and only the filled ones are sent to the service."""

    kind = RawChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.INDIVIDUAL, required=True)
    name = _text(_("Name"), required=True, max_length=200)
    tier = RawChoiceField(label=_("Tier"), choices=Tier.choices, initial=Tier.ORDINARY, required=True)
    stage = RawChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.LEAD, required=True)
    source = RawChoiceField(label=_("Source"), choices=Source.choices, initial=Source.COMPANY_LEAD, required=True)
    owner = RawChoiceField(label=_("Owner"), choices=(), required=False)
    tags = _text(_("Tags"), placeholder=_("e.g. 华东, 重点跟进"))
    mobile = _text(_("Mobile"), inputmode="tel", placeholder="138 1234 5678")
    email = _text(_("Email"), inputmode="email", placeholder="name@example.com")
    id_number = _text(_("Resident ID / USCC"), max_length=25)
    bank_account = _text(_("Bank account"), inputmode="numeric", max_length=30)
    address = _text(_("Address"), max_length=300)
    birth_date = RawCharField(label=_("Date of birth"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    notes = RawCharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    allow_duplicates = forms.BooleanField(label=_("Save anyway"), required=False,
                                          help_text=_("Tick, then save again to create it anyway."))

    def __init__(self, *args, owners=None, masked=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["tags"].help_text = _("Separate tags with commas.")
        if owners:
            self.fields["owner"].choices = list(owners)
        else:
            del self.fields["owner"]
        for pf in catalog.for_model("customer"):
            field = self.fields[pf.name]
            field.help_text = pf.level_label
            if pf.separate_consent:
                field.help_text = format_lazy("{} · {}", pf.level_label, _("needs separate consent"))
            current = (masked or {}).get(pf.name) if editing else None
            if current:
                if isinstance(field.widget, forms.DateInput):  # a date picker cannot show a placeholder
                    field.widget = forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"})
                field.widget.attrs["placeholder"] = current
                field.help_text = format_lazy("{} · {}", _("Leave blank to keep"), field.help_text)

    @property
    def protected_fields(self):
        return [self[name] for name in PROTECTED]

    @property
    def profile_fields(self):
        names = ["kind", "name", "tier", "stage", "source"] + (["owner"] if "owner" in self.fields else []) + ["tags"]
        return [self[name] for name in names]

    def service_data(self) -> dict:
        """The raw input for ``customer_create`` / ``customer_update``. On edit, blank protected
        inputs are left out, so the service keeps the current values."""
        data = {name: self.cleaned_data.get(name, "") for name in PLAIN}
        for name in PROTECTED:
            value = self.cleaned_data.get(name, "")
            if value or not self.editing:
                data[name] = value
        if self.cleaned_data.get("owner"):
            data["owner"] = self.cleaned_data["owner"]
        return data


class RevealForm(forms.Form):
    purpose = RawChoiceField(label=_("Purpose"), required=True)
    purpose_text = RawCharField(
        label=_("Details"), required=False, max_length=None,
        widget=forms.TextInput(attrs={"maxlength": "200", "autocomplete": "off"}),
        help_text=_("Required when the purpose is “Other”. Do not type personal data here."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _choices(settings.CUSTODIA_PURPOSES, blank=_("Choose a purpose…"))


# --- a customer's records -------------------------------------------------------------------------


def _amount(raw):
    if not raw:
        return ""  # the service reports the missing amount
    try:
        return parse_amount(raw)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["amount"]) from None


class ContactForm(forms.Form):
    name = _text(pgettext_lazy("person", "Name"), required=True, max_length=100)
    title = _text(_("Job title"), max_length=100)
    mobile = _text(_("Mobile"), inputmode="tel", placeholder="138 1234 5678")
    email = _text(_("Email"), inputmode="email", placeholder="name@example.com")


class InteractionForm(forms.Form):
    kind = RawChoiceField(label=_("Type"), choices=InteractionKind.choices, required=True)
    occurred_at = forms.DateTimeField(
        label=_("When"), initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    subject = _text(_("Subject"), required=True, max_length=200)
    notes = RawCharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Encrypted. Identifiers typed here are masked on display."))


class OpportunityForm(forms.Form):
    name = _text(_("Name"), required=True, max_length=200)
    stage = RawChoiceField(label=_("Stage"), choices=OpportunityStage.choices, required=True)
    amount = _text(_("Amount (CNY)"), required=True, inputmode="decimal", placeholder="12800.00")
    expected_close = forms.DateField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))

    def clean_amount(self):
        return _amount(self.cleaned_data.get("amount"))


class TransactionForm(forms.Form):
    occurred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = _text(_("Amount (CNY)"), required=True, inputmode="decimal", placeholder="12800.00")
    product = _text(_("Product"), required=True, max_length=200)
    reference = _text(_("Payment reference"), max_length=100)

    def clean_amount(self):
        return _amount(self.cleaned_data.get("amount"))


RECORD_FORMS = {
    "contact": ContactForm,
    "interaction": InteractionForm,
    "opportunity": OpportunityForm,
    "transaction": TransactionForm,
}


def record_data(form: forms.Form) -> dict:
    """The input for ``record_create``: empty optional dates as None."""
    return {name: (None if value == "" and isinstance(form.fields[name], forms.DateField) else value)
            for name, value in form.cleaned_data.items()}

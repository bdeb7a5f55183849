"""Forms of the monitoring pages: alert filters, triage, lifting a suspension, and the rule editor
(generated from the detector's parameters). The rule editor only shapes the input: the values are
validated by ``detectors.clean_params`` / ``clean_responses`` in the services, whose field-level
errors are put back on the fields (``customers.forms.apply_errors``)."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from custodia.monitor.choices import AlertStatus, Mode, Response, Severity
from custodia.monitor.detectors import DETECTORS, METRICS, SEVERITY_CHOICES
from custodia.monitor.selectors import ACTIVE, AlertFilters

ANY = [("", _("Any"))]


class ServiceCheckedForm(forms.Form):
    """Shapes and re-shows the input; the service validates it, and its field-level errors are
    the only ones (``apply_errors``), so a message never appears twice."""

    def full_clean(self):
        self._errors = ErrorDict()
        self.cleaned_data = {}


class AlertFilterForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=ANY + list(Severity.choices))
    rule = forms.ChoiceField(label=_("Rule"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, choices=[
        ("", _("Anyone")), ("mine", _("Assigned to me")), ("none", _("Unassigned"))])
    person = forms.CharField(label=_("Person or address"), required=False, max_length=150, widget=forms.TextInput(
        attrs={"placeholder": _("username or IP address"), "autocomplete": "off", "spellcheck": "false"}))

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("All rules"))] + [(r.code, f"{_(r.name)} · {r.code}") for r in rules]
        for name in ("severity", "rule", "assignee"):
            self.fields[name].widget.attrs["data-autosubmit"] = ""

    def filters(self, status: str) -> AlertFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AlertFilters(status=status, severity=data.get("severity", ""), rule=data.get("rule", ""),
                            assignee=data.get("assignee", ""), person=(data.get("person") or "").strip())


def parse_status(raw: str) -> str:
    from custodia.monitor.selectors import STATUS_FILTERS

    return raw if raw in STATUS_FILTERS else ACTIVE


class TriageForm(ServiceCheckedForm):
    status = forms.ChoiceField(label=_("Status"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Required when closing: say what you found."))

    def __init__(self, *args, alert=None, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        from custodia.monitor.choices import TRANSITIONS

        allowed = TRANSITIONS.get(alert.status, set()) if alert is not None else set(AlertStatus.values)
        self.fields["status"].choices = [("", _("Keep “%(status)s”") % {
            "status": AlertStatus(alert.status).label if alert else ""})] + [
            (s.value, s.label) for s in AlertStatus if s in allowed]
        self.fields["assignee"].choices = [("", _("Unassigned"))] + [
            (p.username, f"{p.get_full_name() or p.username} ({p.username})") for p in people]


class LiftForm(ServiceCheckedForm):
    reason = forms.CharField(label=_("Reason for lifting"), required=False, max_length=300, widget=forms.Textarea(
        attrs={"rows": 2}), help_text=_("Kept in the audit log. The person may sign in again; API tokens stay "
                                        "revoked."))


RESPONSE_LABELS = dict(Response.choices)


class RuleForm(ServiceCheckedForm):
    """The editor of one rule: name, mode, the detector's parameters, a response per severity and
    the reason for the change. ``read_only`` disables every field (viewers who may not edit)."""

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=300,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. too many false positives in "
                                                                            "the month-end rush")}),
                             help_text=_("Required to save; kept with the new version and in the audit log."))
    days = forms.IntegerField(label=_("Days of history"), required=False, initial=14,
                              widget=forms.NumberInput(attrs={"min": 1, "max": 90}))

    def __init__(self, *args, rule, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.detector = DETECTORS[rule.kind]
        for p in self.detector.params:
            self.fields[p.name] = self._param_field(p)
        for severity, label in Severity.choices:
            allowed = [r for r in Response.values if r in self.detector.responses]
            self.fields[f"response_{severity}"] = forms.ChoiceField(
                label=label, required=False, choices=[(r, RESPONSE_LABELS[r]) for r in allowed])
        shown = gettext(rule.name)
        if shown != rule.name:
            self.fields["name"].help_text = _("Shown in this language as “%(name)s”.") % {"name": shown}
        if read_only:
            for f in self.fields.values():
                f.disabled = True

    @staticmethod
    def _param_field(p) -> forms.Field:
        if p.kind in ("int", "float"):
            attrs = {"step": "1" if p.kind == "int" else "any"}
            if p.min is not None:
                attrs["min"] = p.min
            if p.max is not None:
                attrs["max"] = p.max
            return forms.CharField(label=p.label, required=False, help_text=p.help,
                                   widget=forms.NumberInput(attrs=attrs))
        if p.kind == "severity":
            return forms.ChoiceField(label=p.label, required=False, choices=SEVERITY_CHOICES, help_text=p.help)
        if p.kind == "choice":
            return forms.ChoiceField(label=p.label, required=False, help_text=p.help,
                                     choices=[(c, METRICS.get(c, c)) for c in p.choices])
        return forms.CharField(label=p.label, required=False, help_text=p.help,
                               widget=forms.TextInput(attrs={"placeholder": "rep, manager", "spellcheck": "false"}))

    @classmethod
    def initial_for(cls, rule) -> dict:
        initial = {"name": rule.name, "mode": rule.mode, "days": 14}
        for p in DETECTORS[rule.kind].params:
            value = rule.params.get(p.name, p.default)
            initial[p.name] = ", ".join(value) if p.kind == "roles" else value
        for severity in Severity.values:
            initial[f"response_{severity}"] = rule.responses.get(severity, Response.ALERT)
        return initial

    def param_fields(self):
        return [self[p.name] for p in self.detector.params]

    def response_fields(self):
        return [self[f"response_{s}"] for s in Severity.values]

    def alert_only(self) -> bool:
        return tuple(self.detector.responses) == (Response.ALERT,)

    def raw_params(self) -> dict:
        """The parameters as typed (validated by the service); one not posted keeps its value."""
        current = self.rule.params
        return {p.name: self.data.get(p.name, current.get(p.name, p.default)) for p in self.detector.params}

    def raw_responses(self) -> dict:
        current = self.rule.responses
        return {s: self.data.get(f"response_{s}", current.get(s, Response.ALERT)) for s in Severity.values}

from django import forms
from django.utils.translation import gettext_lazy as _


class DecisionForm(forms.Form):
    request = forms.UUIDField(widget=forms.HiddenInput)
    op = forms.ChoiceField(choices=(("approve", _("Approve")), ("reject", _("Reject"))), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300,
                             widget=forms.TextInput(attrs={"maxlength": "300", "autocomplete": "off"}))


class TraceForm(forms.Form):
    file = forms.FileField(label=_("Exported file (CSV or XLSX)"), required=False)
    export_id = forms.CharField(label=_("or the export id"), required=False, max_length=40,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono",
                                                              "placeholder": "xxxxxxxx-xxxx-…"}))

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("export_id") or "").strip():
            raise forms.ValidationError(_("Upload the file or paste its export id."))
        return data

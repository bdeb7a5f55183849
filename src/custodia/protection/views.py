"""The field catalog page: how every protected field is classified, stored, shown and kept.
Readable by any signed-in person; it holds no customer data (the masking examples use samples)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from custodia.access.policy import role_reveal_levels
from custodia.kernel.views import ActorView
from custodia.protection import catalog, masking

# Made-up sample values (not real people) to show what each masking rule does.
SAMPLES = {
    "phone": "+8613812345678",
    "resident_id": "11010519491231002X",
    "uscc": "91350100M000100Y43",
    "bank_card": "6222021234567890128",
    "email": "zhang.san@example.com",
    "name": "张三丰",
    "address": "北京市朝阳区建国路88号",
    "date": "1985-06-15",
    "passport": "E12345678",
    "text": "请致电 13812345678",
    "full": "secret",
}
MODEL_LABELS = {"customer": _("Customer"), "contact": _("Contact"), "interaction": _("Interaction"),
                "transaction": _("Transaction")}
KIND_LABELS = {"individual": _("Individuals"), "organisation": _("Organisations")}
LEVEL_NOTES = {
    1: _("Public information; no restriction."),
    2: _("Internal business information."),
    3: _("Personal information (PIPL): masked by default, reveal with a purpose."),
    4: _("Sensitive personal information (PIPL Art 28): masked, separate consent, reveal only by senior roles."),
}


def _rules(pf: catalog.ProtectedField) -> list[dict]:
    rules = pf.mask_rule.items() if isinstance(pf.mask_rule, dict) else [("", pf.mask_rule)]
    return [{"kind": KIND_LABELS.get(kind, ""), "rule": rule, "sample": SAMPLES.get(rule, ""),
             "masked": masking.mask(rule, SAMPLES.get(rule, ""))} for kind, rule in rules]


class CatalogView(ActorView):
    required_action = None  # any signed-in person: the catalog holds no customer data

    def get(self, request):
        entries = [{
            "pf": pf, "model_label": MODEL_LABELS.get(pf.model, pf.model),
            "category": catalog.Category(pf.category).label, "level_label": pf.level_label,
            "grade": catalog.Grade(pf.grade).label, "grade_kind": f"grade-{pf.grade}",
            "retention": catalog.Retention(pf.retention).label, "rules": _rules(pf),
        } for pf in catalog.all_fields()]
        reveal_levels = role_reveal_levels()
        levels = [{
            "level": level, "label": label, "note": LEVEL_NOTES.get(level, ""),
            "roles": [label for label, top in reveal_levels if top >= level],
            "count": sum(1 for pf in catalog.all_fields() if pf.level == level),
        } for level, label in catalog.Level.choices]
        return render(request, "protection/catalog.html", {"entries": entries, "levels": levels})

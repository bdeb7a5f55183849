"""Input normalisation shared by the web form, the API, the importer and the demo loader.

``normalise_customer`` turns raw input into clean values or raises one ValidationError whose
``message_dict`` holds every field-level error (in the user's language): nothing is written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from custodia.customers.choices import Kind, Source, Stage, Tier
from custodia.protection import catalog

CUSTOMER_PROTECTED = tuple(f.name for f in catalog.for_model("customer"))
CUSTOMER_PLAIN = ["kind", "name", "tier", "stage", "source", "tags"]


_VALUES = {choices: frozenset(choices.values) for choices in (Kind, Source, Stage, Tier)}


def _choice(value, choices, errors, field):
    if value in (None, ""):
        errors.setdefault(field, []).append(_("This field is required."))
        return None
    if value not in _VALUES[choices]:
        errors.setdefault(field, []).append(_("Select a valid choice."))
        return None
    return value


def _run(pf, raw, errors, *args):
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        return pf.normalize(raw, *args)
    except ValidationError as exc:
        errors.setdefault(pf.name, []).extend(exc.messages)
        return None


def normalise_customer(data: dict, *, current: dict | None = None) -> dict:
    """Validate ``data`` (partial when ``current`` holds the existing plain values)."""
    errors: dict[str, list] = {}
    out: dict = {}
    merged = dict(current or {})
    merged.update({k: v for k, v in data.items() if k in CUSTOMER_PLAIN})
    if current is None or "kind" in data:
        out["kind"] = _choice(merged.get("kind"), Kind, errors, "kind")
    if current is None or "name" in data:
        name = (data.get("name") or "").strip()
        if not name:
            errors.setdefault("name", []).append(_("This field is required."))
        elif len(name) > 200:
            errors.setdefault("name", []).append(_("Ensure this value has at most 200 characters."))
        out["name"] = name
    for field, choices, default in (("tier", Tier, Tier.ORDINARY), ("stage", Stage, Stage.LEAD),
                                    ("source", Source, Source.COMPANY_LEAD)):
        if field in data or current is None:
            out[field] = _choice(data.get(field) or (default if current is None else None), choices, errors, field)
    if "tags" in data:
        tags = data.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in (p.strip() for p in tags.replace("，", ",").split(",")) if t]
        if any(len(t) > 30 for t in tags):
            errors.setdefault("tags", []).append(_("A tag has at most 30 characters."))
        out["tags"] = sorted(set(tags))
    kind = merged.get("kind") or Kind.INDIVIDUAL
    for name in CUSTOMER_PROTECTED:
        if name not in data:
            continue
        pf = catalog.get(f"customer.{name}")
        if name == "id_number":
            out[name] = _run(pf, data[name], errors, kind)
        elif name == "birth_date" and kind == Kind.ORGANISATION and data[name]:
            errors.setdefault(name, []).append(_("Organisations have no date of birth."))
        else:
            out[name] = _run(pf, data[name], errors)
    if errors:
        raise ValidationError(errors)
    return out


def normalise_protected(model: str, data: dict) -> dict:
    """Normalise the protected fields of a customer's record (contact, interaction, transaction)."""
    errors: dict[str, list] = {}
    out = {}
    for pf in catalog.for_model(model):
        if pf.name in data:
            out[pf.name] = _run(pf, data[pf.name], errors)
    if errors:
        raise ValidationError(errors)
    return out


def parse_amount(raw, field: str = "amount") -> Decimal:
    try:
        value = Decimal(str(raw).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a valid amount in CNY, e.g. 12800.00.")]}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValidationError({field: [_("Enter an amount between 0 and 999,999,999,999.99.")]})
    return value.quantize(Decimal("0.01"))

"""The field catalog: the one registry of protected fields (DESIGN.md invariant 4).

Each entry declares how a field is classified and therefore how it is stored (encrypted, blind
indexed), shown (masking rule), revealed (level), retained and consented. Models, forms,
serializers, exports, the importer and the catalog page all read from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from custodia.protection import validators


class Level(models.IntegerChoices):
    L1 = 1, _("L1 public")
    L2 = 2, _("L2 internal")
    L3 = 3, _("L3 personal information")
    L4 = 4, _("L4 sensitive personal information")


class Grade(models.TextChoices):
    """GB/T 43697-2024 data grade."""

    GENERAL = "general", _("General 一般")
    IMPORTANT = "important", _("Important 重要")
    CORE = "core", _("Core 核心")


class Category(models.TextChoices):
    CONTACT = "contact", _("Contact details")
    IDENTITY = "identity", _("Identity document")
    FINANCIAL = "financial", _("Financial account")
    LOCATION = "location", _("Address")
    DEMOGRAPHIC = "demographic", _("Personal details")
    TRADE = "trade", _("Trading habits and intentions (trade secret)")


class Retention(models.TextChoices):
    RELATIONSHIP = "relationship", _("Customer relationship + 3 years")
    CONTRACT = "contract", _("Contract term + 5 years")
    CONSENT = "consent", _("Until consent is withdrawn")


@dataclass(frozen=True)
class ProtectedField:
    """One protected field. ``key`` is ``<model>.<field>`` (e.g. ``customer.mobile``)."""

    key: str
    model: str
    name: str
    label: Promise
    category: str
    level: int
    grade: str
    sensitive: bool  # PIPL Art 28 sensitive personal information
    mask_rule: str | dict[str, str]  # a masking rule, or one per customer kind
    blind_index: bool
    retention: str
    separate_consent: bool
    normalize: Callable = field(repr=False, default=str)
    description: Promise | str = ""

    @property
    def column(self) -> str:
        return f"{self.name}_enc"

    @property
    def index_column(self) -> str:
        return f"{self.name}_bidx"

    def rule_for(self, kind: str | None = None) -> str:
        if isinstance(self.mask_rule, dict):
            return self.mask_rule.get(kind or "", next(iter(self.mask_rule.values())))
        return self.mask_rule

    @property
    def level_label(self) -> str:
        return Level(self.level).label


def _identifier(value, kind="individual"):
    return validators.normalize_identifier(value, kind)


_FIELDS = [
    ProtectedField(
        "customer.mobile", "customer", "mobile", _("Mobile"), Category.CONTACT, Level.L3, Grade.IMPORTANT,
        False, "phone", True, Retention.RELATIONSHIP, False, validators.normalize_mobile,
        _("Mainland mobile number, stored as E.164."),
    ),
    ProtectedField(
        "customer.email", "customer", "email", _("Email"), Category.CONTACT, Level.L3, Grade.IMPORTANT,
        False, "email", True, Retention.RELATIONSHIP, False, validators.normalize_email,
    ),
    ProtectedField(
        "customer.id_number", "customer", "id_number", _("Resident ID / USCC"), Category.IDENTITY, Level.L4,
        Grade.CORE, True, {"individual": "resident_id", "organisation": "uscc"}, True, Retention.RELATIONSHIP,
        True, _identifier, _("Resident identity card number for individuals, unified social credit code for organisations."),
    ),
    ProtectedField(
        "customer.bank_account", "customer", "bank_account", _("Bank account"), Category.FINANCIAL, Level.L4,
        Grade.CORE, True, "bank_card", True, Retention.CONTRACT, True, validators.normalize_bank_card,
        _("Financial account: sensitive personal information (PIPL Art 28)."),
    ),
    ProtectedField(
        "customer.address", "customer", "address", _("Address"), Category.LOCATION, Level.L3, Grade.IMPORTANT,
        False, "address", False, Retention.RELATIONSHIP, False, validators.normalize_address,
    ),
    ProtectedField(
        "customer.birth_date", "customer", "birth_date", _("Date of birth"), Category.DEMOGRAPHIC, Level.L3,
        Grade.IMPORTANT, False, "date", False, Retention.RELATIONSHIP, False, validators.normalize_birth_date,
    ),
    ProtectedField(
        "customer.notes", "customer", "notes", _("Notes"), Category.TRADE, Level.L3, Grade.IMPORTANT,
        False, "text", False, Retention.RELATIONSHIP, False, validators.normalize_notes,
        _("Trading habits and intentions: a trade secret; identifiers inside are masked on display."),
    ),
    ProtectedField(
        "contact.mobile", "contact", "mobile", _("Mobile"), Category.CONTACT, Level.L3, Grade.IMPORTANT,
        False, "phone", True, Retention.RELATIONSHIP, False, validators.normalize_mobile,
    ),
    ProtectedField(
        "contact.email", "contact", "email", _("Email"), Category.CONTACT, Level.L3, Grade.IMPORTANT,
        False, "email", True, Retention.RELATIONSHIP, False, validators.normalize_email,
    ),
    ProtectedField(
        "interaction.notes", "interaction", "notes", _("Interaction notes"), Category.TRADE, Level.L3,
        Grade.IMPORTANT, False, "text", False, Retention.RELATIONSHIP, False, validators.normalize_notes,
        _("What was discussed: trading habits, intentions, deal contents."),
    ),
    ProtectedField(
        "transaction.reference", "transaction", "reference", _("Payment reference"), Category.FINANCIAL,
        Level.L3, Grade.IMPORTANT, False, "text", False, Retention.CONTRACT, False, validators.normalize_notes,
    ),
]

CATALOG: dict[str, ProtectedField] = {f.key: f for f in _FIELDS}


def get(key: str) -> ProtectedField:
    try:
        return CATALOG[key]
    except KeyError:
        raise KeyError(f"{key!r} is not in the field catalog") from None


def for_model(model: str) -> list[ProtectedField]:
    return [f for f in _FIELDS if f.model == model]


def all_fields() -> list[ProtectedField]:
    return list(_FIELDS)

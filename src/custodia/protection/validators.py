"""Validation and normalisation of personal data entered by users.

Each ``normalize_*`` function takes a raw value (usually a string typed into a form or read from
an import file), returns the normalised value that is stored, blind-indexed and masked, or raises
``django.core.exceptions.ValidationError`` with a translatable message and a stable ``code``.

The checks delegate to ``phonenumbers`` and ``python-stdnum`` so that what we accept is exactly
what those libraries consider valid. The module works without configured Django settings:
messages are lazy and only translated when shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

ADDRESS_MAX_LENGTH = 300
NOTES_MAX_LENGTH = 10_000
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
_CHINA_COUNTRY_CODE = 86
_BANK_CARD_RE = re.compile(r"[0-9]{12,19}")
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_email_validator = EmailValidator(message=_("Enter a valid email address."))

IDENTIFIER_KINDS = ("individual", "organisation")


def _text(value: object) -> str:
    """The value as a stripped string; integers (spreadsheet cells) are accepted as text."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(_("Enter text, not a %(type)s."), code="invalid_type",
                              params={"type": type(value).__name__})
    return value.strip()


def _no_whitespace(value: str) -> str:
    return "".join(value.split())


def normalize_mobile(value: object) -> str:
    """A mainland China mobile number in E.164 form ("+8613812345678").

    Accepts "13812345678", "+86 138 1234 5678", "138-1234-5678" and the like (region CN by default).
    """
    text = _text(value)
    error = ValidationError(_("Enter a valid mainland China mobile number, for example 138 1234 5678."),
                            code="invalid_mobile")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise error from None
    if (
        number.country_code != _CHINA_COUNTRY_CODE
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_resident_id(value: object) -> str:
    """An 18-character mainland resident identity card number, upper-case ("11010119900307123X")."""
    text = _no_whitespace(_text(value)).upper()
    try:
        return ric.validate(text)
    except StdnumError:
        raise ValidationError(
            _("Enter a valid 18-character resident identity card number."), code="invalid_resident_id"
        ) from None


def normalize_uscc(value: object) -> str:
    """An 18-character unified social credit code (统一社会信用代码), upper-case."""
    try:
        return uscc.validate(_text(value))
    except StdnumError:
        raise ValidationError(
            _("Enter a valid 18-character unified social credit code."), code="invalid_uscc"
        ) from None


def normalize_bank_card(value: object) -> str:
    """A bank card number: 12 to 19 digits with a valid Luhn check digit, spaces and dashes removed."""
    digits = _no_whitespace(_text(value)).replace("-", "")
    if not _BANK_CARD_RE.fullmatch(digits) or not luhn.is_valid(digits):
        raise ValidationError(
            _("Enter a valid bank card number (12 to 19 digits)."), code="invalid_bank_card"
        )
    return digits


@functools.lru_cache(maxsize=4096)
def _email_domain_valid(domain: str) -> bool:
    """Django's EmailValidator domain check (a pure function of the domain, so cached: addresses
    share a few domains and the domain pattern is the validator's costly part)."""
    return domain in _email_validator.domain_allowlist or _email_validator.validate_domain_part(domain)


def normalize_email(value: object) -> str:
    """An email address, stripped and lower-cased; valid exactly when Django's EmailValidator
    accepts it (its steps, with the domain check cached)."""
    text = _text(value)
    if text and "@" in text and len(text) <= 320:
        user, domain = text.rsplit("@", 1)
        if _email_validator.user_regex.match(user) and _email_domain_valid(domain):
            return text.lower()
    raise ValidationError(_email_validator.message, code=_email_validator.code, params={"value": text})


def normalize_birth_date(value: object, *, today: dt.date | None = None) -> dt.date:
    """A date of birth given as a date or "YYYY-MM-DD"; not in the future and not before 1900."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        match = _ISO_DATE_RE.fullmatch(_text(value))
        try:
            value = dt.date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            value = None
        if value is None:
            raise ValidationError(_("Enter a valid date in the form YYYY-MM-DD."), code="invalid_date")
    if value > (today or dt.date.today()):
        raise ValidationError(_("The date of birth cannot be in the future."), code="future_date")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(_("The date of birth cannot be before 1900."), code="date_too_early")
    return value


def normalize_identifier(value: object, kind: str) -> str:
    """A customer's identifier: resident ID for an "individual", USCC for an "organisation"."""
    if kind == "individual":
        return normalize_resident_id(value)
    if kind == "organisation":
        return normalize_uscc(value)
    raise ValueError(f"unknown identifier kind {kind!r}; expected one of {IDENTIFIER_KINDS}")


def _bounded_text(value: object, limit: int) -> str:
    text = _text(value).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > limit:
        raise ValidationError(
            _("Ensure this value has at most %(limit_value)d characters (it has %(show_value)d)."),
            code="max_length",
            params={"limit_value": limit, "show_value": len(text)},
        )
    return text


def normalize_address(value: object) -> str:
    """A postal address, stripped, at most 300 characters ("" when blank)."""
    return _bounded_text(value, ADDRESS_MAX_LENGTH)


def normalize_notes(value: object) -> str:
    """Free-text notes, stripped, line endings normalised, at most 10,000 characters."""
    return _bounded_text(value, NOTES_MAX_LENGTH)

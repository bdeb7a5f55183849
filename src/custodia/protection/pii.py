"""Detection of personal identifiers in free text (notes, imports, attachments), Chinese or English.

Kinds, in order of precedence when candidates overlap: "email", "resident_id" (18 characters,
GB 11643 check character), "uscc" (GB 32100 check character), "phone" (mainland mobile, optional
+86/0086/86 prefix and space or dash separators), "bank_card" (13 to 19 digits, Luhn) and
"passport" (a letter and 8 digits, or "E" + letter + 7 digits).

Candidates are found with one compiled regular expression per kind and confirmed with
``python-stdnum`` or ``phonenumbers``. Numbers are only matched whole: a candidate may not touch
another letter or digit, so digits inside a longer run are never taken for an identifier.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric, uscc

from custodia.protection.masking import MASK_RULES, mask_passport

KINDS = ("email", "resident_id", "uscc", "phone", "bank_card", "passport")

_USCC_CHAR = "[0-9A-HJ-NPQRTUWXY]"


def _token(first: str, rest: str) -> re.Pattern[str]:
    """A pattern for ``first`` (one character class) then ``rest``, touching no letter or digit.

    The left boundary is checked just after the first character, not before it: a pattern that
    starts with a character class lets the regex engine skip quickly to candidate positions.
    """
    return re.compile(f"{first}(?<![0-9A-Za-z]{first}){rest}(?![0-9A-Za-z])")


_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(
        r"(?<![A-Za-z0-9_%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
        r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
    ),
    "resident_id": _token("[0-9]", r"[0-9]{5}( ?)[0-9]{8}\1[0-9]{3}[0-9Xx]"),
    "uscc": _token("[0-9]", "[0-9]{7}" + _USCC_CHAR + "{10}"),
    # "+86", "0086" or "86" (told apart by the first character), then 1[3-9]x xxxx xxxx
    "phone": _token(
        "[+0-9]", r"(?:(?<=\+)86[ -]?1|(?<=0)086[ -]?1|(?<=8)6[ -]?1|(?<=1))[3-9][0-9](?:[ -]?[0-9]{4}){2}"
    ),
    "bank_card": _token("[0-9]", r"(?:[0-9]{12,18}|[0-9]{3}(?:[ -][0-9]{4}){2,3}(?P<tail>[ -][0-9]{1,3})?)"),
    "passport": _token("[A-Z]", r"(?:[0-9]{8}|(?<=E)[A-Z][0-9]{7})"),
}
_DIGIT_RUN = re.compile(r"[0-9]{4}")  # every digit-based kind has a run of at least 4 digits
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_NOT_DIGIT = re.compile(r"[^0-9]")


@dataclass(frozen=True)
class PiiMatch:
    """An identifier found in a text: ``text[start:end]`` as written, ``value`` normalised."""

    kind: str
    start: int
    end: int
    value: str


def _email(raw: str) -> str | None:
    return raw.lower()


def _resident_id(raw: str) -> str | None:
    number = raw.replace(" ", "").upper()
    return number if ric.is_valid(number) else None


def _uscc(raw: str) -> str | None:
    return raw if uscc.is_valid(raw) else None


def _phone(raw: str) -> str | None:
    national = _NOT_DIGIT.sub("", raw)[-11:]
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    # For +86 (one region) a known number type is exactly what is_valid_number checks, at a
    # fraction of the cost of parse() + is_valid_number().
    if phonenumbers.number_type(number) in _MOBILE_TYPES:
        return "+86" + national
    return None


def _bank_card(raw: str) -> str | None:
    digits = _NOT_DIGIT.sub("", raw)
    return digits if 13 <= len(digits) <= 19 and luhn.is_valid(digits) else None


def _passport(raw: str) -> str | None:
    return raw


_NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "email": _email,
    "resident_id": _resident_id,
    "uscc": _uscc,
    "phone": _phone,
    "bank_card": _bank_card,
    "passport": _passport,
}


def _kinds_to_scan(text: str) -> list[str]:
    """The kinds that can occur at all in ``text``, in order of precedence."""
    if not text:
        return []
    has_email = "@" in text
    has_digits = _DIGIT_RUN.search(text) is not None
    return [kind for kind in KINDS if (has_email if kind == "email" else has_digits)]


def _candidates(kind: str, text: str) -> Iterator[PiiMatch]:
    """Confirmed matches of one kind, in text order (they may overlap other kinds)."""
    pattern, normalise = _PATTERNS[kind], _NORMALISERS[kind]
    position = 0
    while match := pattern.search(text, position):
        start, end = match.span()
        value = normalise(match.group())
        if value is None and kind == "bank_card" and match.group("tail"):
            # "6222 0212 3456 7890 123" may be a card followed by another number.
            end = match.start("tail")
            value = normalise(text[start:end])
        if value is None:
            # A rejected candidate may hide a real one starting inside it ("1234 6222 0212 ...").
            position = start + 1
            continue
        yield PiiMatch(kind, start, end, value)
        position = end


def find_pii(text: str) -> list[PiiMatch]:
    """Identifiers in ``text``, non-overlapping, in text order."""
    found: list[PiiMatch] = []  # sorted by start, never overlapping
    starts: list[int] = []
    for kind in _kinds_to_scan(text):
        for candidate in _candidates(kind, text):
            index = bisect.bisect_left(starts, candidate.start)
            if index > 0 and found[index - 1].end > candidate.start:
                continue
            if index < len(found) and found[index].start < candidate.end:
                continue
            found.insert(index, candidate)
            starts.insert(index, candidate.start)
    return found


def contains_pii(text: str) -> bool:
    """Whether ``text`` contains any identifier."""
    return any(next(_candidates(kind, text), None) for kind in _kinds_to_scan(text))


def mask_match(match: PiiMatch) -> str:
    """The display form of one detected identifier."""
    if match.kind == "passport":
        return mask_passport(match.value)
    return MASK_RULES[match.kind](match.value)


def mask_pii_in_text(text: str) -> str:
    """``text`` with every detected identifier replaced by its masked form."""
    matches = find_pii(text)
    if not matches:
        return text
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position:match.start])
        parts.append(mask_match(match))
        position = match.end
    parts.append(text[position:])
    return "".join(parts)

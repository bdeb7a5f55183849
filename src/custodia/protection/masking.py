"""Display masking of protected values.

``MASK_RULES`` maps a rule name (the field catalog's ``mask_rule``) to a function from an
already-normalised value to its display form; ``mask(rule, value)`` applies one. Rules are plain
functions, so a deployment can register other ones (``keep_ends(4, 4)`` for resident IDs, say).

Whatever the input, a mask of a value of four or more characters never contains that value
(apart from rule "text", which only masks the identifiers it detects in free text, and from
values that are already masked, such as "****@example.com"). Hidden
characters are shown as "*" (except rule "address", which hides the rest behind a fixed "****").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

STAR = "*"
FULL_MASK = "******"

# Two-character surnames (复姓) kept whole in masked names.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木".split()
)
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"\S+")
_ISO_DATE_RE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ADDRESS_MARKERS = "区县市"
_ADDRESS_MARKER_FROM = 5  # 0-based: the sixth character, after a typical "广东省深圳" / "北京市朝阳"
_ADDRESS_PREFIX_MAX = 9


def keep_ends(head: int, tail: int, min_hidden: int = 1) -> Callable[[str], str]:
    """A rule keeping ``head`` leading and ``tail`` trailing characters, starring the rest.

    The length is preserved. When fewer than ``min_hidden`` characters would be hidden, only the
    tail is kept; when even that hides too little, everything is starred.
    """

    def rule(value: str) -> str:
        size = len(value)
        if size - head - tail >= min_hidden:
            return value[:head] + STAR * (size - head - tail) + value[size - tail:]
        if size - tail >= max(min_hidden, 1) and tail:
            return STAR * (size - tail) + value[size - tail:]
        return STAR * size

    return rule


_keep_3_4 = keep_ends(3, 4)


def mask_phone(value: str) -> str:
    """"+8613812345678" -> "138****5678"; other numbers keep the first 3 and last 4 characters."""
    if value.startswith("+86") and len(value) == 14 and value[3:].isdigit():
        national = value[3:]
        return national[:3] + "****" + national[-4:]
    if len(value) >= 8:
        return _keep_3_4(value)
    return STAR * len(value)


mask_resident_id = keep_ends(4, 4, min_hidden=4)  # DESIGN.md: 1101**********1234
mask_uscc = keep_ends(4, 4, min_hidden=4)
mask_bank_card = keep_ends(6, 4, min_hidden=4)


def mask_email(value: str) -> str:
    """"zhang.san@example.com" -> "z***@example.com"."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return FULL_MASK
    return local[0] + "***@" + domain


def mask_name(value: str) -> str:
    """Chinese names keep the surname ("张*", "欧阳**"); Latin names the initials ("J*** S****")."""
    name = value.strip()
    if _CJK_RE.search(name):
        keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
        if len(name) <= keep:
            return STAR * len(name)
        return name[:keep] + STAR * (len(name) - keep)

    def initial(match: re.Match[str]) -> str:
        word = match.group()
        if match.start() > 0 and len(word) == 1:
            return STAR
        return word[0] + STAR * (len(word) - 1)

    if len(name) == 1:
        return STAR
    return _WORD_RE.sub(initial, name)


def mask_address(value: str) -> str:
    """Keep the administrative prefix and hide the rest: "北京市朝阳区建国路88号" -> "北京市朝阳区****".

    The prefix runs up to and including the first 区/县/市 from the sixth character on, or is the
    first nine characters, whichever is shorter. When there is no such marker but an earlier
    省/市/区/县 ("杭州西湖区文三路" -> "杭州西湖区"), the prefix ends there rather than mid-street.
    At least two characters are always hidden.
    """
    address = value.strip()
    window = address[:_ADDRESS_PREFIX_MAX]
    keep = len(window)
    markers = [i for i, char in enumerate(window) if char in _ADDRESS_MARKERS or char == "省"]
    later = [i for i in markers if i >= _ADDRESS_MARKER_FROM and window[i] != "省"]
    if later:
        keep = later[0] + 1
    elif markers:
        keep = markers[-1] + 1
    keep = max(0, min(keep, len(address) - 2))
    return address[:keep] + "****"


def mask_date(value: str) -> str:
    """"1985-03-07" -> "1985-**-**"; anything that is not such a date is fully masked."""
    match = _ISO_DATE_RE.match(value)
    if not match:
        return FULL_MASK
    try:
        dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return FULL_MASK
    return f"{match.group(1)}-**-**"


def mask_passport(value: str) -> str:
    """"E12345678" -> "E********"."""
    if len(value) < 2:
        return STAR * len(value)
    return value[0] + STAR * (len(value) - 1)


def mask_text(value: str) -> str:
    """Free text with every detected identifier masked in place (see ``pii``)."""
    from custodia.protection.pii import mask_pii_in_text  # pii imports this module

    return mask_pii_in_text(value)


def mask_full(value: str) -> str:
    """Hide everything, including the length."""
    return FULL_MASK


MASK_RULES: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "resident_id": mask_resident_id,
    "uscc": mask_uscc,
    "bank_card": mask_bank_card,
    "email": mask_email,
    "name": mask_name,
    "address": mask_address,
    "date": mask_date,
    "passport": mask_passport,
    "text": mask_text,
    "full": mask_full,
}


def mask(rule: str, value: object) -> str:
    """The display form of ``value`` under ``rule`` ("" for None or ""); KeyError for unknown rules."""
    function = MASK_RULES[rule]
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return function(text)

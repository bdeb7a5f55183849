"""Check digits and number plans for the identifiers in demo data.

Resident ID numbers (GB 11643), unified social credit codes (GB 32100), organisation codes
(GB 11714), bank card numbers (Luhn) and mainland mobile numbers. Kept free of python-stdnum
and phonenumbers so that generation is fast; the tests check every value against them.
"""

from __future__ import annotations

import random

# Mainland mobile prefixes (first three digits) with a rough weight for how common they are.
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    ("130", 3), ("131", 3), ("132", 3), ("133", 3), ("134", 2), ("135", 6), ("136", 6), ("137", 6),
    ("138", 8), ("139", 8), ("150", 4), ("151", 4), ("152", 3), ("153", 3), ("155", 3), ("156", 3),
    ("157", 2), ("158", 4), ("159", 4), ("166", 1), ("173", 1), ("176", 1.5), ("177", 1.5), ("178", 1),
    ("180", 3), ("181", 3), ("182", 3), ("183", 3), ("184", 1), ("185", 3), ("186", 4), ("187", 3),
    ("188", 3), ("189", 4), ("191", 1), ("193", 0.5), ("195", 0.5), ("198", 1), ("199", 1.5),
)

# (bank, BIN / IIN prefix, card length, weight): debit cards of the large Chinese banks.
BANK_BINS: tuple[tuple[str, str, int, float], ...] = (
    ("中国工商银行", "622202", 19, 15), ("中国工商银行", "621226", 19, 10),
    ("中国建设银行", "621700", 19, 12), ("中国建设银行", "622700", 19, 6), ("中国建设银行", "436742", 19, 3),
    ("中国农业银行", "622848", 19, 15),
    ("中国银行", "621661", 19, 8), ("中国银行", "456351", 19, 4),
    ("招商银行", "622588", 16, 8), ("招商银行", "621483", 16, 4),
    ("交通银行", "622262", 19, 8),
    ("中国邮政储蓄银行", "621799", 19, 5), ("中国邮政储蓄银行", "622188", 19, 3),
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Characters seen in the body of new-style organisation codes ("MA" + 6): the USCC alphabet.
_ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_DIGITS = "0123456789"


def ric_check_digit(body17: str) -> str:
    """GB 11643 check digit of a resident ID number given its first 17 digits."""
    checksum = (1 - 2 * int(body17, 13)) % 11  # same as the ISO 7064 MOD 11-2 weights
    return "X" if checksum == 10 else str(checksum)


def make_ric(region: str, birth: str, sequence: int) -> str:
    """Resident ID: 6-digit region + YYYYMMDD + 3-digit sequence (odd male, even female) + check."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric_check_digit(body)


def org_code_check(body8: str) -> str:
    """GB 11714 organisation code check character for an 8-character body."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check(body17: str) -> str:
    total = sum(_USCC_INDEX[c] * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total) % 31]


def make_uscc(rng: random.Random, region: str) -> str:
    """Unified social credit code of a company (9 = market regulator, 1 = enterprise)."""
    if rng.random() < 0.6:  # new-style organisation code issued with the USCC
        body = "MA" + "".join(rng.choices(_ORG_BODY_CHARS, k=6))
    else:  # converted from an old all-digit organisation code
        body = "".join(rng.choices(_DIGITS, k=8))
    code = body + org_code_check(body)
    head = "91" + region + code
    return head + uscc_check(head)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = ord(ch) - 48
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card(rng: random.Random, bin_: str, length: int) -> str:
    partial = bin_ + "".join(rng.choices(_DIGITS, k=length - len(bin_) - 1))
    return partial + luhn_check_digit(partial)


def make_mobile(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_DIGITS, k=8))

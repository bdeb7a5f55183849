"""PII detection in free text: generated identifiers embedded in Chinese and English text."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from custodia.protection.pii import PiiMatch, contains_pii, find_pii, mask_pii_in_text

from .test_validators import DIGITS, mobiles, resident_ids, usccs, written_mobile

CHINESE_WORDS = "客户 今天 来电 询问 合同 续签 的 事情 我们 下周 拜访 报价 已经 发送 请 联系 张经理 地址 北京 谢谢".split()
ENGLISH_WORDS = "the customer called about renewal please contact next week quote sent thanks".split()
PUNCTUATION = [" ", "，", "。", "：", "、", "\n", "（", "）", ", ", ". ", "; "]

# Filler that cannot contain an identifier: words and short numbers with a unit, separated.
# (A bare number next to a grouped card, "1234 6222 0212 ...", would be genuinely ambiguous.)
numbers = st.tuples(
    st.sampled_from(["第", "共", "#", "No.", ""]),
    st.text(DIGITS, min_size=1, max_size=7),
    st.sampled_from(["个", "元", "%", "号"]),
).map("".join)
filler_tokens = st.one_of(st.sampled_from(CHINESE_WORDS), st.sampled_from(ENGLISH_WORDS), numbers)
filler = st.lists(st.tuples(filler_tokens, st.sampled_from(PUNCTUATION)), max_size=8).map(
    lambda pairs: "".join(token + sep for token, sep in pairs)
)
# What separates an identifier from its neighbours: never a letter, digit or email character.
separators = st.sampled_from([" ", "：", "，", "。", "\n", "（", "号码", "是", "; "])


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["4", "5", "62"]))
    body = prefix + draw(st.text(DIGITS, min_size=12 - len(prefix), max_size=18 - len(prefix)))
    number = body + luhn.calc_check_digit(body)
    assume(not ric.is_valid(number) and not uscc.is_valid(number))
    return number


emails = st.tuples(
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,10}\.(com|cn|com\.cn|org)", fullmatch=True),
).map(lambda parts: f"{parts[0]}@{parts[1]}")
passports = st.from_regex(r"(E[0-9]{8}|G[0-9]{8}|[A-Z][0-9]{8}|E[A-Z][0-9]{7})", fullmatch=True)


@st.composite
def identifiers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, text as written, normalised value)."""
    kind = draw(st.sampled_from(["resident_id", "uscc", "phone", "bank_card", "email", "passport"]))
    if kind == "resident_id":
        value = draw(resident_ids())
        written = draw(st.sampled_from([value, value.lower(), f"{value[:6]} {value[6:14]} {value[14:]}"]))
    elif kind == "uscc":
        value = draw(usccs())
        assume(not ric.is_valid(value))
        written = value
    elif kind == "phone":
        national = draw(mobiles)
        value, written = "+86" + national, written_mobile(national, draw(st.integers(0, 5)))
    elif kind == "bank_card":
        value = draw(bank_cards())
        grouped = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        written = draw(st.sampled_from([value, grouped] if len(value) in (16, 19) else [value]))
    elif kind == "email":
        written = draw(emails)
        value = written.lower()
    else:
        value = written = draw(passports)
    return kind, written, value


@st.composite
def texts_with_identifiers(draw: st.DrawFn) -> tuple[str, list[PiiMatch], list[str]]:
    """A text, the matches expected in it, and the identifiers as written."""
    text = draw(filler)
    expected: list[PiiMatch] = []
    written_ids: list[str] = []
    for kind, written, value in draw(st.lists(identifiers(), min_size=1, max_size=4)):
        text += draw(separators)
        expected.append(PiiMatch(kind, len(text), len(text) + len(written), value))
        written_ids.append(written)
        text += written + draw(separators) + draw(filler)
    return text, expected, written_ids


@given(texts_with_identifiers())
def test_embedded_identifiers_are_found(case: tuple[str, list[PiiMatch], list[str]]) -> None:
    text, expected, _ = case
    assert find_pii(text) == expected
    assert contains_pii(text)


@given(texts_with_identifiers())
def test_masked_text_reveals_no_identifier(case: tuple[str, list[PiiMatch], list[str]]) -> None:
    text, expected, written_ids = case
    masked = mask_pii_in_text(text)
    for match, written in zip(expected, written_ids, strict=True):
        assert written not in masked
        assert match.value not in masked
    assert find_pii(masked) == []


@given(filler)
def test_text_without_identifiers_is_unchanged(text: str) -> None:
    assert find_pii(text) == []
    assert not contains_pii(text)
    assert mask_pii_in_text(text) == text


@given(resident_ids(), st.sampled_from(["1", "9", "a", "Z"]), st.booleans())
def test_no_partial_matches_inside_longer_runs(number: str, extra: str, before: bool) -> None:
    text = f"编号{extra}{number}结束" if before else f"编号{number}{extra}结束"
    kinds = {match.kind for match in find_pii(text)}
    assert "resident_id" not in kinds


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("手机：+86 138-1234-5678。", "phone", "+8613812345678"),
        ("call 0086 13812345678 today", "phone", "+8613812345678"),
        ("身份证号11010519491231002x", "resident_id", "11010519491231002X"),
        ("统一社会信用代码91110000600037341L有限公司", "uscc", "91110000600037341L"),
        ("卡号4111 1111 1111 1111 金额 100", "bank_card", "4111111111111111"),
        ("邮箱Zhang.San@Example.com，谢谢", "email", "zhang.san@example.com"),
        ("护照号码：E12345678", "passport", "E12345678"),
        ("passport EA1234567.", "passport", "EA1234567"),
        ("email 13812345678@163.com", "email", "13812345678@163.com"),
    ],
)
def test_examples(text: str, kind: str, value: str) -> None:
    [match] = find_pii(text)
    assert (match.kind, match.value) == (kind, value)
    assert value.lower() not in mask_pii_in_text(text).lower()


@pytest.mark.parametrize("text", ["卡 4111 1111 1111 1111 123 元", "共 1234 4111 1111 1111 1111 元"])
def test_card_next_to_another_number(text: str) -> None:
    [match] = find_pii(text)
    assert text[match.start:match.end] == "4111 1111 1111 1111"


@pytest.mark.parametrize(
    "text",
    [
        "订单号 123456789012345678901 已发货",  # 21 digits: no identifier inside
        "电话 12345678901",  # not a mobile prefix
        "金额 4111111111111112 元",  # Luhn fails
        "版本 v1.2.3，时间 2024-05-06 12:30",
        "",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_pii(text) == []
    assert mask_pii_in_text(text) == text


def test_fast_enough_for_the_importer() -> None:
    notes = [
        f"客户{i}来电询问续签，报价已发送 quote #{i} 总价 {i * 37} 元。联系人手机 1381234{i % 10000:04d}"
        for i in range(5000)
    ]
    started = time.perf_counter()
    for note in notes:
        mask_pii_in_text(note)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{elapsed:.2f}s for 5,000 notes"

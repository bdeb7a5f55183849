"""Display masking: the documented examples and properties over generated values."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custodia.protection.masking import MASK_RULES, keep_ends, mask

from .test_validators import luhn_numbers, mobiles, resident_ids, usccs


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("phone", "+8613812345678", "138****5678"),
        ("phone", "+85251234567", "+85*****4567"),
        ("phone", "1234567", "*******"),
        ("resident_id", "110101199003071234", "1101**********1234"),
        ("uscc", "91110000600037341L", "9111**********341L"),
        ("bank_card", "6222021234567890", "622202******7890"),
        ("bank_card", "622202123456", "********3456"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("email", "@example.com", "******"),
        ("name", "张三", "张*"),
        ("name", "张", "*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "司马光", "司马*"),
        ("name", "欧阳", "欧*"),
        ("name", "John Smith", "J*** S****"),
        ("name", "Mary J Watson", "M*** * W*****"),
        ("address", "北京市朝阳区建国路88号SOHO现代城1号楼", "北京市朝阳区****"),
        ("address", "上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("address", "广东省深圳市南山区科技园", "广东省深圳市****"),
        ("address", "杭州西湖区文三路100号", "杭州西湖区****"),
        ("address", "北京市海淀中关村大街1号", "北京市****"),
        ("address", "12 Main Street, Springfield", "12 Main S****"),
        ("address", "北京市朝阳区", "北京市朝****"),
        ("date", "1985-03-07", "1985-**-**"),
        ("date", dt.date(1985, 3, 7), "1985-**-**"),
        ("date", "not a date", "******"),
        ("passport", "E12345678", "E********"),
        ("text", "电话13812345678，谢谢", "电话138****5678，谢谢"),
        ("full", "anything", "******"),
    ],
)
def test_examples(rule: str, value: object, expected: str) -> None:
    assert mask(rule, value) == expected


@pytest.mark.parametrize("rule", sorted(MASK_RULES))
@pytest.mark.parametrize("value", [None, ""])
def test_empty_values(rule: str, value: object) -> None:
    assert mask(rule, value) == ""


def test_unknown_rule() -> None:
    with pytest.raises(KeyError):
        mask("nope", "value")
    with pytest.raises(KeyError):
        mask("nope", None)


def assert_hidden_only(original: str, masked: str) -> None:
    """Same length, and every character either kept in place or replaced by "*"."""
    assert len(masked) == len(original)
    assert all(m in (o, "*") for o, m in zip(original, masked, strict=True))
    assert "*" in masked


@given(st.one_of(resident_ids(), usccs(), luhn_numbers()))
def test_identifiers_keep_length_and_last_four(value: str) -> None:
    for rule in ("resident_id", "uscc", "bank_card"):
        masked = mask(rule, value)
        assert_hidden_only(value, masked)
        assert masked.endswith(value[-4:])
        assert value not in masked
        assert mask(rule, masked) == masked


@given(resident_ids())
def test_resident_id_shape(number: str) -> None:
    assert mask("resident_id", number) == number[:4] + "*" * 10 + number[-4:]


@given(luhn_numbers())
def test_bank_card_shape(number: str) -> None:
    masked = mask("bank_card", number)
    if len(number) >= 14:
        assert masked == number[:6] + "*" * (len(number) - 10) + number[-4:]
    else:
        assert masked == "*" * (len(number) - 4) + number[-4:]


@given(mobiles)
def test_phone(national: str) -> None:
    masked = mask("phone", "+86" + national)
    assert_hidden_only(national, masked)
    assert masked == national[:3] + "****" + national[-4:]
    assert national not in masked
    assert mask("phone", masked) == masked


@given(st.emails().filter(lambda address: address[0] != "*"))
def test_email(address: str) -> None:
    masked = mask("email", address.lower())
    local, _, domain = address.lower().rpartition("@")
    assert masked == local[0] + "***@" + domain
    assert address.lower() not in masked
    assert mask("email", masked) == masked


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(CJK, min_size=1, max_size=6))
def test_chinese_names(name: str) -> None:
    masked = mask("name", name)
    assert_hidden_only(name, masked)
    assert masked.startswith(name[0]) or len(name) == 1
    assert mask("name", masked) == masked


@given(st.lists(st.text("abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=8), min_size=1, max_size=4))
def test_latin_names(words: list[str]) -> None:
    name = " ".join(words)
    masked = mask("name", name)
    assert_hidden_only(name, masked)
    assert mask("name", masked) == masked


NO_STARS = st.text(st.characters(exclude_characters="*", exclude_categories=("Cs",)), min_size=4, max_size=40)


@pytest.mark.parametrize("rule", sorted(set(MASK_RULES) - {"text"}))
@given(value=NO_STARS)
def test_never_contains_the_value(rule: str, value: str) -> None:
    assert value not in mask(rule, value)


@given(st.text(max_size=40), st.integers(0, 8), st.integers(0, 8), st.integers(1, 6))
def test_keep_ends_only_stars(value: str, head: int, tail: int, min_hidden: int) -> None:
    masked = keep_ends(head, tail, min_hidden)(value)
    assert len(masked) == len(value)
    assert all(m in (o, "*") for o, m in zip(value, masked, strict=True))
    hidden = sum(1 for o, m in zip(value, masked, strict=True) if m == "*" and o != "*")
    assert hidden >= min(min_hidden, len(value)) - value.count("*")

"""Validators agree with python-stdnum, phonenumbers and Django on generated input.

The strategies for valid identifiers at the top are shared with the masking and PII tests.
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from custodia.protection import validators as v

# County codes that stdnum knows for every birth year drawn below.
REGIONS = ("110101", "110105", "110108", "120101", "310104")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIGITS = "0123456789"
MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    birth = draw(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2020, 12, 31)))
    body = region + birth.strftime("%Y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


@st.composite
def usccs(draw: st.DrawFn) -> str:
    body = draw(st.text(DIGITS, min_size=8, max_size=8)) + draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    return body + uscc.calc_check_digit(body)


@st.composite
def luhn_numbers(draw: st.DrawFn, min_size: int = 12, max_size: int = 19) -> str:
    body = draw(st.text(DIGITS, min_size=min_size - 1, max_size=max_size - 1))
    return body + luhn.calc_check_digit(body)


def library_mobile(raw: str) -> str | None:
    """What phonenumbers says: the E.164 form of a valid mainland mobile, else None."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 86 and phonenumbers.is_valid_number(number) and phonenumbers.number_type(
        number
    ) in MOBILE_TYPES:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


# Valid mainland mobiles as 11 national digits.
mobiles = (
    st.tuples(st.sampled_from("3456789"), st.text(DIGITS, min_size=9, max_size=9))
    .map(lambda parts: "1" + parts[0] + parts[1])
    .filter(lambda national: library_mobile(national) is not None)
)


def written_mobile(national: str, style: int) -> str:
    """The number written in one of the usual ways (style 0 to 5)."""
    groups = (national[:3], national[3:7], national[7:])
    return (
        national,
        "+86 " + " ".join(groups),
        "-".join(groups),
        "+86" + national,
        "86" + national,
        "0086 " + national,
    )[style]


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str], alphabet: str) -> str:
    """A valid value with one character replaced, inserted or deleted."""
    value = draw(valid)
    index = draw(st.integers(0, len(value) - 1))
    char = draw(st.sampled_from(alphabet))
    edit = draw(st.sampled_from(("replace", "insert", "delete")))
    if edit == "replace":
        return value[:index] + char + value[index + 1:]
    if edit == "insert":
        return value[:index] + char + value[index:]
    return value[:index] + value[index + 1:]


def outcome(function, raw):
    """The normalised value, or the ValidationError code."""
    try:
        return function(raw)
    except ValidationError as error:
        return ("error", error.code)


class TestResidentId:
    @given(resident_ids())
    def test_valid_ids_are_accepted(self, number: str) -> None:
        assert ric.is_valid(number)
        assert v.normalize_resident_id(number) == number
        spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
        assert v.normalize_resident_id(spaced) == number

    @given(st.one_of(mutated(resident_ids(), DIGITS + "Xx A"), st.text(DIGITS + "Xx", max_size=20)))
    def test_accepted_iff_stdnum_says_valid(self, raw: str) -> None:
        compact = "".join(raw.split()).upper()
        expected = compact if ric.is_valid(compact) else ("error", "invalid_resident_id")
        assert outcome(v.normalize_resident_id, raw) == expected

    def test_fifteen_digit_form_is_rejected(self) -> None:
        with pytest.raises(ValidationError):
            v.normalize_resident_id("110101900307123")


class TestUscc:
    @given(usccs())
    def test_valid_codes_are_accepted(self, code: str) -> None:
        assert v.normalize_uscc(code) == code
        assert v.normalize_uscc(f" {code[:8]} {code[8:].lower()}") == code

    @given(st.one_of(mutated(usccs(), USCC_ALPHABET + "IOZSV -"), st.text(USCC_ALPHABET, max_size=20)))
    def test_accepted_iff_stdnum_says_valid(self, raw: str) -> None:
        expected = uscc.compact(raw) if uscc.is_valid(raw) else ("error", "invalid_uscc")
        assert outcome(v.normalize_uscc, raw) == expected

    def test_known_code(self) -> None:
        assert v.normalize_uscc("91110000600037341l") == "91110000600037341L"


class TestBankCard:
    @given(luhn_numbers(), st.sampled_from((" ", "-", "")))
    def test_valid_cards_are_accepted(self, number: str, separator: str) -> None:
        written = separator.join(number[i:i + 4] for i in range(0, len(number), 4))
        assert v.normalize_bank_card(written) == number

    @given(st.one_of(mutated(luhn_numbers(), DIGITS), st.text(DIGITS, max_size=22), luhn_numbers(2, 25)))
    def test_accepted_iff_luhn_and_length(self, raw: str) -> None:
        valid = 12 <= len(raw) <= 19 and luhn.is_valid(raw)
        assert outcome(v.normalize_bank_card, raw) == (raw if valid else ("error", "invalid_bank_card"))

    def test_letters_are_rejected(self) -> None:
        with pytest.raises(ValidationError):
            v.normalize_bank_card("4111 1111 1111 111a")


class TestMobile:
    @pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "008613812345678"])
    def test_usual_forms(self, raw: str) -> None:
        assert v.normalize_mobile(raw) == "+8613812345678"

    @given(mobiles, st.integers(0, 5))
    def test_valid_mobiles_are_accepted(self, national: str, style: int) -> None:
        assert v.normalize_mobile(written_mobile(national, style)) == "+86" + national

    @given(st.one_of(mutated(mobiles, DIGITS + " -+"), st.text(DIGITS + " -+()", max_size=18)))
    def test_accepted_iff_phonenumbers_says_valid(self, raw: str) -> None:
        expected = library_mobile(raw) or ("error", "invalid_mobile")
        assert outcome(v.normalize_mobile, raw) == expected

    @pytest.mark.parametrize("raw", ["010-12345678", "+852 5123 4567", "+1 650 253 0000", "12345678901", ""])
    def test_landlines_and_other_countries_are_rejected(self, raw: str) -> None:
        with pytest.raises(ValidationError) as caught:
            v.normalize_mobile(raw)
        assert caught.value.code == "invalid_mobile"

    def test_spreadsheet_integer(self) -> None:
        assert v.normalize_mobile(13812345678) == "+8613812345678"


class TestEmail:
    @given(st.emails())
    def test_agrees_with_django(self, address: str) -> None:
        try:
            EmailValidator()(address)
        except ValidationError:
            assert outcome(v.normalize_email, address) == ("error", "invalid")
        else:
            assert v.normalize_email(f"  {address} ") == address.lower()

    @given(st.text(alphabet="ab.-_+@[]:1\"\\ 中é", max_size=30) | st.builds(
        lambda user, domain: f"{user}@{domain}", st.text(max_size=12), st.sampled_from(
            ["example.com", "qq.com", "localhost", "[127.0.0.1]", "[::1]", "[1.2.3]", "-x.com", "x..com", "例子.中国",
             "xn--fsqu00a.xn--fiqs8s", "a.b", "a" * 64 + ".com"])))
    def test_any_text_is_accepted_exactly_when_django_accepts_it(self, raw: str) -> None:
        text = raw.strip()
        try:
            EmailValidator()(text)
        except ValidationError:
            assert outcome(v.normalize_email, raw) == ("error", "invalid")
        else:
            assert v.normalize_email(raw) == text.lower()

    @pytest.mark.parametrize("raw", ["", "zhang", "zhang@", "@example.com", "zhang san@example.com"])
    def test_invalid(self, raw: str) -> None:
        with pytest.raises(ValidationError):
            v.normalize_email(raw)


class TestBirthDate:
    today = dt.date(2025, 6, 1)

    @given(st.dates(min_value=dt.date(1900, 1, 1), max_value=today))
    def test_dates_in_range(self, day: dt.date) -> None:
        assert v.normalize_birth_date(day, today=self.today) == day
        assert v.normalize_birth_date(day.isoformat(), today=self.today) == day

    @given(st.dates().filter(lambda day: not dt.date(1900, 1, 1) <= day <= dt.date(2025, 6, 1)))
    def test_dates_out_of_range(self, day: dt.date) -> None:
        code = outcome(lambda value: v.normalize_birth_date(value, today=self.today), day)
        assert code in (("error", "future_date"), ("error", "date_too_early"))

    @pytest.mark.parametrize("raw", ["1990-02-30", "19900307", "1990/03/07", "", "abc", None])
    def test_invalid_strings(self, raw) -> None:
        with pytest.raises(ValidationError) as caught:
            v.normalize_birth_date(raw)
        assert caught.value.code == "invalid_date"

    def test_datetime_becomes_date(self) -> None:
        assert v.normalize_birth_date(dt.datetime(1985, 3, 7, 12, 0)) == dt.date(1985, 3, 7)


class TestIdentifier:
    def test_dispatch(self) -> None:
        assert v.normalize_identifier("11010519491231002x", "individual") == "11010519491231002X"
        assert v.normalize_identifier("91110000600037341L", "organisation") == "91110000600037341L"

    def test_wrong_kind_of_identifier(self) -> None:
        with pytest.raises(ValidationError):
            v.normalize_identifier("91110000600037341L", "individual")

    def test_unknown_kind_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError):
            v.normalize_identifier("91110000600037341L", "company")


class TestFreeText:
    def test_address(self) -> None:
        assert v.normalize_address("  北京市朝阳区建国路88号 ") == "北京市朝阳区建国路88号"
        assert v.normalize_address("") == ""
        assert len(v.normalize_address("路" * 300)) == 300

    def test_address_too_long(self) -> None:
        with pytest.raises(ValidationError) as caught:
            v.normalize_address("路" * 301)
        assert caught.value.code == "max_length"
        assert caught.value.params == {"limit_value": 300, "show_value": 301}

    def test_notes(self) -> None:
        assert v.normalize_notes(" 第一行\r\n第二行 ") == "第一行\n第二行"
        assert len(v.normalize_notes("字" * 10_000)) == 10_000
        with pytest.raises(ValidationError):
            v.normalize_notes("字" * 10_001)

    def test_non_text_is_rejected(self) -> None:
        with pytest.raises(ValidationError) as caught:
            v.normalize_notes(["a list"])
        assert caught.value.code == "invalid_type"

"""The importer's fast paths give exactly what the catalog's validators and the PII scanner give."""

import random

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric

from custodia.customers.import_rows import fast_identifier, fast_mobile, notes_contain_pii, validate_row
from custodia.protection import catalog, pii
from custodia.protection.fields import index_value


def outcome(function, *args):
    try:
        return "ok", function(*args)
    except ValidationError as exc:
        return "error", exc.messages


def slow_mobile(raw):
    return catalog.get("customer.mobile").normalize(raw)


def slow_identifier(raw, kind):
    return catalog.get("customer.id_number").normalize(raw, kind)


class FastMobileTests:
    def test_agrees_with_phonenumbers_on_every_four_digit_prefix(self):
        rng = random.Random(20261127)
        numbers = [f"{prefix}{rng.randrange(10**7):07d}" for prefix in range(1000, 2000) for _ in range(3)]
        numbers += [f"1{rng.randrange(10**10):010d}" for _ in range(3000)]
        accepted = 0
        for number in numbers:
            expected = outcome(slow_mobile, number)
            assert outcome(fast_mobile, number) == expected, number
            accepted += expected[0] == "ok"
        assert accepted > 1000  # the sample covers many valid mobiles, not only rejections

    def test_other_spellings_take_the_slow_path_with_the_same_result(self):
        for raw in ("+86 138 1234 5678", "138-1234-5678", " 13812345678 ", "8613812345678", "13812345678x",
                    "1381234567", "17911234567", "12345678901", "", "１３８１２３４５６７８", 13812345678):
            assert outcome(fast_mobile, raw) == outcome(slow_mobile, raw), raw


class FastIdentifierTests:
    def test_agrees_with_stdnum_on_random_numbers(self):
        rng = random.Random(7)
        regions = ["110105", "110101", "310104", "440305", "330106", "510107", "999999", "000000", "654321"]
        numbers = []
        for _ in range(6000):
            body = (f"{rng.choice(regions)}{rng.randrange(1880, 2035)}{rng.randrange(0, 14):02d}"
                    f"{rng.randrange(0, 33):02d}{rng.randrange(1000):03d}")
            check = ric.calc_check_digit(body + "0") if rng.random() < 0.8 else rng.choice("0123456789Xx")
            numbers.append(body + (check.lower() if rng.random() < 0.1 else check))
        accepted = 0
        for number in numbers:
            expected = outcome(slow_identifier, number, "individual")
            assert outcome(fast_identifier, number, "individual") == expected, number
            accepted += expected[0] == "ok"
        assert accepted > 1000

    def test_other_inputs_take_the_slow_path(self):
        for raw, kind in (("11010519491231002X", "individual"), ("110105 19491231 002X", "individual"),
                          ("91310000000000005X", "organisation"), ("123", "individual"), (110105194912310021, "individual"),
                          ("11010519491231002X", "organisation")):
            assert outcome(fast_identifier, raw, kind) == outcome(slow_identifier, raw, kind), raw


@pytest.mark.django_db
class IndexAndPiiTests:
    def test_row_indexes_equal_the_catalog_blind_index(self):
        cells = {"kind": "individual", "name": "张三", "mobile": "13812345678", "email": "A@Example.com",
                 "id_number": "11010519491231002x", "bank_account": "6222 0200 0000 0015"}
        errors = []
        row = validate_row(2, cells, "rep01", errors)
        assert errors == [] and row.valid
        expected = {"mobile": "+8613812345678", "email": "a@example.com", "id_number": "11010519491231002X",
                    "bank_account": "6222020000000015"}
        for name, value in expected.items():
            assert row.protected[name] == value
            assert row.indexes[name] == index_value(catalog.get(f"customer.{name}"), value)
        row = validate_row(3, {"kind": "individual", "name": "李四"}, "rep01", errors)
        assert row.indexes["mobile"] is None and row.protected == {}

    def test_cached_pii_scan_equals_the_scanner(self):
        for text in ("偏好季度末集中采购", "客户手机 13812345678", "邮箱 a@example.com", "卡号 6222020000000015",
                     "订单号 1234567890123", ""):
            assert notes_contain_pii(text) == pii.contains_pii(text)

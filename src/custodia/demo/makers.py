"""Building blocks of the demo generator: weighted choices, people, identifiers and places."""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from . import identifiers as ids
from .names import (
    BRAND_CHARS,
    COMPANY_FORMS,
    FEMALE_FIRST,
    FEMALE_SECOND,
    FEMALE_SINGLE,
    INDUSTRIES,
    MALE_FIRST,
    MALE_SECOND,
    MALE_SINGLE,
    SURNAMES,
)
from .places import ESTATES, HOME_COUNTIES, OFFICE_BUILDINGS, City, District

T = TypeVar("T")


class Weighted(Generic[T]):
    """Fast weighted choice over a fixed population."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        cum, acc = [], 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        self.cum = cum
        self.total = acc

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


_SURNAMES = Weighted([(s, p) for s, p, _ in SURNAMES], [w for *_, w in SURNAMES])
_MOBILE_PREFIXES = Weighted([p for p, _ in ids.MOBILE_PREFIXES], [w for _, w in ids.MOBILE_PREFIXES])
_BANKS = Weighted([(b, n, ln) for b, n, ln, _ in ids.BANK_BINS], [w for *_, w in ids.BANK_BINS])
_INDUSTRIES = Weighted([(n, s) for n, s, _ in INDUSTRIES], [w for *_, w in INDUSTRIES])
_FORMS = Weighted([f for f, _ in COMPANY_FORMS], [w for _, w in COMPANY_FORMS])
_PERSONAL_DOMAINS = Weighted(
    ["qq.example", "163.example", "126.example", "sina.example", "foxmail.example", "139.example",
     "outlook.example"],
    [30, 25, 10, 6, 8, 6, 5],
)
_SHORT_INDUSTRY = {  # how a company is called in short: 瑞丰精密, 华腾汽配
    "半导体": "半导体", "供应链管理": "供应链", "汽车零部件": "汽配", "医疗器械": "医疗", "生物医药": "医药",
    "文化传媒": "传媒", "投资管理": "投资", "建筑工程": "建设",
}
_CITY_SUFFIXED = {"深圳", "广州", "东莞", "佛山", "厦门", "福州"}  # "深圳市XX科技有限公司"


class Unique:
    """Values that must not repeat within one run."""

    def __init__(self) -> None:
        self.mobiles: set[str] = set()
        self.rics: set[str] = set()
        self.usccs: set[str] = set()
        self.emails: set[str] = set()
        self.cards: set[str] = set()
        self.org_names: set[str] = set()


class Maker:
    """Builds people, identifiers and addresses from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen = Unique()

    # -- people ---------------------------------------------------------------------------------
    def person(self, gender: str) -> tuple[str, str, str]:
        """(full name, surname pinyin, given-name pinyin)."""
        rng = self.rng
        surname, s_py = _SURNAMES.pick(rng)
        single, first, second = (
            (MALE_SINGLE, MALE_FIRST, MALE_SECOND) if gender == "M" else (FEMALE_SINGLE, FEMALE_FIRST, FEMALE_SECOND)
        )
        if rng.random() < 0.3 and len(surname) == 1:
            g, g_py = rng.choice(single)
        else:
            a, a_py = rng.choice(first)
            b, b_py = rng.choice(second)
            while b == a and (gender == "M" or rng.random() < 0.7):  # 婷婷 yes, 伟伟 no
                b, b_py = rng.choice(second)
            g, g_py = a + b, a_py + b_py
        return surname + g, s_py, g_py

    def mobile(self) -> str:
        rng, seen = self.rng, self.seen.mobiles
        while True:
            m = ids.make_mobile(rng, _MOBILE_PREFIXES.pick(rng))
            if m not in seen:
                seen.add(m)
                return m

    def email(self, local: str, domain: str) -> str:
        rng, seen = self.rng, self.seen.emails
        candidate = f"{local}@{domain}"
        while candidate in seen:
            candidate = f"{local}{rng.randrange(1, 1000)}@{domain}"
        seen.add(candidate)
        return candidate

    def personal_email(self, s_py: str, g_py: str, birth_year: int | None) -> str:
        rng = self.rng
        domain = _PERSONAL_DOMAINS.pick(rng)
        r = rng.random()
        if domain == "qq.example" and r < 0.6:
            local = str(rng.randrange(10_000_000, 3_999_999_999))  # QQ numbers
        elif r < 0.45:
            yy = birth_year % 100 if birth_year and rng.random() < 0.6 else rng.randrange(1, 999)
            local = f"{s_py}{g_py}{yy:02d}"
        elif r < 0.7:
            local = f"{g_py}.{s_py}"
        else:
            local = f"{s_py}{g_py}"
        return self.email(local, domain)

    def ric(self, region: str, birth: date, gender: str) -> str:
        rng, seen = self.rng, self.seen.rics
        stamp = birth.strftime("%Y%m%d")
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            value = ids.make_ric(region, stamp, seq)
            if value not in seen:
                seen.add(value)
                return value

    def uscc(self, region: str) -> str:
        seen = self.seen.usccs
        while True:
            value = ids.make_uscc(self.rng, region)
            if value not in seen:
                seen.add(value)
                return value

    def card(self) -> tuple[str, str]:
        rng, seen = self.rng, self.seen.cards
        bank, bin_, length = _BANKS.pick(rng)
        while True:
            value = ids.make_card(rng, bin_, length)
            if value not in seen:
                seen.add(value)
                return bank, value

    def birth_date(self) -> date:
        rng = self.rng
        year = int(rng.triangular(1956, 2003, 1983))
        return date(year, 1, 1) + timedelta(days=rng.randrange(365))

    def birth_region(self, city: City, district: District, year: int) -> str:
        """Region code of an ID number: mostly where the person lives, otherwise a home county."""
        rng = self.rng
        r = rng.random()
        if r < 0.65:
            if district.since <= year:
                return district.code
            older = [d for d in city.districts if d.since <= year]
            if older:
                return rng.choice(older).code
        while True:
            code = rng.choice(HOME_COUNTIES).code_for(year)
            if code:
                return code

    # -- places ---------------------------------------------------------------------------------
    def home_address(self, city: City, district: District) -> str:
        rng = self.rng
        street = rng.choice(district.streets)
        if city.key == "上海" and rng.random() < 0.7:
            return (f"{city.prefix}{district.name}{street}{rng.randrange(1, 2000)}弄"
                    f"{rng.randrange(1, 40)}号{rng.randrange(1, 25)}{rng.randrange(1, 5):02d}室")
        return (f"{city.prefix}{district.name}{street}{rng.randrange(1, 1500)}号{rng.choice(ESTATES)}"
                f"{rng.randrange(1, 30)}栋{rng.randrange(1, 5)}单元{rng.randrange(1, 33)}{rng.randrange(1, 5):02d}室")

    def office_address(self, city: City, district: District, factory: bool) -> str:
        rng = self.rng
        street = rng.choice(district.streets)
        number = rng.randrange(1, 2000)
        if factory:
            suffix = f"{rng.randrange(1, 12)}幢" if rng.random() < 0.6 else ""
            return f"{city.prefix}{district.name}{street}{number}号{suffix}"
        tower = rng.choice(("", "", "A座", "B座", "1号楼", "2号楼"))
        return (f"{city.prefix}{district.name}{street}{number}号{rng.choice(OFFICE_BUILDINGS)}{tower}"
                f"{rng.randrange(2, 40)}{rng.randrange(1, 12):02d}室")

    def company_name(self, city: City) -> tuple[str, str, str, str]:
        """(full name, short name, e-mail domain, industry)."""
        rng, seen = self.rng, self.seen.org_names
        while True:
            (a, a_py), (b, b_py) = rng.sample(BRAND_CHARS, 2)
            industry, slug = _INDUSTRIES.pick(rng)
            form = _FORMS.pick(rng)
            place = city.key + ("市" if city.key in _CITY_SUFFIXED and rng.random() < 0.7 else "")
            name = f"{place}{a}{b}{industry}{form}"
            if name not in seen and a != b:
                seen.add(name)
                short = _SHORT_INDUSTRY.get(industry, industry[:2])
                return name, f"{a}{b}{short}", f"{a_py}{b_py}-{slug}.example", industry

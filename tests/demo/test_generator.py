"""Tests of the demo data generator. Pure Python: no database, no Django settings needed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import phonenumbers
import pytest
from django.core.validators import validate_email
from stdnum import luhn
from stdnum.cn import ric, uscc

from custodia.demo import identifiers as ids
from custodia.demo.generator import (
    DEFAULT_END,
    DEFAULT_START,
    INTERACTION_KINDS,
    OPPORTUNITY_STAGES,
    PRODUCTS,
    ROLES,
    STAGES,
    CustomerSpec,
    OrgChart,
    generate_customers,
    generate_org,
)
from custodia.demo.places import CITIES, HOME_COUNTIES

COUNT = 2000
HAN = re.compile(r"^[\u4e00-\u9fff]+$")
MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RIC_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
CARD_IN_TEXT = re.compile(r"(?<!\d)\d{16}(?:\d{3})?(?!\d)")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+\.example")
BINS = {(b, n) for _, b, n, _ in ids.BANK_BINS}
START_DT = datetime(DEFAULT_START.year, DEFAULT_START.month, DEFAULT_START.day, tzinfo=UTC)
END_DT = datetime(DEFAULT_END.year, DEFAULT_END.month, DEFAULT_END.day, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> OrgChart:
    return generate_org()


@pytest.fixture(scope="module")
def customers(org: OrgChart) -> list[CustomerSpec]:
    return list(generate_customers(org, count=COUNT))


def valid_mobile(number: str) -> bool:
    return (len(number) == 11 and number.isdigit()
            and phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")))


def share(items: list, predicate) -> float:
    return sum(1 for x in items if predicate(x)) / len(items)


def notes_pii(c: CustomerSpec) -> dict[str, list[str]]:
    text = c.notes
    return {
        "mobile": MOBILE_IN_TEXT.findall(text),
        "ric": [m for m in RIC_IN_TEXT.findall(text) if ric.is_valid(m)],
        "card": [m for m in CARD_IN_TEXT.findall(text) if luhn.is_valid(m)],
        "email": EMAIL_IN_TEXT.findall(text),
    }


# -- organisation ---------------------------------------------------------------------------------


def test_org_structure(org: OrgChart) -> None:
    assert len(org.departments) == 3
    assert len(org.teams) == 6
    assert len(org.staff) >= 20
    assert {d.name for d in org.departments} == {"华东销售部", "华南销售部", "大客户部"}
    for team in org.teams:
        assert HAN.match(team.name)
        assert team.department_code in {d.code for d in org.departments}
        assert team.cities
    per_department = Counter(t.department_code for t in org.teams)
    assert set(per_department.values()) == {2}


def test_org_usernames_roles_and_managers(org: OrgChart) -> None:
    by_name = org.staff_by_username()
    assert len(by_name) == len(org.staff)
    reps = [f"rep{i:02d}" for i in range(1, 19)]
    managers = [f"manager{i:02d}" for i in range(1, 7)]
    required = reps + managers + ["compliance01", "secadmin01", "auditor01", "legal01", "hr01"]
    assert set(required) <= set(by_name)
    assert len(org.reps) >= 18
    for staff in org.staff:
        assert staff.role in ROLES
        assert HAN.match(staff.full_name) and 2 <= len(staff.full_name) <= 4
        validate_email(staff.email)
        assert staff.email.endswith("@demo.custodia.local")
    assert len({s.email for s in org.staff}) == len(org.staff)
    assert len({s.full_name for s in org.staff}) == len(org.staff)
    teams = {t.code: t for t in org.teams}
    for team in org.teams:
        manager = by_name[team.manager_username]
        assert manager.role == "manager" and manager.team_code == team.code
        assert manager.manager_username is None
        team_reps = [s for s in org.reps if s.team_code == team.code]
        assert len(team_reps) == 3
    for rep in org.reps:
        assert rep.manager_username == teams[rep.team_code].manager_username
        assert rep.department_code == teams[rep.team_code].department_code
    assert by_name["compliance01"].role == "compliance"
    assert by_name["secadmin01"].role == "secadmin"
    assert by_name["auditor01"].role == "auditor"
    assert by_name["legal01"].role == "legal"
    assert by_name["hr01"].role == "hr"


def test_org_is_reproducible() -> None:
    assert generate_org(7) == generate_org(7)
    assert generate_org(7) != generate_org(8)
    assert [s.username for s in generate_org(7).staff] == [s.username for s in generate_org(8).staff]
    assert len(generate_org(reps_per_team=4).reps) == 24


# -- identifiers ----------------------------------------------------------------------------------


def test_every_mobile_is_valid(customers: list[CustomerSpec]) -> None:
    for c in customers:
        assert valid_mobile(c.mobile), c.mobile
        for contact in c.contacts:
            assert valid_mobile(contact.mobile), contact.mobile
        for m in notes_pii(c)["mobile"]:
            assert valid_mobile(m), m


def test_resident_ids_are_valid_and_consistent(customers: list[CustomerSpec]) -> None:
    individuals = [c for c in customers if c.kind == "individual"]
    for c in individuals:
        assert c.identifier_type == "resident_id"
        assert ric.is_valid(c.identifier), c.identifier
        assert ric.get_birth_date(c.identifier) == c.birth_date
        assert c.gender in ("M", "F")
        assert (int(c.identifier[16]) % 2 == 1) == (c.gender == "M")
        assert 18 <= (DEFAULT_START - c.birth_date).days // 365 <= 70
    # The ID's region is the district the person lives in for most of them.
    district_codes = {city.name: {d.code for d in city.districts} for city in CITIES}
    local = share(individuals, lambda c: c.identifier[:6] in district_codes[c.city])
    assert 0.3 < local < 0.8


def test_usccs_are_valid(customers: list[CustomerSpec]) -> None:
    organisations = [c for c in customers if c.kind == "organisation"]
    for c in organisations:
        assert c.identifier_type == "uscc"
        assert uscc.is_valid(c.identifier), c.identifier
        assert c.identifier.startswith("91")
        assert c.birth_date is None and c.gender is None


def test_bank_cards_pass_luhn(customers: list[CustomerSpec]) -> None:
    with_card = [c for c in customers if c.bank_account]
    for c in with_card:
        assert luhn.is_valid(c.bank_account), c.bank_account
        assert len(c.bank_account) in (16, 19)
        assert (c.bank_account[:6], len(c.bank_account)) in BINS
        assert c.bank_name
    for c in customers:
        if c.bank_account is None:
            assert c.bank_name is None
        for card in CARD_IN_TEXT.findall(c.notes):
            assert luhn.is_valid(card) or ric.is_valid(card), card


def test_emails_are_valid_and_never_real_domains(customers: list[CustomerSpec]) -> None:
    for c in customers:
        emails = [c.email] + [x.email for x in c.contacts] + notes_pii(c)["email"]
        for email in filter(None, emails):
            validate_email(email)
            assert email.endswith(".example"), email


def test_identifiers_are_unique_across_customers_contacts_and_notes(customers: list[CustomerSpec]) -> None:
    mobiles, rics, usccs, emails, cards = [], [], [], [], []
    for c in customers:
        mobiles.append(c.mobile)
        mobiles += [x.mobile for x in c.contacts]
        (rics if c.kind == "individual" else usccs).append(c.identifier)
        emails += [e for e in [c.email] + [x.email for x in c.contacts] if e]
        if c.bank_account:
            cards.append(c.bank_account)
        found = notes_pii(c)
        mobiles += found["mobile"]
        rics += [r for r in found["ric"] if r != c.identifier]  # an individual's own ID copied in
        cards += found["card"]
        emails += found["email"]
    for values in (mobiles, rics, usccs, emails, cards):
        assert values and len(values) == len(set(values))
    assert len({c.name for c in customers if c.kind == "organisation"}) == share(
        customers, lambda c: c.kind == "organisation") * len(customers)


def test_check_digit_helpers_agree_with_stdnum() -> None:
    import random

    rng = random.Random(1)
    for _ in range(2000):
        body = f"{rng.randrange(10**16, 10**17)}"
        assert ric.calc_check_digit(body + "0") == ids.ric_check_digit(body)
        partial = f"{rng.randrange(10**14, 10**18)}"
        assert luhn.is_valid(partial + ids.luhn_check_digit(partial))
        assert uscc.is_valid(ids.make_uscc(rng, "310115"))


def test_mobile_prefixes_are_valid_for_every_continuation() -> None:
    for prefix, _ in ids.MOBILE_PREFIXES:
        for cont in range(100):
            for tail in ("000000", "999999", "123456"):
                number = f"{prefix}{cont:02d}{tail}"
                assert valid_mobile(number), number


def test_place_codes_are_valid_for_the_birth_years_used() -> None:
    for city in CITIES:
        for district in city.districts:
            for year in range(max(district.since, 1956), 2004):
                assert ric.is_valid(ids.make_ric(district.code, f"{year}0615", 123)), (district, year)
    for county in HOME_COUNTIES:
        for year in range(1956, 2004):
            code = county.code_for(year)
            assert code and ric.is_valid(ids.make_ric(code, f"{year}0615", 124)), (county.name, year)


# -- reproducibility ------------------------------------------------------------------------------


def test_same_seed_same_data(org: OrgChart, customers: list[CustomerSpec]) -> None:
    again = list(generate_customers(generate_org(), count=COUNT))
    assert again == customers


def test_different_seed_different_data(org: OrgChart, customers: list[CustomerSpec]) -> None:
    other = list(generate_customers(org, count=200, seed=1))
    assert [c.identifier for c in other] != [c.identifier for c in customers[:200]]
    assert len({c.mobile for c in other} & {c.mobile for c in customers}) < 5


def test_stream_is_lazy_and_prefix_stable(org: OrgChart, customers: list[CustomerSpec]) -> None:
    stream = generate_customers(org, count=10**9)
    first = [next(stream) for _ in range(50)]
    assert first == customers[:50]
    assert list(generate_customers(org, count=50)) == customers[:50]
    assert [c.key for c in customers] == list(range(1, COUNT + 1))


def test_bad_arguments(org: OrgChart) -> None:
    with pytest.raises(ValueError):
        generate_customers(org, count=-1)
    with pytest.raises(ValueError):
        generate_customers(org, start=date(2026, 1, 1), end=date(2025, 1, 1))
    assert list(generate_customers(org, count=0)) == []


def test_short_window_keeps_everything_inside(org: OrgChart) -> None:
    start, end = date(2026, 3, 1), date(2026, 3, 20)
    lo = datetime(2026, 3, 1, tzinfo=UTC)
    hi = datetime(2026, 3, 20, tzinfo=UTC)
    for c in generate_customers(org, count=300, start=start, end=end):
        assert lo <= c.created_at < hi
        assert all(c.created_at <= i.occurred_at < hi for i in c.interactions)
        assert all(start <= t.occurred_on < end for t in c.transactions)
        assert all(start <= o.opened_on <= o.expected_close for o in c.opportunities)


# -- realism --------------------------------------------------------------------------------------


def test_mix_of_kinds_tiers_stages_and_sources(customers: list[CustomerSpec]) -> None:
    assert 0.60 < share(customers, lambda c: c.kind == "individual") < 0.70
    assert 0.03 < share(customers, lambda c: c.tier == "core") < 0.07
    assert 0.20 < share(customers, lambda c: c.tier == "important") < 0.30
    assert 0.64 < share(customers, lambda c: c.tier == "ordinary") < 0.76
    stages = Counter(c.stage for c in customers)
    assert set(stages) == set(STAGES)
    assert stages["active"] == max(stages.values())
    assert 0.15 < share(customers, lambda c: c.source == "personal_network") < 0.25
    assert 0.65 < share(customers, lambda c: c.email is not None) < 0.75
    assert 0.55 < share(customers, lambda c: c.bank_account is not None) < 0.65
    assert 0.07 < share(customers, lambda c: any(notes_pii(c).values())) < 0.13


def test_owners_teams_and_departments(org: OrgChart, customers: list[CustomerSpec]) -> None:
    by_name = org.staff_by_username()
    per_rep = Counter(c.owner_username for c in customers)
    assert set(per_rep) == {r.username for r in org.reps}
    assert max(per_rep.values()) > 1.5 * min(per_rep.values())  # books of business are uneven
    assert {c.department_code for c in customers} == {d.code for d in org.departments}
    assert {c.team_code for c in customers} == {t.code for t in org.teams}
    teams = {t.code: t for t in org.teams}
    for c in customers:
        owner = by_name[c.owner_username]
        assert owner.role == "rep"
        assert c.team_code == owner.team_code and c.department_code == owner.department_code
    in_team_city = share(customers, lambda c: c.city in teams[c.team_code].cities)
    assert in_team_city > 0.85


def test_names_addresses_tags_and_notes(customers: list[CustomerSpec]) -> None:
    compound = ("欧阳", "司马", "上官", "诸葛", "司徒", "皇甫", "夏侯")
    individuals = [c for c in customers if c.kind == "individual"]
    assert any(c.name.startswith(compound) for c in individuals)
    for c in customers:
        assert c.name and c.notes.endswith("。")
        assert c.address.startswith(c.province) and c.city in c.address
        assert re.search(r"[路道街区号]", c.address)
        assert len(c.tags) <= 3 and len(set(c.tags)) == len(c.tags)
        assert all(HAN.match(t) for t in c.tags)
        if c.kind == "individual":
            assert HAN.match(c.name) and 2 <= len(c.name) <= 4
            assert c.contacts == ()
        else:
            assert c.name.endswith("公司") and c.name.startswith(c.city.removesuffix("市"))
            assert 1 <= len(c.contacts) <= 3
            assert len({x.title for x in c.contacts}) == len(c.contacts)
            for contact in c.contacts:
                assert HAN.match(contact.name) and contact.title
    assert len({t for c in customers for t in c.tags}) >= 10


def test_history_is_consistent(customers: list[CustomerSpec]) -> None:
    catalogue = {name for name, *_ in PRODUCTS}
    for c in customers:
        assert c.created_at.tzinfo is UTC and START_DT <= c.created_at < END_DT
        assert 0 <= len(c.interactions) <= 12
        times = [i.occurred_at for i in c.interactions]
        assert times == sorted(times)
        for i in c.interactions:
            assert i.kind in INTERACTION_KINDS and i.subject and i.notes
            assert i.staff_username == c.owner_username
            assert i.occurred_at.tzinfo is UTC and c.created_at <= i.occurred_at < END_DT
        assert 0 <= len(c.opportunities) <= 3
        assert len({o.name for o in c.opportunities}) == len(c.opportunities)
        for o in c.opportunities:
            assert o.stage in OPPORTUNITY_STAGES
            assert isinstance(o.amount, Decimal) and o.amount > 0
            assert o.amount.as_tuple().exponent == -2
            assert c.created_at.date() <= o.opened_on <= o.expected_close
            if o.stage in ("won", "lost"):
                assert o.expected_close < DEFAULT_END
        if c.stage == "active":
            assert 1 <= len(c.transactions) <= 20
        if c.stage in ("lead", "prospect"):
            assert c.transactions == ()
        days = [t.occurred_on for t in c.transactions]
        assert days == sorted(days)
        for t in c.transactions:
            assert t.product in catalogue and t.quantity >= 1
            assert isinstance(t.amount, Decimal) and t.amount > 0
            assert t.amount.as_tuple().exponent == -2
            assert c.created_at.date() <= t.occurred_on < DEFAULT_END
        if c.stage == "dormant" and c.interactions:
            assert c.interactions[-1].occurred_at < END_DT - timedelta(days=180)


def test_interactions_mostly_in_shanghai_office_hours(customers: list[CustomerSpec]) -> None:
    interactions = [i for c in customers for i in c.interactions]
    assert len(interactions) > COUNT * 3
    local_hours = [(i.occurred_at.hour + 8) % 24 for i in interactions]
    assert share(local_hours, lambda h: 9 <= h < 19) > 0.9
    assert {i.kind for i in interactions} == set(INTERACTION_KINDS)
    assert {o.stage for c in customers for o in c.opportunities} == set(OPPORTUNITY_STAGES)


@pytest.mark.slow
def test_hundred_thousand_customers_stay_unique(org: OrgChart) -> None:
    mobiles, identifiers, cards, emails = set(), set(), set(), set()
    n = contacts = 0
    for c in generate_customers(org, count=100_000):
        n += 1
        for m in [c.mobile] + [x.mobile for x in c.contacts]:
            assert m not in mobiles
            mobiles.add(m)
        for e in filter(None, [c.email] + [x.email for x in c.contacts]):
            assert e not in emails
            emails.add(e)
        contacts += len(c.contacts)
        assert c.identifier not in identifiers
        identifiers.add(c.identifier)
        if c.bank_account:
            assert c.bank_account not in cards
            cards.add(c.bank_account)
    assert n == 100_000 and len(mobiles) == n + contacts

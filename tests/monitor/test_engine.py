"""The detector engine on its own (memory store): what fires, when, and at what severity."""

from __future__ import annotations

import datetime as dt

import pytest

from custodia.monitor.engine import AlertBook, Directory, Engine, robust_level
from custodia.monitor.stores import MemoryStore
from tests.monitor.helpers import at, customers, default, ev


def engine(*rules, directory=None, learn=False):
    return Engine(rules, MemoryStore(), directory or Directory(), learn=learn)


def test_paging_through_customers_fires_at_the_threshold_and_stays_fired():
    e = engine(default("volume.viewed.5m"))
    ids = customers(400)
    fired = []
    for page in range(8):
        found = e.evaluate(ev("customer.list.viewed", at(minute=0, second=page * 20),
                              object_ids=ids[page * 25:(page + 1) * 25]))
        fired.append(bool(found))
    assert fired == [False] * 5 + [True] * 3  # 150 distinct customers at the sixth page
    finding = e.evaluate(ev("customer.viewed", at(minute=3), target_id=ids[0]))[0]
    assert (finding.severity, finding.response, finding.reason) == ("high", "deny", "threshold")
    assert finding.value == 200 and finding.limit == 150


def test_the_same_customers_again_do_not_count_twice():
    e = engine(default("volume.viewed.5m"))
    page = customers(50)
    for i in range(20):
        assert e.evaluate(ev("customer.list.viewed", at(second=i * 10), object_ids=page)) == []


def test_the_window_slides():
    e = engine(default("volume.viewed.5m", threshold=100))
    e.evaluate(ev("customer.list.viewed", at(minute=0), object_ids=customers(90)))
    assert e.evaluate(ev("customer.list.viewed", at(minute=1), object_ids=customers(20, 90)))  # 110
    # ten minutes later the first 90 have left the window
    assert e.evaluate(ev("customer.list.viewed", at(minute=11), object_ids=customers(20, 200))) == []


def test_roles_filter_and_people_are_counted_separately():
    e = engine(default("core.not_owned.1d", threshold=3))
    core = customers(3)
    assert e.evaluate(ev("customer.viewed", at(), actor="m1", role="manager", target_id=core[0],
                         detail={"core_not_owned": list(core)})) == []  # managers are not watched
    assert e.evaluate(ev("customer.list.viewed", at(), actor="p1", object_ids=core,
                         detail={"core_not_owned": list(core)}))[0].severity == "medium"
    assert e.evaluate(ev("customer.list.viewed", at(), actor="p2", object_ids=core[:2],
                         detail={"core_not_owned": list(core[:2])})) == []


def test_exports_count_rows():
    e = engine(default("volume.exported.1d", threshold=1000))
    assert e.evaluate(ev("customer.exported", at(), object_ids=customers(600))) == []
    found = e.evaluate(ev("customer.exported", at(hour=11), object_ids=customers(600, 600)))
    assert found[0].value == 1200 and found[0].response == "deny"


def test_identifier_searches_in_bulk():
    e = engine(default("enumeration.searches.15m"))
    found = [e.evaluate(ev("customer.searched", at(second=i * 10))) for i in range(31)]
    assert not any(found[:29]) and found[29][0].reason == "threshold"


def test_own_baseline_learned_robustly_from_history():
    rule = default("volume.viewed.1d", threshold=10_000, baseline_factor=3.0, baseline_min=20)
    e = engine(rule, learn=True)
    # 20 working days of about 30 customers a day, one outlier day of 400
    for day in range(1, 21):
        n = 400 if day == 7 else 25 + day % 10
        e.evaluate(ev("customer.list.viewed", at(day=day), object_ids=customers(n, day * 1000)))
    base = e.store.baselines("p1")["viewed:86400"]
    assert 40 <= base <= 100  # a sliding day holds about two days of 30; the outlier day does not lift it
    assert e.evaluate(ev("customer.list.viewed", at(day=21), object_ids=customers(60, 50_000))) == []
    found = e.evaluate(ev("customer.list.viewed", at(day=21, hour=11), object_ids=customers(300, 60_000)))
    assert found and found[0].reason == "baseline" and found[0].severity == "medium"


def test_robust_level_ignores_a_few_outliers():
    assert robust_level([10] * 20) == 10
    assert robust_level([10] * 18 + [500, 900]) == 10
    assert robust_level([8, 10, 12] * 7) > 12


def test_logins_at_unusual_hours_from_new_addresses_and_after_dormancy():
    e = engine(default("login.unusual_hour"), default("login.new_source"), default("login.dormant"))
    for day in range(1, 13):  # a routine: 9 am from the office
        assert e.evaluate(ev("access.login", at(day=day, hour=9), source_ip="10.0.0.5",
                             detail={"device": "d1"})) == []
    late = e.evaluate(ev("access.login", at(day=13, hour=2), source_ip="203.0.113.9", detail={"device": "d1"}))
    assert {(f.rule, f.reason, f.severity) for f in late} == {
        ("login.unusual_hour", "unusual_hour", "low"), ("login.new_source", "new_ip", "high")}
    office = e.evaluate(ev("access.login", at(day=14, hour=10), source_ip="10.0.0.5", detail={"device": "d2"}))
    assert [(f.reason, f.severity) for f in office] == [("new_device", "low")]
    back = e.evaluate(ev("access.login", at(day=14, hour=10) + dt.timedelta(days=45), source_ip="10.0.0.5",
                         detail={"device": "d2"}))
    assert [f.rule for f in back] == ["login.dormant"]


def test_a_first_login_outside_office_hours_counts_without_history():
    e = engine(default("login.unusual_hour"))
    assert e.evaluate(ev("access.login", at(hour=23)))[0].detail["history"] == 0
    assert e.evaluate(ev("access.login", at(hour=8))) == []


def test_failed_login_bursts_per_account_per_address_and_spraying():
    e = engine(default("login.failed_burst"))
    found = [e.evaluate(ev("access.login.failed", at(second=i), actor=None, target_id="u1",
                           source_ip="198.51.100.1")) for i in range(5)]
    assert not any(found[:4]) and found[4][0].reason == "account" and found[4][0].subject == "person:u1"
    spray = [e.evaluate(ev("access.login.failed", at(minute=5, second=i), actor=None, target_id=f"v{i}",
                           source_ip="198.51.100.2")) for i in range(5)]
    assert spray[4][0].reason == "spray" and spray[4][0].subject == "ip:198.51.100.2"
    assert spray[4][0].severity == "high"


def test_activity_in_cooling_off_and_use_of_a_deactivated_account():
    e = engine(default("departure.activity"))
    e.evaluate(ev("identity.user.status_changed", at(), actor="hr", target_id="p1",
                  detail={"employment_status": "cooling_off"}))
    found = e.evaluate(ev("customer.viewed", at(minute=5), target_id=customers(1)[0]))
    assert found[0].reason == "cooling_off" and found[0].response == "alert"
    e.evaluate(ev("identity.user.deactivated", at(hour=12), actor="hr", target_id="p1"))
    refused = e.evaluate(ev("access.token.refused", at(hour=13), actor=None, target_id="p1"))
    assert refused[0].reason == "deactivated" and refused[0].severity == "high"
    assert refused[0].person_id == "p1"


def test_off_and_unwatched_rules_never_fire():
    rule = default("volume.viewed.5m", threshold=1)
    off = type(rule)(**{**rule.__dict__, "mode": "off"})
    assert engine(off).evaluate(ev("customer.viewed", at(), target_id="c1")) == []


def test_alert_book_folds_findings_of_a_rule_and_subject():
    e = engine(default("volume.viewed.5m", threshold=10))
    book = AlertBook()
    for i in range(30):
        for f in e.evaluate(ev("customer.viewed", at(second=i * 5), target_id=customers(1, i)[0])):
            book.add(f)
    assert len(book.alerts) == 1 and book.alerts[0]["count"] == 21


@pytest.mark.parametrize("bad", [{"threshold": "many"}, {"threshold": 0}, {"metric": "nothing"},
                                 {"window_seconds": 5}, {"threshold_severity": "awful"}, {"colour": "red"}])
def test_parameters_are_validated_field_by_field(bad):
    from django.core.exceptions import ValidationError

    from custodia.monitor.detectors import clean_params

    with pytest.raises(ValidationError) as exc:
        clean_params("volume", bad)
    assert set(exc.value.message_dict) == set(bad)


def test_only_inline_detectors_may_intervene():
    from django.core.exceptions import ValidationError

    from custodia.monitor.detectors import clean_responses

    assert clean_responses("volume", {"high": "suspend"})["high"] == "suspend"
    with pytest.raises(ValidationError) as exc:
        clean_responses("login_hours", {"high": "deny"})
    assert "response_high" in exc.value.message_dict


def test_a_metric_never_used_has_a_zero_baseline_so_its_floor_applies():
    """Regression: baselines were learned only for metrics the person had used, so a person who had
    never exported had no export baseline and their first bulk export met only the fixed threshold."""
    rule = default("volume.exported.1d", threshold=10_000, baseline_factor=4.0, baseline_min=150)
    views = default("volume.viewed.1d")
    e = engine(rule, views, learn=True)
    for day in range(2, 12):  # ten working days of views, no export
        e.evaluate(ev("customer.list.viewed", at(day=day), object_ids=customers(30, day * 100)))
    e.evaluate(ev("customer.viewed", at(day=12), target_id=customers(1)[0]))  # a new day: baselines refresh
    assert e.store.baselines("p1")["exported:86400"] == 0
    assert e.evaluate(ev("customer.exported", at(day=12, hour=11), object_ids=customers(100))) == []
    found = e.evaluate(ev("customer.exported", at(day=12, hour=12), object_ids=customers(100, 100)))
    assert [(f.reason, f.severity, f.value, f.limit) for f in found] == [("baseline", "medium", 200, 150)]

"""The scenario suite: a month of a 50-person sales force with CERT-style misuse injected, run
through the shipped rules. Every injected scenario must be detected, with false positives on at
most 1 % of person-days. ``pytest -s`` shows the report."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from custodia.monitor import history, scenarios
from custodia.monitor.scenarios import TZ, generate, report, to_json_line, write_jsonl


@pytest.mark.parametrize("seed", [7, 2026])
def test_every_injected_scenario_is_detected_with_few_false_positives(seed):
    started = time.perf_counter()
    result = report(seed=seed, people=50)
    print(f"seed {seed}: {result.events} events in {time.perf_counter() - started:.1f} s, "
          f"{result.events_per_second:,.0f} events/s through the engine")
    missed = [o.label for o in result.outcomes if not o.detected]
    assert missed == [] and result.recall == 1.0
    assert result.fp_rate <= 0.01, result.false_alerts
    assert 0 < result.precision <= 1 and result.true_alerts > 0
    assert {o.kind for o in result.outcomes} == {
        "paging_before_leaving", "export_then_resign", "after_hours_new_ip", "password_spray", "departed_token",
        "dormant_wakeup", "id_enumeration", "colleagues_core"}
    assert result.ttd_max is not None and result.ttd_median <= result.ttd_max
    assert result.person_days > 800 and result.events > 50_000


def test_the_month_looks_like_a_sales_force_at_work():
    stream = generate(seed=3, people=50)
    roles = Counter(p.role for p in stream.people)
    assert (roles["rep"], roles["manager"], roles["compliance"]) == (40, 6, 2)
    assert all(150 <= len(p.portfolio) <= 400 for p in stream.people if p.role == "rep")
    injected = {e for sc in stream.scenarios for e in sc.event_ids}
    normal = [e for e in stream.events if e.id not in injected and e.actor]
    days = Counter(e.at.astimezone(TZ).date() for e in normal)
    assert not any(d in scenarios.HOLIDAYS for d in days)  # 清明 is off
    assert all(scenarios.is_workday(d) or d.weekday() == 5 for d in days)  # some Saturdays, never a Sunday
    assert any(d.weekday() == 5 for d in days)
    logins = [e.at.astimezone(TZ) for e in normal if e.action == "access.login"]
    assert all(8 <= t.hour < 21 for t in logins)
    first = Counter(t.hour for t in logins)
    assert first[8] + first[9] > 0.7 * len(logins)  # most sign in between 08:00 and 10:00
    assert any(e.action == "access.login.failed" for e in stream.events if e.id not in injected)  # typos
    assert [e.at for e in stream.events] == sorted(e.at for e in stream.events)
    assert stream.report_from == dt.datetime(2026, 4, 1, tzinfo=TZ) and scenarios.MONTH_START == dt.date(2026, 4, 1)


def test_the_stream_is_deterministic_for_a_seed():
    one, two = generate(seed=5, people=30), generate(seed=5, people=30)
    assert [to_json_line(e) for e in one.events[:2000]] == [to_json_line(e) for e in two.events[:2000]]
    assert len(one.events) == len(two.events)
    assert [e.id for e in generate(seed=6, people=30).events[:50]] != [e.id for e in one.events[:50]]


def test_the_stream_written_as_json_lines_reads_back_unchanged(tmp_path):
    path = tmp_path / "month.jsonl"
    assert write_jsonl(path, seed=4, people=30) > 20_000
    with open(path, encoding="utf-8") as lines:
        replayed = list(history.read_lines(lines))
    assert replayed == generate(seed=4, people=30).events

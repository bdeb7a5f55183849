"""Property tests of the JSON-lines reader behind ``custodia monitor replay`` (history.parse_line
and read_lines): any event written with scenarios.to_json_line reads back equal, and garbage
gives a LineError naming the line, never another exception."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.monitor.engine import Ev
from custodia.monitor.history import LineError, parse_line, read_lines
from custodia.monitor.scenarios import to_json_line

text = st.text(max_size=30)
nonempty = st.text(min_size=1, max_size=30)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
moments = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=offsets)
json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text, inner, max_size=4), max_leaves=12)
events = st.builds(
    Ev, id=nonempty, at=moments, action=nonempty, actor=st.none() | nonempty, actor_role=text, source_ip=text,
    target_type=text, target_id=st.none() | nonempty, subject_id=st.none() | nonempty,
    object_ids=st.lists(text, max_size=5).map(tuple), outcome=nonempty,
    detail=st.dictionaries(text, json_values, max_size=4), seq=st.none() | st.integers(0, 2**63),
)


@given(events, st.integers(1, 10**9))
def test_an_event_written_as_a_line_reads_back_equal(ev, line):
    assert parse_line(to_json_line(ev), line) == ev


@given(st.lists(events, max_size=8))
def test_a_stream_in_time_order_reads_back_equal(evs):
    evs = sorted(evs, key=lambda e: e.at)
    lines = ["", "# written by the scenario suite"] + [to_json_line(e) for e in evs]
    assert list(read_lines(lines)) == evs


def check(text_line: str, line: int) -> None:
    try:
        result = parse_line(text_line, line)
    except LineError as exc:
        assert exc.line == line and str(exc).startswith(f"line {line}: ")
    else:
        assert result is None or isinstance(result, Ev)


@settings(max_examples=300)
@given(st.text(), st.integers(1, 10**6))
def test_any_text_is_an_event_a_skipped_line_or_a_line_error(garbage, line):
    check(garbage, line)


@settings(max_examples=300)
@given(json_values, st.integers(1, 10**6))
def test_any_json_is_an_event_or_a_line_error(value, line):
    check(json.dumps(value), line)


# occurred_at and action present, every other column any JSON value; dates well formed
well_formed_dates = moments.map(lambda m: m.isoformat()) | st.datetimes().map(lambda m: m.isoformat())
columns = st.fixed_dictionaries(
    {"occurred_at": well_formed_dates | json_values, "action": nonempty | json_values},
    optional={k: json_values for k in ("id", "actor_id", "actor_role", "source_ip", "target_type", "target_id",
                                       "subject_id", "object_ids", "outcome", "detail", "seq")})


@settings(max_examples=300)
@given(columns, st.integers(1, 10**6))
def test_lines_with_the_columns_and_any_values_are_events_or_line_errors(data, line):
    check(json.dumps(data), line)


@given(st.lists(st.text(max_size=40) | events.map(to_json_line), max_size=10))
def test_a_garbage_stream_fails_with_a_line_error_or_reads(lines):
    try:
        list(read_lines(lines))
    except LineError as exc:
        assert 1 <= exc.line <= len(lines)


# Found by these properties (each once raised something other than LineError).


@pytest.mark.parametrize("stamp", ["2026-02-30T10:00:00", "2026-04-31T10:00:00+08:00", "2026-13-01T10:00:00"])
def test_a_well_formed_but_impossible_date_is_a_line_error(stamp):
    with pytest.raises(LineError):
        parse_line(json.dumps({"occurred_at": stamp, "action": "access.login"}), 7)


def test_an_offset_of_a_day_or_more_is_a_line_error():
    with pytest.raises(LineError):
        parse_line(json.dumps({"occurred_at": "2026-04-01T10:00:00+24:00", "action": "access.login"}), 7)


def test_deeply_nested_json_is_a_line_error():
    with pytest.raises(LineError):
        parse_line("[" * 100_000, 7)

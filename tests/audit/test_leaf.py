"""The leaf input: the per-import template gives exactly the bytes of ``from_values``."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.audit import leaf

PLACEHOLDERS = ["@@id@@", "@@target@@", "@@subject@@", '["@@fields@@"]', "QCBjaGFuZ2UgQA==", '"@@id@@"']
texts = st.text(max_size=30)
odd_texts = st.one_of(texts, st.sampled_from(PLACEHOLDERS))  # a placeholder in a shared value: the general path
uuids = st.uuids()
json_values = st.recursive(st.none() | st.booleans() | st.integers() | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=8)


@st.composite
def shared(draw) -> dict:
    return dict(
        occurred_at=draw(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                                      timezones=st.just(dt.UTC))),
        event_type=draw(st.integers(min_value=1, max_value=10_000)),
        action=draw(texts), actor_id=draw(st.none() | uuids), actor_label=draw(odd_texts), actor_role=draw(texts),
        request_id=draw(texts), source_ip=draw(texts), target_type=draw(texts),
        object_ids=draw(st.lists(st.uuids().map(str), max_size=3)), purpose=draw(texts), outcome=draw(texts),
        detail=draw(st.dictionaries(odd_texts, json_values, max_size=4)),
    )


@settings(max_examples=300, deadline=None)
@given(shared(), st.lists(st.tuples(uuids, uuids | st.none(), uuids | st.none(),
                                     st.lists(texts, max_size=4), st.binary(max_size=40) | st.none()),
                           min_size=1, max_size=4))
def test_template_gives_the_bytes_of_from_values(values, events):
    make = leaf.template(values)
    for event_id, target_id, subject_id, fields, change in events:
        expected = leaf.from_values(values | {"id": event_id, "target_id": target_id, "subject_id": subject_id,
                                              "fields": fields, "change_enc": change})
        assert make(event_id, target_id, subject_id, fields, change) == expected
        json.loads(expected)  # and it is one JSON document


def test_placeholders_in_shared_values_still_give_the_bytes_of_from_values():
    values = dict(occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), event_type=1, action="@@id@@", actor_id=None,
                  actor_label='"@@subject@@"', actor_role="", request_id="", source_ip="", target_type="",
                  object_ids=[], purpose="", outcome="success", detail={"x": "@@target@@"})
    ids = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    expected = leaf.from_values(values | {"id": ids[0], "target_id": ids[1], "subject_id": ids[2],
                                          "fields": ["mobile"], "change_enc": b"\x00\xff"})
    assert leaf.template(values)(*ids, ["mobile"], b"\x00\xff") == expected

"""The three stores keep the same counts: whatever the database or Redis store answers, the
memory store (which replays and dry runs use) answers too — so a rule behaves the same live and
on history. Property-based: random sequences of sightings and counts."""

from __future__ import annotations

import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodia.monitor.stores import DbStore, MemoryStore, RedisStore
from tests.conftest import require_component

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or "0"
# The worker's own Redis database (custodia.testing.xdist_isolation), else one per worker from 4.
REDIS_URL = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:6379/{4 + int(_WORKER) % 8}"

ops = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4000),  # seconds since the start
        st.sampled_from(["a", "b"]),  # the person
        st.lists(st.sampled_from([f"c{i}" for i in range(12)]), max_size=6),  # customers seen
        st.integers(min_value=0, max_value=5),  # a raw amount
    ),
    min_size=1, max_size=25,
).map(lambda xs: sorted(xs, key=lambda x: x[0]))

WINDOWS = (300, 3600)


def replay(store, steps, base):
    from custodia.monitor.engine import granularity

    out = []
    for offset, person, items, amount in steps:
        now = base + offset
        prev = store.seen(f"s:viewed:{person}", items, now, ttl=max(WINDOWS))
        added = {w: sum(1 for i in set(items) if prev.get(i) is None or now - prev[i] >= w) for w in WINDOWS}
        incs = [(f"c:viewed:{w}:{person}", granularity(w), added[w], w) for w in WINDOWS]
        incs += [(f"c:exported:{w}:{person}", granularity(w), amount, w) for w in WINDOWS]
        out.append(store.count(incs, now))
    return out


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops, base=st.integers(min_value=1_700_000_000, max_value=1_800_000_000))
def test_database_store_counts_like_memory(steps, base):
    with transaction.atomic():
        got = replay(DbStore(), steps, base)
        transaction.set_rollback(True)
    assert got == replay(MemoryStore(), steps, base)


@pytest.fixture(scope="module")
def redis_store():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    except Exception:  # noqa: BLE001
        require_component(False, f"Redis at {REDIS_URL}")
    return RedisStore(REDIS_URL)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops, base=st.integers(min_value=1_700_000_000, max_value=1_800_000_000))
def test_redis_store_counts_like_memory(redis_store, steps, base):
    keys = list(redis_store.client.scan_iter(match=RedisStore.PREFIX + "*", count=1000))
    if keys:
        redis_store.client.delete(*keys)
    assert replay(redis_store, steps, base) == replay(MemoryStore(), steps, base)


@pytest.mark.django_db
def test_profiles_and_baselines_round_trip_in_the_database():
    store = DbStore()
    with transaction.atomic():
        assert store.get("p:x") is None
        store.put("p:x", {"hours": [0] * 24, "n": 1})
        store.put("p:x", {"hours": [1] * 24, "n": 2})
        assert store.get("p:x")["n"] == 2
        store.put_baselines("x", {"viewed:300": 12.5})
        assert store.baselines("x") == {"viewed:300": 12.5}


@pytest.mark.django_db
def test_expired_counters_and_marks_are_dropped():
    store = DbStore()
    with transaction.atomic():
        store.count([("c:viewed:300:a", 25, 3, 300)], 1_000_000)
        store.seen("s:viewed:a", ["c1"], 1_000_000, ttl=300)
        assert DbStore.expire(1_000_000 + 100) == 0
        assert DbStore.expire(1_000_000 + 1000) == 2
        assert store.count([("c:viewed:300:a", 25, 0, 300)], 1_000_000) == {"c:viewed:300:a": 0}


def test_redis_takes_back_what_a_stopped_event_counted(redis_store):
    keys = list(redis_store.client.scan_iter(match=RedisStore.PREFIX + "*", count=1000))
    if keys:
        redis_store.client.delete(*keys)
    now = 1_750_000_000
    redis_store.seen("s:viewed:a", ["c1"], now, ttl=300)
    redis_store.count([("c:viewed:300:a", 25, 1, 300)], now)
    redis_store.begin()
    assert redis_store.seen("s:viewed:a", ["c1", "c2"], now + 10, ttl=300) == {"c1": now, "c2": None}
    assert redis_store.count([("c:viewed:300:a", 25, 1, 300)], now + 10) == {"c:viewed:300:a": 2}
    redis_store.undo()
    assert redis_store.count([("c:viewed:300:a", 25, 0, 300)], now + 10) == {"c:viewed:300:a": 1}
    assert redis_store.seen("s:viewed:a", ["c1", "c2"], now + 20, ttl=300) == {"c1": now, "c2": None}

"""Where the detectors keep their state: counters in time buckets, when each customer was last
seen by each person, sign-in profiles and baselines.

Three stores, one interface:
- ``DbStore``: the application database (the default). Writes happen inside the request's
  transaction, so a denied request adds nothing, and every app process shares the counts.
- ``RedisStore``: Redis, when ``CUSTODIA_MONITOR_REDIS`` (or ``REDIS_URL``) is set: atomic
  increments outside the database transaction, shared by every app process.
- ``MemoryStore``: one process's memory, for history (dry runs, baselines) and offline replays.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections import defaultdict

from django.db import connection

BASELINE_CACHE_SECONDS = 300
_journal: contextvars.ContextVar[list | None] = contextvars.ContextVar("custodia_monitor_journal", default=None)
MAX_TTL = 40 * 86400


class _NoJournal:
    """Stores whose writes roll back with the operation (or that run offline) need no undo."""

    def begin(self) -> None:
        pass

    def undo(self) -> None:
        pass


class MemoryStore(_NoJournal):
    def __init__(self):
        self._buckets: dict[str, dict[int, int]] = defaultdict(dict)
        self._seen: dict[str, dict[str, float]] = defaultdict(dict)
        self._kv: dict[str, object] = {}

    def seen(self, key, items, now, ttl):
        table = self._seen[key]
        prev = {i: table.get(i) for i in items}
        for i in items:
            table[i] = now
        return prev

    def count(self, incs, now):
        out = {}
        for key, gran, amount, window in incs:
            buckets = self._buckets[key]
            bucket = int(now // gran) * gran
            if amount:
                buckets[bucket] = buckets.get(bucket, 0) + amount
            low = now - window
            for b in [b for b in buckets if b + gran <= low]:
                del buckets[b]
            out[key] = sum(v for b, v in buckets.items() if b > low - gran)
        return out

    def get(self, key):
        return self._kv.get(key)

    def put(self, key, value):
        self._kv[key] = value

    def baselines(self, person):
        return self._kv.get(f"b:{person}") or {}

    def put_baselines(self, person, values):
        self._kv[f"b:{person}"] = values


def _low(now, gran, window) -> int:
    """The oldest bucket start still inside a window ending now (a bucket counts while any of it
    is inside the window)."""
    return int(now - window - gran)


class _BaselineCache:
    """Baselines change nightly: each process keeps them for a few minutes."""

    def __init__(self):
        self._cache: dict[str, tuple[float, dict]] = {}

    def get(self, person, load):
        hit = self._cache.get(person)
        now = time.monotonic()
        if hit is not None and now - hit[0] < BASELINE_CACHE_SECONDS:
            return hit[1]
        value = load()
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[person] = (now, value)
        return value

    def clear(self):
        self._cache.clear()


BASELINES = _BaselineCache()


class DbStore(_NoJournal):
    """Counters in ``monitor_counter`` (key, bucket) and last-seen times in ``monitor_seen``, both
    written with one multi-row upsert per event (SQLite and PostgreSQL share the syntax)."""

    def seen(self, key, items, now, ttl):
        """One upsert that also reads back each item's previous sighting (RETURNING)."""
        items = sorted(set(items))
        if not items:
            return {}
        rows = ",".join(["(%s,%s,%s,NULL,%s)"] * len(items))
        params = []
        for item in items:
            params += [key, item, int(now), int(now + ttl)]
        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO monitor_seen (key, item, last_seen, prev_seen, expires) VALUES {rows} "
                        "ON CONFLICT (key, item) DO UPDATE SET prev_seen = monitor_seen.last_seen, "
                        "last_seen = excluded.last_seen, expires = excluded.expires RETURNING item, prev_seen",
                        params)
            prev = dict(cur.fetchall())
        return {i: prev.get(i) for i in items}

    def count(self, incs, now):
        if not incs:  # e.g. a failed sign-in with neither a known account nor an address
            return {}
        adds = [(key, int(now // gran) * gran, amount, int(now // gran) * gran + gran + window)
                for key, gran, amount, window in incs if amount]
        with connection.cursor() as cur:
            if adds:
                rows = ",".join(["(%s,%s,%s,%s)"] * len(adds))
                cur.execute(f"INSERT INTO monitor_counter (key, bucket, count, expires) VALUES {rows} "
                            "ON CONFLICT (key, bucket) DO UPDATE SET count = monitor_counter.count + excluded.count",
                            [v for add in adds for v in add])
            where = " OR ".join(["(key = %s AND bucket > %s)"] * len(incs))
            cur.execute(f"SELECT key, SUM(count) FROM monitor_counter WHERE {where} GROUP BY key",
                        [v for key, gran, _a, window in incs for v in (key, _low(now, gran, window))])
            found = {k: int(v) for k, v in cur.fetchall()}
        return {key: found.get(key, 0) for key, *_ in incs}

    def get(self, key):
        with connection.cursor() as cur:
            cur.execute("SELECT value FROM monitor_state WHERE key = %s", [key])
            row = cur.fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key, value):
        with connection.cursor() as cur:
            cur.execute("INSERT INTO monitor_state (key, value, updated) VALUES (%s, %s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                        [key, json.dumps(value), int(time.time())])

    def baselines(self, person):
        return BASELINES.get(person, lambda: self.get(f"b:{person}") or {})

    def put_baselines(self, person, values):
        self.put(f"b:{person}", values)

    @staticmethod
    def expire(now: float | None = None) -> int:
        """Delete counters and last-seen marks whose window has passed (the nightly job)."""
        now = int(now if now is not None else time.time())
        with connection.cursor() as cur:
            cur.execute("DELETE FROM monitor_counter WHERE expires < %s", [now])
            deleted = cur.rowcount
            cur.execute("DELETE FROM monitor_seen WHERE expires < %s", [now])
            return deleted + cur.rowcount


class RedisStore:
    """The same state in Redis: counters as one key per bucket (INCRBY with an expiry), last-seen
    times as a hash per person and metric, profiles and baselines as JSON strings.

    Redis is outside the database transaction, so what one event wrote is journalled: when the
    event's action is stopped, ``undo`` takes its counts and sightings back, as the database
    store's rollback does (a refused request never counts, whichever store)."""

    PREFIX = "custodia:monitor:"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def begin(self) -> None:
        _journal.set([])

    def undo(self) -> None:
        entries = _journal.get() or []
        _journal.set([])
        if not entries:
            return
        pipe = self.client.pipeline(transaction=True)
        for kind, name, value in reversed(entries):
            if kind == "incr":
                pipe.decrby(name, value)
            else:  # a sighting: put back the one before, or none
                item, prev = value
                if prev is None:
                    pipe.hdel(name, item)
                else:
                    pipe.hset(name, item, prev)
        pipe.execute()

    def _note(self, kind, name, value) -> None:
        entries = _journal.get()
        if entries is not None:
            entries.append((kind, name, value))

    def seen(self, key, items, now, ttl):
        items = sorted(set(items))
        if not items:
            return {}
        name = self.PREFIX + key
        pipe = self.client.pipeline(transaction=True)
        pipe.hmget(name, items)
        pipe.hset(name, mapping=dict.fromkeys(items, int(now)))
        pipe.expire(name, int(min(ttl, MAX_TTL)))
        values = pipe.execute()[0]
        prev = {i: (int(v) if v is not None else None) for i, v in zip(items, values, strict=True)}
        for item in items:
            self._note("seen", name, (item, prev[item]))
        return prev

    def count(self, incs, now):
        pipe = self.client.pipeline(transaction=True)
        plan = []
        for key, gran, amount, window in incs:
            bucket = int(now // gran) * gran
            if amount:
                name = f"{self.PREFIX}{key}:{bucket}"
                pipe.incrby(name, amount)
                pipe.expire(name, int(gran + window + 60))
                self._note("incr", name, amount)
            low = _low(now, gran, window)
            names = [f"{self.PREFIX}{key}:{b}" for b in range(bucket, low, -gran)]
            pipe.mget(names)
            plan.append(key)
        results = [r for r in pipe.execute() if isinstance(r, list)]
        return {key: sum(int(v) for v in values if v is not None) for key, values in zip(plan, results, strict=True)}

    def get(self, key):
        value = self.client.get(self.PREFIX + key)
        return json.loads(value) if value is not None else None

    def put(self, key, value):
        self.client.set(self.PREFIX + key, json.dumps(value), ex=MAX_TTL)

    def baselines(self, person):
        return BASELINES.get(person, lambda: self.get(f"b:{person}") or {})

    def put_baselines(self, person, values):
        self.put(f"b:{person}", values)


_live = None


def live_store():
    """The store of this installation: Redis when configured, else the database."""
    global _live
    if _live is None:
        from django.conf import settings

        url = settings.CUSTODIA_MONITOR_REDIS
        _live = RedisStore(url) if url else DbStore()
    return _live


def reset_live_store() -> None:
    global _live
    _live = None
    BASELINES.clear()

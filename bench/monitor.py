"""Monitoring benchmark tasks (custodia.monitor), run by ``run.py`` in their own interpreter:

    python bench/monitor.py TASK '{"json": "args"}'

with CUSTODIA_DATA_DIR pointing at a fresh benchmark data dir. Prints one line
``BENCH-RESULT {json}``; anything else is progress.

- ``setup``: a fresh database with the demo organisation's staff, a rep with customers made
  through the real service (the detail requests) and reps with plain rows (paged through until
  refused), and their API tokens.
- ``replay``: generated events (or the scenario suite's, when ``custodia.monitor.scenarios``
  offers a stream) through ``history.run`` with every shipped rule, as Ev objects and as JSON
  lines (what ``custodia monitor replay`` does); events per second.
- ``alert_latency``: each given rep pages through the API list until refused; the time from
  sending the request that crosses the threshold to its alert being in the database.
- ``state``: alerts, interventions and audit events in the database (the overhead runs must
  have stopped no request).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.core.management import call_command  # noqa: E402
from tasks import main, say, task  # noqa: E402  (sets Django up; the same task protocol)

RULE = "volume.viewed.5m"


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds else 0.0


@task
def setup(detail_customers: int = 100, list_reps: int = 6, list_customers: int = 200) -> dict:
    from django.utils import timezone

    from custodia.access.services import api_token_create
    from custodia.customers.models import Customer
    from custodia.kernel.actor import Actor
    from custodia.testing.factories import make_customer, make_org, make_user

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    org = make_org()
    system = Actor.system("bench")
    ids = [str(make_customer(org.rep).pk) for _ in range(detail_customers)]
    now = timezone.now()
    reps = {}
    for n in range(list_reps):
        rep = make_user(f"pager{n:02d}", "rep", org.team_a, org.manager)
        Customer.objects.bulk_create([
            Customer(kind="individual", name=f"翻页客户{n}-{i}", owner=rep, team=org.team_a, department=org.dept_a,
                     created_at=now, updated_at=now)
            for i in range(list_customers)])
        reps[rep.username] = {"id": str(rep.pk), "token": api_token_create(actor=system, username=rep.username)}
    return {"token": api_token_create(actor=system, username=org.rep.username), "user": org.rep.username,
            "ids": ids, "pagers": reps, "seconds": round(time.perf_counter() - started, 1)}


@task
def state() -> dict:
    from custodia.audit.models import AuditEvent
    from custodia.monitor.models import Alert

    return {"alerts": Alert.objects.count(), "interventions": sum(Alert.objects.values_list("interventions", flat=True)),
            "audit_events": AuditEvent.objects.count(),
            "intervened_events": AuditEvent.objects.filter(action="monitor.intervened").count()}


# --- in-process cost of the inline check ----------------------------------------------------------


@task
def inline_cost(token: str, ids: list, n: int = 200, rounds: int = 5, redis: str = "") -> dict:
    """The API detail through Django's test client (the whole middleware and DRF stack, no
    server, so no load generator or other process shares the measurement), in batches of ``n``
    with the detectors off, on with the database store and on with Redis, rotated; plus the time
    inside ``inline.check`` itself. Milliseconds per request: the best batch of each."""
    import statistics

    from django.test import Client, override_settings

    from custodia.monitor import inline, stores

    variants = {"off": {"CUSTODIA_MONITOR_ENABLED": False, "CUSTODIA_MONITOR_REDIS": ""},
                "database": {"CUSTODIA_MONITOR_ENABLED": True, "CUSTODIA_MONITOR_REDIS": ""}}
    if redis:
        variants["redis"] = {"CUSTODIA_MONITOR_ENABLED": True, "CUSTODIA_MONITOR_REDIS": redis}
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    real_check = inline.check
    spent = {"s": 0.0, "calls": 0}

    def timed_check(values, actor):
        t0 = time.perf_counter()
        try:
            return real_check(values, actor)
        finally:
            spent["s"] += time.perf_counter() - t0
            spent["calls"] += 1

    def batch(name: str, count: int) -> tuple[float, float]:
        with override_settings(**variants[name]):
            stores.reset_live_store()
            inline.LIVE.invalidate()
            spent.update(s=0.0, calls=0)
            inline.check = timed_check
            try:
                t0 = time.perf_counter()
                for i in range(count):
                    response = client.get(f"/api/v1/customers/{ids[i % len(ids)]}/")
                    if response.status_code != 200:
                        raise SystemExit(f"detail with monitoring {name}: {response.status_code}")
                seconds = time.perf_counter() - t0
            finally:
                inline.check = real_check
        return seconds / count * 1000, spent["s"] / max(spent["calls"], 1) * 1000

    names = list(variants)
    for name in names:
        batch(name, max(20, n // 5))  # warm
    per = {name: [] for name in names}
    checks = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            ms, check_ms = batch(name, n)
            per[name].append(ms)
            checks[name].append(check_ms)
    out = {"requests_per_batch": n, "rounds": rounds}
    for name in names:
        out[name] = {"best_ms": round(min(per[name]), 3), "median_ms": round(statistics.median(per[name]), 3),
                     "check_ms": round(statistics.median(checks[name]), 3)}
    for name in names[1:]:
        out[name]["ratio_best"] = round(out[name]["best_ms"] / out["off"]["best_ms"], 3)
        out[name]["ratio_median"] = round(out[name]["median_ms"] / out["off"]["median_ms"], 3)
    say("  in-process: " + " | ".join(f"{k} {out[k]['median_ms']:.2f} ms (check {out[k]['check_ms']:.3f} ms)"
                                      for k in names))
    return out


# --- replay ------------------------------------------------------------------------------------


def default_specs() -> list:
    from custodia.monitor.detectors import DEFAULT_RULES, clean_params, clean_responses
    from custodia.monitor.engine import RuleSpec

    out = []
    for d in DEFAULT_RULES:
        params = {k: (str(v) if hasattr(v, "label") else v) for k, v in d.params.items()}
        out.append(RuleSpec(code=d.code, version=1, kind=d.kind, params=clean_params(d.kind, params),
                            responses=clean_responses(d.kind, {str(k): str(v) for k, v in d.responses.items()}),
                            name=d.name))
    return out


def generated_events(n: int, seed: int, people: int = 200, days: int = 30):
    """A month of a sales organisation's audit stream, in time order: sign-ins (some failed),
    list pages, customer views, reveals, searches, exports and edits by ``people`` staff with
    portfolios of 300 customers each."""
    from custodia.monitor.engine import Ev

    rng = random.Random(seed)
    staff = [(str(uuid.UUID(int=rng.getrandbits(128))), "rep" if i % 10 < 8 else "manager") for i in range(people)]
    portfolio = {p: [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(300)] for p, _r in staff}
    addresses = {p: [f"10.{i % 250}.{j}.{rng.randrange(1, 250)}" for j in range(3)] for i, (p, _r) in enumerate(staff)}
    at = dt.datetime(2026, 2, 2, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    mean_gap = days * 86400 / n
    for i in range(n):
        at += dt.timedelta(seconds=rng.expovariate(1 / mean_gap))
        person, role = rng.choice(staff)
        mine = portfolio[person]
        ip = rng.choice(addresses[person])
        r = rng.random()
        common = {"id": f"g{i}", "at": at, "actor": person, "actor_role": role, "source_ip": ip}
        if r < 0.03:
            yield Ev(action="access.login", target_type="user", target_id=person, detail={"device": f"d{ip[-1]}"},
                     **common)
        elif r < 0.04:
            yield Ev(id=f"g{i}", at=at, action="access.login.failed", source_ip=f"198.51.100.{rng.randrange(1, 40)}",
                     target_type="user", target_id=rng.choice(staff)[0], outcome="failure")
        elif r < 0.40:
            yield Ev(action="customer.list.viewed", target_type="customer", object_ids=tuple(rng.sample(mine, 25)),
                     **common)
        elif r < 0.85:
            cid = rng.choice(mine)
            yield Ev(action="customer.viewed", target_type="customer", target_id=cid, subject_id=cid, **common)
        elif r < 0.91:
            cid = rng.choice(mine)
            yield Ev(action="customer.field.revealed", target_type="customer", target_id=cid, subject_id=cid,
                     **common)
        elif r < 0.94:
            yield Ev(action="customer.searched", target_type="customer", **common)
        elif r < 0.95:
            yield Ev(action="customer.exported", target_type="customer", object_ids=tuple(rng.sample(mine, 50)),
                     **common)
        else:
            cid = rng.choice(mine)
            yield Ev(action="customer.updated", target_type="customer", target_id=cid, subject_id=cid, **common)


def scenario_events(n: int, seed: int):
    """The scenario suite's stream when it offers one (custodia.monitor.scenarios), else None."""
    try:
        from custodia.monitor import scenarios
    except ImportError:
        return None
    from custodia.monitor.engine import Ev

    for name in ("stream", "events", "generate_events"):
        make = getattr(scenarios, name, None)
        if not callable(make):
            continue
        try:
            items = list(make(seed=seed, events=n))
        except TypeError:
            continue
        if items and all(isinstance(e, Ev) for e in items):
            return items
    return None


def as_line(ev) -> str:
    return json.dumps({"id": ev.id, "occurred_at": ev.at.isoformat(), "action": ev.action, "actor_id": ev.actor,
                       "actor_role": ev.actor_role, "source_ip": ev.source_ip, "target_type": ev.target_type,
                       "target_id": ev.target_id, "subject_id": ev.subject_id, "object_ids": list(ev.object_ids),
                       "outcome": ev.outcome, "detail": ev.detail})


@task
def replay(events: int = 200_000, seed: int = 1) -> dict:
    from custodia.monitor import history

    specs = default_specs()
    stream = scenario_events(events, seed)
    source = "custodia.monitor.scenarios"
    if stream is None:
        stream, source = list(generated_events(events, seed)), "bench/monitor.py generator"
    say(f"  {len(stream):,} events from the {source}; {len(specs)} rules")
    started = time.perf_counter()
    result = history.run(stream, specs)
    seconds = time.perf_counter() - started
    out = {"events": result.events, "source": source, "rules": len(specs), "seconds": round(seconds, 2),
           "events_per_s": rate(result.events, seconds), "findings": len(result.findings),
           "alerts": len(result.alerts)}
    say(f"  history.run over Ev objects: {out['events_per_s']:,.0f} events/s ({out['alerts']:,} alerts)")
    lines = [as_line(ev) for ev in stream]
    megabytes = sum(len(x) + 1 for x in lines) / 2**20
    started = time.perf_counter()
    parsed = history.run(history.read_lines(lines), specs)
    seconds = time.perf_counter() - started
    out |= {"jsonl_seconds": round(seconds, 2), "jsonl_events_per_s": rate(parsed.events, seconds),
            "jsonl_mib": round(megabytes, 1), "jsonl_alerts": len(parsed.alerts)}
    say(f"  read_lines + history.run over {megabytes:.0f} MiB of JSON lines: {out['jsonl_events_per_s']:,.0f} events/s")
    return out


# --- time to alert -----------------------------------------------------------------------------


@task
def alert_latency(base_url: str, pagers: dict, page_size: int = 50, poll_seconds: float = 10.0) -> dict:
    """Each rep pages through the API list until refused; from sending the crossing request to
    the alert being in the database (polled with fresh queries every millisecond)."""
    import httpx
    from django.db import connection

    from custodia.monitor.models import Alert

    samples = []
    for username, person in pagers.items():
        headers = {"Authorization": f"Token {person['token']}"}
        with httpx.Client(base_url=base_url, headers=headers, trust_env=False, timeout=30) as http:
            for page in range(1, 100):
                sent = time.perf_counter()
                response = http.get("/api/v1/customers/", params={"page": page, "page_size": page_size})
                answered = time.perf_counter()
                if response.status_code != 200:
                    break
            else:
                raise SystemExit(f"{username} was never refused")
        while True:
            if Alert.objects.filter(rule_id=RULE, person_id=person["id"]).exists():
                visible = time.perf_counter()
                break
            if time.perf_counter() - sent > poll_seconds:
                raise SystemExit(f"no alert for {username} within {poll_seconds} s")
            time.sleep(0.001)
        connection.close()
        samples.append({"user": username, "status": response.status_code, "code": response.json().get("code"),
                        "page": page, "request_ms": round((answered - sent) * 1000, 2),
                        "alert_visible_ms": round((visible - sent) * 1000, 2)})
    ordered = sorted(s["alert_visible_ms"] for s in samples)
    return {"samples": samples, "median_ms": ordered[len(ordered) // 2], "max_ms": ordered[-1],
            "request_median_ms": sorted(s["request_ms"] for s in samples)[len(samples) // 2]}


if __name__ == "__main__":
    main()

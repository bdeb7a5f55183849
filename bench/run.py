"""`make bench`: Custodia's protected paths side by side with plain Django, measured in one run.

1. A 100k-customer SQLite database (demo loader: encrypted fields, blind indexes, audit), with
   the same rows copied in clear into the plain model of ``custodia.benchplain``. Built once and
   cached in bench/results/db-<key>/ (the key changes with any migration); every run works on a
   fresh copy, so audit events written by one run never slow the next.
2. Primitives: AES-GCM decrypt of one field, blind-index HMAC of one value (µs).
3. HTTP: gunicorn (2 sync workers) on 127.0.0.1 serving both the protected API and the plain
   endpoints; a bounded closed-loop load generator (bench/loadgen.py) alternates protected and
   plain runs (A/B/A/B...) per endpoint; requests/s, p50, p99 and the ratios.
4. Import: the same CSV into a fresh database with ``customers_import`` (protected) and with
   django-import-export (defaults) into the plain model; rows/s and the ratio.
5. Audit log (bench/audit_log.py) and monitoring (bench/monitor.py): the inline detectors'
   cost per request (on vs off, database and Redis stores), replay throughput, time to alert.

Everything talks to loopback only and stops by itself (fixed durations, request caps, timeouts).
See bench/README.md for the options and the recorded results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import spy  # noqa: E402
from common import BENCH, CUSTOMERS, PY, RESULTS, bench_env, cache_key, copy_data_dir, run_task  # noqa: E402
from serve import Server  # noqa: E402

AIM_RATIO, AIM_P99, AIM_IMPORT_RPS, AIM_IMPORT_RATIO, AIM_SCOPE = 0.75, 2.0, 10_000, 2.0, 1.5
# Audit log (issue 4): batched append with persistence, one event per request (and vs pymerkle),
# cold proofs, full verification of a million events.
AIM_APPEND, AIM_PER_REQUEST, AIM_PER_REQUEST_VS_PYMERKLE, AIM_PROOFS, AIM_VERIFY_1M = 300_000, 4_000, 2.0, 5_000, 5.0
AIM_MONITOR = 1.2  # median latency of a request with the inline detectors on ÷ off
PROTECTED = {"list": "/api/v1/customers/?page={page}&page_size=50", "detail": "/api/v1/customers/{id}/"}
PLAIN = {"list": "/bench/plain/customers/?page={page}&page_size=50", "detail": "/bench/plain/customers/{id}/"}
FIRST_PAGES = 5
# Measured endpoints: (name, URL template key, highest page asked; None = every page of the scope).
ENDPOINTS = [("list", "list", None), (f"list p1-{FIRST_PAGES}", "list", FIRST_PAGES), ("detail", "detail", None)]


def machine() -> dict:
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) * 1024
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(mem / 2**30), "cpu": cpu, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "os": f"{platform.system()} {platform.release()}"}


def revision() -> str:
    """The commit measured (with "+changes" when the working tree differs from it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH.parent, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=BENCH.parent,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def load() -> float:
    return round(os.getloadavg()[0], 2)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


# --- databases ---------------------------------------------------------------------------------


def ensure_db(customers: int, rebuild: bool) -> tuple[Path, dict]:
    """The cached 100k database (built when missing; the build resumes if it was interrupted)."""
    key = cache_key(customers)
    path = RESULTS / f"db-{key}"
    mark = path / "complete.json"
    if mark.exists() and not rebuild:
        info = json.loads(mark.read_text())
        if not info.get("analyzed"):
            run_task("finalize_db", path, quiet=True)  # planner statistics, as the build now makes them
            info["analyzed"] = True
            mark.write_text(json.dumps(info))
        print(f"reusing {path.relative_to(BENCH.parent)} (built {info['built']})", flush=True)
        return path, info
    print(f"building {customers:,} customers into {path.relative_to(BENCH.parent)} (cached for later runs) …",
          flush=True)
    mark.unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    result = run_task("build_db", path, {"customers": customers}, timeout=3600)
    info = {"key": key, "built": dt.datetime.now().isoformat(timespec="seconds"), "result": result, "analyzed": True}
    mark.write_text(json.dumps(info))
    print(f"built in {result['total_seconds']:.0f} s", flush=True)
    return path, info


def ensure_empty(rebuild: bool) -> Path:
    """A fresh database (schema, demo staff, tag names) for the import benchmark; cached."""
    path = RESULTS / f"empty-{cache_key(0)}"
    mark = path / "complete.json"
    if not mark.exists() or rebuild:
        path.mkdir(parents=True, exist_ok=True)
        run_task("build_empty", path)
        mark.write_text("{}")
    return path


def ensure_csv(rows: int) -> Path:
    """The import file, written by bench/make_import_csv.py (valid rows, unique identifiers)."""
    script = BENCH / "make_import_csv.py"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:8]
    path = RESULTS / f"import-{rows}-{digest}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        subprocess.run([PY, str(script), str(tmp), "--rows", str(rows), "--owner", "rep01"], check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        tmp.rename(path)
    return path


# --- HTTP --------------------------------------------------------------------------------------


def picker(template: str, pages: int, ids: list[str], max_page: int | None = None):
    """Random page of the scope (or of its first ``max_page`` pages), or random customer id in scope."""
    if "{page}" in template:
        last = min(pages, max_page or pages)
        return lambda rng: template.format(page=rng.randint(1, last))
    return lambda rng: template.format(id=rng.choice(ids))


def summarise(result: loadgen.RunResult) -> dict:
    lat = result.latencies
    return {"requests": result.ok, "errors": result.errors, "statuses": result.statuses,
            "seconds": round(result.seconds, 2), "rps": round(result.rps, 1),
            "p50_ms": round(loadgen.percentile(lat, 50) * 1000, 2),
            "p99_ms": round(loadgen.percentile(lat, 99) * 1000, 2)}


def http_bench(work: Path, args) -> dict:
    prep = run_task("prepare_http", work, {"user": args.user, "sample": 5000, "seed": args.seed}, quiet=True)
    pages = -(-prep["in_scope"] // 50)
    print(f"benchmark user {prep['user']} (role {prep['role']}, scope {prep['scope']}): "
          f"{prep['in_scope']:,} of {prep['customers']:,} customers in scope = {pages} list pages; "
          f"detail ids: {len(prep['ids']):,} random customers in scope", flush=True)
    result = {"user": prep["user"], "role": prep["role"], "scope": prep["scope"], "in_scope": prep["in_scope"],
              "pages": pages, "concurrency": args.concurrency, "duration": args.duration, "rounds": args.rounds,
              "workers": args.workers, "endpoints": {}}
    protected_requests = 0
    with Server(work, workers=args.workers) as server:
        server.start(PLAIN["list"].format(page=1), prep["token"])
        print(f"gunicorn: {args.workers} sync workers on {server.base_url} (pids {server.worker_pids()})",
              flush=True)
        # The same pages and ids are asked of both paths (same seeds).
        for kind, key, max_page in ENDPOINTS:
            for side, templates in (("protected", PROTECTED), ("plain", PLAIN)):
                pick = picker(templates[key], pages, prep["ids"], max_page)
                first = loadgen.run(f"check {side} {kind}", server.base_url, prep["token"], pick, concurrency=1,
                                    duration=5, max_requests=1, seed=args.seed)
                if first.ok != 1:
                    raise SystemExit(f"{side} {kind} does not answer 200: {first.statuses}; see {server.log}")
                warm = loadgen.run(f"warm {side} {kind}", server.base_url, prep["token"], pick,
                                   concurrency=args.concurrency, duration=args.warmup, max_requests=100_000,
                                   seed=args.seed + 7)
                if side == "protected":
                    protected_requests += first.ok + warm.ok
        for kind, key, max_page in ENDPOINTS:
            totals = {side: loadgen.RunResult(side) for side in ("protected", "plain")}
            rounds = []
            for n in range(args.rounds):
                order = ("protected", "plain") if n % 2 == 0 else ("plain", "protected")  # A/B, B/A, ...
                row = {}
                for side in order:
                    templates = PROTECTED if side == "protected" else PLAIN
                    pick = picker(templates[key], pages, prep["ids"], max_page)
                    before = load()
                    run = loadgen.run(f"{side} {kind}", server.base_url, prep["token"], pick,
                                      concurrency=args.concurrency, duration=args.duration,
                                      max_requests=args.max_requests, seed=args.seed + 100 * n)
                    totals[side].merge(run)
                    row[side] = summarise(run) | {"load_before": before, "load_after": load()}
                    if side == "protected":
                        protected_requests += run.ok
                rounds.append(row)
                print(f"  {kind:9} round {n + 1}: protected {row['protected']['rps']:7.1f}/s "
                      f"p99 {row['protected']['p99_ms']:6.1f} ms | plain {row['plain']['rps']:7.1f}/s "
                      f"p99 {row['plain']['p99_ms']:6.1f} ms | ratio {row['protected']['rps'] / row['plain']['rps']:.2f} "
                      f"(load {row[order[0]]['load_before']})", flush=True)
            ep = {side: summarise(total) for side, total in totals.items()}
            ep["rounds"] = rounds
            ep["ratio_rps"] = round(ep["protected"]["rps"] / ep["plain"]["rps"], 3)
            ep["ratio_p99"] = round(ep["protected"]["p99_ms"] / ep["plain"]["p99_ms"], 3)
            per_round = sorted(r["protected"]["rps"] / r["plain"]["rps"] for r in rounds)
            ep["round_ratios"] = {"min": round(per_round[0], 2), "median": round(statistics.median(per_round), 2),
                                  "max": round(per_round[-1], 2)}
            result["endpoints"][kind] = ep
        result["scopes"] = scope_bench(server, prep, args)
        protected_requests += result["scopes"].pop("protected_requests")
        if args.profile:
            result["profile"] = profile_server(server, prep, pages, args)
            protected_requests += result["profile"].pop("protected_requests")
    audit = run_task("audit_count", work, quiet=True)["audit_events"] - prep["audit_events"]
    result["audit_events_written"] = audit
    result["protected_requests_ok"] = protected_requests
    if args.profile:
        mid = max(1, pages // 2)
        paths = [PROTECTED["list"].format(page=mid), PLAIN["list"].format(page=mid),
                 PROTECTED["list"].format(page=1), PLAIN["list"].format(page=1),
                 PROTECTED["detail"].format(id=prep["ids"][0]), PLAIN["detail"].format(id=prep["ids"][0])]
        print(f"in-process breakdown (test client, no server): list pages {mid} and 1, one detail …", flush=True)
        result["inprocess"] = run_task("breakdown", work, {"user": args.user, "paths": paths, "n": 20}, quiet=True)
    return result


def scope_bench(server: Server, prep: dict, args) -> dict:
    """The protected list under the most constrained role (a sales rep: own customers, core tier
    rules, assignments, time-bound grants) against an administrator's unconstrained list: random
    pages of each one's own scope, A/B alternated rounds."""
    people = {"constrained": prep["constrained"], "admin": prep["admin"]}
    totals = {side: loadgen.RunResult(side) for side in people}
    done = 0
    for side, person in people.items():
        pick = picker(PROTECTED["list"], -(-person["in_scope"] // 50), [])
        warm = loadgen.run(f"warm list {side}", server.base_url, person["token"], pick,
                           concurrency=args.concurrency, duration=args.warmup, max_requests=100_000, seed=args.seed)
        if warm.ok == 0:
            raise SystemExit(f"the list as {person['user']} does not answer 200: {warm.statuses}; see {server.log}")
        done += warm.ok
    for n in range(args.rounds):
        for side in (("constrained", "admin") if n % 2 == 0 else ("admin", "constrained")):
            person = people[side]
            pick = picker(PROTECTED["list"], -(-person["in_scope"] // 50), [])
            run = loadgen.run(f"list {side}", server.base_url, person["token"], pick, concurrency=args.concurrency,
                              duration=args.duration, max_requests=args.max_requests, seed=args.seed + 100 * n)
            totals[side].merge(run)
            done += run.ok
    out = {side: summarise(total) | {k: people[side][k] for k in ("user", "role", "scope", "in_scope")}
           for side, total in totals.items()}
    out["time_ratio_p50"] = round(out["constrained"]["p50_ms"] / out["admin"]["p50_ms"], 3)
    out["time_ratio_mean"] = round(out["admin"]["rps"] / out["constrained"]["rps"], 3)
    out["protected_requests"] = done
    print(f"  list as {people['constrained']['user']} ({out['constrained']['rps']:.1f}/s, p50 "
          f"{out['constrained']['p50_ms']:.1f} ms) vs {people['admin']['user']} ({out['admin']['rps']:.1f}/s, p50 "
          f"{out['admin']['p50_ms']:.1f} ms): time ratio {out['time_ratio_mean']:.2f}×", flush=True)
    return out


def profile_server(server: Server, prep: dict, pages: int, args) -> dict:
    """py-spy on the gunicorn workers while each endpoint is under the same load as measured."""
    out = {"protected_requests": 0}
    if spy.available() is None:
        print("  (py-spy not installed: .venv/bin/pip install py-spy — skipping the server profile)", flush=True)
        return out
    for kind, key, max_page in ENDPOINTS:
        for side, templates in (("protected", PROTECTED), ("plain", PLAIN)):
            raw = RESULTS / f"profile-{side}-{key}-{max_page or 'all'}.txt"
            raw.unlink(missing_ok=True)
            recorder = spy.start(server.proc.pid, args.profile_seconds, raw)
            time.sleep(0.5)
            run = loadgen.run(f"profile {side} {kind}", server.base_url, prep["token"],
                              picker(templates[key], pages, prep["ids"], max_page), concurrency=args.concurrency,
                              duration=args.profile_seconds, max_requests=args.max_requests, seed=args.seed + 999)
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()  # the py-spy process we started
            if side == "protected":
                out["protected_requests"] += run.ok
            if raw.exists():
                out[f"{kind} {side}"] = spy.breakdown(raw) | {"rps_while_profiled": round(run.rps, 1)}
                print(f"  profiled {side} {kind}: {out[f'{kind} {side}']['samples']} worker samples "
                      f"({run.rps:.1f} req/s under py-spy)", flush=True)
    return out


# --- import ------------------------------------------------------------------------------------


def import_bench(args) -> dict:
    empty = ensure_empty(args.rebuild)
    csv_path = ensure_csv(args.import_rows)
    print(f"file: {csv_path.relative_to(BENCH.parent)} ({args.import_rows:,} rows, "
          f"{csv_path.stat().st_size / 2**20:.1f} MiB, written by bench/make_import_csv.py)", flush=True)
    work = RESULTS / "run-import-protected"
    copy_data_dir(empty, work)
    before = load()
    protected = run_task("import_protected", work, {"csv": str(csv_path), "owner": "rep01"}, timeout=1800)
    protected["load_before"] = before
    print(f"  protected customers_import ({protected['workers']} workers): {protected['rows']:,} rows in "
          f"{protected['seconds']:.1f} s = {protected['rows_per_s']:,.0f} rows/s", flush=True)
    copy_data_dir(empty, work)
    single = run_task("import_protected", work, {"csv": str(csv_path), "owner": "rep01", "workers": 0}, timeout=1800)
    print(f"  protected customers_import (in one process): {single['rows']:,} rows in {single['seconds']:.1f} s = "
          f"{single['rows_per_s']:,.0f} rows/s", flush=True)
    copy_data_dir(empty, work)
    floor = run_task("import_floor", work, {"csv": str(csv_path), "owner": "rep01"}, timeout=1800)
    print(f"  its database work alone (rows prepared in advance): {floor['rows']:,} rows inserted and committed in "
          f"{floor['seconds']:.1f} s = {floor['rows_per_s']:,.0f} rows/s", flush=True)
    work = RESULTS / "run-import-plain"
    copy_data_dir(empty, work)
    before = load()
    rows = 0 if args.iie_rows >= args.import_rows else args.iie_rows
    plain = run_task("import_plain", work, {"csv": str(csv_path), "rows": rows}, timeout=3600)
    plain["load_before"] = before
    print(f"  django-import-export (plain): {plain['rows']:,} rows in {plain['seconds']:.1f} s = "
          f"{plain['rows_per_s']:,.0f} rows/s", flush=True)
    out = {"rows": args.import_rows, "csv": csv_path.name, "protected": protected, "single": single, "floor": floor,
           "plain": plain,
           "ratio": round(protected["rows_per_s"] / plain["rows_per_s"], 2)}
    if args.profile:
        out["profile"] = profile_import(empty, args)
    return out


def profile_import(empty: Path, args) -> dict | None:
    """py-spy over customers_import of a smaller file (the per-row costs do not depend on the size)."""
    if spy.available() is None:
        print("  (py-spy not installed: .venv/bin/pip install py-spy — skipping the import profile)", flush=True)
        return None
    rows = min(args.iie_rows, args.import_rows)
    csv_path = ensure_csv(rows)
    work = RESULTS / "run-import-profile"
    copy_data_dir(empty, work)
    raw = RESULTS / "profile-import.txt"
    # In this process (workers=0): the breakdown is of one process's stacks.
    cmd = [PY, str(BENCH / "tasks.py"), "import_protected",
           json.dumps({"csv": str(csv_path), "owner": "rep01", "workers": 0})]
    code = spy.record_command(cmd, raw, bench_env(work), BENCH.parent)
    if code != 0 or not raw.exists():
        print(f"  (import profile failed, exit {code})", flush=True)
        return None
    result = spy.breakdown(raw, spy.IMPORT_STEPS, within="customers_import (", idle="-",
                           other="other (ORM, loops, Django)") | {"rows": rows}
    print(f"  profiled customers_import of {rows:,} rows: {result['samples']} samples", flush=True)
    return result


# --- monitoring ----------------------------------------------------------------------------------

MONITOR_DETAIL = "/api/v1/customers/{id}/"


def redis_reachable(url: str) -> bool:
    if not url:
        return False
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no Redis for this run
        return False


def monitor_bench(args) -> dict:
    """The inline detectors' cost per request: the customer detail of the API on one database,
    served by gunicorns that differ only in CUSTODIA_MONITOR_ENABLED (and the store), measured in
    rotated rounds; then the time from a request that crosses a threshold to its alert, and the
    replay throughput of ``history.run``."""
    import shutil
    from contextlib import ExitStack

    work = RESULTS / "run-monitor"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    prep = run_task("setup", work, {"detail_customers": 100, "list_reps": 6}, script="monitor.py", quiet=True)
    print(f"database: {len(prep['ids'])} customers of {prep['user']} made through customer_create (the detail "
          f"requests; fewer than the 150-in-5-minutes threshold, so nothing is stopped), {len(prep['pagers'])} reps "
          f"with 200 plain rows each (paged through until refused); set up in {prep['seconds']} s", flush=True)
    redis_url = "" if args.monitor_redis == "off" else args.monitor_redis
    variants = {"off": {"CUSTODIA_MONITOR_ENABLED": "false", "CUSTODIA_MONITOR_REDIS": "off"},
                "database": {"CUSTODIA_MONITOR_ENABLED": "true", "CUSTODIA_MONITOR_REDIS": "off"}}
    if redis_reachable(redis_url):
        variants["redis"] = {"CUSTODIA_MONITOR_ENABLED": "true", "CUSTODIA_MONITOR_REDIS": redis_url}
    else:
        print(f"  (Redis at {redis_url or '(off)'} not reachable: the Redis store is not measured)", flush=True)
    out: dict = {"endpoint": MONITOR_DETAIL, "user": prep["user"], "customers": len(prep["ids"]),
                 "workers": args.workers, "concurrency": args.concurrency, "rounds": args.rounds,
                 "duration": args.duration, "variants": list(variants), "redis": redis_url if "redis" in variants
                 else None}
    pick = picker(MONITOR_DETAIL, 0, prep["ids"])
    names = list(variants)
    with ExitStack() as stack:
        servers = {}
        for name, env in variants.items():
            server = stack.enter_context(Server(work, workers=args.workers, env=env, name=f"gunicorn-{name}"))
            server.start("/login/", prep["token"])
            servers[name] = server
        print(f"gunicorn ×{len(servers)} ({args.workers} sync workers each, same database): "
              + ", ".join(f"{n} on {s.base_url}" for n, s in servers.items()), flush=True)
        for name, server in servers.items():
            warm = loadgen.run(f"warm {name}", server.base_url, prep["token"], pick, concurrency=args.concurrency,
                               duration=args.warmup, max_requests=100_000, seed=args.seed)
            if warm.ok == 0:
                raise SystemExit(f"the detail with monitoring {name} does not answer 200: {warm.statuses}")
        totals = {name: loadgen.RunResult(name) for name in names}
        rounds = []
        for n in range(args.rounds):
            order = names[n % len(names):] + names[: n % len(names)]  # rotated: each goes first in turn
            row = {}
            for name in order:
                run = loadgen.run(f"detail {name}", servers[name].base_url, prep["token"], pick,
                                  concurrency=args.concurrency, duration=args.duration,
                                  max_requests=args.max_requests, seed=args.seed + 100 * n)
                totals[name].merge(run)
                row[name] = summarise(run) | {"load_before": load()}
            rounds.append(row)
            print(f"  round {n + 1}: " + " | ".join(
                f"{name} {row[name]['rps']:6.1f}/s p50 {row[name]['p50_ms']:5.1f} ms" for name in names), flush=True)
        out["overhead"] = {name: summarise(total) for name, total in totals.items()}
        out["overhead"]["rounds"] = rounds
        off = out["overhead"]["off"]
        for name in names[1:]:
            on = out["overhead"][name]
            per_round = sorted(r[name]["p50_ms"] / r["off"]["p50_ms"] for r in rounds)
            out["overhead"][name] |= {"p50_ratio": round(on["p50_ms"] / off["p50_ms"], 3),
                                      "time_ratio": round(off["rps"] / on["rps"], 3),
                                      "round_p50_ratios": [round(per_round[0], 2), round(per_round[-1], 2)]}
        out["inprocess"] = run_task("inline_cost", work, {"token": prep["token"], "ids": prep["ids"],
                                                          "redis": variants.get("redis", {}).get(
                                                              "CUSTODIA_MONITOR_REDIS", "")},
                                    script="monitor.py", quiet=True)
        out["state_after_overhead"] = run_task("state", work, script="monitor.py", quiet=True)
        pagers = list(prep["pagers"].items())
        out["alert_latency"] = {}
        for i, name in enumerate(names[1:]):
            chosen = dict(pagers[i * 3:(i + 1) * 3])
            out["alert_latency"][name] = run_task("alert_latency", work, {"base_url": servers[name].base_url,
                                                                          "pagers": chosen}, script="monitor.py",
                                                  quiet=True)
            lat = out["alert_latency"][name]
            print(f"  time to alert ({name} store): median {lat['median_ms']:.1f} ms, max {lat['max_ms']:.1f} ms "
                  f"(the refused request itself: median {lat['request_median_ms']:.1f} ms)", flush=True)
    out["replay"] = run_task("replay", work, {"events": args.monitor_events, "seed": args.seed}, script="monitor.py",
                             timeout=1800)
    return out


# --- report ------------------------------------------------------------------------------------


def audit_bench(args) -> dict:
    """The Merkle audit log side by side with pymerkle (SQLite backend), each in a fresh data dir."""
    out = {}
    for name, task, task_args in (
            ("context", "context", {"seed": args.seed}),
            ("custodia", "custodia", {"events": args.audit_events, "seed": args.seed}),
            ("big", "big", {"leaves": args.audit_big, "seed": args.seed})):
        work = RESULTS / f"run-audit-{name}"
        if work.exists():
            import shutil

            shutil.rmtree(work)
        work.mkdir(parents=True)
        out.update(run_task(task, work, task_args, script="audit_log.py"))
    out["per_request_vs_pymerkle"] = round(out["one_per_request_per_s"] / out["pymerkle_commit_per_entry_per_s"], 2)
    c = out
    print(f"  context: SHA-256 {c['sha256_per_s']:,.0f}/s, frontier append {c['frontier_append_per_s']:,.0f}/s, "
          f"SQLite executemany {c['sqlite_executemany_per_s']:,.0f} rows/s, one commit a row "
          f"{c['sqlite_commit_per_row_per_s']:,.0f}/s", flush=True)
    print(f"  pymerkle: bulk {c['pymerkle_bulk_append_per_s']:,.0f}/s, one commit an entry "
          f"{c['pymerkle_commit_per_entry_per_s']:,.0f}/s, proofs warm {c['pymerkle_proofs_warm_per_s']:,.0f}/s, "
          f"cold {c['pymerkle_proofs_cold_per_s']:,.0f}/s (size {c['pymerkle_size']:,})", flush=True)
    return out


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict) -> str:
    m = results["machine"]
    lines = [f"Custodia benchmark {results['date']} at {results.get('revision', '?')} — {m['cores']} cores / {m['memory_gb']} GB ({m['cpu']}), "
             f"Python {m['python']}, SQLite {m['sqlite']} (WAL), {m['os']}"]
    p = results.get("primitives")
    if p:
        lines += ["", "Primitives (µs per call, best of 5):",
                  f"  AES-256-GCM decrypt of one field: {p['aes_gcm_decrypt_raw_us']:.2f} raw, "
                  f"{p['field_decrypt_keybag_us']:.2f} through KeyBag.decrypt, "
                  f"{p['field_decrypt_and_mask_us']:.2f} decrypt + mask",
                  f"  blind index HMAC-SHA256 of one value: {p['blind_index_hmac_raw_us']:.2f} raw, "
                  f"{p['blind_index_call_us']:.2f} through blind_index()",
                  f"  KeyBag.load of 50 data keys (query + unwrap): {p['keybag_load_50_subjects_us'] / 1000:.2f} ms"]
    h = results.get("http")
    if h:
        lines += ["", f"HTTP — gunicorn {h['workers']} sync workers on loopback, {h['concurrency']} closed-loop "
                  f"clients, {h['rounds']} × {h['duration']:.0f} s per side, A/B alternated; user {h['user']} "
                  f"({h['role']}, scope {h['scope']}: {h['in_scope']:,} customers, {h['pages']} pages)",
                  f"  {'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
        for kind, ep in h["endpoints"].items():
            for side in ("protected", "plain"):
                s = ep[side]
                lines.append(f"  {kind + ' ' + side:28} {s['rps']:8.1f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} "
                             f"{s['errors']:7d}")
            rr = ep.get("round_ratios")
            spread = f" (rounds {rr['min']:.2f}–{rr['max']:.2f}, median {rr['median']:.2f})" if rr else ""
            lines.append(f"  {kind + ' protected/plain':28} {ep['ratio_rps']:7.2f}× {'':8} {ep['ratio_p99']:7.2f}×"
                         f"   throughput aim ≥ {AIM_RATIO}×: {verdict(ep['ratio_rps'] >= AIM_RATIO)}{spread}; "
                         f"p99 aim ≤ {AIM_P99}×: {verdict(ep['ratio_p99'] <= AIM_P99)}")
        sc = h.get("scopes")
        if sc:
            c, a = sc["constrained"], sc["admin"]
            lines += [f"  list under the most constrained role vs the administrator (aim ≤ {AIM_SCOPE}× the time):",
                      f"    {c['user']} ({c['role']}, {c['in_scope']:,} customers) {c['rps']:8.1f} req/s "
                      f"p50 {c['p50_ms']:.2f} ms p99 {c['p99_ms']:.2f} ms",
                      f"    {a['user']} ({a['role']}, {a['in_scope']:,} customers) {a['rps']:8.1f} req/s "
                      f"p50 {a['p50_ms']:.2f} ms p99 {a['p99_ms']:.2f} ms",
                      f"    time ratio {sc['time_ratio_mean']:.2f}× (mean), {sc['time_ratio_p50']:.2f}× (p50): "
                      f"{verdict(sc['time_ratio_mean'] <= AIM_SCOPE)}"]
        lines.append(f"  audit events written by the protected requests: {h['audit_events_written']:,} "
                     f"for {h['protected_requests_ok']:,} protected 200 responses")
        for name, prof in (h.get("profile") or {}).items():
            lines += ["", f"  where the workers' time goes — {name} (py-spy, {prof['samples']} samples, "
                      f"{prof['rps_while_profiled']} req/s while sampled):"]
            lines += [f"    {r['pct_of_worker_time']:5.1f}%  {r['step']}"
                      + (f"  ({r['in_sqlite_pct']:.0f}% of it inside SQLite)" if r["in_sqlite_pct"] else "")
                      for r in prof["steps"] if r["pct_of_worker_time"] >= 0.5]
        for path, part in (h.get("inprocess") or {}).items():
            lines += ["", f"  one request in-process, {path}: {part['ms_per_request']:.2f} ms "
                      f"({part['instrumented_ms']:.2f} ms instrumented); inclusive parts:"]
            lines += [f"    {p['ms']:8.3f} ms  {p['calls']:6.2f}×  {p['what']}" for p in part["parts"] if p["ms"] >= 0.05]
    i = results.get("import")
    if i:
        pr, pl, one = i["protected"], i["plain"], i.get("single")
        lines += ["", f"Import — {i['rows']:,}-row CSV into a fresh database",
                  f"  protected customers_import:     {pr['rows']:>7,} rows {pr['seconds']:7.1f} s "
                  f"{pr['rows_per_s']:9,.0f} rows/s  ({pr.get('workers', '?')} worker processes)"]
        if one:
            lines.append(f"  the same, in one process:       {one['rows']:>7,} rows {one['seconds']:7.1f} s "
                         f"{one['rows_per_s']:9,.0f} rows/s")
        fl = i.get("floor")
        if fl:
            lines.append(f"  its database work alone:        {fl['rows']:>7,} rows {fl['seconds']:7.1f} s "
                         f"{fl['rows_per_s']:9,.0f} rows/s  (rows prepared in advance; inserts + commit: the ceiling)")
        lines += [f"  django-import-export (plain):   {pl['rows']:>7,} rows {pl['seconds']:7.1f} s "
                  f"{pl['rows_per_s']:9,.0f} rows/s",
                  f"  ratio {i['ratio']:.2f}×   aim ≥ {AIM_IMPORT_RPS:,} rows/s: "
                  f"{verdict(pr['rows_per_s'] >= AIM_IMPORT_RPS)}; aim ≥ {AIM_IMPORT_RATIO}×: "
                  f"{verdict(i['ratio'] >= AIM_IMPORT_RATIO)}"]
        prof = i.get("profile")
        if prof:
            lines += ["", f"  where customers_import spends its time (py-spy, {prof['rows']:,} rows, "
                      f"{prof['samples']} samples):"]
            lines += [f"    {r['pct_of_worker_time']:5.1f}%  {r['step']}"
                      + (f"  ({r['in_sqlite_pct']:.0f}% of it inside SQLite)" if r["in_sqlite_pct"] else "")
                      for r in prof["steps"] if r["pct_of_worker_time"] >= 0.5]
    a = results.get("audit")
    if a:
        lines += ["", "Audit log — RFC 9162 Merkle log on SQLite (WAL), side by side with pymerkle 7.0.0 (SqliteTree)",
                  f"  context: SHA-256 {a['sha256_per_s']:,.0f}/s; compact-frontier append {a['frontier_append_per_s']:,.0f}/s; "
                  f"SQLite executemany {a['sqlite_executemany_per_s']:,.0f} rows/s, one commit a row "
                  f"{a['sqlite_commit_per_row_per_s']:,.0f}/s",
                  f"  pymerkle: bulk append {a['pymerkle_bulk_append_per_s']:,.0f}/s; one commit an entry "
                  f"{a['pymerkle_commit_per_entry_per_s']:,.0f}/s; proofs warm {a['pymerkle_proofs_warm_per_s']:,.0f}/s, "
                  f"cold {a['pymerkle_proofs_cold_per_s']:,.0f}/s",
                  f"  batched append with persistence (sequencer, {a['sequencer_events']:,} events): "
                  f"{a['sequencer_append_per_s']:,.0f}/s — aim ≥ {AIM_APPEND:,}: "
                  f"{verdict(a['sequencer_append_per_s'] >= AIM_APPEND)}",
                  f"  events written one per request (a commit each): {a['one_per_request_per_s']:,.0f}/s, "
                  f"{a['per_request_vs_pymerkle']:.2f}× pymerkle — aim ≥ {AIM_PER_REQUEST:,}/s: "
                  f"{verdict(a['one_per_request_per_s'] >= AIM_PER_REQUEST)}, ≥ {AIM_PER_REQUEST_VS_PYMERKLE}×: "
                  f"{verdict(a['per_request_vs_pymerkle'] >= AIM_PER_REQUEST_VS_PYMERKLE)}",
                  f"  events written in batches (bulk import path, leaf hash and insert): "
                  f"{a['batched_write_per_s']:,.0f}/s",
                  f"  inclusion proofs cold from the database: {a['proofs_cold_per_s']:,.0f}/s at "
                  f"{a['proof_size']:,} leaves ({a['proof_hashes_avg']} hashes), {a['big_proofs_cold_per_s']:,.0f}/s "
                  f"at {a['big_proof_size']:,} leaves ({a['big_proof_hashes_avg']} hashes) — aim ≥ {AIM_PROOFS:,}/s: "
                  f"{verdict(min(a['proofs_cold_per_s'], a['big_proofs_cold_per_s']) >= AIM_PROOFS)}; "
                  f"by event id with lookup and check {a['proof_by_event_id_per_s']:,.0f}/s",
                  f"  full verification of {a['verify_leaves']:,} events: {a['verify_seconds']:.2f} s "
                  f"(intact: {a['verify_ok']}) — aim ≤ {AIM_VERIFY_1M} s for 1M: "
                  f"{verdict(a['verify_seconds'] <= AIM_VERIFY_1M * a['verify_leaves'] / 1_000_000)}"]
    mon = results.get("monitor")
    if mon:
        ov = mon["overhead"]
        lines += ["", f"Monitoring — inline detectors, API detail of {mon['customers']} customers as {mon['user']}, "
                  f"gunicorn {mon['workers']} sync workers per variant on one database, {mon['concurrency']} clients, "
                  f"{mon['rounds']} rotated rounds × {mon['duration']:.0f} s",
                  f"  {'monitoring':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'p50 ratio':>10} "
                  f"{'time ratio':>11}"]
        for name in mon["variants"]:
            s = ov[name]
            label = "off" if name == "off" else f"on, {name} store"
            ratios = "" if name == "off" else (f"{s['p50_ratio']:9.2f}× {s['time_ratio']:10.2f}×   aim ≤ "
                                               f"{AIM_MONITOR}×: {verdict(s['p50_ratio'] <= AIM_MONITOR)} (rounds "
                                               f"{s['round_p50_ratios'][0]:.2f}–{s['round_p50_ratios'][1]:.2f})")
            lines.append(f"  {label:22} {s['rps']:8.1f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {s['errors']:7d} {ratios}")
        ip = mon.get("inprocess")
        if ip:
            lines.append(f"  in-process (test client, no server; best / median of {ip['rounds']} batches of "
                         f"{ip['requests_per_batch']}), ms per request and inside inline.check:")
            for name in mon["variants"]:
                v = ip[name]
                extra = "" if name == "off" else (f"   ratio {v['ratio_best']:.2f}× best, {v['ratio_median']:.2f}× "
                                                  f"median; inline.check {v['check_ms']:.3f} ms a call")
                lines.append(f"    {name:10} {v['best_ms']:7.2f} / {v['median_ms']:7.2f} ms{extra}")
        st = mon["state_after_overhead"]
        lines.append(f"  requests stopped during these runs: {st['interventions']} (alerts {st['alerts']})")
        for name, lat in mon["alert_latency"].items():
            lines.append(f"  time from the request crossing 150 viewed in 5 min to its alert in the database "
                         f"({name} store): median {lat['median_ms']:.1f} ms, max {lat['max_ms']:.1f} ms over "
                         f"{len(lat['samples'])} reps (the refused request: median {lat['request_median_ms']:.1f} ms)")
        r = mon["replay"]
        lines.append(f"  replay, history.run with the {r['rules']} shipped rules over {r['events']:,} events "
                     f"({r['source']}): {r['events_per_s']:,.0f} events/s ({r['alerts']:,} alerts); from "
                     f"{r['jsonl_mib']:.0f} MiB of JSON lines (read_lines + run, as custodia monitor replay): "
                     f"{r['jsonl_events_per_s']:,.0f} events/s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Custodia side-by-side benchmarks (see bench/README.md).")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds per endpoint (default 5)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per endpoint and side")
    parser.add_argument("--concurrency", type=int, default=4, help="closed-loop clients (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per measured run")
    parser.add_argument("--user", default="manager01", help="benchmark user (default manager01, a sales manager)")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--iie-rows", type=int, default=20_000,
                        help="rows for django-import-export (default 20,000: it is slow and its rate does not depend on the size)")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--audit-events", type=int, default=1_000_000, help="events in the audit-log benchmark")
    parser.add_argument("--audit-big", type=int, default=10_000_000, help="leaves of the large proof benchmark")
    parser.add_argument("--skip-monitor", action="store_true")
    parser.add_argument("--monitor-events", type=int, default=200_000, help="events in the replay benchmark")
    parser.add_argument("--monitor-redis", default="redis://127.0.0.1:6379/13",
                        help="Redis for the monitor's Redis store (default db 13 on loopback; 'off' skips it)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached databases")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the workers with py-spy and split one request in-process")
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    args = parser.parse_args()
    random.seed(args.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
               "revision": revision(), "args": vars(args)}
    if not args.skip_http:  # the 100k-customer database serves the primitives and HTTP
        section("database")
        db, info = ensure_db(CUSTOMERS, args.rebuild)
        results["database"] = {"path": db.name, "built": info["built"]}
        work = RESULTS / "run-http"  # a fresh copy: the audit events of this run go here
        copy_data_dir(db, work)
        section("primitives")
        results["primitives"] = run_task("primitives", work, quiet=True)
        print(json.dumps(results["primitives"]), flush=True)
    if not args.skip_http:
        section("HTTP: protected API vs plain DRF")
        results["http"] = http_bench(work, args)
    if not args.skip_import:
        section("import: customers_import vs django-import-export")
        results["import"] = import_bench(args)
    if not args.skip_audit:
        section("audit log: Custodia's Merkle log vs pymerkle (SQLite)")
        results["audit"] = audit_bench(args)
    if not args.skip_monitor:
        section("monitoring: inline detectors on vs off, time to alert, replay")
        results["monitor"] = monitor_bench(args)
    results["seconds"] = round(time.perf_counter() - started, 1)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    names = ("latest.json", f"bench-{stamp}.json")
    for name in names:
        (RESULTS / name).write_text(json.dumps(results, ensure_ascii=False, indent=2))
    text = report(results)
    (RESULTS / "latest.txt").write_text(text + "\n")
    section(f"summary (total {results['seconds']:.0f} s; JSON in bench/results/{names[0]})")
    print(text, flush=True)


if __name__ == "__main__":
    main()

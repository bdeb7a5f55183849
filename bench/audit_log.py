"""Audit-log benchmark tasks (issue 4), side by side with pymerkle's SQLite backend in one run:

    python bench/audit_log.py TASK '{"json": "args"}'

with CUSTODIA_DATA_DIR pointing at a fresh benchmark data dir (``run.py`` does this). Prints one
line ``BENCH-RESULT {json}``; anything else is progress.

- ``context``: raw SHA-256, an RFC 9162 compact-frontier append in pure Python, SQLite
  executemany in one transaction and at one commit a row; pymerkle bulk appends, appends at one
  commit an entry, inclusion proofs warm and cold.
- ``custodia``: events written one per request (a transaction and commit each, like a request);
  a million events written in batches, then integrated by the sequencer (the batched append with
  persistence); inclusion proofs cold from the database; full verification of the million.
- ``big``: ten million leaves in tiles (synthetic leaf hashes), proofs cold at that size.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from tasks import main, say, task  # noqa: E402  (sets Django up; the same task protocol)


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds else 0.0


@task
def context(pymerkle_bulk: int = 200_000, commits: int = 2_000, proofs: int = 2_000, seed: int = 1) -> dict:
    from pymerkle import SqliteTree

    from custodia.audit import merkle

    rng = random.Random(seed)
    out = {}
    data = [rng.randbytes(64) for _ in range(1_000_000)]
    started = time.perf_counter()
    sha = hashlib.sha256
    for item in data:
        sha(item).digest()
    out["sha256_per_s"] = rate(len(data), time.perf_counter() - started)
    leaves = [merkle.leaf_hash(item) for item in data]
    started = time.perf_counter()
    merkle.Frontier().extend(leaves)
    out["frontier_append_per_s"] = rate(len(leaves), time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(Path(tmp) / "raw.sqlite3")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, h BLOB)")
        rows = [(i, leaves[i]) for i in range(500_000)]
        started = time.perf_counter()
        with con:
            con.executemany("INSERT INTO t VALUES (?, ?)", rows)
        out["sqlite_executemany_per_s"] = rate(len(rows), time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(commits):
            with con:
                con.execute("INSERT INTO t VALUES (?, ?)", (1_000_000 + i, leaves[i]))
        out["sqlite_commit_per_row_per_s"] = rate(commits, time.perf_counter() - started)
        con.close()

        say(f"  pymerkle {pymerkle_bulk:,} bulk appends …")
        tree = SqliteTree(str(Path(tmp) / "pymerkle.db"))
        entries = data[:pymerkle_bulk]
        started = time.perf_counter()
        tree.append_entries(entries)
        out["pymerkle_bulk_append_per_s"] = rate(len(entries), time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(commits):
            tree.append_entry(data[pymerkle_bulk + i])
        out["pymerkle_commit_per_entry_per_s"] = rate(commits, time.perf_counter() - started)
        size = tree.get_size()
        indexes = [rng.randrange(1, size + 1) for _ in range(proofs)]
        started = time.perf_counter()
        for index in indexes:
            tree.prove_inclusion(index, size)
        out["pymerkle_proofs_warm_per_s"] = rate(proofs, time.perf_counter() - started)
        cold = indexes[: max(proofs // 4, 1)]
        started = time.perf_counter()
        for index in cold:
            tree.cache_clear()
            tree.prove_inclusion(index, size)
        out["pymerkle_proofs_cold_per_s"] = rate(len(cold), time.perf_counter() - started)
        out["pymerkle_size"] = size
        tree.close()
    return out


def _actor():
    """A sales rep (an unsaved user: the audit record needs only its id, name and role)."""
    from custodia.access.models import User
    from custodia.kernel.actor import Actor

    return Actor(user=User(pk=uuid.uuid4(), username="rep01", role="rep"))


@task
def custodia(events: int = 1_000_000, per_request_seconds: float = 5.0, proofs: int = 5_000, seed: int = 1) -> dict:
    from custodia.audit import proofs as audit_proofs
    from custodia.audit import sequencer, tiles, verify
    from custodia.audit.services import audit_record, audit_record_many
    from custodia.customers import events as customer_events

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    actor = _actor()
    subjects = [uuid.uuid4() for _ in range(5_000)]
    fields = ["name", "mobile", "email", "tier", "stage"]
    out = {}

    # 1. One event per request: a transaction and a commit each.
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < per_request_seconds:
        subject = rng.choice(subjects)
        with transaction.atomic():
            audit_record(actor=actor, event=customer_events.CUSTOMER_VIEWED, target_type="customer",
                         target_id=subject, subject_id=subject, fields=fields)
        n += 1
    out["one_per_request_per_s"] = rate(n, time.perf_counter() - started)
    say(f"  one event per request: {out['one_per_request_per_s']:,.0f}/s")

    # 2. A million events written in batches (the import path), then integrated by the sequencer.
    remaining = events - n
    batch = 20_000
    started = time.perf_counter()
    while remaining > 0:
        count = min(batch, remaining)
        with transaction.atomic():
            audit_record_many([dict(actor=actor, event=customer_events.CUSTOMER_VIEWED, target_type="customer",
                                    target_id=s, subject_id=s, fields=fields)
                               for s in (rng.choice(subjects) for _ in range(count))])
        remaining -= count
    out["batched_write_per_s"] = rate(events - n, time.perf_counter() - started)
    say(f"  {events:,} events written in batches: {out['batched_write_per_s']:,.0f}/s; integrating …")
    started = time.perf_counter()
    integrated = sequencer.integrate()
    seconds = time.perf_counter() - started
    out["sequencer_events"] = integrated
    out["sequencer_append_per_s"] = rate(integrated, seconds)
    say(f"  sequencer: {integrated:,} events in {seconds:.2f} s = {out['sequencer_append_per_s']:,.0f}/s")
    size = sequencer.log_state().size

    # 3. Proofs, cold: a fresh tile reader per proof (nothing cached), from the database.
    out.update(_proof_rates(size, proofs, rng))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM audit_auditevent ORDER BY random() LIMIT %s", [min(proofs, 2_000)])
        ids = [r[0] for r in cursor.fetchall()]
    started = time.perf_counter()
    for event_id in ids:
        audit_proofs.inclusion(event_id, size)
    out["proof_by_event_id_per_s"] = rate(len(ids), time.perf_counter() - started)
    say(f"  proofs cold at {size:,}: {out['proofs_cold_per_s']:,.0f}/s by leaf index, "
        f"{out['proof_by_event_id_per_s']:,.0f}/s by event id (lookup, proof, check)")

    # 4. Full verification.
    connection.close()
    started = time.perf_counter()
    report = verify.verify_log()
    out["verify_seconds"] = round(time.perf_counter() - started, 2)
    out["verify_ok"] = report.ok
    out["verify_leaves"] = report.leaves_checked
    say(f"  full verification of {report.size:,} leaves: {out['verify_seconds']} s (ok={report.ok})")
    out["size"] = size
    out["tiles"] = tiles.WIDTH
    return out


def _proof_rates(size: int, proofs: int, rng: random.Random) -> dict:
    from custodia.audit import merkle, tiles

    indexes = [rng.randrange(size) for _ in range(proofs)]
    lengths, started = [], time.perf_counter()
    with transaction.atomic():
        for index in indexes:
            lengths.append(len(tiles.Tiles().inclusion_proof(index, size)))
    seconds = time.perf_counter() - started
    root = tiles.Tiles().root(size)
    store = tiles.Tiles()
    for index in indexes[:200]:  # the proofs are right (checked outside the timing)
        merkle.verify_inclusion(store.nodes([(0, index)])[0], index, size, store.inclusion_proof(index, size), root)
    return {"proofs_cold_per_s": rate(proofs, seconds), "proof_hashes_avg": round(sum(lengths) / len(lengths), 1),
            "proof_size": size}


@task
def big(leaves: int = 10_000_000, proofs: int = 5_000, seed: int = 1) -> dict:
    """Ten million synthetic leaves straight into tiles (no events): proofs cold at that size."""
    from custodia.audit import tiles

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    chunk, size, started = 1_000_000, 0, time.perf_counter()
    while size < leaves:
        n = min(chunk, leaves - size)
        blob = os.urandom(32 * n)
        with transaction.atomic():
            size = tiles.append(tiles.Tiles(), size, [blob[i:i + 32] for i in range(0, len(blob), 32)],
                                range(size + 1, size + n + 1))
        say(f"  {size:,} leaves in tiles")
    out = {"big_build_seconds": round(time.perf_counter() - started, 1), "big_size": size}
    out.update({f"big_{k}": v for k, v in _proof_rates(size, proofs, rng).items()})
    return out


if __name__ == "__main__":
    main()

"""Invariant 1: no plaintext of a protected field at rest.

Seeds the demo data, exercises reads, reveals and edits, then reads the raw database — the
SQLite file's bytes (and its WAL), or ``pg_dump`` on PostgreSQL — plus the job queue and the
captured logs, and finds none of the seeded phones, ID numbers, USCCs, emails or bank numbers.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from custodia.customers import selectors, services
from custodia.customers.models import Customer
from custodia.demo import loader
from custodia.demo.generator import generate_customers, generate_org
from custodia.kernel.actor import Actor
from tests.conftest import require_component

COUNT = 2000
DIGITS = re.compile(rb"\d{11,19}")
EMAILS = re.compile(rb"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IDS = re.compile(rb"[0-9A-Z]{18}")


def _needles() -> tuple[set[bytes], set[bytes], set[bytes]]:
    digits, emails, ids = set(), set(), set()
    for spec in generate_customers(generate_org(), count=COUNT):
        digits.add(spec.mobile.encode())
        ids.add(spec.identifier.encode())
        if spec.bank_account:
            digits.add(spec.bank_account.encode())
        if spec.email:
            emails.add(spec.email.lower().encode())
        for contact in spec.contacts:
            digits.add(contact.mobile.encode())
            if contact.email:
                emails.add(contact.email.lower().encode())
    return digits, emails, ids


def _raw_database() -> bytes:
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    pg_dump = shutil.which("pg_dump")
    require_component(bool(pg_dump), "pg_dump (PostgreSQL client)")
    s = connection.settings_dict
    cmd = [pg_dump, "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"] or "postgres",
           "--data-only", s["NAME"]]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def _queue_bytes() -> bytes:
    """Everything in the job queue's storage: the SQLite queue file, or every key in Redis."""
    from huey.contrib.djhuey import HUEY

    conn = getattr(HUEY.storage, "conn", None)
    if conn is not None and hasattr(conn, "scan_iter"):
        out = []
        for key in conn.scan_iter():
            kind = conn.type(key)
            if kind == b"list":
                out.extend(conn.lrange(key, 0, -1))
            elif kind == b"hash":
                out.extend(v for kv in conn.hgetall(key).items() for v in kv)
            elif kind == b"zset":
                out.extend(conn.zrange(key, 0, -1))
            elif kind == b"string":
                out.append(conn.get(key))
        return b"".join(out)
    queue = Path(settings.HUEY.get("filename", "/nonexistent"))
    return queue.read_bytes() if queue.exists() else b""


def _leaks(blob: bytes, digits, emails, ids) -> set[bytes]:
    found = set()
    for run in DIGITS.findall(blob):
        # A national mobile may sit inside "+86…" (E.164) — check every 11-digit window too.
        windows = {run} | {run[i:i + 11] for i in range(len(run) - 10)}
        found |= windows & digits
    found |= {e.lower() for e in EMAILS.findall(blob)} & emails
    found |= set(IDS.findall(blob)) & ids
    return found


@pytest.mark.django_db(transaction=True)
def test_database_queue_and_logs_hold_no_protected_plaintext(caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    loader.seed_org()
    assert loader.seed_customers(COUNT) == COUNT
    # Exercise the read and write paths that write audit events with details.
    rep = Actor.for_user(Customer.objects.order_by("created_at").first().owner)
    page = selectors.customer_list(rep, page=1)
    first = page.rows[0]
    selectors.customer_get(rep, first.id)
    revealed = services.field_reveal(actor=rep, customer_id=first.id, field="mobile", purpose="contact_customer")
    assert selectors.customer_list(rep, q=revealed).rows[0].id == first.id  # identifier search
    services.customer_update(actor=rep, customer_id=first.id, data={"email": "changed.value@example.com"})

    digits, emails, ids = _needles()
    assert revealed[3:].encode() in digits  # the needles are the seeded values
    blob = _raw_database()
    assert len(blob) > 100_000
    assert _leaks(blob, digits, emails, ids) == set()
    assert _leaks(b"changed.value@example.com", set(), {b"changed.value@example.com"}, set())  # detector works
    assert b"changed.value@example.com" not in blob

    assert _leaks(_queue_bytes(), digits, emails, ids) == set()
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert _leaks(logs, digits, emails, ids) == set()

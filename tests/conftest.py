"""Shared fixtures. Real components only: SQLite or PostgreSQL (DATABASE_URL), a real keyring
file per test session, Chromium for browser tests (skipped with a message off CI)."""

from __future__ import annotations

import os
import shutil

import pytest

from custodia.testing.factories import make_customer, make_org

CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True, scope="session")
def _keyring(tmp_path_factory):
    from django.conf import settings

    settings.CUSTODIA_KEYRING_PATH = str(tmp_path_factory.mktemp("keys") / "keyring.json")
    # Fast password hashing for test users only; production keeps Django's PBKDF2 default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture(autouse=True)
def _audit_witness(tmp_path, settings):
    """Each test publishes signed tree heads to its own witness file: a head published by another
    test (whose database was rolled back) would rightly look like a rolled-back log."""
    settings.CUSTODIA_AUDIT_WITNESSES = [f"file:{tmp_path / 'audit-witness.jsonl'}"]


@pytest.fixture(autouse=True)
def _monitor_state():
    """Each test starts with the detectors' rules re-read and, on Redis, no counters left by an
    earlier test (the database store is rolled back with the test)."""
    from custodia.monitor.inline import LIVE
    from custodia.monitor.stores import RedisStore, live_store, reset_live_store

    LIVE.invalidate()
    reset_live_store()
    store = live_store()
    if isinstance(store, RedisStore):
        keys = list(store.client.scan_iter(match=RedisStore.PREFIX + "*", count=1000))
        if keys:
            store.client.delete(*keys)
    yield
    LIVE.invalidate()


@pytest.fixture
def org(db):
    return make_org()


@pytest.fixture
def customer_factory(db):
    return make_customer


def require_component(available: bool, what: str):
    """Skip with a clear message on a developer machine; fail under CI=true."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require_component(bool(path), "Debian's chromium package (/usr/bin/chromium)")
    return path


def _allow_test_flush_of_audit_events():
    """Test databases are emptied between transactional tests; the append-only trigger refuses
    DELETE on audit events unless a maintenance window is open. On SQLite the flush is a series of
    DELETEs, so open the window around it (PostgreSQL flushes with TRUNCATE, which row triggers
    do not see). Production code never flushes."""
    from django.db.backends.sqlite3.base import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        sql = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if sql and {"audit_auditevent", "audit_treehead", "audit_prunedrange"} & set(tables):
            sql = ["INSERT INTO audit_maintenance (reason) VALUES ('test database flush')", *sql,
                   "DELETE FROM audit_maintenance"]
        return sql

    DatabaseOperations.sql_flush = sql_flush


_allow_test_flush_of_audit_events()

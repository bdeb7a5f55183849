"""Writing an audit event is atomic with the operation it records (issue 4): a process killed
between the data change and the commit leaves neither the change nor the event, and a failing
audit write fails the operation.

The kill is real: a child process (same interpreter, settings, keyring and test database) runs a
customer update through the service and SIGKILLs itself inside the transaction, once the change
and the event are written (or once the change is, before the event), just before COMMIT. The test
database must be one the child can open: a file for SQLite (custodia.config.env makes the test
database a file), the test database of the server for PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction

from custodia.audit import verify
from custodia.audit.models import AuditEvent
from custodia.audit.services import audit_record_many
from custodia.customers import events, selectors, services
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.testing.factories import make_customer, make_org

CHILD = textwrap.dedent("""
    import json, os, signal, sys

    import django

    django.setup()
    from django.db import connections

    import custodia.customers.services as customer_services
    from custodia.access.models import User
    from custodia.audit.models import AuditEvent
    from custodia.customers.models import Customer
    from custodia.kernel.actor import Actor

    customer_id, username, kill_at = sys.argv[1:4]
    db = connections["default"]
    real_record = customer_services.audit_record

    def open_transaction():
        # Asked of the database driver: is a transaction open on this connection right now?
        if db.vendor == "sqlite":
            return db.connection.in_transaction
        from psycopg.pq import TransactionStatus

        return db.connection.info.transaction_status == TransactionStatus.INTRANS

    def seen():
        customer = Customer.objects.get(pk=customer_id)
        return {"in_transaction": open_transaction(), "name": customer.name, "stage": customer.stage,
                "events": AuditEvent.objects.filter(target_id=customer_id, action="customer.updated").count()}

    def die(where):
        print(json.dumps({"killed": where, **seen()}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    def record(**kwargs):
        if kill_at == "before_audit":
            die("after the data change, before the audit write")
        row = real_record(**kwargs)
        if kill_at == "before_commit":
            db._commit = lambda: die("after the data change and the audit write, before COMMIT")
        return row

    customer_services.audit_record = record
    actor = Actor.for_user(User.objects.get(username=username))
    customer_services.customer_update(actor=actor, customer_id=customer_id,
                                      data={"name": "Killed Before Commit", "stage": "lost"})
    print(json.dumps({"killed": None}), flush=True)  # not reached
""")


def _child_database_url() -> str:
    """The URL of the test database this test runs on, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = db["NAME"]
        assert name and name != ":memory:" and "mode=memory" not in str(name), (
            "the SQLite test database must be a file another process can open")
        return f"sqlite:///{os.path.abspath(name)}"
    assert connection.vendor == "postgresql"
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def _run_child(customer_id, username: str, kill_at: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "custodia.config.settings",
        "DATABASE_URL": _child_database_url(),
        "CUSTODIA_KEYRING": str(settings.CUSTODIA_KEYRING_PATH),
        "CUSTODIA_AUDIT_WITNESSES": f"file:{tmp_path / 'child-witness.jsonl'}",
        "CUSTODIA_CONN_MAX_AGE": "0",
    })
    return subprocess.run([sys.executable, "-c", CHILD, str(customer_id), username, kill_at], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_at", ["before_commit", "before_audit"])
def test_a_process_killed_before_commit_leaves_neither_the_change_nor_the_event(kill_at, tmp_path):
    org = make_org()
    customer = make_customer(org.rep, name="原名客户", stage="active")
    events_before = AuditEvent.objects.count()
    updated_at = customer.updated_at

    child = _run_child(customer.id, org.rep.username, kill_at, tmp_path)

    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stdout, child.stderr)
    seen = json.loads(child.stdout.strip().splitlines()[-1])
    # Inside its transaction the child had made the change (and, before COMMIT, written the event) ...
    assert seen["killed"] and seen["in_transaction"] and seen["name"] == "Killed Before Commit"
    assert seen["stage"] == "lost" and seen["events"] == (1 if kill_at == "before_commit" else 0)
    # ... and after the kill, neither is there.
    customer.refresh_from_db()
    assert (customer.name, customer.stage, customer.updated_at) == ("原名客户", "active", updated_at)
    assert not AuditEvent.objects.filter(target_id=customer.id, action="customer.updated").exists()
    assert AuditEvent.objects.count() == events_before
    report = verify.verify_log()
    assert report.ok and report.pending == events_before, [str(p) for p in report.problems]
    # The same update, not killed, is written with its event (the child's wiring is sound).
    services.customer_update(actor=org.actor("rep"), customer_id=customer.id,
                             data={"name": "Killed Before Commit", "stage": "lost"})
    assert AuditEvent.objects.filter(target_id=customer.id, action="customer.updated").count() == 1


_AUDIT_INSERT = re.compile(r'^\s*INSERT INTO "?audit_auditevent"?', re.IGNORECASE)


def _refuse_audit_inserts(execute, sql, params, many, context):
    """The database refuses to store audit events (as a full disk or a lost connection would)."""
    if _AUDIT_INSERT.match(sql):
        raise OperationalError("audit store unavailable")
    return execute(sql, params, many, context)


@pytest.mark.django_db
class FailingAuditWriteTests:
    """The audit insert fails in the database layer, below ``audit_record`` and the bulk writer
    (whichever way they write: the ORM's save or a prepared INSERT), so the real write path is the
    one that fails: the operation fails with it and leaves nothing behind."""

    def test_create_update_reveal_and_shred_fail_with_their_audit_write(self, org):
        customer = make_customer(org.rep, name="原名客户", stage="active")
        rep = org.actor("rep")
        events_before = AuditEvent.objects.count()
        with connection.execute_wrapper(_refuse_audit_inserts):
            with pytest.raises(DatabaseError, match="audit store unavailable"):
                services.customer_create(actor=rep, data={"kind": "individual", "name": "不应保存"})
            with pytest.raises(DatabaseError, match="audit store unavailable"):
                services.customer_update(actor=rep, customer_id=customer.id, data={"name": "不应改名"})
            with pytest.raises(DatabaseError, match="audit store unavailable"):
                services.field_reveal(actor=rep, customer_id=customer.id, field="mobile", purpose="contact_customer")
            with pytest.raises(DatabaseError, match="audit store unavailable"):
                selectors.customer_list(rep)
            with pytest.raises(DatabaseError, match="audit store unavailable"):
                services.customer_shred(actor=Actor.system("tests"), customer_id=customer.id, reason="erasure")
        assert not Customer.objects.filter(name__in=["不应保存", "不应改名"]).exists()
        customer.refresh_from_db()
        assert customer.name == "原名客户" and customer.deleted_at is None
        assert AuditEvent.objects.count() == events_before
        # The key was not shredded: the customer still decrypts, and every call works again.
        assert services.field_reveal(actor=rep, customer_id=customer.id, field="mobile", purpose="contact_customer")
        assert AuditEvent.objects.count() == events_before + 1

    def test_a_failing_bulk_audit_write_rolls_back_the_batch(self, org):
        customer = make_customer(org.rep, name="原名客户")
        events_before = AuditEvent.objects.count()
        with connection.execute_wrapper(_refuse_audit_inserts), pytest.raises(DatabaseError), transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(name="批量改名")
            audit_record_many([dict(actor=Actor.system("tests"), event=events.CUSTOMER_UPDATED, target_type="customer",
                                    target_id=customer.id, subject_id=customer.id, fields=["name"])])
        customer.refresh_from_db()
        assert customer.name == "原名客户" and AuditEvent.objects.count() == events_before

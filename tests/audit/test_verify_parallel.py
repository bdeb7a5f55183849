"""Verification of a large log runs in one process per core: the parallel path finds the same
intact log and names the same first bad leaf as the single-process one (committed data, real
forked workers)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from custodia.audit import heads, verify
from custodia.audit.models import AuditEvent
from custodia.audit.services import audit_record_many
from custodia.customers import events as customer_events
from custodia.kernel.actor import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def _log(n: int) -> None:
    with transaction.atomic():
        audit_record_many([dict(actor=Actor.system("tests"), event=customer_events.CUSTOMER_LIST_VIEWED,
                                detail={"page": i}) for i in range(n)])
    heads.sign_head()


def test_parallel_and_single_process_verification_agree(monkeypatch):
    _log(1_500)  # six level-0 tiles: each worker gets several
    single = verify.verify_log()
    monkeypatch.setattr(verify, "PARALLEL_FROM", 100)
    monkeypatch.setattr(verify.os, "cpu_count", lambda: 3)
    parallel = verify.verify_log()
    assert single.ok and parallel.ok
    assert parallel.leaves_checked == single.leaves_checked == 1_500

    # A body changed in the last worker's share is named at its leaf by both.
    seq = AuditEvent.objects.order_by("seq").values_list("seq", flat=True)[1_400]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('test tampering')")
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone' WHERE seq = %s", [seq])
        cursor.execute("DELETE FROM audit_maintenance")
    parallel = verify.verify_log()
    monkeypatch.setattr(verify, "PARALLEL_FROM", 10**9)
    single = verify.verify_log()
    assert not parallel.ok and parallel.first_bad_leaf == single.first_bad_leaf == 1_400
    assert [str(p) for p in parallel.problems] == [str(p) for p in single.problems]

"""The detectors' stores at their edges."""

from __future__ import annotations

import time

import pytest

from custodia.access.services import login_failed_record
from custodia.audit.models import AuditEvent
from custodia.kernel import context
from custodia.monitor.stores import DbStore, MemoryStore, live_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("store", [DbStore, MemoryStore, "live"])
def test_counting_nothing_is_nothing(store):
    store = live_store() if store == "live" else store()
    assert store.count([], time.time()) == {}


def test_a_failed_sign_in_with_no_known_account_and_no_address_is_recorded(org):
    """A sign-in failure for a name that is nobody's, with no client address (a request over a
    unix socket, or outside a request): the failed-sign-in detector has nothing to count. It
    used to send an empty WHERE to the database store and fail the sign-in with a SQL error."""
    assert context.current().source_ip == ""
    login_failed_record(username="nobody-of-ours")
    assert AuditEvent.objects.filter(action="access.login.failed", target_id__isnull=True).count() == 1

"""The demo's alerts are real detections made through the services."""

from __future__ import annotations

import pytest

from custodia.audit.models import AuditEvent
from custodia.demo.monitoring import SPRAY_ADDRESS, seed_alerts
from custodia.monitor.models import Alert
from custodia.testing.factories import make_customer

pytestmark = pytest.mark.django_db


def test_demo_alerts_come_from_the_detectors(org):
    for _ in range(160):
        make_customer(org.manager, tier="ordinary")
    make_customer(org.rep)
    make_customer(org.rep2)
    assert seed_alerts() == 3
    assert set(Alert.objects.values_list("rule_id", "reason")) == {
        ("volume.viewed.5m", "threshold"), ("login.failed_burst", "spray"), ("departure.activity", "cooling_off")}
    assert Alert.objects.get(reason="spray").subject == f"ip:{SPRAY_ADDRESS}"
    assert AuditEvent.objects.filter(action="monitor.intervened").count() == 1
    assert seed_alerts() == 3  # idempotent

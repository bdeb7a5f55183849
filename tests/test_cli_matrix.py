"""The console commands that act as a person (``--actor``) × every built-in role (and a
superuser) × the ownership cases, against declared tables (issue 3's quality bar; the API,
pages and the export are in test_access_matrix.py):

- ``import customers``: a one-row file whose owner is the case's owner; written only when that
  customer is one the actor may create (the "add" scope), otherwise refused with nothing written;
- ``export trace``: compliance and administrators only;
- ``monitor replay``: those who may view alerts (security admins, compliance officers, auditors,
  administrators); ``monitor dry-run``: those who edit detector rules (security admins and
  administrators). Each allowed run is audited as the person; a refused one records nothing.
"""

from __future__ import annotations

import csv

import pytest
from django.utils import translation

from custodia.access.models import Team
from custodia.audit.models import AuditEvent
from custodia.cli import main
from custodia.customers.exporting import customers_export
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.testing.factories import make_customer, make_org, make_user, valid_mobile

PEOPLE = ("rep", "rep2", "rep4", "other_rep", "manager", "other_manager", "compliance", "secadmin", "auditor",
          "legal", "hr", "admin")
OWNERS = {"own": "rep", "report": "rep2", "same_department": "rep4", "other_department": "other_rep"}
# Who may import (create) a customer owned by the case's owner.
IMPORT = {
    "own": {"rep", "manager", "admin"},
    "report": {"rep2", "manager", "admin"},
    "same_department": {"rep4", "admin"},
    "other_department": {"other_rep", "other_manager", "admin"},
}
TRACE = {"compliance", "admin"}
MONITOR_REPLAY = {"compliance", "secadmin", "auditor", "admin"}
MONITOR_DRY_RUN = {"secadmin", "admin"}


def _people():
    org = make_org()
    team = Team.objects.create(code="east-2", name="华东二组", department=org.dept_a)
    people = {name: getattr(org, name) for name in PEOPLE if name != "rep4"}
    people["rep4"] = make_user("rep04", "rep", team)
    return people


def _run(capsys, *args) -> int:
    with translation.override("en"):
        code = main([str(a) for a in args])
    capsys.readouterr()
    return code


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(OWNERS))
def test_import_as_each_person(case, tmp_path, capsys):
    people = _people()
    owner = people[OWNERS[case]]
    failures = []
    for n, who in enumerate(PEOPLE):
        path = tmp_path / f"{who}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["kind", "name", "owner", "mobile"])
            writer.writerow(["individual", f"矩阵导入{n}", owner.username, valid_mobile(77_000_000 + n)])
        before = Customer.objects.count()
        code = _run(capsys, "import", "customers", path, "--actor", people[who].username)
        written = Customer.objects.count() - before
        allowed = who in IMPORT[case]
        if (code == 0 and written == 1) != allowed or (not allowed and written):
            failures.append(f"import of {case} as {who}: exit {code}, {written} written, declared "
                            f"{'allowed' if allowed else 'refused'}")
    assert failures == []


@pytest.mark.django_db
def test_export_trace_as_each_person(tmp_path, capsys):
    people = _people()
    make_customer(people["rep"])
    exported = tmp_path / "leaked.csv"
    customers_export(actor=Actor.for_user(people["rep"]), out=exported)
    failures = []
    for who in PEOPLE:
        code = _run(capsys, "export", "trace", exported, "--actor", people[who].username)
        if (code == 0) != (who in TRACE):
            failures.append(f"export trace as {who}: exit {code}")
    assert failures == []


@pytest.mark.django_db
def test_monitor_replay_and_dry_run_as_each_person(tmp_path, capsys):
    people = _people()
    stream = tmp_path / "events.jsonl"
    stream.write_text('{"occurred_at": "2026-03-02T10:00:00+08:00", "action": "access.login.failed", '
                      '"source_ip": "203.0.113.9", "target_id": "00000000-0000-0000-0000-000000000001"}\n')
    failures = []
    for who in PEOPLE:
        user = people[who]
        for action, args, allowed, event in (
                ("replay", [stream], MONITOR_REPLAY, "monitor.replayed"),
                ("dry-run", ["volume.viewed.5m", "--days", "1"], MONITOR_DRY_RUN, "monitor.rule.dry_run")):
            code = _run(capsys, "monitor", action, *args, "--actor", user.username)
            audited = AuditEvent.objects.filter(action=event, actor_id=user.pk).count()
            if (code == 0 and audited == 1) != (who in allowed) or (who not in allowed and audited):
                failures.append(f"monitor {action} as {who}: exit {code}, {audited} audited, declared "
                                f"{'allowed' if who in allowed else 'refused'}")
    assert failures == []

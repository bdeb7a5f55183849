"""Export tracing (issue 3 item 5): a leaked file's bytes or its id lead to the Export record."""

import pytest

from custodia.approvals import services
from custodia.approvals.tracing import export_id_in, export_trace
from custodia.audit.models import AuditEvent
from custodia.customers.exporting import customers_export
from custodia.kernel.errors import PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(org, customer_factory, as_, tmp_path):
    mine = [customer_factory(org.rep) for _ in range(2)]
    theirs = customer_factory(org.other_rep)

    def run(fmt):
        path = tmp_path / f"customers.{fmt}"
        export = customers_export(actor=as_(org.compliance), out=path, fmt=fmt)
        return export, path.read_bytes()

    return run, mine, theirs


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_trace_finds_the_export_from_the_file_bytes(org, as_, exported, fmt):
    run, mine, theirs = exported
    export, data = run(fmt)
    assert export_id_in(data) == export.pk
    trace = export_trace(actor=as_(org.compliance), data=data)
    assert trace.export == export and trace.found_by == "file" and trace.file_matches is True
    assert {c.pk for c in trace.visible} == {*(c.pk for c in mine), theirs.pk} and trace.hidden == 0
    event = AuditEvent.objects.get(action="export.traced")
    assert event.actor_id == org.compliance.pk and event.target_id == export.pk
    assert event.detail["found_by"] == "file" and event.outcome == "success"


def test_trace_from_an_edited_file_and_from_the_id(org, as_, exported):
    run, _mine, _theirs = exported
    export, data = run("csv")
    edited = data + b"\r\nextra,row\r\n"
    trace = export_trace(actor=as_(org.compliance), data=edited)
    assert trace.export == export and trace.file_matches is False
    trace = export_trace(actor=as_(org.compliance), export_id=str(export.pk))
    assert trace.export == export and trace.found_by == "id"


def test_trace_by_hash_when_the_metadata_line_is_gone(org, as_, exported):
    run, _mine, _theirs = exported
    export, data = run("csv")
    from custodia.customers.models import Export

    stripped = data.split(b"\r\n", 1)[1]
    Export.objects.filter(pk=export.pk).update(file_sha256=__import__("hashlib").sha256(stripped).hexdigest())
    trace = export_trace(actor=as_(org.compliance), data=stripped)
    assert trace.export == export and trace.found_by == "hash"


def test_nothing_found_is_audited(org, as_):
    trace = export_trace(actor=as_(org.compliance), data=b"name,mobile\r\n")
    assert trace.export is None
    assert AuditEvent.objects.get(action="export.traced").outcome == "not_found"


def test_a_non_compliance_role_cannot_trace(org, as_, exported):
    run, _mine, _theirs = exported
    export, data = run("csv")
    for who in (org.rep, org.manager, org.auditor, org.secadmin, org.legal, org.hr):
        with pytest.raises(PermissionDenied):
            export_trace(actor=as_(who), data=data)
    assert not AuditEvent.objects.filter(action="export.traced").exists()


def test_trace_shows_the_approval_used(org, as_, customer_factory, tmp_path):
    customer_factory(org.rep)
    req = services.request_create(actor=as_(org.rep), kind="export", masked=False, purpose="contract_performance")
    services.request_approve(actor=as_(org.manager), request_id=req.pk)
    export = customers_export(actor=as_(org.rep), out=tmp_path / "u.xlsx", fmt="xlsx", masked=False,
                              request_id=req.pk)
    trace = export_trace(actor=as_(org.compliance), data=(tmp_path / "u.xlsx").read_bytes())
    assert trace.export == export and trace.approval.pk == req.pk and trace.approval.decided_by == org.manager


def test_a_large_export_is_counted_in_bounded_queries(org, as_, customer_factory):
    import uuid

    from django.utils import timezone

    from custodia.customers.models import Export

    mine = customer_factory(org.rep)
    ids = [str(mine.pk), *(str(uuid.uuid4()) for _ in range(2500))]
    export = Export.objects.create(actor_label="rep01", created_at=timezone.now(), format="csv", customer_ids=ids,
                                   row_count=len(ids))
    trace = export_trace(actor=as_(org.compliance), export_id=str(export.pk))
    assert [c.pk for c in trace.visible] == [mine.pk] and trace.hidden == 2500

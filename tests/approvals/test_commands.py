"""The command line: custodia export customers --request-approval / --request ID, custodia approvals
list|approve|reject, custodia export trace FILE."""

import pytest

from custodia.approvals.choices import RequestStatus
from custodia.approvals.models import AccessRequest
from custodia.audit.models import AuditEvent
from custodia.customers.models import Export

pytestmark = pytest.mark.django_db


def test_unmasked_export_through_an_approval(org, customer_factory, cli, tmp_path):
    customer_factory(org.rep)
    path = tmp_path / "u.csv"
    code, out = cli("export", "customers", "--out", path, "--unmasked", "--purpose", "contact_customer",
                    "--actor", "rep01")
    assert code == 1 and "approved request" in out and "--request-approval" in out and not path.exists()
    code, out = cli("export", "customers", "--unmasked", "--purpose", "contact_customer", "--tier", "ordinary",
                    "--actor", "rep01", "--request-approval")
    assert code == 0, out
    req = AccessRequest.objects.get()
    assert str(req.id) in out and req.export_params["filters"]["tier"] == "ordinary"
    code, out = cli("approvals", "list", "--actor", "manager01")
    assert code == 0 and str(req.id) in out and "UNMASKED" in out
    assert cli("approvals", "approve", req.id, "--actor", "rep01")[0] == 1  # not their own
    code, out = cli("approvals", "approve", req.id, "--actor", "manager01", "--reason", "合同履行")
    assert code == 0 and "Approved" in out
    code, out = cli("export", "customers", "--out", path, "--unmasked", "--actor", "rep01", "--request", req.id)
    assert code == 1 and "other parameters" in out  # the approval is for --tier ordinary
    code, out = cli("export", "customers", "--out", path, "--unmasked", "--tier", "ordinary", "--actor", "rep01",
                    "--request", req.id)
    assert code == 0, out
    assert AccessRequest.objects.get().status == RequestStatus.USED
    code, out = cli("export", "customers", "--out", tmp_path / "again.csv", "--unmasked", "--tier", "ordinary",
                    "--actor", "rep01", "--request", req.id)
    assert code == 1 and "used already" in out


def test_reject_needs_a_reason(org, customer_factory, cli):
    customer_factory(org.rep)
    cli("export", "customers", "--unmasked", "--purpose", "contact_customer", "--actor", "rep01",
        "--request-approval")
    req = AccessRequest.objects.get()
    assert cli("approvals", "reject", req.id, "--actor", "manager01")[0] == 2  # --reason is required
    code, out = cli("approvals", "reject", req.id, "--actor", "manager01", "--reason", "不需要明文")
    assert code == 0 and AccessRequest.objects.get().status == RequestStatus.REJECTED
    code, out = cli("approvals", "list", "--actor", "rep01")
    assert "rejected" in out


def test_export_trace_file(org, customer_factory, cli, tmp_path):
    customer_factory(org.rep)
    path = tmp_path / "leak.xlsx"
    assert cli("export", "customers", "--out", path, "--actor", "rep01")[0] == 0
    export = Export.objects.get()
    code, out = cli("export", "trace", path, "--actor", "compliance01")
    assert code == 0, out
    assert str(export.id) in out and "rep01" in out and "byte-for-byte" in out
    code, out = cli("export", "trace", "--id", export.id)
    assert code == 0 and str(export.id) in out
    code, out = cli("export", "trace", path, "--actor", "manager01")
    assert code == 1 and AuditEvent.objects.filter(action="export.traced").count() == 2

"""Maker-checker rules (issue 3 item 3): when a request is needed, who may decide, single use,
expiry, and the audit events of every step."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from custodia.approvals import services
from custodia.approvals.choices import RequestStatus
from custodia.approvals.models import AccessRequest
from custodia.approvals.services import ApprovalRequired
from custodia.audit.models import AuditEvent
from custodia.customers.exporting import customers_export
from custodia.customers.models import Export
from custodia.customers.services import field_reveal
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def reveal(actor, customer, field="mobile"):
    return field_reveal(actor=actor, customer_id=customer.pk, field=field, purpose="contact_customer")


def ask_reveal(actor, customer, field="id_number"):
    return services.request_create(actor=actor, kind="reveal", customer_id=customer.pk, field=field,
                                   purpose="service_request", purpose_text="客户来电核实身份")


def actions():
    return list(AuditEvent.objects.filter(action__startswith="approval.").values_list("action", flat=True))


class RevealApprovalTests:
    def test_reveal_within_limits_needs_no_approval(self, org, customer_factory, as_):
        customer = customer_factory(org.rep, mobile="13912345670")
        assert reveal(as_(org.rep), customer) == "+8613912345670"
        assert not AccessRequest.objects.exists()
        with pytest.raises(ValidationError):  # nothing to approve
            ask_reveal(as_(org.rep), customer, field="mobile")

    def test_reveal_over_the_hourly_limit_needs_approval(self, org, customer_factory, as_, limits):
        limits("rep", reveals_per_hour=2)
        customer = customer_factory(org.rep)
        rep = as_(org.rep)
        reveal(rep, customer)
        reveal(rep, customer)
        with pytest.raises(ApprovalRequired) as exc:
            reveal(rep, customer)
        assert exc.value.why == "rate" and exc.value.request_required
        req = ask_reveal(rep, customer, field="mobile")
        assert req.why == "rate" and req.status == RequestStatus.PENDING
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        assert reveal(rep, customer)  # the approved reveal goes through, once
        req.refresh_from_db()
        assert req.status == RequestStatus.USED and req.used_at is not None
        with pytest.raises(ApprovalRequired):
            reveal(rep, customer)
        event = AuditEvent.objects.filter(action="customer.field.revealed").last()
        assert event.detail["access_request"] == str(req.pk)

    def test_level_above_the_role_needs_approval_and_is_used_once(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        rep = as_(org.rep)
        with pytest.raises(ApprovalRequired) as exc:
            reveal(rep, customer, "id_number")
        assert exc.value.why == "level"
        req = ask_reveal(rep, customer)
        approved = services.request_approve(actor=as_(org.manager), request_id=req.pk, reason="核实身份")
        assert approved.decided_by == org.manager
        assert abs(approved.expires_at - (timezone.now() + dt.timedelta(hours=24))) < dt.timedelta(minutes=1)
        assert reveal(rep, customer, "id_number")
        with pytest.raises(ApprovalRequired):
            reveal(rep, customer, "id_number")
        assert actions() == ["approval.request.created", "approval.request.approved", "approval.request.used"]
        created = AuditEvent.objects.get(action="approval.request.created")
        assert created.actor_id == org.rep.pk and created.subject_id == customer.pk
        assert created.fields == ["id_number"] and created.purpose.startswith("service_request")

    def test_compliance_may_approve_too(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        services.request_approve(actor=as_(org.compliance), request_id=req.pk)
        assert reveal(as_(org.rep), customer, "id_number")

    def test_self_approval_is_refused(self, org, customer_factory, as_, limits):
        limits("manager", reveals_per_hour=0)
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.manager), customer, field="mobile")
        with pytest.raises(PermissionDenied, match="own request"):
            services.request_approve(actor=as_(org.manager), request_id=req.pk)
        with pytest.raises(PermissionDenied, match="own request"):
            services.request_reject(actor=as_(org.manager), request_id=req.pk, reason="自己")
        req.refresh_from_db()
        assert req.status == RequestStatus.PENDING
        services.request_approve(actor=as_(org.compliance), request_id=req.pk)  # a second person

    def test_approval_without_the_approve_right_is_refused(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        for who in (org.rep2, org.auditor, org.secadmin):
            with pytest.raises(PermissionDenied, match="may not approve"):
                services.request_approve(actor=as_(who), request_id=req.pk)
        with pytest.raises(NotFound):  # another team's manager: not theirs to decide, looks missing
            services.request_approve(actor=as_(org.other_manager), request_id=req.pk)
        with pytest.raises(PermissionDenied):  # the console operator is not a second person
            services.request_approve(actor=Actor.system("cli"), request_id=req.pk)
        assert AccessRequest.objects.get().status == RequestStatus.PENDING

    def test_core_customer_is_approved_by_compliance_not_the_team_manager(self, org, customer_factory, as_):
        customer = customer_factory(org.rep, tier="core")
        req = ask_reveal(as_(org.rep), customer)
        with pytest.raises(NotFound):
            services.request_approve(actor=as_(org.manager), request_id=req.pk)
        services.request_approve(actor=as_(org.compliance), request_id=req.pk)

    def test_reused_approval_is_refused(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        from django.db import transaction

        with transaction.atomic():
            services.request_use(actor=as_(org.rep), request_id=req.pk, customer_id=customer.pk, field="id_number")
        with pytest.raises(PermissionDenied, match="used already"):
            services.request_use(actor=as_(org.rep), request_id=req.pk, customer_id=customer.pk, field="id_number")
        with pytest.raises(PermissionDenied, match="decided already"):
            services.request_approve(actor=as_(org.compliance), request_id=req.pk)

    def test_expired_approval_is_refused_and_marked_by_the_job(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        AccessRequest.objects.filter(pk=req.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        with pytest.raises(ApprovalRequired):
            reveal(as_(org.rep), customer, "id_number")
        with pytest.raises(PermissionDenied, match="expired"):
            services.request_use(actor=as_(org.rep), request_id=req.pk, customer_id=customer.pk, field="id_number")
        assert services.requests_expire(actor=Actor.system("jobs")) == 1
        assert AccessRequest.objects.get().status == RequestStatus.EXPIRED
        assert AuditEvent.objects.filter(action="approval.request.expired", target_id=req.pk).count() == 1
        assert services.requests_expire(actor=Actor.system("jobs")) == 0

    def test_expired_pending_request_cannot_be_approved(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        AccessRequest.objects.filter(pk=req.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        with pytest.raises(PermissionDenied, match="expired"):
            services.request_approve(actor=as_(org.manager), request_id=req.pk)

    def test_rejected_request_opens_nothing(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        with pytest.raises(ValidationError):
            services.request_reject(actor=as_(org.manager), request_id=req.pk, reason="")
        services.request_reject(actor=as_(org.manager), request_id=req.pk, reason="无业务需要")
        with pytest.raises(ApprovalRequired):
            reveal(as_(org.rep), customer, "id_number")
        assert AccessRequest.objects.get().status == RequestStatus.REJECTED

    def test_another_persons_approval_is_not_usable(self, org, customer_factory, as_):
        customer = customer_factory(org.rep)
        req = ask_reveal(as_(org.rep), customer)
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        with pytest.raises(NotFound):
            services.request_use(actor=as_(org.rep2), request_id=req.pk, customer_id=customer.pk, field="id_number")


class ExportApprovalTests:
    def test_masked_export_within_the_limit_runs_directly(self, org, customer_factory, as_, tmp_path):
        customer_factory(org.rep)
        export = customers_export(actor=as_(org.rep), out=tmp_path / "a.csv")
        assert export.row_count == 1 and not AccessRequest.objects.exists()

    def test_unmasked_export_needs_approval(self, org, customer_factory, as_, tmp_path):
        customer_factory(org.rep)
        for who in (org.compliance, org.manager, org.rep):
            with pytest.raises(ApprovalRequired):
                customers_export(actor=as_(who), out=tmp_path / "u.csv", masked=False, purpose="compliance_review")
        assert not (tmp_path / "u.csv").exists() and not Export.objects.exists()

    def test_export_above_the_row_limit_needs_approval(self, org, customer_factory, as_, limits, tmp_path):
        limits("rep", export_row_limit=2)
        for _ in range(3):
            customer_factory(org.rep)
        with pytest.raises(ApprovalRequired, match="3"):
            customers_export(actor=as_(org.rep), out=tmp_path / "big.csv")
        assert customers_export(actor=as_(org.rep), out=tmp_path / "ok.csv", stage="nothing").row_count == 0

    def test_approved_export_runs_once_with_its_exact_parameters(self, org, customer_factory, as_, limits,
                                                                   tmp_path):
        limits("rep", export_row_limit=1)
        for _ in range(2):
            customer_factory(org.rep)
        rep = as_(org.rep)
        req = services.request_create(actor=rep, kind="export", masked=False, purpose="contract_performance",
                                      filters={"tier": "ordinary"})
        assert req.why == "unmasked" and req.export_params == {
            "masked": False, "max_rows": 2,
            "filters": {"tier": "ordinary", "stage": "", "kind": "", "owner": "", "team": "", "tag": ""}}
        with pytest.raises(PermissionDenied):  # not approved yet
            customers_export(actor=rep, out=tmp_path / "x.csv", masked=False, tier="ordinary", request_id=req.pk)
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        with pytest.raises(PermissionDenied, match="other parameters"):
            customers_export(actor=rep, out=tmp_path / "x.csv", masked=False, request_id=req.pk)
        with pytest.raises(PermissionDenied, match="other parameters"):
            customers_export(actor=rep, out=tmp_path / "x.csv", masked=True, tier="ordinary", request_id=req.pk)
        customer_factory(org.rep)  # a third row: above the approved ceiling
        with pytest.raises(PermissionDenied, match="more than the 2 approved"):
            customers_export(actor=rep, out=tmp_path / "x.csv", masked=False, tier="ordinary", request_id=req.pk)
        AccessRequest.objects.filter(pk=req.pk).update(export_params=req.export_params | {"max_rows": 3})
        export = customers_export(actor=rep, out=tmp_path / "x.csv", masked=False, tier="ordinary",
                                  request_id=req.pk)
        assert not export.masked and export.row_count == 3 and export.purpose == "contract_performance"
        req.refresh_from_db()
        assert req.status == RequestStatus.USED and req.export_id == export.pk
        with pytest.raises(PermissionDenied, match="used already"):
            customers_export(actor=rep, out=tmp_path / "y.csv", masked=False, tier="ordinary", request_id=req.pk)
        assert not (tmp_path / "y.csv").exists() and Export.objects.count() == 1
        event = AuditEvent.objects.get(action="customer.exported")
        assert event.detail["access_request"] == str(req.pk)

    def test_export_approver_must_cover_every_customer(self, org, customer_factory, as_, tmp_path):
        customer_factory(org.rep, tier="core")  # the team manager's grant leaves out the core tier
        req = services.request_create(actor=as_(org.rep), kind="export", masked=False, purpose="compliance_review")
        with pytest.raises(NotFound):
            services.request_approve(actor=as_(org.manager), request_id=req.pk)
        services.request_approve(actor=as_(org.compliance), request_id=req.pk)

    def test_compliance_unmasked_export_approved_by_a_second_person(self, org, customer_factory, as_, tmp_path):
        customer_factory(org.rep)
        req = services.request_create(actor=as_(org.compliance), kind="export", masked=False,
                                      purpose="compliance_review")
        with pytest.raises(PermissionDenied, match="own request"):
            services.request_approve(actor=as_(org.compliance), request_id=req.pk)
        services.request_approve(actor=as_(org.manager), request_id=req.pk)
        export = customers_export(actor=as_(org.compliance), out=tmp_path / "c.csv", masked=False,
                                  request_id=req.pk)
        assert export.row_count == 1

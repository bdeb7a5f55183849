"""Core tier, explicit assignments, time-bound grants and the person's state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from custodia.access import grant_services
from custodia.access.models import AccessGrant, User
from custodia.access.policy import allows, denial_reason, may_reveal, state_reason
from custodia.audit.models import AuditEvent
from custodia.customers import selectors, services
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from tests.access.conftest import signed_in

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def sees(user, customer, action="view") -> bool:
    """As in a new request: a fresh user object (the policy caches on it for one request)."""
    user = User.objects.get(pk=user.pk)
    return Customer.objects.restrict(Actor.for_user(user), action).filter(pk=customer.pk).exists()


@pytest.fixture
def core(org, customer_factory):
    return customer_factory(org.rep, name="核心客户", tier="core")


class CoreTierTests:
    def test_core_customers_only_for_owner_assignees_and_compliance(self, org, core, customer_factory):
        ordinary = customer_factory(org.rep, name="一般客户")
        assert sees(org.rep, core) and sees(org.compliance, core)
        assert not sees(org.manager, core) and not sees(org.rep2, core)
        assert sees(org.manager, ordinary)  # the team's ordinary customers stay visible to the manager

    def test_an_assignee_sees_the_core_customer(self, org, core):
        grant_services.customer_assign(actor=org.actor("compliance"), customer_id=core.pk, username="rep02")
        assert sees(org.rep2, core) and sees(org.rep2, core, "change")  # the assignee's own role actions
        assert not sees(org.manager, core)
        assert AuditEvent.objects.filter(action="access.customer.assigned", subject_id=core.pk).count() == 1

    def test_a_manager_assigned_to_a_core_customer_sees_it(self, org, core):
        grant_services.customer_assign(actor=org.actor("compliance"), customer_id=core.pk, username="manager01")
        assert sees(org.manager, core)

    def test_unassigning_removes_access(self, org, core):
        assignment = grant_services.customer_assign(actor=org.actor("compliance"), customer_id=core.pk,
                                                    username="rep02")
        grant_services.customer_unassign(actor=org.actor("compliance"), customer_id=core.pk,
                                         assignment_id=assignment.pk)
        assert not sees(org.rep2, core)
        assert AuditEvent.objects.filter(action="access.customer.unassigned").count() == 1

    def test_who_may_assign(self, org, core, customer_factory):
        ordinary = customer_factory(org.rep)
        grant_services.customer_assign(actor=org.actor("manager"), customer_id=ordinary.pk, username="rep02")
        with pytest.raises(NotFound):  # the manager does not see the core customer at all
            grant_services.customer_assign(actor=org.actor("manager"), customer_id=core.pk, username="rep02")
        with pytest.raises(PermissionDenied):  # a rep may not share
            grant_services.customer_assign(actor=org.actor("rep"), customer_id=ordinary.pk, username="rep03")
        with pytest.raises(NotFound):  # another team's manager: out of scope
            grant_services.customer_assign(actor=org.actor("other_manager"), customer_id=ordinary.pk,
                                           username="rep03")

    def test_nobody_assigns_themselves(self, org, customer_factory):
        ordinary = customer_factory(org.rep)
        with pytest.raises(ValidationError) as exc:
            grant_services.customer_assign(actor=org.actor("manager"), customer_id=ordinary.pk, username="manager01")
        assert "user" in exc.value.message_dict

    @pytest.mark.parametrize("username", ["auditor01", "hr01", "secadmin01"])
    def test_only_roles_that_work_with_customers_are_assigned_or_granted(self, org, customer_factory, username):
        from custodia.access.selectors import customer_access

        ordinary = customer_factory(org.rep)
        offered = {u for u, _label in customer_access(org.actor("manager"), ordinary.pk).colleagues}
        assert username not in offered and "rep02" in offered
        with pytest.raises(ValidationError) as exc:
            grant_services.customer_assign(actor=org.actor("manager"), customer_id=ordinary.pk, username=username)
        assert "user" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            grant_services.access_grant_create(actor=org.actor("manager"), customer_id=ordinary.pk, username=username,
                                               actions=["view"], purpose="节假日代管客户", days=3)
        assert "grantee" in exc.value.message_dict


class TimeBoundGrantTests:
    def grant(self, org, customer, *, actions=("view",), days=7, by="manager", to="rep03"):
        return grant_services.access_grant_create(actor=org.actor(by), customer_id=customer.pk, username=to,
                                                  actions=list(actions), purpose="节假日代管客户", days=days)

    def test_a_grant_opens_the_customer_until_it_expires(self, org, customer_factory):
        customer = customer_factory(org.rep)
        assert not sees(org.other_rep, customer)
        grant = self.grant(org, customer, actions=["view", "reveal"])
        assert sees(org.other_rep, customer) and sees(org.other_rep, customer, "reveal")
        assert not sees(org.other_rep, customer, "change")  # not granted
        event = AuditEvent.objects.get(action="access.grant.created")
        assert event.subject_id == customer.pk and event.detail["grantee_id"] == str(org.other_rep.pk)
        # Time is up: the filter compares expires_at with now (no job needed).
        AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        assert not sees(org.other_rep, customer)
        with pytest.raises(NotFound):
            selectors.customer_get(org.actor("other_rep"), customer.pk)

    def test_a_view_only_grant_does_not_let_the_grantee_change(self, org, customer_factory):
        customer = customer_factory(org.rep)
        self.grant(org, customer)
        with pytest.raises(PermissionDenied):
            services.customer_update(actor=org.actor("other_rep"), customer_id=customer.pk, data={"name": "改"})
        with pytest.raises(PermissionDenied):
            services.field_reveal(actor=org.actor("other_rep"), customer_id=customer.pk, field="mobile",
                                  purpose="contact_customer")

    def test_a_view_only_grant_offers_no_action_that_would_fail(self, client, org, customer_factory):
        customer = customer_factory(org.rep, mobile="13812345678")
        self.grant(org, customer)
        signed_in(client, org.other_rep)
        page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        for url in (f"/customers/{customer.pk}/edit/", f"/customers/{customer.pk}/reveal/mobile/",
                    f"/approvals/reveal/{customer.pk}/mobile/"):
            assert url not in page
        assert "View only" in page
        page = client.get(f"/customers/{customer.pk}/?tab=interactions", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"/customers/{customer.pk}/interaction/new/" not in page
        for url in (f"/customers/{customer.pk}/edit/", f"/customers/{customer.pk}/interaction/new/"):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 403 and "view-only grant" in response.content.decode()
        response = client.get(f"/customers/{customer.pk}/reveal/mobile/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403 and "does not include revealing" in response.content.decode()
        # the same person's own customer still offers them
        own = customer_factory(org.other_rep, mobile="13812345679")
        page = client.get(f"/customers/{own.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"/customers/{own.pk}/edit/" in page and f"/customers/{own.pk}/reveal/mobile/" in page
        assert "View only" not in page

    def test_a_revoked_grant_is_refused(self, org, customer_factory):
        customer = customer_factory(org.rep)
        grant = self.grant(org, customer)
        grant_services.access_grant_revoke(actor=org.actor("compliance"), customer_id=customer.pk, grant_id=grant.pk)
        assert not sees(org.other_rep, customer)
        assert AuditEvent.objects.filter(action="access.grant.revoked").count() == 1

    def test_a_grant_that_has_not_started_is_refused(self, org, customer_factory):
        customer = customer_factory(org.rep)
        grant_services.access_grant_create(
            actor=org.actor("manager"), customer_id=customer.pk, username="rep03", actions=["view"],
            purpose="下周代管", days=3, starts_at=timezone.now() + dt.timedelta(days=1))
        assert not sees(org.other_rep, customer)

    def test_self_grant_is_refused(self, org, customer_factory):
        customer = customer_factory(org.rep)
        with pytest.raises(ValidationError) as exc:
            self.grant(org, customer, to="manager01")
        assert "grantee" in exc.value.message_dict
        assert not AccessGrant.objects.exists()

    def test_field_errors_change_nothing(self, org, customer_factory):
        customer = customer_factory(org.rep)
        with pytest.raises(ValidationError) as exc:
            grant_services.access_grant_create(actor=org.actor("manager"), customer_id=customer.pk,
                                               username="nobody", actions=["delete"], purpose="x", days=365)
        assert set(exc.value.message_dict) == {"grantee", "actions", "purpose", "days"}
        assert not AccessGrant.objects.exists()

    def test_a_rep_may_not_grant(self, org, customer_factory):
        customer = customer_factory(org.rep)
        with pytest.raises(PermissionDenied):
            self.grant(org, customer, by="rep")

    def test_the_expiry_job_marks_and_audits_once(self, org, customer_factory):
        customer = customer_factory(org.rep)
        grant = self.grant(org, customer)
        AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
        from custodia.access.jobs import access_grants_expire

        assert access_grants_expire.call_local() == 1
        assert access_grants_expire.call_local() == 0  # idempotent
        grant.refresh_from_db()
        assert grant.expired_at is not None and grant.state() == "expired"
        assert AuditEvent.objects.filter(action="access.grant.expired", subject_id=customer.pk).count() == 1


class PersonStateTests:
    def test_lapsed_training_loses_reveal_export_and_core(self, org, core, customer_factory):
        ordinary = customer_factory(org.rep)
        org.rep.training_valid_until = timezone.localdate() - dt.timedelta(days=1)
        org.rep.save()
        actor = org.actor("rep")
        assert not allows(actor, "reveal") and not allows(actor, "export") and not may_reveal(actor, 1)
        assert allows(actor, "view") and allows(actor, "change")
        assert sees(org.rep, ordinary) and not sees(org.rep, core)  # even the owner's own core customer
        with translation.override("en"):
            reason = denial_reason(actor, "reveal")
            assert reason and "training" in reason and reason == state_reason(actor)

    def test_current_training_keeps_access(self, org, core):
        org.rep.training_valid_until = timezone.localdate() + dt.timedelta(days=30)
        org.rep.save()
        assert allows(org.actor("rep"), "reveal") and sees(org.rep, core)
        assert state_reason(org.actor("rep")) is None

    def test_cooling_off_loses_reveal_export_and_core(self, org, core, customer_factory):
        ordinary = customer_factory(org.rep)
        org.rep.employment_status = "cooling_off"
        org.rep.save()
        actor = org.actor("rep")
        assert not allows(actor, "reveal") and not allows(actor, "export")
        assert sees(org.rep, ordinary) and not sees(org.rep, core)
        with translation.override("en"):
            assert "cooling-off" in denial_reason(actor, "export")

    def test_compliance_with_lapsed_training_loses_core_too(self, org, core):
        org.compliance.training_valid_until = timezone.localdate() - dt.timedelta(days=1)
        org.compliance.save()
        assert not sees(org.compliance, core)

    def test_training_required_setting_treats_no_record_as_lapsed(self, org, settings):
        settings.CUSTODIA_TRAINING_REQUIRED = True
        assert not allows(org.actor("rep"), "reveal")
        with translation.override("en"):
            assert "no record" in state_reason(org.actor("rep"))

    def test_the_api_answers_403_with_the_reason(self, org, customer_factory):
        from tests.customers.test_api import client_for

        customer = customer_factory(org.rep)
        signed_in(Client(), org.rep)  # enrols the second factor the identity app asks for
        org.rep.employment_status = "cooling_off"
        org.rep.save()
        response = client_for(org.rep, "en").post(f"/api/v1/customers/{customer.pk}/reveal/",
                                                  {"field": "mobile", "purpose": "contact_customer"}, format="json")
        assert response.status_code == 403
        assert "cooling-off" in response.json()["detail"]

    def test_the_ui_answers_403_with_the_reason(self, client, org, customer_factory):
        customer = customer_factory(org.rep)
        org.rep.training_valid_until = timezone.localdate() - dt.timedelta(days=3)
        org.rep.save()
        signed_in(client, org.rep)
        response = client.get(f"/customers/{customer.pk}/reveal/mobile/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403
        assert "training" in response.content.decode()

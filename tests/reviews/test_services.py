"""Opening campaigns, deciding items, the deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from custodia.access.models import AccessGrant, CustomerAssignment, User
from custodia.audit.models import AuditEvent
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.reviews import services
from custodia.reviews.choices import NO_ACCESS_ROLE, Decision
from custodia.reviews.models import ReviewCampaign
from tests.reviews.conftest import SYSTEM, campaign_of, item, pool, sees

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


class CampaignOpenTests:
    def test_each_manager_gets_their_team_only(self, world):
        org = world.org
        opened = services.campaigns_open(actor=SYSTEM)
        assert {c.reviewer_id for c in opened} == {org.manager.pk, org.other_manager.pk, None}
        mine = campaign_of(org.manager)
        got = {(i.subject.username, i.kind, i.reference) for i in mine.items.select_related("subject")}
        assert got == {("rep01", "role", "rep"), ("rep02", "role", "rep"),
                       ("rep02", "grant", str(world.grant.pk)), ("rep02", "assignment", str(world.assignment.pk))}
        assert {i.subject.username for i in campaign_of(org.other_manager).items.all()} == {"rep03"}
        assert mine.deadline == mine.opened_at + dt.timedelta(days=14)
        assert mine.period == services.period_of(timezone.now())
        # The managers' own roles are reviewed by the security admins, never by themselves.
        assert not mine.items.filter(subject=org.manager).exists()
        assert pool().items.filter(subject=org.manager, kind="role").exists()
        opened_events = events("review.campaign.opened")
        assert len(opened_events) == 3 and all(e.actor_label == "system:tests" for e in opened_events)

    def test_opening_is_idempotent_per_period_and_adhoc_rounds_are_extra(self, world):
        services.campaigns_open(actor=SYSTEM)
        assert services.campaigns_open(actor=SYSTEM) == []
        extra = services.campaigns_open(actor=SYSTEM, adhoc=True)
        assert len(extra) == 3 and all(c.period.startswith("adhoc-") for c in extra)
        assert ReviewCampaign.objects.count() == 6

    def test_expired_revoked_and_non_core_holdings_are_not_listed(self, world, customer_factory):
        org = world.org
        AccessGrant.objects.filter(pk=world.grant.pk).update(revoked_at=timezone.now())
        ordinary = customer_factory(org.other_rep, name="普通客户")
        CustomerAssignment.objects.create(customer=ordinary, user=org.rep2)
        services.campaigns_open(actor=SYSTEM)
        kinds = set(campaign_of(org.manager).items.values_list("kind", flat=True))
        assert kinds == {"role", "assignment"}
        assert campaign_of(org.manager).items.filter(kind="assignment").count() == 1  # the core one only

    def test_period_follows_the_setting(self, settings):
        moment = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
        assert services.period_of(moment) == "2026-Q4"
        settings.CUSTODIA_REVIEW_PERIOD_MONTHS = 1
        assert services.period_of(moment) == "2026-11"
        settings.CUSTODIA_REVIEW_PERIOD_MONTHS = 6
        assert services.period_of(moment) == "2026-H2"

    def test_deadline_follows_the_setting(self, world, settings):
        settings.CUSTODIA_REVIEW_DEADLINE_DAYS = 7
        services.campaigns_open(actor=SYSTEM)
        campaign = campaign_of(world.org.manager)
        assert campaign.deadline - campaign.opened_at == dt.timedelta(days=7)

    def test_only_system_actors_and_security_admins_open(self, world):
        with pytest.raises(PermissionDenied):
            services.campaigns_open(actor=world.org.actor("manager"))
        assert services.campaigns_open(actor=world.org.actor("secadmin"))


class DecideTests:
    def test_confirm_keeps_access_and_is_audited(self, opened):
        org = opened.org
        grant_item = item(campaign_of(org.manager), org.rep2, "grant")
        services.review_item_decide(actor=org.actor("manager"), item_id=grant_item.pk, decision="confirm",
                                    note="仍在对账")
        grant_item.refresh_from_db()
        assert grant_item.decision == Decision.CONFIRM and grant_item.decided_by == org.manager
        assert sees(org.rep2, opened.far)
        (event,) = events("review.item.confirmed")
        assert event.actor_id == org.manager.pk and event.target_id == org.rep2.pk
        assert event.subject_id == opened.far.pk and event.detail["kind"] == "grant"
        assert event.detail["review_item"] == str(grant_item.pk)

    def test_revoking_a_grant_ends_it_at_once(self, opened):
        org = opened.org
        assert sees(org.rep2, opened.far)
        grant_item = item(campaign_of(org.manager), org.rep2, "grant")
        services.review_item_decide(actor=org.actor("manager"), item_id=grant_item.pk, decision="revoke")
        assert not sees(org.rep2, opened.far)
        grant = AccessGrant.objects.get(pk=opened.grant.pk)
        assert grant.revoked_at is not None and grant.revoked_by == org.manager
        assert [e.detail["review_item"] for e in events("access.grant.revoked")] == [str(grant_item.pk)]
        assert len(events("review.item.revoked")) == 1

    def test_revoking_an_assignment_removes_the_core_customer(self, opened):
        org = opened.org
        assert sees(org.rep2, opened.core)
        assignment_item = item(campaign_of(org.manager), org.rep2, "assignment")
        services.review_item_decide(actor=org.actor("manager"), item_id=assignment_item.pk, decision="revoke")
        assert not sees(org.rep2, opened.core)
        assert not CustomerAssignment.objects.filter(pk=opened.assignment.pk).exists()
        assert events("access.customer.unassigned")[0].subject_id == opened.core.pk

    def test_revoking_a_role_leaves_no_access(self, opened, customer_factory):
        org = opened.org
        own = customer_factory(org.rep2)
        role_item = item(campaign_of(org.manager), org.rep2, "role")
        services.review_item_decide(actor=org.actor("manager"), item_id=role_item.pk, decision="revoke")
        person = User.objects.get(pk=org.rep2.pk)
        assert person.role == NO_ACCESS_ROLE
        assert not sees(person, own) and not sees(person, opened.far)
        (event,) = events("access.user.access.changed")
        assert event.detail["before"]["role"] == "rep" and event.detail["after"]["role"] == NO_ACCESS_ROLE

    def test_a_confirmed_item_may_still_be_revoked_but_a_revoked_one_stays_revoked(self, opened):
        org, manager = opened.org, opened.org.actor("manager")
        role_item = item(campaign_of(org.manager), org.rep, "role")
        services.review_item_decide(actor=manager, item_id=role_item.pk, decision="confirm")
        services.review_item_decide(actor=manager, item_id=role_item.pk, decision="revoke")
        with pytest.raises(ValidationError):
            services.review_item_decide(actor=manager, item_id=role_item.pk, decision="confirm")
        with pytest.raises(ValidationError):
            services.review_item_decide(actor=manager, item_id=role_item.pk, decision="maybe")

    def test_another_manager_cannot_decide(self, opened):
        org = opened.org
        role_item = item(campaign_of(org.manager), org.rep, "role")
        for who in ("other_manager", "rep", "compliance", "secadmin", "admin"):
            with pytest.raises(NotFound):
                services.review_item_decide(actor=org.actor(who), item_id=role_item.pk, decision="revoke")
        assert User.objects.get(pk=org.rep.pk).role == "rep"
        assert not events("review.item.revoked")

    def test_nobody_decides_on_their_own_access(self, opened):
        org = opened.org
        own = item(pool(), org.secadmin, "role")
        with pytest.raises(NotFound):
            services.review_item_decide(actor=org.actor("secadmin"), item_id=own.pk, decision="confirm")
        # The security admin decides the managers' own roles (nobody else does: not the manager).
        managers_role = item(pool(), org.manager, "role")
        with pytest.raises(NotFound):
            services.review_item_decide(actor=org.actor("manager"), item_id=managers_role.pk, decision="confirm")
        services.review_item_decide(actor=org.actor("secadmin"), item_id=managers_role.pk, decision="confirm")

    def test_a_note_is_masked(self, opened):
        org = opened.org
        role_item = item(campaign_of(org.manager), org.rep, "role")
        services.review_item_decide(actor=org.actor("manager"), item_id=role_item.pk, decision="confirm",
                                    note="电话 13812345678 确认")
        role_item.refresh_from_db()
        assert "13812345678" not in role_item.note


class DeadlineTests:
    def test_overdue_campaigns_revoke_what_is_unconfirmed(self, opened):
        org, manager = opened.org, opened.org.actor("manager")
        mine = campaign_of(org.manager)
        services.review_item_decide(actor=manager, item_id=item(mine, org.rep, "role").pk, decision="confirm")
        assert services.campaigns_close_overdue(actor=SYSTEM)["campaigns"] == 0  # not due yet
        totals = services.campaigns_close_overdue(actor=SYSTEM, now=mine.deadline + dt.timedelta(seconds=1))
        assert totals["campaigns"] == 3
        mine.refresh_from_db()
        assert mine.status == "closed" and mine.closed_at is not None
        assert User.objects.get(pk=org.rep.pk).role == "rep"  # confirmed: kept
        assert User.objects.get(pk=org.rep2.pk).role == NO_ACCESS_ROLE
        assert AccessGrant.objects.get(pk=opened.grant.pk).revoked_at is not None
        assert not CustomerAssignment.objects.filter(pk=opened.assignment.pk).exists()
        assert not sees(org.rep2, opened.far) and not sees(org.rep2, opened.core)
        decided = dict(mine.items.values_list("subject__username", "decision").filter(kind="role"))
        assert decided == {"rep01": "confirm", "rep02": "revoke"}
        auto = [e for e in events("review.item.auto_revoked") if e.detail["campaign"] == str(mine.pk)]
        assert len(auto) == 3 and all(e.actor_label == "system:tests" for e in auto)
        closed = [e for e in events("review.campaign.closed") if e.target_id == mine.pk]
        assert closed[0].detail["revoked"] == 3 and closed[0].detail["confirmed"] == 1
        # Idempotent: nothing more to close; decisions on a closed campaign are refused.
        assert services.campaigns_close_overdue(actor=SYSTEM, now=mine.deadline + dt.timedelta(days=1))["campaigns"] == 0
        with pytest.raises(ValidationError):
            services.review_item_decide(actor=manager, item_id=item(mine, org.rep, "role").pk, decision="revoke")

    def test_the_last_security_admin_keeps_the_role_flagged(self, opened):
        org = opened.org
        campaign = pool()
        services.campaigns_close_overdue(actor=SYSTEM, now=campaign.deadline)
        assert User.objects.get(pk=org.secadmin.pk).role == "secadmin"
        flagged = item(pool(), org.secadmin, "role")
        assert flagged.decision == Decision.FLAGGED and flagged.outcome == "kept"
        assert len(events("review.item.flagged")) == 1
        assert User.objects.get(pk=org.compliance.pk).role == NO_ACCESS_ROLE  # unconfirmed: revoked

    def test_a_role_changed_meanwhile_is_not_touched(self, opened):
        org = opened.org
        User.objects.filter(pk=org.rep.pk).update(role="manager")
        mine = campaign_of(org.manager)
        services.campaigns_close_overdue(actor=SYSTEM, now=mine.deadline)
        assert User.objects.get(pk=org.rep.pk).role == "manager"
        assert item(mine, org.rep, "role").outcome == "changed"

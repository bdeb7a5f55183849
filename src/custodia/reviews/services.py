"""Writes of access reviews: open campaigns, decide items, close overdue campaigns.
Keyword-only, explicit actor, one transaction per campaign or decision, audited (reviews/events.py,
plus the access model's own events for every revocation).

Who reviews whom: a person's access is reviewed by their manager (``User.manager``) when that
manager is active; otherwise it goes to the security admins' campaign (``reviewer`` empty), where
any holder of ``manage_roles`` decides — but never on their own items. So nobody reviews their own
access, and a manager's own role is reviewed by their manager or the security admins.

Revoking: a role falls back to the no-access role (no grants: no customer data, no administration;
the security admin overview lists those people so that they can be given a proper role); a
time-bound grant is revoked at once; a core-customer assignment is removed. At the deadline every
pending item is revoked the same way, except the role of the last active holder of ``manage_roles``,
which is flagged instead (taking it would lock the installation out of its own administration).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access import events as access_events
from custodia.access.choices import Action, EmploymentStatus
from custodia.access.models import AccessGrant, CustomerAssignment, Role, User
from custodia.access.policy import allows
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection import pii
from custodia.reviews import events
from custodia.reviews.choices import NO_ACCESS_ROLE, NO_ACCESS_ROLE_NAME, CampaignStatus, Decision, ItemKind
from custodia.reviews.models import ReviewCampaign, ReviewItem

CORE = "core"


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def _may_run(actor: Actor) -> None:
    """Opening and closing campaigns: jobs and the console (system actors) or a security admin."""
    if not (actor.is_system or allows(actor, Action.MANAGE_ROLES)):
        raise PermissionDenied()


# --- schedule -------------------------------------------------------------------------------------


def period_of(now: dt.datetime) -> str:
    """The review period ``now`` falls in, by CUSTODIA_REVIEW_PERIOD_MONTHS (local time): quarterly
    "2026-Q4", monthly "2026-11", half-yearly "2026-H2", yearly "2026", otherwise "2026-P3"."""
    months = int(getattr(settings, "CUSTODIA_REVIEW_PERIOD_MONTHS", 3))
    local = timezone.localtime(now)
    index = (local.month - 1) // months + 1
    if months == 3:
        return f"{local.year}-Q{index}"
    if months == 1:
        return f"{local.year}-{local.month:02d}"
    if months == 6:
        return f"{local.year}-H{index}"
    if months == 12:
        return f"{local.year}"
    return f"{local.year}-P{index}"


def _reviewer_of(person: User, managers: dict) -> User | None:
    manager = managers.get(person.manager_id)
    if manager is None or manager.pk == person.pk:
        return None
    return manager


def _active(qs):
    return qs.filter(is_active=True).exclude(employment_status=EmploymentStatus.DEPARTED)


def _holdings(now: dt.datetime) -> dict:
    """{person id: [(kind, reference, customer id, detail)]}: role, valid or future time-bound
    grants, core-customer assignments. Three queries."""
    held: dict = defaultdict(list)
    for grant in AccessGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=now,
                                            customer__deleted_at__isnull=True).order_by("expires_at"):
        held[grant.grantee_id].append((ItemKind.GRANT, str(grant.pk), grant.customer_id, {
            "actions": list(grant.actions or []), "expires_at": grant.expires_at.isoformat()}))
    for assignment in CustomerAssignment.objects.filter(customer__tier=CORE, customer__deleted_at__isnull=True):
        held[assignment.user_id].append((ItemKind.ASSIGNMENT, str(assignment.pk), assignment.customer_id, {}))
    return held


def campaigns_open(*, actor: Actor, now: dt.datetime | None = None, adhoc: bool = False) -> list[ReviewCampaign]:
    """Open the review campaigns of the current period: one per manager with active direct reports,
    plus the security admins' one, each listing what those people hold. Idempotent: a reviewer who
    already has this period's campaign gets no second one. ``adhoc``: a round outside the schedule
    (its own period name), e.g. after an incident. Callers: the periodic job, ``custodia reviews
    open`` (system actors), a security admin. Audits REVIEW_CAMPAIGN_OPENED per campaign."""
    _may_run(actor)
    now = now or timezone.now()
    period = f"adhoc-{timezone.localtime(now):%Y%m%dT%H%M%S}" if adhoc else period_of(now)
    deadline = now + dt.timedelta(days=int(getattr(settings, "CUSTODIA_REVIEW_DEADLINE_DAYS", 14)))
    opened = []
    with transaction.atomic():
        people = list(_active(User.objects.all()).order_by("username"))
        managers = {p.pk: p for p in people}
        held = _holdings(now)
        by_reviewer: dict = defaultdict(list)
        for person in people:
            reviewer = _reviewer_of(person, managers)
            by_reviewer[reviewer.pk if reviewer else None].append(person)
        existing = set(ReviewCampaign.objects.filter(period=period).values_list("reviewer_id", flat=True))
        for reviewer_id, subjects in sorted(by_reviewer.items(), key=lambda kv: str(kv[0])):
            if reviewer_id in existing:
                continue
            campaign = ReviewCampaign.objects.create(period=period, reviewer_id=reviewer_id, deadline=deadline,
                                                     opened_at=now)
            items = []
            for person in subjects:
                items.append(ReviewItem(campaign=campaign, subject=person, kind=ItemKind.ROLE, reference=person.role,
                                        detail={"role": person.role}))
                items += [ReviewItem(campaign=campaign, subject=person, kind=kind, reference=ref, customer_id=cid,
                                     detail=detail) for kind, ref, cid, detail in held.get(person.pk, ())]
            ReviewItem.objects.bulk_create(items)
            audit_record(actor=actor, event=events.REVIEW_CAMPAIGN_OPENED, target_type="review_campaign",
                         target_id=campaign.pk, detail={
                             "period": period, "reviewer_id": str(reviewer_id) if reviewer_id else None,
                             "items": len(items), "people": len(subjects), "deadline": deadline.isoformat()})
            opened.append(campaign)
    return opened


# --- deciding ---------------------------------------------------------------------------------------


def may_decide(actor: Actor, item: ReviewItem) -> bool:
    """The campaign's reviewer, or (the security admins' campaign) a holder of manage_roles; never
    on one's own access."""
    user = actor.user
    if user is None or item.subject_id == user.pk:
        return False
    if item.campaign.reviewer_id is not None:
        return item.campaign.reviewer_id == user.pk
    return allows(actor, Action.MANAGE_ROLES)


def review_item_decide(*, actor: Actor, item_id, decision: str, note: str = "") -> ReviewItem:
    """Confirm or revoke one item of an open campaign. Revoking takes effect at once (the next
    request of the person is refused / the customer leaves their scope) and is final; a confirmed
    item may still be revoked while the campaign is open. An item the actor may not decide is "not
    found". Callers: the campaign's reviewer (see ``may_decide``). Audits REVIEW_ITEM_CONFIRMED or
    REVIEW_ITEM_REVOKED, plus the access event of the revocation."""
    if decision not in (Decision.CONFIRM, Decision.REVOKE):
        raise ValidationError({"decision": [_("Choose confirm or revoke.")]})
    note = pii.mask_pii_in_text((note or "").strip())[:300]
    with transaction.atomic():
        item = (ReviewItem.objects.select_for_update().select_related("campaign")
                .filter(pk=_uuid(item_id)).first())
        if item is None or not may_decide(actor, item):
            raise NotFound()
        if not item.campaign.is_open:
            raise ValidationError({"decision": [_("This review is closed.")]})
        if item.decision in (Decision.REVOKE, Decision.FLAGGED):
            raise ValidationError({"decision": [_("This access was already revoked.")]})
        before = item.decision
        item.decision, item.decided_at, item.decided_by, item.note = decision, timezone.now(), actor.user, note
        if decision == Decision.REVOKE:
            item.outcome = _revoke(actor, item)
        item.save(update_fields=["decision", "decided_at", "decided_by", "note", "outcome"])
        audit_record(actor=actor, event=events.REVIEW_ITEM_CONFIRMED if decision == Decision.CONFIRM
                     else events.REVIEW_ITEM_REVOKED, **_item_target(item),
                     detail=_item_detail(item) | {"before": before, "outcome": item.outcome})
    return item


def _item_target(item: ReviewItem) -> dict:
    return {"target_type": "user", "target_id": item.subject_id, "subject_id": item.customer_id}


def _item_detail(item: ReviewItem) -> dict:
    return {"review_item": str(item.pk), "campaign": str(item.campaign_id), "period": item.campaign.period,
            "kind": item.kind, "reference": item.reference}


# --- revoking ---------------------------------------------------------------------------------------


def _revoke(actor: Actor, item: ReviewItem, *, automatic: bool = False) -> str:
    """Take away what the item names, with the access model's own audit event. Returns what was
    found: "revoked", "changed" (the role was changed since the campaign opened: nothing to take),
    "gone" (grant revoked or expired, assignment removed meanwhile) or "kept" (flagged)."""
    if item.kind == ItemKind.ROLE:
        return _revoke_role(actor, item, automatic=automatic)
    if item.kind == ItemKind.GRANT:
        grant = AccessGrant.objects.select_for_update().filter(
            pk=_uuid(item.reference), revoked_at__isnull=True).first()
        if grant is None or grant.expires_at <= timezone.now():
            return "gone"
        grant.revoked_at, grant.revoked_by = timezone.now(), actor.user
        grant.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=actor, event=access_events.ACCESS_GRANT_REVOKED, target_type="customer",
                     target_id=grant.customer_id, subject_id=grant.customer_id,
                     detail={"grant": str(grant.pk), "grantee_id": str(grant.grantee_id),
                             "review_item": str(item.pk)})
        return "revoked"
    assignment = CustomerAssignment.objects.filter(pk=_uuid(item.reference)).first()
    if assignment is None:
        return "gone"
    customer_id, user_id = assignment.customer_id, assignment.user_id
    assignment.delete()
    audit_record(actor=actor, event=access_events.CUSTOMER_UNASSIGNED, target_type="customer",
                 target_id=customer_id, subject_id=customer_id,
                 detail={"user_id": str(user_id), "assignment": item.reference, "review_item": str(item.pk)})
    return "revoked"


def no_access_role() -> Role:
    """The fallback role (no grants). Made by migration 0002; recreated (audited) when missing."""
    role = Role.objects.filter(code=NO_ACCESS_ROLE).first()
    if role is None:
        role = Role.objects.create(code=NO_ACCESS_ROLE, name=NO_ACCESS_ROLE_NAME, duty="operator",
                                   description="Given by access reviews when a role is revoked: no data, no administration.")
        audit_record(actor=Actor.system("reviews"), event=access_events.ROLE_CREATED, target_type="role",
                     target_id=role.pk, detail={"after": {"code": role.code, "name": role.name}})
    return role


def _last_administrator(person: User) -> bool:
    """Is ``person`` the only active holder of manage_roles?"""
    holders = [u for u in _active(User.objects.exclude(pk=person.pk).filter(is_superuser=False))
               if allows(Actor.for_user(u), Action.MANAGE_ROLES)]
    return not holders and allows(Actor.for_user(person), Action.MANAGE_ROLES)


def _revoke_role(actor: Actor, item: ReviewItem, *, automatic: bool) -> str:
    person = User.objects.select_for_update().get(pk=item.subject_id)
    if person.role != item.reference or person.role == NO_ACCESS_ROLE:
        return "changed"
    if automatic and _last_administrator(person):
        return "kept"
    role = no_access_role()
    before = {"role": person.role, "training_valid_until": _iso(person.training_valid_until)}
    person.role = role.code
    person.save(update_fields=["role"])
    audit_record(actor=actor, event=access_events.USER_ACCESS_CHANGED, target_type="user", target_id=person.pk,
                 detail={"before": before, "after": before | {"role": role.code}, "review_item": str(item.pk)})
    return "revoked"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- the deadline -----------------------------------------------------------------------------------


def campaigns_close_overdue(*, actor: Actor, now: dt.datetime | None = None) -> dict:
    """Close every open campaign whose deadline has passed, revoking each item still pending
    (confirmed items stay). One transaction per campaign, so an interruption leaves whole campaigns
    closed or untouched; running it again finishes the rest (idempotent). Callers: the periodic job,
    ``custodia reviews close-overdue``, a security admin. Audits REVIEW_ITEM_AUTO_REVOKED /
    REVIEW_ITEM_FLAGGED per item (plus the access event) and REVIEW_CAMPAIGN_CLOSED per campaign."""
    _may_run(actor)
    now = now or timezone.now()
    totals = {"campaigns": 0, "revoked": 0, "flagged": 0}
    due = list(ReviewCampaign.objects.filter(status=CampaignStatus.OPEN, deadline__lte=now)
               .order_by("deadline").values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            campaign = ReviewCampaign.objects.select_for_update().filter(pk=pk, status=CampaignStatus.OPEN).first()
            if campaign is None:
                continue
            counts = {"revoked": 0, "flagged": 0, "confirmed": campaign.items.filter(decision=Decision.CONFIRM).count()}
            for item in campaign.items.filter(decision=Decision.PENDING).select_related("campaign"):
                item.outcome = _revoke(actor, item, automatic=True)
                flagged = item.outcome == "kept"
                item.decision = Decision.FLAGGED if flagged else Decision.REVOKE
                item.decided_at, item.automatic = now, True
                item.save(update_fields=["decision", "decided_at", "automatic", "outcome"])
                audit_record(actor=actor, event=events.REVIEW_ITEM_FLAGGED if flagged else events.REVIEW_ITEM_AUTO_REVOKED,
                             **_item_target(item), detail=_item_detail(item) | {"outcome": item.outcome})
                counts["flagged" if flagged else "revoked"] += 1
            campaign.status, campaign.closed_at = CampaignStatus.CLOSED, now
            campaign.save(update_fields=["status", "closed_at"])
            audit_record(actor=actor, event=events.REVIEW_CAMPAIGN_CLOSED, target_type="review_campaign",
                         target_id=campaign.pk, detail={"period": campaign.period, **counts})
            totals["campaigns"] += 1
            totals["revoked"] += counts["revoked"]
            totals["flagged"] += counts["flagged"]
    return totals

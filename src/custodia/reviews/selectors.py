"""Reads of access reviews. A campaign is visible to its reviewer, the security admins' campaign to
holders of manage_roles, and every campaign (read only) to the overview's readers (manage_roles or
read_audit: security admin, compliance, auditor). Anything else is "not found". Not audited: the
items name colleagues and roles, and customers only by masked name."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from custodia.access.choices import ACTION_LABELS, Action
from custodia.access.models import User
from custodia.access.policy import allows
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.protection.masking import mask_name
from custodia.reviews.choices import NO_ACCESS_ROLE, NO_ACCESS_ROLE_NAME, CampaignStatus, Decision
from custodia.reviews.models import ReviewCampaign, ReviewItem
from custodia.reviews.services import may_decide


def may_oversee(actor: Actor) -> bool:
    return allows(actor, Action.MANAGE_ROLES) or allows(actor, Action.READ_AUDIT)


def _with_counts(qs):
    return qs.select_related("reviewer").annotate(
        total=Count("items"), decided=Count("items", filter=~Q(items__decision=Decision.PENDING)),
        revoked=Count("items", filter=Q(items__decision=Decision.REVOKE)))


def _progress(campaign) -> ReviewCampaign:
    campaign.percent = round(100 * campaign.decided / campaign.total) if campaign.total else 100
    return campaign


def my_campaigns(actor: Actor) -> list[ReviewCampaign]:
    """The campaigns the actor reviews: their own, and the security admins' for manage_roles."""
    if actor.user is None:
        return []
    q = Q(reviewer=actor.user)
    if allows(actor, Action.MANAGE_ROLES):
        q |= Q(reviewer__isnull=True)
    return [_progress(c) for c in _with_counts(ReviewCampaign.objects.filter(q)).order_by("status", "-opened_at")]


def campaign_overview(actor: Actor, *, status: str = "") -> list[ReviewCampaign]:
    if not may_oversee(actor):
        raise PermissionDenied()
    qs = ReviewCampaign.objects.all()
    if status in CampaignStatus.values:
        qs = qs.filter(status=status)
    return [_progress(c) for c in _with_counts(qs).order_by("-opened_at", "reviewer__username")]


def people_without_role(actor: Actor) -> list[User]:
    """People left on the no-access role by a review: the security admin gives them a proper role."""
    if not may_oversee(actor):
        raise PermissionDenied()
    return list(User.objects.filter(role=NO_ACCESS_ROLE, is_active=True).order_by("username"))


def flagged_items(actor: Actor) -> list[ReviewItem]:
    if not may_oversee(actor):
        raise PermissionDenied()
    return list(ReviewItem.objects.filter(decision=Decision.FLAGGED).select_related("subject", "campaign")
                .order_by("-decided_at"))


def campaign_get(actor: Actor, campaign_id) -> ReviewCampaign:
    campaign = _with_counts(ReviewCampaign.objects.filter(pk=campaign_id)).first()
    if campaign is None or actor.user is None:
        raise NotFound()
    reviews = campaign.reviewer_id == actor.user.pk or (
        campaign.reviewer_id is None and allows(actor, Action.MANAGE_ROLES))
    if not (reviews or may_oversee(actor)):
        raise NotFound()
    return _progress(campaign)


@dataclass
class Row:
    item: ReviewItem
    customer_label: str  # the customer's masked name (grants, assignments)
    can_decide: bool
    role_label: str = ""
    action_labels: list = field(default_factory=list)  # a grant's actions, as the user reads them


def role_labels() -> dict:
    from custodia.access.selectors import role_choices

    return dict(role_choices()) | {NO_ACCESS_ROLE: NO_ACCESS_ROLE_NAME}


def _row(actor: Actor, item: ReviewItem, roles: dict) -> Row:
    label = ""
    if item.customer_id:
        label = mask_name(item.customer.name) if item.customer else "—"
    can = item.campaign.is_open and item.decision in (Decision.PENDING, Decision.CONFIRM) and may_decide(actor, item)
    actions = [ACTION_LABELS.get(a, a) for a in (item.detail or {}).get("actions") or []] if item.kind == "grant" else []
    return Row(item, label, can, roles.get(item.reference, item.reference) if item.kind == "role" else "", actions)


@dataclass
class Person:
    person: User
    rows: list


def campaign_items(actor: Actor, campaign: ReviewCampaign) -> list[Person]:
    """The campaign's items grouped by person (two queries), with what the actor may decide."""
    items = (ReviewItem.objects.filter(campaign=campaign).select_related("subject__team", "customer")
             .order_by("subject__username", "kind", "reference"))
    people: dict = {}
    roles = role_labels()
    for item in items:
        item.campaign = campaign
        people.setdefault(item.subject_id, Person(item.subject, [])).rows.append(_row(actor, item, roles))
    return list(people.values())


def item_row(actor: Actor, item_id) -> Row:
    item = ReviewItem.objects.select_related("campaign", "subject", "customer").filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    campaign_get(actor, item.campaign_id)
    return _row(actor, item, role_labels())

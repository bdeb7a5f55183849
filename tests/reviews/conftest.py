"""An organisation with something to review (on top of make_org):

    manager01 → rep01, rep02 (team_a); manager02 → rep03 (team_b); everyone else has no manager
    (their access goes to the security admins' campaign).
    rep02 holds a time-bound grant on rep03's customer and is assigned to rep01's core customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from custodia.access import grant_services
from custodia.access.models import User
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.reviews import services
from custodia.reviews.models import ReviewCampaign

SYSTEM = Actor.system("tests")


@dataclass
class World:
    org: object
    far: object  # rep03's customer, opened to rep02 by a time-bound grant
    core: object  # rep01's core customer, rep02 assigned
    grant: object
    assignment: object


@pytest.fixture
def world(org, customer_factory):
    far = customer_factory(org.other_rep, name="远方客户")
    core = customer_factory(org.rep, name="林晓梅", tier="core")
    compliance = org.actor("compliance")
    grant = grant_services.access_grant_create(actor=compliance, customer_id=far.pk, username="rep02",
                                               actions=["view"], purpose="季度对账支持", days=30)
    assignment = grant_services.customer_assign(actor=compliance, customer_id=core.pk, username="rep02")
    return World(org, far, core, grant, assignment)


@pytest.fixture
def opened(world):
    services.campaigns_open(actor=SYSTEM)
    return world


def campaign_of(user) -> ReviewCampaign:
    return ReviewCampaign.objects.get(reviewer=user)


def pool() -> ReviewCampaign:
    return ReviewCampaign.objects.get(reviewer__isnull=True)


def item(campaign, subject, kind):
    return campaign.items.get(subject=subject, kind=kind)


def sees(user, customer, action="view") -> bool:
    """As in a new request: a fresh user object (the policy caches on it for one request)."""
    user = User.objects.get(pk=user.pk)
    return Customer.objects.restrict(Actor.for_user(user), action).filter(pk=customer.pk).exists()

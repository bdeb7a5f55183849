"""An organisation with a reporting line and a department tree, on top of make_org:

    east (dept_a)                       south (dept_b)
      ├─ east-1 (team_a): manager01 → rep01, rep02      south-1: manager02 → rep03
      └─ east-north (sub-department), team east-n1: lead01 (reports to manager01) → rep11
    rep12 sits in south-1 but reports to lead01 (a report in another department).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from custodia.access import grant_services
from custodia.access.models import Department, Role, Team
from custodia.kernel.actor import Actor
from custodia.testing.factories import make_user

SYSTEM = Actor.system("tests")


@dataclass
class Tree:
    sub_dept: Department
    sub_team: Team
    lead: object  # reports to org.manager, sits in the sub-department
    deep_rep: object  # reports to lead
    far_rep: object  # reports to lead, sits in the other department


@pytest.fixture
def tree(org):
    sub = Department.objects.create(code="east-north", name="华东北区", parent=org.dept_a)
    team = Team.objects.create(code="east-n1", name="华东北区一组", department=sub)
    lead = make_user("lead01", "rep", team, org.manager)
    deep = make_user("rep11", "rep", team, lead)
    far = make_user("rep12", "rep", org.team_b, lead)
    return Tree(sub, team, lead, deep, far)


def custom_role(code: str, *, scope: str, actions=("view",), tiers=("core", "important", "ordinary"),
                departments=(), level: int = 0, duty: str = "operator") -> Role:
    role = grant_services.role_create(actor=SYSTEM, data={"code": code, "name": code, "duty": duty})
    grant_services.role_grant_save(actor=SYSTEM, role_id=role.pk, data={
        "object_type": "customer", "actions": list(actions), "scope": scope, "tiers": list(tiers),
        "departments": list(departments), "reveal_max_level": level})
    return role


def give_role(user, code: str) -> None:
    user.role = code
    user.save(update_fields=["role"])


def signed_in(client, user):
    """Sign ``user`` in for UI tests, with a second factor enrolled where the identity app asks for
    one (roles that reveal, export or administer)."""
    from django.apps import apps

    if apps.is_installed("allauth.mfa"):
        from allauth.mfa.models import Authenticator

        if not Authenticator.objects.filter(user=user, type="totp").exists():
            Authenticator.objects.create(user=user, type="totp", data={"secret": "test"})
    client.force_login(user)
    return client

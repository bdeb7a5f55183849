"""The data-scope ladder, evaluated by the one restrict(actor, action) mechanism against real rows."""

from __future__ import annotations

import pytest

from custodia.access.models import Role
from custodia.access.policy import allows, may_reveal, reveal_max_level
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from tests.access.conftest import custom_role, give_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(org, tree, customer_factory):
    """One customer per person, named after the owner."""
    for user in (org.manager, org.rep, org.rep2, org.other_rep, tree.lead, tree.deep_rep, tree.far_rep):
        customer_factory(user, name=user.username)


def visible(user, action="view") -> set[str]:
    return set(Customer.objects.restrict(Actor.for_user(user), action).values_list("name", flat=True))


EVERYONE = {"manager01", "rep01", "rep02", "rep03", "lead01", "rep11", "rep12"}


@pytest.mark.parametrize("scope, expected", [
    ("own", {"manager01"}),
    ("own_reports", {"manager01", "rep01", "rep02", "lead01", "rep11", "rep12"}),  # recursive, any department
    ("team", {"manager01", "rep01", "rep02", "lead01", "rep11", "rep12"}),
    ("department", {"manager01", "rep01", "rep02"}),  # not the sub-department
    ("department_tree", {"manager01", "rep01", "rep02", "lead01", "rep11"}),  # not rep12 (other department)
    ("named", {"manager01", "rep03", "rep12"}),  # own, plus the named department (south)
    ("all", EVERYONE),
])
def test_the_scope_ladder(org, tree, rows, scope, expected):
    custom_role("probe", scope=scope, departments=["south"] if scope == "named" else ())
    give_role(org.manager, "probe")
    assert visible(org.manager) == expected


def test_own_and_reports_follows_the_reporting_line_recursively(org, tree, rows):
    custom_role("lead-scope", scope="own_reports")
    give_role(tree.lead, "lead-scope")
    assert visible(tree.lead) == {"lead01", "rep11", "rep12"}


def test_built_in_roles_keep_their_scopes(org, tree, rows):
    assert visible(org.rep) == {"rep01"}
    assert visible(org.manager) == {"manager01", "rep01", "rep02", "lead01", "rep11", "rep12"}
    assert visible(org.compliance) == EVERYONE
    assert visible(org.admin) == EVERYONE
    for name in ("secadmin", "auditor", "legal", "hr"):
        assert visible(getattr(org, name)) == set()


def test_actions_and_reveal_levels_come_from_the_role_grants(org):
    assert allows(org.actor("rep"), "change") and not allows(org.actor("rep"), "delete")
    assert not allows(org.actor("compliance"), "change") and allows(org.actor("compliance"), "export")
    assert reveal_max_level(org.actor("rep")) == 3 and may_reveal(org.actor("manager"), 4)
    assert allows(org.actor("secadmin"), "manage_roles") and not allows(org.actor("secadmin"), "view")
    assert allows(org.actor("auditor"), "read_audit") and not allows(org.actor("auditor"), "reveal")
    # Superuser: everything on customers, but separation of duties holds.
    assert allows(org.actor("admin"), "delete") and not allows(org.actor("admin"), "manage_roles")
    # The console operator (system actor) may do everything.
    assert allows(Actor.system("tests"), "manage_roles")


def test_editing_a_grant_changes_access_at_once(org, rows):
    from custodia.access import grant_services

    grant = Role.objects.get(code="rep").grants.get(object_type="customer")
    assert visible(org.rep) == {"rep01"}
    grant_services.role_grant_save(actor=Actor.system("tests"), role_id=grant.role_id, grant_id=grant.pk,
                                   data={"scope": "department"})
    assert visible(org.rep) == {"manager01", "rep01", "rep02"}


def test_a_tier_constraint_filters_in_sql(org, customer_factory):
    customer_factory(org.rep, name="普通", tier="ordinary")
    customer_factory(org.rep, name="重要", tier="important")
    custom_role("ordinary-only", scope="all", tiers=["ordinary"])
    give_role(org.rep2, "ordinary-only")
    assert visible(org.rep2) == {"普通"}


def test_scope_costs_few_queries(org, tree, rows, django_assert_max_num_queries):
    """Role grants once, the person's assignments and grants once, the reporting line once; cached
    on the user object for the request."""
    actor = org.actor("manager")
    with django_assert_max_num_queries(5):
        list(Customer.objects.restrict(actor, "view"))
    with django_assert_max_num_queries(1):
        list(Customer.objects.restrict(actor, "view"))

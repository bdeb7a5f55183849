"""The team rung as one indexed range (``policy._team_anchored``): the same rows as the general
OR of the scope filter — the team's non-core customers, the manager's own anywhere, granted
customers for the granted actions only — and a query plan that walks the team's index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from custodia.access.models import AccessGrant, Team
from custodia.customers.models import Customer
from custodia.kernel.actor import Actor
from custodia.testing.factories import make_customer, make_org, make_user


def visible(user, action="view") -> set:
    return set(Customer.objects.restrict(Actor.for_user(user), action).values_list("id", flat=True))


@pytest.mark.django_db
def test_the_anchored_team_scope_keeps_every_row_it_should_and_no_other():
    org = make_org()
    team_c = Team.objects.create(code="east-3", name="华东三组", department=org.dept_a)
    elsewhere = make_user("rep05", "rep", team_c)
    team_customer = make_customer(org.rep)
    team_core = make_customer(org.rep, tier="core")
    own_core = make_customer(org.manager, tier="core")
    own_elsewhere = make_customer(org.manager)
    Customer.objects.filter(pk=own_elsewhere.pk).update(team_id=team_c.pk)  # e.g. after a handover
    granted_view = make_customer(elsewhere)
    granted_change = make_customer(org.other_rep)
    other = make_customer(elsewhere)
    now = timezone.now()
    for customer, actions in ((granted_view, ["view"]), (granted_change, ["view", "change"])):
        AccessGrant.objects.create(grantee=org.manager, customer=customer, actions=actions, purpose="交接客户",
                                   granted_by=org.compliance, expires_at=now + dt.timedelta(days=3))
    seen = visible(org.manager)
    assert {team_customer.pk, own_core.pk, own_elsewhere.pk, granted_view.pk, granted_change.pk} <= seen
    assert team_core.pk not in seen and other.pk not in seen
    changeable = visible(org.manager, "change")
    assert granted_change.pk in changeable and granted_view.pk not in changeable


@pytest.mark.django_db
def test_the_manager_list_walks_the_team_index():
    org = make_org()
    make_customer(org.rep)
    qs = Customer.objects.restrict(Actor.for_user(org.manager), "view").order_by("-created_at", "id")[:50]
    sql, params = qs.query.sql_with_params()
    assert '"team_id" = ' in sql and " OR " not in sql.split('"team_id" = ')[0]  # the range comes first
    if connection.vendor != "sqlite":
        return  # PostgreSQL's planner weighs table sizes; the plan is checked on SQLite
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "MULTI-INDEX OR" not in plan and "team_id" in plan

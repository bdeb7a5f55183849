"""Row scope of each role, through the one restrict(actor, action) mechanism."""

import pytest

from custodia.customers.models import Customer
from custodia.testing.factories import make_user

pytestmark = pytest.mark.django_db


def visible(org, name):
    return set(Customer.objects.restrict(org.actor(name), "view").values_list("name", flat=True))


def test_each_role_sees_its_scope(org, customer_factory):
    customer_factory(org.rep, name="rep01的客户")
    customer_factory(org.rep2, name="rep02的客户")
    customer_factory(org.other_rep, name="rep03的客户")
    assert visible(org, "rep") == {"rep01的客户"}
    assert visible(org, "manager") == {"rep01的客户", "rep02的客户"}
    assert visible(org, "other_manager") == {"rep03的客户"}
    assert visible(org, "compliance") == {"rep01的客户", "rep02的客户", "rep03的客户"}
    for role in ("secadmin", "auditor", "legal", "hr"):
        assert visible(org, role) == set()


def test_manager_sees_a_report_who_sits_in_another_team(org, customer_factory):
    seconded = make_user("rep09", "rep", org.team_b, org.manager)
    customer_factory(seconded, name="借调同事的客户")
    assert "借调同事的客户" in visible(org, "manager")
    assert "借调同事的客户" in visible(org, "other_manager")  # it is also team_b's customer


def test_deleted_customers_are_out_of_every_scope(org, customer_factory):
    from custodia.customers import services

    customer = customer_factory(org.rep, name="已删除")
    services.customer_delete(actor=org.actor("manager"), customer_id=customer.pk)
    assert "已删除" not in visible(org, "compliance")

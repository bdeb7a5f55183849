"""Roles as data: separation of duties, the allow-lists, role editing by a security admin only
(audited), people's roles, and the pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from custodia.access import grant_services
from custodia.access.models import Role, RoleGrant, User
from custodia.audit.models import AuditEvent
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from tests.access.conftest import signed_in

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def test_built_in_roles_are_seeded_with_the_existing_codes():
    assert set(Role.objects.filter(builtin=True).values_list("code", flat=True)) == {
        "rep", "manager", "compliance", "secadmin", "auditor", "legal", "hr"}
    assert not RoleGrant.objects.filter(role__code__in=["legal", "hr"]).exists()


class SeparationOfDutiesTests:
    def test_a_role_may_not_change_customer_data_and_manage_roles(self, org):
        role = grant_services.role_create(actor=org.actor("secadmin"), data={"code": "mixed", "name": "混合",
                                                                             "duty": "operator"})
        grant_services.role_grant_save(actor=org.actor("secadmin"), role_id=role.pk, data={
            "object_type": "customer", "actions": ["view", "change"], "scope": "own"})
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            grant_services.role_grant_save(actor=org.actor("secadmin"), role_id=role.pk, data={
                "object_type": "role", "actions": ["manage_roles"], "scope": "all"})
        assert "actions" in exc.value.message_dict
        assert "Separation of duties" in exc.value.message_dict["actions"][0]
        assert role.grants.count() == 1

    def test_the_error_is_translated(self, org):
        role = Role.objects.get(code="secadmin")
        with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
            grant_services.role_grant_save(actor=SYSTEM, role_id=role.pk, data={
                "object_type": "customer", "actions": ["change"], "scope": "own"})
        assert "actions" in exc.value.message_dict

    def test_an_admin_duty_role_may_not_hold_customer_actions(self):
        role = Role.objects.get(code="secadmin")
        with pytest.raises(ValidationError) as exc:
            grant_services.role_grant_save(actor=SYSTEM, role_id=role.pk, data={
                "object_type": "customer", "actions": ["view"], "scope": "all"})
        assert "actions" in exc.value.message_dict

    def test_changing_the_duty_is_checked_against_the_grants(self):
        role = Role.objects.get(code="rep")
        with pytest.raises(ValidationError) as exc:
            grant_services.role_update(actor=SYSTEM, role_id=role.pk, data={"duty": "admin"})
        assert "duty" in exc.value.message_dict
        role.refresh_from_db()
        assert role.duty == "operator"

    def test_the_superuser_does_not_manage_roles(self, org):
        with pytest.raises(PermissionDenied):
            grant_services.role_create(actor=org.actor("admin"), data={"code": "x", "name": "x"})


class AllowListTests:
    @pytest.mark.parametrize("data, field", [
        ({"object_type": "customer", "actions": ["read_audit"], "scope": "own"}, "actions"),
        ({"object_type": "customer", "actions": [], "scope": "own"}, "actions"),
        ({"object_type": "audit_log", "actions": ["read_audit"], "scope": "own"}, "scope"),
        ({"object_type": "customer", "actions": ["view"], "scope": "own", "tiers": []}, "tiers"),
        ({"object_type": "customer", "actions": ["view"], "scope": "own", "reveal_max_level": 3}, "reveal_max_level"),
        ({"object_type": "customer", "actions": ["view"], "scope": "named"}, "departments"),
    ])
    def test_constraints_outside_the_allow_list_are_field_errors(self, data, field):
        role = Role.objects.get(code="rep")
        before = RoleGrant.objects.count()
        with pytest.raises(ValidationError) as exc:
            grant_services.role_grant_save(actor=SYSTEM, role_id=role.pk, data=data)
        assert field in exc.value.message_dict
        assert RoleGrant.objects.count() == before


class RoleEditingTests:
    def test_only_manage_roles_edits_roles(self, org):
        for name in ("rep", "manager", "compliance", "auditor", "admin"):
            with pytest.raises(PermissionDenied):
                grant_services.role_update(actor=org.actor(name), role_id=Role.objects.get(code="rep").pk,
                                           data={"name": "x"})

    def test_every_change_is_audited(self, org):
        actor = org.actor("secadmin")
        role = grant_services.role_create(actor=actor, data={"code": "viewer", "name": "只读", "duty": "operator"})
        grant = grant_services.role_grant_save(actor=actor, role_id=role.pk, data={
            "object_type": "customer", "actions": ["view"], "scope": "department"})
        grant_services.role_grant_save(actor=actor, role_id=role.pk, grant_id=grant.pk, data={"scope": "all"})
        grant_services.role_update(actor=actor, role_id=role.pk, data={"name": "只读全部"})
        grant_services.role_grant_remove(actor=actor, grant_id=grant.pk)
        actions = list(AuditEvent.objects.filter(actor_id=org.secadmin.pk).values_list("action", flat=True))
        assert actions == ["access.role.created", "access.role.grant.added", "access.role.grant.changed",
                           "access.role.updated", "access.role.grant.removed"]
        changed = AuditEvent.objects.get(action="access.role.grant.changed")
        assert changed.detail["before"]["scope"] == "department" and changed.detail["after"]["scope"] == "all"

    def test_assigning_a_role_is_audited_and_not_for_oneself(self, org):
        actor = org.actor("secadmin")
        grant_services.user_access_update(actor=actor, user_id=org.rep.pk, role="manager", training_valid_until=None)
        assert User.objects.get(pk=org.rep.pk).role == "manager"
        event = AuditEvent.objects.get(action="access.user.access.changed")
        assert event.detail == {"before": {"role": "rep", "training_valid_until": None},
                                "after": {"role": "manager", "training_valid_until": None}}
        with pytest.raises(ValidationError) as exc:
            grant_services.user_access_update(actor=actor, user_id=org.secadmin.pk, role="compliance",
                                              training_valid_until=None)
        assert "role" in exc.value.message_dict
        with pytest.raises(ValidationError):
            grant_services.user_access_update(actor=actor, user_id=org.rep.pk, role="nope", training_valid_until=None)


class RolePagesTests:
    def test_secadmin_sees_the_roles_and_the_nav_link(self, client, org):
        signed_in(client, org.secadmin)
        html = client.get(reverse("access:roles")).content.decode()
        assert "销售代表" in html and reverse("access:people") in html
        assert client.get(reverse("dashboard")).content.decode().count(reverse("access:roles")) == 1

    def test_others_get_no_link_and_403(self, client, org):
        signed_in(client, org.manager)
        assert reverse("access:roles") not in client.get(reverse("dashboard")).content.decode()
        assert client.get(reverse("access:roles")).status_code == 403

    def test_a_grant_form_shows_field_errors_and_saves_nothing(self, client, org):
        signed_in(client, org.secadmin)
        role = Role.objects.get(code="auditor")
        before = RoleGrant.objects.count()
        response = client.post(reverse("access:grant_create", args=[role.pk]), {
            "object_type": "customer", "actions": ["change"], "scope": "own", "tiers": ["ordinary"],
            "reveal_max_level": 0})
        html = response.content.decode()
        assert response.status_code == 200 and "field-errors" in html
        assert RoleGrant.objects.count() == before

    def test_a_role_is_created_and_given_a_grant_through_the_pages(self, client, org):
        signed_in(client, org.secadmin)
        response = client.post(reverse("access:role_create"), {"code": "east-view", "name": "华东只读",
                                                               "duty": "operator"})
        role = Role.objects.get(code="east-view")
        assert response.status_code == 302
        response = client.post(reverse("access:grant_create", args=[role.pk]), {
            "object_type": "customer", "actions": ["view"], "scope": "named", "departments": ["east"],
            "tiers": ["important", "ordinary"], "reveal_max_level": 0})
        assert response.status_code == 302
        grant = role.grants.get()
        assert grant.scope == "named" and [d.code for d in grant.departments.all()] == ["east"]


class CustomerAccessPageTests:
    def test_manager_assigns_and_grants_from_the_customer_page(self, client, org, customer_factory):
        customer = customer_factory(org.rep)
        signed_in(client, org.manager)
        url = reverse("customers:access", args=[customer.pk])
        assert reverse("customers:access", args=[customer.pk]) in client.get(
            reverse("customers:detail", args=[customer.pk])).content.decode()
        assert client.post(url, {"op": "assign", "user": "rep03"}).status_code == 302
        response = client.post(url, {"op": "grant", "grantee": "rep03", "actions": ["view"], "days": "7",
                                     "purpose": ""})
        assert response.status_code == 200 and "field-errors" in response.content.decode()  # purpose missing
        response = client.post(url, {"op": "grant", "grantee": "hr01", "actions": ["view"], "days": "7",
                                     "purpose": "协助核对合同"})  # HR does not work with customer records
        assert response.status_code == 200 and "field-errors" in response.content.decode()
        assert client.post(url, {"op": "grant", "grantee": "manager02", "actions": ["view", "reveal"], "days": "7",
                                 "purpose": "协助核对合同"}).status_code == 302
        html = client.get(url).content.decode()
        assert "rep03" in html and "协助核对合同" in html

    def test_a_rep_has_no_access_page(self, client, org, customer_factory):
        customer = customer_factory(org.rep)
        signed_in(client, org.rep)
        assert client.get(reverse("customers:access", args=[customer.pk])).status_code == 403


def test_missing_built_in_roles_are_restored_without_touching_edited_ones():
    from custodia.access.builtin import ensure_builtin_roles

    Role.objects.filter(code="hr").delete()
    Role.objects.filter(code="rep").update(name="客户经理")
    assert ensure_builtin_roles() == 1
    assert Role.objects.get(code="rep").name == "客户经理" and Role.objects.filter(code="hr", builtin=True).exists()

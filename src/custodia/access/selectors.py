"""Reads of the access model: roles and their grants, staff and their roles (for manage_roles),
and who has access to one customer (for share). Not audited: no customer data is shown (the
customer page's own read is audited by customers.selectors)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from custodia.access.choices import Action, EmploymentStatus
from custodia.access.models import AccessGrant, CustomerAssignment, Department, Role, RoleGrant, User
from custodia.access.policy import allows, denial_reason, may_hold_customers
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied


def _require(actor: Actor, action: str) -> None:
    if not allows(actor, action):
        raise PermissionDenied(denial_reason(actor, action))


def role_list(actor: Actor) -> list[Role]:
    """Every role with its grants and the number of people holding it (two queries)."""
    _require(actor, Action.MANAGE_ROLES)
    roles = list(Role.objects.prefetch_related("grants__departments"))
    counts = dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")))
    for role in roles:
        role.people = counts.get(role.code, 0)
    return roles


def role_get(actor: Actor, role_id) -> Role:
    _require(actor, Action.MANAGE_ROLES)
    role = Role.objects.prefetch_related("grants__departments").filter(pk=role_id).first()
    if role is None:
        raise NotFound()
    role.people = User.objects.filter(is_active=True, role=role.code).count()
    return role


def role_grant_get(actor: Actor, grant_id) -> RoleGrant:
    _require(actor, Action.MANAGE_ROLES)
    grant = RoleGrant.objects.select_related("role").prefetch_related("departments").filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    return grant


def department_choices() -> list[tuple[str, str]]:
    return list(Department.objects.order_by("code").values_list("code", "name"))


def role_choices() -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in Role.objects.all()]


def staff_list(actor: Actor, *, q: str = "", role: str = "") -> list[User]:
    _require(actor, Action.MANAGE_ROLES)
    people = User.objects.select_related("department", "team").filter(is_active=True)
    if q:
        people = people.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role:
        people = people.filter(role=role)
    return list(people.order_by("username")[:500])


def staff_get(actor: Actor, user_id) -> User:
    _require(actor, Action.MANAGE_ROLES)
    person = User.objects.select_related("department", "team").filter(pk=user_id).first()
    if person is None:
        raise NotFound()
    return person


@dataclass
class CustomerAccess:
    customer: object
    assignments: list
    grants: list  # (AccessGrant, state)
    colleagues: list[tuple[str, str]]  # (username, label) who may be assigned or granted


def customer_access(actor: Actor, customer_id) -> CustomerAccess:
    """Who sees one customer beyond the role scopes: assignments and time-bound grants (latest
    first, expired and revoked ones kept visible). NotFound when out of scope; PermissionDenied
    without share."""
    from custodia.customers.services import get_for_action

    customer = get_for_action(actor, customer_id, Action.SHARE)
    assignments = list(CustomerAssignment.objects.filter(customer=customer).select_related("user", "assigned_by"))
    now = timezone.now()
    grants = [(g, g.state(now)) for g in AccessGrant.objects.filter(customer=customer)
              .select_related("grantee", "granted_by", "revoked_by")[:100]]
    taken = {a.user_id for a in assignments} | {customer.owner_id}
    if actor.user is not None:
        taken.add(actor.user.pk)
    holds: dict[tuple, bool] = {}  # by role: one policy lookup per role, not per person

    def eligible(u) -> bool:
        key = (u.role, u.is_superuser)
        if key not in holds:
            holds[key] = may_hold_customers(u)
        return holds[key]

    colleagues = [(u.username, f"{u.get_full_name()} ({u.username})") for u in
                  User.objects.filter(is_active=True, employment_status=EmploymentStatus.ACTIVE)
                  .exclude(pk__in=taken).order_by("username") if eligible(u)]
    return CustomerAccess(customer, assignments, grants, colleagues)

"""What each role may do with customer data, and the scope of its rows.

This is the built-in policy the access-control issue turns into editable roles; every check in
the UI, API, CLI, exports and jobs goes through ``restrict_queryset``, ``allows`` and
``may_reveal`` so that change happens in one place.
"""

from __future__ import annotations

from django.db.models import Q

from custodia.access.choices import EmploymentStatus
from custodia.kernel.actor import Actor

ALL_ACTIONS = frozenset({"view", "add", "change", "delete", "reveal", "export"})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "rep": frozenset({"view", "add", "change", "reveal", "export"}),
    "manager": frozenset({"view", "add", "change", "delete", "reveal", "export"}),
    "compliance": frozenset({"view", "reveal", "export"}),
    "admin": ALL_ACTIONS,
    "system": ALL_ACTIONS,
}
# Highest sensitivity level (catalog Level) a role may reveal directly.
REVEAL_MAX_LEVEL = {"rep": 3, "manager": 4, "compliance": 4, "admin": 4, "system": 4}
# Row scope: own customers, the team's, or all.
ROLE_SCOPE = {"rep": "own", "manager": "team", "compliance": "all", "admin": "all", "system": "all"}
# Actions a person in a departure cooling-off period keeps.
COOLING_OFF_ACTIONS = frozenset({"view"})


def _user_active(actor: Actor) -> bool:
    user = actor.user
    if user is None:
        return True
    return user.is_active and user.employment_status != EmploymentStatus.DEPARTED


def allows(actor: Actor, action: str) -> bool:
    """May the actor perform ``action`` on customer data at all (before row scope)?"""
    if action not in ALL_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not _user_active(actor):
        return False
    actions = ROLE_ACTIONS.get(actor.role, frozenset())
    if actor.user is not None and actor.user.employment_status == EmploymentStatus.COOLING_OFF:
        actions = actions & COOLING_OFF_ACTIONS
    return action in actions


def scope_q(actor: Actor, prefix: str = "") -> Q | None:
    """The SQL filter for the actor's rows; None means all rows."""
    scope = ROLE_SCOPE.get(actor.role)
    if scope == "all":
        return None
    user = actor.user
    if scope == "own":
        return Q(**{f"{prefix}owner_id": user.pk})
    if scope == "team":
        # The team's customers (one indexed equality, walked in list order), plus those of the
        # manager and their reports where they sit outside the team.
        from custodia.access.models import User

        outsiders = list(User.objects.filter(Q(pk=user.pk) | Q(manager_id=user.pk))
                         .exclude(team_id=user.team_id).values_list("pk", flat=True))
        q = Q(**{f"{prefix}team_id": user.team_id}) if user.team_id else None
        if outsiders:
            extra = Q(**{f"{prefix}owner_id__in": outsiders})
            q = extra if q is None else q | extra
        return q if q is not None else Q(pk__in=[])
    return Q(pk__in=[])


def restrict_queryset(qs, actor: Actor, action: str = "view"):
    if not allows(actor, action):
        return qs.none()
    prefix = getattr(qs.model, "scope_path", "")
    qs = qs.filter(**{f"{prefix}deleted_at__isnull": True})
    if prefix:
        qs = qs.filter(deleted_at__isnull=True)
    q = scope_q(actor, prefix)
    return qs if q is None else qs.filter(q)


def may_reveal(actor: Actor, level: int) -> bool:
    return allows(actor, "reveal") and level <= REVEAL_MAX_LEVEL.get(actor.role, 0)

"""Template context: what the signed-in person may do, from the one access policy (for menus;
every view and service still checks for itself)."""

from __future__ import annotations

from custodia.access.policy import ALL_ACTIONS, allows
from custodia.kernel.actor import Actor


def permissions(request):
    """``perms_custodia``: {action: bool} for every action of the access model (customer actions,
    ``share``, ``manage_roles``, ``read_audit`` …), evaluated once per request from the cached grants."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"perms_custodia": {}}
    actor = Actor.for_user(user)
    return {"perms_custodia": {action: allows(actor, action) for action in ALL_ACTIONS}}

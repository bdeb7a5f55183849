"""Questions about a person's sign-in: must they use a second factor, and have they enrolled one."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from custodia.access import policy
from custodia.kernel.actor import Actor

# Actions that make a second factor mandatory (DESIGN "Access": reveal, export or administer).
MFA_ACTIONS = ("reveal", "export", "manage_roles", "manage_audit")
# Roles that administer whatever their grants say (a superuser acts as "admin").
ADMINISTERING_ROLES = frozenset({"admin", "secadmin"})
# Recovery codes alone are not a second factor: they only back up a real one.
FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def mfa_required(user) -> bool:
    """Must this person sign in with a second factor? Asked of the access policy: their role can
    reveal, export or administer (a temporary state such as a lapsed training or a cooling-off
    period, which suspends those actions, does not lift the requirement)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    actor = Actor.for_user(user)
    if actor.role in ADMINISTERING_ROLES:
        return True
    denial_reason = getattr(policy, "denial_reason", None)
    for action in MFA_ACTIONS:
        if action not in policy.ALL_ACTIONS:
            continue
        if policy.allows(actor, action) or (denial_reason is not None and denial_reason(actor, action)):
            return True
    return False


def mfa_enrolled(user) -> bool:
    """Has this person an authenticator app or a security key (one indexed query)?"""
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exists()


def mfa_enrolment_missing(user) -> bool:
    """Needs a second factor and has none yet: sent to enrolment, refused customer data."""
    return mfa_required(user) and not mfa_enrolled(user)

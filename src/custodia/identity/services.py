"""Writes about sign-in: second factors, lockouts, ending sessions, deactivating a person.

Every function audits what it does in the same transaction (STYLE rule 3). Sign-in, failed
sign-in and sign-out are recorded by ``custodia.access.services`` (called from signals.py).
"""

from __future__ import annotations

import hashlib

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from custodia.access.choices import EmploymentStatus
from custodia.access.models import User
from custodia.access.services import api_tokens_revoke_all
from custodia.audit.registry import EventType
from custodia.audit.services import audit_record
from custodia.identity import events
from custodia.identity.selectors import ADMINISTERING_ROLES
from custodia.kernel import context
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied

ANONYMOUS = Actor.system("anonymous")
# Who may deactivate a person: administrators, security admins, HR (offboarding), console operators.
DEACTIVATING_ROLES = ADMINISTERING_ROLES | {"hr", "system"}


# --- second factors --------------------------------------------------------------------------


def mfa_event_record(*, user: User, event: EventType, authenticator: Authenticator | None = None,
                     outcome: str = "success", **detail) -> None:
    """Audit an MFA event of ``user`` (enrolled, removed, used, failed, codes regenerated)."""
    if authenticator is not None:
        detail["authenticator"] = authenticator.type
    actor = Actor.for_user(user) if outcome == "success" else ANONYMOUS
    with transaction.atomic():
        audit_record(actor=actor, event=event, target_type="user", target_id=user.pk, outcome=outcome,
                     detail=detail)


def totp_authenticator_create(*, actor: Actor, user: User) -> str:
    """Enrol an authenticator-app secret (and recovery codes) for ``user`` and return the secret
    (base32), for provisioning scripts and test fixtures; people enrol themselves at
    /accounts/2fa/totp/activate/. Audited (MFA_ENROLLED, by ``actor``)."""
    secret = generate_totp_secret()
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        TOTP.activate(user, secret)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
            RecoveryCodes.activate(user)  # as allauth's own enrolment does
        audit_record(actor=actor, event=events.MFA_ENROLLED, target_type="user", target_id=user.pk,
                     detail={"authenticator": Authenticator.Type.TOTP, "provisioned": True})
    return secret


# --- lockouts --------------------------------------------------------------------------------


def login_lockout_record(*, username: str = "", rule: str) -> None:
    """Audit that sign-in is refused for a while (LOGIN_LOCKED; ``rule``: "failures" after repeated
    failed sign-ins, "requests" when one address sends too many, "mfa" after wrong codes). Once per
    rule, name and address per window, so a flood of attempts does not flood the audit log. The
    typed name is not stored: only the account id when the name belongs to someone."""
    window = settings.CUSTODIA_LOGIN_LOCKOUT_SECONDS
    source = context.current().source_ip
    digest = hashlib.sha256(f"{rule}\0{username.lower()}\0{source}".encode()).hexdigest()[:40]
    if not cache.add(f"custodia:identity:locked:{digest}", 1, timeout=window):
        return
    user = User.objects.filter(username=username).only("pk").first() if username else None
    with transaction.atomic():
        audit_record(actor=ANONYMOUS, event=events.LOGIN_LOCKED, target_type="user",
                     target_id=user.pk if user else None, outcome="failure",
                     detail={"rule": rule, "window_seconds": window})


# --- ending access ---------------------------------------------------------------------------


def sessions_end_all(*, user: User) -> int:
    """End every signed-in session of ``user`` (each sign-in is tracked by allauth.usersessions);
    returns how many were ended. Sessions never tracked (none in production) are refused anyway
    on their next request once the person is inactive or departed (identity.backends)."""
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk):
        session.end()
        ended += 1
    return ended


def user_access_cut(*, user: User) -> tuple[int, int]:
    """End all sessions and revoke all API tokens of ``user``: (sessions, tokens). Not audited
    here: callers record why."""
    return sessions_end_all(user=user), api_tokens_revoke_all(user=user)


def user_is_cut_off(user: User) -> bool:
    return not user.is_active or user.employment_status == EmploymentStatus.DEPARTED


def user_deactivate(*, actor: Actor, user: User, reason: str) -> User:
    """Deactivate a member of staff: they cannot sign in, every session ends and every API token
    is revoked at once. Callers: administrators, security admins, HR, the console operator.
    Audits USER_DEACTIVATED (reason, sessions ended, tokens revoked)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("State why this person is deactivated.")]})
    if actor.role not in DEACTIVATING_ROLES:
        raise PermissionDenied(_("Only an administrator, a security admin or HR may deactivate staff."))
    if actor.user_id == user.pk:
        raise PermissionDenied(_("You cannot deactivate yourself."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        was_active = user.is_active
        sessions, tokens = user_access_cut(user=user)
        user.is_active = False
        user.save(update_fields=["is_active"])  # the post_save guard finds nothing left to end
        audit_record(actor=actor, event=events.USER_DEACTIVATED, target_type="user", target_id=user.pk,
                     detail={"reason": reason[:200], "sessions_ended": sessions, "tokens_revoked": tokens,
                             "was_active": was_active})
    return user


def user_saved_guard(*, user: User) -> None:
    """Whatever path deactivated ``user`` (an admin tool, a status change to departed, a script),
    end their sessions and tokens; audited (USER_ACCESS_CUT) when anything was left to end."""
    if not user_is_cut_off(user):
        return
    with transaction.atomic():
        sessions, tokens = user_access_cut(user=user)
        if sessions or tokens:
            audit_record(actor=Actor.system("identity"), event=events.USER_ACCESS_CUT, target_type="user",
                         target_id=user.pk, detail={"sessions_ended": sessions, "tokens_revoked": tokens,
                                                    "is_active": user.is_active,
                                                    "employment_status": user.employment_status})


def employment_status_set(*, actor: Actor, user: User, status: str, reason: str) -> User:
    """Put a person into a departure cooling-off period, mark them departed (sign-in refused,
    sessions and tokens ended by the guard) or back to active. Callers: administrators, security
    admins, HR, the console operator. Audits USER_STATUS_CHANGED (before/after); the monitor alerts
    on anything a person does while cooling off."""
    reason = (reason or "").strip()
    errors = {}
    if status not in EmploymentStatus.values:
        errors["status"] = [_("Choose an employment status from the list.")]
    if not reason:
        errors["reason"] = [_("State why the employment status changes.")]
    if errors:
        raise ValidationError(errors)
    if actor.role not in DEACTIVATING_ROLES:
        raise PermissionDenied(_("Only an administrator, a security admin or HR may change employment status."))
    if actor.user_id == user.pk:
        raise PermissionDenied(_("You cannot change your own employment status."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = user.employment_status
        if before == status:
            return user
        user.employment_status = status
        user.save(update_fields=["employment_status"])
        audit_record(actor=actor, event=events.USER_STATUS_CHANGED, target_type="user", target_id=user.pk,
                     detail={"before": before, "employment_status": status, "reason": reason[:200]})
    return user

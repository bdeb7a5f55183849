"""Receivers: allauth's sign-in and MFA signals become audit events; saving a deactivated person
ends their sessions and tokens whatever path saved them.

Receivers only translate a signal into one service call (STYLE: no business logic in signals).
"""

from __future__ import annotations

from allauth.account.signals import user_logged_in
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.signals import user_logged_in as django_user_logged_in
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from custodia.access import services as access_services
from custodia.identity import events, services, sessions

RECOVERY_CODES = Authenticator.Type.RECOVERY_CODES


def _methods(request, user) -> list[str]:
    """How the person proved who they are, from allauth's record in the session
    (e.g. ["password", "mfa:totp"] or ["socialaccount:openid_connect"])."""
    from allauth.account.authentication import get_authentication_records

    found = []
    for record in get_authentication_records(request, user):
        method = record.get("method", "")
        kind = record.get("type") or record.get("provider") or ""
        found.append(f"{method}:{kind}" if kind else method)
    return found


@receiver(user_logged_in, dispatch_uid="identity-login")
def _logged_in(sender, request, user, **kwargs):
    sessions.session_started(request, user, fresh=True)
    access_services.login_record(user=user, methods=_methods(request, user))


@receiver(django_user_logged_in, dispatch_uid="identity-session-start")
def _session_started(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        sessions.session_started(request, user, fresh=False)


@receiver(user_logged_out, dispatch_uid="identity-logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        access_services.logout_record(user=user, reason=getattr(request, "custodia_logout_reason", ""))


@receiver(mfa_signals.authenticator_added, dispatch_uid="identity-mfa-added")
def _mfa_added(sender, request, user, authenticator, **kwargs):
    services.mfa_event_record(user=user, event=events.MFA_ENROLLED, authenticator=authenticator)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="identity-mfa-removed")
def _mfa_removed(sender, request, user, authenticator, **kwargs):
    if request is not None and hasattr(request, "session"):
        sessions.mfa_enrolled_forget(request)
    services.mfa_event_record(user=user, event=events.MFA_REMOVED, authenticator=authenticator)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="identity-mfa-reset")
def _mfa_reset(sender, request, user, authenticator, **kwargs):
    if authenticator.type == RECOVERY_CODES:
        services.mfa_event_record(user=user, event=events.MFA_RECOVERY_CODES_REGENERATED,
                                  authenticator=authenticator)


@receiver(mfa_signals.authenticator_used, dispatch_uid="identity-mfa-used")
def _mfa_used(sender, request, user, authenticator, reauthenticated=False, **kwargs):
    services.mfa_event_record(user=user, event=events.MFA_USED, authenticator=authenticator,
                              reauthentication=bool(reauthenticated))


@receiver(mfa_signals.authentication_failed, dispatch_uid="identity-mfa-failed")
def _mfa_failed(sender, request, user, authenticator, reauthentication=False, **kwargs):
    services.mfa_event_record(user=user, event=events.MFA_FAILED, authenticator=authenticator,
                              outcome="failure", reauthentication=bool(reauthentication))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="identity-deactivation-guard")
def _user_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        services.user_saved_guard(user=instance)

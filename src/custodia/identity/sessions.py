"""Session lifetime: an idle limit (``CUSTODIA_SESSION_IDLE_SECONDS``, default 30 minutes) and an
absolute limit (``CUSTODIA_SESSION_MAX_SECONDS``, default 8 hours after sign-in).

The last-seen time is written at most once a ``touch interval`` (a 30th of the idle limit, at
most a minute), so an active session costs a session write once a minute, not on every request.
A session may therefore end up to one interval early, never late.
"""

from __future__ import annotations

import time

from django.conf import settings

from custodia.identity.selectors import mfa_enrolled

LOGIN_AT = "custodia_login_at"
SEEN_AT = "custodia_seen_at"
FRESH = "custodia_signed_in"  # set by a real sign-in, not by a session that merely existed
MFA_ENROLLED = "custodia_mfa_enrolled"  # the user id, once they have a second factor


def touch_interval() -> int:
    return max(1, min(60, settings.CUSTODIA_SESSION_IDLE_SECONDS // 30))


def session_started(request, user, *, fresh: bool) -> None:
    """Stamp a new session at login (``fresh``: a sign-in completed through allauth, which counts
    as a recent re-authentication), and remember whether the person has the second factor their
    role needs, so no request has to ask again."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    if fresh:
        request.session[FRESH] = True
    if mfa_enrolled(user):
        mfa_enrolled_remember(request, user)


def mfa_enrolled_remember(request, user) -> None:
    """The person has a second factor: kept for the session (the last factor of a person whose
    role needs one cannot be removed; removing a factor forgets this, see signals.py)."""
    request.session[MFA_ENROLLED] = str(user.pk)


def mfa_enrolled_forget(request) -> None:
    request.session.pop(MFA_ENROLLED, None)


def mfa_enrolled_known(request) -> bool:
    return request.session.get(MFA_ENROLLED) == str(request.user.pk)


def signed_in_within(request, seconds: int) -> bool:
    """Did this session's sign-in (completed through allauth) happen less than ``seconds`` ago?"""
    login_at = request.session.get(LOGIN_AT) if request is not None and hasattr(request, "session") else None
    return bool(login_at is not None and request.session.get(FRESH) and int(time.time()) - login_at < seconds)


def session_check(request) -> str | None:
    """Why a signed-in session must end now ("idle" or "expired"), else None (and note the visit)."""
    session = request.session
    now = int(time.time())
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if seen_at is not None and now - seen_at > settings.CUSTODIA_SESSION_IDLE_SECONDS:
        return "idle"
    if login_at is not None and now - login_at > settings.CUSTODIA_SESSION_MAX_SECONDS:
        return "expired"
    if login_at is None:
        session[LOGIN_AT] = now  # a session started without allauth (e.g. a test's force_login)
    if seen_at is None or now - seen_at >= touch_interval():
        session[SEEN_AT] = now
    return None

"""The sign-in pages Custodia serves itself; everything else is allauth's views with our templates.

``/login/`` and ``/logout/`` (names ``login`` and ``logout``, used by LOGIN_URL and the page
header) are allauth's views, so rate limits, the MFA stage and the audit signals apply the same
whichever address is used.
"""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.core.internal.ratelimit import handler429

from custodia.identity import services


class LoginView(account_views.LoginView):
    public = True


class LogoutView(account_views.LogoutView):
    public = True


def rate_limited(request, exception=None):
    """429 for too many requests (allauth calls ``handler429`` of the root URLconf). A refused
    sign-in attempt is audited once per window (LOGIN_LOCKED, rule "requests")."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in ("login", "account_login"):
        services.login_lockout_record(rule="requests")
    return handler429(request)

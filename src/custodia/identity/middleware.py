"""Middleware: end idle or expired sessions; send a person who must use a second factor and has
none to enrolment before anything else.

The API is left to DRF (``identity.permissions.MfaEnrolled`` answers 403 with a reason), so a
client gets JSON, never a redirect to a page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _

from custodia.identity import sessions
from custodia.identity.selectors import mfa_enrolled, mfa_required

API_PREFIX = "/api/"
# Pages a person who must enrol a second factor may still open: enrolment itself (and the
# re-authentication it may ask for), sign-in and sign-out, and the language switch.
ENROLMENT_OPEN = frozenset({
    "mfa_index", "mfa_activate_totp", "mfa_add_webauthn", "mfa_list_webauthn", "mfa_reauthenticate_webauthn",
    "mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_download_recovery_codes",
    "mfa_reauthenticate", "mfa_authenticate", "account_reauthenticate", "account_login", "account_logout",
    "account_inactive", "login", "logout", "set_language",
})


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _go(request, url: str):
    """A redirect the browser follows as a whole page, also from an htmx request."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            reason = sessions.session_check(request)
            if reason:
                request.custodia_logout_reason = reason
                logout(request)
                if not request.path.startswith(API_PREFIX):
                    minutes = settings.CUSTODIA_SESSION_IDLE_SECONDS // 60
                    messages.info(request, _("You were signed out after %(minutes)s minutes without activity. "
                                             "Please sign in again.") % {"minutes": minutes} if reason == "idle"
                                  else _("Your session has ended. Please sign in again."))
                    # request.path, not the full path: a query string may hold a searched identifier.
                    if _is_htmx(request):
                        return _go(request, resolve_url(settings.LOGIN_URL))
                    return redirect_to_login(request.path, settings.LOGIN_URL)
        return self.get_response(request)


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (match is None or match.url_name in ENROLMENT_OPEN or request.path.startswith(API_PREFIX)
                or request.path.startswith(settings.STATIC_URL)):
            return None
        user = request.user
        if not user.is_authenticated or not mfa_required(user) or sessions.mfa_enrolled_known(request):
            return None
        if mfa_enrolled(user):
            sessions.mfa_enrolled_remember(request, user)
            return None
        messages.warning(request, _("Your role can see or export customer data, so it needs two-factor "
                                    "authentication. Set up an authenticator app to continue."))
        return _go(request, resolve_url("mfa_activate_totp"))

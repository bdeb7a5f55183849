"""DRF permission: a person whose role needs a second factor gets no customer data through the
API (token or session) until they have enrolled one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from custodia.identity.selectors import mfa_enrolment_missing


class MfaEnrolled(BasePermission):
    message = _("Two-factor authentication is required for your role. Sign in to Custodia in a browser "
                "and set up an authenticator app or a security key (/accounts/2fa/); "
                "until then the API gives no customer data.")
    code = "mfa_required"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return True  # IsAuthenticated answers for anonymous requests
        return not mfa_enrolment_missing(user)

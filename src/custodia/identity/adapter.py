"""allauth adapters: staff accounts only (no public sign-up), audited failures and lockouts,
departed staff refused, MFA secrets sealed, and single sign-on that links to existing staff only."""

from __future__ import annotations

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.utils.translation import gettext_lazy as _

from custodia.access import services as access_services
from custodia.access.choices import EmploymentStatus
from custodia.identity import sealing, services, sessions
from custodia.identity.selectors import FACTOR_TYPES, mfa_required


class AccountAdapter(DefaultAccountAdapter):
    # One message whether the name exists or not, and whether the password or the name was wrong.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _("The username or password is not correct."),
        "too_many_login_attempts": _("Too many failed sign-in attempts. Please wait a few minutes and try again."),
    }

    def is_open_for_signup(self, request) -> bool:
        return False  # staff accounts are created by administrators

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError:
            services.login_lockout_record(username=credentials.get("username", ""), rule="failures")
            raise

    def authentication_failed(self, request, **credentials) -> None:
        access_services.login_failed_record(username=credentials.get("username", ""))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A sign-in completed within the re-authentication timeout counts as a re-authentication,
        so the first enrolment right after signing in does not ask for the password again."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not sessions.signed_in_within(self.request, app_settings.REAUTHENTICATION_TIMEOUT)

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "employment_status", None) == EmploymentStatus.DEPARTED:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _("Your role requires two-factor authentication: add another authenticator "
                                         "app or security key before removing this one."),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """The last second factor of a person whose role needs one stays."""
        if authenticator.type not in FACTOR_TYPES or not mfa_required(authenticator.user):
            return True
        return (Authenticator.objects.filter(user_id=authenticator.user_id, type__in=FACTOR_TYPES)
                .exclude(pk=authenticator.pk).exists())

    def encrypt(self, text: str) -> str:
        return sealing.seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return sealing.unseal(encrypted_text)

    def get_totp_label(self, user) -> str:
        return user.get_username()  # no email address in the authenticator app


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on signs in existing staff (matched by a verified email address from the
    company's identity provider); it never creates accounts."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

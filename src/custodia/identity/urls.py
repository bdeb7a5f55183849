"""Sign-in URLs: ``/login/`` and ``/logout/`` (allauth's views), and the parts of allauth Custodia uses under
``/accounts/`` (no sign-up, e-mail management or password reset by e-mail: staff accounts are
created and reset by administrators)."""

from __future__ import annotations

from allauth.account import urls as account_urls
from allauth.mfa import urls as mfa_urls
from allauth.socialaccount import urls as social_urls
from allauth.socialaccount.providers.openid_connect import urls as oidc_urls
from allauth.usersessions import urls as usersessions_urls
from django.urls import include, path

from custodia.identity import views

ACCOUNT_VIEWS = {"account_inactive", "account_reauthenticate", "account_change_password"}
SOCIAL_VIEWS = {"socialaccount_login_cancelled", "socialaccount_login_error"}


def _only(patterns, names):
    return [p for p in patterns if getattr(p, "name", None) in names]


accounts = [
    *_only(account_urls.urlpatterns, ACCOUNT_VIEWS),
    path("2fa/", include(mfa_urls.urlpatterns)),
    path("3rdparty/", include(_only(social_urls.urlpatterns, SOCIAL_VIEWS))),
    path("sessions/", include(usersessions_urls.urlpatterns)),
    *oidc_urls.urlpatterns,  # /accounts/oidc/<provider_id>/login/ and …/login/callback/
]

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # The same two views under the names allauth reverses, so every redirect leads to /login/.
    path("login/", views.LoginView.as_view(), name="account_login"),
    path("logout/", views.LogoutView.as_view(), name="account_logout"),
    path("accounts/", include(accounts)),
]

"""OIDC single sign-on: off unless configured; when configured, the provider is offered on the
sign-in page (no network is needed to show it)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.adapter import get_adapter
from django.test import RequestFactory, override_settings

pytestmark = pytest.mark.django_db
SSO = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [{
    "provider_id": "sso", "name": "企业统一认证", "client_id": "custodia", "secret": "s3cret",
    "settings": {"server_url": "https://idp.example.cn/realms/staff"}}]}}


def _providers():
    return get_adapter().list_providers(RequestFactory().get("/login/"))


def test_off_by_default(client):
    assert _providers() == []
    assert "/accounts/oidc/" not in client.get("/login/").content.decode()
    assert client.get("/accounts/oidc/sso/login/").status_code == 404


@override_settings(SOCIALACCOUNT_PROVIDERS=SSO)
def test_configured_provider_is_offered(client):
    providers = _providers()
    assert [(p.id, p.app.provider_id, p.name) for p in providers] == [("openid_connect", "sso", "企业统一认证")]
    html = client.get("/login/").content.decode()
    assert 'href="/accounts/oidc/sso/login/?process=login"' in html and "企业统一认证" in html
    # The provider's own page asks to continue (a POST starts the redirect to the identity provider).
    assert client.get("/accounts/oidc/sso/login/").status_code == 200


@override_settings(SOCIALACCOUNT_PROVIDERS=SSO)
def test_sso_never_creates_accounts():
    assert get_adapter().is_open_for_signup(RequestFactory().get("/"), None) is False

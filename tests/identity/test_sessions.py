"""Session lifetime: idle limit (configurable), absolute limit, audited time-outs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import override_settings

from custodia.audit.models import AuditEvent
from custodia.testing.factories import make_org

pytestmark = pytest.mark.django_db


class IdleTests:
    def test_idle_session_ends_and_is_audited(self, client, clock):
        org = make_org()
        client.force_login(org.auditor)
        assert client.get("/").status_code == 200
        clock.advance(30 * 60 + 61)
        response = client.get("/customers/?q=13812345678")
        assert response.status_code == 302 and response["Location"] == "/login/?next=/customers/"
        assert client.get("/")["Location"].startswith("/login/")
        event = AuditEvent.objects.get(action="access.logout", actor_id=org.auditor.pk)
        assert event.detail == {"reason": "idle"}

    def test_activity_keeps_the_session(self, client, clock):
        org = make_org()
        client.force_login(org.auditor)
        for _ in range(4):  # 4 × 20 minutes = 80 minutes, never 30 minutes idle
            clock.advance(20 * 60)
            assert client.get("/").status_code == 200

    @override_settings(CUSTODIA_SESSION_IDLE_SECONDS=120)
    def test_the_limit_is_a_setting(self, client, clock):
        org = make_org()
        client.force_login(org.auditor)
        client.get("/")
        clock.advance(100)
        assert client.get("/").status_code == 200
        clock.advance(125)
        assert client.get("/").status_code == 302

    def test_absolute_limit(self, client, clock):
        org = make_org()
        client.force_login(org.auditor)
        client.get("/")
        for _ in range(17):  # active every 29 minutes, past the 8 hours
            clock.advance(29 * 60)
            response = client.get("/")
        assert response.status_code == 302
        assert AuditEvent.objects.get(action="access.logout").detail == {"reason": "expired"}

    def test_htmx_request_is_sent_to_sign_in_as_a_whole_page(self, client, clock):
        org = make_org()
        client.force_login(org.auditor)
        client.get("/")
        clock.advance(31 * 60 + 60)
        response = client.get("/", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == "/login/"


def test_environment_variables_configure_sessions_and_sso(tmp_path):
    """CUSTODIA_SESSION_IDLE_SECONDS and the CUSTODIA_OIDC_* variables are read by the settings."""
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='custodia.config.settings'; django.setup();"
            "from django.conf import settings as s; a=s.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS'];"
            "print(s.CUSTODIA_SESSION_IDLE_SECONDS, len(a), a and a[0]['provider_id'], a and a[0]['settings']['server_url'])")
    env = {**os.environ, "CUSTODIA_DATA_DIR": str(tmp_path), "CUSTODIA_SESSION_IDLE_SECONDS": "600"}
    for name in ("CUSTODIA_OIDC_SERVER_URL", "CUSTODIA_OIDC_CLIENT_ID"):
        env.pop(name, None)
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert off.stdout.split() == ["600", "0", "[]", "[]"]
    env.update(CUSTODIA_OIDC_SERVER_URL="https://idp.example.cn/realms/staff", CUSTODIA_OIDC_CLIENT_ID="custodia",
               CUSTODIA_OIDC_SECRET="s3cret", CUSTODIA_OIDC_NAME="企业统一认证")
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert on.stdout.split() == ["600", "1", "sso", "https://idp.example.cn/realms/staff"]

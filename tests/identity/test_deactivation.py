"""Deactivating a person ends every session and revokes every API token at once, whatever path
deactivates them; the service is audited and restricted."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from rest_framework.test import APIClient

from custodia.access.models import ApiToken
from custodia.access.services import api_token_create
from custodia.audit.models import AuditEvent
from custodia.identity.services import user_deactivate
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.testing.factories import PASSWORD, make_customer, make_org
from tests.identity.conftest import totp_code

pytestmark = pytest.mark.django_db


def _signed_in_with_token(client, org):
    """rep01 signs in for real (password + TOTP) and has an API token."""
    client.post("/login/", {"login": "rep01", "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(org.rep.totp_secret)})
    assert client.get("/customers/").status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(actor=Actor.system('t'), username='rep01')}")
    assert api.get("/api/v1/customers/").status_code == 200
    return api


class DeactivateTests:
    def test_next_request_with_the_old_cookie_and_token_is_rejected(self, client):
        org = make_org()
        make_customer(org.rep)
        api = _signed_in_with_token(client, org)
        assert UserSession.objects.filter(user=org.rep).count() == 1

        user_deactivate(actor=org.actor("secadmin"), user=org.rep, reason="离职 (left the company)")

        response = client.get("/customers/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert api.get("/api/v1/customers/").status_code in (401, 403)
        assert not UserSession.objects.filter(user=org.rep).exists()
        assert Session.objects.count() == 0
        assert not ApiToken.objects.filter(user=org.rep, revoked_at__isnull=True).exists()
        event = AuditEvent.objects.get(action="identity.user.deactivated")
        assert (event.actor_id, event.target_id) == (org.secadmin.pk, org.rep.pk)
        assert event.detail == {"reason": "离职 (left the company)", "sessions_ended": 1, "tokens_revoked": 1,
                                "was_active": True}
        assert not AuditEvent.objects.filter(action="identity.user.access_cut").exists()  # not twice
        again = client.post("/login/", {"login": "rep01", "password": PASSWORD})
        assert not again.wsgi_request.user.is_authenticated

    def test_departure_set_by_any_path_ends_access(self, client):
        org = make_org()
        api = _signed_in_with_token(client, org)
        org.rep.employment_status = "departed"
        org.rep.save()  # e.g. an HR import or an admin tool, not the service
        assert client.get("/customers/")["Location"].startswith("/login/")
        assert api.get("/api/v1/customers/").status_code in (401, 403)
        event = AuditEvent.objects.get(action="identity.user.access_cut")
        assert event.target_id == org.rep.pk and event.actor_label == "system:identity"
        assert event.detail["sessions_ended"] == 1 and event.detail["tokens_revoked"] == 1

    def test_a_session_without_tracking_is_refused_too(self, client):
        org = make_org()
        client.force_login(org.auditor)
        org.auditor.is_active = False
        org.auditor.save()
        assert client.get("/")["Location"].startswith("/login/")

    @pytest.mark.parametrize("role", ["rep", "manager", "compliance", "auditor", "legal"])
    def test_only_administrators_security_and_hr(self, role):
        org = make_org()
        with pytest.raises(PermissionDenied):
            user_deactivate(actor=org.actor(role), user=org.rep2, reason="x")
        org.rep2.refresh_from_db()
        assert org.rep2.is_active

    def test_a_reason_is_required_and_nobody_deactivates_themselves(self):
        org = make_org()
        with pytest.raises(ValidationError):
            user_deactivate(actor=org.actor("hr"), user=org.rep, reason="  ")
        with pytest.raises(PermissionDenied):
            user_deactivate(actor=org.actor("secadmin"), user=org.secadmin, reason="test")

    def test_command(self, client):
        org = make_org()
        call_command("deactivate_user", "rep02", "--reason", "合同到期")
        org.rep2.refresh_from_db()
        assert not org.rep2.is_active
        assert AuditEvent.objects.get(action="identity.user.deactivated").actor_label == "system:cli"

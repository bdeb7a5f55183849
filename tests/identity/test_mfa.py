"""Second factors: who must use one (asked of the access policy), enrolment forced before any
page, TOTP sign-in end to end, sealed secrets, audited events, and the API refusing customer
data to a person who has not enrolled."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from rest_framework.test import APIClient

from custodia.access.services import api_token_create
from custodia.audit.models import AuditEvent
from custodia.identity.selectors import mfa_required
from custodia.kernel.actor import Actor
from custodia.testing.factories import PASSWORD, make_customer, make_org
from tests.identity.conftest import drop_factors, totp_code

pytestmark = pytest.mark.django_db
NEEDS_MFA = ("rep", "manager", "compliance", "secadmin", "admin")
NO_MFA = ("auditor", "hr", "legal")
ACTIVATE = "/accounts/2fa/totp/activate/"


def _sign_in(client, username):
    return client.post("/login/", {"login": username, "password": PASSWORD})


class MfaRequiredTests:
    @pytest.mark.parametrize("role", NEEDS_MFA + NO_MFA)
    def test_policy_decides(self, role):
        org = make_org()
        assert mfa_required(getattr(org, role)) is (role in NEEDS_MFA)

    def test_a_cooling_off_period_does_not_lift_it(self):
        org = make_org()
        org.rep.employment_status = "cooling_off"
        assert mfa_required(org.rep)

    @pytest.mark.parametrize("role", NEEDS_MFA)
    def test_without_a_factor_every_page_leads_to_enrolment(self, client, role):
        org = make_org()
        person = getattr(org, role)
        drop_factors(person)
        client.force_login(person)
        for path in ("/", "/customers/", "/catalog/"):
            response = client.get(path)
            assert response.status_code == 302 and response["Location"] == ACTIVATE, path
        htmx = client.get("/customers/", HTTP_HX_REQUEST="true")
        assert htmx["HX-Redirect"] == ACTIVATE

    @pytest.mark.parametrize("role", NO_MFA)
    def test_roles_without_the_need_are_not_sent(self, client, role):
        org = make_org()
        client.force_login(getattr(org, role))
        assert client.get("/").status_code == 200

    def test_enrolment_logout_and_language_stay_open(self, client):
        org = make_org()
        drop_factors(org.rep)
        client.force_login(org.rep)
        assert client.get("/accounts/2fa/").status_code == 200
        assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
        assert client.post("/logout/")["Location"] == "/login/"


class EnrolmentTests:
    def test_first_sign_in_enrols_an_authenticator_app(self, client, django_capture_on_commit_callbacks):
        org = make_org()
        drop_factors(org.rep)
        assert _sign_in(client, "rep01")["Location"] == "/"
        assert client.get("/")["Location"] == ACTIVATE
        page = client.get(ACTIVATE)
        html = page.content.decode()
        assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in html  # QR code, no CDN
        secret = client.session["mfa.totp.secret"]
        assert secret in html

        wrong = client.post(ACTIVATE, {"code": "000000"})
        assert wrong.status_code == 200 and not Authenticator.objects.filter(user=org.rep).exists()
        with django_capture_on_commit_callbacks(execute=True):  # allauth signals on commit
            done = client.post(ACTIVATE, {"code": totp_code(secret)})
        assert done.status_code == 302 and done["Location"] == "/accounts/2fa/recovery-codes/"
        codes = client.get(done["Location"])
        assert codes.status_code == 200 and "identity-codes" in codes.content.decode()
        assert client.get("/").status_code == 200

        stored = Authenticator.objects.get(user=org.rep, type="totp").data["secret"]
        assert stored.startswith("cst1:") and secret not in stored  # sealed, not in clear
        enrolled = AuditEvent.objects.filter(action="identity.mfa.enrolled", actor_id=org.rep.pk)
        assert "totp" in {e.detail["authenticator"] for e in enrolled}


class TotpSignInTests:
    def test_password_then_code(self, client):
        org = make_org()
        first = _sign_in(client, "rep01")
        assert first.status_code == 302 and first["Location"] == "/accounts/2fa/authenticate/"
        assert client.get("/")["Location"].startswith("/login/")  # not signed in yet
        page = client.get("/accounts/2fa/authenticate/")
        assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()

        wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
        assert wrong.status_code == 200
        failed = AuditEvent.objects.get(action="identity.mfa.failed")
        assert failed.target_id == org.rep.pk and failed.outcome == "failure"

        done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(org.rep.totp_secret)})
        assert done.status_code == 302 and done["Location"] == "/"
        assert client.get("/").status_code == 200
        login = AuditEvent.objects.get(action="access.login", actor_id=org.rep.pk)
        assert login.detail["methods"] == ["password", "mfa:totp"]
        assert AuditEvent.objects.filter(action="identity.mfa.used", actor_id=org.rep.pk).count() == 1

    def test_a_code_cannot_be_used_twice(self, client):
        org = make_org()
        code = totp_code(org.rep.totp_secret)
        _sign_in(client, "rep01")
        assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
        client.post("/logout/")
        _sign_in(client, "rep01")
        assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200

    def test_a_recovery_code_signs_in_once(self, client):
        org = make_org()
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        codes = RecoveryCodes(Authenticator.objects.get(user=org.rep, type="recovery_codes")).get_unused_codes()
        _sign_in(client, "rep01")
        assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]})["Location"] == "/"


class ApiTests:
    def _client(self, user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # the assertions read the English messages
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(actor=Actor.system('t'), username=user.username)}")
        return client

    def test_no_customer_data_before_enrolment(self):
        org = make_org()
        make_customer(org.rep)
        drop_factors(org.rep)
        response = self._client(org.rep).get("/api/v1/customers/")
        assert response.status_code == 403
        assert "Two-factor authentication is required" in response.json()["detail"]
        assert "138" not in response.content.decode()

    def test_enrolled_person_gets_data(self):
        org = make_org()
        make_customer(org.rep)
        response = self._client(org.rep).get("/api/v1/customers/")
        assert response.status_code == 200 and response.json()["count"] == 1

    def test_session_api_request_is_refused_too(self, client):
        org = make_org()
        drop_factors(org.manager)
        client.force_login(org.manager)
        response = client.get("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403 and "Two-factor" in response.json()["detail"]


class KeepLastFactorTests:
    def test_the_last_factor_of_a_role_that_needs_one_cannot_be_removed(self):
        from allauth.mfa.adapter import get_adapter

        org = make_org()
        totp = Authenticator.objects.get(user=org.rep, type="totp")
        assert get_adapter().can_delete_authenticator(totp) is False
        Authenticator.objects.create(user=org.rep, type="webauthn", data={"name": "key"})
        assert get_adapter().can_delete_authenticator(totp) is True

    def test_a_role_without_the_need_may_remove_it(self):
        from allauth.mfa.adapter import get_adapter

        from custodia.identity.services import totp_authenticator_create

        org = make_org()
        totp_authenticator_create(actor=Actor.system("t"), user=org.auditor)
        assert get_adapter().can_delete_authenticator(Authenticator.objects.get(user=org.auditor, type="totp"))

"""Sign-in: one answer for a wrong password and a missing account, rate limits per account and
per address that lift by themselves, audited failures and lockouts, no public sign-up."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from custodia.audit.models import AuditEvent
from custodia.testing.factories import PASSWORD, make_org

pytestmark = pytest.mark.django_db
LOGIN = "/login/"


def _post(client, username, password="wrong-password-123", ip="10.0.0.1"):
    return client.post(LOGIN, {"login": username, "password": password}, REMOTE_ADDR=ip,
                       HTTP_ACCEPT_LANGUAGE="en")  # the assertions read the English messages


def _errors(response) -> list[str]:
    return [str(e) for e in response.context["form"].non_field_errors()]


class LoginPageTests:
    def test_page_is_styled_and_has_no_sign_up(self, client):
        response = client.get(LOGIN)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="login"' in html and 'name="password"' in html and "auth-card" in html
        assert "signup" not in html
        with pytest.raises(NoReverseMatch):
            reverse("account_signup")

    def test_accounts_login_is_the_same_page(self, client):
        assert reverse("account_login") == LOGIN == reverse("login")

    def test_success_is_audited_with_the_method(self, client):
        org = make_org()
        response = _post(client, org.auditor.username, PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/"
        event = AuditEvent.objects.get(action="access.login", actor_id=org.auditor.pk)
        assert event.detail == {"methods": ["password"]}
        assert client.get("/").status_code == 200


class SameAnswerTests:
    def test_wrong_password_and_missing_account_look_the_same(self, client):
        org = make_org()
        existing = _post(client, org.auditor.username)
        missing = _post(client, "nobody-here")
        assert existing.status_code == missing.status_code == 200
        assert _errors(existing) == _errors(missing) == ["The username or password is not correct."]

    def test_failures_are_audited_without_the_typed_name(self, client):
        org = make_org()
        _post(client, org.auditor.username)
        _post(client, "someone-typed-this")
        events = AuditEvent.objects.filter(action="access.login.failed").order_by("seq")
        assert [e.target_id for e in events] == [org.auditor.pk, None]
        assert all(e.outcome == "failure" and e.actor_label == "system:anonymous" for e in events)
        assert not AuditEvent.objects.filter(detail__icontains="someone-typed-this").exists()


class LockoutTests:
    def test_five_failures_lock_the_account_for_a_window_only(self, client, clock):
        org = make_org()
        for _ in range(5):
            assert _errors(_post(client, org.auditor.username)) == ["The username or password is not correct."]
        locked = _post(client, org.auditor.username, PASSWORD)  # even the right password
        assert locked.status_code == 200 and not locked.wsgi_request.user.is_authenticated
        assert "Too many failed sign-in attempts" in _errors(locked)[0]
        assert AuditEvent.objects.filter(action="identity.login.locked", target_id=org.auditor.pk).count() == 1
        _post(client, org.auditor.username, PASSWORD)
        assert AuditEvent.objects.filter(action="identity.login.locked").count() == 1  # once per window

        clock.advance(15 * 60 + 1)
        response = _post(client, org.auditor.username, PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/"

    def test_a_locked_missing_account_answers_like_a_locked_real_one(self, client):
        org = make_org()
        for _ in range(5):
            _post(client, org.auditor.username, ip="10.0.0.2")
            _post(client, "ghost", ip="10.0.0.3")
        real, ghost = _post(client, org.auditor.username, ip="10.0.0.2"), _post(client, "ghost", ip="10.0.0.3")
        assert real.status_code == ghost.status_code == 200
        assert _errors(real) == _errors(ghost)

    def test_a_successful_sign_in_does_not_reset_the_count(self, client):
        org = make_org()
        for _ in range(4):
            _post(client, org.auditor.username)
        assert _post(client, org.auditor.username, PASSWORD).status_code == 302
        client.post("/logout/")
        assert _post(client, org.auditor.username).status_code == 200  # the 5th failure
        assert "Too many" in _errors(_post(client, org.auditor.username, PASSWORD))[0]

    @override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/900s/ip,5/900s/key", "login": "30/m/ip"})
    def test_per_address_limit_spans_accounts(self, client, clock):
        org = make_org()
        for name in ("a1", "a2", "a3"):
            _post(client, name, ip="10.9.9.9")
        assert "Too many" in _errors(_post(client, org.auditor.username, PASSWORD, ip="10.9.9.9"))[0]
        other = _post(client, org.auditor.username, PASSWORD, ip="10.1.1.1")
        assert other.status_code == 302  # another address is not affected
        client.post("/logout/")
        clock.advance(901)
        assert _post(client, org.auditor.username, PASSWORD, ip="10.9.9.9").status_code == 302

    @override_settings(ACCOUNT_RATE_LIMITS={"login": "3/m/ip"})
    def test_too_many_requests_gets_a_429_page_and_one_audit_event(self, client):
        make_org()
        codes = [_post(client, f"user{n}", ip="10.7.7.7").status_code for n in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        page = _post(client, "user9", ip="10.7.7.7")
        assert "auth-card" in page.content.decode()
        events = AuditEvent.objects.filter(action="identity.login.locked")
        assert [e.detail["rule"] for e in events] == ["requests"]


class DepartedTests:
    def test_departed_staff_cannot_sign_in(self, client):
        org = make_org()
        org.auditor.employment_status = "departed"
        org.auditor.save()
        response = _post(client, org.auditor.username, PASSWORD)
        assert response.status_code == 302 and response["Location"] == reverse("account_inactive")
        assert not AuditEvent.objects.filter(action="access.login").exists()

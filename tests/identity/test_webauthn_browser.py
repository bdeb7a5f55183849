"""A security key end to end in real headless Chromium, with Chromium's virtual authenticator
(DevTools WebAuthn domain): a rep adds a security key, signs out, and signs in again with the
password and the key instead of a code."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from custodia.testing.factories import PASSWORD, make_org
from tests.identity.conftest import totp_code
from tests.test_browser import LAUNCH_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rep(transactional_db):
    return make_org().rep  # created before the browser starts (Playwright's event loop)


def test_a_rep_adds_a_security_key_and_signs_in_with_it(rep, live_server, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    base = live_server.url.replace("127.0.0.1", "localhost")  # WebAuthn needs a domain, not an address
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})
        try:
            page.goto(f"{base}/login/")
            page.fill("input[name=login]", "rep01")
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_url("**/accounts/2fa/authenticate/")
            page.fill("input[name=code]", totp_code(rep.totp_secret, min_left=10))
            page.press("input[name=code]", "Enter")
            page.wait_for_url(f"{base}/")

            page.goto(f"{base}/accounts/2fa/webauthn/add/")
            if page.locator("input[name=name]").count():
                page.fill("input[name=name]", "办公室安全密钥")
            page.click("#mfa_webauthn_add")  # the browser asks the (virtual) key, then posts
            page.wait_for_url(lambda url: "/webauthn/add/" not in url, timeout=15_000)
            added_page = page.url

            context.clear_cookies()  # a new sign-in
            page.goto(f"{base}/login/")
            page.fill("input[name=login]", "rep01")
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_url("**/accounts/2fa/authenticate/")
            page.get_by_text("使用安全密钥").click()
            page.wait_for_url(f"{base}/", timeout=15_000)
            title = page.title()
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print("screenshot:", tmp_path / "failure.png", "url:", page.url)
            raise
        finally:
            browser.close()
    assert "/accounts/2fa/" in added_page and "工作台" in title
    assert Authenticator.objects.filter(user=rep, type=Authenticator.Type.WEBAUTHN).count() == 1

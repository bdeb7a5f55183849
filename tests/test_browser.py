"""End to end in real headless Chromium (Debian's package, driven by Playwright): a sales rep
searches by mobile number, opens the customer, sees it masked, reveals it with a purpose, and
finds the reveal in the access history."""

from __future__ import annotations

import pytest

from custodia.testing.factories import PASSWORD, make_customer, make_org
from tests.identity.conftest import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def customer(transactional_db):
    """Created before the browser starts: Playwright's sync API runs an event loop in this thread."""
    org = make_org()
    make_customer(org.rep, name="其他客户", mobile="13900001111")
    make_customer(org.other_rep, name="他人客户", mobile="13812340000")
    customer = make_customer(org.rep, name="林晓梅", mobile="13812345678")
    customer.rep_totp_secret = org.rep.totp_secret  # rep01's authenticator app (enrolled by the factory)
    return customer


def test_rep_searches_reveals_and_sees_the_reveal_in_access_history(customer, live_server, browser, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=login]", "rep01")
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url("**/accounts/2fa/authenticate/")  # a rep's role needs a second factor
        page.fill("input[name=code]", totp_code(customer.rep_totp_secret, min_left=10))
        page.press("input[name=code]", "Enter")
        page.wait_for_url(f"{live_server.url}/")
        assert page.url == f"{live_server.url}/", page.inner_text("body")[:500]

        page.goto(f"{live_server.url}/customers/")
        page.fill("input[name=q]", "138 1234 5678")
        page.press("input[name=q]", "Enter")
        page.wait_for_selector("text=其他客户", state="detached")  # the filtered results replaced the list
        page.wait_for_selector("text=林晓梅")
        results = page.inner_text("main")
        assert "其他客户" not in results and "他人客户" not in results
        assert "13812345678" not in page.content()

        page.click("a:has-text('林晓梅')")
        page.wait_for_url(f"**/customers/{customer.pk}/**")
        row = page.locator("tr", has=page.locator("text=138****5678"))
        assert row.count() == 1
        assert "13812345678" not in page.content()

        row.locator(".reveal-btn").click()
        page.wait_for_selector("#modal select[name=purpose]")
        page.select_option("#modal select[name=purpose]", "contact_customer")
        page.click("#modal button[type=submit]")
        revealed = page.wait_for_selector("#revealed-value")
        assert "13812345678" in revealed.inner_text().replace(" ", "").replace("+86", "")
        page.click("#modal [data-close-modal]")
        # Closing the dialog empties it: the value does not stay in the page.
        expect(page.locator("#modal")).not_to_contain_text("5678", timeout=5000)

        page.click("a[href$='?tab=history']")
        page.wait_for_selector(".history")
        history = page.inner_text(".history")
        assert "rep01" in history
        assert "联系客户" in history or "Contact the customer" in history
        page.screenshot(path=str(tmp_path / "history.png"))
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise
    finally:
        context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors

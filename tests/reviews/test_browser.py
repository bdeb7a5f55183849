"""In headless Chromium: a manager opens their access review and revokes one item with HTMX (the
row is replaced in place, the confirmation dialog comes from data-confirm)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from custodia.access import grant_services
from custodia.access.models import User
from custodia.kernel.actor import Actor
from custodia.reviews import services
from custodia.reviews.choices import NO_ACCESS_ROLE
from custodia.testing.factories import PASSWORD, make_customer, make_org
from tests.identity.conftest import totp_code
from tests.test_browser import LAUNCH_ARGS, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOT = os.environ.get("CUSTODIA_REVIEW_SCREENSHOT")  # a path: save the manager's page there


@pytest.fixture
def review(transactional_db):
    org = make_org()
    far = make_customer(org.other_rep, name="远方客户")
    core = make_customer(org.rep, name="林晓梅", tier="core")
    compliance = org.actor("compliance")
    grant_services.access_grant_create(actor=compliance, customer_id=far.pk, username="rep02", actions=["view"],
                                       purpose="季度对账支持", days=30)
    grant_services.customer_assign(actor=compliance, customer_id=core.pk, username="rep02")
    services.campaigns_open(actor=Actor.system("tests"))
    return org


def test_manager_revokes_an_item_in_place(review, live_server, browser):  # noqa: F811
    org = review
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=login]", "manager01")
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.fill("input[name=code]", totp_code(org.manager.totp_secret, min_left=10))
        page.press("input[name=code]", "Enter")
        page.wait_for_url(f"{live_server.url}/")
        page.click("nav a[href='/reviews/']")
        page.wait_for_url("**/reviews/")
        page.click("main table a >> nth=0")
        page.wait_for_selector("text=rep02")
        assert "林晓梅" not in page.content() and "林**" in page.content()
        if SHOT:
            page.screenshot(path=SHOT, full_page=True)
        row = page.locator("section", has=page.locator("text=rep01")).locator("tr", has=page.locator("button"))
        page.once("dialog", lambda d: d.accept())
        row.first.locator("button[value=revoke]").click()
        page.wait_for_selector("section:has-text('rep01') .badge-danger")
        # The ORM from another thread: Playwright's sync API runs an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(lambda: User.objects.get(pk=org.rep.pk).role).result() == NO_ACCESS_ROLE
        assert not errors, errors
    finally:
        context.close()

"""No plaintext of a protected field reaches a role by default: not in any page, HTMX tab, API
response, export, error page or log line (issue 3's quality bar; DESIGN invariant 1).

Seeds the demo organisation and customers, then, for one person of every built-in role (and a
superuser), walks what that person can reach — the dashboard, list pages, a search by an exact
mobile number, every tab of the customers in scope, the REST API, a masked export, pages out of
scope and error pages — and scans everything with the PII scanner (identifiers confirmed by the
validators). No identifier found may be one of the seeded values, and none of the seeded values
may appear verbatim. Revealing is the one way to see a value, and it is tested elsewhere.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from django.urls import reverse

from custodia.access.models import User
from custodia.customers.exporting import customers_export
from custodia.customers.models import Customer
from custodia.customers.views import TABS
from custodia.demo import loader
from custodia.demo.generator import generate_customers, generate_org
from custodia.identity.selectors import mfa_enrolled, mfa_required
from custodia.identity.services import totp_authenticator_create
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.protection.pii import find_pii

COUNT = 240
PEOPLE = ("rep01", "manager01", "compliance01", "secadmin01", "auditor01", "legal01", "hr01", "root")
DETAILS_PER_PERSON = 4
API = ("customers", "contacts", "interactions", "opportunities", "transactions")


def _seeded_values() -> set[str]:
    """Every seeded protected value, as the scanner normalises it and as it was written."""
    values: set[str] = set()
    for spec in generate_customers(generate_org(), count=COUNT):
        values |= {spec.mobile, "+86" + spec.mobile, spec.identifier}
        values |= {v for v in (spec.bank_account, spec.email and spec.email.lower()) if v}
        for contact in spec.contacts:
            values |= {contact.mobile, "+86" + contact.mobile}
            if contact.email:
                values.add(contact.email.lower())
    return values


def _leaks(text: str, seeded: set[str]) -> set[str]:
    found = {m.value for m in find_pii(text)} | {text[m.start:m.end] for m in find_pii(text)}
    verbatim = {v for v in seeded if len(v) >= 11 and v in text}
    return (found & seeded) | verbatim


def _login(client, username: str) -> User:
    user = User.objects.get(username=username)
    if mfa_required(user) and not mfa_enrolled(user):
        totp_authenticator_create(actor=Actor.system("tests"), user=user)
    client.force_login(user)
    return user


def _pages(client, user: User, other: Customer) -> list[tuple[str, int, str]]:
    """(what, status, body) of everything this person is shown by default."""
    seen = []

    def get(path: str, **extra) -> None:
        response = client.get(path, **extra)
        seen.append((path, response.status_code, response.content.decode("utf-8", "replace")))

    get(reverse("dashboard"))
    for page in (1, 2, 3):
        get(reverse("customers:list") + f"?page={page}")
    mine = list(Customer.objects.restrict(Actor.for_user(user), "view").order_by("id")[:DETAILS_PER_PERSON])
    if mine:
        get(reverse("customers:list") + "?q=" + _a_mobile_of(mine[0]))
    for customer in mine:
        for tab in TABS:
            get(reverse("customers:detail", args=[customer.pk]) + f"?tab={tab}")
            get(reverse("customers:detail", args=[customer.pk]) + f"?tab={tab}", HTTP_HX_REQUEST="true")
    get(reverse("customers:detail", args=[other.pk]))  # out of scope (or in, for the widest roles)
    get(reverse("customers:detail", args=[uuid.uuid4()]))  # not found
    for name in API:
        get(f"/api/v1/{name}/?page_size=100")
    for customer in mine:
        get(f"/api/v1/customers/{customer.pk}/")
    get(reverse("protection:catalog"))
    return seen


def _a_mobile_of(customer: Customer) -> str:
    from custodia.protection.catalog import get
    from custodia.protection.crypto import KeyBag
    from custodia.protection.fields import unseal

    return unseal(customer, get("customer.mobile"), KeyBag.load([customer.pk]))[3:]


@pytest.fixture
def demo(db):
    loader.seed_org()
    assert loader.seed_customers(COUNT) == COUNT
    User.objects.create_superuser("root", password=None)
    return _seeded_values()


@pytest.mark.django_db
@pytest.mark.parametrize("username", PEOPLE)
def test_no_role_sees_a_protected_value_by_default(username, demo, client, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    user = _login(client, username)
    other = Customer.objects.exclude(owner=user).order_by("id").first()
    seen = _pages(client, user, other)
    assert seen[0][1] == 200  # the dashboard: the walk is signed in, not bounced to a login or MFA page
    if Customer.objects.restrict(Actor.for_user(user), "view").exists():  # the walk saw customer data
        assert sum(status == 200 and "/customers/" in what for what, status, _body in seen) >= 2 * len(TABS)
    leaks = {what: sorted(_leaks(body, demo))[:3] for what, _status, body in seen if _leaks(body, demo)}
    assert leaks == {}, f"{username} was shown protected values: {leaks}"

    actor = Actor.for_user(user)
    try:
        export = customers_export(actor=actor, out=tmp_path / "export.csv", masked=True)
    except PermissionDenied as exc:  # the role may not export: refused with a reason, nothing written
        assert str(exc) and not (tmp_path / "export.csv").exists()
    else:
        text = (tmp_path / "export.csv").read_text(encoding="utf-8-sig")
        assert export.row_count > 0 and _leaks(text, demo) == set()

    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert _leaks(logs, demo) == set()


def test_the_scanner_finds_a_seeded_value():
    """The check above can fail: a page showing a seeded value in clear is caught."""
    spec = next(iter(generate_customers(generate_org(), count=1)))
    seeded = {spec.mobile, "+86" + spec.mobile, spec.identifier}
    assert spec.mobile in _leaks(f"<td>{spec.mobile}</td>", seeded)
    assert spec.identifier in _leaks(f"证件号 {spec.identifier}", seeded)
    masked = spec.mobile[:3] + "****" + spec.mobile[-4:]
    assert _leaks(f"<td>{masked}</td>", seeded) == set()

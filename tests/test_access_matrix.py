"""Who may do what to which customer (issue 3's quality bar): every API operation on a customer
or one of its records (read from the OpenAPI schema), the customer pages, the export service and
the CLI export, × every built-in role (and a superuser) × the ownership cases — own, a report's,
same department (another team), other department, core tier — against the declared tables
below. A denial by scope is "not found" (404); a role that lacks the action altogether gets 403.

A new API operation on a customer-owned object is picked up from the schema by itself; one this
module cannot classify fails ``test_every_customer_operation_is_classified``.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from custodia.access.models import Team
from custodia.customers import record_services
from custodia.customers.exporting import customers_export
from custodia.customers.models import Export
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.testing.factories import make_customer, make_org, make_user

# case -> (owner, tier). rep02 reports to manager01 (same team); rep04 is in another team of the
# same department (no manager); rep03 is in another department (manager02's team).
CASES = {
    "own": ("rep", "ordinary"),
    "report": ("rep2", "ordinary"),
    "same_department": ("rep4", "ordinary"),
    "other_department": ("other_rep", "ordinary"),
    "core": ("rep", "core"),
}
PEOPLE = ("rep", "rep2", "rep4", "other_rep", "manager", "other_manager", "compliance", "secadmin", "auditor",
          "legal", "hr", "admin")

# The declared expectation: who may do each action to the customer of each case.
VIEW = {
    "own": {"rep", "manager", "compliance", "admin"},
    "report": {"rep2", "manager", "compliance", "admin"},
    "same_department": {"rep4", "compliance", "admin"},
    "other_department": {"other_rep", "other_manager", "compliance", "admin"},
    "core": {"rep", "compliance", "admin"},  # not the team's manager: core customers are for named people
}
ALLOWED = {
    "view": VIEW,
    "change": {
        "own": {"rep", "manager", "admin"},
        "report": {"rep2", "manager", "admin"},
        "same_department": {"rep4", "admin"},
        "other_department": {"other_rep", "other_manager", "admin"},
        "core": {"rep", "admin"},
    },
    "delete": {
        "own": {"manager", "admin"},
        "report": {"manager", "admin"},
        "same_department": {"admin"},
        "other_department": {"other_manager", "admin"},
        "core": {"admin"},
    },
    "export": VIEW,
}
# Roles that hold an action at all (on some customers): anyone else is refused outright (403).
HOLDERS = {
    "view": {"rep", "rep2", "rep4", "other_rep", "manager", "other_manager", "compliance", "admin"},
    "change": {"rep", "rep2", "rep4", "other_rep", "manager", "other_manager", "admin"},
    "delete": {"manager", "other_manager", "admin"},
    "export": {"rep", "rep2", "rep4", "other_rep", "manager", "other_manager", "compliance", "admin"},
}
RECORD_INPUT = {
    "contact": {"name": "矩阵联系人"},
    "interaction": {"kind": "call", "occurred_at": "2025-03-01T10:00:00+08:00", "subject": "回访"},
    "opportunity": {"name": "矩阵商机", "stage": "proposal", "amount": "1000.00"},
    "transaction": {"occurred_on": "2025-03-01", "amount": "1000.00", "product": "年度服务"},
}
OBJECT_PATH = re.compile(r"^/api/v1/(customers|contacts|interactions|opportunities|transactions)/\{id\}/$")
METHOD_ACTION = {"get": "view", "put": "change", "patch": "change", "delete": "delete"}
SUCCESS = {"get": 200, "put": 200, "patch": 200, "delete": 204}
# Customer-object operations with their own tests (approvals, rate limits): classified, not run here.
ELSEWHERE = {("post", "/api/v1/customers/{id}/reveal/")}
# Operations on objects that are not a customer's (access by role, tested in their app and
# tests/test_routes.py): monitoring alerts.
NOT_CUSTOMER = re.compile(r"^/api/v1/alerts/")


def expected(action: str, case: str, who: str, success: int) -> int:
    if who in ALLOWED[action][case]:
        return success
    return 404 if who in HOLDERS[action] else 403


@pytest.fixture(scope="module")
def operations(django_db_setup, django_db_blocker) -> list[tuple[str, str]]:
    with django_db_blocker.unblock():
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    return sorted((method, path) for path, item in schema["paths"].items() for method in item
                  if method in METHOD_ACTION or (method, path) in ELSEWHERE)


def _world(case: str):
    org = make_org()
    team = Team.objects.create(code="east-2", name="华东二组", department=org.dept_a)
    people = {name: getattr(org, name) for name in PEOPLE if name != "rep4"}
    people["rep4"] = make_user("rep04", "rep", team)
    owner, tier = CASES[case]
    customer = make_customer(people[owner], tier=tier)
    objects = {"customers": customer.pk}
    for kind, data in RECORD_INPUT.items():
        record = record_services.record_create(actor=Actor.system("tests"), kind=kind, customer_id=customer.pk,
                                               data=data)
        objects[kind + "s" if kind != "opportunity" else "opportunities"] = record.pk
    return people, customer, objects


def test_every_customer_operation_is_classified(operations):
    on_objects = [(m, p) for m, p in operations if "{id}" in p]
    assert on_objects, "the schema lists no operation on a customer object"
    unknown = [(m, p) for m, p in on_objects
               if not OBJECT_PATH.match(p) and (m, p) not in ELSEWHERE and not NOT_CUSTOMER.match(p)]
    assert unknown == [], f"classify these in test_access_matrix.py: {unknown}"


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CASES))
def test_api_operations(case, operations):
    people, customer, objects = _world(case)
    client = APIClient()
    failures = []
    for who in PEOPLE:
        client.force_authenticate(people[who])
        for method, path in operations:
            match = OBJECT_PATH.match(path)
            if not match or method == "delete":
                continue  # deletes run last, below: they change the world
            url = path.replace("{id}", str(objects[match.group(1)]))
            body = {} if method != "put" else _put_body(match.group(1))
            response = getattr(client, method)(url, body, format="json")
            want = expected(METHOD_ACTION[method], case, who, SUCCESS[method])
            if response.status_code != want:
                failures.append(f"{method.upper()} {path} as {who}: {response.status_code}, declared {want}")
    # Deletes last: every person who may not delete tries (a refused delete changes nothing), then
    # one who may. A record is deleted with "change" on its customer; the customer itself last.
    for collection in ("contacts", "interactions", "opportunities", "transactions", "customers"):
        action = "delete" if collection == "customers" else "change"
        url = f"/api/v1/{collection}/{objects[collection]}/"
        for who in PEOPLE:
            want = expected(action, case, who, 204)
            if want == 204:
                continue
            client.force_authenticate(people[who])
            code = client.delete(url).status_code
            if code != want:
                failures.append(f"DELETE {url} ({collection}) as {who}: {code}, declared {want}")
        client.force_authenticate(people[sorted(ALLOWED[action][case])[0]])
        code = client.delete(url).status_code
        if code != 204:
            failures.append(f"DELETE {url} ({collection}) by an allowed person: {code}")
    checked = sum(1 for method, path in operations if OBJECT_PATH.match(path))
    assert checked >= 20  # GET, PUT, PATCH and DELETE of customers and their four kinds of records
    assert failures == []


def _put_body(collection: str) -> dict:
    if collection == "customers":
        return {"kind": "individual", "name": "矩阵客户"}
    kind = {"contacts": "contact", "interactions": "interaction", "opportunities": "opportunity",
            "transactions": "transaction"}[collection]
    return RECORD_INPUT[kind]


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CASES))
def test_customer_pages(case, client):
    people, customer, _objects = _world(case)
    pages = {
        "view": [reverse("customers:detail", args=[customer.pk]),
                 reverse("customers:detail", args=[customer.pk]) + "?tab=history"],
        "change": [reverse("customers:edit", args=[customer.pk]),
                   reverse("customers:record_create", args=[customer.pk, "contact"])],
    }
    failures = []
    for who in PEOPLE:
        client.force_login(people[who])
        for action, urls in pages.items():
            for url in urls:
                code = client.get(url).status_code
                want = expected(action, case, who, 200)
                if code != want:
                    failures.append(f"GET {url} as {who}: {code}, declared {want}")
    assert failures == []


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CASES))
def test_export_service_and_cli(case, tmp_path, capsys):
    from custodia.cli import main

    people, customer, _objects = _world(case)
    failures = []
    for who in PEOPLE:
        out = tmp_path / f"{who}.csv"
        try:
            export = customers_export(actor=Actor.for_user(people[who]), out=out)
        except PermissionDenied:
            included = None
        else:
            included = str(customer.pk) in export.customer_ids
        if who not in HOLDERS["export"]:
            ok = included is None and not out.exists()
        else:
            ok = included == (who in ALLOWED["export"][case])
        if not ok:
            failures.append(f"export as {who}: {'refused' if included is None else included}")
    for who in ("rep", "manager", "compliance", "auditor"):  # the CLI goes through the same service
        out = tmp_path / f"cli-{who}.csv"
        code = main(["export", "customers", "--actor", people[who].username, "--out", str(out)])
        capsys.readouterr()
        if who in HOLDERS["export"]:
            export = Export.objects.filter(actor_id=people[who].pk).latest("created_at")
            if code != 0 or (str(customer.pk) in export.customer_ids) != (who in ALLOWED["export"][case]):
                failures.append(f"CLI export as {who}: exit {code}")
        elif code == 0 or out.exists():
            failures.append(f"CLI export as {who} was not refused")
    assert failures == []

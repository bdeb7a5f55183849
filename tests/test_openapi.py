"""OpenAPI is a tested artefact (STYLE rule 11): the schema drf-spectacular generates validates
with no warning, every /api/v1/ route is in it, the docs page is served offline (no CDN), and
schemathesis fuzzes every operation against the real WSGI application as a sales rep: no 5xx, and
every documented response matches the schema."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from custodia.access.services import api_token_create
from custodia.config.wsgi import application
from custodia.customers import record_services
from custodia.kernel.actor import Actor
from custodia.testing.routes import api_patterns

SYSTEM = Actor.system("tests")


def api_routes() -> set[tuple[str, str]]:
    """(method, "/api/v1/…/{id}/") for every route under /api/v1/ in Django's URL resolver."""
    routes = set()
    for full, callback in api_patterns():
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", full).replace("^", "").replace("$", "")
        methods = getattr(callback, "actions", None) or {m: m for m in callback.view_class.http_method_names}
        routes |= {(method, path) for method in methods if method not in ("head", "options")}
    return routes


@pytest.fixture
def schema_dict(db):
    response = APIClient().get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


class SchemaTests:
    def test_schema_generates_without_errors_or_warnings(self, tmp_path):
        # The management command is the CI gate: --validate checks it against the OpenAPI 3 meta
        # schema, --fail-on-warn turns every drf-spectacular warning (an untyped parameter, an
        # unresolvable serializer, an enum name collision) into a failure.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    def test_served_schema_validates(self, schema_dict):
        validate_schema(schema_dict)
        assert schema_dict["openapi"].startswith("3.")

    def test_every_api_route_is_in_the_schema(self, schema_dict):
        documented = {(method, path) for path, item in schema_dict["paths"].items() for method in item
                      if method in ("get", "post", "put", "patch", "delete")}
        routes = api_routes()
        assert routes, "no routes found under /api/v1/"
        assert routes - documented == set(), "API routes missing from the schema"
        assert {r for r in documented if r[1].startswith("/api/v1/")} == routes

    def test_path_ids_are_uuids_and_lists_are_paginated(self, schema_dict):
        for path, item in schema_dict["paths"].items():
            for method, operation in item.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        assert parameter["schema"] == {"type": "string", "format": "uuid"}, (method, path)
                if method == "get" and path.endswith("s/"):
                    names = {p["name"] for p in operation["parameters"]}
                    assert {"page", "page_size"} <= names, path
                    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                    page = schema_dict["components"]["schemas"][ref.rsplit("/", 1)[1]]
                    assert set(page["properties"]) == {"count", "next", "previous", "results"}

    def test_no_protected_value_has_a_clear_output_field(self, schema_dict):
        # Output shapes carry protected fields only as masked strings with the masking note.
        detail = schema_dict["components"]["schemas"]["CustomerDetail"]["properties"]
        for name in ("mobile", "email", "id_number", "bank_account", "address", "birth_date", "notes"):
            assert "Masked" in detail[name]["description"], name


@pytest.mark.django_db
class ApiDocsTests:
    def test_docs_page_is_served_from_local_assets_only(self):
        client = APIClient()
        response = client.get("/api/docs/")
        assert response.status_code == 200
        html = response.content.decode("utf-8")
        assert not re.search(r"https?://", html), "the docs page references a remote (CDN) URL"
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert any("swagger-ui" in a for a in assets)
        for asset in assets:
            assert asset.startswith("/static/"), asset
            assert client.get(asset).status_code == 200, asset


# --- Property-based tests with schemathesis over the real WSGI application.


@pytest.fixture
def fuzz_data(db, org, customer_factory):
    """A sales rep who owns a few customers (each with one record of every kind) and a token."""
    ids = {"customer": []}
    for _ in range(3):
        customer = customer_factory(org.rep)
        ids["customer"].append(str(customer.id))
    first = ids["customer"][0]
    for kind, data in {
        "contact": {"name": "李四", "mobile": "13700001111"},
        "interaction": {"kind": "call", "occurred_at": "2025-03-01T10:00:00+08:00", "subject": "回访"},
        "opportunity": {"name": "采购", "stage": "proposal", "amount": "1000.00"},
        "transaction": {"occurred_on": "2025-02-01", "amount": "9.90", "product": "年费"},
    }.items():
        record = record_services.record_create(actor=SYSTEM, kind=kind, customer_id=first, data=data)
        ids[kind] = [str(record.id)]
    customer_factory(org.other_rep)  # out of scope: must never show up
    return {"token": api_token_create(actor=SYSTEM, username=org.rep.username), "ids": ids}


@pytest.fixture
def wsgi_requests_keep_the_test_transaction():
    """Django's test client disconnects ``close_old_connections`` around a request; the WSGI
    handler schemathesis calls does not, so do it here (on PostgreSQL the request would otherwise
    close the connection that holds the test transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded at collection from the application itself (serving the schema touches no database), so
# that every operation is its own test. (schemathesis.pytest.from_fixture would run them all as
# subtests of one test, and does not work with pytest 9: it sets ``Function._nodeid``.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
RESOURCE = {"customers": "customer", "contacts": "contact", "interactions": "interaction",
            "opportunities": "opportunity", "transactions": "transaction"}


def _point_at_real_objects(case, ids: dict) -> None:
    """Half the generated cases use the rep's real objects instead of random UUIDs, so the
    services' validation runs (not only the 404 path)."""
    resource = case.path.split("/")[3]
    marker = sum(map(ord, repr((case.path_parameters, case.query, case.body)))) % 2 == 0
    if case.path_parameters and "id" in case.path_parameters and marker and resource in RESOURCE:
        case.path_parameters["id"] = ids[RESOURCE[resource]][0]
    if resource != "customers" and case.method == "POST" and isinstance(case.body, dict) and marker:
        if "customer" in case.body:
            case.body["customer"] = ids["customer"][1]


@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
@pytest.mark.usefixtures("wsgi_requests_keep_the_test_transaction")
def test_api_conforms_to_its_schema(case, fuzz_data):
    _point_at_real_objects(case, fuzz_data["ids"])
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_data['token']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )

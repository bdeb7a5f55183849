"""The authorisation matrix over EVERY URL pattern of the project (DESIGN invariant 3: deny by default).

The patterns are walked from ``get_resolver()``; each one must have an entry in ``EXPECTATIONS``
(the declared table below) and its view must declare what it needs (``required_action``, a
``required_action`` mapping for DRF viewsets, or ``public = True``). Path parameters are filled
with an in-scope object id, an out-of-scope object id and a random uuid. For every route and
case the matrix checks:

- anonymous: a UI page redirects to the login page; an API route answers 401/403;
- a role with no customer permission (secadmin, auditor, legal, hr): 403 or 404 on customer routes;
- the in-scope actor: the declared success code;
- an out-of-scope object and a random id: 404 (not found, never "forbidden").

A new route without an entry here, or a view that declares nothing, fails ``RouteCoverageTests``
with the list of offenders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from custodia.access.models import Role
from custodia.audit.models import AuditEvent
from custodia.customers import record_services
from custodia.kernel.actor import Actor
from custodia.kernel.views import ActorView
from custodia.reviews.services import campaigns_open
from custodia.testing.factories import make_customer, make_org
from tests.monitor.ui_helpers import make_alert

NO_CUSTOMER_ROLES = ("secadmin", "auditor", "legal", "hr")
OBJECT_KWARGS = {"pk", "id"}  # path parameters that name an object
PARAM_SAMPLES = {"field": "mobile", "kind": "contact", "provider_id": "sso", "code": "volume.viewed.5m"}  # the other path parameters
CUSTOMER = "<customer>"  # placeholder in request data: the customer of the scope under test
# Third-party views we cannot annotate, public by nature: language switch, OpenAPI schema and docs.
THIRD_PARTY_PUBLIC = {"set_language", "api-schema", "api-docs"}
# django-allauth's views (sign-in, MFA, sessions, SSO: custodia.identity.urls), which check sign-in
# themselves; none touches customer data. Their expected answers are in EXPECTATIONS below.
THIRD_PARTY_ALLAUTH = {
    "account_login", "account_logout", "account_inactive", "account_reauthenticate", "account_change_password",
    "mfa_index", "mfa_authenticate", "mfa_reauthenticate", "mfa_activate_totp", "mfa_deactivate_totp",
    "mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_download_recovery_codes", "mfa_list_webauthn",
    "mfa_add_webauthn", "mfa_reauthenticate_webauthn", "mfa_remove_webauthn", "mfa_edit_webauthn",
    "socialaccount_login_cancelled", "socialaccount_login_error", "usersessions_list",
    "openid_connect_login", "openid_connect_callback",
}


@dataclass(frozen=True)
class Case:
    method: str = "get"
    data: dict | None = None
    ok: frozenset = frozenset({200})  # the in-scope actor's answer
    actor: str = "rep"  # who is "in scope"
    scoped: bool = True  # out-of-scope / random ids apply (path parameter or <customer> in the data)
    roles: frozenset = frozenset()  # monitor routes: the roles let in for this case (default: the route's)


@dataclass(frozen=True)
class Expect:
    """``kind``: public | signed_in (any signed-in person, no customer data) | ui | api
    (customer data: scope rules apply) | security (manage_roles) | audit (read_audit). ``obj``: what
    the id parameters name."""

    kind: str
    cases: tuple[Case, ...]
    obj: str = "customer"
    anon_ok: frozenset = field(default_factory=frozenset)  # public routes: anonymous answer
    allowed: frozenset = field(default_factory=frozenset)  # monitor routes: the roles let in


def ui(*cases, obj="customer"):
    return Expect("ui", cases, obj)


def api(*cases, obj="customer"):
    return Expect("api", cases, obj)


def security(*cases, obj=None):
    """A security-admin page (manage_roles): secadmin in; every other role 403, a superuser too
    (separation of duties); a random id 404."""
    return Expect("security", tuple(Case(c.method, c.data, c.ok, "secadmin", False) for c in cases), obj)


def audit(*cases, obj=None):
    """An audit-log page (read_audit): the auditor, compliance, the security admin and a superuser
    in; a rep, a manager, legal and HR 403; a random id 404."""
    return Expect("audit", tuple(Case(c.method, c.data, c.ok, "auditor", False) for c in cases), obj)


def monitor(*cases, obj=None, allowed=("compliance", "secadmin", "auditor", "admin")):
    """A monitoring page or API (roles checked by monitor.services): ``allowed`` in (viewing:
    security admin, compliance, auditor, a superuser; triage: not the auditor; rules: security
    admin and superuser), every other role 403, a random id 404."""
    return Expect("monitor", tuple(Case(c.method, c.data, c.ok, "secadmin", False, c.roles) for c in cases), obj,
                  allowed=frozenset(allowed))


MONITOR_ROLES = ("rep", "manager", "compliance", "secadmin", "auditor", "legal", "hr", "admin")
TRIAGE = ("compliance", "secadmin", "admin")
RULES = ("secadmin", "admin")
RULE_FORM = {"name": "Customers viewed in 5 minutes", "mode": "on", "reason": "matrix", "threshold": "160"}
READ_AUDIT = ("in_scope", "compliance", "secadmin", "admin")
NO_READ_AUDIT = ("rep", "manager", "legal", "hr")


def _ok(*codes):
    return frozenset(codes)


CUSTOMER_EDIT = {"kind": "individual", "name": "矩阵改名", "tier": "ordinary", "stage": "lead", "source": "company_lead"}
API_INPUT = {
    "customer": {"kind": "individual", "name": "接口客户"},
    "contact": {"name": "接口联系人"},
    "interaction": {"kind": "call", "occurred_at": "2025-03-01T10:00:00+08:00", "subject": "回访"},
    "opportunity": {"name": "年度框架", "stage": "proposal", "amount": "1000.00"},
    "transaction": {"occurred_on": "2025-03-01", "amount": "1000.00", "product": "年度服务"},
}


def _records_api(kind: str) -> dict[str, Expect]:
    data = API_INPUT[kind]
    return {
        f"customers-api:{kind}-list": api(
            Case("get", scoped=False),
            Case("post", data | {"customer": CUSTOMER}, ok=_ok(201)),
        ),
        f"customers-api:{kind}-detail": api(
            Case("get"), Case("put", data), Case("patch", {}), Case("delete", ok=_ok(204)), obj=kind,
        ),
    }


EXPECTATIONS: dict[str, Expect] = {
    # public
    "set_language": Expect("public", (Case("post", {"language": "en", "next": "/"}, ok=_ok(302)),), None, _ok(302)),
    "api-schema": Expect("public", (Case("get"),), None, _ok(200)),
    "api-docs": Expect("public", (Case("get"),), None, _ok(200)),
    "login": Expect("public", (Case("get", ok=_ok(302)),), None, _ok(200)),  # signed in: sent on
    "logout": Expect("public", (Case("post", ok=_ok(302)),), None, _ok(302)),
    # sign-in, MFA and sessions (allauth; rep01 has an authenticator app, auditor01 needs none). Pages
    # that change a second factor first ask a session signed in with force_login to re-authenticate (302).
    "account_login": Expect("public", (Case("get", ok=_ok(302)),), None, _ok(200)),
    "account_logout": Expect("public", (Case("post", ok=_ok(302)),), None, _ok(302)),
    "account_inactive": Expect("public", (Case("get"),), None, _ok(200)),
    "mfa_authenticate": Expect("public", (Case("get", ok=_ok(302)),), None, _ok(302)),  # no sign-in pending
    "socialaccount_login_cancelled": Expect("public", (Case("get"),), None, _ok(200)),
    "socialaccount_login_error": Expect("public", (Case("get", ok=_ok(401)),), None, _ok(401)),
    "openid_connect_login": Expect("public", (Case("get", ok=_ok(404)),), None, _ok(404)),  # SSO not configured
    "openid_connect_callback": Expect("public", (Case("get", ok=_ok(404)),), None, _ok(404)),
    "account_reauthenticate": Expect("signed_in", (Case("get"),), None),
    "account_change_password": Expect("signed_in", (Case("get"),), None),
    "usersessions_list": Expect("signed_in", (Case("get"),), None),
    "mfa_index": Expect("signed_in", (Case("get"),), None),
    "mfa_list_webauthn": Expect("signed_in", (Case("get"),), None),
    "mfa_reauthenticate": Expect("signed_in", (Case("get", ok=_ok(200, 302)),), None),  # 302: no factor
    "mfa_activate_totp": Expect("signed_in", (Case("get", ok=_ok(302)),), None),
    "mfa_deactivate_totp": Expect("signed_in", (Case("get", ok=_ok(302, 404)),), None),  # 404: no app
    "mfa_view_recovery_codes": Expect("signed_in", (Case("get", ok=_ok(302, 404)),), None),  # 404: no codes
    "mfa_download_recovery_codes": Expect("signed_in", (Case("get", ok=_ok(302, 404)),), None),
    "mfa_generate_recovery_codes": Expect("signed_in", (Case("get", ok=_ok(302)),), None),
    "mfa_add_webauthn": Expect("signed_in", (Case("get", ok=_ok(302)),), None),
    "mfa_reauthenticate_webauthn": Expect("signed_in", (Case("get", ok=_ok(302)),), None),
    "mfa_remove_webauthn": Expect("signed_in", (Case("get", ok=_ok(302)),), "authenticator"),
    "mfa_edit_webauthn": Expect("signed_in", (Case("get", ok=_ok(302)),), "authenticator"),
    # any signed-in person, no customer data
    "dashboard": Expect("signed_in", (Case("get"),), None),
    "protection:catalog": Expect("signed_in", (Case("get"),), None),
    # customer pages
    "customers:list": ui(Case("get", scoped=False)),
    "customers:create": ui(Case("get", scoped=False), Case("post", {"kind": "individual", "name": "矩阵客户"},
                                                           ok=_ok(302), scoped=False)),
    "customers:detail": ui(Case("get")),
    "customers:edit": ui(Case("get"), Case("post", CUSTOMER_EDIT, ok=_ok(302))),
    "customers:delete": ui(Case("get", actor="manager"), Case("post", actor="manager", ok=_ok(302))),
    "customers:reveal": ui(Case("get"), Case("post", {"purpose": "contact_customer"})),
    "customers:record_create": ui(Case("get"), Case("post", {"name": "矩阵联系人"}, ok=_ok(302))),
    # customer API
    "customers-api:customer-list": api(Case("get", scoped=False),
                                       Case("post", API_INPUT["customer"], ok=_ok(201), scoped=False)),
    "customers-api:customer-detail": api(Case("get"), Case("put", API_INPUT["customer"]), Case("patch", {}),
                                         Case("delete", actor="manager", ok=_ok(204))),
    "customers-api:customer-reveal": api(Case("post", {"field": "mobile", "purpose": "contact_customer"})),
    **_records_api("contact"),
    **_records_api("interaction"),
    **_records_api("opportunity"),
    **_records_api("transaction"),
    # who has access to a customer (share: the team's manager, compliance)
    "customers:access": ui(Case("get", actor="manager"),
                           Case("post", {"op": "assign", "user": "rep02"}, actor="manager", ok=_ok(302))),
    # security admin (manage_roles)
    "access:roles": security(Case("get")),
    "access:role_create": security(Case("get"), Case("post", {"code": "matrix", "name": "矩阵角色", "duty": "operator"},
                                                     ok=_ok(302))),
    "access:role_detail": security(Case("get"), Case("post", {"name": "销售代表", "duty": "operator"}, ok=_ok(302)),
                                   obj="role"),
    "access:grant_create": security(Case("get"), Case("post", {"object_type": "audit_log", "actions": ["read_audit"],
                                                               "scope": "all", "reveal_max_level": 0}, ok=_ok(302)),
                                    obj="role"),
    "access:grant_edit": security(Case("get"), Case("post", {
        "object_type": "customer", "actions": ["view", "add", "change", "reveal", "export"], "scope": "own",
        "tiers": ["core", "important", "ordinary"], "reveal_max_level": 3}, ok=_ok(302)), obj="grant"),
    "access:grant_delete": security(Case("post", ok=_ok(302)), obj="grant"),
    "access:people": security(Case("get")),
    "access:person_edit": security(Case("get"), Case("post", {"role": "rep"}, ok=_ok(302)), obj="person"),
    "access:person_status": security(Case("post", {"status": "cooling_off", "reason": "矩阵"}, ok=_ok(302)),
                                     obj="person"),
    # access reviews: who sees or decides a campaign is checked per campaign (a campaign not yours is 404;
    # tests/reviews asserts each case); the overview is for manage_roles or read_audit (others 403)
    "reviews:index": Expect("signed_in", (Case("get"),), None),
    "reviews:overview": Expect("signed_in", (Case("get", actor="secadmin", ok=_ok(200, 403)),), None),
    "reviews:campaign": Expect("signed_in", (Case("get", actor="manager", ok=_ok(200, 404)),), "campaign"),
    "reviews:decide": Expect("signed_in", (Case("post", {"decision": "confirm"}, actor="manager",
                                                ok=_ok(302, 404)),), "review_item"),
    # maker-checker approvals: anyone signed in lists their own requests; deciding is checked per request (a
    # request not yours to decide, here a customer's id, is 404; roles without approve 403; tests/approvals
    # asserts each case). Asking for a reveal approval needs reveal on the customer (rep01's mobile needs none:
    # the form says so). Tracing an export is compliance's (read_audit and view; auditors 403).
    "approvals:list": Expect("signed_in", (Case("get"), Case("post", {"op": "approve", "request": str(uuid.UUID(int=7))},
                                                              ok=_ok(404))), None),
    "approvals:request_reveal": ui(Case("get"), Case("post", {"purpose": "contact_customer"})),
    "approvals:trace": ui(Case("get", actor="compliance", scoped=False),
                          Case("post", {"export_id": str(uuid.UUID(int=7))}, actor="compliance", scoped=False)),
    # the audit log (read_audit: auditor, compliance, security admin; never any customer's personal data)
    "audit:search": audit(Case("get")),
    "audit:integrity": audit(Case("get"), Case("post", {"op": "verify"}), Case("post", {"op": "sign"}, ok=_ok(302))),
    "audit:public_key": audit(Case("get")),
    "audit:bundle": audit(Case("get"), Case("post", {"customer": CUSTOMER})),  # 200: the zip
    "audit:proof": audit(Case("get"), obj="audit_event"),
    # monitoring (roles checked by monitor.services; viewing alerts is audited)
    "monitor:alerts": monitor(Case("get")),
    "monitor:alert": monitor(Case("get"), obj="alert"),
    "monitor:alert_triage": monitor(Case("post", {"status": "investigating"}, ok=_ok(302)), obj="alert",
                                    allowed=TRIAGE),
    "monitor:suspension_lift": monitor(Case("post", {"reason": "matrix"}, ok=_ok(302)), obj="alert", allowed=RULES),
    "monitor:rules": monitor(Case("get")),
    "monitor:rule": monitor(Case("get"), Case("post", RULE_FORM, ok=_ok(302), roles=frozenset(RULES))),
    "monitor:rule_dry_run": monitor(Case("post", {"days": "7"}), allowed=RULES),
    "monitor-api:alert-list": monitor(Case("get")),
    "monitor-api:alert-detail": monitor(Case("get"), obj="alert"),
    "monitor-api:alert-triage": monitor(Case("post", {"status": "investigating"}), obj="alert", allowed=TRIAGE),
    "monitor-api:rule-list": monitor(Case("get")),
    "approvals-api:request-list": Expect("signed_in", (Case("get"), Case("post", {
        "kind": "reveal", "customer": CUSTOMER, "field": "id_number", "purpose": "contact_customer"},
        ok=_ok(201, 404)),), None),  # 404: the customer is not in the person's scope
    "approvals-api:request-approve": Expect("signed_in", (Case("post", {}, actor="manager", ok=_ok(403, 404)),), None),
    "approvals-api:request-reject": Expect("signed_in", (Case("post", {"reason": "矩阵"}, actor="manager",
                                                              ok=_ok(403, 404)),), None),
}


# --- the routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    route: str
    callback: object
    params: tuple[str, ...]

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:
        return hasattr(self.callback, "cls")  # DRF views (APIView, viewsets)


def _params(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    return list(pattern.regex.groupindex)  # RegexPattern (DRF routers)


def walk(patterns=None, prefix: str = "", namespace: str = "", params=()) -> list[Route]:
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        here = (*params, *_params(entry.pattern))
        if isinstance(entry, URLResolver):
            ns = ":".join(p for p in (namespace, entry.namespace or "") if p)
            routes += walk(entry.url_patterns, prefix + str(entry.pattern), ns, here)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            routes.append(Route(name, prefix + str(entry.pattern), entry.callback, here))
    return routes


ROUTES = walk()
NAMED = {r.name: r for r in ROUTES if r.name}


def declaration_problem(route: Route) -> str | None:
    """Why a route's view does not declare what it needs (None when it does)."""
    if route.name in THIRD_PARTY_PUBLIC | THIRD_PARTY_ALLAUTH:
        return None
    cls = route.view_class
    if cls is None:
        return "function view without a declaration"
    if getattr(cls, "public", False) is True:
        return None
    actions = getattr(route.callback, "actions", None)
    if actions is not None:  # DRF viewset: every routed action needs an entry
        mapping = getattr(cls, "required_action", None)
        if not isinstance(mapping, dict):
            return "viewset without a required_action mapping"
        missing = sorted(set(actions.values()) - set(mapping))
        return f"required_action has no entry for {missing}" if missing else None
    declared = any("required_action" in vars(k) for k in cls.__mro__ if k is not ActorView)
    if not (declared and issubclass(cls, ActorView)):
        return "declares neither required_action (on an ActorView) nor public = True"
    return None


class RouteCoverageTests:
    def test_every_route_is_named_declared_and_in_the_matrix(self):
        problems = []
        for route in ROUTES:
            label = route.name or f"<unnamed> {route.route}"
            if route.name is None:
                problems.append(f"{label}: give the route a name so the matrix can cover it")
                continue
            why = declaration_problem(route)
            if why:
                problems.append(f"{label}: {why}")
            if route.name not in EXPECTATIONS:
                problems.append(f"{label}: no entry in tests/test_routes.py EXPECTATIONS")
        stale = sorted(set(EXPECTATIONS) - set(NAMED))
        problems += [f"{name}: in EXPECTATIONS but no such route" for name in stale]
        assert not problems, "Routes not covered by the authorisation matrix:\n" + "\n".join(problems)

    def test_declared_actions_are_known(self):
        from custodia.access.policy import ALL_ACTIONS

        for route in ROUTES:
            cls = route.view_class
            mapping = getattr(cls, "required_action", None)
            values = mapping.values() if isinstance(mapping, dict) else [mapping]
            assert set(values) - {None} <= ALL_ACTIONS, route.name

    def test_customer_routes_need_a_customer_action(self):
        for name, expect in EXPECTATIONS.items():
            route = NAMED.get(name)
            if route is None or expect.kind not in ("ui", "api"):
                continue
            mapping = route.view_class.required_action
            assert mapping and (not isinstance(mapping, dict) or all(mapping.values())), name


# --- the matrix ---------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    """An organisation; an in-scope customer (rep01's, in manager01's team) and an out-of-scope
    one (rep03's, another department), each with one record of every kind."""
    org = make_org()
    system = Actor.system("tests")
    ids = {}
    for scope, owner in (("in", org.rep), ("out", org.other_rep)):
        customer = make_customer(owner)
        ids[scope] = {"customer": customer.pk}
        for kind, data in API_INPUT.items():
            if kind != "customer":
                record = record_services.record_create(actor=system, kind=kind, customer_id=customer.pk, data=data)
                ids[scope][kind] = record.pk
    ids["random"] = {kind: uuid.uuid4() for kind in (*API_INPUT, "role", "grant", "person", "audit_event", "alert")}
    role = Role.objects.get(code="rep")
    ids["in"] |= {"role": role.pk, "grant": role.grants.get(object_type="customer").pk, "person": org.rep.pk}
    ids["in"]["authenticator"] = 2**31 - 1  # a security key id nobody has
    ids["in"]["audit_event"] = AuditEvent.objects.order_by("seq").values_list("id", flat=True).first()
    ids["in"]["alert"] = make_alert(org.rep2, suspended=True).pk
    campaign = next(c for c in campaigns_open(actor=system) if c.reviewer_id == org.manager.pk)
    ids["in"] |= {"campaign": campaign.pk, "review_item": campaign.items.get(subject=org.rep, kind="role").pk}
    return org, ids


def _url(route: Route, expect: Expect, ids: dict) -> str:
    kwargs = {}
    for param in route.params:
        if param in OBJECT_KWARGS:
            kwargs[param] = ids[expect.obj or "customer"]
        else:
            kwargs[param] = PARAM_SAMPLES[param]
    return reverse(route.name, kwargs=kwargs)


def _request(client, route: Route, case: Case, url: str, customer_id):
    data = case.data
    if data is not None:
        data = {k: (str(customer_id) if v == CUSTOMER else v) for k, v in data.items()}
    if route.is_api and case.method != "get":
        return getattr(client, case.method)(url, data or {}, content_type="application/json")
    return getattr(client, case.method)(url, data) if data is not None else getattr(client, case.method)(url)


def _has_object(route: Route, case: Case) -> bool:
    return bool(OBJECT_KWARGS & set(route.params)) or CUSTOMER in (case.data or {}).values()


def _cases():
    for name, expect in sorted(EXPECTATIONS.items()):
        route = NAMED.get(name)
        if route is None:
            continue  # reported by RouteCoverageTests
        for index, case in enumerate(expect.cases):
            whos = ["anonymous"]
            if expect.kind == "security":
                whos += ["in_scope", "auditor", "legal", "hr", "rep", "compliance", "admin"]
                whos += ["random_id"] if _has_object(route, case) else []
            elif expect.kind == "monitor":
                whos += list(MONITOR_ROLES)
                whos += ["random_id"] if OBJECT_KWARGS & set(route.params) else []
            elif expect.kind == "audit":
                # A customer id in audit input is a filter (an unknown one finds no events), not an object.
                whos += [*READ_AUDIT, *NO_READ_AUDIT]
                whos += ["random_id"] if OBJECT_KWARGS & set(route.params) else []
            elif expect.kind in ("ui", "api", "signed_in"):
                whos += [*NO_CUSTOMER_ROLES, "in_scope"]
            else:
                whos += ["in_scope"]
            if expect.kind in ("ui", "api") and case.scoped and _has_object(route, case):
                whos += ["out_of_scope", "random_id"]
            for who in whos:
                yield pytest.param(name, index, who, id=f"{name}-{case.method}{index}-{who}")


@pytest.mark.django_db
@pytest.mark.parametrize("name, index, who", list(_cases()))
def test_authorisation_matrix(client, world, name, index, who):
    org, ids = world
    route, expect = NAMED[name], EXPECTATIONS[name]
    case = expect.cases[index]
    scope = {"out_of_scope": "out", "random_id": "random"}.get(who, "in")
    url = _url(route, expect, ids[scope])
    if who in ("in_scope", "out_of_scope", "random_id"):
        client.force_login(getattr(org, case.actor))
    elif who != "anonymous":
        client.force_login(getattr(org, who))
    response = _request(client, route, case, url, ids[scope]["customer"])
    code = response.status_code
    where = f"{case.method.upper()} {url} as {who}"

    if who == "anonymous":
        if expect.kind == "public":
            assert code in expect.anon_ok, where
        elif route.is_api:
            assert code in (401, 403), where
        else:
            assert code == 302 and response["Location"].startswith(reverse("login")), where
    elif expect.kind == "monitor" and who == "random_id":
        assert code == 404, where
    elif expect.kind == "monitor" and who in (case.roles or expect.allowed):
        assert code in case.ok, f"{where}: {code} {response.content[:300]!r}"
    elif expect.kind == "monitor":
        assert code == 403, where  # the role may not
    elif expect.kind == "security" and who not in ("in_scope", "random_id"):
        assert code == 403, where  # manage_roles only
    elif expect.kind == "audit" and who in NO_READ_AUDIT:
        assert code == 403, where  # read_audit only
    elif expect.kind == "audit" and who in READ_AUDIT:
        assert code in case.ok, f"{where}: {code} {response.content[:300]!r}"
    elif who in NO_CUSTOMER_ROLES:
        if expect.kind in ("ui", "api"):
            assert code in (403, 404), where
        else:
            assert code in case.ok, where
    elif who == "in_scope":
        assert code in case.ok, f"{where}: {code} {response.content[:300]!r}"
    else:
        assert code == 404, where


# --- ownership cases × every built-in role (issue 3's quality bar) -------------------------------

# target: (owner, tier) → the people who see it; everyone else with customer access gets 404, the
# roles without customer access 403. "report": rep02 reports to manager01; "same department":
# rep02's customer seen by rep01; "core": rep01's core customer (not the team's manager's).
OWNERSHIP = {
    "own": (("rep", "ordinary"), {"rep", "manager", "compliance", "admin"}),
    "report": (("rep2", "ordinary"), {"rep2", "manager", "compliance", "admin"}),
    "other_department": (("other_rep", "ordinary"), {"other_rep", "other_manager", "compliance", "admin"}),
    "core": (("rep", "core"), {"rep", "compliance", "admin"}),
}
VIEWERS = ("rep", "rep2", "other_rep", "manager", "other_manager", "compliance", "admin")
PEOPLE = (*VIEWERS, *NO_CUSTOMER_ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["customers:detail", "customers-api:customer-detail"])
@pytest.mark.parametrize("case", sorted(OWNERSHIP))
@pytest.mark.parametrize("who", PEOPLE)
def test_ownership_matrix(client, route, case, who):
    org = make_org()
    (owner, tier), seen_by = OWNERSHIP[case]
    customer = make_customer(getattr(org, owner), tier=tier)
    client.force_login(getattr(org, who))
    kwargs = {"pk": customer.pk} if route.startswith("customers:") else {"id": customer.pk}
    code = client.get(reverse(route, kwargs=kwargs)).status_code
    expected = 200 if who in seen_by else 404 if who in VIEWERS else 403
    assert code == expected, f"{route} {case} as {who}: {code}"

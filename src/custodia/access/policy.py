"""The access policy: what an actor may do and on which rows, read from the roles as data.

Every check in the UI, API, CLI, exports and jobs goes through ``allows``, ``restrict_queryset``
(``Model.objects.restrict(actor, action)``) and ``may_reveal``: one mechanism.

How a person's rows are decided, for a customer action (view, change, reveal, …):
- their role's grants that include the action, each with a data scope on the ladder (own, own and
  reports, team, department, department and sub-departments, named departments, all) and the
  customer tiers it covers (the built-in manager grant leaves out the core tier);
- always their own customers, the customers they are assigned to (``CustomerAssignment``) and
  those of a valid time-bound grant naming the action (``AccessGrant``: ``starts_at <= now <
  expires_at`` and not revoked, checked at every evaluation, so expiry needs no job);
- a person whose required training has lapsed, or who is in a departure cooling-off period, loses
  reveal and export (cooling-off keeps only reading) and every core-tier customer, with a reason
  (``state_reason``) the UI and the API show.

Grants never confer an action the role does not have: a time-bound grant or an assignment widens
the rows of the role's own actions only.

Actors that are not a Role row: the system actor (CLI operator at the console, jobs) may do
everything. A superuser acts as the virtual role ``admin``: every customer action on every row and
reading the audit log, but separation of duties holds for them too: administering roles and the
audit log stays with the security admin duty (``manage_roles``, ``manage_audit`` are not theirs).

Cost: the role's grants are read in one query and cached on the user object (one request); the
customer ids of the person's assignments and grants in one or two more, only for scoped roles; the
reporting line (recursive) in one query for the scopes that need it. The SQL filter is made of
indexed equalities and ``IN (...)`` lists of ids: owner ids, team id, department ids, customer ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from custodia.access.choices import OBJECT_ACTIONS, Action, EmploymentStatus, ObjectType, Scope
from custodia.kernel.actor import Actor

ALL_ACTIONS = frozenset(Action.values)
CUSTOMER_ACTIONS = frozenset(OBJECT_ACTIONS[ObjectType.CUSTOMER])
TIERS = frozenset({"core", "important", "ordinary"})
CORE = "core"
# What a person loses while their state restricts them (plus every core-tier customer).
STATE_LOST_ACTIONS = frozenset({Action.REVEAL, Action.EXPORT})
# A person in a departure cooling-off period keeps only reading (customers and the audit log).
COOLING_OFF_KEEPS = frozenset({Action.VIEW, Action.READ_AUDIT})
# A superuser: everything but the security-admin duty (separation of duties holds).
ADMIN_EXCLUDED = frozenset({Action.MANAGE_ROLES, Action.MANAGE_AUDIT})


@dataclass(frozen=True)
class Rule:
    """One grant of a role, as the policy evaluates it."""

    actions: frozenset
    scope: str = Scope.ALL
    department_ids: tuple = ()
    tiers: frozenset = TIERS
    reveal_max_level: int = 0


@dataclass
class RoleRules:
    code: str
    rules: tuple[Rule, ...] = ()
    actions: frozenset = field(init=False)
    label: str = field(init=False, default="")

    def __post_init__(self):
        self.actions = frozenset(a for r in self.rules for a in r.actions)

    def for_action(self, action: str) -> list[Rule]:
        return [r for r in self.rules if action in r.actions]


SYSTEM_RULES = RoleRules("system", (Rule(ALL_ACTIONS, reveal_max_level=4),))
ADMIN_RULES = RoleRules("admin", (Rule(ALL_ACTIONS - ADMIN_EXCLUDED, reveal_max_level=4),))
NO_RULES = RoleRules("")


@dataclass
class PersonAccess:
    """What the policy read about one person, cached on their user object for the request."""

    role: RoleRules
    generation: int
    assigned: frozenset | None = None  # customer ids
    timed: tuple | None = None  # (customer id, actions, starts_at, expires_at) of unrevoked grants
    reports: list | None = None  # (user id, team id), recursive through User.manager
    subtree: tuple | None = None  # department ids under the person's department
    outside_team: tuple | None = None  # (own customers outside the person's team, {granted id: team id})


# Bumped whenever roles, grants, assignments or time-bound grants change (access/apps.py connects
# the signals), so a cached PersonAccess of a long-lived user object is never stale in-process.
_generation = 0


def invalidate(*_args, **_kwargs) -> None:
    global _generation
    _generation += 1


def _rules_from_db(code: str) -> RoleRules:
    """The role and its grants in one query (a LEFT JOIN: a role without grants still has a name)."""
    from custodia.access.models import Role

    rows = (Role.objects.filter(code=code)
            .values_list("name", "builtin", "grants__id", "grants__actions", "grants__scope", "grants__tiers",
                         "grants__reveal_max_level", "grants__departments__id"))
    grants: dict = {}
    label = code
    for name, builtin, gid, actions, scope, tiers, level, dept in rows:
        label = _role_label(code, name, builtin)
        if gid is None:
            continue
        entry = grants.setdefault(gid, [actions, scope, tiers, level, []])
        if dept is not None:
            entry[4].append(dept)
    rules = RoleRules(code, tuple(
        Rule(frozenset(actions or ()), scope, tuple(sorted(depts)), frozenset(tiers or TIERS), level or 0)
        for actions, scope, tiers, level, depts in grants.values()))
    rules.label = label
    return rules


def _role_label(code: str, name: str, builtin: bool) -> str:
    from custodia.access.choices import Role as RoleCode

    return str(RoleCode(code).label) if builtin and code in RoleCode.values else name


def role_label(user) -> str:
    """The person's role as shown (from the request's cached grants: no extra query)."""
    if user.is_superuser:
        return _("Administrator")
    return getattr(_person(Actor.for_user(user)).role, "label", user.role)


def _person(actor: Actor) -> PersonAccess:
    user = actor.user
    if user is None:
        return PersonAccess(SYSTEM_RULES, _generation)
    cached = getattr(user, "_custodia_access", None)
    code = "admin" if user.is_superuser else user.role
    if cached is not None and cached.generation == _generation and cached.role.code == code:
        return cached
    role = ADMIN_RULES if user.is_superuser else _rules_from_db(code)
    access = PersonAccess(role, _generation)
    user._custodia_access = access
    return access


def role_rules(actor: Actor) -> RoleRules:
    return _person(actor).role


# --- the person's state ---------------------------------------------------------------------------


def _user_active(actor: Actor) -> bool:
    user = actor.user
    return user is None or (user.is_active and user.employment_status != EmploymentStatus.DEPARTED)


def training_lapsed(user) -> dt.date | bool:
    """The date the person's required training lapsed (True when there is no record and a record
    is required), or False."""
    until = getattr(user, "training_valid_until", None)
    if until is None:
        return bool(getattr(settings, "CUSTODIA_TRAINING_REQUIRED", False))
    return until if until < timezone.localdate() else False


def state_reason(actor: Actor) -> str | None:
    """Why the person's state takes reveal, export and core-tier access away (None: it does not)."""
    user = actor.user
    if user is None:
        return None
    if user.employment_status == EmploymentStatus.COOLING_OFF:
        return _("You are in a departure cooling-off period: revealing, exporting, changing customer data "
                 "and core-tier customers are unavailable.")
    lapsed = training_lapsed(user)
    if lapsed is True:
        return _("There is no record of your required data-protection training: revealing, exporting and "
                 "core-tier customers are unavailable until it is completed.")
    if lapsed:
        return _("Your required data-protection training lapsed on %(date)s: revealing, exporting and "
                 "core-tier customers are unavailable until it is renewed.") % {"date": lapsed.isoformat()}
    return None


def _state_allows(actor: Actor, action: str) -> bool:
    user = actor.user
    if user is None:
        return True
    if user.employment_status == EmploymentStatus.COOLING_OFF:
        return action in COOLING_OFF_KEEPS
    if action in STATE_LOST_ACTIONS and training_lapsed(user):
        return False
    return True


# --- actions --------------------------------------------------------------------------------------


def allows(actor: Actor, action: str) -> bool:
    """May the actor perform ``action`` at all (before row scope)?"""
    if action not in ALL_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not _user_active(actor):
        return False
    return action in role_rules(actor).actions and _state_allows(actor, action)


def denial_reason(actor: Actor, action: str) -> str | None:
    """Why ``allows`` says no, when the reason is the person's state (their role has the action)."""
    if action in role_rules(actor).actions and _user_active(actor) and not _state_allows(actor, action):
        return state_reason(actor)
    return None


def reveal_max_level(actor: Actor) -> int:
    """The highest catalog level the actor may reveal directly (0: none)."""
    if not allows(actor, Action.REVEAL):
        return 0
    return max((r.reveal_max_level for r in role_rules(actor).for_action(Action.REVEAL)), default=0)


def may_hold_customers(person) -> bool:
    """Whether a person's role works with customer records at all (an auditor, HR or a security
    admin does not): only such people may be assigned a customer or granted access to one."""
    return allows(Actor.for_user(person), Action.VIEW)


def may_reveal(actor: Actor, level: int) -> bool:
    return allows(actor, Action.REVEAL) and level <= reveal_max_level(actor)


def customer_scope(actor: Actor, action: str = Action.VIEW) -> str:
    """The widest rung of the ladder the actor's grants give for ``action`` ("" when none)."""
    order = list(Scope.values)
    scopes = [r.scope for r in role_rules(actor).for_action(action)]
    return max(scopes, key=order.index) if scopes and allows(actor, action) else ""


# --- rows -----------------------------------------------------------------------------------------


def _reports(access: PersonAccess, user) -> list:
    """(id, team id) of everyone below the person in the reporting line, recursively: one query."""
    if access.reports is None:
        from custodia.access.models import User

        table = connection.ops.quote_name(User._meta.db_table)
        sql = (f"WITH RECURSIVE below(id) AS (SELECT id FROM {table} WHERE manager_id = %s "
               f"UNION SELECT u.id FROM {table} u JOIN below b ON u.manager_id = b.id) "
               f"SELECT u.id, u.team_id FROM {table} u JOIN below b ON u.id = b.id")
        pk = user.pk.hex if connection.vendor == "sqlite" else user.pk
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            rows = cursor.fetchall()
        field_ = User._meta.pk
        access.reports = [(field_.to_python(uid), tid) for uid, tid in rows]
    return access.reports


def _subtree(access: PersonAccess, department_id) -> tuple:
    if access.subtree is None:
        from custodia.access.models import Department

        children: dict = {}
        for pk, parent in Department.objects.values_list("id", "parent_id"):
            children.setdefault(parent, []).append(pk)
        found, todo = [], [department_id]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.append(current)
            todo.extend(children.get(current, []))
        access.subtree = tuple(sorted(found))
    return access.subtree


def _person_customers(access: PersonAccess, user) -> tuple[frozenset, tuple]:
    """The customers the person is assigned to and their unexpired, unrevoked time-bound grants,
    in one query (UNION ALL)."""
    if access.assigned is None:
        from django.db.models import DateTimeField, IntegerField, JSONField, Value

        from custodia.access.models import AccessGrant, CustomerAssignment

        assigned = (CustomerAssignment.objects.filter(user=user).order_by()
                    .annotate(k=Value(0, IntegerField()), a=Value(None, JSONField()),
                              s=Value(None, DateTimeField()), e=Value(None, DateTimeField()))
                    .values_list("customer_id", "k", "a", "s", "e"))
        timed = (AccessGrant.objects.filter(grantee=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
                 .order_by().annotate(k=Value(1, IntegerField()))
                 .values_list("customer_id", "k", "actions", "starts_at", "expires_at"))
        rows = list(assigned.union(timed, all=True))
        access.assigned = frozenset(cid for cid, kind, *_rest in rows if kind == 0)
        access.timed = tuple((cid, actions, starts, expires) for cid, kind, actions, starts, expires in rows
                             if kind == 1)
    return access.assigned, access.timed


def shared_customer_ids(actor: Actor) -> set:
    """Customers opened to the person beyond their role's scope: assignments and valid time-bound
    grants (for saying what a count includes)."""
    if actor.user is None:
        return set()
    assigned, _timed = _person_customers(_person(actor), actor.user)
    return set(assigned) | timed_customer_ids(actor, Action.VIEW)


def timed_customer_ids(actor: Actor, action: str) -> set:
    """Customers a valid time-bound grant opens to the actor for ``action`` (checked against now)."""
    if actor.user is None:
        return set()
    now = timezone.now()
    _assigned, timed = _person_customers(_person(actor), actor.user)
    return {cid for cid, actions, starts, expires in timed if action in (actions or ()) and starts <= now < expires}


def _rule_q(rule: Rule, access: PersonAccess, user, prefix: str) -> Q | None:
    """The rows of one grant's scope (None: every row). The person's own rows are added by the
    caller for every scope (whatever the grant's tiers), so they are left out here."""
    owner, dept = f"{prefix}owner_id", f"{prefix}department_id"
    if rule.scope == Scope.ALL:
        return None
    if rule.scope == Scope.OWN:
        return Q(**{owner: user.pk})
    if rule.scope == Scope.OWN_REPORTS:
        reports = [uid for uid, _t in _reports(access, user)]
        return Q(**{f"{owner}__in": reports}) if reports else Q(**{owner: user.pk})
    if rule.scope == Scope.TEAM:
        # The team's rows (one indexed equality), plus those of reports outside the team.
        outside = [uid for uid, tid in _reports(access, user) if tid != user.team_id or tid is None]
        parts = [Q(**{f"{prefix}team_id": user.team_id})] if user.team_id else []
        parts += [Q(**{f"{owner}__in": outside})] if outside else []
        return reduce(or_, parts) if parts else Q(**{owner: user.pk})
    if rule.scope == Scope.DEPARTMENT:
        return Q(**{dept: user.department_id}) if user.department_id else Q(**{owner: user.pk})
    if rule.scope == Scope.DEPARTMENT_TREE:
        if not user.department_id:
            return Q(**{owner: user.pk})
        return Q(**{f"{dept}__in": list(_subtree(access, user.department_id))})
    if rule.scope == Scope.NAMED:
        return Q(**{f"{dept}__in": list(rule.department_ids)}) if rule.department_ids else Q(**{owner: user.pk})
    return Q(**{owner: user.pk})  # an unknown rung: the narrowest


def scope_q(actor: Actor, prefix: str = "", action: str = Action.VIEW) -> Q | None:
    """The SQL filter for the actor's rows for ``action``; None means every row."""
    access = _person(actor)
    user = actor.user
    rules = access.role.for_action(action)
    if not rules:
        return Q(pk__in=[])
    restricted = user is not None and state_reason(actor) is not None
    parts, everything = [], False
    for rule in rules:
        q = _rule_q(rule, access, user, prefix) if user is not None else None
        if rule.tiers != TIERS:
            tq = Q(**{f"{prefix}tier__in": sorted(rule.tiers)})
            q = tq if q is None else q & tq
        if q is None:
            everything = True
            break
        parts.append(q)
    not_core = ~Q(**{f"{prefix}tier": CORE})
    if everything:
        return not_core if restricted else None
    assigned, _timed = _person_customers(access, user)
    ids = set(assigned) | timed_customer_ids(actor, action)
    team = _team_anchored(rules, access, user, ids, prefix)
    if team is not None:
        return team & not_core if restricted else team
    parts.insert(0, Q(**{f"{prefix}owner_id": user.pk}))
    if ids:
        parts.append(Q(**{f"{prefix}id__in": sorted(ids)}))
    combined = reduce(or_, _dedupe(parts))
    return combined & not_core if restricted else combined


def _team_anchored(rules: list, access: PersonAccess, user, ids: set, prefix: str) -> Q | None:
    """The scope of one team-rung grant as ONE indexed range: ``team_id = T AND (allowed tier OR
    own OR granted)``, plus ``id IN (...)`` only for own or granted customers outside the team.
    The same rows as the general OR of ``scope_q``, but the database walks the team's index in
    list order instead of merging two indexes and sorting the team's every row per page. None
    when the shape does not apply (other rungs, reports outside the team)."""
    if len(rules) != 1 or rules[0].scope != Scope.TEAM or not user.team_id:
        return None
    if any(tid != user.team_id for _uid, tid in _reports(access, user)):
        return None
    rule = rules[0]
    if access.outside_team is None:
        from custodia.customers.models import Customer

        assigned, timed = _person_customers(access, user)
        granted = set(assigned) | {cid for cid, *_rest in timed}
        own = frozenset(Customer.objects.filter(owner_id=user.pk).exclude(team_id=user.team_id)
                        .values_list("id", flat=True))
        teams = dict(Customer.objects.filter(id__in=sorted(granted)).values_list("id", "team_id")) if granted else {}
        access.outside_team = (own, teams)
    own_outside, team_of = access.outside_team
    q = Q(**{f"{prefix}team_id": user.team_id})
    if rule.tiers != TIERS:
        inner = Q(**{f"{prefix}tier__in": sorted(rule.tiers)}) | Q(**{f"{prefix}owner_id": user.pk})
        if ids:
            inner |= Q(**{f"{prefix}id__in": sorted(ids)})
        q &= inner
    outside = own_outside | {i for i in ids if team_of.get(i) != user.team_id}
    if outside:
        q |= Q(**{f"{prefix}id__in": sorted(outside)})
    return q


def _dedupe(parts: list[Q]) -> list[Q]:
    out = []
    for q in parts:
        if q not in out:
            out.append(q)
    return out


def restrict_queryset(qs, actor: Actor, action: str = Action.VIEW):
    if not allows(actor, action):
        return qs.none()
    prefix = getattr(qs.model, "scope_path", "")
    qs = qs.filter(**{f"{prefix}deleted_at__isnull": True})
    if prefix:
        qs = qs.filter(deleted_at__isnull=True)
    q = scope_q(actor, prefix, action)
    return qs if q is None else qs.filter(q)


class _RoleScopes:
    """Read-only ``{role code: widest customer view scope}`` (kept for bench/tasks.py)."""

    def get(self, code, default=None):
        if code == "system" or code == "admin":
            return Scope.ALL
        rules = _rules_from_db(code).for_action(Action.VIEW)
        order = list(Scope.values)
        return max((r.scope for r in rules), key=order.index) if rules else default


ROLE_SCOPE = _RoleScopes()


def role_reveal_levels() -> list[tuple[str, int]]:
    """(role label, highest level it reveals directly) for every role that reveals, for the field
    catalog page. One query."""
    from custodia.access.models import Role

    out = []
    for role in Role.objects.prefetch_related("grants"):
        levels = [g.reveal_max_level for g in role.grants.all() if Action.REVEAL in (g.actions or ())]
        if levels and max(levels):
            out.append((role.label, max(levels)))
    return out


def staff_scope_q(actor: Actor, action: str = Action.ADD) -> Q | None:
    """A filter on staff whose customers fall in the actor's scope for ``action`` (for choosing an
    owner). None: everyone; an own-only scope gives nobody (a rep owns what they create)."""
    if not allows(actor, action):
        return Q(pk__in=[])
    access, user = _person(actor), actor.user
    parts = []
    for rule in access.role.for_action(action):
        if rule.scope == Scope.ALL or user is None:
            return None
        if rule.scope in (Scope.OWN_REPORTS, Scope.TEAM):
            parts.append(Q(pk__in=[user.pk, *(uid for uid, _t in _reports(access, user))]))
            if rule.scope == Scope.TEAM and user.team_id:
                parts.append(Q(team_id=user.team_id))
        elif rule.scope == Scope.DEPARTMENT and user.department_id:
            parts.append(Q(department_id=user.department_id))
        elif rule.scope == Scope.DEPARTMENT_TREE and user.department_id:
            parts.append(Q(department_id__in=list(_subtree(access, user.department_id))))
        elif rule.scope == Scope.NAMED and rule.department_ids:
            parts.append(Q(department_id__in=list(rule.department_ids)))
    return reduce(or_, parts) if parts else Q(pk__in=[])

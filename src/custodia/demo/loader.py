"""Persist the generated demo organisation and customers through the protection layer.

Everything is written the production way: values normalised by the catalog's validators,
encrypted under per-customer data keys, blind-indexed, and one CUSTOMER_CREATED audit event per
customer by the system actor ``system:demo``. Customers are written in batches, each batch in
one transaction, so an interrupted seed leaves whole batches only and a re-run continues after
the last complete one (customers are keyed by their generator key).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from custodia.access.builtin import ensure_builtin_roles
from custodia.access.models import Department, Team, User
from custodia.audit.services import audit_record_many
from custodia.customers import events
from custodia.customers.models import Contact, Customer, Interaction, Opportunity, Tag, Transaction
from custodia.demo.generator import DEFAULT_SEED, generate_customers, generate_org
from custodia.kernel.actor import Actor
from custodia.kernel.jobs import database_optimize
from custodia.protection import catalog, pii, validators
from custodia.protection.crypto import new_data_keys
from custodia.protection.fields import seal

DEMO_ACTOR = Actor.system("demo")
BATCH = 500
# Demo customers get deterministic ids (uuid5 of the generator key) so a re-run can resume.
NAMESPACE = uuid.UUID("6f1c6f2e-3a59-4c0e-9d1e-0c7a1d2b9e10")


class DemoRefused(RuntimeError):
    pass


@dataclass
class Login:
    username: str
    role: str
    name: str
    password: str


def customer_uuid(key: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"customer-{key}")


def seed_org(seed: int = DEFAULT_SEED) -> list[Login]:
    """Create departments, teams and staff; every run gives each demo login a new random password."""
    if settings.PRODUCTION:
        raise DemoRefused("demo seeding is refused in production mode (CUSTODIA_ENV=production)")
    chart = generate_org(seed)
    logins = []
    ensure_builtin_roles()
    with transaction.atomic():
        depts = {d.code: Department.objects.update_or_create(code=d.code, defaults={"name": d.name})[0]
                 for d in chart.departments}
        teams = {t.code: Team.objects.update_or_create(
            code=t.code, defaults={"name": t.name, "department": depts[t.department_code]})[0] for t in chart.teams}
        users: dict[str, User] = {}
        for staff in sorted(chart.staff, key=lambda s: s.manager_username is not None):
            user = User.objects.filter(username=staff.username).first() or User(username=staff.username)
            user.role, user.display_name, user.email = staff.role, staff.full_name, staff.email
            user.team = teams.get(staff.team_code) if staff.team_code else None
            user.department = depts.get(staff.department_code) if staff.department_code else None
            user.manager = users.get(staff.manager_username) if staff.manager_username else None
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            users[staff.username] = user
            logins.append(Login(staff.username, user.get_role_display(), staff.full_name, password))
    return logins


def seed_customers(count: int = 2000, seed: int = DEFAULT_SEED,
                   progress: Callable[[int], None] | None = None) -> int:
    """Load ``count`` customers (resuming after the last complete batch); returns how many were new."""
    if settings.PRODUCTION:
        raise DemoRefused("demo seeding is refused in production mode (CUSTODIA_ENV=production)")
    chart = generate_org(seed)
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in chart.staff])}
    done = set(Customer.objects.filter(id__in=[customer_uuid(k) for k in range(1, count + 1)])
               .values_list("id", flat=True))
    created, batch = 0, []
    for spec in generate_customers(chart, count=count, seed=seed):
        if customer_uuid(spec.key) in done:
            if progress:
                progress(1)
            continue
        batch.append(spec)
        if len(batch) >= BATCH:
            created += _write_batch(batch, users)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        created += _write_batch(batch, users)
        if progress:
            progress(len(batch))
    seed_access(seed)
    database_optimize()
    return created


def seed_access(seed: int = DEFAULT_SEED, *, assignments: int = 40) -> None:
    """Training records, assignments of teammates to core customers (a core customer is visible
    only to its owner, its assignees and compliance) and two time-bound grants, one active and one
    expired. Through the access services (audited as ``system:demo``); idempotent."""
    import datetime as dt
    import random

    from django.utils import timezone

    from custodia.access import grant_services
    from custodia.access.models import AccessGrant, CustomerAssignment

    rng = random.Random(seed)
    today = timezone.localdate()
    chart = generate_org(seed)
    usernames = [s.username for s in chart.staff]
    User.objects.filter(username__in=usernames, training_valid_until__isnull=True).update(
        training_valid_until=today + dt.timedelta(days=200))
    reps = sorted(s.username for s in chart.staff if s.role == "rep")
    if reps:  # one rep whose yearly training has lapsed: no reveal, export or core customers
        User.objects.filter(username=reps[-1]).update(training_valid_until=today - dt.timedelta(days=12))
    if CustomerAssignment.objects.exists() or AccessGrant.objects.exists():
        return
    teammates: dict = {}
    for user in User.objects.filter(username__in=reps).exclude(username=reps[-1] if reps else ""):
        teammates.setdefault(user.team_id, []).append(user)
    core = Customer.objects.filter(tier="core", deleted_at__isnull=True).select_related("owner").order_by("id")
    for customer in core[:assignments]:
        choices = [u for u in teammates.get(customer.owner.team_id, []) if u.pk != customer.owner_id]
        if choices:
            grant_services.customer_assign(actor=DEMO_ACTOR, customer_id=customer.pk,
                                           username=rng.choice(choices).username)
    ordinary = list(Customer.objects.filter(tier="ordinary", deleted_at__isnull=True).select_related("owner")
                    .order_by("id")[:2])
    others = [u for u in User.objects.filter(username__in=reps).order_by("username")]
    for customer, days_ago, purpose in zip(ordinary, (0, 10), ("节假日代为跟进客户", "协助核对年度合同"), strict=False):
        grantee = next((u for u in others if u.team_id != customer.owner.team_id), None)
        if grantee is not None:
            grant_services.access_grant_create(
                actor=DEMO_ACTOR, customer_id=customer.pk, username=grantee.username, actions=["view"],
                purpose=purpose, days=7 if days_ago == 0 else 3,
                starts_at=timezone.now() - dt.timedelta(days=days_ago))
    grant_services.access_grants_expire(actor=DEMO_ACTOR)


def _tags(names: Iterable[str]) -> dict[str, Tag]:
    names = set(names)
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names - set(existing)]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    return {t.name: t for t in Tag.objects.filter(name__in=names)}


def _protected(spec) -> dict:
    values = {
        "mobile": validators.normalize_mobile(spec.mobile),
        "email": validators.normalize_email(spec.email) if spec.email else None,
        "id_number": validators.normalize_identifier(spec.identifier, spec.kind),
        "bank_account": spec.bank_account,
        "address": spec.address,
        "birth_date": spec.birth_date,
        "notes": spec.notes,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


def _write_batch(specs, users: dict[str, User]) -> int:
    with transaction.atomic():
        ids = [customer_uuid(s.key) for s in specs]
        keys = new_data_keys(ids)
        tags = _tags(t for s in specs for t in s.tags)
        customers, children, through, audit = [], {Contact: [], Interaction: [], Opportunity: [],
                                                   Transaction: []}, [], []
        for spec, cid in zip(specs, ids, strict=True):
            owner = users[spec.owner_username]
            c = Customer(id=cid, kind=spec.kind, name=spec.name, tier=spec.tier, stage=spec.stage, owner=owner,
                         team_id=owner.team_id, department_id=owner.department_id, source=spec.source,
                         created_at=spec.created_at, updated_at=spec.created_at)
            protected = _protected(spec)
            for name, value in protected.items():
                seal(c, catalog.get(f"customer.{name}"), value, keys, cid)
            c.notes_pii = pii.contains_pii(spec.notes)
            customers.append(c)
            through.extend(Customer.tags.through(customer_id=cid, tag_id=tags[t].id) for t in spec.tags)
            children[Contact].extend(_contact(c, x, keys) for x in spec.contacts)
            children[Interaction].extend(_interaction(c, x, keys, users) for x in spec.interactions)
            children[Opportunity].extend(
                Opportunity(id=uuid.uuid4(), customer=c, name=x.name, stage=x.stage, amount=x.amount,
                            expected_close=x.expected_close, owner=owner, created_at=c.created_at)
                for x in spec.opportunities)
            children[Transaction].extend(
                Transaction(id=uuid.uuid4(), customer=c, occurred_on=x.occurred_on, amount=x.amount,
                            product=f"{x.product} ×{x.quantity}", created_at=c.created_at)
                for x in spec.transactions)
            audit.append({"actor": DEMO_ACTOR, "event": events.CUSTOMER_CREATED, "target_type": "customer",
                          "target_id": cid, "subject_id": cid, "fields": sorted(protected),
                          "detail": {"source": "demo"}})
        Customer.objects.bulk_create(customers, batch_size=1000)
        Customer.tags.through.objects.bulk_create(through, batch_size=2000)
        for model, rows in children.items():
            model.objects.bulk_create(rows, batch_size=2000)
        audit_record_many(audit)
    return len(customers)


def _contact(customer: Customer, spec, keys) -> Contact:
    contact = Contact(id=uuid.uuid4(), customer=customer, name=spec.name, title=spec.title,
                      created_at=customer.created_at)
    seal(contact, catalog.get("contact.mobile"), validators.normalize_mobile(spec.mobile), keys, customer.id)
    if spec.email:
        seal(contact, catalog.get("contact.email"), validators.normalize_email(spec.email), keys, customer.id)
    return contact


def _interaction(customer: Customer, spec, keys, users) -> Interaction:
    row = Interaction(id=uuid.uuid4(), customer=customer, kind=spec.kind, occurred_at=spec.occurred_at,
                      staff=users.get(spec.staff_username, customer.owner), subject=spec.subject,
                      created_at=spec.occurred_at)
    seal(row, catalog.get("interaction.notes"), spec.notes, keys, customer.id)
    row.notes_pii = pii.contains_pii(spec.notes)
    return row

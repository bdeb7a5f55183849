"""Django-side steps of the benchmark, each run by ``run.py`` in its own interpreter:

    python bench/tasks.py TASK '{"json": "args"}'

with CUSTODIA_DATA_DIR pointing at a benchmark data dir (see common.bench_env). The result is
printed as one line ``BENCH-RESULT {json}``; anything else printed is progress.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import django  # noqa: E402

django.setup()

from common import RESULT_MARK  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

TASKS = {}


def task(fn):
    TASKS[fn.__name__] = fn
    return fn


def say(message: str) -> None:
    print(message, flush=True)


def checkpoint() -> None:
    """Fold the WAL into the database file so the file can be copied on its own."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


# --- databases ---------------------------------------------------------------------------------

IMPORT_TAGS = ("老客户", "重点跟进", "制造业", "华东区域", "展会")


@task
def build_db(customers: int) -> dict:
    """The 100k-customer database: demo loader (protected), then the same rows in clear in the plain
    model. Resumable: the demo loader continues after its last complete batch."""
    from custodia.demo import loader

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    loader.seed_org()
    step = max(1, customers // 10)
    done = {"n": 0, "next": step}

    def progress(n: int) -> None:
        done["n"] += n
        if done["n"] >= done["next"]:
            say(f"seeded {done['n']:,} / {customers:,} customers ({time.perf_counter() - started:.0f} s)")
            done["next"] += step

    created = loader.seed_customers(customers, progress=progress)
    seeded = time.perf_counter() - started
    copied = copy_plain()
    analyze()
    checkpoint()
    return {"created": created, "plain": copied, "seed_seconds": round(seeded, 1),
            "total_seconds": round(time.perf_counter() - started, 1)}


def copy_plain(batch: int = 2000) -> int:
    """Copy every customer into PlainCustomer with the protected values decrypted (same ids)."""
    import datetime as dt

    from custodia.benchplain.models import PlainCustomer
    from custodia.customers.models import Customer
    from custodia.protection import catalog
    from custodia.protection.crypto import KeyBag
    from custodia.protection.fields import unseal

    pfs = catalog.for_model("customer")
    through = PlainCustomer.tags.through._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {through}")
        PlainCustomer.objects.all().delete()
        last, copied = None, 0
        while True:
            qs = Customer.objects.order_by("pk")
            chunk = list((qs.filter(pk__gt=last) if last else qs)[:batch])
            if not chunk:
                break
            keys = KeyBag.load([c.id for c in chunk])
            rows = []
            for c in chunk:
                values = {pf.name: unseal(c, pf, keys) or "" for pf in pfs}
                birth = values.pop("birth_date")
                rows.append(PlainCustomer(
                    id=c.id, kind=c.kind, name=c.name, tier=c.tier, stage=c.stage, owner_id=c.owner_id,
                    team_id=c.team_id, department_id=c.department_id, source=c.source, **values,
                    birth_date=dt.date.fromisoformat(birth) if birth else None, notes_pii=c.notes_pii,
                    created_at=c.created_at, updated_at=c.updated_at, deleted_at=c.deleted_at,
                ))
            PlainCustomer.objects.bulk_create(rows, batch_size=batch)
            copied += len(rows)
            last = chunk[-1].pk
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {through} (plaincustomer_id, tag_id) "
                           f"SELECT customer_id, tag_id FROM {Customer.tags.through._meta.db_table}")
    say(f"copied {copied:,} customers into the plain model")
    return copied


def analyze() -> None:
    """Planner statistics for every table, the protected and the plain ones alike (the demo loader
    and the importer refresh them after bulk loads; the plain copy is made after the loader)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@task
def finalize_db() -> dict:
    """Bring a database cached before statistics were part of the build up to date."""
    started = time.perf_counter()
    analyze()
    checkpoint()
    return {"seconds": round(time.perf_counter() - started, 1)}


@task
def build_empty() -> dict:
    """A fresh database for the import benchmark: schema, the demo organisation, the tag names."""
    from custodia.customers.models import Tag
    from custodia.demo import loader

    call_command("migrate", interactive=False, verbosity=0)
    loader.seed_org()
    for name in IMPORT_TAGS:
        Tag.objects.get_or_create(name=name)
    checkpoint()
    return {}


# --- HTTP benchmark preparation ----------------------------------------------------------------


def _bench_person(username: str) -> dict:
    """An API token for ``username`` (second factor enrolled where the role requires one, as a
    real deployment has it), the size of their customer scope and the ids in it."""
    from custodia.access.models import User
    from custodia.access.policy import ROLE_SCOPE
    from custodia.access.services import api_token_create
    from custodia.customers.models import Customer
    from custodia.identity.selectors import mfa_enrolled, mfa_required
    from custodia.identity.services import totp_authenticator_create
    from custodia.kernel.actor import Actor

    if username == ADMIN and not User.objects.filter(username=ADMIN).exists():
        User.objects.create_superuser(ADMIN, password=None, display_name="Bench admin")
    user = User.objects.get(username=username)
    if mfa_required(user) and not mfa_enrolled(user):
        totp_authenticator_create(actor=Actor.system("bench"), user=user)
    token = api_token_create(actor=Actor.system("bench"), username=username, label="bench")
    actor = Actor.for_user(user)
    in_scope = sorted(str(i) for i in Customer.objects.restrict(actor, "view").values_list("id", flat=True))
    return {"token": token, "user": username, "role": actor.role, "scope": ROLE_SCOPE.get(actor.role),
            "in_scope": len(in_scope), "ids": in_scope}


ADMIN = "benchadmin"  # a superuser made for the benchmark: the unconstrained list


@task
def prepare_http(user: str, sample: int, seed: int, constrained: str = "rep01") -> dict:
    """On the working copy: API tokens for the benchmark user, the most constrained role (a sales
    rep) and an administrator; the size of each one's scope and a random sample of customer ids
    in the benchmark user's scope (the detail requests)."""
    import random

    from custodia.audit.models import AuditEvent
    from custodia.benchplain.models import PlainCustomer
    from custodia.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    _monitor_out_of_reach()
    main = _bench_person(user)
    others = {name: _bench_person(name) for name in (constrained, ADMIN)}
    for other in others.values():
        other.pop("ids")
    result = {
        "token": main["token"], "user": user, "role": main["role"], "scope": main["scope"],
        "in_scope": main["in_scope"], "customers": Customer.objects.count(),
        "plain_customers": PlainCustomer.objects.filter(deleted_at__isnull=True).count(),
        "ids": random.Random(seed).sample(main["ids"], min(sample, len(main["ids"]))),
        "audit_events": AuditEvent.objects.count(), "constrained": others[constrained], "admin": others[ADMIN],
    }
    checkpoint()
    return result


def _monitor_out_of_reach() -> None:
    """A load generator pages through thousands of customers: exactly what the volume rules stop.
    Their limits are raised out of reach (the rules stay on and are evaluated, counters and all,
    on every request: their full cost is in the protected figures) so the load is never refused."""
    from custodia.kernel.actor import Actor
    from custodia.monitor import services
    from custodia.monitor.models import Rule

    for rule in Rule.objects.filter(kind="volume"):
        services.rule_update(actor=Actor.system("bench"), code=rule.code, reason="load test",
                             params=rule.params | {"threshold": 10_000_000, "baseline_factor": 0.0})


@task
def audit_count() -> dict:
    from custodia.audit.models import AuditEvent

    return {"audit_events": AuditEvent.objects.count()}


# --- primitives -------------------------------------------------------------------------------


def _per_call(fn, n: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` time of one call, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


@task
def primitives() -> dict:
    """Raw costs of the protection primitives, for orientation (microseconds per call). The raw
    figures use a fresh key and a ciphertext of the same size as a stored mobile number (the cost
    does not depend on the key), so only public interfaces of the application are touched."""
    import hashlib
    import hmac
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from custodia.customers.models import Customer
    from custodia.protection import catalog
    from custodia.protection.blind_index import blind_index
    from custodia.protection.crypto import KeyBag
    from custodia.protection.fields import masked, unseal

    customer = Customer.objects.exclude(mobile_enc=None).order_by("pk").first()
    pf = catalog.get("customer.mobile")
    keys = KeyBag.load([customer.id])
    blob = bytes(customer.mobile_enc)
    table = Customer._meta.db_table
    plaintext = unseal(customer, pf, keys).encode()
    aead, nonce, ad = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12), b"x" * 48
    body = aead.encrypt(nonce, plaintext, ad)
    value = "+8613812345678"
    key = os.urandom(32)
    page_ids = list(Customer.objects.order_by("-created_at").values_list("id", flat=True)[:50])
    out = {
        "aes_gcm_decrypt_raw_us": _per_call(lambda: aead.decrypt(nonce, body, ad), 100_000),
        "field_decrypt_keybag_us": _per_call(lambda: keys.decrypt(table, pf.column, customer.id, blob), 50_000),
        "field_decrypt_and_mask_us": _per_call(lambda: masked(customer, pf, keys, customer.kind), 50_000),
        "blind_index_hmac_raw_us": _per_call(
            lambda: hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32], 100_000),
        "blind_index_call_us": _per_call(lambda: blind_index(pf.key, value), 50_000),
        "keybag_load_50_subjects_us": _per_call(lambda: KeyBag.load(page_ids), 200),
    }
    return {k: round(v, 2) for k, v in out.items()}


# --- import ------------------------------------------------------------------------------------


@task
def import_protected(csv: str, owner: str, workers: int | None = None) -> dict:
    """customers_import end to end (read, validate, PII scan, encrypt, blind indexes, audit, commit)."""
    from custodia.audit.models import AuditEvent
    from custodia.customers.importing import customers_import
    from custodia.customers.models import Customer
    from custodia.kernel.actor import Actor

    phases = {}
    started = time.perf_counter()

    def progress(phase: str, done: int, total) -> None:
        phases.setdefault(phase + "_first", round(time.perf_counter() - started, 2))
        phases[phase + "_last"] = round(time.perf_counter() - started, 2)

    report = customers_import(actor=Actor.system("bench"), path=Path(csv), owner=owner, progress=progress,
                              workers=workers)
    seconds = time.perf_counter() - started
    if report.errors or not report.written:
        raise SystemExit(f"protected import failed: {len(report.errors)} errors, first {report.errors[:3]}")
    imported = Customer.objects.count()
    audited = AuditEvent.objects.filter(action="customer.created").count()
    return {"rows": report.rows_imported, "seconds": round(seconds, 2), "rows_per_s": report.rows_imported / seconds,
            "workers": workers if workers is not None else os.cpu_count(),
            "report_seconds": round(report.seconds, 2), "customers_in_db": imported, "audit_created": audited,
            "phases": phases}


@task
def import_floor(csv: str, owner: str) -> dict:
    """The importing process's share alone: every row of the file validated and sealed first
    (untimed, as the worker processes would), then only what the one database transaction must
    do for them timed: insert the data keys, customers, tag links and CUSTOMER_CREATED events
    (customers_import's own writer) and commit. No import can be faster than this on this database."""
    import uuid

    from django.utils import timezone

    from custodia.access.models import User
    from custodia.customers import importing
    from custodia.customers.import_file import read_records
    from custodia.customers.import_rows import WriteSpec, process_chunk
    from custodia.kernel import context
    from custodia.kernel.actor import Actor
    from custodia.protection.keyring import get_keyring

    _columns, records, _total = read_records(Path(csv))
    numbered = [(number, cells) for number, cells, _overflow in records]
    user = User.objects.select_related("team").get(username=owner)
    spec = WriteSpec(actor=Actor.system("bench"), ctx=context.current(), batch_id=uuid.uuid4(), now=timezone.now(),
                     kek_id=get_keyring().active_kek()[0], default_owner=owner,
                     owners={owner: (user.pk, user.team_id, user.team.department_id)})
    started = time.perf_counter()
    chunks = [process_chunk((numbered[i:i + importing.CHUNK], spec)) for i in range(0, len(numbered), importing.CHUNK)]
    prepared = time.perf_counter() - started
    writer = importing._Writer()
    with importing._large_page_cache():
        started = time.perf_counter()
        with transaction.atomic():
            for chunk in chunks:
                writer.write(chunk.rows)
            inserted = time.perf_counter() - started
        seconds = time.perf_counter() - started
    rows = len(writer.ids)
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": rows / seconds,
            "insert_seconds": round(inserted, 2), "commit_seconds": round(seconds - inserted, 2),
            "prepare_seconds_one_process": round(prepared, 2)}


@task
def import_plain(csv: str, rows: int) -> dict:
    """django-import-export, defaults: a ModelResource on PlainCustomer, import_data(dry_run=False).
    Only what the file needs is declared: owner by username, tags by name, and the team,
    department and timestamps the plain model requires (set from the owner before saving)."""
    import io

    from django.utils import timezone
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import CSV

    from custodia.access.models import User
    from custodia.benchplain.models import PlainCustomer
    from custodia.customers.models import Tag

    class PlainCustomerResource(resources.ModelResource):
        owner = fields.Field(attribute="owner", column_name="owner",
                             widget=widgets.ForeignKeyWidget(User, field="username"))
        tags = fields.Field(attribute="tags", column_name="tags",
                            widget=widgets.ManyToManyWidget(Tag, field="name", separator=","))

        class Meta:
            model = PlainCustomer
            fields = ("id", "kind", "name", "tier", "stage", "source", "owner", "tags", "mobile", "email",
                      "id_number", "bank_account", "address", "birth_date", "notes")

        def before_save_instance(self, instance, row, **kwargs):
            instance.team_id, instance.department_id = instance.owner.team_id, instance.owner.department_id
            instance.created_at = instance.updated_at = timezone.now()

    started = time.perf_counter()
    text = Path(csv).read_text(encoding="utf-8")
    if rows:
        text = "".join(io.StringIO(text).readlines()[: rows + 1])
    dataset = CSV().create_dataset(text)
    loaded = time.perf_counter() - started
    result = PlainCustomerResource().import_data(dataset, dry_run=False)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        first = result.row_errors()[:1] or result.invalid_rows[:1]
        raise SystemExit(f"django-import-export failed: {first}")
    n = PlainCustomer.objects.count()
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_s": n / seconds, "load_seconds": round(loaded, 2),
            "tag_links": PlainCustomer.tags.through.objects.count()}


# --- where the time goes (in-process, instrumented) -------------------------------------------


class _Timers:
    """Inclusive wall time per label, with low-overhead wrappers (no profiler)."""

    def __init__(self):
        self.total: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, label: str, seconds: float) -> None:
        self.total[label] = self.total.get(label, 0.0) + seconds
        self.calls[label] = self.calls.get(label, 0) + 1

    def wrap(self, owner, name: str, label: str) -> None:
        """Time calls of ``owner.name``; a call nested in another call of the same label counts once."""
        original = getattr(owner, name)
        depth = self.depth = getattr(self, "depth", {})

        def timed(*args, **kwargs):
            if depth.get(label):
                return original(*args, **kwargs)
            depth[label] = 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                depth[label] = 0
                self.add(label, time.perf_counter() - t0)

        setattr(owner, name, timed)


def _sql_label(sql: str) -> str:
    import re

    text = " ".join(sql.split())
    head = text.split(" ", 1)[0].upper()
    if head in ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA"):
        return f"sql {head}"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text, re.I)
    kind = "COUNT" if re.match(r"SELECT COUNT\(", text, re.I) else head
    return f"sql {kind} {table.group(1) if table else '?'}"


@task
def breakdown(user: str, paths: list, n: int) -> dict:
    """Run each path ``n`` times through Django's test client (the whole middleware and DRF stack,
    no HTTP server) and split the time: connection set-up, each kind of SQL statement, commit,
    and the Python steps of the protected path. Per request, in milliseconds."""
    from django.db.backends.sqlite3.base import DatabaseWrapper
    from django.test import Client
    from rest_framework.renderers import JSONRenderer
    from rest_framework.serializers import ListSerializer, Serializer

    from custodia.access.authentication import ApiTokenAuthentication
    from custodia.access.services import api_token_create
    from custodia.audit import services as audit_services
    from custodia.customers import selectors
    from custodia.kernel.actor import Actor
    from custodia.protection import crypto, fields

    token = api_token_create(actor=Actor.system("bench"), username=user, label="bench-breakdown")
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    out = {}
    for path in paths:
        # The test client keeps the connection; gunicorn closes it after each request (SQLite forces
        # CONN_MAX_AGE=0 in config/env.py), so close it here too: the next request reconnects.
        for _ in range(max(5, n // 10)):  # warm
            assert client.get(path).status_code == 200, path
            connection.close()
        plain_ms = float("inf")
        for _ in range(3):  # best of three batches: other processes on the machine add noise
            t0 = time.perf_counter()
            for _ in range(n):
                client.get(path)
                connection.close()
            plain_ms = min(plain_ms, (time.perf_counter() - t0) / n * 1000)
        timers = _Timers()
        saved = {}
        for owner, name, label in (
            (DatabaseWrapper, "get_new_connection", "db connect (open + PRAGMAs)"),
            (DatabaseWrapper, "init_connection_state", "db connect (open + PRAGMAs)"),
            (DatabaseWrapper, "_commit", "sql COMMIT"),
            (ApiTokenAuthentication, "authenticate", "py token authentication (incl. its SQL)"),
            (selectors, "customer_list", "py selectors.customer_list (incl. SQL, decrypt, audit)"),
            (selectors, "customer_get", "py selectors.customer_get (incl. SQL, decrypt, audit)"),
            (selectors, "get_for_action", "py get_for_action (scoped fetch of one customer)"),
            (selectors, "_record_counts", "py record counts of the detail"),
            (crypto.KeyBag, "load", "py KeyBag.load (incl. its SQL, DEK unwrap)"),
            (crypto, "unwrap_dek", "py unwrap_dek (AES-GCM, KEK)"),
            (fields, "masked", "py masked() (decrypt + mask)"),
            (selectors, "masked", "py masked() (decrypt + mask)"),
            (audit_services, "audit_record", "py audit_record (build + INSERT)"),
            (selectors, "audit_record", "py audit_record (build + INSERT)"),
            (Serializer, "to_representation", "py serializer to_representation (incl. lazy SQL)"),
            (ListSerializer, "to_representation", "py serializer to_representation (incl. lazy SQL)"),
            (JSONRenderer, "render", "py JSON render"),
        ):
            if not hasattr(owner, name):
                continue  # the application changed; time what exists
            saved[(owner, name)] = getattr(owner, name)
            timers.wrap(owner, name, label)

        def sql_timer(execute, sql, params, many, context, timers=timers):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timers.add(_sql_label(sql), time.perf_counter() - t)

        t0 = time.perf_counter()
        for _ in range(n):
            with connection.execute_wrapper(sql_timer):
                client.get(path)
            connection.close()
        wall = (time.perf_counter() - t0) / n * 1000
        for (owner, name), original in saved.items():
            setattr(owner, name, original)
        rows = sorted(((label, total / n * 1000, timers.calls[label] / n) for label, total in timers.total.items()),
                      key=lambda r: -r[1])
        out[path] = {"ms_per_request": round(plain_ms, 3), "instrumented_ms": round(wall, 3),
                     "parts": [{"what": label, "ms": round(ms, 3), "calls": round(calls, 2)} for label, ms, calls in rows]}
    return out


def main() -> None:
    name = sys.argv[1]
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    result = TASKS[name](**args)
    print(RESULT_MARK + json.dumps(result, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()

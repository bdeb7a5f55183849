"""Bulk import of customers from a CSV or XLSX file (``custodia import customers FILE``).

All or nothing. Every row is validated with the rules of the web form and the API
(``validation.normalise_customer``, through ``import_rows``), owners are checked against the
importing actor's policy and mobiles, e-mails and ID numbers against the database (blind
indexes) and the rest of the file. When any row is invalid nothing is written and the report
lists every error as (row, field, reason), rows numbered as a spreadsheet shows them (the header
is row 1). With ``skip_invalid`` the valid rows are written and the invalid ones reported.

The rows are written in ONE transaction: data keys, customers with sealed fields and blind
indexes, tags, one CUSTOMER_CREATED audit event per customer (before/after sealed under the
customer's key), one CUSTOMERS_IMPORTED summary event and the ImportBatch row holding the file's
SHA-256. A crash or kill leaves nothing behind; running the import again is the resume. A file
whose hash already has a batch is refused unless ``force`` is given.

Validation and the sealing of rows are pure computation: for large files they run in worker
processes (``workers``, default one per CPU) while this process reads the file and writes to the
database; the worker processes never touch the database and the data keys leave them only
wrapped under the KEK.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access.models import User
from custodia.access.policy import allows, scope_q
from custodia.audit.services import audit_record, audit_record_rows
from custodia.customers import events
from custodia.customers.import_file import FIELDS, HEADER_ALIASES, ImportRefused, read_records
from custodia.customers.import_rows import Prepared, RowError, WriteSpec, owner_of, process_chunk
from custodia.customers.models import Customer, ImportBatch, Tag
from custodia.customers.services import DUPLICATE_CHECKED
from custodia.kernel import context
from custodia.kernel.actor import Actor
from custodia.kernel.bulk import BulkInserter
from custodia.kernel.errors import PermissionDenied
from custodia.kernel.files import file_sha256
from custodia.kernel.jobs import database_optimize
from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey
from custodia.protection.services import keyring_required

__all__ = ["FIELDS", "HEADER_ALIASES", "ImportRefused", "ImportReport", "RowError", "customers_import",
           "report_json"]

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)

CHUNK = 2000  # rows per unit of work, bulk insert and progress step
LOOKUP_CHUNK = 5000  # values per IN (...) query
WORKER_NICENESS = 5
PARALLEL_FROM = 4 * CHUNK  # smaller files are imported in this process (starting workers costs more)
TABLE = Customer._meta.db_table


@dataclass
class ImportReport:
    filename: str
    file_sha256: str
    rows_total: int = 0
    rows_imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    batch_id: uuid.UUID | None = None
    customer_ids: list[uuid.UUID] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def written(self) -> bool:
        return self.batch_id is not None

    @property
    def rows_per_second(self) -> float:
        return self.rows_imported / self.seconds if self.seconds else 0.0


# -- workers ------------------------------------------------------------------------------------

@contextmanager
def _workers(count: int) -> Iterator[Callable[[Callable, Iterable], Iterator]]:
    """An ordered ``map`` over ``count`` forked worker processes, or the built-in ``map`` for 0
    or 1 (or where fork is unavailable). The workers inherit the loaded keyring and settings and
    never use the database connection. On the way out, error or not, pending chunks are cancelled
    and the running ones finish (no worker is killed mid-write to a queue, which could leave a
    lock held and the pool hung)."""
    if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield map
        return
    # The workers yield the CPU to this process, which holds the one database transaction.
    executor = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"),
                                   initializer=os.nice, initargs=(WORKER_NICENESS,))
    try:
        yield executor.map
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


# -- the service --------------------------------------------------------------------------------

def customers_import(
    *, actor: Actor, path, skip_invalid: bool = False, owner: str | None = None, force: bool = False,
    progress: Progress | None = None, workers: int | None = None,
) -> ImportReport:
    """Import customers from a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file.

    Callers: the CLI (system actor, or ``--actor`` with that person's role and scope; a person may
    import only customers they could create). ``owner`` is the default owner's username for rows
    without one (a person's default is themself). ``workers``: processes for validation and
    sealing (default: one per CPU; 0 or 1 work in this process). Raises ImportRefused for a file
    that cannot be imported at all and PermissionDenied when the actor may not create customers.
    Audits CUSTOMER_CREATED per customer and CUSTOMERS_IMPORTED once, in the transaction of the
    write.
    """
    started = time.perf_counter()
    if not allows(actor, "add"):
        raise PermissionDenied(_("Your role may not create customers."))
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(_("No such file: %(path)s") % {"path": path})
    report = ImportReport(filename=path.name, file_sha256=file_sha256(path))
    if not force:
        _refuse_repeat(report.file_sha256)
    keyring_required()
    default_owner = owner or (actor.user.username if actor.user is not None else "")
    columns, records, _total = read_records(path)
    numbered = []
    for number, cells, overflow in records:
        if overflow:
            report.errors.append(RowError(number, "-", str(
                _("The row has %(cells)d cells but the header names %(columns)d columns.")
                % {"cells": overflow, "columns": len(columns)})))
        else:
            numbered.append((number, cells))
    report.rows_total = len(numbered) + len(report.errors)
    if workers is None:
        workers = os.cpu_count() or 1
    try:
        with _large_page_cache(), transaction.atomic():
            if not force:
                _refuse_repeat(report.file_sha256)  # another import of the same file may have finished meanwhile
            _import(actor, report, numbered, default_owner, skip_invalid,
                    workers if len(numbered) >= PARALLEL_FROM else 0, progress)
    except _Rejected:
        report.batch_id, report.customer_ids = None, []  # rolled back: nothing of the file was written
    else:
        if report.written:
            database_optimize()  # the planner's statistics after a bulk load
    report.errors.sort(key=lambda e: (e.row, FIELDS.index(e.field) if e.field in FIELDS else -1))
    report.seconds = time.perf_counter() - started
    return report


class _Rejected(Exception):
    """Some row is invalid and the file is all or nothing: roll back what was written."""


def _import(actor: Actor, report: ImportReport, numbered: list, default_owner: str, skip_invalid: bool,
            workers: int, progress: Progress | None) -> None:
    """Validate, check and write chunk by chunk inside the caller's transaction: worker processes
    validate and seal the next chunks while this process checks owners and duplicates and
    inserts. Raises _Rejected (rolling everything back) when a row fails and not skip_invalid."""
    now = timezone.now()
    batch_id = uuid.uuid4()
    checker = _Checker(actor, {owner_of(cells, default_owner) for _, cells in numbered} - {""})
    spec = WriteSpec(actor=actor, ctx=context.current(), batch_id=batch_id, now=now,
                     kek_id=get_keyring().active_kek()[0], owners=checker.eligible, default_owner=default_owner)
    writer = _Writer()
    done = 0
    with _workers(workers) as imap:
        for chunk in imap(process_chunk, ((c, spec) for c in _chunks(numbered))):
            report.errors += chunk.errors
            for number, owner_name in chunk.invalid_owners:
                checker.owner_error(number, owner_name, None, report.errors)
            accepted = checker.accept(chunk.rows, report.errors)
            if skip_invalid or not report.errors:
                writer.write(accepted)
            done += len(chunk.rows) + len(chunk.errors)
            if progress:
                progress("import", min(done, len(numbered)), len(numbered))
    if report.errors and not skip_invalid or not writer.ids:
        raise _Rejected
    _ensure_in_scope(actor, writer.ids, now)
    ImportBatch.objects.create(
        id=batch_id, file_sha256=report.file_sha256, filename=report.filename[:300], actor_label=actor.label,
        rows_total=report.rows_total, rows_imported=len(writer.ids), rows_rejected=report.rows_rejected,
        created_at=now,
    )
    audit_record(
        actor=actor, event=events.CUSTOMERS_IMPORTED, target_type="import_batch", target_id=batch_id,
        detail={"import_batch": str(batch_id), "file_sha256": report.file_sha256,
                "rows_total": report.rows_total, "rows_imported": len(writer.ids),
                "rows_rejected": report.rows_rejected},
    )
    report.batch_id, report.rows_imported, report.customer_ids = batch_id, len(writer.ids), writer.ids


# -- checking -----------------------------------------------------------------------------------

class _Checker:
    """The checks that need the database, row by row in file order: the owner (an existing,
    active member of a team, keeping the customer in the actor's scope) and duplicates (mobile,
    e-mail and ID number new to the database and to the rows before)."""

    def __init__(self, actor: Actor, owner_names: set[str]):
        self.actor = actor
        self.users = {u.username: u for u in User.objects.filter(username__in=owner_names).select_related("team")}
        self.eligible = {u.username: (u.pk, u.team_id, u.team.department_id)
                         for u in self.users.values() if u.is_active and u.team_id is not None}
        self.in_scope: dict[tuple, bool] = {}
        self.first_seen: dict[tuple[str, str], int] = {}

    def owner_error(self, number: int, owner_name: str, values: dict | None, errors: list[RowError]) -> bool:
        """Report the owner's problem, if any (``values`` None: the row is invalid already, only
        the owner's existence and eligibility are checked). True when there was one."""
        owner = self.users.get(owner_name)
        message = None
        if owner is None:
            message = _("Choose an existing member of staff.")
        elif owner_name not in self.eligible:
            message = _("The owner must be an active member of a sales team.")
        elif values is not None:
            key = (owner.pk, values["tier"], values["kind"])
            if key not in self.in_scope:
                self.in_scope[key] = _would_be_in_scope(self.actor, owner, values)
            if not self.in_scope[key]:
                message = _("The result would be outside the customers you may manage.")
        if message is not None:
            errors.append(RowError(number, "owner", str(message)))
        return message is not None

    def accept(self, rows: list[Prepared], errors: list[RowError]) -> list[Prepared]:
        rows = [r for r in rows if not self.owner_error(r.number, r.owner_name, r.values, errors)]
        taken = {name: _existing(name, {r.duplicates[i] for r in rows if r.duplicates[i]})
                 for i, name in enumerate(DUPLICATE_CHECKED)}
        accepted = []
        for row in rows:
            bad = False
            for i, name in enumerate(DUPLICATE_CHECKED):
                value = row.duplicates[i]
                if not value:
                    continue
                if (name, value) in self.first_seen:
                    errors.append(RowError(row.number, name, str(
                        _("Same value as row %(row)d of this file.") % {"row": self.first_seen[(name, value)]})))
                    bad = True
                elif value in taken[name]:
                    errors.append(RowError(row.number, name, str(_("Already belongs to another customer."))))
                    bad = True
            if not bad:
                for i, name in enumerate(DUPLICATE_CHECKED):
                    if row.duplicates[i]:
                        self.first_seen[(name, row.duplicates[i])] = row.number
                accepted.append(row)
        return accepted


class _Rollback(Exception):
    pass


def _would_be_in_scope(actor: Actor, owner: User, values: dict) -> bool:
    """Ask the access policy itself (``restrict``) about a probe customer, rolled back at once."""
    probe = uuid.uuid4()
    now = timezone.now()
    inside = False
    try:
        with transaction.atomic():
            Customer.objects.bulk_create([Customer(
                id=probe, kind=values["kind"], name="-", tier=values["tier"], stage=values["stage"],
                source=values["source"], owner=owner, team_id=owner.team_id, department_id=owner.team.department_id,
                created_at=now, updated_at=now,
            )])
            inside = Customer.objects.restrict(actor, "add").filter(pk=probe).exists()
            raise _Rollback
    except _Rollback:
        pass
    return inside


def _existing(name: str, values: set[str]) -> set[str]:
    """The given blind-index values that a live customer already has.

    Plain SQL on the indexed column: Django compiles each value of an ``__in`` list one by one,
    which costs more than the query for the thousands of values of an import. Deletion is
    checked here rather than in SQL, so that no planner (with statistics from before the import
    began) walks the deleted_at index instead of the blind index while the table grows.
    """
    table = connection.ops.quote_name(TABLE)
    column = connection.ops.quote_name(Customer._meta.get_field(f"{name}_bidx").column)
    deleted = connection.ops.quote_name(Customer._meta.get_field("deleted_at").column)
    found: set[str] = set()
    values = sorted(values)
    with connection.cursor() as cursor:
        for start in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[start:start + LOOKUP_CHUNK]
            cursor.execute(f"SELECT {column}, {deleted} FROM {table} WHERE {column} IN "
                           f"({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(value for value, deleted_at in cursor.fetchall() if deleted_at is None)
    return found


# -- writing ------------------------------------------------------------------------------------

class _Writer:
    """Inserts accepted rows (inside the caller's transaction): data keys, customers, tag links
    (creating tags on first use), CUSTOMER_CREATED events."""

    def __init__(self):
        self.keys, self.customers = BulkInserter(DataKey), BulkInserter(Customer)
        self.links = BulkInserter(Customer.tags.through, ("customer_id", "tag_id"))
        self.tags: dict[str, int] = {}
        self.ids: list[uuid.UUID] = []

    def write(self, rows: list[Prepared]) -> None:
        if not rows:
            return
        for name in sorted({link[1] for r in rows for link in r.links} - set(self.tags)):
            self.tags[name] = Tag.objects.get_or_create(name=name)[0].pk
        self.keys.extend(r.key for r in rows)
        self.keys.flush()
        self.customers.extend(r.customer for r in rows)
        self.customers.flush()
        self.links.extend((cid, self.tags[tag]) for r in rows for cid, tag in r.links)
        self.links.flush()
        audit_record_rows([r.event for r in rows])
        self.ids += [r.customer_id for r in rows]


def _ensure_in_scope(actor: Actor, ids: list[uuid.UUID], created_at) -> None:
    """Re-check with the policy that every written customer is one the actor may manage (the rows
    of this import share their creation time, so one query finds them). Nothing to re-check
    when the policy admits every live customer for the actor."""
    if scope_q(actor, "", "add") is None:
        return
    inside = set(Customer.objects.restrict(actor, "add").filter(created_at=created_at)
                 .values_list("id", flat=True).iterator(chunk_size=10_000))
    if any(i not in inside for i in ids):
        raise ImportRefused(_("Some rows would be outside the customers you may manage; nothing was written."))


def _refuse_repeat(sha256: str) -> None:
    done = ImportBatch.objects.filter(file_sha256=sha256).order_by("-created_at").first()
    if done is not None:
        raise ImportRefused(
            _("This file was already imported (batch %(batch)s, %(when)s, by %(actor)s); "
              "use --force to import it again.")
            % {"batch": done.id, "when": timezone.localtime(done.created_at).strftime("%Y-%m-%d %H:%M"),
               "actor": done.actor_label})


@contextmanager
def _large_page_cache(mebibytes: int = 128):
    """On SQLite, a larger page cache for this connection while importing (the customer and audit
    indexes outgrow the default 2 MiB, and every miss is a read system call); restored after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-1024 * mebibytes}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


def report_json(report: ImportReport) -> str:
    """The report as JSON (for scripts): counts and every row error."""
    return json.dumps({
        "file": report.filename, "sha256": report.file_sha256, "batch": str(report.batch_id or ""),
        "rows_total": report.rows_total, "rows_imported": report.rows_imported,
        "rows_rejected": report.rows_rejected, "seconds": round(report.seconds, 3),
        "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in report.errors],
    }, ensure_ascii=False, indent=2)

"""Bulk import of customers from a CSV or XLSX file (``custodia import customers FILE``).

All or nothing. Every row is validated with the rules of the web form and the API
(``validation.normalise_customer``), owners are checked against the importing actor's policy and
mobiles, e-mails and ID numbers against the database (blind indexes) and the rest of the file.
When any row is invalid nothing is written and the report lists every error as (row, field,
reason), rows numbered as a spreadsheet shows them (the header is row 1). With ``skip_invalid``
the valid rows are written and the invalid ones reported.

The rows are written in ONE transaction: data keys, customers with sealed fields and blind
indexes, tags, one CUSTOMER_CREATED audit event per customer (before/after encrypted under the
customer's key), one CUSTOMERS_IMPORTED summary event and the ImportBatch row holding the file's
SHA-256. A crash or kill leaves nothing behind; running the import again is the resume. A file
whose hash already has a batch is refused unless ``force`` is given.

Hot paths (see ``fast_mobile``, ``fast_identifier``, ``notes_contain_pii``) give the same results
as the catalog's validators and ``pii.contains_pii``; tests compare them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from custodia.access.models import User
from custodia.access.policy import allows
from custodia.audit.services import audit_record, audit_record_many
from custodia.customers import events
from custodia.customers.choices import Kind, Source, Stage, Tier
from custodia.customers.models import Customer, ImportBatch, Tag
from custodia.customers.services import DUPLICATE_CHECKED, PLAIN_AUDITED
from custodia.customers.validation import normalise_customer
from custodia.kernel.actor import Actor
from custodia.kernel.bulk import BulkInserter
from custodia.kernel.errors import PermissionDenied
from custodia.kernel.files import file_sha256
from custodia.kernel.jobs import database_optimize
from custodia.protection import catalog, pii
from custodia.protection.blind_index import blind_index
from custodia.protection.crypto import KeyBag, new_data_keys
from custodia.protection.fields import to_text
from custodia.protection.services import keyring_required

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)

FIELDS = ("kind", "name", "tier", "stage", "source", "owner", "tags", "mobile", "email", "id_number",
          "bank_account", "address", "birth_date", "notes")
HEADER_ALIASES = {
    "类型": "kind", "客户类型": "kind", "名称": "name", "姓名": "name", "客户名称": "name", "等级": "tier",
    "客户等级": "tier", "阶段": "stage", "来源": "source", "负责人": "owner", "标签": "tags", "手机": "mobile",
    "手机号": "mobile", "邮箱": "email", "电子邮箱": "email", "证件号": "id_number", "证件号码": "id_number",
    "银行账号": "bank_account", "地址": "address", "出生日期": "birth_date", "备注": "notes",
}
REQUIRED = ("kind", "name")
# Chinese (and English label) spellings of choice values a spreadsheet user is likely to type.
VALUE_ALIASES = {
    "kind": {"个人": Kind.INDIVIDUAL, "企业": Kind.ORGANISATION, "机构": Kind.ORGANISATION,
             "单位": Kind.ORGANISATION, "公司": Kind.ORGANISATION, "organization": Kind.ORGANISATION},
    "tier": {"核心": Tier.CORE, "重要": Tier.IMPORTANT, "一般": Tier.ORDINARY, "普通": Tier.ORDINARY},
    "stage": {"线索": Stage.LEAD, "潜在": Stage.PROSPECT, "意向": Stage.PROSPECT, "活跃": Stage.ACTIVE,
              "成交": Stage.ACTIVE, "休眠": Stage.DORMANT, "流失": Stage.LOST},
    "source": {"公司线索": Source.COMPANY_LEAD, "公司资源": Source.COMPANY_LEAD,
               "个人资源": Source.PERSONAL_NETWORK, "个人人脉": Source.PERSONAL_NETWORK},
}
CHUNK = 2000  # rows per bulk insert / progress step
LOOKUP_CHUNK = 5000  # values per IN (...) query
TABLE = Customer._meta.db_table
PROTECTED = [f for f in catalog.for_model("customer")]
PROTECTED_NAMES = frozenset(f.name for f in PROTECTED)
FAST_FIELDS = ("mobile", "id_number")  # validated here by exact fast paths, the rest by normalise_customer
SLOW_FIELDS = tuple(f.name for f in PROTECTED if f.name not in FAST_FIELDS)
PLAIN_FIELDS = ("kind", "name", "tier", "stage", "source", "tags")
KINDS = frozenset(Kind.values)


class ImportRefused(Exception):
    """The whole file is refused (unreadable, wrong columns, already imported, not permitted)."""


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    field: str
    message: str


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


@dataclass
class _Row:
    number: int
    id: uuid.UUID
    values: dict  # normalised plain values (kind, name, tier, stage, source, tags)
    protected: dict  # normalised protected values, None left out
    owner_name: str
    owner: User | None = None
    indexes: dict = field(default_factory=dict)  # field name -> blind index
    valid: bool = True  # False: field errors were reported; only its owner is checked further


# -- exact fast paths ---------------------------------------------------------------------------

_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
# 11-digit mobiles that national-prefix stripping leaves alone (it strips 11x, 12x, 179xx and 0).
_MOBILE_SHAPE = re.compile(r"1(?:[3-689][0-9]|7[0-8])[0-9]{8}")
_MOBILE_PATTERN = re.compile(_CN.mobile.national_number_pattern)
# Number types phonenumbers checks before mobile: a match there makes the number something else.
_EARLIER_TYPES = [re.compile(d.national_number_pattern) for d in (
    _CN.premium_rate, _CN.toll_free, _CN.shared_cost, _CN.voip, _CN.personal_number, _CN.pager, _CN.uan,
    _CN.voicemail) if d is not None and d.national_number_pattern]
_RIC_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")


def fast_mobile(raw) -> str:
    """``catalog["customer.mobile"].normalize(raw)``, fast for a plain 11-digit mobile.

    phonenumbers (region CN) accepts such a number exactly when it matches the metadata's mobile
    pattern and none of the number types it tests first; anything else takes the slow path.
    """
    if isinstance(raw, str):
        text = raw.strip()
        if _MOBILE_SHAPE.fullmatch(text) and _MOBILE_PATTERN.fullmatch(text) and not any(
            p.fullmatch(text) for p in _EARLIER_TYPES
        ):
            return "+86" + text
    return catalog.get("customer.mobile").normalize(raw)


@functools.lru_cache(maxsize=4096)
def _birth_place_known(region: str, year: int) -> bool:
    try:
        ric.get_birth_place(f"{region}{year:04d}01010000")
    except Exception:
        return False
    return True


def fast_identifier(raw, kind: str) -> str:
    """``catalog["customer.id_number"].normalize(raw, kind)``, fast for a plain resident ID.

    ``stdnum.cn.ric.validate`` checks the length, digits, check character, birth date and birth
    place (a function of the region code and birth year, cached); the same checks are done here.
    """
    if kind == Kind.INDIVIDUAL and isinstance(raw, str):
        number = raw.strip().upper()
        if _RIC_SHAPE.fullmatch(number) and number[-1] == ric.calc_check_digit(number):
            try:
                year = int(number[6:10])
                dt.date(year, int(number[10:12]), int(number[12:14]))
            except ValueError:
                year = 0
            if year and _birth_place_known(number[:6], year):
                return number
    return catalog.get("customer.id_number").normalize(raw, kind)


@functools.lru_cache(maxsize=65536)
def notes_contain_pii(text: str) -> bool:
    """``pii.contains_pii`` with a cache: imported notes often repeat."""
    return pii.contains_pii(text)


class _Indexer:
    """Blind indexes of the protected fields that have one (``blind_index`` by field name)."""

    def __init__(self):
        self._keys = {pf.name: pf.key for pf in PROTECTED if pf.blind_index}

    def __call__(self, name: str, text: str | None) -> str | None:
        return blind_index(self._keys[name], text)

    def names(self):
        return self._keys.keys()


# -- reading ------------------------------------------------------------------------------------

def _is_xlsx(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is neither UTF-8 nor GB18030 text, nor an XLSX workbook."))


def _read_csv(path: Path) -> tuple[list, Iterator[list], int]:
    text = _decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records:
        raise ImportRefused(_("The file is empty: the first row must name the columns."))
    return records[0], iter(records[1:]), len(records) - 1


def _xlsx_cell(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _read_xlsx(path: Path) -> tuple[list, Iterator[list], int | None]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused(_("The workbook cannot be read: %(error)s") % {"error": exc}) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        book.close()
        raise ImportRefused(_("The file is empty: the first row must name the columns."))
    total = sheet.max_row - 1 if sheet.max_row else None

    def body():
        try:
            for row in rows:
                yield [_xlsx_cell(v) for v in row]
        finally:
            book.close()

    return list(header), body(), total


def _columns(header: list) -> list[str | None]:
    """Canonical field name per column (None for an unnamed empty column)."""
    out, unknown, seen = [], [], set()
    for cell in header:
        label = "" if cell is None else str(cell).strip().lstrip("\ufeff").rstrip("*").strip()
        name = label.lower() if label.lower() in FIELDS else HEADER_ALIASES.get(label)
        if label and name is None:
            unknown.append(label)
        if name is not None:
            if name in seen:
                raise ImportRefused(_("Column %(column)s appears twice.") % {"column": label})
            seen.add(name)
        out.append(name)
    if unknown:
        raise ImportRefused(_("Unknown columns: %(columns)s. Allowed: %(allowed)s (or their Chinese names).")
                            % {"columns": ", ".join(unknown), "allowed": ", ".join(FIELDS)})
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        raise ImportRefused(_("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)})
    return out


# -- validating ---------------------------------------------------------------------------------

def _plain(name: str, value) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    aliases = VALUE_ALIASES.get(name)
    if aliases and text:
        return aliases.get(text) or aliases.get(text.lower()) or text.lower()
    return text


def _protected_cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(value)
    return value  # int, date, None: the validators accept them


def _validate_row(number: int, cells: dict, default_owner: str, errors: list[RowError]) -> _Row:
    """Normalise one row and append its errors (the row is then marked invalid)."""
    row_errors: dict[str, list[str]] = {}
    data = {name: _plain(name, cells.get(name)) for name in PLAIN_FIELDS}
    for name in SLOW_FIELDS:
        if name in cells:
            data[name] = _protected_cell(cells[name])
    try:
        values = normalise_customer(data)
    except ValidationError as exc:
        values = None
        for name, messages in exc.message_dict.items():
            row_errors.setdefault(name, []).extend(messages)
    kind = data["kind"] or Kind.INDIVIDUAL
    fast = {}
    for name, normalise in (("mobile", fast_mobile), ("id_number", fast_identifier)):
        raw = _protected_cell(cells.get(name))
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if name == "id_number" and kind not in KINDS:
            continue  # the kind is wrong already; which identifier applies is unknown
        try:
            fast[name] = normalise(raw, kind) if name == "id_number" else normalise(raw)
        except ValidationError as exc:
            row_errors.setdefault(name, []).extend(exc.messages)
    owner_name = _plain("owner", cells.get("owner")) or default_owner
    if not owner_name:
        row_errors.setdefault("owner", []).append(
            str(_("Give the owner's username (an owner column or --owner): the console operator owns no customers.")))
    if row_errors:
        for name in FIELDS:
            for message in row_errors.pop(name, []):
                errors.append(RowError(number, name, str(message)))
        for name, messages in row_errors.items():  # fields outside the column list, if any
            errors.extend(RowError(number, name, str(m)) for m in messages)
        return _Row(number, uuid.uuid4(), {}, {}, owner_name, valid=False)
    protected = {k: v for k, v in values.items() if k in PROTECTED_NAMES and v is not None}
    protected.update(fast)
    plain = {k: v for k, v in values.items() if k not in PROTECTED_NAMES}
    return _Row(number, uuid.uuid4(), plain, protected, owner_name)


def _records(path: Path) -> tuple[list[str | None], Iterator[tuple[int, dict, int]], int | None]:
    """The columns and the numbered records: (row number, {field: cell}, cells beyond the header)."""
    header, body, total = _read_xlsx(path) if _is_xlsx(path) else _read_csv(path)
    columns = _columns(header)
    width = len(columns)

    def numbered():
        for number, cells in enumerate(body, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # a blank line
            record = {name: value for name, value in zip(columns, cells, strict=False) if name is not None}
            extra = sum(1 for c in cells[width:] if c not in (None, ""))
            yield number, record, len(cells) if extra else 0

    return columns, numbered(), total


def _check_owners(actor: Actor, rows: list[_Row], errors: list[RowError]) -> list[_Row]:
    """Owners must exist, be active members of a team, and keep the customer in the actor's scope.
    Returns the valid rows with an acceptable owner."""
    names = {r.owner_name for r in rows if r.owner_name}
    users = {u.username: u for u in User.objects.filter(username__in=names).select_related("team")}
    in_scope: dict[tuple, bool] = {}
    kept = []
    for row in rows:
        if not row.owner_name:
            continue  # reported already
        owner = users.get(row.owner_name)
        message = None
        if owner is None:
            message = _("Choose an existing member of staff.")
        elif not owner.is_active or owner.team_id is None:
            message = _("The owner must be an active member of a sales team.")
        elif row.valid:
            key = (owner.pk, row.values["tier"], row.values["kind"])
            if key not in in_scope:
                in_scope[key] = _would_be_in_scope(actor, owner, row.values)
            if not in_scope[key]:
                message = _("The result would be outside the customers you may manage.")
        if message is not None:
            errors.append(RowError(row.number, "owner", str(message)))
        elif row.valid:
            row.owner = owner
            kept.append(row)
    return kept


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


def _check_duplicates(rows: list[_Row], errors: list[RowError], index: _Indexer) -> list[_Row]:
    """Mobile, e-mail and ID number must be new to the database and appear once in the file."""
    first_seen: dict[tuple[str, str], int] = {}
    wanted: dict[str, set[str]] = {name: set() for name in DUPLICATE_CHECKED}
    for row in rows:
        for name in index.names():
            row.indexes[name] = index(name, to_text(row.protected.get(name)))
        for name in DUPLICATE_CHECKED:
            if row.indexes.get(name):
                wanted[name].add(row.indexes[name])
    taken = {name: _existing(name, values) for name, values in wanted.items()}
    kept = []
    for row in rows:
        bad = False
        for name in DUPLICATE_CHECKED:
            value = row.indexes.get(name)
            if not value:
                continue
            if value in taken[name]:
                errors.append(RowError(row.number, name, str(_("Already belongs to another customer."))))
                bad = True
            elif (name, value) in first_seen:
                errors.append(RowError(row.number, name, str(
                    _("Same value as row %(row)d of this file.") % {"row": first_seen[(name, value)]})))
                bad = True
            else:
                first_seen[(name, value)] = row.number
        if not bad:
            kept.append(row)
    return kept


def _existing(name: str, values: set[str]) -> set[str]:
    """The given blind-index values that a live customer already has.

    Plain SQL on the indexed column: Django compiles each value of an ``__in`` list one by one,
    which costs more than the query for the thousands of values of an import.
    """
    table = connection.ops.quote_name(TABLE)
    column = connection.ops.quote_name(Customer._meta.get_field(f"{name}_bidx").column)
    found: set[str] = set()
    values = sorted(values)
    with connection.cursor() as cursor:
        for start in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[start:start + LOOKUP_CHUNK]
            cursor.execute(f"SELECT {column} FROM {table} WHERE deleted_at IS NULL AND {column} IN "
                           f"({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(value for (value,) in cursor.fetchall())
    return found


# -- writing ------------------------------------------------------------------------------------

def _write(actor: Actor, rows: list[_Row], batch: ImportBatch, progress: Progress | None) -> None:
    """Write every row (inside the caller's transaction): keys, customers, tags, audit events."""
    tags = {}
    for name in sorted({t for r in rows for t in r.values.get("tags", [])}):
        tags[name] = Tag.objects.get_or_create(name=name)[0].pk
    customers = BulkInserter(Customer)
    links = BulkInserter(Customer.tags.through, ("customer_id", "tag_id"))
    now = timezone.now()
    detail = {"import_batch": str(batch.id)}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        keys = new_data_keys([r.id for r in chunk])
        audit = []
        for row in chunk:
            customers.add(_customer_columns(row, keys, now))
            for tag in row.values.get("tags", []):
                links.add({"customer_id": row.id, "tag_id": tags[tag]})
            after = {k: row.values[k] for k in PLAIN_AUDITED if k in row.values} | {"owner": row.owner.username}
            after |= {k: to_text(v) for k, v in row.protected.items()}
            audit.append({"actor": actor, "event": events.CUSTOMER_CREATED, "target_type": "customer",
                          "target_id": row.id, "subject_id": row.id, "fields": sorted(after),
                          "change": {"before": {}, "after": after}, "keys": keys, "detail": detail})
        customers.flush()
        links.flush()
        audit_record_many(audit)
        if progress:
            progress("write", start + len(chunk), len(rows))
    _ensure_in_scope(actor, rows, now)


def _customer_columns(row: _Row, keys: KeyBag, now: dt.datetime) -> dict:
    v, owner = row.values, row.owner
    columns = {
        "id": row.id, "kind": v["kind"], "name": v["name"], "tier": v["tier"], "stage": v["stage"],
        "source": v["source"], "owner_id": owner.pk, "team_id": owner.team_id,
        "department_id": owner.team.department_id, "created_at": now, "updated_at": now, "notes_pii": False,
    }
    seal = keys.row_sealer(row.id, TABLE, row.id)
    for pf in PROTECTED:
        value = row.protected.get(pf.name)
        if value is None:
            continue
        text = to_text(value)
        columns[pf.column] = seal(pf.column, text)
        if pf.blind_index:
            columns[pf.index_column] = row.indexes[pf.name]
        if pf.name == "notes":
            columns["notes_pii"] = notes_contain_pii(text)
    return columns


def _ensure_in_scope(actor: Actor, rows: list[_Row], created_at: dt.datetime) -> None:
    """Re-check with the policy that every written customer is one the actor may manage (the rows
    of this import share their creation time, so one query finds them)."""
    inside = set(Customer.objects.restrict(actor, "add").filter(created_at=created_at)
                 .values_list("id", flat=True).iterator(chunk_size=10_000))
    if any(row.id not in inside for row in rows):
        raise ImportRefused(_("Some rows would be outside the customers you may manage; nothing was written."))


# -- the service --------------------------------------------------------------------------------

def customers_import(
    *, actor: Actor, path, skip_invalid: bool = False, owner: str | None = None, force: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import customers from a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file.

    Callers: the CLI (system actor, or ``--actor`` with that person's role and scope; a person may
    import only customers they could create). ``owner`` is the default owner's username for rows
    without one (a person's default is themself). Raises ImportRefused for a file that cannot be
    imported at all and PermissionDenied when the actor may not create customers. Audits
    CUSTOMER_CREATED per customer and CUSTOMERS_IMPORTED once, in the transaction of the write.
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
    default_owner = owner or (actor.user.username if actor.user is not None else "")
    columns, records, total = _records(path)
    rows: list[_Row] = []
    for done, (number, cells, overflow) in enumerate(records, start=1):
        report.rows_total += 1
        if overflow:
            report.errors.append(RowError(number, "-", str(
                _("The row has %(cells)d cells but the header names %(columns)d columns.")
                % {"cells": overflow, "columns": len(columns)})))
            continue
        rows.append(_validate_row(number, cells, default_owner, report.errors))
        if progress and done % 1000 == 0:
            progress("validate", done, total)
    if progress:
        progress("validate", report.rows_total, report.rows_total)
    keyring_required()
    index = _Indexer()
    rows = _check_owners(actor, rows, report.errors)
    rows = _check_duplicates(rows, report.errors, index)
    report.errors.sort(key=lambda e: (e.row, FIELDS.index(e.field) if e.field in FIELDS else -1))
    if report.errors and not skip_invalid:
        report.seconds = time.perf_counter() - started
        return report
    if rows:
        _commit(actor, report, rows, index, force, progress)
    report.seconds = time.perf_counter() - started
    return report


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


def _commit(actor: Actor, report: ImportReport, rows: list[_Row], index: _Indexer, force: bool,
            progress: Progress | None) -> None:
    with _large_page_cache(), transaction.atomic():
        if not force:
            _refuse_repeat(report.file_sha256)  # another import of the same file may have finished meanwhile
        for name in DUPLICATE_CHECKED:
            if _existing(name, {r.indexes[name] for r in rows if r.indexes.get(name)}):
                raise ImportRefused(_("Customers with the same identifiers were created while the file was "
                                      "being checked; nothing was written. Run the import again."))
        batch = ImportBatch.objects.create(
            file_sha256=report.file_sha256, filename=report.filename[:300], actor_label=actor.label,
            rows_total=report.rows_total, rows_imported=len(rows), rows_rejected=report.rows_rejected,
            created_at=timezone.now(),
        )
        _write(actor, rows, batch, progress)
        audit_record(
            actor=actor, event=events.CUSTOMERS_IMPORTED, target_type="import_batch", target_id=batch.id,
            detail={"import_batch": str(batch.id), "file_sha256": report.file_sha256,
                    "rows_total": report.rows_total, "rows_imported": len(rows),
                    "rows_rejected": report.rows_rejected},
        )
    database_optimize()  # the planner's statistics after a bulk load
    report.batch_id = batch.id
    report.rows_imported = len(rows)
    report.customer_ids = [r.id for r in rows]


def report_json(report: ImportReport) -> str:
    """The report as JSON (for scripts): counts and every row error."""
    return json.dumps({
        "file": report.filename, "sha256": report.file_sha256, "batch": str(report.batch_id or ""),
        "rows_total": report.rows_total, "rows_imported": report.rows_imported,
        "rows_rejected": report.rows_rejected, "seconds": round(report.seconds, 3),
        "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in report.errors],
    }, ensure_ascii=False, indent=2)

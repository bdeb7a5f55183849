"""One import row at a time: validation (with exact fast paths) and the prepared database rows.

Both steps are pure computation on plain, picklable values, so ``customers_import`` can run them
in worker processes; nothing here touches the database. Hot paths (``fast_mobile``,
``fast_identifier``, ``notes_contain_pii``) give the same results as the catalog's validators and
``pii.contains_pii``; tests compare them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

import phonenumbers
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from custodia.audit.services import EventRows
from custodia.customers import events
from custodia.customers.choices import Kind, Source, Stage, Tier
from custodia.customers.import_file import FIELDS
from custodia.customers.models import Customer
from custodia.customers.services import DUPLICATE_CHECKED, PLAIN_AUDITED
from custodia.customers.validation import normalise_customer
from custodia.kernel.actor import Actor
from custodia.kernel.bulk import BulkInserter
from custodia.kernel.context import RequestContext
from custodia.protection import catalog, pii
from custodia.protection.blind_index import indexer
from custodia.protection.crypto import fresh_key
from custodia.protection.fields import to_text
from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey

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
TABLE = Customer._meta.db_table
PROTECTED = [f for f in catalog.for_model("customer")]
PROTECTED_NAMES = frozenset(f.name for f in PROTECTED)
INDEXED = tuple(f for f in PROTECTED if f.blind_index)
FAST_FIELDS = ("mobile", "id_number")  # validated here by exact fast paths, the rest by normalise_customer
SLOW_FIELDS = tuple(f.name for f in PROTECTED if f.name not in FAST_FIELDS)
PLAIN_FIELDS = ("kind", "name", "tier", "stage", "source", "tags")
KINDS = frozenset(Kind.values)


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    field: str
    message: str


@dataclass
class Row:
    number: int
    values: dict  # normalised plain values (kind, name, tier, stage, source, tags)
    protected: dict  # normalised protected values as text, None left out
    owner_name: str
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




def _plain(name: str, value) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    aliases = VALUE_ALIASES.get(name)
    if aliases and text:
        return aliases.get(text) or aliases.get(text.lower()) or text.lower()
    return text


def owner_of(cells: dict, default_owner: str) -> str:
    """The row's owner username: its owner cell, else the default ("" when neither)."""
    return _plain("owner", cells.get("owner")) or default_owner


def _protected_cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(value)
    return value  # int, date, None: the validators accept them


def row_indexers() -> dict:
    """The blind-index function of each indexed field, by field name."""
    return {pf.name: indexer(pf.key) for pf in INDEXED}


def validate_row(number: int, cells: dict, default_owner: str, errors: list[RowError],
                 indexers: dict | None = None) -> Row:
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
    owner_name = owner_of(cells, default_owner)
    if not owner_name:
        row_errors.setdefault("owner", []).append(
            str(_("Give the owner's username (an owner column or --owner): the console operator owns no customers.")))
    if row_errors:
        for name in FIELDS:
            for message in row_errors.pop(name, []):
                errors.append(RowError(number, name, str(message)))
        for name, messages in row_errors.items():  # fields outside the column list, if any
            errors.extend(RowError(number, name, str(m)) for m in messages)
        return Row(number, {}, {}, owner_name, valid=False)
    protected = {k: to_text(v) for k, v in values.items() if k in PROTECTED_NAMES and v is not None}
    protected.update(fast)
    plain = {k: v for k, v in values.items() if k not in PROTECTED_NAMES}
    indexers = indexers or row_indexers()
    indexes = {name: index(protected.get(name)) for name, index in indexers.items()}
    return Row(number, plain, protected, owner_name, indexes)

# -- a worker's unit of work ---------------------------------------------------------------------

@dataclass(frozen=True)
class WriteSpec:
    """What every row of one import shares (the batch, the actor, the time, the KEK), and the
    eligible owners: username -> (user id, team id, department id)."""

    actor: Actor
    ctx: RequestContext
    batch_id: uuid.UUID
    now: dt.datetime
    kek_id: str
    owners: dict
    default_owner: str


class Prepared(NamedTuple):
    """A validated row, ready for the importing process's checks and, if they pass, its insert."""

    number: int
    owner_name: str
    values: dict  # plain values: kind, name, tier, stage, source, tags
    duplicates: tuple  # blind indexes of DUPLICATE_CHECKED, in that order (None where empty)
    customer_id: uuid.UUID | None  # None: the owner is not eligible; nothing was sealed
    key: tuple | None  # the DataKey row (the data key wrapped under the KEK)
    customer: tuple | None  # the Customer row, protected fields sealed, blind indexes
    links: tuple  # (customer id as stored, tag name) per tag
    event: tuple | None  # the CUSTOMER_CREATED row, its after-image sealed under the data key


class Chunk(NamedTuple):
    rows: list  # Prepared, valid rows only, in file order
    errors: list  # RowError of the invalid rows
    invalid_owners: list  # (row number, owner name) of invalid rows: their owner is checked too


_CUSTOMER_VARYING = (("id", "kind", "name", "tier", "stage", "source", "owner_id", "team_id", "department_id",
                      "notes_pii") + tuple(pf.column for pf in PROTECTED) + tuple(pf.index_column for pf in INDEXED))


class _Makers:
    """Row makers of one import (built once per worker process and spec)."""

    def __init__(self, spec: WriteSpec):
        self.spec = spec
        self.indexers = row_indexers()
        self.wrapper = AESGCM(get_keyring().kek(spec.kek_id))
        self.key = BulkInserter(DataKey).maker({"kek_id": spec.kek_id, "created_at": spec.now},
                                               ("id", "subject_id", "wrapped"))
        customers = BulkInserter(Customer)
        self.customer = customers.maker({"created_at": spec.now, "updated_at": spec.now}, _CUSTOMER_VARYING)
        self.id_column = customers.names.index("id")
        self.audit = EventRows(actor=spec.actor, event=events.CUSTOMER_CREATED, target_type="customer",
                               detail={"import_batch": str(spec.batch_id)}, ctx=spec.ctx, occurred_at=spec.now)


_makers: _Makers | None = None


def _makers_for(spec: WriteSpec) -> _Makers:
    global _makers
    if _makers is None or _makers.spec != spec:
        _makers = _Makers(spec)
    return _makers


def process_chunk(task: tuple[list[tuple[int, dict]], WriteSpec]) -> Chunk:
    """Validate numbered records and prepare the rows of the valid ones (a worker's unit of work;
    no database access). Each customer gets a new data key; its fields and its audit record's
    after-image are sealed under it; the key leaves only wrapped under the KEK."""
    records, spec = task
    makers = _makers_for(spec)
    errors: list[RowError] = []
    rows, invalid_owners = [], []
    for number, cells in records:
        row = validate_row(number, cells, spec.default_owner, errors, makers.indexers)
        if not row.valid:
            if row.owner_name:
                invalid_owners.append((number, row.owner_name))
            continue
        duplicates = tuple(row.indexes.get(name) for name in DUPLICATE_CHECKED)
        owner = spec.owners.get(row.owner_name)
        if owner is None:
            rows.append(Prepared(number, row.owner_name, row.values, duplicates, None, None, None, (), None))
            continue
        rows.append(_prepare(row, owner, duplicates, makers))
    return Chunk(rows, errors, invalid_owners)


def _prepare(row: Row, owner: tuple, duplicates: tuple, makers: _Makers) -> Prepared:
    cid = uuid.uuid4()
    key, sealer = fresh_key(cid, makers.spec.kek_id, makers.wrapper)
    owner_id, team_id, department_id = owner
    v, protected = row.values, row.protected
    notes = protected.get("notes")
    values = [cid, v["kind"], v["name"], v["tier"], v["stage"], v["source"], owner_id, team_id, department_id,
              bool(notes) and notes_contain_pii(notes)]
    rid = str(cid)
    values += [None if protected.get(pf.name) is None else sealer(TABLE, pf.column, rid, protected[pf.name])
               for pf in PROTECTED]
    values += [row.indexes.get(pf.name) for pf in INDEXED]
    customer = makers.customer(values)
    stored_id = customer[makers.id_column]  # the id as the database stores it, for the tag links
    after = {k: v[k] for k in PLAIN_AUDITED if k in v} | {"owner": row.owner_name} | protected
    event = makers.audit.row(target_id=cid, subject_id=cid, fields=sorted(after),
                             change={"before": {}, "after": after}, sealer=sealer)
    return Prepared(row.number, row.owner_name, v, duplicates, cid, makers.key((key["id"], cid, key["wrapped"])),
                    customer, tuple((stored_id, tag) for tag in v.get("tags", ())), event)

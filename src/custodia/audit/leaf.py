"""The canonical event: the Merkle leaf input (docs/audit-log.md, "Leaf input").

One function builds it, ``canonical``, from the event's columns in text form; the two ways in
feed it the same text: ``from_values`` (the writer, from the Python values it is about to insert)
and ``LEAF_SELECT`` (verification, from the stored row: the database formats ids and times itself,
so reading a million rows costs no Python parsing).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from json.encoder import encode_basestring  # C-accelerated; what json.dumps(ensure_ascii=False) uses

VERSION = 1
_UTC = dt.UTC
_dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(text: str) -> str:
    """A stored JSON document in canonical form (sorted keys, no whitespace)."""
    if text == "[]" or text == "{}":
        return text
    return _dumps(json.loads(text))


_canonical_fields = functools.lru_cache(maxsize=4096)(canonical_json)  # few distinct field lists


def _uuid(text: str | None) -> str:
    return "null" if text is None else f'"{text}"'


def canonical(id, time, type, action, actor_id, actor_label, actor_role, request_id, source_ip,  # noqa: A002
              target_type, target_id, subject_id, fields, object_ids, purpose, outcome, detail, change) -> bytes:
    """The leaf input. Ids are canonical UUID text or None, ``time`` is
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ``fields``/``object_ids``/``detail`` are JSON text in any
    formatting, ``change`` is the ciphertext (bytes) or None."""
    return (
        f'{{"action":{encode_basestring(action)},'
        f'"actor":{{"id":{_uuid(actor_id)},"label":{encode_basestring(actor_label)},'
        f'"role":{encode_basestring(actor_role)}}},'
        f'"change":{"null" if change is None else chr(34) + base64.b64encode(change).decode() + chr(34)},'
        f'"detail":{canonical_json(detail)},"fields":{_canonical_fields(fields)},"id":"{id}",'
        f'"object_ids":{canonical_json(object_ids)},"outcome":{encode_basestring(outcome)},'
        f'"purpose":{encode_basestring(purpose)},"request_id":{encode_basestring(request_id)},'
        f'"source_ip":{encode_basestring(source_ip)},"subject":{_uuid(subject_id)},'
        f'"target":{{"id":{_uuid(target_id)},"type":{encode_basestring(target_type)}}},'
        f'"time":"{time}","type":{int(type)},"v":{VERSION}}}'
    ).encode()


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def format_time(value: dt.datetime) -> str:
    return value.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value) -> str | None:
    return None if value is None else str(value)


def from_values(values: dict) -> bytes:
    """The leaf input of an event about to be written (``audit.services`` column values).

    JSON columns go through a dump and load first, so the text is what reading the row back
    gives (tuples become lists, keys become strings)."""
    return canonical(
        str(values["id"]), format_time(values["occurred_at"]), values["event_type"], values["action"],
        _text(values["actor_id"]), values["actor_label"], values["actor_role"], values["request_id"],
        values["source_ip"], values["target_type"], _text(values["target_id"]), _text(values["subject_id"]),
        json.dumps(values["fields"]), json.dumps(values["object_ids"]), values["purpose"], values["outcome"],
        json.dumps(values["detail"]), values["change_enc"],
    )


_ID, _TARGET, _SUBJECT, _FIELDS = "@@id@@", "@@target@@", "@@subject@@", '["@@fields@@"]'
_CHANGE = base64.b64decode("QCBjaGFuZ2UgQA==")  # base64 gives back exactly that text


@functools.lru_cache(maxsize=4096)
def _fields_text(fields: tuple) -> str:
    return canonical_json(json.dumps(list(fields)))


def template(values: dict):
    """``from_values`` for many events that differ only in id, target id, subject id, fields and
    change: ``make(id, target_id, subject_id, fields, change) -> bytes``, the same bytes.

    The leaf input of the shared columns is made once, by ``from_values`` itself with unique
    placeholders in the varying places; each event then fills them in. An event without target,
    subject or change, or shared values that happen to contain a placeholder, take
    ``from_values`` whole.
    """
    text = from_values(values | {"id": _ID, "target_id": _TARGET, "subject_id": _SUBJECT,
                                 "fields": ["@@fields@@"], "change_enc": _CHANGE}).decode()
    marks = (base64.b64encode(_CHANGE).decode(), _FIELDS, f'"{_ID}"', f'"{_SUBJECT}"', f'"{_TARGET}"')
    where = [text.find(mark) for mark in marks]
    if any(text.count(mark) != 1 for mark in marks) or where != sorted(where):
        parts = None
    else:
        parts, rest = [], text
        for mark in marks:
            head, rest = rest.split(mark)
            parts.append(head)
        parts.append(rest)

    def make(id, target_id, subject_id, fields, change: bytes | None) -> bytes:  # noqa: A002
        if parts is None or target_id is None or subject_id is None or change is None:
            return from_values(values | {"id": id, "target_id": target_id, "subject_id": subject_id,
                                         "fields": list(fields), "change_enc": change})
        a, b, c, d, e, f = parts
        return (f'{a}{base64.b64encode(change).decode()}{b}{_fields_text(tuple(fields))}{c}"{id}"{d}'
                f'"{subject_id}"{e}"{target_id}"{f}').encode()

    return make


# The columns of ``canonical`` in order (of audit_auditevent, aliased ``e`` in queries).
_COLUMNS = ("id", "occurred_at", "event_type", "action", "actor_id", "actor_label", "actor_role", "request_id",
            "source_ip", "target_type", "target_id", "subject_id", "fields", "object_ids", "purpose", "outcome",
            "detail", "change_enc")
_UUIDS = {"id", "actor_id", "target_id", "subject_id"}
_JSON = {"fields", "object_ids", "detail"}


def _select(vendor: str) -> str:
    if vendor != "postgresql":
        # SQLite: the stored text as is (uuid hex, naive UTC time); ``from_row`` formats it, which
        # is cheaper than SQLite's string functions.
        # (the time as an expression: a column declared datetime would be parsed by the driver)
        return ", ".join("e.occurred_at || ''" if column == "occurred_at" else f"e.{column}" for column in _COLUMNS)
    out = []
    for column in _COLUMNS:
        ref = f"e.{column}"
        if column in _UUIDS or column in _JSON:
            ref = f"{ref}::text"
        elif column == "occurred_at":
            ref = "to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        out.append(ref)
    return ", ".join(out)


@functools.cache
def leaf_select(vendor: str) -> str:
    """SQL select-list of an event row for ``row_reader(vendor)`` (rows of ``audit_auditevent e``)."""
    return _select(vendor)


def _hex_uuid(h: str | None) -> str | None:
    return None if h is None else f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _sqlite_row(row) -> bytes:
    """Leaf input of a SQLite row: uuid hex with hyphens, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` as ISO UTC."""
    (id_, time, type_, action, actor_id, label, role, request_id, source_ip, target_type, target_id, subject_id,
     fields, object_ids, purpose, outcome, detail, change) = row
    time = time.replace(" ", "T") + (".000000Z" if len(time) == 19 else "Z")
    return canonical(_hex_uuid(id_), time, type_, action, _hex_uuid(actor_id), label, role, request_id, source_ip,
                     target_type, _hex_uuid(target_id), _hex_uuid(subject_id), fields, object_ids, purpose, outcome,
                     detail, change)


def _postgresql_row(row) -> bytes:
    change = row[17]
    if change is not None and not isinstance(change, bytes):
        change = bytes(change)
    return canonical(*row[:17], change)


def row_reader(vendor: str):
    """The function giving the leaf input of a row selected with ``leaf_select(vendor)``."""
    return _postgresql_row if vendor == "postgresql" else _sqlite_row


def from_row(row: tuple) -> bytes:
    """The leaf input of a row selected with ``leaf_select`` on the default connection."""
    from django.db import connection

    return row_reader(connection.vendor)(row)

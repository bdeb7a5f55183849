"""Reading and writing protected fields of a model instance, as the field catalog declares."""

from __future__ import annotations

import datetime as dt

from custodia.protection import masking
from custodia.protection.blind_index import blind_index
from custodia.protection.catalog import ProtectedField
from custodia.protection.crypto import DecryptionError, KeyBag, KeyShredded


def to_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def index_value(pf: ProtectedField, normalised) -> str | None:
    return blind_index(pf.key, to_text(normalised)) if pf.blind_index else None


def seal(instance, pf: ProtectedField, normalised, keys: KeyBag, subject_id) -> None:
    """Encrypt an already-normalised value into ``<name>_enc`` (and its blind index)."""
    text = to_text(normalised)
    table = instance._meta.db_table
    setattr(instance, pf.column, keys.encrypt(subject_id, table, pf.column, instance.pk, text))
    if pf.blind_index:
        setattr(instance, pf.index_column, index_value(pf, text))


def unseal(instance, pf: ProtectedField, keys: KeyBag) -> str | None:
    """The clear value; raises DecryptionError (KeyShredded when erased)."""
    return keys.decrypt(instance._meta.db_table, pf.column, instance.pk, getattr(instance, pf.column))


SHREDDED = "[erased]"
UNREADABLE = "[unreadable]"


def masked(instance, pf: ProtectedField, keys: KeyBag, kind: str | None = None) -> str:
    """The display form under the catalog's masking rule ("" when empty)."""
    if getattr(instance, pf.column) is None:
        return ""
    try:
        value = unseal(instance, pf, keys)
    except KeyShredded:
        return SHREDDED
    except DecryptionError:
        return UNREADABLE
    return masking.mask(pf.rule_for(kind), value)

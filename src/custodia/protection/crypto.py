"""Envelope encryption of protected fields (DESIGN.md "Data protection").

Field ciphertext layout (bytes)::

    version (1) = 0x01 | data-key id (16, UUID) | nonce (12) | AES-256-GCM(plaintext) with tag (16)

The associated data binds the ciphertext to its place: ``custodia/v1|<table>|<column>|<row id>``,
so a value copied to another row or column fails to decrypt. Data keys are wrapped with
AES-256-GCM under a KEK (associated data: data-key id and subject id); KEK rotation re-wraps data
keys and never touches field ciphertext. Shredding a data key makes every value under it
undecryptable, wherever a copy of the ciphertext lives.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone

from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey

VERSION = 1
_HEADER = 1 + 16 + 12


class DecryptionError(Exception):
    """The ciphertext is damaged, moved to another place, or its key is unknown."""


class KeyShredded(DecryptionError):
    """The subject's data key was destroyed (crypto-shred): the value is gone for good."""


def _field_ad(table: str, column: str, row_id) -> bytes:
    return f"custodia/v1|{table}|{column}|{row_id}".encode()


def _wrap_ad(dek_id: uuid.UUID, subject_id: uuid.UUID) -> bytes:
    return b"custodia-dek/v1|" + dek_id.bytes + subject_id.bytes


def wrap_dek(dek: bytes, dek_id: uuid.UUID, subject_id: uuid.UUID, kek: bytes | AESGCM) -> bytes:
    nonce = os.urandom(12)
    aead = kek if isinstance(kek, AESGCM) else AESGCM(kek)
    return nonce + aead.encrypt(nonce, dek, _wrap_ad(dek_id, subject_id))


def unwrap_dek(record: DataKey) -> bytes:
    if record.shredded_at is not None or not record.wrapped:
        raise KeyShredded(f"data key {record.id} was shredded")
    wrapped = bytes(record.wrapped)
    kek = get_keyring().kek(record.kek_id)
    try:
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], _wrap_ad(record.id, record.subject_id))
    except InvalidTag as exc:
        raise DecryptionError(f"data key {record.id} does not unwrap") from exc


class KeyBag:
    """Unwrapped data keys for a set of subjects, for one unit of work (a request, a batch).

    Never cached across requests: a shred takes effect at once in every process.
    """

    def __init__(self):
        self._by_subject: dict[uuid.UUID, tuple[uuid.UUID, AESGCM]] = {}
        self._by_dek: dict[uuid.UUID, AESGCM] = {}
        self._shredded: set[uuid.UUID] = set()

    @classmethod
    def load(cls, subject_ids: Iterable) -> KeyBag:
        bag = cls()
        bag.add_subjects(subject_ids)
        return bag

    def add_subjects(self, subject_ids: Iterable) -> None:
        wanted = {uuid.UUID(str(s)) for s in subject_ids} - set(self._by_subject)
        if not wanted:
            return
        for record in DataKey.objects.filter(subject_id__in=wanted):
            self._add(record)

    def _add(self, record: DataKey) -> None:
        try:
            aead = AESGCM(unwrap_dek(record))
        except KeyShredded:
            self._shredded.add(record.id)
            return
        self._by_subject[record.subject_id] = (record.id, aead)
        self._by_dek[record.id] = aead

    def ensure_subject(self, subject_id) -> None:
        """Get or create the data key of a subject (inside the caller's transaction)."""
        subject_id = uuid.UUID(str(subject_id))
        if subject_id in self._by_subject:
            return
        self.add_subjects([subject_id])
        if subject_id in self._by_subject:
            return
        if DataKey.objects.filter(subject_id=subject_id).exists():
            raise KeyShredded(f"subject {subject_id} was crypto-shredded")
        self._add(new_data_key(subject_id))

    def encrypt(self, subject_id, table: str, column: str, row_id, plaintext: str | None) -> bytes | None:
        if plaintext is None or plaintext == "":
            return None
        subject_id = uuid.UUID(str(subject_id))
        if subject_id not in self._by_subject:
            self.ensure_subject(subject_id)
        dek_id, aead = self._by_subject[subject_id]
        nonce = os.urandom(12)
        body = aead.encrypt(nonce, plaintext.encode("utf-8"), _field_ad(table, column, row_id))
        return bytes([VERSION]) + dek_id.bytes + nonce + body

    def decrypt(self, table: str, column: str, row_id, blob) -> str | None:
        if blob is None:
            return None
        blob = bytes(blob)
        if len(blob) < _HEADER + 16 or blob[0] != VERSION:
            raise DecryptionError("not a Custodia ciphertext")
        dek_id = uuid.UUID(bytes=blob[1:17])
        aead = self._by_dek.get(dek_id)
        if aead is None:
            if dek_id in self._shredded:
                raise KeyShredded(f"data key {dek_id} was shredded")
            record = DataKey.objects.filter(id=dek_id).first()
            if record is None:
                raise DecryptionError(f"unknown data key {dek_id}")
            self._add(record)
            aead = self._by_dek.get(dek_id)
            if aead is None:
                raise KeyShredded(f"data key {dek_id} was shredded")
        try:
            return aead.decrypt(blob[17:29], blob[29:], _field_ad(table, column, row_id)).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError(f"{table}.{column} of row {row_id} does not decrypt here") from exc


class SubjectSealer:
    """``KeyBag.encrypt`` under one subject's key in a tight loop (bulk writes): the same layout
    and associated data, the key looked up once, one system call for many nonces."""

    _NONCES = 16  # nonces drawn per system call

    def __init__(self, dek_id: uuid.UUID, aead: AESGCM):
        self.head = bytes([VERSION]) + dek_id.bytes
        self.aead = aead
        self.random, self.used = b"", 0

    def __call__(self, table: str, column: str, row_id, plaintext: str) -> bytes:
        if self.used + 12 > len(self.random):
            self.random, self.used = os.urandom(12 * self._NONCES), 0
        nonce = self.random[self.used:self.used + 12]
        self.used += 12
        return self.head + nonce + self.aead.encrypt(nonce, plaintext.encode("utf-8"),
                                                     _field_ad(table, column, row_id))


def fresh_key(subject_id: uuid.UUID, kek_id: str, wrapper: AESGCM) -> tuple[dict, SubjectSealer]:
    """A new data key for a new subject, not yet stored: the DataKey column values (the key
    wrapped under the KEK ``wrapper``) and a sealer under the key. The key itself never leaves."""
    dek_id = uuid.uuid4()
    dek = AESGCM.generate_key(bit_length=256)
    record = {"id": dek_id, "subject_id": subject_id, "kek_id": kek_id,
              "wrapped": wrap_dek(dek, dek_id, subject_id, wrapper)}
    return record, SubjectSealer(dek_id, AESGCM(dek))


def new_data_key(subject_id: uuid.UUID) -> DataKey:
    kid, kek = get_keyring().active_kek()
    dek_id = uuid.uuid4()
    dek = AESGCM.generate_key(bit_length=256)
    return DataKey.objects.create(
        id=dek_id, subject_id=subject_id, kek_id=kid, wrapped=wrap_dek(dek, dek_id, subject_id, kek)
    )


def new_data_keys(subject_ids: Iterable[uuid.UUID]) -> KeyBag:
    """Create data keys for many new subjects at once (bulk import); returns a bag holding them."""
    from custodia.kernel.bulk import BulkInserter

    kid, kek = get_keyring().active_kek()
    wrapper = AESGCM(kek)
    bag = KeyBag()
    rows = BulkInserter(DataKey)
    now = timezone.now()
    for subject_id in subject_ids:
        record, sealer = fresh_key(subject_id, kid, wrapper)
        rows.add(record | {"created_at": now})
        bag._by_subject[subject_id] = (record["id"], sealer.aead)
        bag._by_dek[record["id"]] = sealer.aead
    rows.flush()
    return bag


def rewrap_batch(batch_size: int = 500) -> int:
    """Re-wrap up to ``batch_size`` data keys not under the active KEK; returns how many.

    Each batch commits on its own, so an interrupted rotation resumes where it stopped.
    """
    kid, kek = get_keyring().active_kek()
    with transaction.atomic():
        records = list(
            DataKey.objects.select_for_update()
            .exclude(kek_id=kid)
            .filter(shredded_at__isnull=True)
            .order_by("id")[:batch_size]
        )
        for record in records:
            dek = unwrap_dek(record)
            record.wrapped = wrap_dek(dek, record.id, record.subject_id, kek)
            record.kek_id = kid
        DataKey.objects.bulk_update(records, ["wrapped", "kek_id"])
    return len(records)


def shred_subject(subject_id) -> bool:
    """Destroy a subject's data key. Returns False if it had none or was already shredded."""
    updated = DataKey.objects.filter(subject_id=subject_id, shredded_at__isnull=True).update(
        wrapped=b"", shredded_at=timezone.now()
    )
    return bool(updated)

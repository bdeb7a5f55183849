"""Signed tree heads: the signing key, the signature input, and publication to witness sinks.

The signature input is fixed in docs/audit-log.md. The key is an Ed25519 seed in the local keyring
(outside the database): a database administrator who rewrites the log cannot sign a new head, and
the heads already published to the witnesses (a file, syslog, a webhook) pin the old roots.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import struct
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction

from custodia.audit import sequencer
from custodia.audit.models import TreeHead
from custodia.kernel import sinks

log = logging.getLogger(__name__)
STH_PREFIX = b"CUSTODIA-STH-V1\x00"
BUNDLE_PREFIX = b"CUSTODIA-BUNDLE-V1\x00"


def sth_input(size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    return STH_PREFIX + struct.pack(">QQ", size, timestamp_ms) + bytes(root_hash)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8].hex()


def signing_key() -> Ed25519PrivateKey:
    from custodia.protection.keyring import get_keyring

    return Ed25519PrivateKey.from_private_bytes(get_keyring().audit_signing_seed())


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> bytes:
    return public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Key id -> public key of every key whose heads verify: the current one and any listed in
    ``CUSTODIA_AUDIT_TRUSTED_KEYS`` (base64 raw public keys of earlier signing keys)."""
    keys = [public_key()]
    for item in settings.CUSTODIA_AUDIT_TRUSTED_KEYS:
        keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(item)))
    return {key_id(k): k for k in keys}


@functools.lru_cache(maxsize=4)
def _range_key(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"custodia-pruned-range-v1").derive(seed)


def range_mac(start: int, end: int, event_id) -> bytes:
    """The MAC of a pruned leaf range (``PrunedRange.mac``), under a key derived from the signing
    seed: only the prune, holding the keyring, can mark leaves pruned."""
    from custodia.protection.keyring import get_keyring

    key = _range_key(get_keyring().audit_signing_seed())
    return hmac.new(key, f"{start}:{end}:{event_id}".encode(), "sha256").digest()


def sign_bundle(message: bytes) -> bytes:
    """Sign an evidence bundle's manifest message (it starts with the bundle prefix)."""
    if not message.startswith(BUNDLE_PREFIX):
        raise ValueError("not a bundle manifest message")
    return signing_key().sign(message)


def check_signature(head: TreeHead, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """None when the head's signature is valid under a trusted key, else what is wrong."""
    key = keys.get(head.key_id)
    if key is None:
        return f"signed by unknown key {head.key_id}"
    try:
        key.verify(bytes(head.signature), sth_input(head.size, head.timestamp_ms, bytes(head.root_hash)))
    except InvalidSignature:
        return "signature does not verify"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


def format_ms(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def head_json(head: TreeHead) -> dict:
    return {"key_id": head.key_id, "root_hash": _b64(head.root_hash), "signature": _b64(head.signature),
            "size": head.size, "time": format_ms(head.timestamp_ms), "timestamp": head.timestamp_ms}


def latest_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-id").first()


def sign_head(*, only_if_grown: bool = False) -> TreeHead | None:
    """Integrate pending events, then sign and store a head of the whole tree; published to the
    witnesses once committed. With ``only_if_grown``, no head when the tree has not grown since
    the last one."""
    sequencer.integrate()
    with transaction.atomic():
        state = sequencer.state_for_update()
        last = TreeHead.objects.order_by("-id").first()
        if only_if_grown and last is not None and last.size == state.size:
            return None
        now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        if last is not None:
            now_ms = max(now_ms, last.timestamp_ms)
        key = signing_key()
        head = TreeHead.objects.create(
            size=state.size, root_hash=bytes(state.root_hash), timestamp_ms=now_ms, key_id=key_id(key.public_key()),
            signature=key.sign(sth_input(state.size, now_ms, bytes(state.root_hash))))
        transaction.on_commit(lambda: publish(head))
    return head


# -- witnesses -----------------------------------------------------------------------------------

Witness = sinks.Sink


def witnesses() -> list[Witness]:
    """Parse ``CUSTODIA_AUDIT_WITNESSES``: file:/path, syslog (local), syslog:HOST:PORT, http(s)://URL."""
    return sinks.parse(settings.CUSTODIA_AUDIT_WITNESSES, "audit witness")


def publish(head: TreeHead) -> list[tuple[Witness, str | None]]:
    """Send the head to every witness; returns (witness, error or None). A failing witness is
    logged, never fatal: the head is stored, and the next head covers it."""
    line = json.dumps(head_json(head), sort_keys=True, separators=(",", ":"))
    results = []
    for witness in witnesses():
        try:
            _send(witness, line)
            results.append((witness, None))
        except Exception as exc:  # noqa: BLE001 - any failure of an outside sink is reported, not raised
            log.warning("audit witness %s %s failed: %s", witness.kind, witness.target, exc)
            results.append((witness, str(exc)))
    return results


def _send(witness: Witness, line: str) -> None:
    sinks.send(witness, line, tag="custodia-sth")


def last_published() -> dict | None:
    """The last head in the first file witness (what verification compares the log with)."""
    for witness in witnesses():
        if witness.kind == "file":
            path = Path(witness.target)
            if not path.exists():
                return None
            last = None
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        last = line
            return json.loads(last) if last else None
    return None

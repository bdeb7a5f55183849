"""Blind indexes: HMAC-SHA256 of a normalised value under a per-field key (HKDF from the index
master key), so exact search and duplicate detection work without decryption, and equal values
in different fields do not correlate."""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from custodia.protection.keyring import get_keyring

DIGEST_HEX = 32  # 128 bits: collisions are negligible at 10^7 customers


@functools.lru_cache(maxsize=64)
def _field_mac(master: bytes, index_name: str):
    """A keyed HMAC-SHA256 ready to copy: the per-field key derived once (HKDF)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"custodia-bidx/v1", info=index_name.encode()).derive(
        master
    )
    return hmac.new(key, digestmod=hashlib.sha256)


def indexer(index_name: str):
    """``blind_index`` for one field in a tight loop (bulk import): the key looked up once."""
    mac = _field_mac(get_keyring().index_master(), index_name)

    def index(normalised: str | None) -> str | None:
        if not normalised:
            return None
        own = mac.copy()
        own.update(normalised.encode("utf-8"))
        return own.hexdigest()[:DIGEST_HEX]

    return index


def blind_index(index_name: str, normalised: str | None) -> str | None:
    """Index value of an already-normalised value; ``index_name`` is the catalog's key."""
    if not normalised:
        return None
    mac = _field_mac(get_keyring().index_master(), index_name).copy()
    mac.update(normalised.encode("utf-8"))
    return mac.hexdigest()[:DIGEST_HEX]

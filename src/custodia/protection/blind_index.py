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
def _field_key(master: bytes, index_name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"custodia-bidx/v1", info=index_name.encode()).derive(
        master
    )


def blind_index(index_name: str, normalised: str | None) -> str | None:
    """Index value of an already-normalised value; ``index_name`` is the catalog's index name."""
    if not normalised:
        return None
    key = _field_key(get_keyring().index_master(), index_name)
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:DIGEST_HEX]

"""Sealing of MFA secrets (TOTP keys, recovery-code seeds) before allauth stores them.

AES-256-GCM under a key derived (HKDF-SHA256) from the keyring's index master key, which is never
rotated, so a KEK rotation never locks anyone out of their authenticator. A database dump alone
does not give an attacker anyone's second factor.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from custodia.protection.keyring import get_keyring

PREFIX = "cst1:"
ASSOCIATED_DATA = b"custodia/identity/mfa-secret"


@functools.lru_cache(maxsize=4)
def _aead(master: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"custodia mfa secrets v1").derive(master)
    return AESGCM(key)


def seal(text: str) -> str:
    nonce = os.urandom(12)
    blob = nonce + _aead(get_keyring().index_master()).encrypt(nonce, text.encode("utf-8"), ASSOCIATED_DATA)
    return PREFIX + base64.b64encode(blob).decode("ascii")


def unseal(value: str) -> str:
    if not value.startswith(PREFIX):
        raise ValueError("an MFA secret that was not sealed by Custodia")
    blob = base64.b64decode(value[len(PREFIX):])
    return _aead(get_keyring().index_master()).decrypt(blob[:12], blob[12:], ASSOCIATED_DATA).decode("utf-8")

"""The local keyring file: key-encryption keys (KEKs) and the blind-index master key.

The file lives outside the repository (path from ``settings.CUSTODIA_KEYRING_PATH``), is created
with mode 0600 on first use, and is replaced atomically on rotation. The index master key is kept
apart from the KEKs: rotating a KEK never changes blind indexes. A KMS-backed keyring implements
the same three methods (``active_kek``, ``kek``, ``index_master``).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

KEYRING_VERSION = 1


class KeyringError(Exception):
    pass


@dataclass(frozen=True)
class KekInfo:
    kid: str
    created: str
    state: str  # "active" or "retired"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _new_kid() -> str:
    return f"kek-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


class LocalKeyring:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._data: dict | None = None
        self._mtime: float | None = None
        self._lock = threading.Lock()
        self._checked = 0.0

    # -- loading -------------------------------------------------------------------------
    def _load(self) -> dict:
        now = time.monotonic()
        if self._data is not None and now - self._checked < 1.0:
            return self._data  # re-read the file's mtime at most once a second
        with self._lock:
            self._checked = now
            if not self.path.exists():
                self._create()
            mtime = self.path.stat().st_mtime
            if self._data is None or mtime != self._mtime:
                data = json.loads(self.path.read_text())
                if data.get("version") != KEYRING_VERSION:
                    raise KeyringError(f"unsupported keyring version in {self.path}")
                self._data, self._mtime = data, mtime
            return self._data

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kid = _new_kid()
        data = {
            "version": KEYRING_VERSION,
            "active_kek": kid,
            "keks": {kid: {"key": _b64(secrets.token_bytes(32)), "created": _now(), "state": "active"}},
            "index_master": _b64(secrets.token_bytes(32)),
        }
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process created it first
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)

    def _write(self, data: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._data, self._mtime = data, self.path.stat().st_mtime

    # -- the keyring interface ----------------------------------------------------------
    def active_kek(self) -> tuple[str, bytes]:
        data = self._load()
        kid = data["active_kek"]
        return kid, base64.b64decode(data["keks"][kid]["key"])

    def kek(self, kid: str) -> bytes:
        data = self._load()
        try:
            return base64.b64decode(data["keks"][kid]["key"])
        except KeyError:
            raise KeyringError(f"key-encryption key {kid!r} is not in the keyring") from None

    def index_master(self) -> bytes:
        return base64.b64decode(self._load()["index_master"])

    def keks(self) -> list[KekInfo]:
        data = self._load()
        return [KekInfo(kid, v["created"], v["state"]) for kid, v in data["keks"].items()]

    def add_kek(self) -> str:
        """Create a new active KEK; the old ones stay (retired) until nothing is wrapped by them."""
        self._load()
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text())
            for entry in data["keks"].values():
                entry["state"] = "retired"
            kid = _new_kid()
            while kid in data["keks"]:
                kid = _new_kid() + secrets.token_hex(1)
            data["keks"][kid] = {"key": _b64(secrets.token_bytes(32)), "created": _now(), "state": "active"}
            data["active_kek"] = kid
            self._write(data)
            self._checked = 0.0
        return kid

    def audit_signing_seed(self) -> bytes:
        """The 32-byte Ed25519 seed that signs audit tree heads (created on first use; kept apart
        from the KEKs, never rotated with them)."""
        data = self._load()
        if "audit_signing" not in data:
            with open(self.path.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                data = json.loads(self.path.read_text())
                if "audit_signing" not in data:
                    data["audit_signing"] = {"seed": _b64(secrets.token_bytes(32)), "created": _now()}
                    self._write(data)
                self._checked = 0.0
            data = self._load()
        return base64.b64decode(data["audit_signing"]["seed"])

    def remove_kek(self, kid: str) -> None:
        """Drop a retired KEK (only once no data key is wrapped by it)."""
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text())
            if data["active_kek"] == kid:
                raise KeyringError("the active key-encryption key cannot be removed")
            data["keks"].pop(kid, None)
            self._write(data)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_keyrings: dict[str, LocalKeyring] = {}


def get_keyring() -> LocalKeyring:
    path = str(settings.CUSTODIA_KEYRING_PATH)
    ring = _keyrings.get(path)
    if ring is None:
        ring = _keyrings[path] = LocalKeyring(path)
    return ring

"""The one place that reads the environment.

Every setting that can change between deployments is read here, with a safe default for a
developer's machine: SQLite under ``var/`` and a keyring file created on first run.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[3]


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def data_dir() -> Path:
    """Directory for the embedded database, keyring and job queue (never in git)."""
    path = Path(env_str("CUSTODIA_DATA_DIR", str(BASE_DIR / "var")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_config() -> dict:
    url = env_str("DATABASE_URL") or f"sqlite:///{data_dir() / 'custodia.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=env_int("CUSTODIA_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + NORMAL sync: durable across process crashes, one fsync per checkpoint. Checkpoints
        # every 10,000 pages (about 40 MB of WAL) rather than SQLite's 1,000: every request writes
        # an audit event, and the fsync of a checkpoint every hundred commits cost a sixth of the
        # write rate (bench/README.md, audit log).
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                            "PRAGMA wal_autocheckpoint=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # A file, not memory, for the test database: tests read its raw bytes (no plaintext at rest).
        # One file per test process, so parallel runs never share a test database.
        config["TEST"] = {"NAME": str(data_dir() / f"test-{os.getpid()}.sqlite3")}
    return config


def secret_key() -> str:
    """SECRET_KEY from the environment, else from the file CUSTODIA_SECRET_KEY_FILE names (a mounted
    secret; it must exist), else from a file in the data dir created on first run."""
    value = env_str("CUSTODIA_SECRET_KEY")
    if value:
        return value
    named = env_str("CUSTODIA_SECRET_KEY_FILE")
    if named:
        value = Path(named).read_text().strip()
        if not value:
            raise RuntimeError(f"CUSTODIA_SECRET_KEY_FILE {named} is empty")
        return value
    path = data_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()

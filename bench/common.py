"""Paths, environment and subprocess helpers shared by the benchmark scripts (no Django here).

Every Django-side step runs in its own interpreter (``tasks.py``) with its own
``CUSTODIA_DATA_DIR``, so the developer's ``var/`` is never touched and each database is fresh
or a copy of a cached one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"  # gitignored
PY = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
# Bump when the content of the cached benchmark databases changes meaning.
DB_VERSION = "1"
CUSTOMERS = 100_000
RESULT_MARK = "BENCH-RESULT "
DATA_FILES = ("custodia.sqlite3", "keyring.json", "secret_key")


def migrations_digest() -> str:
    """Digest of every migration file: a schema change invalidates the cached databases."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src" / "custodia").glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cache_key(customers: int) -> str:
    return f"v{DB_VERSION}-{customers}-{migrations_digest()}"


def bench_env(data_dir: Path, **extra: str) -> dict:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CUSTODIA_KEYRING", "CUSTODIA_DEBUG", "REDIS_URL", "CUSTODIA_ENV"):
        env.pop(name, None)
    env.update({
        "CUSTODIA_DATA_DIR": str(data_dir),
        "CUSTODIA_BENCH_PLAIN": "1",
        "DJANGO_SETTINGS_MODULE": "custodia.config.settings",
        "CUSTODIA_LOG_LEVEL": "WARNING",
        "PYTHONHASHSEED": "0",
    })
    env.update(extra)
    return env


def run_task(task: str, data_dir: Path, args: dict | None = None, *, timeout: float = 1800,
             quiet: bool = False, script: str = "tasks.py") -> dict:
    """Run ``SCRIPT TASK`` (default tasks.py) in a fresh interpreter; return the JSON it reports
    (killed after ``timeout``)."""
    cmd = [PY, str(BENCH / script), task, json.dumps(args or {})]
    proc = subprocess.Popen(cmd, env=bench_env(data_dir), cwd=REPO, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    result = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
            elif not quiet:
                print("    " + line.rstrip(), flush=True)
        code = proc.wait()
    finally:
        watchdog.cancel()
    if code != 0 or result is None:
        raise RuntimeError(f"task {task} failed (exit {code})")
    return result


def copy_data_dir(source: Path, target: Path) -> None:
    """A fresh copy of a cached data dir (database, keyring, secret key); WAL files never exist there."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in DATA_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)

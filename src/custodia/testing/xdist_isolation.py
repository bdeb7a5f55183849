"""Per-worker isolation when the suite runs in parallel (pytest-xdist, ``make test``).

Loaded with ``-p custodia.testing.xdist_isolation`` (pyproject's addopts), so this module runs
before Django reads its settings: each worker gets its own data directory (SQLite test
database, Huey's SQLite queue) and its own Redis database (job queue, login rate-limit cache), so
one worker's jobs or sign-in failures never reach another's tests. Test databases on PostgreSQL
are already per worker (pytest-django adds the worker id to their names). Nothing happens
outside xdist.
"""

from __future__ import annotations

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1" …
if _worker.startswith("gw"):
    _number = int(_worker[2:])
    _data = os.environ.get("CUSTODIA_DATA_DIR")
    if _data:
        os.environ["CUSTODIA_DATA_DIR"] = os.path.join(_data, _worker)
    _redis = os.environ.get("REDIS_URL")
    if _redis:
        _base, _, _db = _redis.rpartition("/")
        _db_number = int(_db) if _db.isdigit() else 0
        os.environ["REDIS_URL"] = f"{_base}/{(_db_number - _number) % 16}"  # 15, 14, … for gw0, gw1 …

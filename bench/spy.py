"""Where the gunicorn workers spend their time, from py-spy samples taken under load.

py-spy is a benchmark-only tool, not a project dependency: ``.venv/bin/pip install py-spy``.
Samples include idle and waiting threads (``--idle``), so time spent waiting for the SQLite write
lock shows up. Each worker sample is given to the FIRST step below that appears anywhere in its
stack (so a COUNT inside the selector counts as "paginator COUNT(*)", not as the selector), and is
marked "in SQLite" when its innermost Python frame is a call into the sqlite3 module.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from common import PY

STEPS = [
    ("BEGIN IMMEDIATE (waits for the write lock)", r"_start_transaction_under_autocommit"),
    ("COMMIT", r"\._commit \(|\bcommit \(django/db/backends"),
    ("connect (open + PRAGMAs)", r"BaseDatabaseWrapper\.connect \("),
    ("close connection", r"close_old_connections|BaseDatabaseWrapper\.close \("),
    ("token authentication", r"ApiTokenAuthentication\.|Request\._authenticate"),
    ("paginator COUNT(*)", r"Paginator\.count \("),
    ("audit_record (build + INSERT)", r"\baudit_record \("),
    ("KeyBag.load (DataKey query + unwrap)", r"KeyBag\.(load|add_subjects) \("),
    ("decrypt + mask (masked())", r"\bmasked \("),
    ("tags of the page", r"_tags_for \(|prefetch_related_objects \("),
    ("record counts (detail)", r"customer_get\.<locals>\.<dictcomp>|_record_counts \(|get_counts \("),
    ("scoped fetch / page query + ORM instances",
     r"get_for_action \(|customer_list \(|customer_get \(|paginate_queryset \(|get_object \("),
    ("serializer", r"to_representation \("),
    ("JSON render", r"JSONRenderer\.render \("),
    ("idle (waiting for a request)", r"SyncWorker\.wait \("),
]
SQLITE_LEAF = re.compile(r"^(SQLiteCursorWrapper\.execute(many)?|CursorWrapper\.(fetchmany|fetchone|fetchall))|"
                         r"\(sqlite3/|Connection\.(commit|execute)")
OTHER = "other request handling (Django, DRF, middleware, gunicorn)"


def available() -> str | None:
    path = Path(PY).with_name("py-spy")
    return str(path) if path.exists() else shutil.which("py-spy")


def start(master_pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen:
    """Record every gunicorn process (master + workers) for ``seconds``; raw collapsed stacks."""
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    cmd = [exe, "record", "--pid", str(master_pid), "--subprocesses", "--idle", "--nonblocking",
           "--duration", str(int(round(seconds))), "--rate", str(rate), "--format", "raw", "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


IMPORT_STEPS = [
    ("PII scan of notes", r"contains_pii \(|notes_contain_pii \("),
    ("audit events (build, seal before/after, INSERT)", r"EventRows\.row \(|\brow \(.*audit/services|audit_record_rows \(|\baudit_record \("),
    ("data keys (generate, wrap)", r"fresh_key \("),
    ("field encryption (AES-GCM)", r"SubjectSealer\.__call__ \(|__call__ \(.*protection/crypto|AESGCM\.encrypt"),
    ("blind indexes (HMAC)", r"\bindex \(.*blind_index|blind_index \("),
    ("validation: normalise_customer", r"normalise_customer \("),
    ("validation: fast mobile / ID number paths", r"fast_mobile \(|fast_identifier \("),
    ("validation: rest of validate_row", r"validate_row \("),
    ("owners + scope probe", r"owner_error \(|_would_be_in_scope \("),
    ("duplicate checks (blind-index lookups)", r"_existing \(|\baccept \("),
    ("scope re-check of written rows", r"_ensure_in_scope \("),
    ("COMMIT", r"\bcommit \(django/db/backends"),
    ("customer rows (build, INSERT, tags)", r"_prepare \(|\bwrite \(.*customers/importing"),
    ("read + decode the CSV", r"_read_csv \(|_read_xlsx \(|_decode \(|read_records \(|numbered \("),
    ("file SHA-256", r"file_sha256 \("),
    ("ANALYZE after the load (planner statistics)", r"database_optimize \("),
]


def breakdown(raw: Path, steps=None, within: str = "SyncWorker", idle: str = "idle (waiting for a request)",
              other: str = OTHER) -> dict:
    """Share of the samples (those whose stack contains ``within``) per step, in percent, with the
    part spent inside SQLite."""
    steps_found: Counter = Counter()
    in_sqlite: Counter = Counter()
    total = 0
    compiled = [(name, re.compile(pattern)) for name, pattern in (steps or STEPS)]
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if within not in stack or not count.isdigit():
            continue  # e.g. the gunicorn master (arbiter, control socket): not serving requests
        n = int(count)
        total += n
        step = next((name for name, rx in compiled if rx.search(stack)), other)
        steps_found[step] += n
        leaf = stack.rsplit(";", 1)[-1]
        if SQLITE_LEAF.search(leaf):
            in_sqlite[step] += n
    busy = total - steps_found.get(idle, 0)
    rows = [{"step": step, "pct_of_worker_time": round(100 * n / total, 1) if total else 0.0,
             "pct_of_busy_time": round(100 * n / busy, 1) if busy and step != idle else None,
             "in_sqlite_pct": round(100 * in_sqlite[step] / n, 0) if n else 0}
            for step, n in steps_found.most_common()]
    return {"samples": total, "steps": rows}


def record_command(cmd: list[str], out: Path, env: dict, cwd: Path, rate: int = 200) -> int:
    """Run ``cmd`` under py-spy (raw collapsed stacks to ``out``); returns its exit code."""
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    spy_cmd = [exe, "record", "--rate", str(rate), "--format", "raw", "-o", str(out), "--", *cmd]
    return subprocess.run(spy_cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=1800).returncode

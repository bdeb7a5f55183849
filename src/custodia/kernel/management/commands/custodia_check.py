"""`custodia check`: is this installation fit to run?

Django's system checks; the database is reachable and fully migrated; the keyring file exists,
is private (mode 0600), holds the active KEK and the index key, and a canary data key wraps,
unwraps and encrypts with it; every KEK a data key needs is in the keyring; every action recorded
in the audit log is in the closed event registry. Prints a PASS/FAIL table; exit 1 on any FAIL.
Needs: the console operator. Reads no customer data and writes nothing (except creating the
keyring of a fresh installation that has no data keys yet).
"""

from __future__ import annotations

import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from rich.table import Table
from rich.text import Text

from custodia.cli import HIDDEN_BASE_ARGUMENTS, console

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


@dataclass
class Result:
    name: str
    status: str
    detail: str


class Command(BaseCommand):
    help = "Check settings, database, migrations, keyring and audit registry; exit 1 on any failure."
    requires_system_checks = []  # run below, reported in the table instead of aborting
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def handle(self, *args, **opts):
        results = [_system_checks(), _database()]
        if results[-1].status == PASS:
            results.append(_migrations())
        results.extend(_keyring(database_ok=results[1].status == PASS))
        if results[1].status == PASS and results[2].status == PASS:
            results.append(_audit_registry())
            results.append(_audit_log())
        out = console()
        table = Table(title="custodia check")
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail")
        colours = {PASS: "green", WARN: "yellow", FAIL: "bold red"}
        for result in results:
            table.add_row(result.name, f"[{colours[result.status]}]{result.status}[/]", Text(result.detail))
        out.print(table)
        failed = [r.name for r in results if r.status == FAIL]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}.", returncode=1)
        out.print("[green]All checks passed.[/]")


def _system_checks() -> Result:
    try:
        messages = checks.run_checks(include_deployment_checks=not settings.DEBUG)
    except Exception as exc:  # a broken app registry or URLconf
        return Result("Django system checks", FAIL, f"{type(exc).__name__}: {exc}")
    serious = [m for m in messages if m.level >= checks.ERROR and not m.is_silenced()]
    warnings = [m for m in messages if checks.WARNING <= m.level < checks.ERROR and not m.is_silenced()]
    if serious:
        return Result("Django system checks", FAIL, "; ".join(f"{m.id}: {m.msg}" for m in serious[:5]))
    if warnings:
        return Result("Django system checks", WARN, "; ".join(f"{m.id}" for m in warnings[:8]))
    return Result("Django system checks", PASS, "no issues")


def _database() -> Result:
    connection = connections[DEFAULT_DB_ALIAS]
    name = str(connection.settings_dict.get("NAME") or "")
    where = f"{connection.vendor} {name}" if connection.vendor == "sqlite" else (
        f"{connection.vendor} {connection.settings_dict.get('HOST') or 'localhost'}/{name}")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Result("database reachable", FAIL, f"{where}: {type(exc).__name__}: {exc}")
    return Result("database reachable", PASS, where)


def _migrations() -> Result:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return Result("migrations applied", FAIL, f"{type(exc).__name__}: {exc}")
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:6])
        more = f" and {len(plan) - 6} more" if len(plan) > 6 else ""
        return Result("migrations applied", FAIL, f"{len(plan)} unapplied: {names}{more}; run 'custodia migrate'")
    return Result("migrations applied", PASS, "database schema is up to date")


def _keyring(*, database_ok: bool) -> list[Result]:
    from custodia.protection.keyring import get_keyring

    path = Path(settings.CUSTODIA_KEYRING_PATH)
    name = "keyring file"
    data_keys = _data_key_counts() if database_ok else None
    if not path.exists():
        if data_keys:
            return [Result(name, FAIL, f"{path} does not exist but {sum(data_keys.values())} data keys need it: "
                                       "restore the keyring file from its backup (do not create a new one)")]
        get_keyring().active_kek()  # first use: a fresh installation gets its keyring now
        created = " (created: fresh installation)"
    else:
        created = ""
    results = []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        results.append(Result(name, FAIL, f"{path} has mode {mode:04o}; run 'chmod 600 {path}'"))
    elif not os.access(path, os.R_OK):
        results.append(Result(name, FAIL, f"{path} is not readable by this user"))
    else:
        results.append(Result(name, PASS, f"{path}, mode {mode:04o}{created}"))
    results.append(_canary())
    if data_keys is not None:
        results.append(_keks_present(data_keys))
    return results


def _data_key_counts() -> dict[str, int]:
    from django.db.models import Count

    from custodia.protection.models import DataKey

    try:
        live = DataKey.objects.filter(shredded_at__isnull=True)
        return dict(live.values_list("kek_id").annotate(n=Count("id")).order_by())
    except Exception:
        return {}


def _canary() -> Result:
    """Wrap a temporary in-memory data key with the active KEK, unwrap it, encrypt and decrypt."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from custodia.protection.crypto import unwrap_dek, wrap_dek
    from custodia.protection.keyring import get_keyring
    from custodia.protection.models import DataKey

    name = "keyring canary"
    try:
        ring = get_keyring()
        kid, kek = ring.active_kek()
        if len(ring.index_master()) != 32:
            return Result(name, FAIL, "the blind-index master key is not 32 bytes")
        dek, dek_id, subject = AESGCM.generate_key(bit_length=256), uuid.uuid4(), uuid.uuid4()
        record = DataKey(id=dek_id, subject_id=subject, kek_id=kid, wrapped=wrap_dek(dek, dek_id, subject, kek))
        if unwrap_dek(record) != dek:
            return Result(name, FAIL, "a data key wrapped with the active KEK does not unwrap to itself")
        nonce, message = os.urandom(12), b"custodia canary"
        if AESGCM(dek).decrypt(nonce, AESGCM(dek).encrypt(nonce, message, b"check"), b"check") != message:
            return Result(name, FAIL, "AES-256-GCM round trip failed")
    except Exception as exc:
        return Result(name, FAIL, f"{type(exc).__name__}: {exc}")
    return Result(name, PASS, f"active KEK {kid} wraps and unwraps; AES-256-GCM works; index key present")


def _keks_present(counts: dict[str, int]) -> Result:
    from custodia.protection.keyring import get_keyring

    known = {info.kid for info in get_keyring().keks()}
    missing = {kid: n for kid, n in counts.items() if kid not in known}
    if missing:
        detail = ", ".join(f"{kid} ({n} data keys)" for kid, n in missing.items())
        return Result("KEKs for all data keys", FAIL, f"not in the keyring: {detail}")
    return Result("KEKs for all data keys", PASS, f"{sum(counts.values())} live data keys; every KEK they need is in the keyring")


def _audit_registry() -> Result:
    from custodia.audit.models import AuditEvent
    from custodia.audit.registry import registry

    name = "audit registry closed"
    try:
        recorded = set(AuditEvent.objects.values_list("event_type", "action").distinct().order_by())
    except Exception as exc:
        return Result(name, FAIL, f"{type(exc).__name__}: {exc}")
    unknown = []
    for event_type, action in sorted(recorded):
        try:
            registered = registry.by_id(event_type)
        except KeyError:
            registered = None
        if registered is None or registered.api_name != action:
            unknown.append(f"{event_type}/{action}")
    if unknown:
        return Result(name, FAIL, f"recorded actions not in the registry: {', '.join(unknown[:8])}")
    return Result(name, PASS, f"{len(registry.all())} registered events; all {len(recorded)} recorded kinds known")


def _audit_log() -> Result:
    """The Merkle log's state: integrated size, pending events, the last signed head's age, the
    witnesses (a full recomputation is `custodia audit verify`)."""
    import datetime as dt

    from custodia.audit import heads, sequencer

    name = "audit log signed"
    try:
        state = sequencer.log_state()
        head = heads.latest_head()
        pending = sequencer.pending_count(state.last_seq)
        witnesses = heads.witnesses()
    except Exception as exc:
        return Result(name, FAIL, f"{type(exc).__name__}: {exc}")
    where = ", ".join(f"{w.kind}:{w.target}" if w.target else w.kind for w in witnesses) or "none"
    if head is None:
        return Result(name, WARN, f"no signed tree head yet ({state.size} leaves, {pending} pending); "
                                  f"the worker signs one within minutes, or run 'custodia audit sign'")
    age = dt.datetime.now(dt.UTC).timestamp() - head.timestamp_ms / 1000
    detail = (f"{state.size:,} leaves, {pending:,} pending; last head size {head.size:,}, "
              f"{age / 60:.0f} min ago; witnesses: {where}")
    return Result(name, WARN if age > 2 * 86400 or not witnesses else PASS, detail)


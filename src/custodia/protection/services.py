"""Key management: the state of the keyring and the rotation of the key-encryption key (KEK).

Rotation adds a new active KEK and re-wraps every data key under it in committed batches; field
ciphertext is never touched. A rotation that was interrupted (some live data keys are still
under a retired KEK) is resumed by the next call instead of starting another one. Retired KEKs
stay in the keyring: backups taken before the rotation still need them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.protection import events
from custodia.protection.crypto import rewrap_batch
from custodia.protection.keyring import KeyringError, get_keyring
from custodia.protection.models import DataKey

Progress = Callable[[str, int, int | None], None]
KEY_ADMIN_ROLES = frozenset({"system", "admin", "secadmin"})


def keyring_required() -> None:
    """Refuse to go on when the keyring file is missing but data keys exist: using the keyring
    would silently create a new, empty one (a wrong CUSTODIA_KEYRING path, a lost volume) and
    new data would be sealed under keys that have nothing to do with the existing data."""
    path = Path(settings.CUSTODIA_KEYRING_PATH)
    if not path.exists() and DataKey.objects.exists():
        raise KeyringError(_("The keyring file %(path)s is missing but data keys exist: restore it from its "
                             "backup (do not let a new one be created).") % {"path": path})


def _require_key_admin(actor: Actor) -> None:
    if actor.role not in KEY_ADMIN_ROLES:
        raise PermissionDenied(_("Only the console operator or a security administrator manages keys."))


def keys_status(*, actor: Actor) -> dict:
    """The keyring and the data keys each KEK wraps. Callers: console operator, security admin.
    Audits KEYS_STATUS_VIEWED. Never returns key material."""
    _require_key_admin(actor)
    keyring_required()
    ring = get_keyring()
    active, _key = ring.active_kek()
    with transaction.atomic():
        live = DataKey.objects.filter(shredded_at__isnull=True)
        counts = dict(live.values_list("kek_id").annotate(n=Count("id")).order_by())
        shredded = DataKey.objects.filter(shredded_at__isnull=False).count()
        keks = [{"kid": info.kid, "created": info.created, "state": info.state, "data_keys": counts.pop(info.kid, 0)}
                for info in ring.keks()]
        try:
            index_key = len(ring.index_master()) == 32
        except (KeyError, ValueError, KeyringError):
            index_key = False
        status = {
            "keyring": str(ring.path), "active_kek": active, "keks": keks,
            "data_keys": sum(k["data_keys"] for k in keks) + sum(counts.values()),
            "missing_keks": counts,  # data keys wrapped by a KEK the keyring no longer has
            "shredded": shredded, "index_key": index_key,
            "rotation_pending": sum(k["data_keys"] for k in keks if k["kid"] != active) + sum(counts.values()),
        }
        audit_record(actor=actor, event=events.KEYS_STATUS_VIEWED, target_type="keyring",
                     detail={"active_kek": active, "keks": len(keks)})
    return status


def kek_rotate(*, actor: Actor, batch_size: int = 500, progress: Progress | None = None) -> dict:
    """Rotate the KEK: add a new one and re-wrap every live data key under it, batch by batch
    (each batch commits). Resumes an interrupted rotation instead of adding another KEK.
    Callers: console operator, security admin. Audits KEK_ROTATED when every key is re-wrapped."""
    _require_key_admin(actor)
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    keyring_required()
    ring = get_keyring()
    active, _key = ring.active_kek()
    live = DataKey.objects.filter(shredded_at__isnull=True)
    resumed = live.exclude(kek_id=active).exists()
    if resumed:
        new = active
    else:
        new = ring.add_kek()
    old = sorted(set(live.exclude(kek_id=new).values_list("kek_id", flat=True).distinct()) - {new})
    if not resumed:
        old = sorted(set(old) | {active})
    total = live.exclude(kek_id=new).count()
    done = 0
    if progress:
        progress("re-wrap", 0, total)
    while True:
        count = rewrap_batch(batch_size)
        if count == 0:
            break
        done += count
        if progress:
            progress("re-wrap", done, max(total, done))
    with transaction.atomic():
        audit_record(actor=actor, event=events.KEK_ROTATED, target_type="keyring",
                     detail={"old_kek": old, "new_kek": new, "rewrapped": done, "resumed": resumed})
    return {"old_keks": old, "new_kek": new, "rewrapped": done, "resumed": resumed,
            "retired_keks": [info.kid for info in ring.keks() if info.state != "active"]}

"""Export of customers to CSV or XLSX (``custodia export customers``).

Rows come from ``Customer.objects.restrict(actor, "export")``, in chunks (id order), decrypted with one key
bag per chunk. Protected fields are masked by the field catalog's rules (and individuals' names
with the "name" rule) unless the export is unmasked, which needs the reveal permission for the
level of every exported field and a stated purpose. Every cell that a spreadsheet could take for
a formula is prefixed with a single quote (OWASP "CSV injection"). The file carries a first line
(CSV comment, or the first row of the sheet) with the export id, the exporter and the time.

The file is written to a temporary name next to the target, hashed, and recorded: an Export row
with exactly the exported customer ids and the file's SHA-256 and a CUSTOMERS_EXPORTED audit event
in one transaction; only after that commits is the file renamed into place. A crash leaves at
most an unclaimed ``.partial`` file, never a half-written file claimed as an export.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from custodia.access.policy import allows, may_reveal
from custodia.audit.services import audit_record
from custodia.customers import events
from custodia.customers.models import Customer, Export
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied
from custodia.kernel.files import file_sha256
from custodia.protection import catalog, masking, pii
from custodia.protection.crypto import DecryptionError, KeyBag, KeyShredded
from custodia.protection.fields import SHREDDED, UNREADABLE, masked, unseal

Progress = Callable[[str, int, int | None], None]

FORMATS = ("csv", "xlsx")
CHUNK = 2000
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAIN_COLUMNS = ("id", "kind", "name", "tier", "stage", "source", "owner", "team", "tags")
PROTECTED = catalog.for_model("customer")
COLUMNS = (*PLAIN_COLUMNS, *(pf.name for pf in PROTECTED), "created_at")
# Leading characters a spreadsheet may read as the start of a formula (with their full-width forms).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def escape_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would evaluate: prefix it with a single quote."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def customers_export(
    *, actor: Actor, out, fmt: str = "csv", masked: bool = True, purpose: str = "", purpose_text: str = "",
    tier: str = "", stage: str = "", kind: str = "", owner: str = "", team: str = "", tag: str = "",
    overwrite: bool = False, progress: Progress | None = None, request_id=None,
) -> Export:
    """Write the actor's exportable customers to ``out`` and record the export.

    Callers: anyone with the ``export`` action (rows limited to their scope); unmasked exports
    need reveal permission for every exported field's level (L4 for ID and bank account) and a
    purpose from ``settings.CUSTODIA_PURPOSES`` ("other" needs ``purpose_text``). Audits
    CUSTOMERS_EXPORTED with the exported ids, in the transaction that records the Export row.

    Maker-checker (approvals.services.export_gate): a person's unmasked export, or one above their
    role's ``export_row_limit``, needs ``request_id``, an approved request bound to these exact
    parameters (masked or not, filters, at most its row count), used up in the same transaction.
    With an approved request, its purpose is the export's unless another is given.
    """
    from custodia.approvals.services import ApprovalRequired, export_gate, request_use

    if fmt not in FORMATS:
        raise ValidationError({"format": [_("Choose csv or xlsx.")]})
    if not allows(actor, "export"):
        raise PermissionDenied(_("Your role may not export customers."))
    filters = {"tier": tier, "stage": stage, "kind": kind, "owner": owner, "team": team, "tag": tag}
    if request_id is None and (purpose or not masked):
        _purpose(purpose, purpose_text)  # field errors first
    if not masked and request_id is None:
        denied = sorted({str(pf.level_label) for pf in PROTECTED if not may_reveal(actor, pf.level)})
        if denied and actor.user is not None:
            raise ApprovalRequired(_("Your role may not export %(levels)s fields unmasked: an unmasked export "
                                     "needs an approved request.") % {"levels": ", ".join(denied)}, why="unmasked")
        if denied:
            raise PermissionDenied(_("Your role may not export %(levels)s fields unmasked.")
                                   % {"levels": ", ".join(denied)})
    qs = _queryset(actor, **filters)
    approval = export_gate(actor=actor, masked=masked, filters=filters, rows=qs.count(), request_id=request_id)
    if approval is not None and not purpose:
        purpose, purpose_text = approval.purpose, approval.purpose_text
    purpose_label = _purpose(purpose, purpose_text) if (purpose or not masked) else ""
    target = Path(out)
    if target.exists() and not overwrite:
        raise ValidationError({"out": [_("%(path)s exists already; choose another name.") % {"path": target}]})
    if not target.parent.is_dir():
        raise ValidationError({"out": [_("No such directory: %(path)s") % {"path": target.parent}]})
    export = Export(id=uuid.uuid4(), actor_id=actor.user_id, actor_label=actor.label, created_at=timezone.now(),
                    format=fmt, masked=masked, purpose=purpose_label)
    partial = target.with_name(f".{target.name}.{export.id.hex[:8]}.partial")
    try:
        rows = _rows(qs, masked, progress)
        meta = _metadata(export)
        ids = _write_csv(partial, meta, rows) if fmt == "csv" else _write_xlsx(partial, meta, rows)
        export.customer_ids = [str(i) for i in ids]
        export.row_count = len(ids)
        export.file_sha256 = file_sha256(partial)
        with transaction.atomic():
            if approval is not None:
                request_use(actor=actor, request_id=approval.pk, masked=masked, filters=filters, rows=len(ids),
                            export_id=export.id)
            export.save(force_insert=True)
            audit_record(
                actor=actor, event=events.CUSTOMERS_EXPORTED, target_type="export", target_id=export.id,
                object_ids=ids, fields=[pf.name for pf in PROTECTED], purpose=purpose_label,
                detail={"export": str(export.id), "masked": masked, "file_sha256": export.file_sha256,
                        "format": fmt, "rows": len(ids)} | ({"access_request": str(approval.pk)} if approval else {}),
            )
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return export


def _purpose(code: str, text: str) -> str:
    purposes = dict(settings.CUSTODIA_PURPOSES)
    if code not in purposes:
        raise ValidationError({"purpose": [
            _("An unmasked export needs a purpose, one of: %(codes)s.") % {"codes": ", ".join(purposes)}]})
    text = (text or "").strip()
    if code == "other" and len(text) < 4:
        raise ValidationError({"purpose_text": [_("Explain the purpose (at least 4 characters).")]})
    if len(text) > 200:
        raise ValidationError({"purpose_text": [_("Ensure this value has at most 200 characters.")]})
    return f"{code}: {pii.mask_pii_in_text(text)}" if text else code


def _queryset(actor: Actor, **filters):
    qs = Customer.objects.restrict(actor, "export")
    lookups = {"tier": "tier", "stage": "stage", "kind": "kind", "owner": "owner__username", "team": "team__code",
               "tag": "tags__name"}
    for name, value in filters.items():
        if value:
            qs = qs.filter(**{lookups[name]: value})
    if filters.get("tag"):
        qs = qs.distinct()
    columns = ("id", "kind", "name", "tier", "stage", "source", "created_at", "owner__username", "team__name",
               *(pf.column for pf in PROTECTED))
    return qs.select_related("owner", "team").only(*columns).order_by("pk")


def _chunks(qs) -> Iterator[list[Customer]]:
    """Keyset pagination on the primary key: each chunk is one indexed range query."""
    last = None
    while True:
        chunk = list((qs if last is None else qs.filter(pk__gt=last))[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _rows(qs, masked_export: bool, progress: Progress | None) -> Iterator[tuple[uuid.UUID, list[str]]]:
    total = qs.count()
    done = 0
    through = Customer.tags.through
    for chunk in _chunks(qs):
        ids = [c.id for c in chunk]
        keys = KeyBag.load(ids)
        tags: dict = {}
        for cid, name in through.objects.filter(customer_id__in=ids).values_list("customer_id", "tag__name"):
            tags.setdefault(cid, []).append(name)
        for c in chunk:
            name = masking.mask("name", c.name) if masked_export and c.kind == "individual" else c.name
            cells = [str(c.id), c.kind, name, c.tier, c.stage, c.source, c.owner.username, c.team.name,
                     ",".join(sorted(tags.get(c.id, [])))]
            for pf in PROTECTED:
                cells.append(masked(c, pf, keys, c.kind) if masked_export else _clear(c, pf, keys))
            cells.append(timezone.localtime(c.created_at, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"))
            yield c.id, [escape_cell(cell) for cell in cells]
        done += len(chunk)
        if progress:
            progress("export", done, total)


def _clear(customer: Customer, pf, keys: KeyBag) -> str:
    try:
        return unseal(customer, pf, keys) or ""
    except KeyShredded:
        return SHREDDED
    except DecryptionError:
        return UNREADABLE


def _metadata(export: Export) -> str:
    when = timezone.localtime(export.created_at, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S (Asia/Shanghai)")
    mode = "masked" if export.masked else f"UNMASKED, purpose: {export.purpose}"
    return f"Custodia export {export.id} by {export.actor_label} at {when} ({mode})"


def _write_csv(path: Path, meta: str, rows) -> list[uuid.UUID]:
    ids = []
    with _private_file(path, "w", newline="", encoding="utf-8-sig") as fh:
        fh.write(f"# {meta}\r\n")
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for cid, cells in rows:
            writer.writerow(cells)
            ids.append(cid)
        fh.flush()
        os.fsync(fh.fileno())
    return ids


def _write_xlsx(path: Path, meta: str, rows) -> list[uuid.UUID]:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    book.properties.title = meta
    book.properties.creator = "Custodia"
    sheet = book.create_sheet("customers")
    sheet.append([meta])
    sheet.append(list(COLUMNS))
    ids = []
    for cid, cells in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in cells])
        ids.append(cid)
    with _private_file(path, "wb") as fh:
        book.save(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return ids


def _private_file(path: Path, mode: str, **kwargs):
    """Open a new file readable by its owner only (an export holds personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, mode, **kwargs)



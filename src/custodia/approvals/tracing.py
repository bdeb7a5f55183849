"""Export tracing (issue 3 item 5): from a leaked file's bytes (CSV or XLSX) or an export id to
the Export record: who, when, masked or not, purpose, rows, the approval it used, and the
customers in it as far as the tracer's own scope shows them.

How a file is recognised: the export id in its metadata line (CSV: the first line, a comment;
XLSX: the first row and the document title), else the SHA-256 of the whole file (an untouched
file). Callers: a person whose role both reads the audit log and views customers (compliance;
an administrator), or the console operator. Audits EXPORT_TRACED, also when nothing is found.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from custodia.access.policy import allows
from custodia.approvals import events
from custodia.approvals.models import AccessRequest
from custodia.audit.services import audit_record
from custodia.kernel.actor import Actor
from custodia.kernel.errors import PermissionDenied

EXPORT_ID = re.compile(r"Custodia export ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
MAX_FILE = 200 * 1024 * 1024
SHOWN = 500  # customers listed on the page (the count is always complete)
CHUNK = 500


@dataclass
class Trace:
    export: object | None  # customers.Export
    found_by: str  # id | file | hash | "" (nothing found)
    file_sha256: str = ""
    file_matches: bool | None = None  # the uploaded file is byte-for-byte the exported one
    approval: AccessRequest | None = None
    visible: list = field(default_factory=list)  # customers in the export the tracer may view
    hidden: int = 0  # customers in the export outside the tracer's scope (or deleted)


def may_trace(actor: Actor) -> bool:
    return allows(actor, "read_audit") and allows(actor, "view")


def export_id_in(data: bytes) -> uuid.UUID | None:
    """The export id written in a Custodia export file (CSV or XLSX), None when there is none."""
    if data[:2] == b"PK":
        text = _xlsx_head(data)
    else:
        text = data[:4096].decode("utf-8", errors="ignore")
        if not EXPORT_ID.search(text):
            text = data[:4096].decode("gb18030", errors="ignore")  # re-saved by a Chinese Excel
    match = EXPORT_ID.search(text or "")
    return uuid.UUID(match.group(1)) if match else None


def _xlsx_head(data: bytes) -> str:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except Exception:  # not a workbook: nothing to read
        return ""
    parts = [book.properties.title or ""]
    for sheet in book.worksheets[:3]:
        for row in sheet.iter_rows(min_row=1, max_row=2, values_only=True):
            parts.extend(str(v) for v in row if v)
    book.close()
    return "\n".join(parts)


def export_trace(*, actor: Actor, data: bytes | None = None, export_id: str = "") -> Trace:
    """Find the export of a file (``data``) or an id. PermissionDenied unless ``may_trace``."""
    from custodia.customers.models import Customer, Export

    if not may_trace(actor):
        raise PermissionDenied(_("Only compliance can trace exports."))
    if data is not None and len(data) > MAX_FILE:
        raise PermissionDenied(_("The file is too large to trace."))
    digest = hashlib.sha256(data).hexdigest() if data is not None else ""
    found_by, export = "", None
    wanted = _as_uuid(export_id) if export_id else (export_id_in(data) if data is not None else None)
    if wanted is not None:
        export = Export.objects.filter(pk=wanted).first()
        found_by = "id" if export_id else "file"
    if export is None and digest:
        export = Export.objects.filter(file_sha256=digest).first()
        found_by = "hash" if export else ""
    trace = Trace(export=export, found_by=found_by if export else "", file_sha256=digest)
    if export is not None:
        trace.file_matches = (digest == export.file_sha256) if digest else None
        trace.approval = AccessRequest.objects.filter(export_id=export.pk).select_related("decided_by").first()
        ids = [uuid.UUID(i) for i in export.customer_ids]
        visible, seen = [], 0
        for start in range(0, len(ids), CHUNK):  # bounded IN lists (SQLite's parameter limit)
            rows = Customer.objects.restrict(actor, "view").filter(pk__in=ids[start:start + CHUNK])
            if len(visible) < SHOWN:
                found = list(rows.only("id", "name", "kind", "tier"))
                visible += found
                seen += len(found)
            else:
                seen += rows.count()
        trace.visible = sorted(visible, key=lambda c: c.name)[:SHOWN]
        trace.hidden = len(ids) - seen
    with transaction.atomic():
        audit_record(actor=actor, event=events.EXPORT_TRACED, target_type="export",
                     target_id=export.pk if export else None, outcome="success" if export else "not_found",
                     detail={"found_by": trace.found_by, "file_sha256": digest,
                             "export": str(export.pk) if export else (str(wanted) if wanted else "")})
    return trace


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None

"""`custodia export trace FILE` (or `--id EXPORT_ID`): which export a (leaked) file came from.

Needs: the console operator or a person (``--actor``) whose role reads the audit log and views
customers (compliance). Audited (EXPORT_TRACED) by the service, also when nothing is found.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from custodia.approvals.tracing import export_trace
from custodia.cli import HIDDEN_BASE_ARGUMENTS, add_actor_argument, console, escape, resolve_actor
from custodia.kernel.errors import PermissionDenied


class Command(BaseCommand):
    help = "Trace an export file (CSV or XLSX) or an export id to its export: who, when, masked?, which customers."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", metavar="FILE", help="the exported file")
        parser.add_argument("--id", default="", metavar="EXPORT_ID", help="an export id instead of a file")
        add_actor_argument(parser)

    def handle(self, *args, **opts):
        out = console()
        if not opts["file"] and not opts["id"]:
            raise CommandError("Give a FILE or --id EXPORT_ID.", returncode=2)
        actor = resolve_actor(opts["actor"], out)
        data = None
        if opts["file"]:
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"No such file: {path}", returncode=1)
            data = path.read_bytes()
        try:
            trace = export_trace(actor=actor, data=data, export_id=opts["id"])
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=1) from exc
        export = trace.export
        if export is None:
            raise CommandError("No export found for this file or id (the attempt is recorded).", returncode=1)
        when = timezone.localtime(export.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        out.print(f"Export {export.id} by [bold]{escape(export.actor_label)}[/] at {when}")
        out.print(f"  format {export.format}, {'masked' if export.masked else '[bold red]UNMASKED[/]'}, "
                  f"purpose: {escape(export.purpose or '-')}, {export.row_count} customers, sha256 {export.file_sha256}")
        out.print(f"  found by: {trace.found_by}; the file is "
                  + ("byte-for-byte the exported one." if trace.file_matches
                     else "not identical to the exported one (edited or re-saved)." if trace.file_matches is False
                     else "not given."))
        if trace.approval:
            decided = trace.approval.decided_by.username if trace.approval.decided_by else "-"
            out.print(f"  approved request {trace.approval.id}, decided by {escape(decided)}")
        for customer in trace.visible:
            out.print(f"  {customer.id}  {escape(customer.name)}  {customer.tier}")
        if trace.hidden:
            out.print(f"  … and {trace.hidden} customers outside your scope.")

"""`custodia import customers FILE`: all-or-nothing import of a CSV or XLSX file.

Needs: the ``add`` action on customers for the acting person (``--actor``), within their scope;
the console operator (system actor) may import for any owner. Audited by the service.
"""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError
from rich.table import Table
from rich.text import Text

from custodia.cli import (
    HIDDEN_BASE_ARGUMENTS,
    add_actor_argument,
    console,
    escape,
    progress_bar,
    resolve_actor,
)
from custodia.customers.importing import FIELDS, HEADER_ALIASES, ImportRefused, customers_import, report_json
from custodia.kernel.errors import PermissionDenied
from custodia.protection.keyring import KeyringError

SHOWN_ERRORS = 200


class Command(BaseCommand):
    help = ("Import customers from a CSV (UTF-8 or GB18030) or XLSX file. Columns: " + ", ".join(FIELDS)
            + " (or " + "/".join(HEADER_ALIASES) + "). Nothing is written when any row is invalid, "
            "unless --skip-invalid.")
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or XLSX file; the first row names the columns")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid rows and report the invalid ones (default: reject the file)")
        parser.add_argument("--owner", metavar="USERNAME", help="owner of rows whose owner cell is empty")
        parser.add_argument("--force", action="store_true", help="import a file that was imported before")
        parser.add_argument("--errors", metavar="CSV", help="also write every row error to this CSV file")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--workers", type=int, metavar="N",
                            help="processes that validate and encrypt rows (default: one per CPU; 0: none)")
        add_actor_argument(parser)

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(opts["actor"], out)
        try:
            with progress_bar(out, transient=True) as progress:
                report = customers_import(actor=actor, path=opts["file"], skip_invalid=opts["skip_invalid"],
                                          owner=opts["owner"], force=opts["force"], progress=progress,
                                          workers=opts["workers"])
        except (ImportRefused, PermissionDenied, KeyringError) as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if opts["errors"]:
            with open(opts["errors"], "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(["row", "field", "message"])
                writer.writerows([e.row, e.field, e.message] for e in report.errors)
        if opts["json"]:
            self.stdout.write(report_json(report))
        else:
            self._show(out, report)
        if report.errors and not report.written:
            raise CommandError(
                f"Import rejected: {report.rows_rejected} of {report.rows_total} rows are invalid; nothing was "
                f"written. Fix the rows above, or use --skip-invalid to import only the valid rows.", returncode=1)

    def _show(self, out, report) -> None:
        if report.errors:
            table = Table(title=Text(f"Invalid rows in {report.filename}"))
            table.add_column("row", justify="right")
            table.add_column("field")
            table.add_column("reason")
            for error in report.errors[:SHOWN_ERRORS]:
                table.add_row(str(error.row), Text(error.field), Text(error.message))
            out.print(table)
            if len(report.errors) > SHOWN_ERRORS:
                out.print(f"… and {len(report.errors) - SHOWN_ERRORS} more errors (use --errors FILE for all).")
        if report.written:
            out.print(
                f"[green]Imported {report.rows_imported} of {report.rows_total} rows[/] from {escape(report.filename)} "
                f"as batch {report.batch_id} (sha256 {report.file_sha256[:16]}…); "
                f"{report.rows_rejected} rows skipped. {report.seconds:.1f} s, "
                f"{report.rows_per_second:,.0f} rows/s."
            )
        elif not report.errors:
            out.print(f"No rows to import in {escape(report.filename)}.")

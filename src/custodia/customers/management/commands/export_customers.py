"""`custodia export customers`: masked by default; unmasked with reveal permission and a purpose.

Needs: the ``export`` action for the acting person (``--actor``), rows limited to their scope;
unmasked exports need reveal permission for every exported field's level. Audited by the service.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from custodia.approvals.services import ApprovalRequired, request_create
from custodia.cli import (
    HIDDEN_BASE_ARGUMENTS,
    add_actor_argument,
    console,
    escape,
    progress_bar,
    resolve_actor,
)
from custodia.customers.exporting import FORMATS, SHANGHAI, customers_export
from custodia.kernel.errors import NotFound, PermissionDenied


class Command(BaseCommand):
    help = ("Export customers to CSV or XLSX. Protected fields are masked unless --unmasked (which needs "
            "reveal permission for every field and --purpose). Formula-like cells are escaped.")
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("--out", metavar="FILE",
                            help="file to write (default: customers-<time>.<format> in the current directory)")
        parser.add_argument("--format", choices=FORMATS, default=None, help="csv (default) or xlsx; "
                            "taken from the --out suffix when omitted")
        parser.add_argument("--unmasked", action="store_true", help="export protected fields in clear")
        purposes = ", ".join(code for code, _label in settings.CUSTODIA_PURPOSES)
        parser.add_argument("--purpose", default="", help=f"why (needed with --unmasked): one of {purposes}")
        parser.add_argument("--purpose-text", default="", help="explanation (needed with --purpose other)")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
        parser.add_argument("--request", default=None, metavar="ID",
                            help="use this approved request (unmasked, or above your role's row limit; once)")
        parser.add_argument("--request-approval", action="store_true",
                            help="do not export: ask for approval of an export with exactly these options")
        for name in ("tier", "stage", "kind"):
            parser.add_argument(f"--{name}", default="", help=f"only customers of this {name}")
        parser.add_argument("--owner", default="", metavar="USERNAME", help="only customers of this owner")
        parser.add_argument("--team", default="", metavar="CODE", help="only customers of this team")
        parser.add_argument("--tag", default="", help="only customers with this tag")
        add_actor_argument(parser)

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(opts["actor"], out)
        fmt = opts["format"] or ("xlsx" if (opts["out"] or "").lower().endswith(".xlsx") else "csv")
        path = opts["out"] or f"customers-{timezone.localtime(timezone.now(), SHANGHAI):%Y%m%d-%H%M%S}.{fmt}"
        if opts["request_approval"]:
            return self._request(out, actor, opts)
        try:
            with progress_bar(out, transient=True) as progress:
                export = customers_export(
                    actor=actor, out=path, fmt=fmt, masked=not opts["unmasked"], purpose=opts["purpose"],
                    purpose_text=opts["purpose_text"], tier=opts["tier"], stage=opts["stage"], kind=opts["kind"],
                    owner=opts["owner"], team=opts["team"], tag=opts["tag"], overwrite=opts["overwrite"],
                    progress=progress, request_id=opts["request"],
                )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
                               returncode=1) from exc
        except ApprovalRequired as exc:
            raise CommandError(f"{exc} Ask with --request-approval (same options), then export with --request ID.",
                               returncode=1) from exc
        except (PermissionDenied, NotFound) as exc:
            raise CommandError(str(exc), returncode=1) from exc
        mode = "masked" if export.masked else "[bold red]UNMASKED[/]"
        out.print(f"Exported {export.row_count} customers ({mode}) to {escape(path)} as export {export.id}; "
                  f"sha256 {export.file_sha256}.")
        if not export.masked:
            out.print("[yellow]The file holds personal information in clear: keep it encrypted, share it only "
                      "for the stated purpose, and delete it when done.[/]")

    def _request(self, out, actor, opts) -> None:
        """Ask for approval of an export with exactly these options (masked or not, filters)."""
        try:
            req = request_create(actor=actor, kind="export", masked=not opts["unmasked"], purpose=opts["purpose"],
                                 purpose_text=opts["purpose_text"],
                                 filters={k: opts[k] for k in ("tier", "stage", "kind", "owner", "team", "tag")})
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
                               returncode=1) from exc
        except (PermissionDenied, NotFound) as exc:
            raise CommandError(str(exc), returncode=1) from exc
        out.print(f"Requested approval {req.id} for an export of at most {req.export_params['max_rows']} customers; "
                  "your manager or compliance decides ('custodia approvals list'). Once approved, run the same "
                  f"export with --request {req.id}.")

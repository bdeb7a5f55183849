"""`custodia approvals list | approve ID | reject ID --reason R` (as --actor USERNAME).

Needs: a named person (``--actor``); approving and rejecting need the ``approve`` action and a
request that person may decide (never their own). Audited by the services.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.table import Table

from custodia.approvals import selectors, services
from custodia.cli import HIDDEN_BASE_ARGUMENTS, add_actor_argument, console, escape, resolve_actor
from custodia.kernel.errors import NotFound, PermissionDenied


class Command(BaseCommand):
    help = ("Maker-checker approvals: 'list' shows requests awaiting your decision and your own; 'approve ID' "
            "and 'reject ID --reason R' decide one. Act as a person with --actor USERNAME.")
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        add_actor_argument(sub.add_parser("list", help="requests awaiting your decision, and your own"))
        approve = sub.add_parser("approve", help="approve a pending request (valid once, for a limited time)")
        approve.add_argument("id", metavar="ID")
        approve.add_argument("--reason", default="", help="optional note")
        add_actor_argument(approve)
        reject = sub.add_parser("reject", help="reject a pending request with a reason")
        reject.add_argument("id", metavar="ID")
        reject.add_argument("--reason", required=True)
        add_actor_argument(reject)

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(opts.get("actor"), out)
        try:
            if opts["action"] == "list":
                self._table(out, "Awaiting your decision", selectors.requests_to_decide(actor))
                self._table(out, "Your requests", selectors.requests_mine(actor))
            elif opts["action"] == "approve":
                req = services.request_approve(actor=actor, request_id=opts["id"], reason=opts["reason"])
                until = timezone.localtime(req.expires_at).strftime("%Y-%m-%d %H:%M")
                out.print(f"Approved request {req.id}: {escape(req.requester.username)} may use it once until {until}.")
            else:
                req = services.request_reject(actor=actor, request_id=opts["id"], reason=opts["reason"])
                out.print(f"Rejected request {req.id}.")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
                               returncode=1) from exc
        except (PermissionDenied, NotFound) as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def _table(self, out, title, rows) -> None:
        table = Table(title=title)
        for column in ("id", "kind", "requested by", "what", "purpose", "status", "expires"):
            table.add_column(column)
        for req in rows:
            what = (f"{req.customer_id} {req.field}" if req.kind == "reveal"
                    else ("UNMASKED " if not req.export_params.get("masked") else "masked ")
                    + f"≤{req.export_params.get('max_rows')} rows "
                    + " ".join(f"{k}={v}" for k, v in req.export_params.get("filters", {}).items() if v))
            table.add_row(str(req.id), req.kind, escape(req.requester.username), escape(what),
                          escape(req.purpose_display), req.state,
                          timezone.localtime(req.expires_at).strftime("%Y-%m-%d %H:%M"))
        out.print(table if rows else f"{title}: none.")

"""`custodia shred customer ID --reason R [--yes]`: crypto-shred one customer.

Needs: the console operator (system actor 'cli'). Destroys the customer's data key, so none of
their protected values, records or audit change records decrypt again (backups included);
blind indexes are cleared and the customer leaves every list. Audited (CUSTOMER_SHREDDED).
Irreversible: asks for confirmation unless --yes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, escape, resolve_actor
from custodia.customers.services import customer_shred
from custodia.kernel.errors import NotFound, PermissionDenied


class Command(BaseCommand):
    help = "Crypto-shred one customer: destroy their data key so nothing of theirs decrypts again."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("customer_id", metavar="ID", help="the customer's id (UUID)")
        parser.add_argument("--reason", required=True,
                            help="why, e.g. erasure_request, retention_expired (recorded in the audit log)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(None, out)
        if not opts["yes"]:
            answer = input(f"Shred customer {opts['customer_id']}? This cannot be undone. Type 'shred': ")
            if answer.strip() != "shred":
                raise CommandError("Not shredded.", returncode=1)
        try:
            customer_shred(actor=actor, customer_id=opts["customer_id"], reason=opts["reason"])
        except (NotFound, ValueError) as exc:
            raise CommandError(f"No customer with id {opts['customer_id']!r}.", returncode=1) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=1) from exc
        out.print(f"Customer [bold]{escape(opts['customer_id'])}[/] crypto-shredded: its data key is destroyed.")

"""`custodia reviews open [--now]` and `custodia reviews close-overdue`: run the access-review
schedule by hand (the worker runs both every hour).

- ``open``: open the current period's campaigns where they are not open yet (idempotent);
  ``--now`` opens an extra, ad-hoc round at once (e.g. after an incident), whatever the schedule.
- ``close-overdue``: close campaigns past their deadline, revoking every item still pending.

Needs: the console operator (system actor 'cli'). Audited by the services.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, escape, resolve_actor
from custodia.reviews import services


class Command(BaseCommand):
    help = "Access reviews: 'open [--now]' opens this period's campaigns; 'close-overdue' revokes what is unconfirmed."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        opening = sub.add_parser("open", help="open the current period's review campaigns (idempotent)")
        opening.add_argument("--now", action="store_true",
                             help="open an extra, ad-hoc round now, even if this period's campaigns exist")
        sub.add_parser("close-overdue", help="close campaigns past their deadline, revoking unconfirmed access")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(None, out)
        if opts["action"] == "open":
            opened = services.campaigns_open(actor=actor, adhoc=opts.get("now", False))
            if not opened:
                out.print("No campaign opened: this period's campaigns are already open (use --now for an extra round).")
            for campaign in opened:
                who = campaign.reviewer.username if campaign.reviewer else "security admins"
                out.print(f"Opened {escape(campaign.period)} for [bold]{escape(who)}[/]: "
                          f"{campaign.items.count()} items, deadline {campaign.deadline:%Y-%m-%d %H:%M} UTC")
            return
        totals = services.campaigns_close_overdue(actor=actor)
        out.print(f"Closed {totals['campaigns']} overdue campaign(s): {totals['revoked']} item(s) revoked, "
                  f"{totals['flagged']} flagged for the security admin.")

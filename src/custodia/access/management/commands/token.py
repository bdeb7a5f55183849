"""`custodia token create USERNAME [--label L]`: a new API token for an active person.

Needs: the console operator (system actor 'cli'). Audited by the service (API_TOKEN_CREATED).
The token is printed once; only its digest is stored.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from custodia.access.services import api_token_create
from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, escape, resolve_actor
from custodia.kernel.errors import NotFound


class Command(BaseCommand):
    help = "API tokens: 'create USERNAME' prints a new token for that person (shown once)."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        create = sub.add_parser("create", help="create a token for USERNAME and print it once")
        create.add_argument("username")
        create.add_argument("--label", default="", help="what the token is for (max 100 characters)")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(None, out)
        try:
            token = api_token_create(actor=actor, username=opts["username"], label=opts["label"])
        except NotFound as exc:
            raise CommandError(f"No active member of staff with username {opts['username']!r}.",
                               returncode=1) from exc
        out.print(f"API token for [bold]{escape(opts['username'])}[/] (send it as 'Authorization: Token <token>'):")
        sys.stdout.write(token + "\n")  # plain, so it is never wrapped or styled
        sys.stdout.flush()
        out.print("[yellow]Store it safely now: it is shown only once and cannot be recovered "
                  "(only a digest is kept). Anyone holding it acts as this person.[/]")

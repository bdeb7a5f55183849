"""`custodia manage deactivate_user USERNAME --reason R [--actor USERNAME]`: deactivate a member of
staff; all their sessions end and all their API tokens are revoked at once.

Needs: the console operator (system actor 'cli') or, with --actor, an administrator, security
admin or HR. Audited by the service (USER_DEACTIVATED).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from custodia.access.models import User
from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, escape, resolve_actor
from custodia.identity.services import user_deactivate
from custodia.kernel.errors import PermissionDenied


class Command(BaseCommand):
    help = "Deactivate a member of staff: sign-in refused, every session ended, every API token revoked."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        parser.add_argument("--actor", help="act as this person (default: the console operator)")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(opts.get("actor"), out)
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No member of staff with username {opts['username']!r}.", returncode=1)
        try:
            user_deactivate(actor=actor, user=user, reason=opts["reason"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=1) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=1) from exc
        out.print(f"[bold]{escape(user.username)}[/] is deactivated: their sessions have ended and their API "
                  "tokens are revoked.")

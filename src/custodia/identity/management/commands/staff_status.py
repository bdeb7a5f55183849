"""`custodia manage staff_status USERNAME STATUS --reason R [--actor USERNAME]`: set a member of
staff's employment status: active, cooling_off (departure cooling-off: reading only, watched by
the monitor) or departed (sign-in refused, sessions and tokens ended). Audited by the service."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from custodia.access.choices import EmploymentStatus
from custodia.access.models import User
from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, escape, resolve_actor
from custodia.identity.services import employment_status_set
from custodia.kernel.errors import PermissionDenied


class Command(BaseCommand):
    help = "Set a member of staff's employment status (active, cooling_off, departed)."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("status", choices=EmploymentStatus.values)
        parser.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        parser.add_argument("--actor", help="act as this person (default: the console operator)")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(opts.get("actor"), out)
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No member of staff with username {opts['username']!r}.", returncode=1)
        try:
            employment_status_set(actor=actor, user=user, status=opts["status"], reason=opts["reason"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=1) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=1) from exc
        out.print(f"[bold]{escape(user.username)}[/] is now {escape(opts['status'])}.")

"""`custodia demo`: migrate, seed Chinese demo data, print one login per role, then serve."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from custodia.access.models import User
from custodia.audit.heads import sign_head
from custodia.demo import loader
from custodia.demo.generator import DEFAULT_SEED
from custodia.demo.monitoring import seed_alerts
from custodia.identity.selectors import mfa_enrolled, mfa_required
from custodia.kernel.actor import Actor
from custodia.reviews.services import campaigns_open


class Command(BaseCommand):
    help = "Migrate, load reproducible Chinese demo data, print demo logins, and serve the app."

    def add_arguments(self, parser):
        parser.add_argument("--seed-only", action="store_true", help="seed and exit (do not serve)")
        parser.add_argument("--customers", type=int, default=2000, help="number of demo customers (default 2000)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (reproducible data)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **opts):
        console = Console()
        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        try:
            logins = loader.seed_org(opts["seed"])
            with Progress(TextColumn("[bold]演示数据 demo data"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                task = bar.add_task("customers", total=opts["customers"])
                created = loader.seed_customers(opts["customers"], opts["seed"],
                                                progress=lambda n: bar.advance(task, n))
        except loader.DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        opened = campaigns_open(actor=Actor.system("demo"))  # this quarter's access reviews (idempotent)
        alerts = seed_alerts()  # a few real detections to triage (idempotent)
        head = sign_head()  # the audit log's first signed tree head (the worker signs them from now on)
        console.print(f"{created} new customers seeded in {time.perf_counter() - started:.1f} s "
                      f"({opts['customers'] - created} were already there); {len(opened)} access reviews opened; "
                      f"{alerts} monitoring alerts; "
                      f"audit log signed at {head.size:,} events.")
        table = Table(title="演示账号 Demo logins (passwords are new on every run)")
        for column in ("username", "role", "name", "password", "2FA"):
            table.add_column(column)
        people = User.objects.filter(username__in=[x.username for x in logins])
        second_factor = {u.username: ("enrolled" if mfa_enrolled(u) else "at first sign-in")
                         if mfa_required(u) else "—" for u in people}
        for login in logins:
            table.add_row(login.username, login.role, login.name, login.password,
                          second_factor.get(login.username, "—"))
        console.print(table)
        console.print("Roles that can reveal, export or administer need an authenticator app (TOTP: Microsoft or "
                      "Google Authenticator, FreeOTP…): the first sign-in shows a QR code to scan, then recovery codes.")
        if opts["seed_only"]:
            return
        console.print(f"Open http://{opts['host']}:{opts['port']}/ and sign in with one of the logins above.")
        call_command("serve", host=opts["host"], port=opts["port"])

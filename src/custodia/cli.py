"""The ``custodia`` console script: one entry point for operators at the server console.

    custodia [--database-url URL] COMMAND ...

``--database-url`` may stand anywhere on the line (or ``DATABASE_URL`` be set); it is exported
before Django's settings are read. Every command is a thin interface over a management command,
which calls services (STYLE.md rule 8); this module only routes and holds the helpers the
commands share (consoles, the acting person, progress bars). Exit codes: 0 ok, 1 failure (a
rejected import, a failed check, a refused action), 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager

# name -> (management command, sub-word it needs or None, one line of help)
COMMANDS: dict[str, tuple[str, tuple[str, ...] | None, str]] = {
    "serve": ("serve", None, "Run the web application and API  [--host H] [--port P]"),
    "demo": ("demo", None, "Load the demonstration organisation and customers"),
    "import": ("import_customers", ("customers",), "Import customers from CSV or XLSX: import customers FILE"),
    "export": ("export_customers", ("customers", "trace"),
               "Export customers (masked by default): export customers | export trace FILE"),
    "approvals": ("approvals", ("list", "approve", "reject"),
                  "Maker-checker approvals: approvals list | approve ID | reject ID --reason R"),
    "keys": ("keys", ("status", "rotate"), "Key management: keys status | keys rotate"),
    "token": ("token", ("create",), "Create an API token for a person: token create USERNAME"),
    "shred": ("shred_customer", ("customer",), "Crypto-shred one customer: shred customer ID --reason R"),
    "reviews": ("reviews", ("open", "close-overdue"),
                "Access reviews: reviews open [--now] | reviews close-overdue"),
    "audit": ("audit", ("verify", "prove", "consistency", "head", "leaves", "sign", "bundle", "prune"),
              "The verifiable audit log: audit verify | prove EVENT_ID | consistency OLD NEW | head | leaves | "
              "sign | bundle | prune"),
    "monitor": ("monitor", ("replay", "rules", "dry-run", "baselines", "notify", "scenarios"),
                "The detectors: monitor replay FILE | rules | dry-run CODE [--days N] | baselines | notify | "
                "scenarios"),
    "check": ("custodia_check", None, "Check configuration, database, migrations, keyring and audit registry"),
    "migrate": ("migrate", None, "Create or update the database schema"),
    "manage": ("", None, "Run any Django management command: manage COMMAND ..."),
}
SUBCOMMAND_PASSED = {"keys", "token", "reviews", "approvals", "audit", "monitor"}  # their management command takes the sub-word itself
SUBCOMMAND_COMMANDS = {("export", "trace"): "export_trace"}  # a sub-word with a management command of its own
# Django's generic command options that mean nothing under `custodia` (hidden from --help).
HIDDEN_BASE_ARGUMENTS = frozenset({"--version", "--settings", "--pythonpath", "--no-color", "--force-color",
                                   "--skip-checks"})


def pop_database_url(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """Remove every ``--database-url URL`` / ``--database-url=URL`` from argv; the last one wins."""
    rest, url, items = [], None, list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        if item == "--":
            rest.extend(items[index:])
            break
        if item == "--database-url":
            if index + 1 >= len(items):
                raise UsageError("--database-url needs a value, e.g. postgres://user@host/custodia")
            url = items[index + 1]
            index += 2
            continue
        if item.startswith("--database-url="):
            url = item.split("=", 1)[1]
        else:
            rest.append(item)
        index += 1
    return rest, url


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custodia",
        description="Custodia: compliance-first customer-asset management (PIPL).",
        epilog="Run 'custodia COMMAND --help' for a command's options. Exit codes: 0 ok, 1 failure, 2 usage.",
    )
    parser.add_argument("--database-url", metavar="URL",
                        help="database to use (default: $DATABASE_URL, else SQLite in $CUSTODIA_DATA_DIR)")
    parser.add_argument("--version", action="version", version=f"custodia {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (_cmd, _words, text) in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("custodia")
    except Exception:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (also when called in-process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        argv, url = pop_database_url(argv)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"custodia: error: {exc}", file=sys.stderr)
        return 2
    if url:
        os.environ["DATABASE_URL"] = url
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"custodia {_version()}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        parser.print_usage(sys.stderr)
        known = ", ".join(COMMANDS)
        print(f"custodia: error: unknown command {name!r} (choose from {known})", file=sys.stderr)
        return 2
    command, words, _text = COMMANDS[name]
    if words is not None and (not rest or rest[0] not in words) and rest[:1] not in (["-h"], ["--help"]):
        given = repr(rest[0]) if rest else "nothing"
        print(f"custodia: error: 'custodia {name}' needs one of: {', '.join(words)} (got {given})",
              file=sys.stderr)
        return 2
    _setup_django()
    if name == "manage":
        return _manage(rest)
    if words is not None and name not in SUBCOMMAND_PASSED and rest and rest[0] in words:
        command = SUBCOMMAND_COMMANDS.get((name, rest[0]), command)
        prog, rest = f"{name} {rest[0]}", rest[1:]
    else:
        prog = name
    return run_command(command, prog, rest)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custodia.config.settings")
    import django

    django.setup()


def _manage(args: list[str]) -> int:
    from django.core.management import ManagementUtility

    from custodia.monitor.inline import Intervention, scope

    try:
        with scope():  # as for the other commands: what the detectors find is recorded at the end
            ManagementUtility(["custodia manage", *args]).execute()
    except Intervention as exc:
        error_console().print(f"[bold red]Stopped by a security rule:[/] {escape(exc)}")
        return 1
    except SystemExit as exc:
        return _code(exc)
    return 0


def run_command(command: str, prog: str, args: Sequence[str]) -> int:
    """Parse ``args`` with the management command's own parser and run it in this process.

    Unlike ``run_from_argv`` this does not close the database connections afterwards, so it can
    be called inside a test's transaction.
    """
    from django.core.management import get_commands, load_command_class
    from django.core.management.base import CommandError

    app = get_commands().get(command)
    if app is None:
        print(f"custodia: error: the {prog!r} command is not installed in this build", file=sys.stderr)
        return 1
    cmd = app if not isinstance(app, str) else load_command_class(app, command)
    cmd._called_from_command_line = True
    parser = cmd.create_parser("custodia", prog)
    try:
        options = vars(parser.parse_args(list(args)))
    except SystemExit as exc:
        return _code(exc)
    positional = options.pop("args", ())
    from custodia.monitor.inline import Intervention, scope

    try:
        with scope():  # what the detectors find while the command runs is recorded when it ends
            cmd.execute(*positional, **options)
    except Intervention as exc:
        error_console().print(f"[bold red]Stopped by a security rule:[/] {escape(exc)}")
        return 1
    except CommandError as exc:
        error_console().print(f"[bold red]Error:[/] {escape(exc)}")
        return exc.returncode
    except SystemExit as exc:
        return _code(exc)
    except KeyboardInterrupt:
        error_console().print("[bold red]Interrupted.[/] Nothing half-written was kept; run the command again to resume.")
        return 130
    return 0


def _code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


# -- helpers shared by the commands ------------------------------------------------------------

def escape(text) -> str:
    """Text shown as is, never read as rich markup (file names, messages, user input)."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def console():
    """A rich console on the current stdout (wide when not a terminal, so tables do not wrap)."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def error_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def add_actor_argument(parser) -> None:
    parser.add_argument(
        "--actor", metavar="USERNAME",
        help="act as this person, with their role, scope and permissions (default: the console operator, "
             "system actor 'cli')",
    )


def resolve_actor(username: str | None, out=None):
    """The Actor a command acts as, announced on the console. ``--actor`` must name an active person."""
    from django.core.management.base import CommandError

    from custodia.access.models import User
    from custodia.kernel.actor import Actor

    out = out or console()
    if not username:
        actor = Actor.system("cli")
        out.print(f"Acting as [bold]{actor.label}[/] (the operator at the server console, role system).")
        return actor
    user = User.objects.select_related("team").filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"No active member of staff with username {username!r}.", returncode=1)
    actor = Actor.for_user(user)
    out.print(f"Acting as [bold]{escape(actor.label)}[/] (role {actor.role}).")
    return actor


@contextmanager
def progress_bar(out=None, *, transient: bool = False):
    """A rich progress bar fed by ``callback(phase, done, total)`` (the services' progress hook)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out = out or console()
    if not out.is_terminal:  # a log or a pipe: no bar, the command prints its summary
        yield None
        return
    columns = (TextColumn("[bold]{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=transient) as bar:
        tasks: dict[str, int] = {}

        def callback(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield callback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`custodia keys status` and `custodia keys rotate`: the keyring and KEK rotation.

Needs: the console operator (system actor). Audited by the services (KEYS_STATUS_VIEWED,
KEK_ROTATED). Never prints key material.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.table import Table
from rich.text import Text

from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, progress_bar, resolve_actor
from custodia.kernel.errors import PermissionDenied
from custodia.protection.keyring import KeyringError
from custodia.protection.services import kek_rotate, keys_status


class Command(BaseCommand):
    help = "Key management: 'status' shows the keyring and data keys; 'rotate' rotates the key-encryption key."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        sub.add_parser("status", help="show KEKs, how many data keys each wraps, shredded keys, the index key")
        rotate = sub.add_parser("rotate", help="add a new KEK and re-wrap every data key (resumes if interrupted)")
        rotate.add_argument("--batch-size", type=int, default=500, help="data keys per committed batch")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(None, out)
        try:
            if opts["action"] == "status":
                self._status(out, keys_status(actor=actor))
            else:
                with progress_bar(out) as progress:
                    result = kek_rotate(actor=actor, batch_size=opts["batch_size"], progress=progress)
                self._rotated(out, result)
        except (PermissionDenied, KeyringError, ValueError) as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def _status(self, out, status: dict) -> None:
        out.print(Text(f"Keyring {status['keyring']}"), soft_wrap=True)  # a long path is never cut short
        table = Table()
        for column in ("KEK", "created (UTC)", "state", "data keys"):
            table.add_column(column, justify="right" if column == "data keys" else "left")
        for kek in status["keks"]:
            state = "[green]active[/]" if kek["kid"] == status["active_kek"] else kek["state"]
            table.add_row(kek["kid"], kek["created"], state, str(kek["data_keys"]))
        for kid, count in status["missing_keks"].items():
            table.add_row(kid, "-", "[bold red]MISSING from keyring[/]", str(count))
        out.print(table)
        out.print(f"Active KEK: {status['active_kek']}. Live data keys: {status['data_keys']}; "
                  f"shredded (crypto-erased) data keys: {status['shredded']}.")
        out.print("Blind-index master key: " + ("present" if status["index_key"] else "[bold red]MISSING[/]") + ".")
        if status["rotation_pending"]:
            out.print(f"[yellow]{status['rotation_pending']} data keys are still under a retired KEK: "
                      "run 'custodia keys rotate' to finish the rotation.[/]")

    def _rotated(self, out, result: dict) -> None:
        verb = "Resumed the rotation to" if result["resumed"] else "Rotated to"
        out.print(f"[green]{verb} KEK {result['new_kek']}[/]: {result['rewrapped']} data keys re-wrapped "
                  f"(from {', '.join(result['old_keks']) or 'none'}). Field ciphertext is unchanged.")
        if result["retired_keks"]:
            out.print(f"Retired KEKs stay in the keyring file ({', '.join(result['retired_keks'])}): backups made "
                      "before this rotation still need them to decrypt. Remove one only when no backup needs it.")

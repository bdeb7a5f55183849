"""`custodia audit …`: the verifiable audit log at the console (docs/audit-log.md).

    verify                     recompute everything; exit 0 intact, 1 naming the first bad leaf or head
    prove EVENT_ID [--size N]  inclusion proof of one event (default: the latest signed head)
    consistency OLD NEW        consistency proof between two tree sizes
    head [--json]              the latest signed tree head
    leaves --start I --end J   leaf inputs I <= index < J, base64, one a line
    sign                       integrate pending events and sign a tree head now
    bundle (--customer ID | --person USERNAME | --since T --until T) -o FILE
    prune [--dry-run]          remove event bodies past retention (hashes stay)

Needs: the console operator (system actor 'cli'); verification, signing, bundles and prunes are
audited.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from custodia.audit import bundles, heads, proofs, retention, services
from custodia.cli import HIDDEN_BASE_ARGUMENTS, console, error_console, escape, resolve_actor


def _when(text: str) -> dt.datetime:
    value = parse_datetime(text)
    if value is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"{text!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM[:SS][+08:00])")
        value = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class Command(BaseCommand):
    help = "The verifiable audit log: verify, prove, consistency, head, leaves, sign, bundle, prune."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        sub.add_parser("verify", help="recompute the whole log and check every signed tree head")
        prove = sub.add_parser("prove", help="inclusion proof of one event")
        prove.add_argument("event_id", metavar="EVENT_ID")
        prove.add_argument("--size", type=int, help="tree size (default: the latest signed head)")
        prove.add_argument("--json", action="store_true", help="print JSON")
        cons = sub.add_parser("consistency", help="consistency proof between two tree sizes")
        cons.add_argument("old", type=int, metavar="OLD")
        cons.add_argument("new", type=int, metavar="NEW")
        cons.add_argument("--json", action="store_true", help="print JSON")
        head = sub.add_parser("head", help="the latest signed tree head")
        head.add_argument("--json", action="store_true", help="print JSON")
        leaves = sub.add_parser("leaves", help="leaf inputs of a range, base64, one a line")
        leaves.add_argument("--start", type=int, required=True, metavar="I")
        leaves.add_argument("--end", type=int, required=True, metavar="J", help="one past the last index")
        sub.add_parser("sign", help="integrate pending events and sign a tree head now")
        bundle = sub.add_parser("bundle", help="evidence bundle of a customer, a person or a time range")
        bundle.add_argument("--customer", metavar="ID", help="customer id")
        bundle.add_argument("--person", metavar="USERNAME", help="the person who acted")
        bundle.add_argument("--since", metavar="T", help="from this date or time (inclusive)")
        bundle.add_argument("--until", metavar="T", help="until this date or time (exclusive)")
        bundle.add_argument("-o", "--output", required=True, metavar="FILE", help="the .zip to write")
        prune = sub.add_parser("prune", help="remove event bodies past retention; hashes stay")
        prune.add_argument("--dry-run", action="store_true", help="only say what would be pruned")

    def handle(self, *args, **opts):
        out = console()
        actor = resolve_actor(None, error_console())  # stdout carries JSON and leaves alone
        action = opts["action"]
        try:
            getattr(self, f"_{action}")(out, actor, opts)
        except (proofs.ProofUnavailable, bundles.BundleTooLarge) as exc:
            raise CommandError(str(exc)) from None

    # -- actions ---------------------------------------------------------------------------------
    def _verify(self, out, actor, opts):
        with out.status("Verifying the audit log…"):
            report = services.log_verify(actor=actor)
        published = report.published
        out.print(f"Leaves: {report.size} ({report.leaves_checked} recomputed from their events, "
                  f"{report.pruned} pruned, {report.pending} pending integration)")
        out.print(f"Root:   {heads._b64(report.root_hash)}")
        out.print(f"Tree heads checked: {report.heads_checked}; last published: "
                  + (f"size {published.get('size')} at {escape(published.get('time'))}" if published else "none"))
        if report.ok:
            out.print("[bold green]Intact.[/] Every leaf, stored hash and signed tree head verifies.")
            return
        for problem in report.problems[:20]:
            out.print(f"[red]✗[/] {escape(problem)}")
        where = []
        if report.first_bad_leaf is not None:
            where.append(f"first bad leaf index {report.first_bad_leaf}")
        if report.first_bad_head is not None:
            where.append(f"first bad tree head #{report.first_bad_head}")
        raise CommandError(f"the audit log does NOT verify ({len(report.problems)} problem(s)"
                           + (f"; {', '.join(where)}" if where else "") + ")")

    def _prove(self, out, actor, opts):
        proof = proofs.inclusion(opts["event_id"], opts.get("size"))
        if opts.get("json"):
            sys.stdout.write(json.dumps(proof, indent=2) + "\n")
            return
        out.print(f"Event {proof['event_id']} is leaf {proof['leaf_index']} of the tree of size {proof['tree_size']}.")
        out.print(f"Leaf hash: {proof['leaf_hash']}")
        out.print(f"Root hash: {proof['root_hash']}")
        out.print(f"Inclusion proof ({len(proof['hashes'])} hashes, RFC 9162):")
        for h in proof["hashes"]:
            out.print(f"  {h}")

    def _consistency(self, out, actor, opts):
        proof = proofs.consistency(opts["old"], opts["new"])
        if opts.get("json"):
            sys.stdout.write(json.dumps(proof, indent=2) + "\n")
            return
        out.print(f"Tree {proof['size1']} (root {proof['root1']}) is a prefix of tree {proof['size2']} "
                  f"(root {proof['root2']}).")
        out.print(f"Consistency proof ({len(proof['hashes'])} hashes, RFC 9162):")
        for h in proof["hashes"]:
            out.print(f"  {h}")

    def _head(self, out, actor, opts):
        head = heads.latest_head()
        if head is None:
            raise CommandError("no tree head has been signed yet (run 'custodia audit sign')")
        data = heads.head_json(head)
        if opts.get("json"):
            sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
            return
        out.print(f"Tree size {data['size']}, signed {data['time']} by key {data['key_id']}")
        out.print(f"Root hash: {data['root_hash']}")
        out.print(f"Signature: {data['signature']}")

    def _leaves(self, out, actor, opts):
        for line in proofs.leaf_lines(opts["start"], opts["end"]):
            sys.stdout.write(line + "\n")

    def _sign(self, out, actor, opts):
        head = services.head_sign_now(actor=actor)
        data = heads.head_json(head)
        out.print(f"Signed tree head: size {data['size']}, root {data['root_hash']}, {data['time']}")

    def _bundle(self, out, actor, opts):
        customer = person = None
        if opts.get("customer"):
            try:
                customer = uuid.UUID(opts["customer"])
            except ValueError:
                raise CommandError(f"--customer: {opts['customer']!r} is not a customer id") from None
        label = ""
        if opts.get("person"):
            from custodia.access.models import User

            user = User.objects.filter(username=opts["person"]).first()
            if user is None:
                raise CommandError(f"--person: no user named {opts['person']!r}")
            person, label = user.pk, user.username
        since = _when(opts["since"]) if opts.get("since") else None
        until = _when(opts["until"]) if opts.get("until") else None
        if not (customer or person or since or until):
            raise CommandError("say what the bundle covers: --customer, --person, and/or --since/--until")
        if since and until and until <= since:
            raise CommandError("--until must be after --since")
        scope = bundles.Scope(customer_id=customer, person_id=person, person_label=label, since=since, until=until)
        tmp = f"{opts['output']}.partial"
        try:
            with open(tmp, "wb") as fh:
                manifest = bundles.export_bundle(fh, actor=actor, scope=scope)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        os.replace(tmp, opts["output"])
        out.print(f"Wrote {escape(opts['output'])}: {manifest['event_count']} event(s), tree size "
                  f"{manifest['tree_size']}. Check it anywhere with: python verify.py {escape(opts['output'])}")

    def _prune(self, out, actor, opts):
        result = retention.prune(actor=actor, dry_run=opts.get("dry_run", False))
        verb = "Would prune" if result.dry_run else "Pruned"
        out.print(f"{verb} {result.count} event bod{'y' if result.count == 1 else 'ies'} in {len(result.ranges)} "
                  f"leaf range(s) (security events before {result.security_before:%Y-%m-%d}, other events before "
                  f"{result.processing_before:%Y-%m-%d}). Leaf hashes stay; verification still passes.")

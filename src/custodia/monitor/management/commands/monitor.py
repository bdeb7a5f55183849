"""`custodia monitor …`: the detectors at the console (custodia.monitor).

    replay FILE [--rules CODE,...] [--format table|jsonl]   run a JSON-lines event stream (- for
                               stdin) through the detectors with a fresh memory store; print the
                               alerts and a summary; nothing live is touched
    rules                      the detector rules: code, name, detector, mode, version, key parameters
    dry-run CODE [--days N]    what a rule would have raised over the last N days of the audit log
    baselines                  learn everyone's baselines now (the nightly job)
    notify                     deliver pending alert notifications now (the worker's job)
    scenarios [--seed N] [--people N]   the scenario suite (custodia.monitor.scenarios)

Needs: the console operator (system actor 'cli'), or with ``--actor`` a person who may view
alerts (replay) or edit rules (dry-run). Replays and dry runs are audited by the services.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from custodia.cli import (
    HIDDEN_BASE_ARGUMENTS,
    add_actor_argument,
    console,
    error_console,
    escape,
    resolve_actor,
)
from custodia.kernel.errors import NotFound, PermissionDenied

FORMATS = ("table", "jsonl")


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.message_dict.items())
    return " ".join(str(m) for m in exc.messages)


def _window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def key_params(kind: str, params: dict) -> str:
    """The parameters that say what a rule does, in one short line."""
    if kind == "volume":
        text = f"{params.get('metric')} ≥ {params.get('threshold')} in {_window(params.get('window_seconds', 0))}"
        if params.get("baseline_factor"):
            text += f", > {params['baseline_factor']:g}× baseline (floor {params.get('baseline_min')})"
    else:
        text = ", ".join(f"{k}={v}" for k, v in params.items()
                         if not k.endswith("severity") and k != "roles")
    if params.get("roles"):
        text += f"; roles {','.join(params['roles'])}"
    return text


def _people(alerts) -> dict[str, str]:
    """Usernames of the people the alerts name, where they are staff of this installation."""
    from custodia.access.models import User

    ids = {a["person_id"] for a in alerts if a.get("person_id")}
    valid = []
    for value in ids:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            pass
    return {str(pk): name for pk, name in User.objects.filter(pk__in=valid).values_list("pk", "username")}


def alert_row(alert: dict, people: dict[str, str]) -> dict:
    person = alert.get("person_id") or ""
    return {"time": timezone.localtime(alert["first_at"]).isoformat(timespec="seconds"), "rule": alert["rule"],
            "severity": alert["severity"], "subject": alert["subject"],
            "person": people.get(person, person) if person else "", "value": alert["value"],
            "limit": alert["limit"], "response": alert["response"], "reason": alert["reason"],
            "count": alert["count"]}


def _value(value: float, limit: float) -> str:
    """Value against limit; a detector without a limit (an hour, a new address) shows its value."""
    if limit:
        return f"{value:g} / {limit:g}"
    return f"{value:g}" if value else ""


def print_alerts(out, alerts: list[dict], fmt: str, title: str) -> None:
    people = _people(alerts)
    rows = [alert_row(a, people) for a in alerts]
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        return
    if not rows:
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in ("time", "rule", "severity", "subject / person", "reason", "value / limit", "response", "findings"):
        table.add_column(name, justify="right" if name in ("value / limit", "findings") else "left")
    for row in rows:
        who = row["person"] or row["subject"]
        table.add_row(row["time"], escape(row["rule"]), row["severity"], escape(who), escape(row["reason"]),
                      _value(row["value"], row["limit"]), row["response"], str(row["count"]))
    out.print(table)


class Command(BaseCommand):
    help = "Detectors at the console: replay, rules, dry-run, baselines, notify, scenarios."
    suppressed_base_arguments = HIDDEN_BASE_ARGUMENTS

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        replay = sub.add_parser("replay", help="run a JSON-lines event stream through the detectors (offline)")
        replay.add_argument("file", metavar="FILE", help="JSON lines, one audit event a line, in time order; - for stdin")
        replay.add_argument("--rules", metavar="CODE,...",
                            help="only these rules (default: every rule that is on or in dry run)")
        replay.add_argument("--format", choices=FORMATS, default="table",
                            help="table (default) or jsonl: one alert a line on stdout, the summary on stderr")
        add_actor_argument(replay)
        sub.add_parser("rules", help="the detector rules and their key parameters")
        dry = sub.add_parser("dry-run", help="what one rule would have raised over the last N days")
        dry.add_argument("code", metavar="CODE")
        dry.add_argument("--days", default=7, metavar="N", help="days of the audit log (1-90, default 7)")
        add_actor_argument(dry)
        sub.add_parser("baselines", help="learn everyone's baselines from the last 28 days now")
        sub.add_parser("notify", help="deliver pending alert notifications now")
        scen = sub.add_parser("scenarios", help="run the detector scenario suite and print its report")
        scen.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        scen.add_argument("--people", type=int, default=50, help="simulated staff (default 50)")

    def handle(self, *args, **opts):
        action = opts["action"].replace("-", "_")
        jsonl = opts.get("format") == "jsonl"
        out = error_console() if jsonl else console()  # jsonl: stdout carries only the alerts
        try:
            getattr(self, f"_{action}")(out, opts)
        except ValidationError as exc:
            raise CommandError(_errors(exc), returncode=1) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=1) from None

    # -- actions ---------------------------------------------------------------------------------
    def _replay(self, out, opts):
        from custodia.monitor import history, services

        actor = resolve_actor(opts.get("actor"), out)
        codes = [c.strip() for c in (opts.get("rules") or "").replace("，", ",").split(",") if c.strip()]
        name = opts["file"]
        try:
            fh = sys.stdin if name == "-" else open(name, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror}", returncode=1) from None
        started = time.perf_counter()
        try:
            result = services.history_replay(actor=actor, lines=fh, source="<stdin>" if name == "-" else name,
                                             codes=codes or None)
        except history.LineError as exc:
            where = "<stdin>" if name == "-" else name
            raise CommandError(f"{where}: {exc} (nothing recorded)", returncode=1) from None
        except UnicodeDecodeError:
            raise CommandError(f"{name}: not UTF-8 text (nothing recorded)", returncode=1) from None
        finally:
            if fh is not sys.stdin:
                fh.close()
        seconds = time.perf_counter() - started
        print_alerts(out, result.alerts, opts["format"], f"Alerts ({len(result.alerts)})")
        rate = result.events / seconds if seconds else 0.0
        out.print(f"Replayed {result.events:,} events: {len(result.alerts):,} alerts "
                  f"({len(result.findings):,} findings) in {seconds:.2f} s = {rate:,.0f} events/s.")

    def _rules(self, out, opts):
        from rich.table import Table

        from custodia.monitor.detectors import DETECTORS
        from custodia.monitor.models import Rule

        table = Table(title="Detector rules", title_justify="left")
        for name in ("code", "name", "detector", "mode", "version", "key parameters"):
            table.add_column(name, justify="right" if name == "version" else "left")
        rules = list(Rule.objects.order_by("code"))
        for rule in rules:
            detector = DETECTORS.get(rule.kind)
            table.add_row(escape(rule.code), escape(rule.name), escape(detector.label if detector else rule.kind),
                          rule.mode, str(rule.version), escape(key_params(rule.kind, rule.params)))
        out.print(table)
        out.print(f"{len(rules)} rules: {sum(r.mode == 'on' for r in rules)} on, "
                  f"{sum(r.mode == 'dry_run' for r in rules)} in dry run, {sum(r.mode == 'off' for r in rules)} off.")

    def _dry_run(self, out, opts):
        from custodia.monitor import services

        actor = resolve_actor(opts.get("actor"), out)
        try:
            with out.status("Running the rule over the audit log…"):
                result = services.rule_dry_run(actor=actor, code=opts["code"], days=opts["days"])
        except NotFound:
            raise CommandError(f"no detector rule with code {opts['code']!r} (see 'custodia monitor rules')",
                               returncode=1) from None
        print_alerts(out, result.alerts, "table", f"{opts['code']}: alerts over the last {opts['days']} days")
        out.print(f"Dry run of {escape(opts['code'])} over the last {opts['days']} days (after a "
                  f"28-day warm-up): {result.events:,} events evaluated, {len(result.findings):,} findings, "
                  f"{len(result.alerts):,} alerts. Nothing was recorded but the dry run itself.")

    def _baselines(self, out, opts):
        from custodia.monitor import baselines

        resolve_actor(None, out)
        with out.status("Learning baselines from the last 28 days…"):
            learned = baselines.learn()
        out.print(f"Learned baselines for {learned} {'person' if learned == 1 else 'people'} "
                  f"(people with at least 7 active days).")

    def _notify(self, out, opts):
        from custodia.monitor import notify

        resolve_actor(None, out)
        sent, failed = notify.deliver_pending()
        out.print(f"Notifications: {sent} sent, {failed} failed"
                  + (" (retried by the worker every minute)." if failed else "."))
        if failed and not sent:
            raise CommandError(f"{failed} notification(s) could not be delivered", returncode=1)

    def _scenarios(self, out, opts):
        from custodia.monitor import scenarios

        result = scenarios.report(seed=opts["seed"], people=opts["people"], console=out)
        if result.recall < 1.0 or result.fp_rate > 0.01:  # the quality bar: exit 1 when missed
            raise SystemExit(1)

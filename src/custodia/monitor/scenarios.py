"""The scenario suite: a month of a sales force's audit events with insider misuse injected, run
through the shipped rules, scored for precision, recall and time to detect.

The stream is deterministic for a seed (one ``random.Random``). Asia/Shanghai time: March 2026 is
the warm-up (the history a live system has, so baselines and sign-in profiles exist; it stands
for a longer history, so every known home address and second device is used at least once in
it) and April 2026 is the evaluated month, with the 清明 holiday on 4–6 April. Normal work:
Chinese working days, sign-in around 08:30–10:00, occasional evening sign-ins before 21:00 from
home, some Saturdays, sick days, busy days two to three times the usual volume, heavy and light
users, typos at sign-in, occasional travel (a hotel's address).

Injected misuse, modelled on the CERT insider-threat scenarios (several instances each, different
people, spread over the month): paging through the portfolio the night before leaving; a bulk
export followed by resignation and activity in the cooling-off period; an after-hours sign-in
from a new address; password spraying; use of a departed person's API token; a dormant account
waking up; enumeration by identifier searches; an afternoon browsing colleagues' core-tier
customers.

Scoring. A scenario is detected when any rule finds something about its person or address
between its start and 24 hours after its last event (or on one of its own events); time to detect
is the first such finding's time minus the start. Every other finding is false. A person-day is a
person and a calendar day of the evaluated month on which they did anything; the false-positive
rate is the number of distinct (person or address, day) pairs with a false finding over the
number of person-days.

    python -m custodia.monitor.scenarios [--seed N] [--people N] [--jsonl FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from custodia.monitor.engine import Ev, RuleSpec
from custodia.monitor.misuse import Injector
from custodia.monitor.simulation import (
    HOLIDAYS,
    MONTH_END,
    MONTH_START,
    TZ,
    WARM_UP_START,
    Generator,
    Person,
    Scenario,
    Stream,
    at,
    is_workday,
)

GRACE = dt.timedelta(hours=24)
__all__ = ["HOLIDAYS", "MONTH_END", "MONTH_START", "TZ", "WARM_UP_START", "Person", "Result", "Scenario", "Stream",
           "evaluate", "generate", "is_workday", "main", "report", "to_json_line", "write_jsonl"]


def generate(seed: int = 7, people: int = 50) -> Stream:
    """The warm-up and evaluated months of a sales force of ``people``, misuse injected, in time order."""
    gen = Generator(seed, people)
    inject = Injector(gen)
    inject.plan()
    gen.normal()
    inject.emit()
    gen.events.sort(key=lambda e: e.at)
    return Stream(seed=seed, people=gen.people, events=gen.events, scenarios=gen.scenarios,
                  report_from=at(MONTH_START, 0))


# --- evaluation ----------------------------------------------------------------------------------


def default_rules() -> list[RuleSpec]:
    """The shipped rules (detectors.DEFAULT_RULES), validated as the rule editor would."""
    from custodia.monitor.detectors import DEFAULT_RULES, clean_params, clean_responses

    return [RuleSpec(code=d.code, version=1, kind=d.kind, name=d.name, mode=str(d.mode),
                     params=clean_params(d.kind, {k: (str(v) if hasattr(v, "label") else v) for k, v in d.params.items()}),
                     responses=clean_responses(d.kind, {str(k): str(v) for k, v in d.responses.items()}))
            for d in DEFAULT_RULES]


@dataclass
class Outcome:
    label: str
    kind: str
    who: str
    start: dt.datetime
    detected: bool
    time_to_detect: dt.timedelta | None
    rules: list[str]


@dataclass
class Result:
    seed: int
    people: int
    events: int  # in the whole stream (warm-up and evaluated month)
    month_events: int
    person_days: int
    alerts: int
    true_alerts: int
    precision: float
    recall: float
    fp_person_days: int
    fp_rate: float
    ttd_median: dt.timedelta | None
    ttd_max: dt.timedelta | None
    generate_seconds: float
    engine_seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    per_rule: dict = field(default_factory=dict)  # rule -> {"alerts": n, "true": n, "false": n}
    false_alerts: list[dict] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.engine_seconds if self.engine_seconds else 0.0


def _belongs(sc: Scenario, owners: dict, subject: str, first: dt.datetime, last: dt.datetime, event_ids) -> bool:
    """Whether a finding or alert is about ``sc``: it was raised on one of the scenario's own events,
    or on no scenario's events but about its person or address while it ran (or within a day after)."""
    mine = [owners.get(e) for e in event_ids]
    if any(owner is sc for owner in mine):
        return True
    if any(owner is not None for owner in mine):
        return False
    return subject == sc.subject and first <= sc.end + GRACE and last >= sc.start


def evaluate(stream: Stream) -> Result:
    """Run every default rule over the stream (the warm-up only warms up) and score the findings."""
    from custodia.monitor import history

    started = time.perf_counter()
    run = history.run(stream.events, default_rules(), report_from=stream.report_from)
    engine_seconds = time.perf_counter() - started
    owners = {e: sc for sc in stream.scenarios for e in sc.event_ids}
    outcomes = []
    for sc in stream.scenarios:
        hits = [f for f in run.findings if _belongs(sc, owners, f.subject, f.at, f.at, (f.event_id,)) and f.at >= sc.start]
        first = min((f.at for f in hits), default=None)
        outcomes.append(Outcome(sc.label, sc.kind, sc.who, sc.start, bool(hits),
                                first - sc.start if first else None, sorted({f.rule for f in hits})))
    false_days = {(f.subject, f.at.astimezone(TZ).date()) for f in run.findings
                  if not any(_belongs(sc, owners, f.subject, f.at, f.at, (f.event_id,)) for sc in stream.scenarios)}
    per_rule: dict = defaultdict(Counter)
    false_alerts = []
    for alert in run.alerts:
        true = any(_belongs(sc, owners, alert["subject"], alert["first_at"], alert["last_at"], alert["events"])
                   for sc in stream.scenarios)
        per_rule[alert["rule"]]["alerts"] += 1
        per_rule[alert["rule"]]["true" if true else "false"] += 1
        if not true:
            false_alerts.append(alert)
    month = [e for e in stream.events if e.at >= stream.report_from]
    person_days = len({(e.actor, e.at.astimezone(TZ).date()) for e in month if e.actor})
    ttds = sorted(o.time_to_detect for o in outcomes if o.detected)
    true_alerts = len(run.alerts) - len(false_alerts)
    return Result(
        seed=stream.seed, people=len(stream.people), events=run.events, month_events=len(month),
        person_days=person_days, alerts=len(run.alerts), true_alerts=true_alerts,
        precision=true_alerts / len(run.alerts) if run.alerts else 1.0,
        recall=sum(o.detected for o in outcomes) / len(outcomes), fp_person_days=len(false_days),
        fp_rate=len(false_days) / person_days if person_days else 0.0,
        ttd_median=statistics.median(ttds) if ttds else None, ttd_max=ttds[-1] if ttds else None,
        generate_seconds=0.0, engine_seconds=engine_seconds, outcomes=outcomes,
        per_rule={k: dict(v) for k, v in sorted(per_rule.items())}, false_alerts=false_alerts)


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def render(result: Result, console) -> None:
    from rich.table import Table

    table = Table(title=f"Injected scenarios (seed {result.seed}, {result.people} people, April 2026, Asia/Shanghai)")
    for column in ("Scenario", "Who", "Started", "Detected", "Time to detect", "Rules that fired"):
        table.add_column(column)
    for o in result.outcomes:
        table.add_row(o.label, o.who, o.start.astimezone(TZ).strftime("%m-%d %H:%M"),
                      "[green]yes[/]" if o.detected else "[red]NO[/]", _duration(o.time_to_detect), ", ".join(o.rules))
    console.print(table)
    rules = Table(title="Alerts per rule (evaluated month)")
    for column in ("Rule", "Alerts", "True", "False"):
        rules.add_column(column, justify="left" if column == "Rule" else "right")
    for code, n in result.per_rule.items():
        rules.add_row(code, str(n.get("alerts", 0)), str(n.get("true", 0)), str(n.get("false", 0)))
    console.print(rules)
    summary = Table(title="Summary", show_header=False)
    summary.add_column("Measure")
    summary.add_column("Value", justify="right")
    for name, value in (
        ("Events (warm-up March + evaluated April)", f"{result.events:,} ({result.month_events:,} in April)"),
        ("Person-days (a person and a day of April with any activity)", f"{result.person_days:,}"),
        ("Alerts in April", f"{result.alerts} ({result.true_alerts} true)"),
        ("Precision (true alerts / alerts)", f"{result.precision:.1%}"),
        ("Recall (scenarios detected / injected)",
         f"{result.recall:.0%} ({sum(o.detected for o in result.outcomes)}/{len(result.outcomes)})"),
        ("False-positive person-days ((person or address, day) with a false finding)",
         f"{result.fp_person_days} = {result.fp_rate:.2%} of person-days"),
        ("Time to detect: median / max", f"{_duration(result.ttd_median)} / {_duration(result.ttd_max)}"),
        ("Generation / engine time", f"{result.generate_seconds:.1f} s / {result.engine_seconds:.1f} s "
                                     f"({result.events_per_second:,.0f} events/s)"),
    ):
        summary.add_row(name, value)
    console.print(summary)


def report(seed: int = 7, people: int = 50, console=None) -> Result:
    """Generate, evaluate and print the suite's report; returns the figures."""
    if console is None:
        import sys

        from rich.console import Console

        console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    started = time.perf_counter()
    stream = generate(seed, people)
    generated = time.perf_counter() - started
    result = evaluate(stream)
    result.generate_seconds = generated
    render(result, console)
    return result


# --- JSON lines (for ``custodia monitor replay``) ----------------------------------------------


def to_json_line(ev: Ev) -> str:
    """One event as a JSON line in the audit export's columns (history.parse_line reads it back)."""
    return json.dumps({
        "seq": ev.seq, "id": ev.id, "occurred_at": ev.at.isoformat(), "action": ev.action, "actor_id": ev.actor,
        "actor_role": ev.actor_role, "source_ip": ev.source_ip, "target_type": ev.target_type,
        "target_id": ev.target_id, "subject_id": ev.subject_id, "object_ids": list(ev.object_ids),
        "outcome": ev.outcome, "detail": ev.detail,
    }, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path, seed: int = 7, people: int = 50) -> int:
    """Write the scenario stream to ``path`` as JSON lines; returns the number of events."""
    stream = generate(seed, people)
    with open(path, "w", encoding="utf-8") as out:
        for ev in stream.events:
            out.write(to_json_line(ev) + "\n")
    return len(stream.events)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m custodia.monitor.scenarios", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=50, help="size of the sales force (30 to 2000)")
    parser.add_argument("--jsonl", metavar="FILE", help="also write the event stream as JSON lines")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custodia.config.settings")
    import django

    django.setup()
    if args.jsonl:
        write_jsonl(args.jsonl, args.seed, args.people)
    result = report(args.seed, args.people)
    return 0 if result.recall == 1.0 and result.fp_rate <= 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())

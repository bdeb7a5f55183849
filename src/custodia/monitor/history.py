"""Running rules over recorded events: the database's audit log (dry runs, nightly baselines)
and JSON-lines files (``custodia monitor replay``). Both feed a fresh engine with a memory store,
in event order; nothing live is touched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from custodia.monitor.engine import AlertBook, Directory, Engine, Ev, Finding, RuleSpec
from custodia.monitor.stores import MemoryStore

COLUMNS = ("seq", "id", "occurred_at", "action", "actor_id", "actor_role", "source_ip", "target_type", "target_id",
           "subject_id", "object_ids", "outcome", "detail")
WARM_UP_DAYS = 28  # history replayed before the reported period, so baselines exist when it starts


def db_events(since: dt.datetime, until: dt.datetime | None = None, chunk: int = 5000) -> Iterator[Ev]:
    """Audit events from ``since`` in sequence order (keyset pages; pruned bodies are skipped)."""
    from custodia.audit.models import AuditEvent

    last = 0
    while True:
        qs = AuditEvent.objects.filter(seq__gt=last, occurred_at__gte=since).exclude(action="")
        if until is not None:
            qs = qs.filter(occurred_at__lt=until)
        rows = list(qs.order_by("seq").values(*COLUMNS)[:chunk])
        for row in rows:
            yield Ev.from_values(row)
        if len(rows) < chunk:
            return
        last = rows[-1]["seq"]


@dataclass
class Run:
    """What a run over history found."""

    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    book: AlertBook = field(default_factory=AlertBook)

    @property
    def alerts(self) -> list[dict]:
        return self.book.alerts


def run(events: Iterable[Ev], rules: list[RuleSpec], *, report_from: dt.datetime | None = None,
        directory: Directory | None = None, on_alert=None) -> Run:
    """Evaluate ``rules`` over ``events`` (learning baselines as the days go by); findings before
    ``report_from`` only warm the state up. ``on_alert(alert)`` is called for each new alert."""
    engine = Engine(rules, MemoryStore(), directory or Directory(), learn=True, tz=settings.TIME_ZONE)
    result = Run()
    for ev in events:
        result.events += 1
        for finding in engine.evaluate(ev):
            if report_from is not None and ev.at < report_from:
                continue
            result.findings.append(finding)
            alert = result.book.add(finding)
            if alert is not None and on_alert is not None:
                on_alert(alert)
    return result


def dry_run(spec: RuleSpec, days: int, now: dt.datetime | None = None) -> Run:
    """What the rule ``spec`` would have raised over the last ``days`` days of the audit log,
    after a 28-day warm-up for baselines and profiles (services.rule_dry_run switches it on)."""
    now = now or timezone.now()
    start = now - dt.timedelta(days=days)
    return run(db_events(start - dt.timedelta(days=WARM_UP_DAYS), now), [spec], report_from=start)


# --- JSON lines --------------------------------------------------------------------------------


class LineError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def parse_line(text: str, line: int) -> Ev | None:
    """One event from a JSON line: the audit log's own export columns (``custodia audit leaves``,
    the audit CSV/JSON export) — id, occurred_at, action, and optionally actor_id, actor_role,
    source_ip, target_type, target_id, subject_id, object_ids, outcome, detail. Blank lines and
    lines starting with # are skipped (None)."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(line, _("not valid JSON (%(error)s)") % {"error": exc.msg}) from None
    except RecursionError:
        raise LineError(line, _("not valid JSON (nested too deeply)")) from None
    if not isinstance(data, dict):
        raise LineError(line, _("each line must be a JSON object"))
    missing = [k for k in ("occurred_at", "action") if not data.get(k)]
    if missing:
        raise LineError(line, _("missing %(fields)s") % {"fields": ", ".join(missing)})
    try:
        at = parse_datetime(data["occurred_at"]) if isinstance(data["occurred_at"], str) else None
    except ValueError:  # well formed but not a real date, e.g. 30 February
        at = None
    if at is None:
        raise LineError(line, _("occurred_at is not an ISO 8601 date and time"))
    if timezone.is_naive(at):
        at = timezone.make_aware(at, dt.UTC)
    for name, kind in (("object_ids", list), ("detail", dict)):
        if name in data and data[name] is not None and not isinstance(data[name], kind):
            raise LineError(line, _("%(field)s must be a JSON %(kind)s") % {
                "field": name, "kind": "array" if kind is list else "object"})
    if not isinstance(data["action"], str):
        raise LineError(line, _("action must be a string"))
    values = {k: data.get(k) for k in COLUMNS}
    values["id"] = str(data.get("id") or f"line-{line}")
    values["occurred_at"] = at
    return Ev.from_values(values)


def read_lines(lines: Iterable[str]) -> Iterator[Ev]:
    """Events of a JSON-lines stream, which must be in time order."""
    last = None
    for number, text in enumerate(lines, start=1):
        ev = parse_line(text, number)
        if ev is None:
            continue
        if last is not None and ev.at < last:
            raise LineError(number, _("events must be in time order (this one is earlier than the line before)"))
        last = ev.at
        yield ev


def check_days(days) -> int:
    try:
        value = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": [_("Enter a whole number.")]}) from None
    if not 1 <= value <= 90:
        raise ValidationError({"days": [_("Choose between 1 and 90 days.")]})
    return value

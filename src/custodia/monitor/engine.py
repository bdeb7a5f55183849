"""The detector engine: audit events in, findings out. The same code runs inline (inside the
request's transaction, before it commits), on history (dry runs, baselines) and offline
(``custodia monitor replay``, the scenario suite); only the state store differs (stores.py).

Counting. A volume metric counts distinct customers for views, reveals and core-tier access (a
customer seen again within the window does not count twice: the store keeps when each customer
was last seen by the person) and rows or searches for exports and identifier searches. Counts
are kept in buckets of a twelfth of the window, so a window slides in steps of that size.

Baselines. For each person, metric and window the engine can learn the daily peak count; a
person's baseline is the robust high-normal level of their last 28 active days (median plus three
scaled median absolute deviations), so a few outlying days do not move it. Inline, the baselines
come from the nightly job (baselines.py); offline the engine learns them as the days go by.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from custodia.monitor.choices import RESPONSE_RANK, SEVERITY_RANK, Mode, Response

BASELINE_DAYS = 28
BASELINE_MIN_DAYS = 7
MAD_SCALE = 1.4826  # makes the MAD estimate the standard deviation of normal data
STATUS_CUT_OFF = frozenset({"inactive", "departed", "suspended"})

# Actions that feed each volume metric (api names of audit events).
VIEW_ACTIONS = {"customer.viewed", "customer.list.viewed", "customer.records.viewed"}
REVEAL_ACTIONS = {"customer.field.revealed"}
EXPORT_ACTIONS = {"customer.exported"}
SEARCH_ACTIONS = {"customer.searched"}
CORE_ACTIONS = VIEW_ACTIONS | REVEAL_ACTIONS | EXPORT_ACTIONS
DISTINCT_METRICS = frozenset({"viewed", "revealed", "core_not_owned"})
LOGIN = "access.login"
LOGIN_FAILED = "access.login.failed"
TOKEN_REFUSED = "access.token.refused"
MONITOR_PREFIX = "monitor."  # the monitor's own events are never evaluated


@dataclass(frozen=True)
class Ev:
    """One audit event as the detectors see it."""

    id: str
    at: dt.datetime
    action: str
    actor: str | None = None  # the acting person's id (None for system actors and anonymous)
    actor_role: str = ""
    source_ip: str = ""
    target_type: str = ""
    target_id: str | None = None
    subject_id: str | None = None
    object_ids: tuple = ()
    outcome: str = "success"
    detail: dict = field(default_factory=dict)
    seq: int | None = None

    @classmethod
    def from_values(cls, v: dict) -> Ev:
        """From audit column values (a dict as ``audit_record`` builds it, or a row)."""
        actor = v.get("actor_id")
        return cls(
            id=str(v["id"]), at=v["occurred_at"], action=v["action"], actor=str(actor) if actor else None,
            actor_role=v.get("actor_role") or "", source_ip=v.get("source_ip") or "",
            target_type=v.get("target_type") or "", target_id=_str(v.get("target_id")),
            subject_id=_str(v.get("subject_id")), object_ids=tuple(str(i) for i in v.get("object_ids") or ()),
            outcome=v.get("outcome") or "success", detail=v.get("detail") or {}, seq=v.get("seq"),
        )


def _str(value) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the engine evaluates it (a version of ``models.Rule``)."""

    code: str
    version: int
    kind: str
    params: dict
    responses: dict
    mode: str = Mode.ON
    name: str = ""

    def response(self, severity: str) -> str:
        return self.responses.get(severity, Response.ALERT)

    def watches(self, role: str) -> bool:
        roles = self.params.get("roles") or []
        return not roles or role in roles


@dataclass
class Finding:
    """A rule matched an event. ``subject`` is what it is about: "person:<id>" or "ip:<address>"."""

    rule: str
    version: int
    kind: str
    severity: str
    response: str
    subject: str
    event_id: str
    at: dt.datetime
    reason: str  # threshold, baseline, unusual_hour, new_ip, new_device, dormant, account, address, spray,
    # cooling_off, deactivated
    value: float = 0
    limit: float = 0
    window_seconds: int = 0
    person_id: str | None = None
    source_ip: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return f"{self.rule}|{self.subject}"

    @property
    def dedup_seconds(self) -> int:
        """Findings of the same rule and subject within this time add to one alert."""
        return max(self.window_seconds, 86400 if self.kind in ("departure", "login_hours", "new_source",
                                                               "dormant") else 3600)


def robust_level(peaks: list[float]) -> float:
    """The high-normal level of a person's daily peaks: median + 3 scaled MADs."""
    median = statistics.median(peaks)
    mad = statistics.median(abs(p - median) for p in peaks)
    return median + 3 * MAD_SCALE * mad


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def metric_items(ev: Ev, metric: str) -> tuple[tuple, int]:
    """What ``ev`` adds to ``metric``: distinct items (customer ids), or an amount."""
    action = ev.action
    if metric == "viewed" and action in VIEW_ACTIONS:
        if action == "customer.list.viewed":
            return ev.object_ids, 0
        return ((ev.subject_id or ev.target_id),) if (ev.subject_id or ev.target_id) else (), 0
    if metric == "revealed" and action in REVEAL_ACTIONS:
        return ((ev.subject_id or ev.target_id),) if (ev.subject_id or ev.target_id) else (), 0
    if metric == "exported" and action in EXPORT_ACTIONS:
        return (), len(ev.object_ids) or int(ev.detail.get("rows") or 0)
    if metric == "searched" and action in SEARCH_ACTIONS:
        return (), 1
    if metric == "core_not_owned" and action in CORE_ACTIONS:
        return tuple(str(i) for i in ev.detail.get("core_not_owned") or ()), 0
    return (), 0


def granularity(window: int) -> int:
    return max(10, window // 12)


class Directory:
    """Who a person is now: their employment status. Inline it is read from the database
    (inline.LiveDirectory); offline it follows the stream (status changes, deactivations,
    suspensions), starting from nobody known."""

    def __init__(self):
        self.statuses: dict[str, str] = {}

    def status(self, person_id: str | None) -> str | None:
        return self.statuses.get(person_id) if person_id else None

    def observe(self, ev: Ev) -> None:
        """Follow status changes recorded in the stream."""
        if ev.action == "identity.user.deactivated" and ev.target_id:
            self.statuses[ev.target_id] = "inactive"
        elif ev.action == "identity.user.status_changed" and ev.target_id:
            self.statuses[ev.target_id] = ev.detail.get("employment_status") or "active"
        elif ev.action == "identity.user.access_cut" and ev.target_id:  # recorded only when cut off
            departed = ev.detail.get("employment_status") == "departed"
            self.statuses[ev.target_id] = "departed" if departed else "inactive"
        elif ev.action == "monitor.account.suspended" and ev.target_id:
            self.statuses[ev.target_id] = "suspended"
        elif ev.action == "monitor.suspension.lifted" and ev.target_id:
            self.statuses[ev.target_id] = "active"


class Engine:
    """Evaluates rules over events, one at a time, in order. ``learn``: keep daily peaks and
    refresh baselines at each day boundary (history and offline replays)."""

    def __init__(self, rules: Iterable[RuleSpec], store, directory: Directory | None = None, *,
                 learn: bool = False, tz: str = "Asia/Shanghai"):
        self.rules = [r for r in rules if r.mode != Mode.OFF]
        self.store = store
        self.directory = directory or Directory()
        self.learn = learn
        self.tz = zoneinfo.ZoneInfo(tz)
        self._volume: dict[str, list[RuleSpec]] = defaultdict(list)
        self._by_kind: dict[str, list[RuleSpec]] = defaultdict(list)
        for rule in self.rules:
            if rule.kind == "volume":
                self._volume[rule.params["metric"]].append(rule)
            else:
                self._by_kind[rule.kind].append(rule)
        self._windows = {m: sorted({r.params["window_seconds"] for r in rs}) for m, rs in self._volume.items()}
        self._peaks: dict[tuple, dict] = defaultdict(dict)
        self._active: dict[str, set] = defaultdict(set)
        self._day: dt.date | None = None

    # --- the entry point ------------------------------------------------------------------

    def evaluate(self, ev: Ev) -> list[Finding]:
        if ev.action.startswith(MONITOR_PREFIX):
            self.directory.observe(ev)
            return []
        if self.learn:
            self._learn_day(ev)
        findings: list[Finding] = []
        if ev.actor is not None:
            findings += self._volumes(ev)
            if ev.action == LOGIN:
                findings += self._login(ev)
        if ev.action == LOGIN_FAILED:
            findings += self._failed_login(ev)
        findings += self._departure(ev)
        self.directory.observe(ev)
        return findings

    def _finding(self, rule: RuleSpec, ev: Ev, severity: str, reason: str, *, subject: str | None = None,
                 person: str | None = None, **kw) -> Finding:
        person = person if person is not None else ev.actor
        return Finding(rule=rule.code, version=rule.version, kind=rule.kind, severity=severity,
                       response=rule.response(severity), subject=subject or f"person:{person}",
                       event_id=ev.id, at=ev.at, reason=reason, person_id=person, source_ip=ev.source_ip, **kw)

    # --- volume ---------------------------------------------------------------------------

    def _volumes(self, ev: Ev) -> list[Finding]:
        out = []
        now = ev.at.timestamp()
        for metric, rules in self._volume.items():
            rules = [r for r in rules if r.watches(ev.actor_role)]
            if not rules:
                continue
            items, amount = metric_items(ev, metric)
            if not items and not amount:
                continue
            windows = sorted({r.params["window_seconds"] for r in rules})
            if metric in DISTINCT_METRICS:
                prev = self.store.seen(f"s:{metric}:{ev.actor}", items, now, ttl=max(windows))
                added = {w: sum(1 for i in set(items) if prev.get(i) is None or now - prev[i] >= w)
                         for w in windows}
            else:
                added = dict.fromkeys(windows, amount)
            counts = self.store.count(
                [(f"c:{metric}:{w}:{ev.actor}", granularity(w), added[w], w) for w in windows], now)
            baselines = self.store.baselines(ev.actor) if any(r.params["baseline_factor"] for r in rules) else {}
            for rule in rules:
                w = rule.params["window_seconds"]
                count = counts[f"c:{metric}:{w}:{ev.actor}"]
                if self.learn:
                    self._peak(ev, metric, w, count)
                out += self._volume_check(rule, ev, metric, w, count, baselines)
        return out

    def _volume_check(self, rule, ev, metric, w, count, baselines) -> list[Finding]:
        p = rule.params
        hits = []
        if count >= p["threshold"]:
            hits.append((p["threshold_severity"], "threshold", p["threshold"]))
        base = baselines.get(f"{metric}:{w}")
        if p["baseline_factor"] and base is not None:
            limit = max(p["baseline_min"], p["baseline_factor"] * base)
            if count > limit:
                hits.append((p["baseline_severity"], "baseline", round(limit, 1)))
        if not hits:
            return []
        severity, reason, limit = max(hits, key=lambda h: SEVERITY_RANK[h[0]])
        return [self._finding(rule, ev, severity, reason, value=count, limit=limit, window_seconds=w,
                              detail={"metric": metric, "baseline": base})]

    # --- sign-in --------------------------------------------------------------------------

    def _office(self, rule: RuleSpec, local: dt.datetime) -> bool:
        return rule.params["office_start"] <= local.hour < rule.params["office_end"]

    def _login(self, ev: Ev) -> list[Finding]:
        key = f"p:{ev.actor}"
        profile = self.store.get(key) or {"hours": [0] * 24, "n": 0, "last": None, "ips": {}, "devices": {}}
        local = ev.at.astimezone(self.tz)
        now = ev.at.timestamp()
        ip = digest(ev.source_ip) if ev.source_ip else ""
        device = str(ev.detail.get("device") or "")
        out = []
        for rule in self._by_kind["login_hours"]:
            if not rule.watches(ev.actor_role) or self._office(rule, local):
                continue
            h, hours, n = local.hour, profile["hours"], profile["n"]
            share = (hours[h - 1] + hours[h] + hours[(h + 1) % 24]) / n if n else 0.0
            if n < rule.params["min_logins"] or share < rule.params["rarity"]:
                out.append(self._finding(rule, ev, rule.params["severity"], "unusual_hour", value=local.hour,
                                         detail={"hour": local.hour, "share": round(share, 3), "history": n}))
        for rule in self._by_kind["new_source"]:
            if not rule.watches(ev.actor_role) or profile["n"] < rule.params["min_logins"]:
                continue
            new = [name for name, seen, value in (("new_ip", profile["ips"], ip), ("new_device", profile["devices"],
                                                                                      device))
                   if value and value not in seen]
            if new:
                severity = rule.params["severity"] if self._office(rule, local) else rule.params["off_hours_severity"]
                out.append(self._finding(rule, ev, severity, new[0], detail={"new": new, "hour": local.hour}))
        for rule in self._by_kind["dormant"]:
            last = profile["last"]
            if rule.watches(ev.actor_role) and last is not None and now - last > rule.params["days"] * 86400:
                out.append(self._finding(rule, ev, rule.params["severity"], "dormant",
                                         value=round((now - last) / 86400, 1), limit=rule.params["days"]))
        profile["hours"][local.hour] += 1
        profile["n"] += 1
        profile["last"] = now
        for name, value in (("ips", ip), ("devices", device)):
            if value:
                seen = profile[name]
                seen[value] = now
                if len(seen) > 200:  # keep the most recent
                    for old in sorted(seen, key=seen.get)[: len(seen) - 200]:
                        del seen[old]
        self.store.put(key, profile)
        return out

    def _failed_login(self, ev: Ev) -> list[Finding]:
        out = []
        now = ev.at.timestamp()
        for rule in self._by_kind["failed_logins"]:
            p = rule.params
            w = p["window_seconds"]
            keys = [(f"c:fail:ip:{w}:{ev.source_ip}", granularity(w), 1, w)] if ev.source_ip else []
            spread = 0
            if ev.target_id:
                keys.append((f"c:fail:acct:{w}:{ev.target_id}", granularity(w), 1, w))
                if ev.source_ip:
                    prev = self.store.seen(f"s:failacct:{ev.source_ip}", (ev.target_id,), now, ttl=w)
                    spread = int(prev.get(ev.target_id) is None or now - prev[ev.target_id] >= w)
                    keys.append((f"c:failacct:{w}:{ev.source_ip}", granularity(w), spread, w))
            counts = self.store.count(keys, now)
            account = counts.get(f"c:fail:acct:{w}:{ev.target_id}", 0)
            by_ip = counts.get(f"c:fail:ip:{w}:{ev.source_ip}", 0)
            accounts = counts.get(f"c:failacct:{w}:{ev.source_ip}", 0)
            if ev.target_id and account >= p["per_account"]:
                out.append(self._finding(rule, ev, p["severity"], "account", person=ev.target_id, value=account,
                                         limit=p["per_account"], window_seconds=w))
            if ev.source_ip and accounts >= p["accounts_per_ip"]:
                out.append(self._finding(rule, ev, p["spray_severity"], "spray", subject=f"ip:{ev.source_ip}",
                                         person="", value=accounts, limit=p["accounts_per_ip"], window_seconds=w))
            elif ev.source_ip and by_ip >= p["per_ip"]:
                out.append(self._finding(rule, ev, p["severity"], "address", subject=f"ip:{ev.source_ip}",
                                         person="", value=by_ip, limit=p["per_ip"], window_seconds=w))
        return out

    # --- departure ------------------------------------------------------------------------

    def _departure(self, ev: Ev) -> list[Finding]:
        rules = self._by_kind["departure"]
        if not rules:
            return []
        out = []
        if ev.actor is not None:
            status = self.directory.status(ev.actor)
            if status == "cooling_off" and ev.action != "access.logout":
                out += [self._finding(r, ev, r.params["cooling_off_severity"], "cooling_off",
                                      detail={"action": ev.action}) for r in rules]
            elif status in STATUS_CUT_OFF:
                out += [self._finding(r, ev, r.params["deactivated_severity"], "deactivated",
                                      detail={"action": ev.action, "status": status}) for r in rules]
        elif ev.action in (LOGIN_FAILED, TOKEN_REFUSED) and ev.target_id:
            status = self.directory.status(ev.target_id)
            if status in STATUS_CUT_OFF:
                out += [self._finding(r, ev, r.params["deactivated_severity"], "deactivated", person=ev.target_id,
                                      detail={"action": ev.action, "status": status}) for r in rules]
        return out

    # --- learning baselines ---------------------------------------------------------------

    def _peak(self, ev: Ev, metric: str, w: int, count: int) -> None:
        day = ev.at.astimezone(self.tz).date()
        peaks = self._peaks[(ev.actor, metric, w)]
        peaks[day] = max(peaks.get(day, 0), count)

    def _learn_day(self, ev: Ev) -> None:
        day = ev.at.astimezone(self.tz).date()
        if ev.actor is not None and ev.action in VIEW_ACTIONS | REVEAL_ACTIONS | EXPORT_ACTIONS | SEARCH_ACTIONS:
            self._active[ev.actor].add(day)
        if self._day is not None and day > self._day:
            self.refresh_baselines(day)
        self._day = day

    def refresh_baselines(self, today: dt.date) -> dict[str, dict]:
        """Baselines of every person from the peaks of their last 28 active days before ``today``
        (at least 7 such days; quiet active days count as zero)."""
        start = today - dt.timedelta(days=BASELINE_DAYS)
        learned: dict[str, dict] = defaultdict(dict)
        for person, active in self._active.items():
            days = [d for d in active if start <= d < today]
            if len(days) < BASELINE_MIN_DAYS:
                continue
            # every watched metric, not only those the person used: a metric they never touched
            # has a zero baseline, so its floor applies (a first-ever bulk export is not unwatched)
            for metric, windows in self._windows.items():
                for w in windows:
                    peaks = self._peaks.get((person, metric, w), {})
                    learned[person][f"{metric}:{w}"] = round(robust_level([peaks.get(d, 0) for d in days]), 2)
        for peaks in self._peaks.values():
            for old in [d for d in peaks if d < start]:
                del peaks[old]
        for person, values in learned.items():
            self.store.put_baselines(person, values)
        return learned


class AlertBook:
    """Findings folded into alerts offline (replay, dry runs, the scenario suite) the way the live
    service folds them: one alert per rule and subject while findings keep coming within the
    rule's dedup time; its severity is the highest seen."""

    def __init__(self):
        self.alerts: list[dict] = []
        self._open: dict[str, dict] = {}

    def add(self, finding: Finding) -> dict | None:
        """Fold in a finding; returns the alert when it is new."""
        current = self._open.get(finding.dedup_key)
        if current is not None and (finding.at - current["last_at"]).total_seconds() <= finding.dedup_seconds:
            current["last_at"] = finding.at
            current["count"] += 1
            current["events"].append(finding.event_id)
            if SEVERITY_RANK[finding.severity] > SEVERITY_RANK[current["severity"]]:
                current["severity"] = finding.severity
            return None
        alert = {"rule": finding.rule, "version": finding.version, "severity": finding.severity,
                 "subject": finding.subject, "person_id": finding.person_id, "reason": finding.reason,
                 "first_at": finding.at, "last_at": finding.at, "count": 1, "events": [finding.event_id],
                 "value": finding.value, "limit": finding.limit, "response": finding.response}
        self._open[finding.dedup_key] = alert
        self.alerts.append(alert)
        return alert


def strongest(findings: Iterable[Finding]) -> Finding | None:
    """The finding whose response intervenes most (then the most severe)."""
    ranked = sorted(findings, key=lambda f: (RESPONSE_RANK[f.response], SEVERITY_RANK[f.severity]), reverse=True)
    return ranked[0] if ranked else None


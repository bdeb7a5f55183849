"""The scenario suite: a month of a sales force's audit events with insider misuse injected, run
through the shipped rules, scored for precision, recall and time to detect.

The stream is deterministic for a seed (one ``random.Random``). Asia/Shanghai time: March 2026 is
the warm-up (the history a live system has, so baselines and sign-in profiles exist; it stands
for a longer history, so every known home address and second device is used at least once in
it) and April 2026 is the evaluated month, with the 清明 holiday on 4–6 April. Normal work:
Chinese working days, sign-in around 08:30–10:00, occasional evening sign-ins before 21:00 from
home, some Saturdays, sick days, busy days two to three times the usual volume, heavy and light
users, typos at sign-in, occasional travel (a hotel address) and a new laptop.

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
import hashlib
import json
import math
import os
import random
import statistics
import time
import uuid
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from custodia.monitor.engine import Ev, RuleSpec

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
WARM_UP_START = dt.date(2026, 3, 1)
MONTH_START = dt.date(2026, 4, 1)
MONTH_END = dt.date(2026, 4, 30)
HOLIDAYS = frozenset({dt.date(2026, 4, 4), dt.date(2026, 4, 5), dt.date(2026, 4, 6)})  # 清明节
GRACE = dt.timedelta(hours=24)
PUBLIC_FIRST_OCTETS = (58, 59, 60, 61, 101, 112, 114, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 180,
                       182, 183, 202, 210, 211, 218, 219, 220, 221, 222, 223)
FOREIGN_FIRST_OCTETS = (5, 31, 45, 77, 91, 94, 103, 141, 176, 185, 193, 194, 195)


# --- people and the calendar -----------------------------------------------------------------


@dataclass
class Person:
    id: str
    username: str
    role: str
    team: int
    office_ip: str
    home_ips: list[str]
    devices: list[str]
    portfolio: list[str] = field(default_factory=list)  # what the person may see (team for managers)
    hot: list[str] = field(default_factory=list)  # the customers they work with most
    core: list[str] = field(default_factory=list)  # core-tier customers they own
    intensity: float = 1.0
    arrival: int = 540  # minutes after midnight
    leaving: int = 1080
    saturdays: float = 0.0
    reveal_rate: float = 0.2
    first_day: dt.date = WARM_UP_START
    last_day: dt.date = MONTH_END  # no normal activity after it (left, or dormant from the day after)
    cooling_off: tuple | None = None  # (from datetime, to datetime): status cooling_off in between


def is_workday(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), TZ) + dt.timedelta(minutes=minutes)


def _public_ip(rng: random.Random, octets=PUBLIC_FIRST_OCTETS) -> str:
    return f"{rng.choice(octets)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def _device(rng: random.Random) -> str:
    return hashlib.sha256(rng.getrandbits(64).to_bytes(8, "big")).hexdigest()[:16]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def make_people(rng: random.Random, n: int) -> list[Person]:
    """``n`` people: about 80 % reps in teams of six or seven, a manager per team, compliance
    officers, an HR officer and a security admin."""
    managers = max(1, round(n * 0.12))
    compliance = max(1, round(n * 0.04))
    others = 2
    reps = n - managers - compliance - others
    roles = ["hr", "secadmin"] + ["compliance"] * compliance + ["manager"] * managers + ["rep"] * reps
    people = []
    for i, role in enumerate(roles):
        team = (i - others - compliance) % managers if role in ("rep", "manager") else managers
        people.append(Person(
            id=_uuid(rng), username=f"{role}{i:03d}", role=role, team=team,
            office_ip=f"10.20.{team + 1}.{10 + i}",
            home_ips=[_public_ip(rng)] if rng.random() < 0.8 else [],
            devices=[_device(rng) for _ in range(2 if rng.random() < 0.4 else 1)],
            intensity=min(2.5, max(0.4, rng.lognormvariate(0, 0.35))),
            arrival=rng.randint(8 * 60 + 25, 9 * 60 + 45), leaving=rng.randint(17 * 60 + 20, 19 * 60 + 20),
            saturdays=0.3 if role in ("rep", "manager") and rng.random() < 0.25 else 0.0,
            reveal_rate=rng.choice((0.2, 0.5, 1.5, 3.0)) if role == "rep" else 2.0 if role == "compliance" else 0.5,
        ))
    everyone = []
    for p in people:
        if p.role == "rep":
            p.portfolio = [_uuid(rng) for _ in range(rng.randint(150, 400))]
            p.core = rng.sample(p.portfolio, len(p.portfolio) // 10)
            p.hot = rng.sample(p.portfolio, rng.randint(30, 80))
            everyone += p.portfolio
    for p in people:
        if p.role == "manager":
            team = [r for r in people if r.role == "rep" and r.team == p.team]
            p.portfolio = [c for r in team for c in r.portfolio if c not in set(r.core)]
            p.hot = [c for r in team for c in r.hot[:15]]
        elif p.role == "compliance":
            p.portfolio, p.hot = everyone, rng.sample(everyone, 200)
    return people


# --- the generator ---------------------------------------------------------------------------


@dataclass
class Scenario:
    label: str
    kind: str
    who: str  # username or address
    subject: str  # "person:<id>" or "ip:<address>", as findings name it
    start: dt.datetime
    end: dt.datetime
    event_ids: set = field(default_factory=set)


@dataclass
class Stream:
    seed: int
    people: list[Person]
    events: list[Ev]
    scenarios: list[Scenario]
    report_from: dt.datetime


class _Gen:
    def __init__(self, seed: int, n: int):
        if not 30 <= n <= 2000:
            raise ValueError("people must be between 30 and 2000")
        self.rng = random.Random(seed)
        self.seed = seed
        self.people = make_people(self.rng, n)
        self.hr = self.people[0]
        self.events: list[Ev] = []
        self.scenarios: list[Scenario] = []
        self._n = 0
        self._forced: dict[tuple, str] = {}  # (person id, day) -> "home" | "device"
        self._cutoff: dict[tuple, dt.datetime] = {}  # (person id, day) -> normal work ends before this

    def ev(self, p: Person | None, action: str, when: dt.datetime, scenario: Scenario | None = None, **kw) -> Ev:
        self._n += 1
        e = Ev(id=f"s{self.seed}-{self._n}", at=when, action=action, actor=p.id if p else None,
               actor_role=p.role if p else "", **kw)
        self.events.append(e)
        if scenario is not None:
            scenario.event_ids.add(e.id)
        return e

    # --- normal work ---

    def normal(self) -> None:
        workdays = [d for d in days(WARM_UP_START, MONTH_START - dt.timedelta(days=1)) if is_workday(d)]
        for p in self.people:  # known home addresses and second devices are part of the history
            for kind, _values in (("home", p.home_ips), ("device", p.devices[1:])):
                if _values:
                    self._forced[(p.id, self.rng.choice(workdays[:15]))] = kind
        for day in days(WARM_UP_START, MONTH_END):
            for p in self.people:
                if not p.first_day <= day <= p.last_day:
                    continue
                if is_workday(day):
                    if self.rng.random() < 0.04 and (p.id, day) not in self._forced:
                        continue  # sick or on leave
                    self.workday(p, day, 1.0)
                elif day.weekday() == 5 and day not in HOLIDAYS and self.rng.random() < p.saturdays:
                    self.workday(p, day, 0.5, late=90)

    def workday(self, p: Person, day: dt.date, scale: float, late: int = 0) -> None:
        rng = self.rng
        forced = self._forced.get((p.id, day))
        start = at(day, min(630, max(480, rng.gauss(p.arrival + late, 18))))
        end = at(day, min(1230, max(1020, rng.gauss(p.leaving, 30))))
        cutoff = self._cutoff.get((p.id, day))
        if cutoff is not None:
            end = min(end, cutoff - dt.timedelta(minutes=30))
        home = forced == "home" or (p.home_ips and rng.random() < 0.04)
        ip = rng.choice(p.home_ips) if home else p.office_ip
        if rng.random() < 0.002:
            ip = _public_ip(rng)  # travelling: a hotel or a customer's site
        device = p.devices[1] if forced == "device" or (len(p.devices) > 1 and rng.random() < 0.2) else p.devices[0]
        self.sign_in(p, start, ip, device)
        if p.role in ("rep", "manager", "compliance"):
            factor = rng.uniform(2, 3) if rng.random() < 0.08 else rng.uniform(0.6, 1.3)
            self.customer_work(p, start, end, p.intensity * factor * scale)
        if rng.random() < 0.5:
            self.ev(p, "access.logout", end, source_ip=ip)
        if p.home_ips and end.hour < 19 and rng.random() < 0.07 and cutoff is None:
            evening = at(day, rng.randint(19 * 60, 20 * 60 + 45))
            self.sign_in(p, evening, p.home_ips[0], p.devices[-1])
            if p.role in ("rep", "manager", "compliance"):
                self.customer_work(p, evening, evening + dt.timedelta(minutes=rng.randint(10, 40)), 0.2)

    def sign_in(self, p: Person, when: dt.datetime, ip: str, device: str, scenario=None) -> None:
        if scenario is None and self.rng.random() < 0.04:  # a typo or two
            for i in range(self.rng.choice((1, 1, 2))):
                self.ev(None, "access.login.failed", when - dt.timedelta(seconds=20 - 8 * i), target_type="user",
                        target_id=p.id, source_ip=ip, outcome="failure")
        self.ev(p, "access.login", when, scenario, source_ip=ip, target_type="user", target_id=p.id,
                detail={"device": device})

    def customer_work(self, p: Person, start: dt.datetime, end: dt.datetime, k: float) -> None:
        rng, span = self.rng, max(60.0, (end - start).total_seconds() - 120)
        manager, compliance = p.role == "manager", p.role == "compliance"

        def when():
            return start + dt.timedelta(seconds=120 + rng.random() * span)

        def pick(n):
            pool = p.hot if rng.random() < 0.8 else p.portfolio
            return rng.sample(pool, min(n, len(pool)))

        ip = p.office_ip
        for _ in range(_poisson(rng, (14 if manager else 9) * k)):  # back to the list after each customer
            size, roll = rng.choice((20, 25, 50)), rng.random()
            if roll < 0.7:  # "my customers", most recent first: the same page give or take a few
                offset = rng.randint(0, 8)
                ids = p.hot[offset:offset + size]
            elif roll < 0.9:  # a filtered list
                ids = pick(rng.randint(20, 50))
            else:  # paging through the whole list
                offset = rng.randrange(0, max(1, len(p.portfolio) - size))
                ids = p.portfolio[offset:offset + size]
            self.ev(p, "customer.list.viewed", when(), source_ip=ip, target_type="customer", object_ids=tuple(ids))
        for _ in range(_poisson(rng, (30 if compliance else 26) * k)):
            c = pick(1)[0]
            action = "customer.records.viewed" if rng.random() < 0.25 else "customer.viewed"
            self.ev(p, action, when(), source_ip=ip, target_type="customer", target_id=c, subject_id=c)
        for _ in range(_poisson(rng, p.reveal_rate * min(k, 2))):
            c = pick(1)[0]
            self.ev(p, "customer.field.revealed", when(), source_ip=ip, target_type="customer", target_id=c,
                    subject_id=c, detail={"field": rng.choice(("phone", "id_number", "email", "address"))})
        for _ in range(_poisson(rng, (4 if compliance else 0.7) * min(k, 2))):
            self.ev(p, "customer.searched", when(), source_ip=ip, target_type="customer",
                    detail={"by": rng.choice(("phone", "id_number", "email"))})
        if rng.random() < (0.1 if manager else 0.03) * min(k, 2):
            rows = rng.randint(50, 250) if manager else rng.randint(30, 300) if compliance else rng.randint(10, 80)
            if manager and rng.random() < 0.25:
                rows = rng.randint(250, 500)  # the whole team's list, now and then
            self.ev(p, "customer.exported", when(), source_ip=ip, target_type="customer",
                    object_ids=tuple(pick(rows) if rows <= 80 else rng.sample(p.portfolio, min(rows, len(p.portfolio)))),
                    detail={"format": "xlsx", "masked": True})
        if p.role == "rep" and rng.random() < 0.02:  # a colleague's core customer, on a shared deal
            other = rng.choice([r for r in self.people if r.role == "rep" and r is not p and r.core])
            c = rng.choice(other.core)
            self.ev(p, "customer.viewed", when(), source_ip=ip, target_type="customer", target_id=c, subject_id=c,
                    detail={"core_not_owned": [c]})

    def status(self, p: Person, when: dt.datetime, status: str, scenario=None) -> None:
        self.ev(self.hr, "identity.user.status_changed", when, scenario, source_ip=self.hr.office_ip,
                target_type="user", target_id=p.id, detail={"employment_status": status})
        if status == "departed":
            self.ev(self.hr, "identity.user.deactivated", when + dt.timedelta(minutes=1), scenario,
                    source_ip=self.hr.office_ip, target_type="user", target_id=p.id)


def _month_workdays(first: int = 1, last: int = 30) -> list[dt.date]:
    return [d for d in days(MONTH_START, MONTH_END) if is_workday(d) and first <= d.day <= last]


def _next_workday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


# --- injected misuse ---------------------------------------------------------------------------


class _Inject:
    """Plans each scenario before the normal month is generated (who, when, what changes about
    the person's month) and emits its events afterwards."""

    def __init__(self, gen: _Gen):
        self.g = gen
        self.rng = gen.rng
        self.emitters = []

    def plan(self) -> None:
        rng, people = self.rng, self.g.people
        reps = rng.sample([p for p in people if p.role == "rep"], 15)
        manager = rng.choice([p for p in people if p.role == "manager"])
        officer = rng.choice([p for p in people if p.role == "compliance"])
        for p, day in zip([reps[0], reps[1], manager], rng.sample(_month_workdays(2, 29), 3), strict=True):
            self.paging_before_leaving(p, day)
        for p, day in zip(reps[2:5], rng.sample(_month_workdays(1, 21), 3), strict=True):
            self.export_then_resign(p, day)
        for p, day in zip([reps[5], reps[6], officer], rng.sample(days(MONTH_START, dt.date(2026, 4, 28)), 3),
                          strict=True):
            self.after_hours_new_ip(p, day)
        for slow, day in zip((False, False, True), rng.sample(days(MONTH_START, MONTH_END), 3), strict=True):
            self.password_spray(day, slow)
        leave_days = [d for d in days(dt.date(2026, 3, 20), dt.date(2026, 4, 10)) if is_workday(d)]
        for p, day in zip(reps[7:10], rng.sample(leave_days, 3), strict=True):
            self.departed_token(p, day)
        self.dormant_wakeup(reps[10], rng.choice(_month_workdays(7, 24)))
        for p, day in zip(reps[11:13], rng.sample(_month_workdays(1, 30), 2), strict=True):
            self.id_enumeration(p, day)
        for p, day in zip(reps[13:15], rng.sample(_month_workdays(1, 30), 2), strict=True):
            self.colleagues_core(p, day)

    def emit(self) -> list[Scenario]:
        return [emitter() for emitter in self.emitters]

    def _scenario(self, kind: str, label: str, p: Person | None, ip: str = "") -> Scenario:
        n = sum(1 for s in self.g.scenarios if s.kind == kind) + 1
        sc = Scenario(label=f"{label} #{n}", kind=kind, who=p.username if p else ip,
                      subject=f"person:{p.id}" if p else f"ip:{ip}", start=at(MONTH_START, 0), end=at(MONTH_START, 0))
        self.g.scenarios.append(sc)
        return sc

    @staticmethod
    def _close(sc: Scenario, events: list[Ev]) -> Scenario:
        sc.start = min(e.at for e in events if e.id in sc.event_ids)
        sc.end = max(sc.end, max(e.at for e in events if e.id in sc.event_ids))
        return sc

    def paging_before_leaving(self, p: Person, day: dt.date) -> None:
        """The night before leaving, page through hundreds of customers; the next morning HR records
        the departure and deactivates the account."""
        rng, g = self.rng, self.g
        if p.role == "rep" and len(p.portfolio) < 320:
            p.portfolio += [_uuid(rng) for _ in range(rng.randint(320, 400) - len(p.portfolio))]
        t0 = at(day, rng.randint(20 * 60, 23 * 60 + 30))
        p.last_day = day
        g._cutoff[(p.id, day)] = t0
        sc = self._scenario("paging_before_leaving", "Paging through customers the night before leaving", p)
        order = rng.sample(p.portfolio, len(p.portfolio) if p.role == "rep" else min(len(p.portfolio),
                                                                                     rng.randint(600, 900)))
        size, pause = rng.choice((25, 50)), rng.uniform(4, 90)  # seconds a page, quick or careful

        def emit():
            ip = p.home_ips[0] if p.home_ips else p.office_ip
            g.sign_in(p, t0, ip, p.devices[-1], sc)
            when = t0 + dt.timedelta(seconds=30)
            for i in range(0, len(order), size):
                g.ev(p, "customer.list.viewed", when, sc, source_ip=ip, target_type="customer",
                     object_ids=tuple(order[i:i + size]), detail={"page": i // size + 1})
                when += dt.timedelta(seconds=rng.uniform(0.5, 1.5) * pause)
            g.status(p, at(_next_workday(day), 9 * 60 + 40), "departed", sc)
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def export_then_resign(self, p: Person, day: dt.date) -> None:
        """A bulk export of the whole portfolio (masked, one to three files), resignation the next
        working day, and three to five working days of cooling-off in which the person keeps working."""
        rng, g = self.rng, self.g
        resign = at(_next_workday(day), 10 * 60 + rng.randint(0, 90))
        last = resign.date()
        for _ in range(rng.randint(3, 5)):
            last = _next_workday(last)
        leave = at(last, 18 * 60)
        p.last_day, p.cooling_off = last, (resign, leave)
        g._cutoff[(p.id, last)] = leave
        sc = self._scenario("export_then_resign", "Bulk export, then resignation", p)
        t0 = at(day, rng.randint(10 * 60, 16 * 60 + 30))

        def emit():
            when = t0
            for _ in range(rng.randint(1, 3)):
                g.ev(p, "customer.exported", when, sc, source_ip=p.office_ip, target_type="customer",
                     object_ids=tuple(rng.sample(p.portfolio, len(p.portfolio))),
                     detail={"format": rng.choice(("xlsx", "csv")), "masked": True})
                when += dt.timedelta(minutes=rng.randint(2, 20))
            g.status(p, resign, "cooling_off", sc)
            g.status(p, leave, "departed", sc)
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def after_hours_new_ip(self, p: Person, day: dt.date) -> None:
        """A sign-in between 23:00 and 04:00 from an address the person never used, then browsing."""
        rng, g = self.rng, self.g
        t0 = at(day, 23 * 60 + rng.randint(0, 299))
        ip = _public_ip(rng, FOREIGN_FIRST_OCTETS if rng.random() < 0.5 else PUBLIC_FIRST_OCTETS)
        sc = self._scenario("after_hours_new_ip", "After-hours sign-in from a new address", p)

        def emit():
            g.sign_in(p, t0, ip, p.devices[0], sc)
            for _ in range(rng.randint(10, 60)):
                c = rng.choice(p.portfolio)
                g.ev(p, rng.choice(("customer.viewed", "customer.field.revealed")) if rng.random() < 0.1
                     else "customer.viewed", t0 + dt.timedelta(seconds=rng.randint(60, 2400)), sc, source_ip=ip,
                     target_type="customer", target_id=c, subject_id=c)
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def password_spray(self, day: dt.date, slow: bool) -> None:
        """One outside address tries a common password on many accounts: in a few minutes, or slowly
        (one try every two or three minutes for over an hour)."""
        rng, g = self.rng, self.g
        ip = _public_ip(rng, FOREIGN_FIRST_OCTETS)
        t0 = at(day, rng.randint(0, 24 * 60 - 180))
        sc = self._scenario("password_spray", "Password spraying (slow)" if slow else "Password spraying", None, ip)
        accounts = [p.id for p in rng.sample(g.people, min(len(g.people), rng.randint(15, 40)))]
        accounts += [_uuid(rng) for _ in range(3)]  # names that are no account at all
        rng.shuffle(accounts)

        def emit():
            when = t0
            for account in accounts:
                for _ in range(1 if slow else rng.choice((1, 1, 2))):
                    g.ev(None, "access.login.failed", when, sc, source_ip=ip, target_type="user", target_id=account,
                         outcome="failure")
                    when += dt.timedelta(seconds=rng.uniform(100, 170) if slow else rng.uniform(2, 15))
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def departed_token(self, p: Person, last: dt.date) -> None:
        """Someone leaves normally (HR records the departure and deactivates the account at the end of
        the last day); days later their API token is still used by a script."""
        rng, g = self.rng, self.g
        leave = at(last, 18 * 60)
        p.last_day = last
        g._cutoff[(p.id, last)] = leave
        day = max(MONTH_START + dt.timedelta(days=1), last + dt.timedelta(days=rng.randint(3, 12)))
        t0 = at(day, rng.randint(0, 20 * 60))
        ip = rng.choice(p.home_ips) if p.home_ips and rng.random() < 0.5 else _public_ip(rng)
        sc = self._scenario("departed_token", "Departed person's API token used", p)

        def emit():
            g.status(p, leave, "departed")
            when = t0
            for _ in range(rng.randint(3, 20)):
                g.ev(None, "access.token.refused", when, sc, source_ip=ip, target_type="user", target_id=p.id,
                     outcome="failure", detail={"token": "api"})
                when += dt.timedelta(minutes=rng.randint(1, 60))
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def dormant_wakeup(self, p: Person, day: dt.date) -> None:
        """A person on long leave since early March: their account signs in again in April, from the
        office and the usual laptop, and exports the portfolio."""
        rng, g = self.rng, self.g
        p.last_day = dt.date(2026, 3, 4)
        t0 = at(day, rng.randint(10 * 60, 16 * 60))
        sc = self._scenario("dormant_wakeup", "Dormant account active again", p)

        def emit():
            g.sign_in(p, t0, p.office_ip, p.devices[0], sc)
            for i in range(rng.randint(20, 50)):
                c = rng.choice(p.portfolio)
                g.ev(p, "customer.viewed", t0 + dt.timedelta(seconds=30 + 20 * i), sc, source_ip=p.office_ip,
                     target_type="customer", target_id=c, subject_id=c)
            g.ev(p, "customer.exported", t0 + dt.timedelta(minutes=25), sc, source_ip=p.office_ip,
                 target_type="customer", object_ids=tuple(p.portfolio), detail={"format": "xlsx", "masked": True})
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def id_enumeration(self, p: Person, day: dt.date) -> None:
        """Dozens of searches by identity-card or phone number in a few minutes: checking whether
        people from a list are customers."""
        rng, g = self.rng, self.g
        t0 = at(day, rng.randint(10 * 60, 17 * 60))
        sc = self._scenario("id_enumeration", "Enumeration by identifier searches", p)

        def emit():
            n = rng.randint(40, 90)
            span = rng.randint(4 * 60, 12 * 60)
            for i in range(n):
                g.ev(p, "customer.searched", t0 + dt.timedelta(seconds=span * i / n), sc, source_ip=p.office_ip,
                     target_type="customer", detail={"by": rng.choice(("id_number", "phone"))},
                     outcome="success" if rng.random() < 0.3 else "not_found")
            return self._close(sc, g.events)

        self.emitters.append(emit)


    def colleagues_core(self, p: Person, day: dt.date) -> None:
        """An afternoon spent opening colleagues' core-tier customers (reachable through a shared-deal
        grant): the biggest accounts of the team, looked up one by one."""
        rng, g = self.rng, self.g
        t0 = at(day, rng.randint(14 * 60, 16 * 60))
        sc = self._scenario("colleagues_core", "Browsing colleagues' core customers", p)
        others = [c for r in g.people if r.role == "rep" and r is not p for c in r.core]

        def emit():
            when = t0
            for c in rng.sample(others, rng.randint(20, 40)):
                g.ev(p, "customer.viewed", when, sc, source_ip=p.office_ip, target_type="customer", target_id=c,
                     subject_id=c, detail={"core_not_owned": [c]})
                when += dt.timedelta(seconds=rng.randint(30, 300))
            return self._close(sc, g.events)

        self.emitters.append(emit)


def generate(seed: int = 7, people: int = 50) -> Stream:
    """The warm-up and evaluated months of a sales force of ``people``, misuse injected, in time order."""
    gen = _Gen(seed, people)
    inject = _Inject(gen)
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

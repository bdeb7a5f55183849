"""The normal month of the scenario suite (scenarios.py): a sales force in Asia/Shanghai at work,
March 2026 as warm-up history and April 2026 as the evaluated month, generated deterministically
from one ``random.Random``.

Chinese working days (weekends off, 清明 on 4–6 April), sign-in around 08:30–10:00, occasional
evening sign-ins before 21:00 from home, some Saturdays, sick days, busy days two to three times
the usual volume, heavy and light users, typos at sign-in, now and then a hotel's address. The
warm-up stands for the longer history a live system has: every known home address and second
device is used at least once in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import uuid
import zoneinfo
from dataclasses import dataclass, field

from custodia.monitor.engine import Ev

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
WARM_UP_START = dt.date(2026, 3, 1)
MONTH_START = dt.date(2026, 4, 1)
MONTH_END = dt.date(2026, 4, 30)
HOLIDAYS = frozenset({dt.date(2026, 4, 4), dt.date(2026, 4, 5), dt.date(2026, 4, 6)})  # 清明节
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


def public_ip(rng: random.Random, octets=PUBLIC_FIRST_OCTETS) -> str:
    return f"{rng.choice(octets)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def new_device(rng: random.Random) -> str:
    return hashlib.sha256(rng.getrandbits(64).to_bytes(8, "big")).hexdigest()[:16]


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def poisson(rng: random.Random, lam: float) -> int:
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
            id=new_uuid(rng), username=f"{role}{i:03d}", role=role, team=team,
            office_ip=f"10.20.{team + 1}.{10 + i}",
            home_ips=[public_ip(rng)] if rng.random() < 0.8 else [],
            devices=[new_device(rng) for _ in range(2 if rng.random() < 0.4 else 1)],
            intensity=min(2.5, max(0.4, rng.lognormvariate(0, 0.35))),
            arrival=rng.randint(8 * 60 + 25, 9 * 60 + 45), leaving=rng.randint(17 * 60 + 20, 19 * 60 + 20),
            saturdays=0.3 if role in ("rep", "manager") and rng.random() < 0.25 else 0.0,
            reveal_rate=rng.choice((0.2, 0.5, 1.5, 3.0)) if role == "rep" else 2.0 if role == "compliance" else 0.5,
        ))
    everyone = []
    for p in people:
        if p.role == "rep":
            p.portfolio = [new_uuid(rng) for _ in range(rng.randint(150, 400))]
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


class Generator:
    """Builds the stream: the people, their normal month (``normal``), and the events misuse.py
    injects through ``ev``, ``sign_in`` and ``status``. ``cutoff`` ends a person's normal day early
    (the night something is injected, a last day)."""

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
        self.cutoff: dict[tuple, dt.datetime] = {}  # (person id, day) -> normal work ends before this

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
        cutoff = self.cutoff.get((p.id, day))
        if cutoff is not None:
            end = min(end, cutoff - dt.timedelta(minutes=30))
        home = forced == "home" or (p.home_ips and rng.random() < 0.04)
        ip = rng.choice(p.home_ips) if home else p.office_ip
        if rng.random() < 0.002:
            ip = public_ip(rng)  # travelling: a hotel or a customer's site
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
        for _ in range(poisson(rng, (14 if manager else 9) * k)):  # back to the list after each customer
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
        for _ in range(poisson(rng, (30 if compliance else 26) * k)):
            c = pick(1)[0]
            action = "customer.records.viewed" if rng.random() < 0.25 else "customer.viewed"
            self.ev(p, action, when(), source_ip=ip, target_type="customer", target_id=c, subject_id=c)
        for _ in range(poisson(rng, p.reveal_rate * min(k, 2))):
            c = pick(1)[0]
            self.ev(p, "customer.field.revealed", when(), source_ip=ip, target_type="customer", target_id=c,
                    subject_id=c, detail={"field": rng.choice(("phone", "id_number", "email", "address"))})
        for _ in range(poisson(rng, (4 if compliance else 0.7) * min(k, 2))):
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


def month_workdays(first: int = 1, last: int = 30) -> list[dt.date]:
    return [d for d in days(MONTH_START, MONTH_END) if is_workday(d) and first <= d.day <= last]


def next_workday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day

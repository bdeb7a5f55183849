"""The misuse the scenario suite (scenarios.py) injects into the normal month, modelled on the
CERT insider-threat scenarios. Each is planned before the month is generated (who, when, and what
changes about the person's month: a last day, a cooling-off period) and emitted afterwards."""

from __future__ import annotations

import datetime as dt

from custodia.monitor.engine import Ev
from custodia.monitor.simulation import (
    FOREIGN_FIRST_OCTETS,
    MONTH_END,
    MONTH_START,
    PUBLIC_FIRST_OCTETS,
    Generator,
    Person,
    Scenario,
    at,
    days,
    is_workday,
    month_workdays,
    new_uuid,
    next_workday,
    public_ip,
)


class Injector:
    """Plans each scenario before the normal month is generated (who, when, what changes about
    the person's month) and emits its events afterwards."""

    def __init__(self, gen: Generator):
        self.g = gen
        self.rng = gen.rng
        self.emitters = []

    def plan(self) -> None:
        rng, people = self.rng, self.g.people
        reps = rng.sample([p for p in people if p.role == "rep"], 15)
        manager = rng.choice([p for p in people if p.role == "manager"])
        officer = rng.choice([p for p in people if p.role == "compliance"])
        for p, day in zip([reps[0], reps[1], manager], rng.sample(month_workdays(2, 29), 3), strict=True):
            self.paging_before_leaving(p, day)
        for p, day in zip(reps[2:5], rng.sample(month_workdays(1, 21), 3), strict=True):
            self.export_then_resign(p, day)
        for p, day in zip([reps[5], reps[6], officer], rng.sample(days(MONTH_START, dt.date(2026, 4, 28)), 3),
                          strict=True):
            self.after_hours_new_ip(p, day)
        for slow, day in zip((False, False, True), rng.sample(days(MONTH_START, MONTH_END), 3), strict=True):
            self.password_spray(day, slow)
        leave_days = [d for d in days(dt.date(2026, 3, 20), dt.date(2026, 4, 10)) if is_workday(d)]
        for p, day in zip(reps[7:10], rng.sample(leave_days, 3), strict=True):
            self.departed_token(p, day)
        self.dormant_wakeup(reps[10], rng.choice(month_workdays(7, 24)))
        for p, day in zip(reps[11:13], rng.sample(month_workdays(1, 30), 2), strict=True):
            self.id_enumeration(p, day)
        for p, day in zip(reps[13:15], rng.sample(month_workdays(1, 30), 2), strict=True):
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
            p.portfolio += [new_uuid(rng) for _ in range(rng.randint(320, 400) - len(p.portfolio))]
        t0 = at(day, rng.randint(20 * 60, 23 * 60 + 30))
        p.last_day = day
        g.cutoff[(p.id, day)] = t0
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
            g.status(p, at(next_workday(day), 9 * 60 + 40), "departed", sc)
            return self._close(sc, g.events)

        self.emitters.append(emit)

    def export_then_resign(self, p: Person, day: dt.date) -> None:
        """A bulk export of the whole portfolio (masked, one to three files), resignation the next
        working day, and three to five working days of cooling-off in which the person keeps working."""
        rng, g = self.rng, self.g
        resign = at(next_workday(day), 10 * 60 + rng.randint(0, 90))
        last = resign.date()
        for _ in range(rng.randint(3, 5)):
            last = next_workday(last)
        leave = at(last, 18 * 60)
        p.last_day, p.cooling_off = last, (resign, leave)
        g.cutoff[(p.id, last)] = leave
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
        ip = public_ip(rng, FOREIGN_FIRST_OCTETS if rng.random() < 0.5 else PUBLIC_FIRST_OCTETS)
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
        ip = public_ip(rng, FOREIGN_FIRST_OCTETS)
        t0 = at(day, rng.randint(0, 24 * 60 - 180))
        sc = self._scenario("password_spray", "Password spraying (slow)" if slow else "Password spraying", None, ip)
        accounts = [p.id for p in rng.sample(g.people, min(len(g.people), rng.randint(15, 40)))]
        accounts += [new_uuid(rng) for _ in range(3)]  # names that are no account at all
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
        g.cutoff[(p.id, last)] = leave
        day = max(MONTH_START + dt.timedelta(days=1), last + dt.timedelta(days=rng.randint(3, 12)))
        t0 = at(day, rng.randint(0, 20 * 60))
        ip = rng.choice(p.home_ips) if p.home_ips and rng.random() < 0.5 else public_ip(rng)
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

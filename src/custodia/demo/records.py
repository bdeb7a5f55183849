"""The records the demo generator produces: plain frozen dataclasses, no Django."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

ROLES = ("rep", "manager", "compliance", "secadmin", "auditor", "legal", "hr")
KINDS = ("individual", "organisation")
TIERS = ("core", "important", "ordinary")
STAGES = ("lead", "prospect", "active", "dormant", "lost")
SOURCES = ("company_lead", "personal_network")
INTERACTION_KINDS = ("call", "visit", "meeting", "email", "wechat")
OPPORTUNITY_STAGES = ("qualification", "proposal", "negotiation", "won", "lost")
IDENTIFIER_TYPES = ("resident_id", "uscc")


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Team:
    code: str
    name: str
    department_code: str
    manager_username: str
    cities: tuple[str, ...]  # city names ("上海市") the team's customers are mostly in


@dataclass(frozen=True, slots=True)
class Staff:
    username: str
    role: str  # one of ROLES
    full_name: str
    email: str
    title: str  # Chinese job title
    department_code: str | None  # None for staff outside the sales departments
    team_code: str | None
    manager_username: str | None  # reps: their team's manager


@dataclass(frozen=True, slots=True)
class OrgChart:
    departments: tuple[Department, ...]
    teams: tuple[Team, ...]
    staff: tuple[Staff, ...]

    @property
    def reps(self) -> tuple[Staff, ...]:
        return tuple(s for s in self.staff if s.role == "rep")

    def staff_by_username(self) -> dict[str, Staff]:
        return {s.username: s for s in self.staff}

    def team(self, code: str) -> Team:
        return next(t for t in self.teams if t.code == code)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    title: str
    mobile: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Interaction:
    kind: str  # one of INTERACTION_KINDS
    occurred_at: datetime  # aware, UTC
    staff_username: str
    subject: str
    notes: str


@dataclass(frozen=True, slots=True)
class Opportunity:
    name: str
    stage: str  # one of OPPORTUNITY_STAGES
    amount: Decimal  # CNY, 2 decimal places
    opened_on: date
    expected_close: date  # may lie after the end of the window for open opportunities


@dataclass(frozen=True, slots=True)
class Transaction:
    occurred_on: date
    product: str
    quantity: int
    amount: Decimal  # CNY, 2 decimal places


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    key: int  # 1, 2, 3 ... in generation order; stable for a seed
    kind: str  # "individual" | "organisation"
    name: str
    tier: str  # "core" | "important" | "ordinary"
    stage: str  # one of STAGES
    owner_username: str
    team_code: str
    department_code: str
    source: str  # "company_lead" | "personal_network"
    tags: tuple[str, ...]
    mobile: str  # 11 digits, national format
    email: str | None
    identifier_type: str  # "resident_id" (individual) | "uscc" (organisation)
    identifier: str
    bank_name: str | None
    bank_account: str | None
    province: str
    city: str
    address: str
    gender: str | None  # "M" | "F" for individuals
    birth_date: date | None
    notes: str
    created_at: datetime  # aware, UTC
    contacts: tuple[Contact, ...]
    interactions: tuple[Interaction, ...]  # sorted by occurred_at
    opportunities: tuple[Opportunity, ...]
    transactions: tuple[Transaction, ...]  # sorted by occurred_on

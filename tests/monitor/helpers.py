"""Building events and rules for the detector tests."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from custodia.monitor.detectors import DEFAULT_RULES, clean_params, clean_responses
from custodia.monitor.engine import Ev, RuleSpec

SH = dt.timezone(dt.timedelta(hours=8))
_ids = itertools.count(1)


def at(day: int = 2, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """A time on a day of March 2026 (Shanghai)."""
    return dt.datetime(2026, 3, day, hour, tzinfo=SH) + dt.timedelta(minutes=minute, seconds=second)


def ev(action: str, when: dt.datetime, actor: str | None = "p1", **kw) -> Ev:
    return Ev(id=f"e{next(_ids)}", at=when, action=action, actor=actor, actor_role=kw.pop("role", "rep"), **kw)


def customers(n: int, start: int = 0) -> tuple:
    return tuple(str(uuid.UUID(int=i + 1)) for i in range(start, start + n))


def default(code: str, **params) -> RuleSpec:
    d = next(r for r in DEFAULT_RULES if r.code == code)
    merged = {k: (str(v) if hasattr(v, "label") else v) for k, v in d.params.items()} | params
    return RuleSpec(code=d.code, version=1, kind=d.kind, params=clean_params(d.kind, merged),
                    responses=clean_responses(d.kind, {str(k): str(v) for k, v in d.responses.items()}))


def all_defaults() -> list[RuleSpec]:
    return [default(d.code) for d in DEFAULT_RULES]

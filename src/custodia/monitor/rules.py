"""Reading rules: the shipped defaults as rows, and the rules the live engine evaluates."""

from __future__ import annotations

from django.db.models import Count, Max, Sum
from django.utils import timezone

from custodia.monitor.detectors import DEFAULT_RULES
from custodia.monitor.engine import RuleSpec


def seed_defaults(Rule=None, RuleVersion=None) -> int:
    """Create the shipped rules that are missing (a migration and ``custodia check`` call this);
    an edited rule is never overwritten. Returns how many were created."""
    if Rule is None:
        from custodia.monitor.models import Rule, RuleVersion
    now = timezone.now()
    created = 0
    for d in DEFAULT_RULES:
        if Rule.objects.filter(code=d.code).exists():
            continue
        params = {k: (str(v) if hasattr(v, "label") else v) for k, v in d.params.items()}
        responses = {str(k): str(v) for k, v in d.responses.items()}
        Rule.objects.create(code=d.code, name=d.name, kind=d.kind, params=params, responses=responses,
                            mode=str(d.mode), version=1, builtin=True)
        RuleVersion.objects.create(rule_id=d.code, version=1, name=d.name, params=params, responses=responses,
                                   mode=str(d.mode), changed_by="system:install", changed_at=now,
                                   reason="shipped default")
        created += 1
    return created


def spec(rule) -> RuleSpec:
    return RuleSpec(code=rule.code, version=rule.version, kind=rule.kind, params=rule.params,
                    responses=rule.responses, mode=rule.mode, name=rule.name)


def live_specs() -> list[RuleSpec]:
    """The rules switched on (dry-run rules are evaluated on history only)."""
    from custodia.monitor.models import Rule

    return [spec(r) for r in Rule.objects.filter(mode="on")]


def stamp() -> tuple:
    """Changes whenever any rule changes (one aggregate query)."""
    from custodia.monitor.models import Rule

    agg = Rule.objects.aggregate(n=Count("code"), v=Sum("version"), t=Max("updated_at"))
    return agg["n"], agg["v"], agg["t"]

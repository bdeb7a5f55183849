"""The built-in roles and their default grants. Migration 0003 seeded them (with its own frozen
copy); ``ensure_builtin_roles`` recreates any that are missing (a test database emptied by a
transactional test, a demo database) and never changes a role that exists: an edited built-in
role keeps its edits."""

from __future__ import annotations

from django.db import transaction

ALL_TIERS = ["core", "important", "ordinary"]
# code: (name, duty, reveals/hour, export rows, [(object_type, actions, scope, tiers, reveal level)])
BUILTIN_ROLES = {
    "rep": ("Sales rep", "operator", 30, 1000, [
        ("customer", ["view", "add", "change", "reveal", "export"], "own", ALL_TIERS, 3)]),
    "manager": ("Sales manager", "operator", 60, 5000, [
        ("customer", ["view", "add", "change", "delete", "reveal", "export", "approve", "share"], "team",
         ["important", "ordinary"], 4)]),
    "compliance": ("Compliance officer", "operator", 100, None, [
        ("customer", ["view", "reveal", "export", "approve", "share"], "all", ALL_TIERS, 4),
        ("audit_log", ["read_audit"], "all", [], 0)]),
    "secadmin": ("Security admin", "admin", None, None, [
        ("role", ["manage_roles"], "all", [], 0),
        ("audit_log", ["read_audit"], "all", [], 0)]),
    "auditor": ("Auditor", "auditor", None, None, [("audit_log", ["read_audit"], "all", [], 0)]),
    "legal": ("Legal counsel", "operator", None, None, []),
    "hr": ("HR", "operator", None, None, []),
}


def ensure_builtin_roles() -> int:
    """Create the missing built-in roles with their default grants; returns how many were created.
    Not audited: it restores the installation's defaults (callers: test factories, demo seeding)."""
    from custodia.access.models import Role, RoleGrant

    created = 0
    with transaction.atomic():
        existing = set(Role.objects.filter(code__in=list(BUILTIN_ROLES)).values_list("code", flat=True))
        for code, (name, duty, per_hour, rows, grants) in BUILTIN_ROLES.items():
            if code in existing:
                continue
            role = Role.objects.create(code=code, name=name, duty=duty, builtin=True, reveals_per_hour=per_hour,
                                       export_row_limit=rows)
            for object_type, actions, scope, tiers, level in grants:
                RoleGrant.objects.create(role=role, object_type=object_type, actions=actions, scope=scope,
                                         tiers=tiers, reveal_max_level=level)
            created += 1
    return created

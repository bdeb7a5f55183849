"""Seed the built-in roles (the codes users already carry) and their grants.

rep: own customers. manager: own, reports and team, core tier only where owner or assigned.
compliance: all customers, view / reveal / export (no change), audit read. secadmin: roles only,
no customer data. auditor: audit read only. legal, hr: no customer data for now.
"""

from django.db import migrations

ALL_TIERS = ["core", "important", "ordinary"]
ROLES = {
    # code: (name, duty, reveals/hour, export rows, [(object_type, actions, scope, tiers, reveal level)])
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


def seed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    RoleGrant = apps.get_model("access", "RoleGrant")
    for code, (name, duty, per_hour, rows, grants) in ROLES.items():
        role, created = Role.objects.get_or_create(code=code, defaults={
            "name": name, "duty": duty, "builtin": True, "reveals_per_hour": per_hour, "export_row_limit": rows})
        if not created:
            continue
        for object_type, actions, scope, tiers, level in grants:
            RoleGrant.objects.create(role=role, object_type=object_type, actions=actions, scope=scope, tiers=tiers,
                                     reveal_max_level=level)


def unseed(apps, schema_editor):
    apps.get_model("access", "Role").objects.filter(builtin=True, code__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [("access", "0002_roles_as_data")]
    operations = [migrations.RunPython(seed, unseed)]

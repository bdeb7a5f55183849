"""The role a revoked role falls back to: no grants (no customer data, no administration)."""

import uuid

from django.db import migrations
from django.utils import timezone


def create(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    if not Role.objects.filter(code="noaccess").exists():
        now = timezone.now()
        Role.objects.create(id=uuid.uuid4(), code="noaccess", name="无权限 No access", duty="operator",
                            description="Given by access reviews when a role is revoked: no data, no administration.",
                            builtin=False, created_at=now, updated_at=now)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial"), ("access", "0003_builtin_roles")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

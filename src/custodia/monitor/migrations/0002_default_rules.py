"""The shipped detector rules (monitor.detectors.DEFAULT_RULES), version 1 of each."""

from django.db import migrations


def seed(apps, schema_editor):
    from custodia.monitor.rules import seed_defaults

    seed_defaults(apps.get_model("monitor", "Rule"), apps.get_model("monitor", "RuleVersion"))


class Migration(migrations.Migration):
    dependencies = [("monitor", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

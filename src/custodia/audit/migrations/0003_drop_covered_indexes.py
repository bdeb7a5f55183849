"""Drop the single-column actor_id and subject_id indexes: the (actor_id, seq) and (subject_id, seq)
indexes answer every query they did, and each index costs every audit write.

Plain DROP INDEX rather than AlterField: on SQLite AlterField rebuilds the table, which would
drop the append-only triggers of 0002. The index names are Django's (the same on both backends).
"""

from django.db import migrations, models

INDEXES = {"actor_id": "audit_auditevent_actor_id_270bb4b7", "subject_id": "audit_auditevent_subject_id_1173988d"}


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("auditevent", "actor_id", models.UUIDField(blank=True, null=True)),
                migrations.AlterField("auditevent", "subject_id", models.UUIDField(blank=True, null=True)),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "audit_auditevent" ("{column}")',
                )
                for column, name in INDEXES.items()
            ],
        ),
    ]

"""The Merkle log (issue 4): leaf hashes on events, tiles of stored hashes, the sequencer's state,
signed tree heads and pruned ranges. Tree heads and pruned ranges are append-only like events.
Existing events get their leaf hash (inside the maintenance window the triggers allow).
"""

from django.db import migrations, models

APPEND_ONLY = ("audit_treehead", "audit_prunedrange")


def append_only(apps, schema_editor):
    for table in APPEND_ONLY:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")
        else:
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    "WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance) "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def drop_append_only(apps, schema_editor):
    for table in APPEND_ONLY:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


def backfill_leaf_hashes(apps, schema_editor):
    from custodia.audit import leaf

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditevent WHERE leaf_hash IS NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('backfill leaf hashes')")
        cursor.execute(f"SELECT e.seq, {leaf.leaf_select(connection.vendor)} FROM audit_auditevent e "
                       "WHERE e.leaf_hash IS NULL ORDER BY e.seq")
        rows = [(leaf.leaf_hash(leaf.from_row(row[1:])), row[0]) for row in cursor.fetchall()]
        cursor.executemany("UPDATE audit_auditevent SET leaf_hash = %s WHERE seq = %s", rows)
        cursor.execute("DELETE FROM audit_maintenance")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_drop_covered_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='LogState',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('size', models.BigIntegerField(default=0)),
                ('root_hash', models.BinaryField(max_length=32)),
                ('last_seq', models.BigIntegerField(default=0)),
                ('updated_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='PrunedRange',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('start', models.BigIntegerField()),
                ('end', models.BigIntegerField()),
                ('pruned_at', models.DateTimeField()),
                ('event_id', models.UUIDField()),
                ('mac', models.BinaryField(max_length=32)),
            ],
            options={
                'ordering': ['start'],
            },
        ),
        migrations.CreateModel(
            name='TreeHead',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('size', models.BigIntegerField()),
                ('root_hash', models.BinaryField(max_length=32)),
                ('timestamp_ms', models.BigIntegerField()),
                ('key_id', models.CharField(max_length=16)),
                ('signature', models.BinaryField(max_length=64)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='leaf_hash',
            field=models.BinaryField(max_length=32, null=True),
        ),
        migrations.CreateModel(
            name='LogTile',
            fields=[
                ('pk', models.CompositePrimaryKey('level', 'index', blank=True, editable=False, primary_key=True, serialize=False)),
                ('level', models.PositiveSmallIntegerField()),
                ('index', models.BigIntegerField()),
                ('width', models.PositiveSmallIntegerField()),
                ('hashes', models.BinaryField()),
                ('first_seq', models.BigIntegerField(null=True)),
                ('seqs', models.BinaryField(null=True)),
            ],
            options={
                'indexes': [models.Index(fields=['level', 'first_seq'], name='audit_tile_first_seq')],
            },
        ),
        migrations.RunPython(append_only, drop_append_only),
        migrations.RunPython(backfill_leaf_hashes, migrations.RunPython.noop),
    ]

"""Rate counters live in an UNLOGGED table on PostgreSQL: they are written on every login, SMS code
and join, a commit that wrote only unlogged tables does not wait for a WAL flush, and a counter lost
in a crash (PostgreSQL empties unlogged tables on crash recovery) only resets a window early. Not on
replicas: rate limits are read and written on the primary. Lockouts stay logged."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_ratecounter SET UNLOGGED")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_ratecounter SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("core", "0002_lockout")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

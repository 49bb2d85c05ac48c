from django.db import migrations


def keep_room_for_hot_updates(apps, schema_editor):
    """Rollup rows are counters, rewritten on every change below them: 30 % free space per page lets
    PostgreSQL keep each new version on its page without touching the indexes (a HOT update). Applies
    to pages written from now on; `VACUUM FULL analytics_rollup` applies it to existing ones."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE analytics_rollup SET (fillfactor = 70)")


def no_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE analytics_rollup RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [("analytics", "0002_dailyrollup")]

    operations = [migrations.RunPython(keep_room_for_hot_updates, no_fillfactor)]

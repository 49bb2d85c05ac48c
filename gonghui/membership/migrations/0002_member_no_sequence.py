from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS membership_member_no_seq CACHE 20")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS membership_member_no_seq")


class Migration(migrations.Migration):
    """Member numbers come from a PostgreSQL sequence: no row lock, so joins never queue on it."""

    dependencies = [("membership", "0001_initial")]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]

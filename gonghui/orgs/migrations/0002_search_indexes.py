"""PostgreSQL-only: GIN indexes over the name bigrams, so Chinese name search is an index lookup.

SQLite (the demo) searches with LIKE and needs none.
"""

from django.db import migrations

INDEXES = [
    ("orgunit_bigrams_gin", "orgs_orgunit"),
    ("employer_bigrams_gin", "orgs_employer"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (to_tsvector('simple', name_bigrams))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

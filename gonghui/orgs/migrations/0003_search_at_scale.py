"""Search and scoping at national size (measured by bench/run.py, see docs/benchmarks.md).

- B-tree indexes on the names, for the exact-name step of union and employer search: without them
  `name = '…'` is a sequential scan, 0.6 s over 2.5 M unions and 1.2 s over 6 M employers.
- A finer histogram on the materialised paths (PostgreSQL only). With the default 100 buckets every
  subtree smaller than a province (a city of 14,000 nodes, a county of 1,300) is estimated at 255
  rows, and the planner then scans a whole city to list one street's children (30 ms; 130 ms for
  重庆). 1,000 buckets estimate them within a bucket (2,500 rows); ANALYZE takes ~15 s per table.

Written as SQL, like 0002, so the model state is untouched.
"""

from django.db import migrations

INDEXES = [
    ("orgunit_name", "orgs_orgunit"),
    ("employer_name", "orgs_employer"),
]
PATH_COLUMNS = [("orgs_orgunit", "path"), ("orgs_employer", "org_path")]
STATISTICS = 1000


def create(apps, schema_editor):
    for name, table in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (name)")
    if schema_editor.connection.vendor == "postgresql":
        for table, column in PATH_COLUMNS:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {STATISTICS}")


def drop(apps, schema_editor):
    for name, _table in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor == "postgresql":
        for table, column in PATH_COLUMNS:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_search_indexes")]
    operations = [migrations.RunPython(create, drop)]

"""Fast newest-first search over wide matches.

PostgreSQL: the search vector also gets words the database derives from the row itself (see
textindex: recency blocks of `published_at` at nine sizes, 15 minutes to ~1.9 years; the salary
steps `salary_max` reaches; the exact place), so a search can ask the GIN index for "matches
published in this window" and walk back from the newest window until its page is full instead of
fetching and sorting every match. Being part of the generated column, the words follow every change
of the row (approval, renewal, edit) with nothing to keep in step. PostgreSQL 15 cannot change a
generated column's expression: the column and its GIN index are dropped and added again (a table
rewrite, with the words computed for every existing row; ~1.5 min per million postings).

And a B-tree on live postings newest first (never-published last), for searches whose words are
on most postings or that have none (browse all, a province, a low salary). PostgreSQL only, like the
vector: SQLite refuses NULLS LAST in an index, and its search (the demo's) does not need it.

The constants below are frozen copies of textindex's (RECENCY_SECONDS, RECENCY_LEVELS,
SALARY_LADDER); a test checks they agree.
"""

from django.db import migrations

RECENCY_SECONDS = 900
RECENCY_LEVELS = 9
SALARY_LADDER = (0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 15000, 20000, 25000,
                 30000, 40000, 50000, 80000, 100000, 150000, 200000)

QUARTER = (f"(floor(extract(epoch FROM (published_at - timestamptz '1970-01-01 00:00:00+00')) / {RECENCY_SECONDS})"
           f"::bigint)")
RECENCY = " || ' ' || ".join(f"'r{level}x' || ({QUARTER} >> {2 * level})::text" for level in range(RECENCY_LEVELS))
SALARY = " || ".join(f"(CASE WHEN salary_max >= {step} THEN ' s{i}' ELSE '' END)"
                    for i, step in enumerate(SALARY_LADDER) if i)
DERIVED = f"(CASE WHEN published_at IS NULL THEN '' ELSE {RECENCY} END) || {SALARY} || ' d' || division_id"
VECTOR = ("setweight(to_tsvector('simple', search_head), 'A') || setweight(to_tsvector('simple', search_text), 'B')"
          " || to_tsvector('simple', {derived})")
SEARCH_INDEX = ("CREATE INDEX employment_posting_search ON employment_jobposting USING gin (search_vector) "
                "WHERE status = 'live'")
FRESH_INDEX = ("CREATE INDEX posting_live_fresh ON employment_jobposting (published_at DESC NULLS LAST, id DESC) "
               "WHERE status = 'live'")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS employment_posting_search")
        schema_editor.execute("ALTER TABLE employment_jobposting DROP COLUMN IF EXISTS search_vector")
        schema_editor.execute("ALTER TABLE employment_jobposting ADD COLUMN search_vector tsvector GENERATED ALWAYS "
                              f"AS ({VECTOR.format(derived=DERIVED)}) STORED")
        schema_editor.execute(SEARCH_INDEX)
        schema_editor.execute(FRESH_INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS posting_live_fresh")
        schema_editor.execute("DROP INDEX IF EXISTS employment_posting_search")
        schema_editor.execute("ALTER TABLE employment_jobposting DROP COLUMN IF EXISTS search_vector")
        schema_editor.execute(
            "ALTER TABLE employment_jobposting ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', search_head), 'A') || setweight(to_tsvector('simple', search_text), 'B')"
            ") STORED")
        schema_editor.execute(SEARCH_INDEX)


class Migration(migrations.Migration):
    dependencies = [("employment", "0003_posting_approved")]
    operations = [migrations.RunPython(forward, backward)]

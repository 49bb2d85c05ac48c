"""PostgreSQL only: the postings' full-text vector, generated from the words of the title,
occupation, skills and employer with the facet words (weighted A) and of the description (B), under
a GIN index. The 'simple' configuration: textindex has already cut the text into bigrams of jieba's
words, so PostgreSQL only splits on the spaces."""

from django.db import migrations

FORWARD = """
ALTER TABLE employment_jobposting ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_head), 'A') || setweight(to_tsvector('simple', search_text), 'B')
) STORED;
CREATE INDEX employment_posting_search ON employment_jobposting USING gin (search_vector) WHERE status = 'live';
"""
BACKWARD = ("DROP INDEX IF EXISTS employment_posting_search; "
            "ALTER TABLE employment_jobposting DROP COLUMN IF EXISTS search_vector;")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("employment", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]

"""PostgreSQL only: the articles' full-text vector, generated from the segmented texts (the law's
title, division, summary and workers' words weighted A; the article's text B), with a GIN index.
The 'simple' configuration: the text is already cut into words by jieba, so PostgreSQL only has
to split on the spaces (it treats CJK characters as letters)."""

from django.db import migrations

FORWARD = """
ALTER TABLE legal_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_head), 'A') || setweight(to_tsvector('simple', search_text), 'B')
) STORED;
CREATE INDEX legal_article_search ON legal_article USING gin (search_vector);
"""
BACKWARD = "DROP INDEX IF EXISTS legal_article_search; ALTER TABLE legal_article DROP COLUMN IF EXISTS search_vector;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("legal", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]

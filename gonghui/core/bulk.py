"""Bulk loads on PostgreSQL: write first, index and check once afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def saved_schema(cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(secondary indexes, unique and foreign-key constraints) of `table`, as (name, definition)."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
        [table],
    )
    return indexes, cursor.fetchall()


@contextmanager
def indexes_deferred(cursor, *tables: str) -> Iterator[None]:
    """Drop the secondary indexes and the unique and foreign-key constraints of `tables`, and recreate
    them from their saved definitions (same names) when the block succeeds: one sort per index and
    one join per foreign key instead of a b-tree insert and a trigger per row. Use inside a
    transaction, so that a failure rolls the drops back too. The primary keys stay."""
    saved = {table: saved_schema(cursor, table) for table in tables}
    # Dropping a foreign key alters the referenced table too, which PostgreSQL refuses while the
    # transaction still has deferred checks queued on it (rows inserted earlier in the same
    # transaction): run those checks now. Django declares its foreign keys DEFERRABLE INITIALLY
    # DEFERRED, so they are put back to deferred at the end.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table, (indexes, constraints) in saved.items():
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    for table, (indexes, constraints) in saved.items():
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")

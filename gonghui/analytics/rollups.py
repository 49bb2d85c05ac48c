"""Maintain and read subtree totals (see Rollup)."""

from __future__ import annotations

import re

from django.db import connection

from gonghui.orgs.paths import ancestor_paths

from .models import DailyRollup, Rollup, RollupDelta

# Other modules' own contributions for rebuilds: SQL selecting (org_id, metric, value) for Rollup and
# (org_id, metric, day, value) for DailyRollup, attributed to the node that owns the rows.
REBUILD_SOURCES: list[str] = []
DAILY_REBUILD_SOURCES: list[str] = []


def register_rebuild_source(sql, daily: bool = False) -> None:
    """`sql` is a string, or a callable taking the database vendor and returning one."""
    target = DAILY_REBUILD_SOURCES if daily else REBUILD_SOURCES
    if sql not in target:
        target.append(sql)


def _sources(sources) -> list[str]:
    return [source(connection.vendor) if callable(source) else source for source in sources]

# Metrics this module maintains. Other modules add their own names (members.<status>, cases.open…).
UNIONS = "unions"  # union nodes below the node
GRASSROOTS = "grassroots"  # grassroots-level unions (基层/联合/平台) below the node
EMPLOYERS = "employers"
WORKERS = "workers"  # employees of the employers in the subtree (for 入会率)
STAFF = "staff"  # role grants in the subtree


def _add_up_the_tree(table: str, path: str, deltas: dict[str, int], day=None) -> None:
    """Add each metric's delta to the node at `path` and all its ancestors: appended to RollupDelta
    (plain totals), or upserted per day (DailyRollup)."""
    deltas = {metric: delta for metric, delta in deltas.items() if delta}
    if not deltas or not path:
        return
    paths = ancestor_paths(path)
    placeholders = ", ".join(["%s"] * len(paths))
    metrics = ", ".join(["(%s, %s)"] * len(deltas))
    flat = [x for item in deltas.items() for x in item]
    with connection.cursor() as cursor:
        if day is None:
            cursor.execute(
                f"WITH d(metric, delta) AS (VALUES {metrics}) "
                f"INSERT INTO {RollupDelta._meta.db_table} (org_id, metric, value) "
                f"SELECT o.id, d.metric, CAST(d.delta AS BIGINT) FROM orgs_orgunit o CROSS JOIN d "
                f"WHERE o.path IN ({placeholders})",
                [*flat, *paths],
            )
            return
        for metric, delta in deltas.items():
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, day, value) "
                f"SELECT id, %s, %s, %s FROM orgs_orgunit WHERE path IN ({placeholders}) ORDER BY path "
                f"ON CONFLICT (org_id, metric, day) DO UPDATE SET value = {table}.value + EXCLUDED.value",
                [metric, day, delta, *paths],
            )


def rollup_add(path: str, deltas: dict[str, int]) -> None:
    """Add deltas to the node at `path` and all its ancestors (one appending statement)."""
    _add_up_the_tree(Rollup._meta.db_table, path, deltas)


def rollup_add_many(items: list[tuple[str, str, int]]) -> None:
    """Add many (path, metric, delta) at once, each to its node and all its ancestors: one statement
    per 500 distinct (ancestor, metric) however many nodes (bulk jobs)."""
    totals: dict[tuple[str, str], int] = {}
    for path, metric, delta in items:
        if delta and path:
            for ancestor in ancestor_paths(path):
                totals[(ancestor, metric)] = totals.get((ancestor, metric), 0) + delta
    rows = [(p, m, v) for (p, m), v in sorted(totals.items()) if v]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH d(path, metric, delta) AS (VALUES {values}) "
                f"INSERT INTO {RollupDelta._meta.db_table} (org_id, metric, value) "
                f"SELECT o.id, d.metric, CAST(d.delta AS BIGINT) FROM d JOIN orgs_orgunit o ON o.path = d.path",
                [x for row in chunk for x in row],
            )


def rollup_add_daily(path: str, day, deltas: dict[str, int]) -> None:
    """Add per-day deltas to the node at `path` and all its ancestors."""
    _add_up_the_tree(DailyRollup._meta.db_table, path, deltas, day=day)


def daily_read(org_id: int, metrics: list[str], since, until) -> dict[str, dict]:
    """{metric: {day: value}} for the node's subtree between two days (inclusive)."""
    out: dict[str, dict] = {metric: {} for metric in metrics}
    rows = DailyRollup.objects.filter(org_id=org_id, metric__in=metrics, day__gte=since, day__lte=until)
    for metric, day, value in rows.values_list("metric", "day", "value"):
        out[metric][day] = value
    return out


def rollup_move(node_id: int, old_parent_path: str, new_parent_path: str) -> None:
    """A subtree changed parent: move its per-day totals from the old ancestors to the new ones.
    (Plain totals are moved by the caller with rollup_add.)"""
    rows = list(DailyRollup.objects.filter(org_id=node_id).values_list("metric", "day", "value"))
    by_day: dict = {}
    for metric, day, value in rows:
        by_day.setdefault(day, {})[metric] = value
    for day, deltas in by_day.items():
        rollup_add_daily(old_parent_path, day, {k: -v for k, v in deltas.items()})
        rollup_add_daily(new_parent_path, day, deltas)


def rollup_read(org_id: int) -> dict[str, int]:
    """Every metric of the node's subtree: {metric: value}."""
    return rollup_values([org_id]).get(org_id, {})


def rollup_values(org_ids, metrics=None) -> dict[int, dict[str, int]]:
    """{org_id: {metric: value}} for these nodes (all metrics, or these): the folded totals plus the
    deltas not folded yet, read in one statement (one snapshot, so a fold running meanwhile is seen
    whole or not at all)."""
    org_ids = list(org_ids)
    if not org_ids:
        return {}
    ids = ", ".join(["%s"] * len(org_ids))
    where, params = f"org_id IN ({ids})", list(org_ids)
    if metrics is not None:
        metrics = list(metrics)
        if not metrics:
            return {}
        where += f" AND metric IN ({', '.join(['%s'] * len(metrics))})"
        params += metrics
    out: dict[int, dict[str, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT org_id, metric, SUM(value) FROM ("
            f"SELECT org_id, metric, value FROM {Rollup._meta.db_table} WHERE {where} "
            f"UNION ALL SELECT org_id, metric, value FROM {RollupDelta._meta.db_table} WHERE {where}"
            f") s GROUP BY org_id, metric",
            params + params,
        )
        for org_id, metric, value in cursor.fetchall():
            out.setdefault(org_id, {})[metric] = int(value)
    return out


def rollup_top_children(parent_id: int, metric: str, limit: int) -> list[int]:
    """Ids of the parent's children with the largest positive `metric`, largest first (ties by id): picked
    in SQL, since a township may have thousands of grassroots unions below it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.org_id FROM ("
            f"SELECT r.org_id, r.value FROM {Rollup._meta.db_table} r JOIN orgs_orgunit o ON o.id = r.org_id "
            f"WHERE o.parent_id = %s AND r.metric = %s "
            f"UNION ALL SELECT d.org_id, d.value FROM {RollupDelta._meta.db_table} d "
            f"JOIN orgs_orgunit o ON o.id = d.org_id WHERE o.parent_id = %s AND d.metric = %s"
            f") s GROUP BY s.org_id HAVING SUM(s.value) > 0 ORDER BY SUM(s.value) DESC, s.org_id LIMIT %s",
            [parent_id, metric, parent_id, metric, limit],
        )
        return [row[0] for row in cursor.fetchall()]


FOLD_LOCK = 7_202_611  # pg advisory lock key: one fold at a time (a second one would only wait)


def rollup_fold(batch: int = 50_000) -> int:
    """Move the appended deltas into the totals, `batch` rows per transaction; returns how many rows
    were folded. Each batch deletes the rows it reads and adds their sums in one transaction, so a
    delta is counted once whatever runs meanwhile (a row committed late by a slow writer is simply
    folded next time), and readers, adding the rows left, see the same totals before and after."""
    from django.db import transaction

    delta, table = RollupDelta._meta.db_table, Rollup._meta.db_table
    folded = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
                if not cursor.fetchone()[0]:
                    return folded
                cursor.execute(
                    f"WITH moved AS (DELETE FROM {delta} WHERE id IN ("
                    f"SELECT id FROM {delta} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
                    f"RETURNING org_id, metric, value), "
                    f"summed AS (INSERT INTO {table} (org_id, metric, value) "
                    f"SELECT org_id, metric, SUM(value) FROM moved GROUP BY org_id, metric ORDER BY org_id, metric "
                    f"ON CONFLICT (org_id, metric) DO UPDATE SET value = {table}.value + EXCLUDED.value) "
                    f"SELECT count(*) FROM moved",
                    [batch],
                )
                count = cursor.fetchone()[0]
            else:  # SQLite (the embedded demo): one writer at a time anyway
                cursor.execute(f"SELECT MAX(id) FROM (SELECT id FROM {delta} ORDER BY id LIMIT %s)", [batch])
                last = cursor.fetchone()[0]
                if last is None:
                    return folded
                cursor.execute(
                    f"INSERT INTO {table} (org_id, metric, value) "
                    f"SELECT org_id, metric, SUM(value) FROM {delta} WHERE id <= %s GROUP BY org_id, metric "
                    f"ON CONFLICT (org_id, metric) DO UPDATE SET value = {table}.value + EXCLUDED.value",
                    [last],
                )
                cursor.execute(f"DELETE FROM {delta} WHERE id <= %s", [last])
                count = cursor.rowcount
        folded += count
        if count < batch:
            return folded


def rollup_rebuild() -> None:
    """Recompute every subtree total from the rows (after bulk loads). Runs bottom-up by depth."""
    _rollup_rebuild()
    daily_rebuild()


def daily_rebuild() -> None:
    """Recompute the per-day subtree totals from the registered daily sources."""
    table = DailyRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        for source in _sources(DAILY_REBUILD_SOURCES):
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, day, value) SELECT org_id, metric, day, SUM(value) "
                f"FROM ({source}) s GROUP BY org_id, metric, day "
                f"ON CONFLICT (org_id, metric, day) DO UPDATE SET value = {table}.value + EXCLUDED.value"
            )
        cursor.execute("SELECT COALESCE(MAX(depth), 0) FROM orgs_orgunit")
        max_depth = cursor.fetchone()[0]
        for depth in range(max_depth, 1, -1):
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, day, value) "
                f"SELECT o.parent_id, r.metric, r.day, SUM(r.value) FROM {table} r "
                f"JOIN orgs_orgunit o ON o.id = r.org_id WHERE o.depth = %s GROUP BY o.parent_id, r.metric, r.day "
                f"ON CONFLICT (org_id, metric, day) DO UPDATE SET value = {table}.value + EXCLUDED.value",
                [depth],
            )


def _rollup_rebuild() -> None:
    from gonghui.orgs.models import LEAF_KINDS

    leaf = ", ".join(f"'{k.value}'" for k in LEAF_KINDS)
    if connection.vendor == "postgresql":
        _rebuild_postgresql(leaf)
        return
    table = Rollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {RollupDelta._meta.db_table}")
        cursor.execute(f"DELETE FROM {table}")
        # Own contributions, attributed to the node that owns the row.
        cursor.execute(
            f"INSERT INTO {table} (org_id, metric, value) "
            f"SELECT parent_id, 'unions', COUNT(*) FROM orgs_orgunit WHERE parent_id IS NOT NULL GROUP BY parent_id"
        )
        cursor.execute(
            f"INSERT INTO {table} (org_id, metric, value) "
            f"SELECT parent_id, 'grassroots', COUNT(*) FROM orgs_orgunit "
            f"WHERE parent_id IS NOT NULL AND kind IN ({leaf}) GROUP BY parent_id"
        )
        cursor.execute(
            f"INSERT INTO {table} (org_id, metric, value) "
            f"SELECT org_id, 'employers', COUNT(*) FROM orgs_employer GROUP BY org_id"
        )
        cursor.execute(
            f"INSERT INTO {table} (org_id, metric, value) "
            f"SELECT org_id, 'workers', SUM(employee_count) FROM orgs_employer GROUP BY org_id"
        )
        cursor.execute(
            f"INSERT INTO {table} (org_id, metric, value) "
            f"SELECT org_id, 'staff', COUNT(*) FROM orgs_grant GROUP BY org_id"
        )
        for source in _sources(REBUILD_SOURCES):
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, value) SELECT org_id, metric, SUM(value) FROM ({source}) s "
                f"GROUP BY org_id, metric "
                f"ON CONFLICT (org_id, metric) DO UPDATE SET value = {table}.value + EXCLUDED.value"
            )
        cursor.execute("SELECT COALESCE(MAX(depth), 0) FROM orgs_orgunit")
        max_depth = cursor.fetchone()[0]
        # Fold each level's totals into its parent, deepest level first.
        for depth in range(max_depth, 1, -1):
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, value) "
                f"SELECT o.parent_id, r.metric, SUM(r.value) FROM {table} r "
                f"JOIN orgs_orgunit o ON o.id = r.org_id WHERE o.depth = %s GROUP BY o.parent_id, r.metric "
                f"ON CONFLICT (org_id, metric) DO UPDATE SET value = {table}.value + EXCLUDED.value",
                [depth],
            )


def _rebuild_postgresql(leaf: str) -> None:
    """The same totals for millions of nodes (gen_national: 2.5 M unions, 6 M employers) in a minute:
    fold level by level in an unlogged temporary table, then write the table once, with its unique
    index and foreign key recreated afterwards instead of checked row by row."""
    from django.db import transaction

    from gonghui.core.bulk import indexes_deferred

    table, delta = Rollup._meta.db_table, RollupDelta._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Fire the deferred foreign-key checks of earlier writes in this transaction now: ALTER and
        # TRUNCATE refuse to run while trigger events are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # No delta may be appended meanwhile (writers wait): the ones already there are counted in
        # the rows read below and are dropped with the old totals.
        cursor.execute(f"LOCK TABLE {delta} IN EXCLUSIVE MODE")
        # Fresh planner statistics for every table the sources read: a rebuild follows bulk loads, and
        # with a table's statistics from before the load the plan can re-scan it per row of another
        # (seen: 40 s instead of 0.3 s for a demo's 2,900 employers × 13,700 members).
        sources = _sources(REBUILD_SOURCES)
        for source_table in sorted({"orgs_orgunit", "orgs_employer", "orgs_grant"}
                                   | set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)", " ".join(sources),
                                                    flags=re.IGNORECASE))):
            cursor.execute(f"ANALYZE {source_table}")
        cursor.execute("DROP TABLE IF EXISTS rollup_fold")
        cursor.execute(
            "CREATE TEMP TABLE rollup_fold ON COMMIT DROP AS "
            "SELECT o.id AS org_id, o.parent_id, o.depth, c.metric, c.value FROM ("
            "  SELECT parent_id AS org_id, 'unions' AS metric, COUNT(*) AS value FROM orgs_orgunit "
            "  WHERE parent_id IS NOT NULL GROUP BY parent_id "
            "  UNION ALL SELECT parent_id, 'grassroots', COUNT(*) FROM orgs_orgunit "
            f"  WHERE parent_id IS NOT NULL AND kind IN ({leaf}) GROUP BY parent_id "
            "  UNION ALL SELECT e.org_id, m.metric, m.value FROM ("
            "    SELECT org_id, COUNT(*) AS n, SUM(employee_count) AS w FROM orgs_employer GROUP BY org_id) e "
            "    CROSS JOIN LATERAL (VALUES ('employers', e.n), ('workers', e.w)) AS m(metric, value) "
            "  UNION ALL SELECT org_id, 'staff', COUNT(*) FROM orgs_grant GROUP BY org_id"
            + "".join(f" UNION ALL SELECT org_id, metric, value FROM ({source}) s{i}"
                      for i, source in enumerate(sources))
            + ") c JOIN orgs_orgunit o ON o.id = c.org_id"
        )
        cursor.execute("ANALYZE rollup_fold")
        cursor.execute("SELECT COALESCE(MAX(depth), 0) FROM orgs_orgunit")
        max_depth = cursor.fetchone()[0]
        for depth in range(max_depth, 1, -1):
            cursor.execute(
                "INSERT INTO rollup_fold (org_id, parent_id, depth, metric, value) "
                "SELECT p.id, p.parent_id, p.depth, f.metric, SUM(f.value) FROM rollup_fold f "
                "JOIN orgs_orgunit p ON p.id = f.parent_id WHERE f.depth = %s AND p.depth = %s "
                "GROUP BY p.id, p.parent_id, p.depth, f.metric",
                [depth, depth - 1],
            )
        cursor.execute(f"TRUNCATE {table}, {delta}")
        with indexes_deferred(cursor, table):
            cursor.execute(
                f"INSERT INTO {table} (org_id, metric, value) "
                "SELECT org_id, metric, SUM(value) FROM rollup_fold GROUP BY org_id, metric"
            )
        cursor.execute("DROP TABLE rollup_fold")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

"""What cases contribute to the rollups, as SQL mirroring services.contributions, for
`rollup_rebuild` (after bulk loads, and in tests that check incremental totals against a recount)."""

from __future__ import annotations

from gonghui.analytics.rollups import register_rebuild_source

from .models import OPEN_STATUSES

_OPEN = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)
_CASE = "casedesk_case"


def _local_day(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"


def _plain(vendor: str) -> str:
    ones = [
        ("'cases.total'", "TRUE"),
        ("'cases.status.' || status", "TRUE"),
        ("'cases.kind.' || kind", "TRUE"),
        ("'cases.open'", f"status IN ({_OPEN})"),
        ("'cases.overdue_open'", f"status IN ({_OPEN}) AND (accept_overdue_at IS NOT NULL "
                                 "OR complete_overdue_at IS NOT NULL)"),
        ("'cases.accepted'", "accepted_at IS NOT NULL"),
        ("'cases.accepted_on_time'", "accepted_at IS NOT NULL AND accepted_on_time"),
        ("'cases.completed'", "resolved_at IS NOT NULL"),
        ("'cases.completed_on_time'", "resolved_at IS NOT NULL AND completed_on_time"),
        ("'cases.rated'", "satisfaction IS NOT NULL"),
        ("'cases.satisfied'", "satisfaction >= 4"),
    ]
    parts = [f"SELECT org_id, {metric} AS metric, 1 AS value FROM {_CASE} WHERE {where}" for metric, where in ones]
    parts += [
        f"SELECT org_id, 'cases.satisfaction_sum', satisfaction FROM {_CASE} WHERE satisfaction IS NOT NULL",
        f"SELECT org_id, 'cases.money_fen', CAST(ROUND(money_recovered * 100) AS BIGINT) FROM {_CASE} "
        "WHERE resolved_at IS NOT NULL",
        f"SELECT org_id, 'cases.workers_helped', workers_helped FROM {_CASE} WHERE resolved_at IS NOT NULL",
        f"SELECT c.org_id, 'cases.cat.' || COALESCE(p.code, k.code), 1 FROM {_CASE} c "
        "JOIN casedesk_casecategory k ON k.id = c.category_id LEFT JOIN casedesk_casecategory p ON p.id = k.parent_id",
    ]
    return " UNION ALL ".join(parts)


def _daily(vendor: str) -> str:
    return (f"SELECT org_id, 'cases.new' AS metric, {_local_day(vendor, 'created_at')} AS day, 1 AS value "
            f"FROM {_CASE} UNION ALL "
            f"SELECT org_id, 'cases.closed', {_local_day(vendor, 'closed_at')}, 1 FROM {_CASE} "
            "WHERE status = 'closed' AND closed_at IS NOT NULL")


def register() -> None:
    register_rebuild_source(_plain)
    register_rebuild_source(_daily, daily=True)

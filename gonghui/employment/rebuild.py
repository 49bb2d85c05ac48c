"""What the employment cloud contributes to the rollups, as SQL mirroring the services' deltas, for
`rollup_rebuild` (after bulk loads, and in tests that check incremental totals against a recount)."""

from __future__ import annotations

from gonghui.analytics.rollups import register_rebuild_source


def _plain(vendor: str) -> str:
    day = "(placed_on - (created_at AT TIME ZONE 'Asia/Shanghai')::date)" if vendor == "postgresql" \
        else "CAST(julianday(placed_on) - julianday(date(created_at, '+8 hours')) AS INTEGER)"
    parts = [
        "SELECT org_id, 'jobs.live' AS metric, 1 AS value FROM employment_jobposting WHERE status = 'live'",
        "SELECT org_id, 'jobs.openings_live', headcount FROM employment_jobposting WHERE status = 'live'",
        "SELECT org_id, 'jobs.pending', 1 FROM employment_jobposting WHERE status = 'pending'",
        "SELECT org_id, 'seekers.active', 1 FROM employment_seekerprofile WHERE status = 'active'",
        "SELECT org_id, 'seekers.group.' || help_group, 1 FROM employment_seekerprofile WHERE status = 'active'",
        "SELECT org_id, 'applications.total', 1 FROM employment_jobapplication",
        "SELECT org_id, 'applications.hired', 1 FROM employment_jobapplication WHERE hired_at IS NOT NULL",
        "SELECT org_id, 'help.total', 1 FROM employment_helprequest",
        "SELECT org_id, 'help.open', 1 FROM employment_helprequest WHERE status IN ('open', 'assigned')",
        "SELECT org_id, 'help.placed', 1 FROM employment_helprequest WHERE status = 'placed'",
        f"SELECT org_id, 'help.placed_days', CASE WHEN {day} > 0 THEN {day} ELSE 0 END FROM employment_helprequest "
        "WHERE status = 'placed'",
    ]
    return " UNION ALL ".join(parts)


def register() -> None:
    register_rebuild_source(_plain)

"""What membership contributes to the rollups, as SQL, for `rollup_rebuild` (after bulk loads, and
in tests that check the incremental totals against a recount)."""

from __future__ import annotations

from gonghui.analytics.rollups import register_rebuild_source

from .models import HOLDING_STATUSES
from .services import APPROVAL_BUCKETS

_HOLDING = ", ".join(f"'{s.value}'" for s in HOLDING_STATUSES)


def _hours(vendor: str, start: str, end: str) -> str:
    if vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0"
    return f"(julianday({end}) - julianday({start})) * 24.0"


def _local_day(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"


def _approval_buckets(vendor: str) -> str:
    hours = _hours(vendor, "submitted_at", "decided_at")
    cases = " ".join(f"WHEN {hours} <= {bound} THEN 'approval_hours.le{bound}'" for bound in APPROVAL_BUCKETS)
    return (f"SELECT org_id, CASE {cases} ELSE 'approval_hours.inf' END AS metric, 1 AS value "
            "FROM membership_application WHERE status IN ('approved', 'rejected')")


def _new_members(vendor: str) -> str:
    return (f"SELECT org_id, 'members.new' AS metric, {_local_day(vendor, 'created_at')} AS day, 1 AS value "
            "FROM membership_memberevent WHERE action IN ('join', 'rejoin', 'roster')")


def _approvals(vendor: str) -> str:
    return (f"SELECT org_id, 'applications.approved' AS metric, {_local_day(vendor, 'decided_at')} AS day, "
            "1 AS value FROM membership_application WHERE status = 'approved'")


def register() -> None:
    register_rebuild_source(
        "SELECT org_id, 'members.' || status AS metric, COUNT(*) AS value FROM membership_member GROUP BY org_id, status")
    register_rebuild_source(
        "SELECT org_id, 'members.gig' AS metric, COUNT(*) AS value FROM membership_member "
        f"WHERE employment_form = 'platform' AND status IN ({_HOLDING}) GROUP BY org_id")
    register_rebuild_source(
        "SELECT m.org_id, 'members.at_counted_employers' AS metric, COUNT(*) AS value FROM membership_member m "
        f"JOIN orgs_employer e ON e.id = m.employer_id WHERE e.employee_count > 0 AND m.status IN ({_HOLDING}) "
        "GROUP BY m.org_id")
    register_rebuild_source(
        "SELECT org_id, 'applications.pending' AS metric, COUNT(*) AS value FROM membership_application "
        "WHERE status = 'pending' GROUP BY org_id")
    register_rebuild_source(
        "SELECT org_id, 'applications.overdue' AS metric, COUNT(*) AS value FROM membership_application "
        "WHERE status = 'pending' AND escalated_at IS NOT NULL GROUP BY org_id")
    register_rebuild_source(
        "SELECT org_id, 'applications.decided' AS metric, COUNT(*) AS value FROM membership_application "
        "WHERE status IN ('approved', 'rejected') GROUP BY org_id")
    register_rebuild_source(_approval_buckets)
    register_rebuild_source(
        "SELECT to_org_id AS org_id, 'transfers.pending' AS metric, COUNT(*) AS value FROM membership_transfer "
        "WHERE status = 'pending' GROUP BY to_org_id")
    register_rebuild_source(_new_members, daily=True)
    register_rebuild_source(_approvals, daily=True)

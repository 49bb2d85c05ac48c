"""Membership reads, always cut to the actor's scope. Unknown and forbidden ids both raise NotFound."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.analytics.rollups import daily_read, rollup_read, rollup_values
from gonghui.core import cursors, pii
from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.orgs.models import ROLE_RANK, OrgUnit, Role
from gonghui.orgs.selectors import actor_scope

from .identity import parse_id_number
from .models import Application, ChangeRequest, Member, MemberStatus, Notice, OrgNotice, RosterImport, Transfer

PAGE_MAX = 100


def _int_id(value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(what) from None


def _in_node(qs: QuerySet, actor, node: OrgUnit | None, path_field: str = "org_path") -> QuerySet:
    """Rows in the actor's scope, and within `node`'s subtree when given (node already scoped)."""
    scope = actor_scope(actor)
    qs = qs.filter(scope.q(path_field))
    if node is not None:
        qs = qs.filter(**{f"{path_field}__startswith": node.path})
    return qs


def _page(qs: QuerySet, order: tuple[str, str], cursor: str | None, limit: int):
    """Keyset pagination on (order field, id), both ascending."""
    limit = max(1, min(int(limit or 50), PAGE_MAX))
    key, _ = order
    after = cursors.decode(cursor, list)
    if after:
        value, last_id = after
        if key.endswith("_at"):
            value = datetime.datetime.fromisoformat(value)
        if key == "id":
            qs = qs.filter(id__gt=last_id)
        else:
            qs = qs.filter(Q(**{f"{key}__gt": value}) | Q(**{key: value, "id__gt": last_id}))
    rows = list(qs.order_by(key, "id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = getattr(last, key)
        next_cursor = cursors.encode([value.isoformat() if hasattr(value, "isoformat") else value, last.pk])
    return rows[:limit], next_cursor


# --- Applications ---------------------------------------------------------------------------------


APPLICATION_RELATED = ("org", "employer", "occupation", "platform", "work_division")


def application_list(*, actor, node: OrgUnit | None = None, status: str | None = "pending", overdue: bool = False,
                     cursor: str | None = None, limit: int = 50):
    """The approval queue: pending applications sorted by due time (the most urgent first)."""
    qs = _in_node(Application.objects.select_related(*APPLICATION_RELATED), actor, node)
    if status:
        if status not in Application.Status.values:
            raise ValidationFailed("status_invalid", "状态参数无效", "status")
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(escalated_at__isnull=False)
    return _page(qs, ("due_at", "id"), cursor, limit)


def application_board(*, actor, node: OrgUnit, cursor: str | None = None, limit: int = 50):
    """督办: overdue applications that this node supervises (escalated to it by its children)."""
    qs = _in_node(Application.objects.select_related(*APPLICATION_RELATED), actor, None, "supervisor_path")
    qs = qs.filter(supervisor_id=node.pk, status=Application.Status.PENDING, escalated_at__isnull=False)
    return _page(qs, ("due_at", "id"), cursor, limit)


def application_get(*, actor, application_id) -> Application:
    pk = _int_id(application_id, "入会申请")
    app = (Application.objects.select_related(*APPLICATION_RELATED, "member", "decided_by")
           .filter(actor_scope(actor).q("org_path") | actor_scope(actor).q("supervisor_path"), pk=pk).first())
    if app is None:
        raise NotFound("入会申请")
    return app


def application_history(application: Application) -> list:
    """The audit entries about one application (submitted, escalated, decided), oldest first.
    The caller has already fetched the application through `application_get` (in scope)."""
    from gonghui.core.models import AuditEntry

    return list(AuditEntry.objects.filter(object_type="membership.application", object_id=str(application.pk))
                .order_by("id"))


def my_applications(user) -> list[Application]:
    return list(Application.objects.select_related("org").filter(user=user).order_by("-id")[:10])


def my_application_get(user, application_id) -> Application:
    app = Application.objects.select_related("org").filter(user=user, pk=_int_id(application_id, "入会申请")).first()
    if app is None:
        raise NotFound("入会申请")
    return app


# --- Members --------------------------------------------------------------------------------------

MEMBER_RELATED = ("org", "employer", "occupation", "platform", "work_division")


def member_list(*, actor, node: OrgUnit, status: str | None = None, q: str = "", cursor: str | None = None,
                limit: int = 50, direct: bool = False):
    qs = _in_node(Member.objects.select_related(*MEMBER_RELATED), actor, node)
    if direct:
        qs = qs.filter(org_id=node.pk)
    if status:
        if status not in MemberStatus.values:
            raise ValidationFailed("status_invalid", "会籍状态参数无效", "status")
        qs = qs.filter(status=status)
    q = (q or "").strip()
    if q:
        qs = _member_query(qs, q)
    return _page(qs, ("id", "id"), cursor, limit)


def _member_query(qs: QuerySet, q: str) -> QuerySet:
    """Exact lookups only: an ID number (by its keyed hash), a phone, a member number, or a name."""
    from gonghui.accounts.services import normalize_phone

    from .identity import normalize_id_number
    from .numbers import is_valid_member_no

    compact = normalize_id_number(q)
    if len(compact) == 18:
        try:
            return qs.filter(id_hash=pii.lookup_hash("id", parse_id_number(compact).number))
        except ValidationFailed:
            return qs.none()
    if is_valid_member_no(compact):
        return qs.filter(member_no=compact)
    if compact.isdigit() and len(compact) == 11:
        try:
            return qs.filter(phone_hash=pii.lookup_hash("phone", normalize_phone(compact)))
        except ValidationFailed:
            return qs.none()
    return qs.filter(name=q)


def member_get(*, actor, member_id) -> Member:
    pk = _int_id(member_id, "会员")
    member = (Member.objects.select_related(*MEMBER_RELATED, "user")
              .filter(actor_scope(actor).q("org_path"), pk=pk).first())
    if member is None:
        raise NotFound("会员")
    return member


def member_find_by_id_number(*, actor, id_number: str) -> Member:
    """Lookup by ID number: one probe of the unique keyed-hash index, then the scope check on the
    row's path (default deny: a member outside the actor's subtree is "not found"). Related rows
    (the union, the employer) load when the caller reads them."""
    identity = parse_id_number(id_number)
    scope = actor_scope(actor)
    if not scope.grants:
        raise NotFound("会员")
    try:
        member = Member.objects.get(id_hash=pii.lookup_hash("id", identity.number))
    except Member.DoesNotExist:
        raise NotFound("会员") from None
    if not scope.covers(member.org_path):
        raise NotFound("会员")
    return member


def member_history(member: Member) -> list:
    return list(member.events.select_related("org", "actor").order_by("id"))


def member_stints(member: Member) -> list:
    """The member's periods at each union, newest first (member already fetched in scope)."""
    return list(member.stints.select_related("org").order_by("-started_on", "-id"))


def member_pending_transfer(member: Member) -> Transfer | None:
    """The member's transfer waiting for the receiving union (member already fetched for its owner
    or in scope)."""
    return (Transfer.objects.select_related("member", "from_org", "to_org")
            .filter(member=member, status=Transfer.Status.PENDING).first())


def member_latest_change_request(member: Member) -> ChangeRequest | None:
    return ChangeRequest.objects.filter(member=member).order_by("-id").first()


def my_member(user) -> Member | None:
    """The membership this account holds (a roster member is linked by `services.member_claim`)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("org").filter(user=user).first()


# --- Transfers and corrections -------------------------------------------------------------------


def transfer_list(*, actor, node: OrgUnit, direction: str = "in", status: str | None = "pending",
                  cursor: str | None = None, limit: int = 50):
    field = "to_path" if direction == "in" else "from_path"
    qs = _in_node(Transfer.objects.select_related("member", "from_org", "to_org", "employer"), actor, node, field)
    if status:
        qs = qs.filter(status=status)
    return _page(qs, ("due_at", "id"), cursor, limit)


def transfer_get(*, actor, transfer_id) -> Transfer:
    pk = _int_id(transfer_id, "接转")
    scope = actor_scope(actor)
    tr = (Transfer.objects.select_related("member", "from_org", "to_org", "employer")
          .filter(scope.q("to_path") | scope.q("from_path"), pk=pk).first())
    if tr is None:
        raise NotFound("接转")
    return tr


def my_transfer_get(user, transfer_id) -> Transfer:
    tr = (Transfer.objects.select_related("member", "from_org", "to_org")
          .filter(member__user=user, pk=_int_id(transfer_id, "接转")).first())
    if tr is None:
        raise NotFound("接转")
    return tr


def change_request_list(*, actor, node: OrgUnit, status: str | None = "pending", cursor: str | None = None,
                        limit: int = 50):
    qs = _in_node(ChangeRequest.objects.select_related("member", "org"), actor, node)
    if status:
        qs = qs.filter(status=status)
    return _page(qs, ("id", "id"), cursor, limit)


def change_request_get(*, actor, change_request_id) -> ChangeRequest:
    pk = _int_id(change_request_id, "更正申请")
    cr = (ChangeRequest.objects.select_related("member", "org")
          .filter(actor_scope(actor).q("org_path"), pk=pk).first())
    if cr is None:
        raise NotFound("更正申请")
    return cr


# --- Imports --------------------------------------------------------------------------------------


def import_get(*, actor, import_id) -> RosterImport:
    pk = _int_id(import_id, "导入任务")
    job = RosterImport.objects.select_related("org").filter(actor_scope(actor).q("org_path"), pk=pk).first()
    if job is None:
        raise NotFound("导入任务")
    return job


def import_list(*, actor, node: OrgUnit, limit: int = 20) -> list[RosterImport]:
    return list(_in_node(RosterImport.objects.select_related("org"), actor, node).order_by("-id")[:limit])


# --- Notices --------------------------------------------------------------------------------------


def my_notices(user, limit: int = 20) -> list[Notice]:
    return list(Notice.objects.filter(user=user).order_by("-id")[:limit])


def org_notices(*, actor, node: OrgUnit, limit: int = 20) -> list[OrgNotice]:
    return list(_in_node(OrgNotice.objects.all(), actor, None).filter(org_id=node.pk).order_by("-id")[:limit])


# --- Numbers --------------------------------------------------------------------------------------


def _bucket_quantile(histogram: dict[str, int], q: float) -> float | None:
    """Upper bound (hours) of the bucket holding the q-quantile of approval times."""
    from .services import APPROVAL_BUCKETS

    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound in APPROVAL_BUCKETS:
        seen += histogram.get(f"approval_hours.le{bound}", 0)
        if seen >= q * total:
            return float(bound)
    return None  # beyond the last bound


def membership_stats(*, actor, node: OrgUnit, days: int = 30) -> dict:
    """From rollups: members by status, gig members, applications pending/overdue, approval time
    (median and p90 from a histogram: bucket upper bounds), new members per day, 入会率."""
    scope = actor_scope(actor)
    if not scope.subtree_rank(node.path):
        # A grant on the node alone: its own figures would need a count; show the node's direct rows.
        return _node_only_stats(node)
    totals = rollup_read(node.pk)
    by_status = {status: totals.get(f"members.{status}", 0) for status in MemberStatus.values}
    histogram = {k: v for k, v in totals.items() if k.startswith("approval_hours.")}
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days - 1)
    daily = daily_read(node.pk, ["members.new", "applications.approved"], since, today)
    series = []
    for i in range(days):
        day = since + datetime.timedelta(days=i)
        series.append({"day": day, "new_members": daily["members.new"].get(day, 0)})
    holding = sum(by_status[s] for s in ("active", "retained", "transferring", "suspended"))
    workers = totals.get("workers", 0)
    at_counted = totals.get("members.at_counted_employers", 0)
    return {
        "scope": "subtree",
        "members": holding,
        "by_status": by_status,
        "gig_members": totals.get("members.gig", 0),
        "applications_pending": totals.get("applications.pending", 0),
        "applications_overdue": totals.get("applications.overdue", 0),
        "applications_decided": totals.get("applications.decided", 0),
        "transfers_pending": totals.get("transfers.pending", 0),
        "approval_hours_median": _bucket_quantile(histogram, 0.5),
        "approval_hours_p90": _bucket_quantile(histogram, 0.9),
        "workers_at_counted_employers": workers,
        "join_rate": round(at_counted / workers, 4) if workers else None,
        "new_members_daily": series,
    }


def _node_only_stats(node: OrgUnit) -> dict:
    from django.db.models import Count

    counts = dict(Member.objects.filter(org_id=node.pk).values_list("status").annotate(n=Count("id")))
    by_status = {status: counts.get(status, 0) for status in MemberStatus.values}
    pending = Application.objects.filter(org_id=node.pk, status=Application.Status.PENDING)
    return {
        "scope": "node",
        "members": sum(by_status[s] for s in ("active", "retained", "transferring", "suspended")),
        "by_status": by_status,
        "gig_members": Member.objects.filter(org_id=node.pk, employment_form="platform",
                                             status__in=["active", "retained", "transferring", "suspended"]).count(),
        "applications_pending": pending.count(),
        "applications_overdue": pending.filter(escalated_at__isnull=False).count(),
        "applications_decided": Application.objects.filter(org_id=node.pk, status__in=["approved", "rejected"]).count(),
        "transfers_pending": Transfer.objects.filter(to_org_id=node.pk, status="pending").count(),
        "approval_hours_median": None,
        "approval_hours_p90": None,
        "workers_at_counted_employers": 0,
        "join_rate": None,
        "new_members_daily": [],
    }


def child_breakdown(*, actor, node: OrgUnit, limit: int = 50) -> list[dict]:
    """Members, gig members and pending applications of each child node (from rollups)."""

    children = list(OrgUnit.objects.filter(actor_scope(actor).q("path"), parent_id=node.pk).order_by("path")[:limit])
    metrics = ["members.active", "members.retained", "members.transferring", "members.suspended", "members.gig",
               "applications.pending", "applications.overdue", "workers", "members.at_counted_employers"]
    values = rollup_values([c.pk for c in children], metrics)
    out = []
    for child in children:
        v = values.get(child.pk, {})
        members = sum(v.get(m, 0) for m in metrics[:4])
        out.append({"org": child, "members": members, "gig_members": v.get("members.gig", 0),
                    "applications_pending": v.get("applications.pending", 0),
                    "applications_overdue": v.get("applications.overdue", 0),
                    "join_rate": round(v.get("members.at_counted_employers", 0) / v["workers"], 4)
                    if v.get("workers") else None})
    return out


def may_reveal(actor, member: Member) -> bool:
    return actor_scope(actor).rank_at(member.org_path) >= ROLE_RANK[Role.STAFF]

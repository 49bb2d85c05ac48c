"""Case desk reads. Staff see case content only where they hold a case role (Grant.case_role) over
the union handling the case, i.e. on the handling chain or above it; a worker sees their own cases.
Unknown and forbidden ids both raise NotFound."""

from __future__ import annotations

import datetime
import re

from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.analytics.rollups import daily_read, rollup_read
from gonghui.core import cursors, pii
from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.membership.models import Member
from gonghui.orgs.models import LEAF_KINDS, OrgUnit
from gonghui.orgs.paths import STEP
from gonghui.orgs.selectors import actor_scope

from .models import Case, CaseCategory, CaseEvent, CaseKind, CaseStatus, ClusterAlert

PAGE_MAX = 100
DEADLINE_STATUSES = (CaseStatus.PENDING, CaseStatus.IN_PROGRESS)


def _int_id(value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(what) from None


def cases_visible(actor) -> QuerySet[Case]:
    """Every case the actor may read: staff by case role over the handling union; a worker their own."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    if actor.kind == User.Kind.WORKER:
        return Case.objects.filter(worker=actor)
    return Case.objects.filter(actor_scope(actor).case_q("org_path"))


def case_get(*, actor, case_id) -> Case:
    pk = _int_id(case_id, "诉求")
    case = (cases_visible(actor).select_related("org", "intake_org", "category__parent", "employer", "member",
                                                "work_division", "supervisor", "merged_into")
            .filter(pk=pk).first())
    if case is None:
        raise NotFound("诉求")
    return case


def identity_hidden(actor, case: Case) -> bool:
    """A worker who asked for protection is shown to the employer-level union without name, phone or
    ID: when every case role the actor holds over the case sits on a grassroots-level union."""
    if not case.protect_identity or actor is None or actor.kind == User.Kind.WORKER:
        return False
    scope = actor_scope(actor)
    covering = [org_id for path, desc, _rank, org_id in scope.case_grants
                if case.org_path == path or (desc and case.org_path.startswith(path))]
    if not covering:
        return True
    kinds = getattr(actor, "_gonghui_case_grant_kinds", None)
    if kinds is None:
        kinds = dict(OrgUnit.objects.filter(pk__in=[g[3] for g in scope.case_grants]).values_list("pk", "kind"))
        actor._gonghui_case_grant_kinds = kinds
    return all(kinds.get(org_id) in LEAF_KINDS for org_id in covering)


def case_board(*, actor, node: OrgUnit, status: str = CaseStatus.PENDING, overdue: bool = False,
               supervising: bool = False, category: str = "", q: str = "", cursor: str | None = None,
               limit: int = 50):
    """A subtree's cases in one status, the soonest deadline first (finished ones newest first);
    `supervising`: the cases escalated to this node's board (督办)."""
    if status not in CaseStatus.values:
        raise ValidationFailed("status_invalid", "状态参数无效", "status")
    limit = max(1, min(int(limit or 50), PAGE_MAX))
    base = cases_visible(actor)
    if getattr(actor, "kind", None) == User.Kind.STAFF and any(
            desc and node.path.startswith(path) for path, desc, _rank, _org in actor_scope(actor).case_grants):
        # The actor sees the node's whole subtree: the node's own path filter below is the scope. The
        # scope's LIKE repeated beside it makes PostgreSQL square its row estimate and pick a bitmap
        # scan and a sort over every open case of a county instead of walking the due-order index.
        base = Case.objects.all()
    qs = base.select_related("org", "category__parent").filter(status=status)
    if supervising:  # 督办: the overdue cases of the unions right below the node
        qs = qs.filter(supervisor_path=node.path)
        overdue = True
    else:
        qs = qs.filter(org_path__startswith=node.path)
    if overdue:
        qs = qs.filter(Q(accept_overdue_at__isnull=False) | Q(complete_overdue_at__isnull=False))
    if category:
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    q = (q or "").strip()
    if q:
        qs = _case_query(qs, q)
    after = cursors.decode(cursor, list)
    if status in DEADLINE_STATUSES:
        if after:
            try:  # a cursor of a finished status ([None, id]) reused here
                due, last_id = datetime.datetime.fromisoformat(after[0]), int(after[1])
            except (TypeError, ValueError, IndexError):
                raise ValidationFailed("invalid_cursor", "翻页参数无效，请从第一页重新开始", "cursor") from None
            # due_at >= due bounds the index scan; the OR alone cannot (a seq scan at 100,000 cases).
            qs = qs.filter(Q(due_at__gte=due), Q(due_at__gt=due) | Q(due_at=due, id__gt=last_id))
        rows = list(qs.order_by("due_at", "id")[: limit + 1])
        key = lambda c: [c.due_at.isoformat(), c.pk]  # noqa: E731
    else:
        if after:
            qs = qs.filter(id__lt=after[1])
        rows = list(qs.order_by("-id")[: limit + 1])
        key = lambda c: [None, c.pk]  # noqa: E731
    next_cursor = cursors.encode(key(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor


_CASE_NO = re.compile(r"^WQ(\d{8})(\d{6,})$", re.IGNORECASE)


def _case_query(qs: QuerySet, q: str) -> QuerySet:
    """Exact lookups: a case number, a phone, an external id; otherwise words of the title."""
    from gonghui.accounts.services import normalize_phone

    compact = re.sub(r"[\s-]", "", q)
    found = _CASE_NO.match(compact)
    if found:
        return qs.filter(pk=int(found.group(2)))
    if compact.isdigit() and len(compact) == 11:
        try:
            return qs.filter(phone_hash=pii.lookup_hash("phone", normalize_phone(compact)))
        except ValidationFailed:
            return qs.none()
    return qs.filter(Q(title__contains=q) | Q(external_id=q) | Q(employer_name__contains=q))


def my_cases(*, actor, cursor: str | None = None, limit: int = 20):
    if actor is None or actor.kind != User.Kind.WORKER:
        return [], None
    limit = max(1, min(int(limit or 20), PAGE_MAX))
    qs = Case.objects.select_related("org", "category__parent").filter(worker=actor)
    after = cursors.decode(cursor, list)
    if after:
        qs = qs.filter(id__lt=after[1])
    rows = list(qs.order_by("-id")[: limit + 1])
    next_cursor = cursors.encode([None, rows[limit - 1].pk]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def case_timeline(*, actor, case: Case) -> list[CaseEvent]:
    """Every step for staff; for the worker only what is meant for them (no internal notes)."""
    qs = case.events.select_related("actor", "from_org", "to_org").order_by("id")
    if actor is not None and actor.kind == User.Kind.WORKER:
        qs = qs.filter(worker_visible=True)
    return list(qs)


def case_attachments(*, actor, case: Case) -> list:
    qs = case.attachments.select_related("event").order_by("id")
    if actor is not None and actor.kind == User.Kind.WORKER:
        # The worker's own uploads too: those filed with the case hang on its (internal) create event.
        qs = qs.filter(Q(event__isnull=True) | Q(event__worker_visible=True) | Q(uploaded_by=actor))
    return list(qs)


def caller_lookup(*, actor, phone: str) -> dict:
    """The hotline desk: who is calling (the member, if any, masked) and their past cases the agent
    may see."""
    from gonghui.accounts.services import normalize_phone

    scope = actor_scope(actor)
    if not scope.case_grants:
        raise NotFound("来电记录")
    number = normalize_phone(phone)
    phone_hash = pii.lookup_hash("phone", number)
    member = Member.objects.select_related("org").filter(phone_hash=phone_hash).first()
    cases = list(cases_visible(actor).select_related("org", "category__parent").filter(phone_hash=phone_hash)
                 .order_by("-id")[:20])
    return {"phone_masked": pii.mask_phone(number), "member": member, "cases": cases,
            "member_in_scope": bool(member and scope.covers(member.org_path))}


# --- Taxonomy -------------------------------------------------------------------------------------


def categories(province_path: str = "", include_inactive: bool = False) -> list[CaseCategory]:
    """The taxonomy as groups (each with `.items`), national plus the province's own items."""
    qs = CaseCategory.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    qs = qs.filter(Q(owner_path="") | Q(owner_path=province_path[:2 * STEP] if province_path else "-"))
    rows = list(qs.order_by("sort", "code"))
    groups = [c for c in rows if c.parent_id is None]
    by_parent: dict[int, list] = {}
    for c in rows:
        if c.parent_id:
            by_parent.setdefault(c.parent_id, []).append(c)
    for g in groups:
        g.items = by_parent.get(g.pk, [])
    return groups


def category_search(q: str, province_path: str = "", limit: int = 10) -> list[CaseCategory]:
    """Items whose name, description or colloquial words contain the query (or its words)."""
    q = (q or "").strip()
    items = [i for g in categories(province_path) for i in g.items]
    if not q:
        return items[:limit]
    words = [w for w in re.split(r"\s+", q) if w]

    def score(item: CaseCategory) -> int:
        text = f"{item.name} {item.parent.name if item.parent_id else ''} {item.keywords} {item.description}"
        points = 0
        for w in words:
            if w in item.name:
                points += 10
            elif w in text:
                points += 5
            else:  # a longer phrase ("公司三个月不发工资"): count keywords found inside it
                points += sum(3 for k in item.keywords.split() if k and k in w)
        return points

    ranked = sorted(((score(i), i.sort, i) for i in items), key=lambda t: (-t[0], t[1]))
    return [i for s, _sort, i in ranked if s > 0][:limit]


# --- Numbers -------------------------------------------------------------------------------------


def case_stats(node: OrgUnit, *, days: int = 30) -> dict:
    """Subtree numbers from the rollups (node already checked against the actor's scope)."""
    r = rollup_read(node.pk)
    accepted, completed, rated = r.get("cases.accepted", 0), r.get("cases.completed", 0), r.get("cases.rated", 0)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days - 1)
    daily = daily_read(node.pk, ["cases.new", "cases.closed"], since, today)
    trend = [{"day": (since + datetime.timedelta(days=i)).isoformat(),
              "new": daily["cases.new"].get(since + datetime.timedelta(days=i), 0),
              "closed": daily["cases.closed"].get(since + datetime.timedelta(days=i), 0)} for i in range(days)]
    groups = categories(node.path)
    return {
        "total": r.get("cases.total", 0),
        "open": r.get("cases.open", 0),
        "overdue_open": r.get("cases.overdue_open", 0),
        "by_status": {s.value: r.get(f"cases.status.{s.value}", 0) for s in CaseStatus},
        "by_kind": {k.value: r.get(f"cases.kind.{k.value}", 0) for k in CaseKind},
        "by_category": {g.code: r.get(f"cases.cat.{g.code}", 0) for g in groups},
        "category_names": {g.code: g.name for g in groups},
        "accepted": accepted,
        "accept_on_time_rate": round(r.get("cases.accepted_on_time", 0) / accepted, 4) if accepted else None,
        "completed": completed,
        "complete_on_time_rate": round(r.get("cases.completed_on_time", 0) / completed, 4) if completed else None,
        "rated": rated,
        "satisfaction_avg": round(r.get("cases.satisfaction_sum", 0) / rated, 2) if rated else None,
        "satisfied_rate": round(r.get("cases.satisfied", 0) / rated, 4) if rated else None,
        "money_recovered": r.get("cases.money_fen", 0) / 100,
        "workers_helped": r.get("cases.workers_helped", 0),
        "trend": trend,
    }


def case_child_breakdown(node: OrgUnit, limit: int = 50) -> list[dict]:
    """The node's children with their case numbers (from rollups), busiest first. The busiest are
    picked in SQL: a township may have thousands of grassroots unions below it."""
    from gonghui.analytics.rollups import rollup_top_children, rollup_values

    top = rollup_top_children(node.pk, "cases.total", limit)
    children = {c.pk: c for c in OrgUnit.objects.filter(pk__in=top).only("id", "name", "kind", "path")}
    metrics = ["cases.total", "cases.open", "cases.overdue_open", "cases.accepted", "cases.accepted_on_time",
               "cases.completed", "cases.completed_on_time", "cases.money_fen"]
    values = rollup_values(top, metrics)
    out = []
    for org_id in top:
        v = values.get(org_id, {})
        out.append({"org": children[org_id], "total": v.get("cases.total", 0), "open": v.get("cases.open", 0),
                    "overdue_open": v.get("cases.overdue_open", 0),
                    "accept_on_time_rate": round(v.get("cases.accepted_on_time", 0) / v["cases.accepted"], 4)
                    if v.get("cases.accepted") else None,
                    "complete_on_time_rate": round(v.get("cases.completed_on_time", 0) / v["cases.completed"], 4)
                    if v.get("cases.completed") else None,
                    "money_recovered": v.get("cases.money_fen", 0) / 100})
    return out


def clusters(*, actor, node: OrgUnit, status: str = ClusterAlert.Status.OPEN, limit: int = 50) -> list[ClusterAlert]:
    return list(ClusterAlert.objects.select_related("category__parent", "org")
                .filter(actor_scope(actor).case_q("org_path"), org_path__startswith=node.path, status=status)
                .order_by("-last_case_at")[:limit])


def cluster_get(*, actor, alert_id) -> ClusterAlert:
    pk = _int_id(alert_id, "预警")
    alert = (ClusterAlert.objects.select_related("category__parent", "org", "employer")
             .filter(actor_scope(actor).case_q("org_path"), pk=pk).first())
    if alert is None:
        raise NotFound("预警")
    return alert


"""Reads, always cut to what the actor may see. Unknown and forbidden ids both raise NotFound."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from gonghui.analytics.rollups import rollup_read
from gonghui.core import cursors
from gonghui.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.core.text import normalize_name, search_tokens

from .models import CASE_ROLE_RANK, ROLE_RANK, CaseRole, Employer, Grant, OrgUnit, Role
from .paths import ancestor_paths

PAGE_MAX = 100


@dataclass
class Scope:
    """The nodes an actor acts for: (path, include_descendants, rank) per grant. Empty denies all."""

    grants: list[tuple[str, bool, int, int]] = field(default_factory=list)  # path, desc, rank, org_id
    # The same grants' case roles (CaseRole), for worker cases: path, desc, case rank, org_id.
    case_grants: list[tuple[str, bool, int, int]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.grants

    def q(self, path_field: str = "path") -> Q:
        if not self.grants:
            return Q(pk__in=[])
        condition = Q()
        for path, desc, _rank, _org in self.grants:
            condition |= Q(**{f"{path_field}__startswith": path}) if desc else Q(**{path_field: path})
        return condition

    def rank_at(self, path: str) -> int:
        best = 0
        for grant_path, desc, rank, _org in self.grants:
            if path == grant_path or (desc and path.startswith(grant_path)):
                best = max(best, rank)
        return best

    def covers(self, path: str) -> bool:
        return self.rank_at(path) > 0

    def subtree_rank(self, path: str) -> int:
        """The rank held over the node at `path` and everything below it (grants with descendants)."""
        return max((rank for grant_path, desc, rank, _org in self.grants if desc and path.startswith(grant_path)),
                   default=0)

    def case_rank_at(self, path: str) -> int:
        """The case role's rank (CASE_ROLE_RANK) held over the node at `path`; 0 without one."""
        return max((rank for grant_path, desc, rank, _org in self.case_grants
                    if path == grant_path or (desc and path.startswith(grant_path))), default=0)

    def case_subtree_rank(self, path: str) -> int:
        return max((rank for grant_path, desc, rank, _org in self.case_grants if desc and path.startswith(grant_path)),
                   default=0)

    def case_q(self, path_field: str, min_rank: int = 1) -> Q:
        """Rows whose `path_field` lies where the actor holds a case role of at least `min_rank`."""
        condition = Q(pk__in=[])
        for path, desc, rank, _org in self.case_grants:
            if rank >= min_rank:
                condition |= Q(**{f"{path_field}__startswith": path}) if desc else Q(**{path_field: path})
        return condition

    @property
    def roots(self) -> list[int]:
        return [org_id for _p, _d, _r, org_id in sorted(self.grants)]


def actor_scope(actor) -> Scope:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Scope()
    cached = getattr(actor, "_gonghui_scope", None)
    if cached is not None:
        return cached
    rows = Grant.objects.filter(user=actor).values_list("org_path", "include_descendants", "role", "org_id",
                                                        "case_role")
    scope = Scope([(path, desc, ROLE_RANK[Role(role)], org_id) for path, desc, role, org_id, _c in rows],
                  [(path, desc, CASE_ROLE_RANK[CaseRole(case)], org_id)
                   for path, desc, _r, org_id, case in rows if case])
    actor._gonghui_scope = scope
    return scope


def require_rank(actor, path: str, role: Role, message: str = "没有权限执行此操作") -> None:
    if actor_scope(actor).rank_at(path) < ROLE_RANK[role]:
        raise PermissionDenied(message)


# --- Unions -----------------------------------------------------------------------------------


def org_visible(actor) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(actor_scope(actor).q("path"))


def org_get(*, actor, org_id) -> OrgUnit:
    try:
        org_id = int(org_id)
    except (TypeError, ValueError):
        raise NotFound("工会组织") from None
    org = org_visible(actor).select_related("division", "parent").filter(pk=org_id).first()
    if org is None:
        raise NotFound("工会组织")
    return org


def org_ancestors(org: OrgUnit) -> list[OrgUnit]:
    """The parent chain, root first (names only above the actor's scope: the caller decides links)."""
    return list(OrgUnit.objects.filter(path__in=ancestor_paths(org.path, include_self=False)).order_by("path"))


def org_children(*, actor, org: OrgUnit, cursor: str | None = None, limit: int = 50) -> tuple[list[OrgUnit], str | None]:
    limit = max(1, min(int(limit), PAGE_MAX))
    after = cursors.decode(cursor, str)
    qs = org_visible(actor).filter(parent_id=org.pk).order_by("path")
    if after:
        qs = qs.filter(path__gt=after)
    rows = list(qs[: limit + 1])
    next_cursor = cursors.encode(rows[limit - 1].path) if len(rows) > limit else None
    return rows[:limit], next_cursor


def org_stats(*, actor, org: OrgUnit) -> dict:
    """Subtree counts from rollups (org has already been fetched through the actor's scope).

    A grant on the node alone (without descendants) sees the node's own figures only: totals of a
    subtree the actor may not open would tell what lies in it.
    """
    if not actor_scope(actor).subtree_rank(org.path):
        own = Employer.objects.filter(org_id=org.pk).aggregate(n=Count("id"), w=Sum("employee_count"))
        return {
            "unions": 0,
            "grassroots_unions": 0,
            "employers": own["n"] or 0,
            "workers": own["w"] or 0,
            "staff": Grant.objects.filter(org_id=org.pk).count(),
            "members": {},
            "scope": "node",
        }
    values = rollup_read(org.pk)
    members = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("members.")}
    return {
        "scope": "subtree",
        "unions": values.get("unions", 0),
        "grassroots_unions": values.get("grassroots", 0),
        "employers": values.get("employers", 0),
        "workers": values.get("workers", 0),
        "staff": values.get("staff", 0),
        "members": members,
    }


_ASCII_INITIALS = re.compile(r"^[a-z]{2,32}$")
_CODE_LIKE = re.compile(r"^[0-9A-Z]{4,18}$")


def _search_terms(q: str) -> tuple[str, str]:
    """Classify a query: ('initials'|'code'|'name', normalised text)."""
    text = normalize_name(q)
    if not text:
        raise ValidationFailed("invalid_query", "请输入要搜索的名称、拼音首字母或统一社会信用代码", field="q")
    if len(text) > 100:
        raise ValidationFailed("invalid_query", "搜索内容不能超过100个字", field="q")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationFailed("invalid_query", "搜索内容含有不可见的控制字符，请删除后重试", field="q")
    upper = text.replace(" ", "").upper()
    if _CODE_LIKE.match(upper) and any(ch.isdigit() for ch in upper):
        return "code", upper
    if _ASCII_INITIALS.match(text.lower().replace(" ", "")):
        return "initials", text.lower().replace(" ", "")
    if len(search_tokens(text)) == 0:
        raise ValidationFailed("query_too_short", "请至少输入2个字，或输入拼音首字母、统一社会信用代码", field="q")
    return "name", text


def _name_filter(qs: QuerySet, text: str, table: str) -> QuerySet:
    tokens = search_tokens(text)
    if connection.vendor != "postgresql":
        return qs.filter(name__contains=text)
    # The GIN index on to_tsvector('simple', name_bigrams) finds the candidates; LIKE rechecks the
    # order of the characters. A two-character query is its own single bigram, so LIKE adds nothing
    # there but a wrong row estimate (the planner then sorts 13,000 深圳 matches, in parallel).
    if tokens != [text.lower()]:
        qs = qs.filter(name__contains=text)
    return qs.extra(
        where=[f"to_tsvector('simple', {table}.name_bigrams) @@ plainto_tsquery('simple', %s)"],
        params=[" ".join(tokens)],
    )


def org_search(*, actor, q: str, limit: int = 20, within: OrgUnit | None = None) -> list[OrgUnit]:
    limit = max(1, min(int(limit), PAGE_MAX))
    mode, text = _search_terms(q)
    qs = org_visible(actor)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    if mode == "initials":
        qs = qs.filter(name_initials__startswith=text)
    elif mode == "code":
        qs = qs.filter(Q(division__code__startswith=text) | Q(name__contains=text))
    else:
        exact = list(qs.filter(name=text).order_by("path")[:limit])
        rest = _name_filter(qs, text, "orgs_orgunit").exclude(pk__in=[o.pk for o in exact])
        # Unordered in SQL: ORDER BY id would visit every match (13,000 for 深圳) to keep the first
        # few; the index hands over `limit` of them, shown by id. Exact for fewer matches than that.
        return exact + sorted(rest.select_related("parent")[: limit - len(exact)], key=lambda o: o.pk)
    return list(qs.select_related("parent").order_by("id")[:limit])


# --- Employers --------------------------------------------------------------------------------


def employer_visible(actor) -> QuerySet[Employer]:
    return Employer.objects.filter(actor_scope(actor).q("org_path"))


def employer_get(*, actor, employer_id) -> Employer:
    try:
        employer_id = int(employer_id)
    except (TypeError, ValueError):
        raise NotFound("用人单位") from None
    employer = employer_visible(actor).select_related("org", "division").filter(pk=employer_id).first()
    if employer is None:
        raise NotFound("用人单位")
    return employer


def employer_list(
    *, actor, org: OrgUnit, cursor: str | None = None, limit: int = 50, direct_only: bool = False
) -> tuple[list[Employer], str | None]:
    """Employers in the subtree of `org`, keyset-paginated by id (constant time at any depth)."""
    limit = max(1, min(int(limit), PAGE_MAX))
    after = cursors.decode(cursor, int)
    # `org` came through the scope. When a grant covers its whole subtree, the scope's prefix condition
    # only repeats the one below and squares PostgreSQL's row estimate: a city admin's own list took
    # 120 ms to 1.9 s instead of 12 ms at national size (bench/run.py).
    qs = Employer.objects.all() if actor_scope(actor).subtree_rank(org.path) else employer_visible(actor)
    qs = qs.filter(org_id=org.pk) if direct_only else qs.filter(org_path__startswith=org.path)
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs.select_related("org", "division").order_by("id")[: limit + 1])
    next_cursor = cursors.encode(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


def employer_search(*, actor, q: str, limit: int = 20, public: bool = False) -> list[Employer]:
    """Staff search within their scope; `public=True` is the worker's employer finder (all employers,
    the caller shows only name, code and place)."""
    limit = max(1, min(int(limit), PAGE_MAX))
    mode, text = _search_terms(q)
    qs = Employer.objects.all() if public else employer_visible(actor)
    if mode == "initials":
        qs = qs.filter(name_initials__startswith=text)
    elif mode == "code":
        qs = qs.filter(uscc__startswith=text)
    else:
        exact = list(qs.filter(name=text).select_related("org", "division").order_by("id")[:limit])
        rest = _name_filter(qs, text, "orgs_employer").exclude(pk__in=[e.pk for e in exact])
        # Unordered in SQL, as in org_search.
        return exact + sorted(rest.select_related("org", "division")[: limit - len(exact)], key=lambda e: e.pk)
    # The first ids in a subquery, then the joins for those rows only: joined first, a USCC prefix
    # with 3,000 matches hashed the whole division table before keeping 20.
    first = qs.order_by("id").values("pk")[:limit]
    return list(Employer.objects.filter(pk__in=first).select_related("org", "division").order_by("id"))


# --- Staff and audit --------------------------------------------------------------------------


def grant_list(*, actor, org: OrgUnit) -> list[Grant]:
    """Grants held on this node (visible because the node is)."""
    return list(Grant.objects.filter(org=org).select_related("user", "granted_by").order_by("-role", "user__username"))


def grant_get(*, actor, grant_id) -> Grant:
    try:
        grant_id = int(grant_id)
    except (TypeError, ValueError):
        raise NotFound("授权") from None
    grant = Grant.objects.filter(actor_scope(actor).q("org_path")).select_related("user", "org").filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("授权")
    return grant


def audit_list(
    *, actor, org: OrgUnit | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[AuditEntry], str | None]:
    limit = max(1, min(int(limit), PAGE_MAX))
    before = cursors.decode(cursor, int)
    qs = AuditEntry.objects.filter(actor_scope(actor).q("org_path")).exclude(org_path="")
    if org is not None:
        qs = qs.filter(org_path__startswith=org.path)
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.select_related("actor").order_by("-id")[: limit + 1])
    next_cursor = cursors.encode(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


def org_move_pending(*, actor, org: OrgUnit):
    """The move of `org` waiting for the background job, if any (org was fetched through the scope)."""
    from .models import OrgMove

    if not actor_scope(actor).covers(org.path):
        raise NotFound("工会组织")
    return OrgMove.objects.filter(node=org, status=OrgMove.Status.PENDING).first()

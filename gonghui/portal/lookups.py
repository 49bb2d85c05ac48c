"""Small reads for the worker's membership pages: the pickers' options. Everything here is public
reference data (divisions, occupations, the name and place of employers, as the public employer
search shows them); the member's own rows come from gonghui.membership.selectors.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Q

from gonghui.core.errors import ValidationFailed
from gonghui.orgs.models import Division, Employer, Occupation
from gonghui.orgs.selectors import employer_search

SEARCH_MAX = 20
_INITIALS = re.compile(r"^[a-z]{1,32}$")
_CODE = re.compile(r"^\d[\d-]{0,15}$")

# The level of the options a select offers, named for its label.
PLACE_LEVEL_LABELS = {1: "省份", 2: "城市", 3: "区县", 4: "乡镇（街道）"}


# --- Occupations (2022 职业分类大典) ----------------------------------------------------------------


def occupation_search(q: str, limit: int = SEARCH_MAX) -> list[Occupation]:
    """Selectable occupations (level 4): name contains q, or code prefix (4-04-05), or pinyin
    initials prefix (kdy for 快递员)."""
    text = " ".join(unicodedata.normalize("NFKC", (q or "").replace("\x00", "")).split())
    if not text:
        raise ValidationFailed("invalid_query", "请输入职业名称、拼音首字母或职业代码", "occupation_q")
    if len(text) > 50:
        raise ValidationFailed("invalid_query", "搜索内容不能超过50个字", "occupation_q")
    qs = Occupation.objects.filter(level=4)
    compact = text.replace(" ", "")
    if _CODE.match(compact):
        qs = qs.filter(code__startswith=compact)
    elif _INITIALS.match(compact.lower()):
        qs = qs.filter(name_initials__startswith=compact.lower())
    else:
        qs = qs.filter(name__contains=text)
    return list(qs.order_by("code")[: max(1, min(int(limit), 50))])


def occupation_get(code: str) -> Occupation | None:
    code = (code or "").replace("\x00", "").strip()[:20]
    return Occupation.objects.filter(code=code, level=4).first() if code else None


# --- Employers and platforms --------------------------------------------------------------------


def employer_find(*, actor, q: str, limit: int = SEARCH_MAX) -> list[Employer]:
    """The worker's employer finder: the public search (name, pinyin initials or USCC)."""
    return employer_search(actor=actor, q=q, limit=limit, public=True)


def platform_find(*, actor, q: str, limit: int = SEARCH_MAX) -> list[Employer]:
    """Platform companies (is_platform) among the public search's first 100 matches: platforms are
    few and searched by their brand name, so the indexed search finds them without a table scan."""
    found = employer_search(actor=actor, q=q, limit=100, public=True)
    return [e for e in found if e.is_platform][:limit]


def employer_public_get(employer_id, *, platform: bool = False) -> Employer | None:
    """The employer a worker picked, for showing its name and place again (what the search showed)."""
    try:
        pk = int(employer_id)
    except (TypeError, ValueError):
        return None
    qs = Employer.objects.select_related("division")
    if platform:
        qs = qs.filter(is_platform=True)
    return qs.filter(pk=pk).first()


# --- Divisions: the cascading place picker -------------------------------------------------------


def place_options(parent: Division | None) -> list[Division]:
    """What a select offers under `parent` (provinces at the top). The statistical groupings 市辖区,
    县 and 省直辖县级行政区划 are not places anybody names: their children are offered instead."""
    if parent is None:
        return list(Division.objects.filter(level=1).order_by("code"))
    return list(
        Division.objects.filter(Q(parent_id=parent.code) | Q(parent__parent_id=parent.code, parent__is_placeholder=True))
        .exclude(is_placeholder=True)
        .order_by("code")
    )


def _visible_parent(division: Division, by_code: dict[str, Division]) -> str | None:
    parent = by_code.get(division.parent_id) if division.parent_id else None
    if parent is not None and parent.is_placeholder:
        return parent.parent_id
    return division.parent_id


def place_chain(codes: list[str]) -> list[Division]:
    """The consistent path province → … → township among the submitted select values, in any order.

    A select changed higher up leaves stale values below it; they no longer hang under the new choice
    and are dropped, so the picker continues from the changed level."""
    wanted = {str(c).strip() for c in codes if c and str(c).strip().isdigit() and len(str(c).strip()) <= 12}
    if not wanted:
        return []
    rows = list(Division.objects.filter(code__in=wanted).exclude(is_placeholder=True).select_related("parent"))
    by_code = {d.code: d for d in rows}
    for d in rows:
        if d.parent is not None:
            by_code.setdefault(d.parent.code, d.parent)
    chain: list[Division] = []
    current: str | None = None
    while True:
        nxt = [d for d in rows if d not in chain and (
            (current is None and d.level == 1) or (current is not None and _visible_parent(d, by_code) == current))]
        if len(nxt) != 1:
            return chain
        chain.append(nxt[0])
        current = nxt[0].code
        if nxt[0].level == 4:
            return chain


def place_chain_of(code: str | None) -> list[Division]:
    """The picker's path for one stored code (a township), from the province down."""
    code = (code or "").strip()
    division = Division.objects.filter(code=code).select_related("parent__parent__parent").first() if code else None
    chain: list[Division] = []
    while division is not None:
        if not division.is_placeholder:
            chain.append(division)
        division = division.parent
    return list(reversed(chain))


def place_selects(chain: list[Division]) -> list[dict]:
    """One select per level of the chain, and one more for the next level while the township is
    not chosen yet: [{label, options, selected}]."""
    selects = []
    parent = None
    for division in chain:
        options = place_options(parent)
        selects.append({"label": PLACE_LEVEL_LABELS.get(division.level, "地区"), "options": options,
                        "selected": division.code})
        parent = division
    if not chain or chain[-1].level < 4:
        options = place_options(parent)
        if options:
            selects.append({"label": PLACE_LEVEL_LABELS.get(options[0].level, "地区"), "options": options,
                            "selected": ""})
    return selects


def place_code(chain: list[Division]) -> str:
    """The township chosen, or "" while the picker has not reached it."""
    if chain and (chain[-1].level == 4 or not place_options(chain[-1])):
        return chain[-1].code
    return ""

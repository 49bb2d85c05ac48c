"""Which union receives an application or a transfer, and why ("分级负责、属地管理").

The rules run in a configurable order (settings.GONGHUI_MEMBERSHIP_ROUTING, overridable per node by
MembershipPolicy.routing on the province or any ancestor of the place); the first rule that finds
a union wins. The default order follows the domain guide: the employer's own union → the platform's
union for platform workers → an industry federation of the county covering the sector → the
township/street union where the employer (or, without one, the worker) is → the county union.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from gonghui.core.errors import ValidationFailed
from gonghui.orgs.models import LEAF_KINDS, Division, Employer, OrgKind, OrgUnit

from .models import EmploymentForm, MembershipPolicy, PlatformRole

RULES = ("employer_union", "platform_union", "industry_federation", "township", "county")
RULE_LABELS = {
    "employer_union": "本单位工会",
    "platform_union": "平台企业工会",
    "industry_federation": "行业工会联合会",
    "township": "所在地乡镇（街道）工会",
    "county": "所在地县（区）总工会",
    "residence": "居住地工会",
}
# Words that tie a platform job to an industry federation's `industry`.
PLATFORM_SECTORS = {
    PlatformRole.COURIER: ("快递", "物流", "邮政"),
    PlatformRole.RIDER: ("外卖", "骑手", "配送"),
    PlatformRole.RIDE_HAILING: ("网约车", "出租", "客运"),
    PlatformRole.TRUCK: ("货车", "货运", "道路运输"),
    PlatformRole.HOUSEKEEPING: ("家政",),
}


@dataclass(frozen=True)
class Route:
    org: OrgUnit
    rule: str
    reason: str


@dataclass
class Place:
    """What routing needs to know about the job."""

    employer: Employer | None
    division: Division | None  # where the employer is, or where the worker works/lives
    employment_form: str
    platform: Employer | None = None
    platform_role: str = ""
    employer_name: str = ""


# --- Policies along a path (every join reads them twice: the rule order, then the time limit) ---
# Few nodes set a policy of their own (provinces, some counties, unions that auto-approve), so each
# web process keeps a snapshot of all of them and answers from memory. A save or delete in this
# process clears it at once (signals below); other processes read a change within
# GONGHUI_POLICY_CACHE_SECONDS.

_policy_snapshot: tuple[float, dict[str, tuple[bool | None, int | None, list]]] | None = None
_policy_lock = threading.Lock()


def _policies() -> dict[str, tuple[bool | None, int | None, list]]:
    global _policy_snapshot
    ttl = settings.GONGHUI_POLICY_CACHE_SECONDS
    now = time.monotonic()
    snapshot = _policy_snapshot
    if snapshot is not None and now - snapshot[0] < ttl:
        return snapshot[1]
    table = {path: (auto, days, rules) for path, auto, days, rules in MembershipPolicy.objects.values_list(
        "org__path", "auto_approve", "decide_within_days", "routing")}
    if ttl > 0:
        with _policy_lock:
            _policy_snapshot = (now, table)
    return table


def policies_along(path: str) -> list[tuple[str, bool | None, int | None, list]]:
    """(org path, auto_approve, decide_within_days, routing) of the policies on the node at `path`
    and its ancestors, nearest first."""
    from gonghui.orgs.paths import ancestor_paths

    table = _policies()
    found = [(p, *table[p]) for p in ancestor_paths(path) if p in table]
    found.sort(key=lambda row: len(row[0]), reverse=True)
    return found


def forget_policies(**_kwargs) -> None:
    global _policy_snapshot
    with _policy_lock:
        _policy_snapshot = None


post_save.connect(forget_policies, sender=MembershipPolicy, dispatch_uid="membership-policy-cache-save")
post_delete.connect(forget_policies, sender=MembershipPolicy, dispatch_uid="membership-policy-cache-delete")


def rules_for(division: Division | None) -> list[str]:
    """The rule order for a place: the nearest policy above it that sets one, else the setting."""
    if division is not None:
        org = territorial_union(division)
        if org is not None:
            for _path, _auto, _days, rules in policies_along(org.path):
                if rules:
                    return list(rules)
    return list(settings.GONGHUI_MEMBERSHIP_ROUTING)


def territorial_union(division: Division) -> OrgUnit | None:
    return (OrgUnit.objects.filter(division_id=division.code, kind__in=[
        OrgKind.TOWNSHIP, OrgKind.COUNTY, OrgKind.CITY, OrgKind.PROVINCE]).order_by("path").first())


def _county_code(division: Division) -> str:
    return division.code[:6]


def _sector_words(place: Place) -> tuple[str, ...]:
    if place.employment_form == EmploymentForm.PLATFORM and place.platform_role in PLATFORM_SECTORS:
        return PLATFORM_SECTORS[PlatformRole(place.platform_role)]
    industry = (place.employer.industry if place.employer else "").strip()
    return (industry,) if industry else ()


def _employer_union(place: Place) -> Route | None:
    employer = place.employer
    if employer is None or employer.org.kind not in LEAF_KINDS or not employer.org.is_active:
        return None
    return Route(employer.org, "employer_union", f"您的单位「{employer.name}」已建立工会，由本单位工会「{employer.org.name}」受理")


def _platform_union(place: Place) -> Route | None:
    platform = place.platform
    if place.employment_form != EmploymentForm.PLATFORM or platform is None:
        return None
    if platform.org.kind not in LEAF_KINDS or not platform.org.is_active:
        return None
    return Route(platform.org, "platform_union", f"您在平台「{platform.name}」接单，由平台企业工会「{platform.org.name}」受理")


def _industry_federation(place: Place) -> Route | None:
    """A federation of the sector in the township, county or city of the place (nearest first);
    the sector is matched on the federation's name, then on its industry."""
    if place.division is None:
        return None
    words = [w for w in _sector_words(place) if w]
    if not words:
        return None
    county = _county_code(place.division)
    codes = [place.division.code, county, county[:4] + "00"]
    candidates = list(OrgUnit.objects.filter(kind=OrgKind.INDUSTRY, is_active=True, division_id__in=codes))
    candidates.sort(key=lambda o: codes.index(o.division_id))
    for attribute in ("name", "industry"):
        for org in candidates:
            text = getattr(org, attribute)
            if text and any(word in text or (attribute == "industry" and text in word) for word in words):
                return Route(org, "industry_federation",
                             f"您所在行业在当地有行业工会联合会，由「{org.name}」受理")
    return None


def _where(place: Place) -> str:
    return "单位所在地" if place.employer is not None or place.employer_name else "您的工作/居住地"


def _township(place: Place) -> Route | None:
    if place.division is None or place.division.level != Division.Level.TOWNSHIP:
        return None
    org = OrgUnit.objects.filter(division_id=place.division.code, kind=OrgKind.TOWNSHIP, is_active=True).first()
    if org is None:
        return None
    return Route(org, "township", f"{_unorganised(place)}由{_where(place)}的「{org.name}」受理（属地管理）")


def _county(place: Place) -> Route | None:
    if place.division is None:
        return None
    code = _county_code(place.division)
    org = (OrgUnit.objects.filter(division_id=code, kind__in=[OrgKind.COUNTY, OrgKind.CITY], is_active=True)
           .order_by("path").first())
    if org is None:
        return None
    return Route(org, "county", f"{_unorganised(place)}由{_where(place)}的「{org.name}」受理（属地管理）")


def _unorganised(place: Place) -> str:
    if place.employer is not None:
        return f"您的单位「{place.employer.name}」尚未建立工会，"
    if place.employer_name:
        return f"您的单位「{place.employer_name}」尚未登记工会，"
    return ""


_RULES = {
    "employer_union": _employer_union,
    "platform_union": _platform_union,
    "industry_federation": _industry_federation,
    "township": _township,
    "county": _county,
}


def route(place: Place, rules: list[str] | None = None) -> Route:
    if place.division is None and place.employer is not None:
        place.division = place.employer.division
    order = rules if rules is not None else rules_for(place.division)
    for name in order:
        found = _RULES[name](place)
        if found is not None:
            return found
    if place.division is None:
        raise ValidationFailed("place_required", "请选择单位所在地或您的工作/居住地（需具体到乡镇街道）", "division_code")
    raise ValidationFailed("no_union", f"没有找到负责「{place.division.name}」的工会，请选择所在的乡镇或街道",
                           "division_code")


def route_residence(place: Place, rules: list[str] | None = None, residence: Division | None = None) -> Route:
    """Transfers: the employer's/platform's/industry union if there is one, otherwise the union where
    the member lives (the township/street, else the county; the place of work if not given)."""
    if place.division is None and place.employer is not None:
        place.division = place.employer.division
    order = [r for r in (rules or rules_for(place.division)) if r in ("employer_union", "platform_union",
                                                                       "industry_federation")]
    for name in order:
        found = _RULES[name](place)
        if found is not None:
            return found
    home = Place(employer=None, division=residence or place.division, employment_form=place.employment_form)
    for finder in (_township, _county):
        found = finder(home)
        if found is not None:
            why = "新单位尚未建立工会，" if (place.employer or place.employer_name) else ""
            return Route(found.org, "residence", f"{why}会籍由您居住地的「{found.org.name}」保管")
    raise ValidationFailed("place_required", "请选择您的居住地（需具体到乡镇街道）", "residence_code")


def validate_rules(rules: list) -> list[str]:
    if not isinstance(rules, list) or not rules or any(r not in RULES for r in rules) or len(set(rules)) != len(rules):
        raise ValidationFailed("routing_invalid", "受理规则无效：只能从预设规则中选择，且不能重复", "routing")
    if "county" not in rules and "township" not in rules:
        raise ValidationFailed("routing_invalid", "受理规则必须包含属地兜底规则（乡镇街道或县区工会）", "routing")
    return rules

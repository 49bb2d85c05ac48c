"""Matching seekers and jobs with a transparent score.

Five parts, each between 0 and 1, weighted and summed (the weights add up to 1), each with a reason
a worker can read:

- occupation: closeness in the 2022 classification tree — the same occupation 1, the same 小类
  0.75, the same 中类 0.45, the same 大类 0.15 — or, where the team's table of related occupation
  groups (data/employment/related_occupations.tsv) says a worker moves easily between two groups
  (快递员 ↔ 网约配送员 ↔ 仓储), that table's closeness;
- place: closeness in the division tree — the same township 1, the same county 0.85, the same city
  0.6, the same province 0.2;
- salary: 1 when the posting's range reaches the expectation, falling to 0 at 70 % of it;
- skills: the share of the posting's listed skills the seeker has (words compared after
  normalising, so "C1驾照" meets "C1 驾照"); with none listed, 0.5;
- freshness: halves every 14 days since the posting went live.

A posting the seeker cannot take — education or experience below what it asks — is kept but its
score is multiplied by 0.5, and the reason says why. Nothing here is learned, nothing is downloaded:
the same inputs always give the same score.
"""

from __future__ import annotations

import csv
import datetime
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import EDUCATION_RANK, Education

WEIGHTS = {"occupation": 0.35, "place": 0.25, "salary": 0.15, "skills": 0.15, "freshness": 0.10}
OCC_LEVELS = (("same", 1.0), ("minor", 0.75), ("middle", 0.45), ("major", 0.15))
PLACE_LEVELS = ((9, 1.0, "同在{name}"), (6, 0.85, "同在{name}"), (4, 0.6, "同在{name}"), (2, 0.2, "同在{name}"))
FRESH_HALF_LIFE_DAYS = 14.0
UNMET_FACTOR = 0.5
RELATED_FILE = Path(settings.BASE_DIR) / "data" / "employment" / "related_occupations.tsv"


@dataclass
class SeekerView:
    occupations: list[str]  # level-4 codes
    places: list[str]  # division codes
    salary_expected: int = 0
    education: str = Education.NONE
    experience_years: int = 0
    skills: list[str] = field(default_factory=list)


@dataclass
class PostingView:
    occupation: str
    place: str
    salary_min: int
    salary_max: int
    education: str = Education.NONE
    experience_years: int = 0
    skills: list[str] = field(default_factory=list)
    published_at: datetime.datetime | None = None
    occupation_name: str = ""


@dataclass
class Match:
    score: float
    parts: dict[str, float]
    reasons: list[str]


def minor(code: str) -> str:
    return "-".join(code.split("-")[:3])


def middle(code: str) -> str:
    return "-".join(code.split("-")[:2])


def major(code: str) -> str:
    return code.split("-")[0]


def county_of(code: str) -> str:
    return code[:6]


def city_of(code: str) -> str:
    return code[:4]


@functools.cache
def related_groups() -> dict[tuple[str, str], tuple[float, str]]:
    """{(group, group): (closeness, why)} from data/employment/related_occupations.tsv (both ways).
    A group is a 小类 or 中类 code."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    if not RELATED_FILE.exists():
        return out
    with open(RELATED_FILE, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 4:
                continue
            a, b, closeness, why = row[0].strip(), row[1].strip(), float(row[2]), row[3].strip()
            out[(a, b)] = out[(b, a)] = (closeness, why)
    return out


def occupation_closeness(wanted: str, offered: str) -> tuple[float, str]:
    """(closeness, level) of two level-4 occupation codes; level is same|minor|middle|major|related|''."""
    if wanted == offered:
        return 1.0, "same"
    best, level = 0.0, ""
    for name, value in OCC_LEVELS[1:]:
        cut = {"minor": minor, "middle": middle, "major": major}[name]
        if cut(wanted) == cut(offered):
            best, level = value, name
            break
    related = related_groups()
    for a in (minor(wanted), middle(wanted)):
        for b in (minor(offered), middle(offered)):
            hit = related.get((a, b))
            if hit and hit[0] > best:
                best, level = hit[0], "related"
    return best, level


def place_closeness(wanted: str, offered: str) -> tuple[float, int]:
    for digits, value, _label in PLACE_LEVELS:
        if len(wanted) >= digits and len(offered) >= digits and wanted[:digits] == offered[:digits]:
            if digits == 9 and (len(wanted) < 9 or len(offered) < 9):
                continue
            return value, digits
    return 0.0, 0


_SKILL_NOISE = re.compile(r"[\s·•、，,。．.()（）/\\-]+")


def skill_key(skill: str) -> str:
    return _SKILL_NOISE.sub("", (skill or "").lower())


def salary_fit(expected: int, offered_max: int) -> float:
    if not expected or offered_max >= expected:
        return 1.0
    floor = expected * 0.7
    if offered_max <= floor:
        return 0.0
    return (offered_max - floor) / (expected - floor)


def freshness(published_at: datetime.datetime | None, now: datetime.datetime | None = None) -> tuple[float, int]:
    if published_at is None:
        return 0.0, 0
    now = now or timezone.now()
    days = max(0.0, (now - published_at).total_seconds() / 86400)
    return 0.5 ** (days / FRESH_HALF_LIFE_DAYS), int(days)


def score(seeker: SeekerView, posting: PostingView, *, names: dict[str, str] | None = None,
          now: datetime.datetime | None = None) -> Match:
    """The score of one posting for one seeker, with the reasons (Chinese, for the worker)."""
    names = names or {}
    reasons: list[str] = []
    parts: dict[str, float] = {}

    occ, level, wanted_code = 0.0, "", ""
    for code in seeker.occupations:
        value, lvl = occupation_closeness(code, posting.occupation)
        if value > occ:
            occ, level, wanted_code = value, lvl, code
    parts["occupation"] = occ
    offered_name = posting.occupation_name or names.get(posting.occupation, posting.occupation)
    if level == "same":
        reasons.append(f"职业对口：{offered_name}")
    elif level in ("minor", "middle"):
        reasons.append(f"职业相近：{offered_name}（与您想做的{names.get(wanted_code, wanted_code)}同属一类）")
    elif level == "related":
        why = next((related_groups()[(a, b)][1] for a in (minor(wanted_code), middle(wanted_code))
                    for b in (minor(posting.occupation), middle(posting.occupation))
                    if (a, b) in related_groups()), "")
        reasons.append(f"技能相通：{offered_name}" + (f"（{why}）" if why else ""))
    elif level == "major":
        reasons.append(f"同一大类职业：{offered_name}")

    place, digits = 0.0, 0
    for code in seeker.places:
        value, d = place_closeness(code, posting.place)
        if value > place:
            place, digits = value, d
    parts["place"] = place
    if digits:
        shared = posting.place[:digits] if digits == 9 else posting.place[:digits].ljust(6, "0")
        reasons.append(f"同在{names.get(shared, shared)}" + ("（离您想去的地方很近）" if digits >= 6 else ""))

    fit = salary_fit(seeker.salary_expected, posting.salary_max)
    parts["salary"] = fit
    if seeker.salary_expected and fit >= 1:
        reasons.append(f"月薪{posting.salary_min}–{posting.salary_max}元，达到您期望的{seeker.salary_expected}元")
    elif seeker.salary_expected and fit > 0:
        reasons.append(f"月薪最高{posting.salary_max}元，略低于您期望的{seeker.salary_expected}元")

    wanted_skills = {skill_key(s): s for s in posting.skills if skill_key(s)}
    have = {skill_key(s) for s in seeker.skills}
    if wanted_skills:
        met = [label for key, label in wanted_skills.items() if key in have]
        parts["skills"] = len(met) / len(wanted_skills)
        if met:
            reasons.append("技能符合：" + "、".join(met[:4]))
    else:
        parts["skills"] = 0.5

    fresh, days = freshness(posting.published_at, now)
    parts["freshness"] = fresh
    if posting.published_at is not None and days <= 7:
        reasons.append("今天发布" if days == 0 else f"{days}天前发布")

    total = sum(WEIGHTS[k] * v for k, v in parts.items())
    unmet = []
    if EDUCATION_RANK.get(seeker.education, 0) < EDUCATION_RANK.get(posting.education, 0):
        unmet.append(f"要求{Education(posting.education).label}学历")
    if seeker.experience_years < posting.experience_years:
        unmet.append(f"要求{posting.experience_years}年以上经验")
    if unmet:
        total *= UNMET_FACTOR
        reasons.append("注意：" + "，".join(unmet))
    return Match(score=round(total, 4), parts={k: round(v, 3) for k, v in parts.items()}, reasons=reasons)

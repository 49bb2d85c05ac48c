"""Reads of the employment-help cloud: job search, recommendations both ways, and staff lists cut to
the actor's subtree.

Candidates for matching come from index ranges, not scans: a seeker's wishes (occupation group ×
city) pick live postings through `posting_minor_city` newest first, widened to the 中类 in the
province, or the city alone, when they give too few; a posting picks open seekers through
`wish_minor_city` the same way. Only the candidates are scored (matching.score) in Python.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.orgs.models import ROLE_RANK, Division, Occupation, Role
from gonghui.orgs.selectors import actor_scope

from . import matching
from .models import (
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
    SeekerWish,
)
from .services import can_manage_employer, posting_view, seeker_view
from .textindex import quarter, quarter_start, query_terms, salary_floor_word, window_words

CANDIDATES_PER_WISH = 80  # newest per (occupation group, city): freshness is part of the score
CANDIDATE_CAP = 600
SCORING_FIELDS = ("id", "occupation_id", "division_id", "salary_min", "salary_max", "education", "experience_years",
                  "skills", "published_at")


def live_postings() -> QuerySet[JobPosting]:
    return JobPosting.objects.filter(status=PostingStatus.LIVE, expires_on__gte=timezone.localdate())


def posting_public_get(posting_id) -> JobPosting:
    """A posting anyone may read: live ones (others only through posting_get)."""
    try:
        return live_postings().select_related("employer", "occupation", "division").get(pk=int(posting_id))
    except (JobPosting.DoesNotExist, TypeError, ValueError):
        raise NotFound("岗位") from None


def posting_get(*, actor, posting_id) -> JobPosting:
    """Any status, for who manages it: staff over the employer's union or its verified recruiter."""
    try:
        posting = JobPosting.objects.select_related("employer", "occupation", "division", "org").get(pk=int(posting_id))
    except (JobPosting.DoesNotExist, TypeError, ValueError):
        raise NotFound("岗位") from None
    if not can_manage_employer(actor, posting.employer):
        if posting.status == PostingStatus.LIVE:
            return posting
        raise NotFound("岗位")
    return posting


def postings_for_staff(*, actor, status: str | None = None) -> QuerySet[JobPosting]:
    qs = JobPosting.objects.filter(actor_scope(actor).q("org_path")).select_related("employer", "occupation",
                                                                                   "division")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def postings_for_recruiter(*, actor) -> QuerySet[JobPosting]:
    employers = Recruiter.objects.filter(user=actor, status=Recruiter.Status.VERIFIED).values("employer_id")
    return JobPosting.objects.filter(employer_id__in=employers).select_related("employer", "occupation",
                                                                              "division").order_by("-id")


def recruiters_for_staff(*, actor, status: str | None = None) -> QuerySet[Recruiter]:
    qs = Recruiter.objects.filter(actor_scope(actor).q("org_path")).select_related("employer", "division", "org")
    return (qs.filter(status=status) if status else qs).order_by("-id")


def recruiter_get(*, actor, recruiter_id) -> Recruiter:
    try:
        return recruiters_for_staff(actor=actor).get(pk=int(recruiter_id))
    except (Recruiter.DoesNotExist, TypeError, ValueError):
        raise NotFound("招聘方") from None


# --- Search ---------------------------------------------------------------------------------------
#
# On PostgreSQL a search runs in two steps: the ids of the page in order, then the rows of the page.
#
# The ids come ring by ring of closeness when a place orders the results; each ring is a few place
# words (the place itself `d…`, the rest of its county, of its city, of its province, then the other
# provinces). Newest first within a ring, in one of three ways that never fetch and sort every match
# of a wide search — the planner's statistics of the vector's words (pg_stats) choose:
#
# - few matches expected (a rare keyword, a small place): all of them at once, capped — up to
#   SEARCH_ALL_AT_ONCE rows, and for as many consecutive rings as that covers (one query for a
#   keyword from a township out to its province, ordered by ring in SQL); over the cap, the next way;
# - words expected on SEARCH_SCAN_SHARE of postings or more (a province, a major group, a low salary,
#   no word at all): walk the live postings newest first (B-tree `posting_live_fresh`), checking each,
#   for a bounded number of rows; if that does not fill the page, the next way from the start;
# - otherwise windows: ask the GIN index for the matches published in a recent window — recency words
#   the database keeps in the vector (textindex, migration 0004) — then in older windows sized by the
#   density seen so far until the page is full, or few matches can be left and the rest is taken at
#   once.
#
# Words on most postings (a low salary step, a whole major group) are checked on the rows found rather
# than looked up in the GIN index (stepping through a posting list of 800,000 entries costs more than
# it saves), and a window is never wider than the rarest looked-up word: past that, taking the rest at
# once costs less. Every query checks every condition, so the statistics only choose the way, never
# the answer. The rows then come by id in one statement with the names a list shows.

LIST_FIELDS = ("id", "title", "employer_id", "employer__name", "occupation_id", "occupation__name", "division_id",
               "division__name", "address", "salary_min", "salary_max", "headcount", "education", "experience_years",
               "skills", "benefits", "status", "expires_on", "published_at")
SEARCH_ALL_AT_ONCE = 1000  # matches (index hits) taken in one query, and the cap of that query
SEARCH_LOOKUP_SHARE = 0.3  # words on a larger share of postings are checked on rows, not looked up
SEARCH_SCAN_SHARE = 0.05  # words expected on this share of postings or more: walk the newest postings
SEARCH_SCAN_ROWS = 5000  # the most rows such a walk reads before handing over to the index
SEARCH_FIRST_WINDOW = 16  # quarters of an hour (4 h): the first window of a ring
SEARCH_STATS_SECONDS = 600
NEWEST = "published_at DESC NULLS LAST, id DESC"
CLOSENESS = ("CASE WHEN division_id = %s THEN 0 WHEN county_code = %s THEN 1 WHEN city_code = %s THEN 2 "
             "WHEN left(division_id, 2) = %s THEN 3 ELSE 4 END")
# A walk over the newest live postings (reading at most so many of them, then at most the page):
SEARCH_WALK = (f"SELECT id FROM (SELECT id, published_at, {{ok}} AS ok FROM employment_jobposting WHERE status = "
               f"'live' ORDER BY {NEWEST} LIMIT %s) m WHERE ok ORDER BY {NEWEST} LIMIT %s")
SEARCH_NEWEST = f"SELECT id FROM employment_jobposting WHERE status = 'live' AND {{ok}} ORDER BY {NEWEST} LIMIT %s"
# The GIN index's matches (in a window, or all, or the rest): how many it found and the ids of those
# the row conditions keep, in order (at most the page still wanted).
SEARCH_MATCHES = (f"SELECT count(*), (array_agg(id ORDER BY {{order}}{NEWEST}) FILTER (WHERE ok))[1:%s] FROM "
                  "(SELECT id, published_at, {ok} AS ok{closeness} FROM employment_jobposting WHERE status = 'live' "
                  "AND search_vector @@ to_tsquery('simple', %s){where}{limit}) m")
SEARCH_PAGE_COLUMNS = tuple(f.attname for f in JobPosting._meta.concrete_fields
                            if f.attname in {n for n in LIST_FIELDS if "__" not in n})
SEARCH_PAGE = ("SELECT " + ", ".join(f"p.{c}" for c in SEARCH_PAGE_COLUMNS) + ", (SELECT name FROM orgs_employer "
               "WHERE id = p.employer_id), (SELECT name FROM orgs_occupation WHERE code = p.occupation_id), (SELECT "
               "name FROM orgs_division WHERE code = p.division_id) FROM employment_jobposting p WHERE p.id = ANY(%s)")


def job_search(*, q: str = "", occupation: str = "", division: str = "", salary_min=None, near: str = "",
               limit: int = 20, offset: int = 0) -> list[JobPosting]:
    """Live postings matching the keyword (jieba words, as bigrams), occupation (any level of the
    classification), place (any level) and lowest acceptable salary; nearest first by the division
    tree from `near` (or the place filter), then newest (then highest id). The rows carry LIST_FIELDS
    (with the employer's, occupation's and place's names) only."""
    q = (q or "").strip()
    if len(q) > 50:
        raise ValidationFailed("q_too_long", "关键词不能超过50个字", "q")
    terms = query_terms(q) if q else []
    if q and not terms:
        raise ValidationFailed("q_too_short", "关键词至少两个字，例如“快递”“电工”", "q")
    facets: list[str] = []
    if occupation:
        occ = Occupation.objects.filter(code=str(occupation).strip()).first()
        if occ is None:
            raise ValidationFailed("occupation_unknown", f"职业代码 {occupation} 不存在", "occupation")
        facets.append("o" + occ.code.replace("-", ""))
    place = None
    if division:
        place = Division.objects.filter(code=str(division).strip()).first()
        if place is None:
            raise ValidationFailed("division_unknown", f"行政区划代码 {division} 不存在", "division")
        facets.append("p" + place.code[:{1: 2, 2: 4, 3: 6, 4: 9}[place.level]])
    floor = None
    if salary_min not in (None, ""):
        try:
            floor = int(salary_min)
        except (TypeError, ValueError):
            raise ValidationFailed("salary_min_invalid", "最低月薪应为整数（元）", "salary_min") from None
        if not 0 <= floor <= 200_000:
            raise ValidationFailed("salary_min_invalid", "最低月薪应在0至200000元之间", "salary_min")
    origin = Division.objects.filter(code=str(near).strip()).first() if near else place
    limit = max(1, min(int(limit), 50))
    offset = max(0, int(offset))
    words = [w.replace("'", "") for w in terms + facets]
    # A read like any other: a replica when the router has one (chosen before any transaction of ours).
    conn = connections[router.db_for_read(JobPosting)]
    if conn.vendor != "postgresql":
        return _search_portable(words, floor, origin, offset + limit)[offset:]
    ids = _search_ids(conn, words, floor, origin, offset + limit)[offset:]
    rows = _page_rows(conn, ids)
    return [rows[pk] for pk in ids if pk in rows]


def _region_words(origin: Division | None) -> list[str | None]:
    """The word of each ring's region, innermost first (None: everywhere). Ring k is region k less
    region k-1: what `_search_portable` orders by as a CASE."""
    if origin is None:
        return [None]
    code = origin.code
    return ["d" + code, "p" + code[:6], "p" + code[:4], "p" + code[:2], None]


def _region_possible(place_words: list[str], region: str | None, inside: str | None) -> bool:
    """Whether a posting of the place filter can be in the region and outside `inside` (place words
    nest as code prefixes: p44 ⊃ p4403 ⊃ p440305 ⊃ p440305001; d440305 is within p440305)."""
    for p in place_words:
        if inside is not None and inside.startswith("p") and p.startswith(inside):
            return False
        if region is not None:
            code = region[1:]
            if region.startswith("p") and not (p[1:].startswith(code) or code.startswith(p[1:])):
                return False
            if region.startswith("d") and not code.startswith(p[1:]):
                return False
    return True


_stats: dict = {"at": -1e9, "share": {}, "rest": None, "rows": 0.0, "oldest": None}


def _word_stats(cursor) -> dict:
    """The planner's statistics of the search vector (pg_stats, kept by ANALYZE): the share of postings
    holding each of its most common words, a share every other word stays under (None without
    statistics), the table's row estimate and when the oldest live posting was published. Estimates
    only (they choose the way, not the answer): read again every SEARCH_STATS_SECONDS."""
    now = time.monotonic()
    if now - _stats["at"] > SEARCH_STATS_SECONDS:
        cursor.execute("SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples, (SELECT "
                       "min(published_at) FROM employment_jobposting WHERE status = 'live') FROM pg_class c LEFT JOIN "
                       "pg_stats s ON s.tablename = c.relname AND s.attname = 'search_vector' AND s.schemaname = "
                       "current_schema() WHERE c.oid = 'employment_jobposting'::regclass")
        words, shares, rows, oldest = cursor.fetchone()
        if words and shares:
            _stats.update(share=dict(zip(words, shares, strict=False)), rest=shares[len(words)])
        else:
            _stats.update(share={}, rest=None)
        _stats.update(at=now, rows=max(float(rows or 0), 0.0), oldest=quarter(oldest) if oldest else None)
    return _stats


class _Search:
    """One search's ids on PostgreSQL (see the section's comment)."""

    def __init__(self, cursor, words: list[str], floor: int | None, origin: Division | None):
        self.cursor, self.words, self.origin = cursor, words, origin
        stats = _word_stats(cursor)
        self.shares, self.rest, self.rows = stats["share"], stats["rest"], stats["rows"]
        self.ok, self.ok_params = "expires_on >= %s", [timezone.localdate()]
        if floor:
            self.ok += " AND salary_max >= %s"
            self.ok_params.append(floor)
        salary = salary_floor_word(floor) if floor else None
        # The salary step is looked up when it is rare enough; the amount is always checked on the row.
        self.salary = salary if salary and self.share(salary) <= SEARCH_LOOKUP_SHARE else None
        self.now = quarter(timezone.now())
        # Windows reach ~2 years ahead, so a clock a little ahead loses nothing; anything published
        # further ahead, or never, comes with the rest, last.
        self.far = ((self.now >> 16) + 2) << 16
        self.oldest: int = stats["oldest"] if stats["oldest"] is not None else self.now
        self.per_quarter = self.rows / max(1, self.now + 1 - self.oldest)  # postings published per quarter

    def share(self, word: str) -> float:
        """The share of postings with the word (an OR group: any of them); 0 without statistics."""
        if word.startswith("("):
            return min(1.0, sum(self.share(w) for w in word[1:-1].split(" | ")))
        return self.shares.get(word, self.rest) or 0.0

    def ids(self, wanted: int) -> list[int]:
        regions = _region_words(self.origin)
        place_words = [w for w in self.words if w.startswith("p")]
        found: list[int] = []
        ring = 0
        while ring < len(regions) and len(found) < wanted:
            inside = regions[ring - 1] if ring else None
            if not _region_possible(place_words, regions[ring], inside):
                ring += 1
                continue
            need = wanted - len(found)
            # Few matches from this ring out to some wider region: all of them in one capped query.
            last = next((r for r in range(len(regions) - 1, ring - 1, -1)
                         if _region_possible(place_words, regions[r], inside) and self.few(self.positive(regions[r]))),
                        None)
            if last is not None:
                ids = self.all_at_once(self.positive(regions[last]), inside, need, closeness=last > ring)
                if ids is not None:
                    found.extend(ids)
                    ring = last + 1
                    continue
            words = self.positive(regions[ring])
            if not words and inside is not None:  # the last ring, without any word: the other provinces
                words = ["(" + " | ".join(_other_provinces(inside[1:3])) + ")"]
            found.extend(self.ring(words, inside, need))
            ring += 1
        return found

    def positive(self, region: str | None) -> list[str]:
        """The words a posting of the region matching the search has."""
        words = self.words + ([region] if region and region not in self.words else [])
        return words + ([self.salary] if self.salary else [])

    def expected(self, words: list[str]) -> float | None:
        """The share of postings expected to hold all the words (None without statistics): as if they
        were independent, except facet words that nest (p4403 implies p44, d440305001 p440305, o40301
        o403), of which the narrowest counts."""
        if self.rest is None:
            return None
        kind = {"d": "p", "p": "p", "o": "o"}

        def implied(w: str) -> bool:
            return w[:1] in kind and w[1:].isdigit() and any(
                v != w and kind.get(v[:1]) == kind[w[0]] and v[1:].isdigit() and v[1:].startswith(w[1:]) for v in words)

        share = 1.0
        for w in words:
            if not implied(w):
                share *= self.share(w)
        return share

    def few(self, words: list[str]) -> bool:
        """Whether few postings are expected to hold all the words (so few that taking them all costs
        less than a window)."""
        share = self.expected(words)
        return bool(words) and share is not None and share * self.rows <= SEARCH_ALL_AT_ONCE / 2

    def split(self, words: list[str], inside: str | None) -> tuple[str, str, list, float | None]:
        """(the tsquery looked up, the row conditions and their parameters, how many postings the
        rarest looked-up word is expected on): words on most postings are checked on the rows found,
        the others looked up (at least the rarest)."""
        ranked = sorted(words, key=self.share)
        lookup = [w for w in ranked if self.share(w) <= SEARCH_LOOKUP_SHARE] or ranked[:1]
        checked = [w for w in ranked if w not in lookup]
        query = " & ".join(lookup + ([f"!{inside}"] if inside else []))
        rarest = self.share(lookup[0]) * self.rows if self.rest is not None else None
        if not checked:
            return query, self.ok, self.ok_params, rarest
        return (query, self.ok + " AND search_vector @@ to_tsquery('simple', %s)",
                [*self.ok_params, " & ".join(checked)], rarest)

    def matches(self, query: str, ok: str, params: list, need: int, *, where: str = "", where_params=(),
                cap: int | None = None, closeness: bool = False) -> tuple[int, list[int]]:
        order, close, close_params = "", "", []
        if closeness:
            code = self.origin.code
            order, close, close_params = "closeness, ", f", {CLOSENESS} AS closeness", [code, code[:6], code[:4],
                                                                                         code[:2]]
        sql = SEARCH_MATCHES.format(order=order, ok=ok, closeness=close, where=where,
                                    limit=" LIMIT %s" if cap else "")
        self.cursor.execute(sql, [need, *params, *close_params, query, *where_params, *([cap] if cap else [])])
        matched, ids = self.cursor.fetchone()
        return matched, ids or []

    def all_at_once(self, words: list[str], inside: str | None, need: int, closeness: bool) -> list[int] | None:
        """Every match (capped), in order; None if there were more than the cap."""
        query, ok, params, _rarest = self.split(words, inside)
        matched, ids = self.matches(query, ok, params, need, cap=SEARCH_ALL_AT_ONCE + 1, closeness=closeness)
        return ids if matched <= SEARCH_ALL_AT_ONCE else None

    def ring(self, words: list[str], inside: str | None, need: int) -> list[int]:
        """One ring's matches newest first, at most `need`: a walk of the newest postings when the
        words are common, else windows."""
        share = self.expected(words)
        if not words or (share is not None and share >= SEARCH_SCAN_SHARE):
            checks = " & ".join(words + ([f"!{inside}"] if inside else []))
            ok, params = self.ok, self.ok_params
            if checks:
                ok, params = ok + " AND search_vector @@ to_tsquery('simple', %s)", [*params, checks]
            if not words:  # nothing to look up, and only the row conditions (nearly all pass): no bound
                self.cursor.execute(SEARCH_NEWEST.format(ok=ok), [*params, need])
                return [pk for (pk,) in self.cursor.fetchall()]
            rows = min(SEARCH_SCAN_ROWS, int(4 * need / share) + 100)
            self.cursor.execute(SEARCH_WALK.format(ok=ok), [*params, rows, need])
            ids = [pk for (pk,) in self.cursor.fetchall()]
            if len(ids) >= need:
                return ids
        return self.windows(words, inside, need)

    def windows(self, words: list[str], inside: str | None, need: int) -> list[int]:
        """Newest windows first (see the section's comment), then the rest at once."""
        query, ok, params, rarest = self.split(words, inside)
        hi, lo = self.far, self.now + 1 - SEARCH_FIRST_WINDOW
        out: list[int] = []
        matched = 0
        # A window is looked up only while the postings published in it are fewer than those holding
        # the rarest word (the index would otherwise step through more than all the matches).
        while rarest is None or (min(hi, self.now + 1) - lo) * self.per_quarter <= rarest:
            n, ids = self.matches(f"{query} & ({' | '.join(window_words(lo, hi))})", ok, params, need - len(out))
            matched += n
            out.extend(ids)
            if len(out) >= need:
                return out
            span = self.now + 1 - lo  # quarters looked at (those ahead of now hold next to nothing)
            if max(matched, 0.5) / span * max(0, lo - self.oldest) <= SEARCH_ALL_AT_ONCE:
                hi = lo
                break
            # Wide enough for the rest of the page twice over at the density kept so far, and at
            # least four times what has been looked at.
            step = max(4 * span, int(2 * (need - len(out)) * span / max(len(out), 0.5)))
            hi, lo = lo, max(lo - step, self.oldest)
        if hi == self.far:  # not one window: everything at once
            _n, ids = self.matches(query, ok, params, need)
            return ids
        _n, ids = self.matches(query, ok, params, need - len(out),
                               where=" AND (published_at < %s OR published_at >= %s OR published_at IS NULL)",
                               where_params=[quarter_start(hi), quarter_start(self.far)])
        return out + ids


def _other_provinces(province: str) -> list[str]:
    return ["p" + code[:2] for code in Division.objects.filter(level=1).exclude(code__startswith=province)
            .values_list("code", flat=True)]


def _search_ids(conn, words: list[str], floor: int | None, origin: Division | None, wanted: int) -> list[int]:
    """The first `wanted` ids in the search's order (PostgreSQL)."""
    with _gin_plans(conn) as cursor:
        return _Search(cursor, words, floor, origin).ids(wanted)


@contextmanager
def _gin_plans(conn):
    """A cursor whose statements are planned for the indexes: no sequential scan (a wide match
    misjudged would read the whole table) and no JIT compilation (tens of milliseconds for a query
    the planner wrongly thinks big). SET LOCAL in a transaction of its own, or put back on leaving
    one it is nested in."""
    nested = conn.in_atomic_block
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('jit'), "
                       "set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)")
        before = cursor.fetchone()[:2]
        yield cursor
        if nested:
            cursor.execute("SELECT set_config('enable_seqscan', %s, true), set_config('jit', %s, true)", list(before))


def _page_rows(conn, ids: list[int]) -> dict[int, JobPosting]:
    """The page's postings by id in one statement: LIST_FIELDS, the related names as index lookups
    (the ORM's joins would hash the whole occupation table for 20 rows), other fields deferred."""
    if not ids:
        return {}
    from gonghui.orgs.models import Employer

    with conn.cursor() as cursor:
        cursor.execute(SEARCH_PAGE, [ids])
        rows = cursor.fetchall()
    db, width = conn.alias, len(SEARCH_PAGE_COLUMNS)
    json_at = [i for i, c in enumerate(SEARCH_PAGE_COLUMNS) if c in ("skills", "benefits")]
    out = {}
    for row in rows:
        values = list(row[:width])
        for i in json_at:
            if isinstance(values[i], str | bytes):
                values[i] = json.loads(values[i])
        posting = JobPosting.from_db(db, SEARCH_PAGE_COLUMNS, values)
        employer_name, occupation_name, division_name = row[width:]
        cache = posting._state.fields_cache
        cache["employer"] = Employer.from_db(db, ("id", "name"), (posting.employer_id, employer_name))
        cache["occupation"] = Occupation.from_db(db, ("code", "name"), (posting.occupation_id, occupation_name))
        cache["division"] = Division.from_db(db, ("code", "name"), (posting.division_id, division_name))
        out[posting.pk] = posting
    return out


def _search_portable(words: list[str], floor: int | None, origin: Division | None, wanted: int) -> list[JobPosting]:
    """The same search without PostgreSQL (the SQLite demo): the words with LIKE, closeness as a CASE."""
    qs = live_postings()
    if floor is not None:
        qs = qs.filter(salary_max__gte=floor)
    for w in words:
        qs = qs.filter(Q(search_head__contains=w) | Q(search_text__contains=w))
    qs = qs.select_related("employer", "occupation", "division").only(*LIST_FIELDS)
    newest = (F("published_at").desc(nulls_last=True), "-id")
    if origin is None:
        return list(qs.order_by(*newest)[:wanted])
    code = origin.code
    closeness = Case(When(division_id=code, then=Value(0)), When(county_code=code[:6], then=Value(1)),
                     When(city_code=code[:4], then=Value(2)), When(division__code__startswith=code[:2], then=Value(3)),
                     default=Value(4), output_field=IntegerField())
    return list(qs.annotate(closeness=closeness).order_by("closeness", *newest)[:wanted])


# --- Recommendations ------------------------------------------------------------------------------


def _names(codes) -> dict[str, str]:
    codes = set(codes)
    names = dict(Occupation.objects.filter(code__in=codes).values_list("code", "name"))
    places = {c for c in codes if c.isdigit()}
    names.update(Division.objects.filter(code__in=places).values_list("code", "name"))
    return names


def _place_names(place_codes) -> dict[str, str]:
    """Names of the places a reason may mention: the township and its county, city, province."""
    wanted = set()
    for code in place_codes:
        wanted.update({code, code[:6], code[:4].ljust(6, "0"), code[:2].ljust(6, "0")})
    return dict(Division.objects.filter(code__in=wanted).values_list("code", "name"))


def recommend_jobs(*, profile: SeekerProfile, limit: int = 20) -> list[tuple[JobPosting, matching.Match]]:
    """Top postings for a seeker with their score and reasons."""
    view = seeker_view(profile)
    wishes = list(profile.wishes.all())
    if not wishes:
        return []
    base = live_postings()
    ids: dict[int, None] = {}
    pairs = sorted({(w.occ_minor, w.city_code) for w in wishes})
    for minor, city in pairs:
        for pk in base.filter(occ_minor=minor, city_code=city).order_by("-published_at") \
                .values_list("pk", flat=True)[:CANDIDATES_PER_WISH]:
            ids.setdefault(pk, None)
    if len(ids) < limit * 3:  # too few: the 中类 in the province, then anything in the cities
        for middle, province in sorted({(w.occ_middle, w.province_code) for w in wishes}):
            for pk in base.filter(occ_middle=middle, province_code=province).order_by("-published_at") \
                    .values_list("pk", flat=True)[:CANDIDATES_PER_WISH]:
                ids.setdefault(pk, None)
    if len(ids) < limit * 3:
        for city in sorted({w.city_code for w in wishes}):
            for pk in base.filter(city_code=city).order_by("-published_at").values_list("pk", flat=True)[:limit * 3]:
                ids.setdefault(pk, None)
    # Score lean rows (the fields the score reads), then load the winners in full.
    candidates = list(JobPosting.objects.filter(pk__in=list(ids)[:CANDIDATE_CAP]).values(*SCORING_FIELDS))
    names = _names(set(view.occupations) | {c["occupation_id"] for c in candidates})
    names.update(_place_names({c["division_id"] for c in candidates}))
    now = timezone.now()
    scored = []
    for c in candidates:
        posting = matching.PostingView(
            occupation=c["occupation_id"], place=c["division_id"], salary_min=c["salary_min"],
            salary_max=c["salary_max"], education=c["education"], experience_years=c["experience_years"],
            skills=list(c["skills"]), published_at=c["published_at"], occupation_name=names.get(c["occupation_id"], ""))
        scored.append((c, matching.score(view, posting, names=names, now=now)))
    scored.sort(key=lambda cm: (-cm[1].score, -(cm[0]["published_at"].timestamp() if cm[0]["published_at"] else 0),
                                cm[0]["id"]))
    top = scored[:limit]
    rows = JobPosting.objects.select_related("employer", "occupation", "division").defer(
        "search_head", "search_text").in_bulk([c["id"] for c, _m in top])
    return [(rows[c["id"]], m) for c, m in top if c["id"] in rows]


def recommend_seekers(*, posting: JobPosting, limit: int = 20) -> list[tuple[SeekerProfile, matching.Match]]:
    """Top open seekers (looking, and letting employers see them) for a posting."""
    view = posting_view(posting)
    ids: dict[int, None] = {}
    base = SeekerWish.objects.filter(open=True)
    for pk in base.filter(occ_minor=posting.occ_minor, city_code=posting.city_code).order_by("-updated_at") \
            .values_list("seeker_id", flat=True)[:CANDIDATES_PER_WISH * 2]:
        ids.setdefault(pk, None)
    if len(ids) < limit * 3:
        for pk in base.filter(occ_middle=posting.occ_middle, province_code=posting.province_code) \
                .order_by("-updated_at").values_list("seeker_id", flat=True)[:CANDIDATES_PER_WISH * 2]:
            ids.setdefault(pk, None)
    seekers = list(SeekerProfile.objects.filter(pk__in=list(ids)[:CANDIDATE_CAP], status=SeekerProfile.Status.ACTIVE,
                                                visible_to_employers=True)
                   .only("id", "name", "education", "experience_years", "salary_expected", "skills", "about",
                         "updated_at", "status", "help_group")
                   .prefetch_related(Prefetch("wishes", queryset=SeekerWish.objects.only(
                       "id", "seeker_id", "occupation_id", "division_id"))))
    names = _names([posting.occupation_id])
    names.update(_place_names([posting.division_id]))
    scored = []
    now = timezone.now()
    for seeker in seekers:
        match = matching.score(seeker_view(seeker), view, names=names, now=now)
        scored.append((seeker, match))
    scored.sort(key=lambda sm: (-sm[1].score, -sm[0].updated_at.timestamp(), sm[0].pk))
    return scored[:limit]


def match_for(*, profile: SeekerProfile | None, posting: JobPosting) -> matching.Match | None:
    """Why this posting suits the worker reading it (None without a profile)."""
    if profile is None:
        return None
    names = _names(seeker_view(profile).occupations)
    names.update(_place_names([posting.division_id]))
    return matching.score(seeker_view(profile), posting_view(posting), names=names)


# --- Applications, help, fairs --------------------------------------------------------------------


def applications_for_posting(*, actor, posting: JobPosting) -> QuerySet[JobApplication]:
    if not can_manage_employer(actor, posting.employer):
        raise NotFound("岗位")
    return posting.applications.select_related("seeker", "user").order_by("-score", "created_at")


def my_applications(*, actor) -> QuerySet[JobApplication]:
    return JobApplication.objects.filter(user=actor).select_related("posting", "posting__employer") \
        .order_by("-created_at")


def application_get(*, actor, application_id) -> JobApplication:
    """The worker's own, or one to a posting the actor manages."""
    try:
        application = JobApplication.objects.select_related("posting", "posting__employer", "seeker").get(
            pk=int(application_id))
    except (JobApplication.DoesNotExist, TypeError, ValueError):
        raise NotFound("求职申请") from None
    if application.user_id == getattr(actor, "pk", None) or can_manage_employer(actor, application.posting.employer):
        return application
    raise NotFound("求职申请")


def help_ledger(*, actor, status: str | None = None, group: str | None = None) -> QuerySet[HelpRequest]:
    """The union's employment-help ledger (帮扶台账): requests in the actor's subtree."""
    qs = HelpRequest.objects.filter(actor_scope(actor).q("org_path")).select_related("org", "assigned_to",
                                                                                    "division", "placed_posting")
    if status:
        qs = qs.filter(status=status)
    if group:
        qs = qs.filter(help_group=group)
    return qs.order_by("-created_at", "-id")


def help_get(*, actor, request_id) -> HelpRequest:
    try:
        request = HelpRequest.objects.select_related("org", "assigned_to", "division").get(pk=int(request_id))
    except (HelpRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound("帮扶申请") from None
    if request.user_id == getattr(actor, "pk", None) or \
            actor_scope(actor).rank_at(request.org_path) >= ROLE_RANK[Role.VIEWER]:
        return request
    raise NotFound("帮扶申请")


def fairs_visible(*, province: str | None = None) -> QuerySet[JobFair]:
    qs = JobFair.objects.filter(status=JobFair.Status.OPEN, ends_at__gte=timezone.now()).select_related("division")
    if province:
        qs = qs.filter(province_code=province)
    return qs.order_by("starts_at")


def fair_get(fair_id) -> JobFair:
    try:
        return JobFair.objects.select_related("org", "division").get(pk=int(fair_id))
    except (JobFair.DoesNotExist, TypeError, ValueError):
        raise NotFound("招聘会") from None


def fair_results(fair: JobFair) -> dict:
    from django.db.models import Count

    from .models import ApplicationStatus

    apps = dict(fair.applications.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    reached = {s: 0 for s in ("interview", "offer", "hired")}
    # An application that went past a step counts for it too (an offer was interviewed).
    order = [ApplicationStatus.INTERVIEW, ApplicationStatus.OFFER, ApplicationStatus.HIRED]
    for i, step in enumerate(order):
        reached[step.value] = sum(apps.get(s.value, 0) for s in order[i:])
    return {
        "booths": fair.booths.count(),
        "postings": JobPosting.objects.filter(booths__fair=fair).distinct().count(),
        "registered": fair.registrations.count(),
        "checked_in": fair.registrations.filter(checked_in_at__isnull=False).count(),
        "applications": sum(apps.values()),
        "interviews": reached["interview"],
        "offers": reached["offer"],
        "hires": reached["hired"],
    }

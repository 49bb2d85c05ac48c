"""Words for job search. jieba cuts Chinese text into words; each word of two or more characters is
indexed as its character bigrams (so 快递员 is found by 快递 and by 递员, and a query never matches
across two words: 南山快递 is 南山 + 快递, not 山快). PostgreSQL indexes the result with
to_tsvector('simple', …) under a GIN index; SQLite (the demo) checks the same words with LIKE."""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata

import jieba

_WORD = re.compile(r"\w+", re.UNICODE)
jieba.setLogLevel(logging.WARNING)


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    out: list[str] = []
    for run in _WORD.findall(text):
        out.extend(w for w in jieba.lcut(run) if w.strip() and w != "_")
    return out


def bigrams(word: str) -> list[str]:
    if len(word) < 2:
        return []
    return [word[i:i + 2] for i in range(len(word) - 1)]


def words_bigrams(text: str) -> str:
    """Space-separated distinct bigrams of the text's words."""
    seen: dict[str, None] = {}
    for word in words(text):
        for gram in bigrams(word):
            seen.setdefault(gram, None)
    return " ".join(seen)


def query_terms(q: str) -> list[str]:
    """The bigrams a posting must contain to match the query (all of them): those of every word of
    two or more characters; a lone character is joined to its neighbour so 招 厨 师 still finds 厨师."""
    ws = words(q)
    merged: list[str] = []
    for w in ws:
        if len(w) == 1 and merged and len(merged[-1]) == 1:
            merged[-1] += w
        else:
            merged.append(w)
    seen: dict[str, None] = {}
    for w in merged:
        for gram in bigrams(w):
            seen.setdefault(gram, None)
    return list(seen)


# --- Words PostgreSQL derives itself (migration 0004) ----------------------------------------------
# The search vector also holds words the database computes from the row (a generated column, so an
# approval or a renewal that moves `published_at`, or an edit of the salary or place, moves them too,
# and nothing can leave them stale):
#
# - recency words `r{level}x{block}`: the posting's quarter of an hour since 1970 (UTC) divided by
#   4**level, for levels 0 (15 minutes) to 8 (~1.9 years). Any run of quarters is a handful of these
#   blocks, so "published in this window" is a few words OR-ed in the GIN index, and a wide search
#   walks back from the newest window to older ones until its page is full;
# - salary words `s{step}`: one for every step of SALARY_LADDER the posting's `salary_max` reaches, so
#   a lowest acceptable salary is one word (its step; the row check stays exact);
# - `d{division_id}`: the exact place, telling a posting placed at a county from those inside it.
#
# Migration 0004 writes the same rules in SQL with these constants frozen in it; a test checks both
# agree. Changing them needs a new migration that regenerates the column.

RECENCY_SECONDS = 900
RECENCY_LEVELS = 9
SALARY_LADDER = (0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 15000, 20000, 25000,
                 30000, 40000, 50000, 80000, 100000, 150000, 200000)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def quarter(moment: datetime.datetime) -> int:
    """The quarter of an hour since 1970 (UTC) the moment falls in."""
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) // RECENCY_SECONDS


def quarter_start(q: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=q * RECENCY_SECONDS)


def recency_word(level: int, block: int) -> str:
    return f"r{level}x{block}"


def window_words(lo: int, hi: int) -> list[str]:
    """The fewest recency words covering the quarters lo ≤ q < hi exactly (largest aligned blocks)."""
    out = []
    while lo < hi:
        level = 0
        while level + 1 < RECENCY_LEVELS and lo % (4 ** (level + 1)) == 0 and lo + 4 ** (level + 1) <= hi:
            level += 1
        out.append(recency_word(level, lo >> (2 * level)))
        lo += 4 ** level
    return out


def salary_step(amount: int) -> int:
    """The highest step of SALARY_LADDER at or below the amount (0: below the first one that counts)."""
    return max(i for i, step in enumerate(SALARY_LADDER) if amount >= step) if amount >= 0 else 0


def salary_floor_word(floor: int) -> str | None:
    """The word every posting paying at least `floor` has (None when every posting may)."""
    step = salary_step(floor)
    return f"s{step}" if step else None


def derived_words(*, published_at: datetime.datetime | None, salary_max: int, division_id: str) -> list[str]:
    """The words the database adds to a posting's vector (what migration 0004's SQL computes)."""
    out = []
    if published_at is not None:
        q = quarter(published_at)
        out += [recency_word(level, q >> (2 * level)) for level in range(RECENCY_LEVELS)]
    out += [f"s{i}" for i in range(1, salary_step(salary_max) + 1)]
    out.append(f"d{division_id}")
    return out

"""Words for job search. jieba cuts Chinese text into words; each word of two or more characters is
indexed as its character bigrams (so 快递员 is found by 快递 and by 递员, and a query never matches
across two words: 南山快递 is 南山 + 快递, not 山快). PostgreSQL indexes the result with
to_tsvector('simple', …) under a GIN index; SQLite (the demo) checks the same words with LIKE."""

from __future__ import annotations

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

"""Scoring the question ranking on the team's evaluation set (data/legal/ask_eval.json, described in
ask_eval.md): recall@5 (the share of a question's cited articles in the top five, averaged) and MRR
(1 / rank of the first cited article in the top 20, 0 if none, averaged). Used by the benchmark
and, on the fixed test subset, by the tests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings

from . import ranking

EVAL_FILE = Path(settings.BASE_DIR) / "data" / "legal" / "ask_eval.json"


def questions(subset: str | None = None) -> list[dict]:
    items = json.loads(EVAL_FILE.read_text(encoding="utf-8"))
    return [q for q in items if subset is None or q.get("subset") == subset]


@dataclasses.dataclass
class Score:
    n: int
    recall_at_5: float
    mrr: float
    misses: list[str]  # ids with nothing cited in the top 20


def score(items: Iterable[dict], method: Callable[[str], list[tuple[str, int]]]) -> Score:
    recalls, rrs, misses, n = [], [], [], 0
    for q in items:
        n += 1
        wanted = {(a["law"], int(a["article"])) for a in q["articles"]}
        got = list(dict.fromkeys(method(q["question"])))[:20]
        recalls.append(len(wanted & set(got[:5])) / len(wanted))
        rank = next((i for i, key in enumerate(got, 1) if key in wanted), None)
        rrs.append(1 / rank if rank else 0.0)
        if rank is None:
            misses.append(q["id"])
    return Score(n=n, recall_at_5=sum(recalls) / max(n, 1), mrr=sum(rrs) / max(n, 1), misses=misses)


def ours(question: str) -> list[tuple[str, int]]:
    return [(r.doc.law_slug, r.doc.number) for r in ranking.rank(question, limit=20)]


def baseline(question: str) -> list[tuple[str, int]]:
    return [(d.law_slug, d.number) for d in ranking.bm25_baseline(question, limit=20)]

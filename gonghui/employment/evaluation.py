"""Measure the matching against the labelled set (data/employment/match_eval.json: postings, and
seekers with the postings a career adviser would put in front of them). Scores every posting for
every seeker with matching.score, in memory (no database), and reports precision@10 (of the ten best,
how many the adviser picked; a seeker with fewer than ten picks is measured against how many they have),
recall@10 and MRR, beside a baseline a plain job board gives: postings of one of the wanted
occupations in one of the wanted cities, newest first.

    python -m gonghui.employment.evaluation            # both splits
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

EVAL_FILE = Path(__file__).resolve().parents[2] / "data" / "employment" / "match_eval.json"


def load(path: Path = EVAL_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _views(data: dict, now: datetime.datetime):
    from .matching import PostingView, SeekerView

    postings = {
        p["key"]: PostingView(occupation=p["occupation"], place=p["division"], salary_min=p["salary_min"],
                              salary_max=p["salary_max"], education=p.get("education", "none"),
                              experience_years=p.get("experience_years", 0), skills=p.get("skills", []),
                              published_at=now - datetime.timedelta(days=p.get("days_old", 0)))
        for p in data["postings"]
    }
    seekers = {
        s["key"]: SeekerView(occupations=s["wanted_occupations"], places=s["places"],
                             salary_expected=s.get("salary_expected", 0), education=s.get("education", "none"),
                             experience_years=s.get("experience_years", 0), skills=s.get("skills", []))
        for s in data["seekers"]
    }
    return postings, seekers


def rank_matching(seeker, postings: dict, now) -> list[str]:
    from .matching import score

    scored = [(score(seeker, p, now=now).score, -(now - p.published_at).total_seconds(), key)
              for key, p in postings.items()]
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [key for _s, _f, key in scored]


def rank_baseline(seeker, postings: dict, now) -> list[str]:
    cities = {c[:4] for c in seeker.places}
    hits = [(p.published_at, key) for key, p in postings.items()
            if p.occupation in seeker.occupations and p.place[:4] in cities]
    hits.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [key for _t, key in hits]


def metrics(ranked: list[str], relevant: list[str], k: int = 10) -> dict:
    top = ranked[:k]
    rel = set(relevant)
    hits = sum(1 for key in top if key in rel)
    first = next((i for i, key in enumerate(ranked) if key in rel), None)
    return {"precision": hits / min(k, len(rel)) if rel else 0.0, "strict": hits / k,
            "recall": hits / len(rel) if rel else 0.0,
            "rr": 1 / (first + 1) if first is not None else 0.0}


def evaluate(data: dict | None = None, split: str | None = None, k: int = 10) -> dict:
    data = data or load()
    now = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC)
    postings, seekers = _views(data, now)
    out: dict = {}
    for name, ranker in (("matching", rank_matching), ("baseline", rank_baseline)):
        rows = [metrics(ranker(seekers[s["key"]], postings, now), s["relevant"], k)
                for s in data["seekers"] if split is None or s.get("split") == split]
        n = len(rows) or 1
        out[name] = {f"precision@{k}": round(sum(r["precision"] for r in rows) / n, 3),
                     f"strict_precision@{k}": round(sum(r["strict"] for r in rows) / n, 3),
                     f"recall@{k}": round(sum(r["recall"] for r in rows) / n, 3),
                     "mrr": round(sum(r["rr"] for r in rows) / n, 3), "seekers": len(rows)}
    return out


def main() -> int:
    import django

    django.setup()
    data = load()
    for split in ("dev", "test"):
        print(split, json.dumps(evaluate(data, split), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.exit(main())

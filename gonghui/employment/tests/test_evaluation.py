"""The matching against the career adviser's labelled set (data/employment/match_eval.json): the set is
well formed, and the ranking keeps beating a plain job board by a clear margin (a floor, so a change
that breaks the ranking fails here; the figures themselves are in docs/benchmarks.md)."""

from __future__ import annotations

import csv
from pathlib import Path

from gonghui.employment import evaluation

DATA = Path(__file__).resolve().parents[3] / "data"


def test_the_labelled_set_uses_real_codes_and_its_own_keys():
    data = evaluation.load()
    with open(DATA / "occupations" / "occupations_2022.csv", encoding="utf-8") as handle:
        occupations = {r["code"] for r in csv.DictReader(handle) if r["level"] == "4"}
    with open(DATA / "divisions" / "divisions.csv", encoding="utf-8") as handle:
        divisions = {r["code"] for r in csv.DictReader(handle)}
    keys = {p["key"] for p in data["postings"]}
    assert len(keys) == len(data["postings"]) >= 300
    assert all(p["occupation"] in occupations and p["division"] in divisions for p in data["postings"])
    assert all(p["salary_min"] <= p["salary_max"] for p in data["postings"])
    for seeker in data["seekers"]:
        assert set(seeker["wanted_occupations"]) <= occupations and set(seeker["places"]) <= divisions
        assert len(seeker["relevant"]) >= 5 and set(seeker["relevant"]) <= keys
    assert {s["split"] for s in data["seekers"]} == {"dev", "test"}


def test_the_matching_beats_a_plain_job_board_on_both_splits():
    for split, floor in (("dev", 0.85), ("test", 0.8)):
        result = evaluation.evaluate(split=split)
        assert result["matching"]["precision@10"] >= floor, result
        assert result["matching"]["precision@10"] >= result["baseline"]["precision@10"] + 0.05, result
        assert result["matching"]["mrr"] >= result["baseline"]["mrr"], result

"""Load the 2022 occupational classification from data/occupations (see data/SOURCES.md)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.db import transaction

from gonghui.core.text import name_initials

from .models import Occupation

OCCUPATIONS_CSV = Path(settings.BASE_DIR) / "data" / "occupations" / "occupations_2022.csv"


def load_occupations(path: Path = OCCUPATIONS_CSV) -> int:
    """Insert or update every row; idempotent. Returns the number of rows in the file."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = {r["code"] for r in rows}
    missing = sorted({r["parent_code"] for r in rows if r["parent_code"] and r["parent_code"] not in codes})
    if missing:
        raise ValueError(f"occupation parents missing from the file: {missing[:5]}")
    rows.sort(key=lambda r: int(r["level"]))  # parents first
    objs = [
        Occupation(code=r["code"], name=r["name"], parent_id=r["parent_code"] or None, level=int(r["level"]),
                   source=r["source"], name_initials=name_initials(r["name"]))
        for r in rows
    ]
    with transaction.atomic():
        Occupation.objects.bulk_create(
            objs, batch_size=1000, update_conflicts=True, unique_fields=["code"],
            update_fields=["name", "parent", "level", "source", "name_initials"],
        )
    return len(rows)

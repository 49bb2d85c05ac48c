"""Build the territorial union tree from the administrative divisions in data/divisions."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from gonghui.core.text import name_bigrams, name_initials

from .models import Division, OrgKind, OrgUnit
from .paths import child_path

DIVISIONS_CSV = Path(settings.BASE_DIR) / "data" / "divisions" / "divisions.csv"
NATIONAL_NAME = "中华全国总工会"
ROOT_PATH = "0001"
# NBS placeholder groupings at the prefecture level (see data/SOURCES.md).
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
LEVEL_KIND = {1: OrgKind.PROVINCE, 2: OrgKind.CITY, 3: OrgKind.COUNTY, 4: OrgKind.TOWNSHIP}


@dataclass
class Row:
    code: str
    name: str
    parent_code: str
    level: int


def read_rows(path: Path = DIVISIONS_CSV) -> list[Row]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [Row(r["code"], r["name"], r["parent_code"], int(r["level"])) for r in csv.DictReader(handle)]
    rows.sort(key=lambda r: (r.level, r.code))
    return rows


def union_name(row: Row, parent_name: str | None) -> str:
    if row.level == 2 and row.name in PLACEHOLDER_NAMES:
        return f"{parent_name}{row.name}（统计用区划分组）"
    if row.level == 4:
        base = row.name.removesuffix("办事处")
        return f"{base}工会"
    return f"{row.name}总工会"


def load_divisions(
    path: Path = DIVISIONS_CSV, batch_size: int = 5000, provinces: set[str] | None = None
) -> tuple[int, int]:
    """Create Division rows and the national → township union nodes. Idempotent: a loaded tree is kept.

    `provinces` (two-digit codes) limits the load to some provinces, for quick test databases.
    """
    if OrgUnit.objects.filter(path=ROOT_PATH).exists():
        return Division.objects.count(), OrgUnit.objects.count()
    rows = read_rows(path)
    if provinces:
        rows = [r for r in rows if r.code[:2] in provinces]
    with transaction.atomic():
        Division.objects.bulk_create(
            [
                Division(
                    code=r.code, name=r.name, parent_id=r.parent_code or None, level=r.level,
                    is_placeholder=r.level == 2 and r.name in PLACEHOLDER_NAMES,
                )
                for r in rows
            ],
            batch_size=batch_size,
        )
        root = OrgUnit(name=NATIONAL_NAME, kind=OrgKind.NATIONAL, path=ROOT_PATH, depth=1)
        root.name_initials, root.name_bigrams = name_initials(root.name), name_bigrams(root.name)
        root.save()
        path_of: dict[str, str] = {}
        name_of: dict[str, str] = {}
        seq: dict[str, int] = {ROOT_PATH: 0}
        units: list[OrgUnit] = []
        for r in rows:
            parent = path_of[r.parent_code] if r.parent_code else ROOT_PATH
            seq[parent] += 1
            path = child_path(parent, seq[parent])
            seq[path] = 0
            path_of[r.code] = path
            name = union_name(r, name_of.get(r.parent_code))
            name_of[r.code] = r.name
            units.append(
                OrgUnit(
                    name=name,
                    kind=LEVEL_KIND[r.level],
                    path=path,
                    depth=len(path) // 4,
                    division_id=r.code,
                    province_code=r.code[:2],
                    is_placeholder=r.level == 2 and r.name in PLACEHOLDER_NAMES,
                    name_initials=name_initials(name),
                    name_bigrams=name_bigrams(name),
                )
            )
        # Insert level by level so parents exist; then set parent ids and child counters.
        OrgUnit.objects.bulk_create(units, batch_size=batch_size)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orgs_orgunit SET parent_id = (SELECT p.id FROM orgs_orgunit p "
                "WHERE p.path = SUBSTR(orgs_orgunit.path, 1, LENGTH(orgs_orgunit.path) - 4)) WHERE depth > 1"
            )
            cursor.execute(
                "UPDATE orgs_orgunit SET child_seq = (SELECT COUNT(*) FROM orgs_orgunit c "
                "WHERE c.parent_id = orgs_orgunit.id)"
            )
        from gonghui.analytics.rollups import rollup_rebuild

        rollup_rebuild()
    return Division.objects.count(), OrgUnit.objects.count()

"""Scoped CSV exports, streamed page by page (keyset), so a province export never loads all rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db import transaction

from gonghui.core.audit import audit_log

from .models import Employer, OrgUnit
from .selectors import employer_visible

EMPLOYER_COLUMNS = ["单位名称", "统一社会信用代码", "行政区划代码", "行政区划", "地址", "行业", "职工人数", "平台企业", "所属工会"]


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if v is None else _defuse(str(v)) for v in values])
    return buffer.getvalue()


def _defuse(value: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is shown as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def employer_export(*, actor, org: OrgUnit) -> Iterator[str]:
    """Record the export now (while the request's IP is known), then stream the rows."""
    with transaction.atomic():
        audit_log(actor=actor, action="employer.export", org=org, object_type="orgs.employer",
                  object_repr=f"{org.name} 用人单位名录")
    return _employer_rows(actor=actor, org=org)


def _employer_rows(*, actor, org: OrgUnit, batch: int = 2000) -> Iterator[str]:
    yield "\ufeff" + _csv_line(EMPLOYER_COLUMNS)
    last_id = 0
    qs = employer_visible(actor).filter(org_path__startswith=org.path).select_related("division", "org")
    while True:
        rows: list[Employer] = list(qs.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return
        for e in rows:
            yield _csv_line([e.name, e.uscc, e.division_id, e.division.name, e.address, e.industry,
                             e.employee_count, "是" if e.is_platform else "否", e.org.name])
        last_id = rows[-1].pk

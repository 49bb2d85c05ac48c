"""Helpers for case desk tests: the people around a case in the test tree."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.casedesk import services
from gonghui.orgs.models import CaseRole, Role
from gonghui.testing.fixtures import WorkerFactory, staff_on

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"0" * 200


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def upload(content: bytes = JPEG, name: str = "欠条.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@dataclass
class Desk:
    agent: object  # 12351 agent at the city union (handler over Shenzhen)
    supervisor: object  # city supervisor (quality checks, closes)
    county: object  # 南山区 handler
    township: object  # 南头街道 handler
    grassroots: object  # the employer union's handler
    futian: object  # a sibling county's handler
    city_admin: object  # an admin of the city without a case role
    worker: object


def desk(tree) -> Desk:
    return Desk(
        agent=staff_on(tree.shenzhen, Role.STAFF, case_role=CaseRole.HANDLER, username="sz-agent"),
        supervisor=staff_on(tree.shenzhen, Role.STAFF, case_role=CaseRole.SUPERVISOR, username="sz-supervisor"),
        county=staff_on(tree.nanshan, Role.STAFF, case_role=CaseRole.HANDLER, username="ns-handler"),
        township=staff_on(tree.nantou, Role.STAFF, case_role=CaseRole.HANDLER, username="nt-handler"),
        grassroots=staff_on(tree.nantou_union, Role.STAFF, case_role=CaseRole.HANDLER, username="ntu-handler"),
        futian=staff_on(tree.futian, Role.STAFF, case_role=CaseRole.HANDLER, username="ft-handler"),
        city_admin=staff_on(tree.shenzhen, Role.ADMIN, username="sz-admin"),
        worker=WorkerFactory(display_name="李四"),
    )


def file_case(worker, employer=None, **kwargs):
    data = {"channel": "portal", "category": "wage_arrears",
            "description": "公司已经三个月没有发工资了，老板说等回款再发，我们十几个人都没拿到。"}
    if isinstance(employer, dict):
        data["employer"] = employer
    elif employer is not None:
        data["employer_id"] = employer.pk
    data.update(kwargs)
    case, _created = services.case_create(actor=worker, **data)
    return case


def big_file(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.jpg", JPEG + b"\x00" * (size - len(JPEG)), content_type="image/jpeg")


__all__ = ["at", "upload", "desk", "file_case", "big_file", "io", "PDF", "JPEG"]

"""The access matrix: every staff endpoint under /api/v1/, run against a target in 南山区 as the
node's admin, an ancestor's admin, a sibling's admin, a plain worker and an anonymous caller.

Adding an endpoint is one line in ENDPOINTS; test_every_api_path_is_in_the_matrix fails until it is.
Staff lists that take ?node= appear twice: without it (the caller's own subtree: a sibling's admin
sees nothing of Nanshan's) and with a Nanshan node (a sibling's admin gets 404).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.casedesk.models import CallbackLink, Case, CaseEvent
from gonghui.core.models import AuditEntry
from gonghui.employment.models import (
    FairBooth,
    FairRegistration,
    HelpRequest,
    HelpService,
    JobApplication,
    JobFair,
    JobPosting,
    Recruiter,
    SeekerProfile,
)
from gonghui.legal.models import (
    AidApplication,
    AidDeadline,
    AidDocument,
    AidEvent,
    AidProvider,
    AidStage,
    LegalPolicy,
    LetterEvent,
    SupervisionLetter,
    SupervisionRecord,
)
from gonghui.membership.models import (
    Application,
    ChangeRequest,
    Member,
    MembershipPolicy,
    Notice,
    RosterImport,
    Transfer,
)
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgMove, OrgUnit, Role
from gonghui.orgs.tests.world import World, roster_csv
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import api_as, staff_on, uscc_in

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)

ID = "id"  # addressed by an id in the Nanshan subtree: outsiders get 404
SEARCH_ORGS = "search_orgs"  # a list cut to the caller's scope: outsiders get nothing of Nanshan's
SEARCH_EMPLOYERS = "search_employers"
AUDIT = "audit"
LIST = "list"  # a staff list without ?node=: the caller's own subtree; meta names the rows' model and path


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document
    params: Callable[[World], dict] = lambda w: {}  # path parameters
    body: Callable[[World], dict] | None = None  # JSON body, or query string for GET
    ok: int = 200
    kind: str = ID
    label: str = ""
    public_for_workers: bool = False  # workers use it too (the employer finder), with public fields only
    meta: dict = field(default_factory=dict)  # {"model", "path"}: the listed rows, found for allowed callers
    multipart: bool = False  # a form upload instead of a JSON body

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{' ' + self.label if self.label else ''}"


def _rows(model, path: str) -> dict:
    return {"model": model, "path": path}


def _node_lists(path: str, model, path_field: str) -> list[Endpoint]:
    """A staff list as the caller's own subtree (no node), and for the Nanshan node (404 to outsiders)."""
    return [
        Endpoint("GET", path, kind=LIST, label="own subtree", meta=_rows(model, path_field)),
        Endpoint("GET", path, body=lambda w: {"node": w.tree.nanshan.pk}, label="of a node",
                 meta=_rows(model, path_field)),
    ]


def _application(w: World) -> dict:
    return {"application_id": w.application.pk}


def _member(w: World) -> dict:
    return {"member_id": w.member.pk}


def _transfer(w: World) -> dict:
    return {"transfer_id": w.transfer.pk}


def _import(w: World) -> dict:
    return {"import_id": w.roster_import.pk}


def _case(w: World) -> dict:
    return {"case_id": w.case.pk}  # pending at 南头精密's union, protected identity


def _active_case(w: World) -> dict:
    return {"case_id": w.active_case.pk}  # in progress at 南头街道


def _resolved_case(w: World) -> dict:
    return {"case_id": w.resolved_case.pk}  # resolved at 南头精密's union


def _aid(name: str):
    return lambda w: {"application_id": getattr(w, name).pk}


def _record(w: World) -> dict:
    return {"record_id": w.supervision_record.pk}


def _letter(name: str):
    return lambda w: {"letter_id": getattr(w, name).pk}


def _in_days(days: int) -> str:
    return (timezone.now() + datetime.timedelta(days=days)).isoformat()


def _job(name: str):
    return lambda w: {"job_id": getattr(w, name).pk}


def _help(w: World) -> dict:
    return {"request_id": w.help_request.pk}


def _fair(w: World) -> dict:
    return {"fair_id": w.fair.pk}


def _new_employer(w: World) -> dict:
    return {"org_id": w.tree.nantou.pk, "name": "深圳市南头矩阵测试有限公司", "uscc": uscc_in("440305001"),
            "division_code": "440305001", "employee_count": 12}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/orgs/{org_id}", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/children", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/stats", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/employers", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/employers/export", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/staff", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("GET", "/api/v1/orgs/{org_id}/audit", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("POST", "/api/v1/unions", body=lambda w: {
        "parent_id": w.tree.nantou.pk, "name": "深圳市南头矩阵测试有限公司工会委员会", "kind": OrgKind.GRASSROOTS}, ok=201),
    Endpoint("PATCH", "/api/v1/unions/{org_id}", lambda w: {"org_id": w.tree.nantou_union.pk},
             body=lambda w: {"chair_name": "李四"}),
    Endpoint("GET", "/api/v1/employers/{employer_id}", lambda w: {"employer_id": w.tree.nantou_employer.pk}),
    Endpoint("POST", "/api/v1/employers", body=_new_employer, ok=201),
    Endpoint("PATCH", "/api/v1/employers/{employer_id}", lambda w: {"employer_id": w.tree.nantou_employer.pk},
             body=lambda w: {"address": "南山区南头街道深南大道1号"}),
    Endpoint("POST", "/api/v1/orgs/{org_id}/move", lambda w: {"org_id": w.nantou_area.pk},
             body=lambda w: {"new_parent_id": w.tree.nanshan.pk}, ok=202),
    Endpoint("GET", "/api/v1/moves/{move_id}", lambda w: {"move_id": w.done_move.pk}),
    Endpoint("POST", "/api/v1/orgs/{org_id}/grants", lambda w: {"org_id": w.tree.nantou.pk},
             body=lambda w: {"username": w.newcomer.username, "role": Role.STAFF}, ok=201),
    Endpoint("DELETE", "/api/v1/grants/{grant_id}", lambda w: {"grant_id": w.nantou_staff_grant.pk}, ok=204),
    Endpoint("POST", "/api/v1/orgs/{org_id}/staff-users", lambda w: {"org_id": w.tree.nantou.pk},
             body=lambda w: {"username": "nantou-clerk", "display_name": "王五"}, ok=201),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "南头"}, kind=SEARCH_ORGS, label="by name"),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "ntjd"}, kind=SEARCH_ORGS, label="by initials"),
    Endpoint("GET", "/api/v1/orgs/search", body=lambda w: {"q": "440305001"}, kind=SEARCH_ORGS, label="by code"),
    Endpoint("GET", "/api/v1/employers/search", body=lambda w: {"q": "南头精密"}, kind=SEARCH_EMPLOYERS,
             label="by name", public_for_workers=True),
    Endpoint("GET", "/api/v1/employers/search", body=lambda w: {"q": w.tree.nantou_employer.uscc},
             kind=SEARCH_EMPLOYERS, label="by uscc", public_for_workers=True),
    Endpoint("GET", "/api/v1/audit", kind=AUDIT),
    # Membership: the staff queue, members, transfers, corrections, policy, numbers, roster import.
    *_node_lists("/api/v1/membership/applications", Application, "org_path"),
    Endpoint("GET", "/api/v1/membership/board", body=lambda w: {"node": w.tree.nantou.pk},
             meta=_rows(Application, "supervisor_path")),
    Endpoint("GET", "/api/v1/membership/applications/{application_id}", _application),
    Endpoint("POST", "/api/v1/membership/applications/{application_id}/approve", _application),
    Endpoint("POST", "/api/v1/membership/applications/{application_id}/reject", _application,
             body=lambda w: {"reason": "所填单位与实际不符"}),
    *_node_lists("/api/v1/membership/members", Member, "org_path"),
    Endpoint("GET", "/api/v1/membership/members/{member_id}", _member),
    Endpoint("POST", "/api/v1/membership/members/{member_id}/reveal", _member,
             body=lambda w: {"field": "id_number"}),
    Endpoint("POST", "/api/v1/membership/members/{member_id}/status", _member,
             body=lambda w: {"status": "suspended", "reason": "长期未缴纳会费"}),
    Endpoint("POST", "/api/v1/membership/members/{member_id}/retain", _member,
             body=lambda w: {"reason": "unemployed"}),
    Endpoint("POST", "/api/v1/membership/transfers", body=lambda w: {
        "member_id": w.member.pk, "employment_form": "flexible", "division_code": "440305007"}, ok=201,
        label="by staff for a member"),
    *_node_lists("/api/v1/membership/transfers", Transfer, "to_path"),
    Endpoint("GET", "/api/v1/membership/transfers", body=lambda w: {"node": w.tree.nanshan.pk, "direction": "out"},
             label="out of a node", meta=_rows(Transfer, "from_path")),
    Endpoint("POST", "/api/v1/membership/transfers/{transfer_id}/accept", _transfer),
    Endpoint("POST", "/api/v1/membership/transfers/{transfer_id}/cancel", _transfer),
    *_node_lists("/api/v1/membership/corrections", ChangeRequest, "org_path"),
    Endpoint("POST", "/api/v1/membership/corrections/{correction_id}/decide",
             lambda w: {"correction_id": w.correction.pk}, body=lambda w: {"approve": True}),
    Endpoint("GET", "/api/v1/membership/policy/{org_id}", lambda w: {"org_id": w.tree.nantou.pk}),
    Endpoint("PUT", "/api/v1/membership/policy/{org_id}", lambda w: {"org_id": w.tree.nantou.pk},
             body=lambda w: {"auto_approve": True, "decide_within_days": 5}),
    Endpoint("GET", "/api/v1/membership/stats", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("GET", "/api/v1/membership/stats/children", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("POST", "/api/v1/membership/imports", multipart=True, ok=202, body=lambda w: {
        "org_id": w.tree.nantou_union.pk, "file": SimpleUploadedFile("花名册.csv", roster_csv(), "text/csv")}),
    Endpoint("GET", "/api/v1/membership/imports/{import_id}", _import),
    Endpoint("POST", "/api/v1/membership/imports/{import_id}/commit", _import, ok=202),
    Endpoint("GET", "/api/v1/membership/imports/{import_id}/errors", _import),
    # The case desk: the board, a case's detail and every handling step (case roles, not admin rank).
    *_node_lists("/api/v1/cases", Case, "org_path"),
    Endpoint("GET", "/api/v1/cases/{case_id}", _case),
    Endpoint("POST", "/api/v1/cases/{case_id}/accept", _case),
    Endpoint("POST", "/api/v1/cases/{case_id}/dispatch", _active_case,
             body=lambda w: {"to_org": w.tree.nantou_union.pk, "note": "请单位工会协调"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/return", _case, body=lambda w: {"reason": "需街道协调劳动监察"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/note", _case, body=lambda w: {"text": "已电话联系公司人事"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/reply", _case, body=lambda w: {"text": "已收到，正在联系公司"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/request-info", _active_case,
             body=lambda w: {"text": "请上传入职记录或工资条"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/resolve", _active_case, body=lambda w: {
        "result": "店主已补签劳动合同并支付二倍工资差额", "money_recovered": "12000", "workers_helped": 1}),
    Endpoint("POST", "/api/v1/cases/{case_id}/close", _resolved_case, body=lambda w: {"passed": True}),
    Endpoint("POST", "/api/v1/cases/{case_id}/reopen", _resolved_case,
             body=lambda w: {"reason": "职工反映加班费仍未到账"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/rate-by-phone", _resolved_case, body=lambda w: {"score": 5}),
    Endpoint("POST", "/api/v1/cases/{case_id}/reveal-phone", _case),
    Endpoint("POST", "/api/v1/cases/{case_id}/legal-aid", _case, body=lambda w: {"note": "职工要求申请劳动仲裁"}),
    # Legal aid at 南山区: content follows the case role, like cases; the roster and settings the general role.
    *_node_lists("/api/v1/legal/aid", AidApplication, "org_path"),
    Endpoint("GET", "/api/v1/legal/aid/stats", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("GET", "/api/v1/legal/aid/{application_id}", _aid("aid_submitted")),
    Endpoint("GET", "/api/v1/legal/aid/{application_id}/documents/{document_id}",
             lambda w: {"application_id": w.aid_submitted.pk, "document_id": w.aid_document.pk}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/documents", _aid("aid_submitted"), multipart=True,
             body=lambda w: {"kind": "evidence", "files": [SimpleUploadedFile("考勤.jpg", b"\xff\xd8\xff\xe0" + b"0" * 64)]}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/request-documents", _aid("aid_submitted"),
             body=lambda w: {"text": "请补充工资条"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/approve", _aid("aid_submitted"), body=lambda w: {}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/reject", _aid("aid_submitted"),
             body=lambda w: {"reason": "不属于劳动争议"}),
    Endpoint("GET", "/api/v1/legal/aid/{application_id}/providers", _aid("aid_approved")),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/assign", _aid("aid_approved"),
             body=lambda w: {"provider_id": w.aid_provider.pk}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/stages", _aid("aid_assigned"), ok=201,
             body=lambda w: {"kind": "first_instance", "started_on": "2026-11-02", "forum": "南山区人民法院"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/stages/{stage_id}/decision",
             lambda w: {"application_id": w.aid_assigned.pk, "stage_id": w.aid_stage.pk},
             body=lambda w: {"received_on": str(w.aid_stage.started_on), "result": "仲裁裁决支持全部请求"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/deadlines", _aid("aid_assigned"), ok=201,
             body=lambda w: {"title": "仲裁开庭", "due_at": _in_days(10)}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/deadlines/{deadline_id}/done",
             lambda w: {"application_id": w.aid_assigned.pk, "deadline_id": w.aid_deadline.pk}, body=lambda w: {}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/notes", _aid("aid_assigned"), ok=201,
             body=lambda w: {"text": "已与公司人事沟通"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/conclude", _aid("aid_assigned"), body=lambda w: {
        "outcome": "settled", "closing_report": "双方和解，公司一次性支付工伤待遇差额，申请人满意。"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/archive", _aid("aid_concluded")),
    Endpoint("GET", "/api/v1/legal/aid-providers", kind=LIST, label="own subtree", meta=_rows(AidProvider, "org_path")),
    Endpoint("GET", "/api/v1/legal/aid-providers", body=lambda w: {"node": w.tree.nanshan.pk}, label="of a node",
             meta=_rows(AidProvider, "org_path")),
    Endpoint("POST", "/api/v1/legal/aid-providers", ok=201, body=lambda w: {
        "org_id": w.tree.nanshan.pk, "kind": "volunteer", "name": "陈静", "phone": "13912348888",
        "expertise": ["injury"]}),
    Endpoint("PATCH", "/api/v1/legal/aid-providers/{provider_id}", lambda w: {"provider_id": w.aid_provider.pk},
             body=lambda w: {"max_active": 12}),
    Endpoint("GET", "/api/v1/legal/policy/{org_id}", lambda w: {"org_id": w.tree.nanshan.pk}),
    Endpoint("PUT", "/api/v1/legal/policy/{org_id}", lambda w: {"org_id": w.tree.nanshan.pk},
             body=lambda w: {"aid_decide_days": 4}),
    # Labour-law supervision (一函两书): the general role (viewers read, staff write, admins issue and void).
    Endpoint("POST", "/api/v1/legal/supervision-records", ok=201, body=lambda w: {
        "org_id": w.tree.nantou.pk, "trigger": "inspection", "employer_id": w.tree.nantou_employer.pk,
        "inspected_on": "2026-11-20", "monitors": [{"name": "李明"}, {"name": "王芳"}],
        "findings": "该公司未依法支付加班费，涉及职工三十余人。", "articles": [{"law": "劳动法", "article": 44}]}),
    *_node_lists("/api/v1/legal/supervision-records", SupervisionRecord, "org_path"),
    Endpoint("GET", "/api/v1/legal/supervision-records/{record_id}", _record),
    Endpoint("PATCH", "/api/v1/legal/supervision-records/{record_id}", _record,
             body=lambda w: {"findings": "复查：该公司未与车间职工订立书面劳动合同，且拖欠上月工资。"}),
    Endpoint("POST", "/api/v1/legal/supervision-records/{record_id}/close",
             lambda w: {"record_id": w.grassroots_record.pk}, body=lambda w: {"note": "单位已整改，复查属实"}),
    Endpoint("POST", "/api/v1/legal/supervision-records/{record_id}/escalate",
             lambda w: {"record_id": w.grassroots_record.pk}, body=lambda w: {"note": "单位拒不整改"}, ok=201),
    Endpoint("POST", "/api/v1/legal/letters", ok=201,
             body=lambda w: {"record_id": w.supervision_record.pk, "kind": "opinion"}),
    *_node_lists("/api/v1/legal/letters", SupervisionLetter, "org_path"),
    Endpoint("GET", "/api/v1/legal/letters/stats", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("GET", "/api/v1/legal/letters/{letter_id}", _letter("draft_letter")),
    Endpoint("PATCH", "/api/v1/legal/letters/{letter_id}", _letter("draft_letter"),
             body=lambda w: {"recipient_address": "深圳市南山区南头街道深南大道1号"}),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/issue", _letter("draft_letter")),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/deliver", _letter("issued_letter"),
             body=lambda w: {"method": "直接送达", "received_by": "张经理"}),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/reply", _letter("delivered_letter"),
             body=lambda w: {"text": "已收到，正在整改"}),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/rectify", _letter("delivered_letter"),
             body=lambda w: {"text": "已补签劳动合同"}),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/unresolved", _letter("delivered_letter"),
             body=lambda w: {"reason": "单位拒绝整改"}),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/escalate", _letter("unresolved_letter"),
             body=lambda w: {"note": "拒不整改"}, ok=201),
    Endpoint("POST", "/api/v1/legal/letters/{letter_id}/void", _letter("draft_letter"),
             body=lambda w: {"reason": "主送写错"}),
    Endpoint("GET", "/api/v1/legal/letters/{letter_id}/pdf", _letter("issued_letter")),
    Endpoint("GET", "/api/v1/legal/letters/{letter_id}/docx", _letter("issued_letter")),
    # The employment-help cloud: postings of 南头精密 (in Nanshan), its recruiters, help at 南头街道, a fair.
    Endpoint("POST", "/api/v1/jobs", ok=201, body=lambda w: {
        "employer_id": w.tree.nantou_employer.pk, "title": "质检员", "occupation": "4-08-05-07",
        "division_code": "440305001", "salary_min": 5000, "salary_max": 7000}),
    Endpoint("PATCH", "/api/v1/jobs/{job_id}", _job("pending_job"), body=lambda w: {"headcount": 4}),
    Endpoint("POST", "/api/v1/jobs/{job_id}/moderate", _job("pending_job"), body=lambda w: {"approve": True}),
    Endpoint("POST", "/api/v1/jobs/{job_id}/close", _job("live_job"), body=lambda w: {"reason": "已招满"}),
    Endpoint("POST", "/api/v1/jobs/{job_id}/renew", _job("closed_job"),
             body=lambda w: {"expires_on": (timezone.localdate() + datetime.timedelta(days=20)).isoformat()}),
    Endpoint("GET", "/api/v1/jobs/{job_id}/candidates", _job("live_job")),
    Endpoint("GET", "/api/v1/jobs/{job_id}/applications", _job("live_job")),
    Endpoint("POST", "/api/v1/job-applications/{application_id}/move",
             lambda w: {"application_id": w.job_application.pk}, body=lambda w: {"status": "viewed"}),
    Endpoint("GET", "/api/v1/employment/recruiters", kind=LIST, label="own subtree", meta=_rows(Recruiter, "org_path")),
    Endpoint("POST", "/api/v1/employment/recruiters/{recruiter_id}/decide",
             lambda w: {"recruiter_id": w.recruiter_claim.pk}, body=lambda w: {"approve": True}),
    Endpoint("GET", "/api/v1/employment/postings", kind=LIST, label="own subtree", meta=_rows(JobPosting, "org_path")),
    Endpoint("GET", "/api/v1/employment/help-requests", kind=LIST, label="own subtree",
             meta=_rows(HelpRequest, "org_path")),
    Endpoint("GET", "/api/v1/employment/help-requests/export", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("GET", "/api/v1/employment/help-requests/{request_id}", _help),
    Endpoint("POST", "/api/v1/employment/help-requests/{request_id}/assign", _help,
             body=lambda w: {"staff_id": w.nantou_staff.pk}),
    Endpoint("POST", "/api/v1/employment/help-requests/{request_id}/services", _help,
             body=lambda w: {"kind": "guidance", "note": "职业指导：建议考取叉车证"}),
    Endpoint("POST", "/api/v1/employment/help-requests/{request_id}/close", _help,
             body=lambda w: {"placed": False, "reason": "本人暂不找工作"}),
    Endpoint("GET", "/api/v1/employment/stats", body=lambda w: {"node": w.tree.nanshan.pk}),
    Endpoint("POST", "/api/v1/job-fairs", ok=201, body=lambda w: {
        "org_id": w.tree.nanshan.pk, "title": "南山区春风行动招聘会", "division_code": "440305001",
        "venue": "南头街道文体中心", "starts_at": _in_days(3), "ends_at": _in_days(4)}),
    Endpoint("POST", "/api/v1/job-fairs/{fair_id}/booths", _fair,
             body=lambda w: {"employer_id": w.tree.nantou_employer.pk, "posting_ids": [w.live_job.pk]}),
    Endpoint("POST", "/api/v1/job-fairs/{fair_id}/checkin", _fair, body=lambda w: {"code": w.fair_registration.code}),
    Endpoint("GET", "/api/v1/job-fairs/{fair_id}/results", _fair),
    Endpoint("POST", "/api/v1/job-fairs/{fair_id}/cancel", _fair, body=lambda w: {"reason": "场地调整"}),
]

# Endpoints every caller uses for themselves; they address nothing in the tree.
NOT_STAFF_ENDPOINTS = {
    ("POST", "/api/v1/auth/sms-code"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/staff/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    # The worker's own membership (tested below and in gonghui/membership/tests/test_api.py).
    ("POST", "/api/v1/membership/applications"),
    ("POST", "/api/v1/membership/applications/{application_id}/withdraw"),
    ("POST", "/api/v1/me/membership/claim"),
    ("GET", "/api/v1/me/membership"),
    ("GET", "/api/v1/me/card"),
    ("POST", "/api/v1/me/membership/corrections"),
    # Reference data and the card check at a service point: any signed-in caller.
    ("GET", "/api/v1/occupations/search"),
    ("GET", "/api/v1/cards/verify"),
    # The case desk: a worker's own cases; intake by a worker or case staff (a case routes by employer
    # and place, not by the caller's node); the taxonomy; the no-login satisfaction link.
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/me/cases"),
    ("POST", "/api/v1/cases/{case_id}/withdraw"),
    ("POST", "/api/v1/cases/{case_id}/info"),
    ("GET", "/api/v1/cases/categories"),
    ("POST", "/api/v1/callbacks/{token}"),
    # The law library and legal questions: public, nothing in the tree (gonghui/legal/tests/test_api.py).
    ("GET", "/api/v1/laws"),
    ("GET", "/api/v1/laws/search"),
    ("GET", "/api/v1/laws/{law}"),
    ("GET", "/api/v1/laws/{law}/articles/{article}"),
    ("POST", "/api/v1/legal/ask"),
    # Legal aid: the worker's own application (gonghui/legal/tests/test_aid.py).
    ("POST", "/api/v1/legal/aid"),
    ("GET", "/api/v1/me/legal-aid"),
    ("POST", "/api/v1/legal/aid/{application_id}/supply"),
    ("POST", "/api/v1/legal/aid/{application_id}/withdraw"),
    # The employment-help cloud: public job search and fairs; a worker's own seeking, applications,
    # help requests and claims to recruit (gonghui/employment/tests/test_api.py).
    ("GET", "/api/v1/jobs/search"),
    ("GET", "/api/v1/jobs/{job_id}"),
    ("POST", "/api/v1/jobs/{job_id}/apply"),
    ("POST", "/api/v1/employment/recruiters"),
    ("POST", "/api/v1/employment/help-requests"),
    ("GET", "/api/v1/job-fairs"),
    ("GET", "/api/v1/job-fairs/{fair_id}"),
    ("POST", "/api/v1/job-fairs/{fair_id}/register"),
    ("GET", "/api/v1/me/job-applications"),
    ("POST", "/api/v1/me/job-applications/{application_id}/withdraw"),
    ("GET", "/api/v1/me/job-recommendations"),
    ("GET", "/api/v1/me/seeker-profile"),
    ("PUT", "/api/v1/me/seeker-profile"),
    ("GET", "/api/v1/me/help-requests"),
    ("GET", "/api/v1/me/recruiter-roles"),
}

PUBLIC_EMPLOYER_FIELDS = {"id", "name", "uscc", "division_code", "division_name"}


def call(endpoint: Endpoint, w: World, user: User | None):
    client = api_as(user)
    url = endpoint.path.format(**endpoint.params(w))
    data = endpoint.body(w) if endpoint.body else None
    if endpoint.method == "GET":
        return client.get(url, **(data or {}))
    if endpoint.multipart:  # the Django client encodes a dict with files as multipart/form-data
        return client.client.post(url, data, **client._headers())
    if endpoint.method == "PUT":
        return client.client.put(url, data or {}, content_type="application/json", **client._headers())
    return {"POST": client.post, "PATCH": client.patch, "DELETE": lambda u, _d: client.delete(u)}[endpoint.method](url, data)


def state(w: World) -> dict:
    """Everything a refused write could have touched."""
    return {
        "orgs": OrgUnit.objects.count(),
        "org_paths": list(OrgUnit.objects.filter(path__startswith=w.tree.nanshan.path)
                          .values_list("id", "path", "name", "chair_name").order_by("id")),
        "employers": list(Employer.objects.values_list("id", "name", "uscc", "address", "org_id").order_by("id")),
        "grants": list(Grant.objects.values_list("id", "user_id", "org_id", "role").order_by("id")),
        "moves": OrgMove.objects.count(),
        "users": User.objects.count(),
        "applications": list(Application.objects.values_list("id", "status", "org_id", "decided_at")
                             .order_by("id")),
        "members": list(Member.objects.values_list("id", "status", "org_id", "org_path", "name", "job_title",
                                                   "card_key").order_by("id")),
        "transfers": list(Transfer.objects.values_list("id", "status", "to_org_id").order_by("id")),
        "corrections": list(ChangeRequest.objects.values_list("id", "status").order_by("id")),
        "imports": list(RosterImport.objects.values_list("id", "status", "committed_rows").order_by("id")),
        "policies": list(MembershipPolicy.objects.values_list("org_id", "auto_approve", "decide_within_days",
                                                              "routing").order_by("org_id")),
        "membership_audit": AuditEntry.objects.filter(action__startswith="membership.").count(),
        "cases": list(Case.objects.values_list("id", "status", "org_id", "worker_id", "satisfaction", "reopen_count",
                                               "updated_at").order_by("id")),
        "case_events": CaseEvent.objects.count(),
        "callback_links": list(CallbackLink.objects.values_list("id", "used_at").order_by("id")),
        "case_audit": AuditEntry.objects.filter(action__startswith="case.").count(),
        "aid": list(AidApplication.objects.values_list("id", "status", "provider_id", "updated_at").order_by("id")),
        "aid_rows": (AidDocument.objects.count(), AidStage.objects.count(), AidDeadline.objects.count(),
                     AidEvent.objects.count(), LegalPolicy.objects.count()),
        "aid_providers": list(AidProvider.objects.values_list("id", "max_active", "active_count").order_by("id")),
        "aid_audit": AuditEntry.objects.filter(action__startswith="legal_aid.").count(),
        "records": list(SupervisionRecord.objects.values_list("id", "status", "findings", "updated_at").order_by("id")),
        "letters": list(SupervisionLetter.objects.values_list("id", "status", "serial_label", "recipient_address",
                                                              "updated_at").order_by("id")),
        "letter_events": LetterEvent.objects.count(),
        "legal_audit": AuditEntry.objects.filter(action__startswith="legal.").count(),
        "jobs": list(JobPosting.objects.values_list("id", "status", "headcount", "updated_at").order_by("id")),
        "recruiters": list(Recruiter.objects.values_list("id", "status", "employer_id").order_by("id")),
        "job_applications": list(JobApplication.objects.values_list("id", "status", "updated_at").order_by("id")),
        "seekers": list(SeekerProfile.objects.values_list("id", "updated_at").order_by("id")),
        "help": list(HelpRequest.objects.values_list("id", "status", "assigned_to_id", "updated_at").order_by("id")),
        "help_services": HelpService.objects.count(),
        "fairs": list(JobFair.objects.values_list("id", "status").order_by("id")),
        "fair_rows": (FairBooth.objects.count(), FairRegistration.objects.filter(checked_in_at__isnull=False).count()),
    }


def nanshan_items(endpoint: Endpoint, w: World, body) -> list:
    if endpoint.meta:
        model, path = endpoint.meta["model"], endpoint.meta["path"]
        return [item for item in body["items"] if w.in_nanshan(getattr(model.objects.get(pk=item["id"]), path))]
    if endpoint.kind == SEARCH_ORGS:
        return [item for item in body if w.org_in_nanshan(item["id"])]
    if endpoint.kind == SEARCH_EMPLOYERS:
        return [item for item in body if w.employer_in_nanshan(item["id"])]
    if endpoint.kind == AUDIT:
        return [item for item in body["items"] if w.in_nanshan(AuditEntry.objects.get(pk=item["id"]).org_path)]
    raise AssertionError(endpoint.kind)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
@pytest.mark.parametrize("who", ["nanshan_admin", "shenzhen_admin"])
def test_the_nodes_admin_and_an_ancestors_admin_are_allowed(world, endpoint, who):
    response = call(endpoint, world, getattr(world, who))
    assert response.status_code == endpoint.ok, response.content[:500]
    if endpoint.kind != ID or endpoint.meta:
        body = response.json()
        assert nanshan_items(endpoint, world, body), "the Nanshan data is found by those who may see it"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_siblings_admin_gets_nothing_of_nanshan(world, endpoint):
    before = state(world)
    response = call(endpoint, world, world.futian_admin)
    if endpoint.kind == ID:
        assert_error(response, 404, "not_found")
    else:
        assert response.status_code == 200, response.content[:500]
        assert nanshan_items(endpoint, world, response.json()) == []
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_plain_worker_gets_no_staff_data(world, endpoint):
    before = state(world)
    response = call(endpoint, world, world.worker)
    if endpoint.public_for_workers:
        assert response.status_code == 200
        assert response.json(), "the employer finder works for workers"
        assert all(set(item) == PUBLIC_EMPLOYER_FIELDS for item in response.json())
    else:
        assert response.status_code in (403, 404), response.content[:500]
        assert_error(response, response.status_code)
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_an_anonymous_caller_must_log_in(world, endpoint):
    before = state(world)
    response = call(endpoint, world, None)
    assert_error(response, 401, "unauthenticated")
    assert state(world) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_page_sessions_reach_no_more_and_need_csrf_to_write(world, endpoint):
    """A worker's page session reads no more than the worker's token does; a staff session cannot be
    used for a cross-site write."""
    client = Client()
    client.force_login(world.worker)
    url = endpoint.path.format(**endpoint.params(world))
    data = endpoint.body(world) if endpoint.body else {}
    if endpoint.method == "GET":
        response = client.get(url, data)
        if endpoint.public_for_workers:
            assert response.status_code == 200
            return
        assert response.status_code in (403, 404)
    else:
        # Session callers must also pass the CSRF check: a forged cross-site write never lands.
        before = state(world)
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.nanshan_admin)
        if endpoint.multipart:
            response = client.post(url, data)
        else:
            response = getattr(client, endpoint.method.lower())(url, data, content_type="application/json")
        assert response.status_code in (401, 403), response.content[:300]
        assert state(world) == before


def test_every_api_path_is_in_the_matrix(client):
    """A new /api/v1 endpoint cannot skip the access matrix: list it in ENDPOINTS (or, if it addresses
    nothing in the tree, in NOT_STAFF_ENDPOINTS)."""
    document = client.get("/api/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    in_matrix = {(e.method, e.path) for e in ENDPOINTS}
    assert operations - NOT_STAFF_ENDPOINTS - in_matrix == set(), "endpoints missing from the access matrix"
    assert in_matrix - operations == set(), "the matrix lists endpoints that no longer exist"
    assert NOT_STAFF_ENDPOINTS <= operations


# --- The worker's own endpoints: nothing in the tree is addressed, so no staff matrix; instead ----------

def _join_body(w: World) -> dict:
    from gonghui.membership.tests.helpers import make_id_number

    return {"name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract", "consent": True,
            "employer_id": w.tree.nantou_employer.pk}


WORKER_ONLY = [
    Endpoint("POST", "/api/v1/membership/applications", body=_join_body, ok=201),
    Endpoint("POST", "/api/v1/membership/applications/{application_id}/withdraw", _application),
    Endpoint("GET", "/api/v1/me/membership"),
    Endpoint("GET", "/api/v1/me/card"),
    Endpoint("POST", "/api/v1/me/membership/corrections", body=lambda w: {"job_title": "质检员"}, multipart=True,
             ok=201),
    Endpoint("GET", "/api/v1/me/cases"),
    Endpoint("POST", "/api/v1/cases/{case_id}/withdraw", _case, body=lambda w: {"reason": "已与公司协商解决"}),
    Endpoint("POST", "/api/v1/cases/{case_id}/info", _case, body=lambda w: {"text": "车间还有三人也没拿到工资"},
             multipart=True),
    Endpoint("GET", "/api/v1/me/legal-aid"),
    Endpoint("POST", "/api/v1/legal/aid", ok=201, body=lambda w: {
        "category": "wages", "employer_id": w.tree.nantou_employer.pk,
        "facts": "公司拖欠我两个月工资共一万二千元，协商不成，请求工会提供法律援助。"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/supply", _aid("aid_waiting"), body=lambda w: {"text": "已补充"}),
    Endpoint("POST", "/api/v1/legal/aid/{application_id}/withdraw", _aid("aid_submitted"), body=lambda w: {}),
    Endpoint("GET", "/api/v1/me/job-applications"),
    Endpoint("POST", "/api/v1/me/job-applications/{application_id}/withdraw",
             lambda w: {"application_id": w.job_application.pk}),
    Endpoint("GET", "/api/v1/me/job-recommendations"),
    Endpoint("GET", "/api/v1/me/seeker-profile"),
    Endpoint("PUT", "/api/v1/me/seeker-profile", body=lambda w: {"occupations": ["4-02-07-08"], "places": ["440305"]}),
    Endpoint("GET", "/api/v1/me/help-requests"),
    Endpoint("GET", "/api/v1/me/recruiter-roles"),
]
# Worker-only calls whose owner case needs its own setup (tested in gonghui/membership/tests/test_claim.py).
WORKER_ONLY_ELSEWHERE = [
    Endpoint("POST", "/api/v1/me/membership/claim", body=lambda w: {"id_number": "11010519491231002X"}),
]
ANY_SIGNED_IN = [
    Endpoint("GET", "/api/v1/occupations/search", body=lambda w: {"q": "快递"}),
    Endpoint("GET", "/api/v1/cards/verify", body=lambda w: {"token": "garbage"}),
    Endpoint("GET", "/api/v1/cases/categories", body=lambda w: {"q": "欠薪"}),
    # Intake: a worker files their own; staff only with a case role (tested in casedesk/tests/test_api.py).
    Endpoint("POST", "/api/v1/cases", body=lambda w: {
        "category": "wage_arrears", "employer_id": w.tree.nantou_employer.pk,
        "description": "公司拖欠上个月工资，已经过了发薪日半个月。"}, ok=201),
]
# No login at all: the worker's satisfaction link (a signed single-use token is the credential).
PUBLIC = [
    Endpoint("POST", "/api/v1/callbacks/{token}", lambda w: {"token": "not-a-token"}, body=lambda w: {"score": 5}),
]


def test_the_worker_only_list_is_the_not_staff_list():
    listed = {(e.method, e.path) for e in WORKER_ONLY + WORKER_ONLY_ELSEWHERE + ANY_SIGNED_IN + PUBLIC}
    assert listed == {op for op in NOT_STAFF_ENDPOINTS if "membership" in op[1] or op[1].startswith(
        ("/api/v1/me/", "/api/v1/occupations", "/api/v1/cards", "/api/v1/cases", "/api/v1/callbacks",
         "/api/v1/legal/aid"))}


@pytest.mark.parametrize("endpoint", WORKER_ONLY + WORKER_ONLY_ELSEWHERE + ANY_SIGNED_IN, ids=lambda e: e.id)
def test_the_workers_own_endpoints_need_a_login(world, endpoint):
    before = state(world)
    assert_error(call(endpoint, world, None), 401, "unauthenticated")
    assert state(world) == before


@pytest.mark.parametrize("endpoint", WORKER_ONLY + WORKER_ONLY_ELSEWHERE, ids=lambda e: e.id)
@pytest.mark.parametrize("who", ["nanshan_admin", "nantou_staff"])
def test_staff_accounts_cannot_act_as_a_worker(world, endpoint, who):
    before = state(world)
    assert_error(call(endpoint, world, getattr(world, who)), 403, "forbidden")
    assert state(world) == before


def test_a_worker_reaches_only_their_own_membership(world):
    """`worker` has nothing; the applicant's application and the members' rows stay out of reach."""
    before = state(world)
    client = api_as(world.worker)
    assert_error(client.post(f"/api/v1/membership/applications/{world.application.pk}/withdraw"), 404, "not_found")
    assert_error(client.post(f"/api/v1/membership/transfers/{world.transfer.pk}/cancel"), 404, "not_found")
    assert_error(client.get("/api/v1/me/card"), 404, "not_found")
    assert_error(client.client.post("/api/v1/me/membership/corrections", {"job_title": "质检员"},
                                    **client._headers()), 404, "not_found")
    mine = client.get("/api/v1/me/membership").json()
    assert mine == {"member": None, "applications": [], "pending_transfer": None}
    assert state(world) == before
    assert not Notice.objects.filter(user=world.worker).exists()


# Who owns what each worker-only call addresses (a new join: `worker`, who has nothing yet).
OWNERS = {
    "POST /api/v1/membership/applications": "worker",
    "POST /api/v1/membership/applications/{application_id}/withdraw": "applicant",
    "GET /api/v1/me/membership": "member_user",
    "GET /api/v1/me/card": "member_user",
    "POST /api/v1/me/membership/corrections": "mover_user",  # member_user already has one pending
    "GET /api/v1/me/cases": "case_worker",
    "POST /api/v1/cases/{case_id}/withdraw": "case_worker",
    "POST /api/v1/cases/{case_id}/info": "case_worker",
    "GET /api/v1/me/legal-aid": "aid_worker",
    "POST /api/v1/legal/aid": "worker",
    "POST /api/v1/legal/aid/{application_id}/supply": "aid_worker",
    "POST /api/v1/legal/aid/{application_id}/withdraw": "aid_worker",
    "GET /api/v1/me/job-applications": "job_seeker",
    "POST /api/v1/me/job-applications/{application_id}/withdraw": "job_seeker",
    "GET /api/v1/me/job-recommendations": "job_seeker",
    "GET /api/v1/me/seeker-profile": "job_seeker",
    "PUT /api/v1/me/seeker-profile": "worker",
    "GET /api/v1/me/help-requests": "help_worker",
    "GET /api/v1/me/recruiter-roles": "recruiter_user",
}


@pytest.mark.parametrize("endpoint", WORKER_ONLY, ids=lambda e: e.id)
def test_the_owner_is_served(world, endpoint):
    """The same calls made by the worker they belong to succeed: the refusals above are not blanket."""
    response = call(endpoint, world, getattr(world, OWNERS[endpoint.id]))
    assert response.status_code == endpoint.ok, response.content[:500]


# --- The case desk: case content follows the case role, not the admin rank; the public link -----------

CASE_STAFF_ENDPOINTS = [e for e in ENDPOINTS if e.path.startswith("/api/v1/cases")]


@pytest.mark.parametrize("endpoint", CASE_STAFF_ENDPOINTS, ids=lambda e: e.id)
def test_an_admin_without_a_case_role_reads_and_works_no_cases(world, endpoint):
    admin = staff_on(world.tree.nanshan, username="nanshan-admin-no-cases")  # the node's admin, no case role
    before = state(world)
    response = call(endpoint, world, admin)
    assert response.status_code in (403, 404), response.content[:500]
    assert_error(response, response.status_code)
    assert state(world) == before


@pytest.mark.parametrize("endpoint", PUBLIC, ids=lambda e: e.id)
def test_public_endpoints_need_no_login_no_csrf_and_reveal_nothing(world, endpoint):
    before = state(world)
    assert_error(call(endpoint, world, None), 404, "not_found", "token")
    # A signed-in page session posting without a CSRF token is not refused for it (there is nothing a
    # session could authorise here); the bad token still is.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.case_worker)
    url = endpoint.path.format(**endpoint.params(world))
    assert_error(client.post(url, endpoint.body(world), content_type="application/json"), 404, "not_found")
    assert state(world) == before

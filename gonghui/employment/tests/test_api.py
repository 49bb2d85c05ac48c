"""The employment API as a worker, a recruiter and union staff use it: public search and job pages,
one-tap apply, the employer's pipeline, the help ledger and its export, fairs; bad input is a Chinese
400 naming the field, and nothing is written twice."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from gonghui.core.models import AuditEntry
from gonghui.employment import services
from gonghui.employment.models import HelpRequest, JobApplication, JobPosting
from gonghui.orgs.models import Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import WorkerFactory, api_as, staff_on

pytestmark = pytest.mark.django_db

JOB = {"title": "快递收派员", "occupation": "4-02-07-08", "division_code": "440305001", "salary_min": 7000,
       "salary_max": 11000, "headcount": 3, "skills": ["电动车驾驶"], "description": "负责南头片区快件收派。"}
PROFILE = {"occupations": ["4-02-07-08"], "places": ["440305"], "salary_expected": 8000, "skills": ["电动车驾驶"],
           "help_group": "jobless", "visible_to_employers": True}


@pytest.fixture
def recruiter(tree):
    user = WorkerFactory(display_name="王经理")
    response = api_as(user).post("/api/v1/employment/recruiters", {"uscc": tree.nantou_employer.uscc, "name": "王经理"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["union"]["id"] == tree.nantou_union.pk
    staff = staff_on(tree.nanshan, Role.STAFF)
    pending = api_as(staff).get("/api/v1/employment/recruiters", status="pending").json()["items"]
    assert [r["id"] for r in pending] == [response.json()["id"]]
    decided = api_as(staff).post(f"/api/v1/employment/recruiters/{pending[0]['id']}/decide", {"approve": True})
    assert decided.json()["status"] == "verified" and decided.json()["employer_id"] == tree.nantou_employer.pk
    return user


def test_search_apply_and_hire_through_the_api(tree, recruiter):
    worker = WorkerFactory(display_name="李求职")
    created = api_as(recruiter).post("/api/v1/jobs", {"employer_id": tree.nantou_employer.pk, **JOB})
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["status"] == "pending" and job["contact_phone_masked"] == ""
    assert api_as(None).get("/api/v1/jobs/search", q="快递").json()["items"] == []  # not live yet
    assert_error(api_as(None).get(f"/api/v1/jobs/{job['id']}"), 404, "not_found")
    moderated = api_as(staff_on(tree.nanshan, Role.STAFF)).post(f"/api/v1/jobs/{job['id']}/moderate",
                                                                {"approve": True})
    assert moderated.json()["status"] == "live"
    found = api_as(None).get("/api/v1/jobs/search", q="快递", division="440305", salary_min=8000).json()
    assert [j["id"] for j in found["items"]] == [job["id"]] and found["next_offset"] is None
    # Without a profile the page has no reasons; with one, it says why.
    assert api_as(worker).get(f"/api/v1/jobs/{job['id']}").json()["match"] is None
    assert_error(api_as(worker).post(f"/api/v1/jobs/{job['id']}/apply"), 400, "seeker_required")
    saved = api_as(worker).client.put("/api/v1/me/seeker-profile", PROFILE, content_type="application/json",
                                      **api_as(worker)._headers())
    assert saved.status_code == 200, saved.content
    detail = api_as(worker).get(f"/api/v1/jobs/{job['id']}").json()
    assert detail["match"]["score"] > 0.7 and "职业对口：快递员" in detail["match"]["reasons"]
    recs = api_as(worker).get("/api/v1/me/job-recommendations").json()
    assert recs[0]["job"]["id"] == job["id"] and recs[0]["reasons"]
    applied = api_as(worker).post(f"/api/v1/jobs/{job['id']}/apply", {"note": "有两年快递经验"})
    assert applied.status_code == 201 and applied.json()["status"] == "submitted"
    assert_error(api_as(worker).post(f"/api/v1/jobs/{job['id']}/apply"), 409, "application_duplicate")
    assert JobApplication.objects.count() == 1
    # The employer sees the applicant in full (they applied) and candidates masked (they did not).
    applicants = api_as(recruiter).get(f"/api/v1/jobs/{job['id']}/applications").json()
    assert applicants[0]["seeker"]["name"] == "李求职" and applicants[0]["note"] == "有两年快递经验"
    candidates = api_as(recruiter).get(f"/api/v1/jobs/{job['id']}/candidates").json()
    assert candidates[0]["seeker"]["name"] != "李求职" and candidates[0]["seeker"]["name"].startswith("李")
    application_id = applied.json()["id"]
    assert_error(api_as(recruiter).post(f"/api/v1/job-applications/{application_id}/move", {"status": "interview"}),
                 400, "interview_at_required", "interview_at")
    for body in ({"status": "viewed"},
                 {"status": "interview", "interview_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
                  "interview_place": "南头精密人事部"},
                 {"status": "offer"}, {"status": "hired"}):
        response = api_as(recruiter).post(f"/api/v1/job-applications/{application_id}/move", body)
        assert response.status_code == 200, response.content
    mine = api_as(worker).get("/api/v1/me/job-applications").json()
    assert [e["to_label"] for e in mine[0]["events"]] == ["已投递", "已查看", "邀请面试", "拟录用", "已入职"]


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"salary_min": 9000, "salary_max": 6000}, "salary_min", "salary_reversed"),
    ({"salary_min": 6000, "salary_max": 9_000_000}, "salary_max", "salary_max_absurd"),
    ({"occupation": "0-00-00-00"}, "occupation", "occupation_unknown"),
    ({"division_code": "999999"}, "division_code", "unknown_division"),
])
def test_bad_postings_get_a_chinese_400_naming_the_field(tree, body, field, code):
    staff = staff_on(tree.nanshan, Role.STAFF)
    response = api_as(staff).post("/api/v1/jobs", {"employer_id": tree.nantou_employer.pk, **JOB, **body})
    assert_error(response, 400, code, field)
    assert not JobPosting.objects.exists()


def test_a_posting_for_an_employer_outside_the_subtree_looks_unknown(tree):
    response = api_as(staff_on(tree.futian, Role.STAFF)).post(
        "/api/v1/jobs", {"employer_id": tree.nantou_employer.pk, **JOB})
    assert_error(response, 404, "not_found", "employer_id")
    assert not JobPosting.objects.exists()


def test_the_help_ledger_lists_exports_and_counts_a_placement(tree):
    worker = WorkerFactory(display_name="陈困难")
    submitted = api_as(worker).post("/api/v1/employment/help-requests", {
        "division_code": "440305001", "help_group": "hardship", "needs": "家庭困难，想在南头附近找白班工作。"})
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["union"]["id"] == tree.nantou.pk
    assert_error(api_as(worker).post("/api/v1/employment/help-requests", {
        "division_code": "440305001", "help_group": "hardship", "needs": "再申请一次试试看"}), 409, "help_open")
    staff = staff_on(tree.nantou, Role.STAFF)
    request_id = submitted.json()["id"]
    api = api_as(staff)
    assert api.post(f"/api/v1/employment/help-requests/{request_id}/services",
                    {"kind": "guidance", "note": "职业指导：建议考取保育员证"}).status_code == 200
    closed = api.post(f"/api/v1/employment/help-requests/{request_id}/close", {
        "placed": True, "employer": "深圳市南头幼儿园", "placed_on": timezone.localdate().isoformat(), "salary": 5200})
    assert closed.json()["status"] == "placed", closed.content
    response = api.get("/api/v1/employment/help-requests/export", node=tree.nantou.pk)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "姓名", "帮扶类别"] and rows[1][1] == "陈困难" and rows[1][11] == "深圳市南头幼儿园"
    assert AuditEntry.objects.filter(action="job_help.export", actor=staff).exists()
    stats = api_as(staff_on(tree.nanshan, Role.VIEWER)).get("/api/v1/employment/stats", node=tree.nanshan.pk).json()
    assert (stats["help_total"], stats["help_open"], stats["help_placed"], stats["days_to_placement_avg"]) == \
        (1, 0, 1, 0.0)
    assert HelpRequest.objects.get().placed_salary == 5200


def test_a_fair_is_public_and_its_qr_code_checks_in_once(tree):
    staff = staff_on(tree.nanshan, Role.STAFF)
    now = timezone.now()
    created = api_as(staff).post("/api/v1/job-fairs", {
        "org_id": tree.nanshan.pk, "title": "南山区春风行动招聘会", "division_code": "440305001", "venue": "南头文体中心",
        "starts_at": (now - datetime.timedelta(hours=1)).isoformat(), "ends_at": (now + datetime.timedelta(hours=3)).isoformat()})
    assert created.status_code == 201, created.content
    fair_id = created.json()["id"]
    posting = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data=JOB)
    api_as(staff).post(f"/api/v1/job-fairs/{fair_id}/booths", {"employer_id": tree.nantou_employer.pk,
                                                               "posting_ids": [posting.pk], "booth_no": "A01"})
    public = api_as(None).get(f"/api/v1/job-fairs/{fair_id}").json()
    assert public["booths"][0]["booth_no"] == "A01" and public["booths"][0]["jobs"][0]["id"] == posting.pk
    worker = WorkerFactory(display_name="周参会")
    code = api_as(worker).post(f"/api/v1/job-fairs/{fair_id}/register").json()["code"]
    assert api_as(worker).post(f"/api/v1/job-fairs/{fair_id}/register").json()["code"] == code
    checked = api_as(staff).post(f"/api/v1/job-fairs/{fair_id}/checkin", {"code": code})
    assert checked.status_code == 200 and checked.json()["name"] != "周参会"  # masked at the door
    assert_error(api_as(staff).post(f"/api/v1/job-fairs/{fair_id}/checkin", {"code": code}), 409, "checkin_twice")
    results = api_as(staff).get(f"/api/v1/job-fairs/{fair_id}/results").json()
    assert (results["registered"], results["checked_in"], results["booths"]) == (1, 1, 1)

"""The employment pages on the portal: public search and job pages, the seeker profile, one-tap
apply (double taps, no profile yet), my applications with their steps, employment help, fairs with a
QR code, and the recruiter's side (claim, post, moderation, moving applications on; another person's
posting is a 404). Bad input shows a Chinese message beside the field, never a 500."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.employment import services
from gonghui.employment.models import (
    ApplicationStatus,
    FairRegistration,
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
)
from gonghui.membership.models import Notice
from gonghui.orgs.models import Role
from gonghui.testing.fixtures import WorkerFactory, staff_on, uscc_in

pytestmark = pytest.mark.django_db

JOB = {"title": "快递收派员", "occupation": "4-02-07-08", "division_code": "440305001", "salary_min": 7000,
       "salary_max": 11000, "headcount": 3, "skills": ["电动车驾驶"], "benefits": ["五险一金", "包住"],
       "description": "负责南头片区快件收派，多劳多得。", "contact_name": "王经理", "contact_phone": "13800138111"}


def error_next_to(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(field)}-msg" role="alert">([^<]*)</p>', page)
    assert found, f"no error shown under {field}"
    return found.group(1)


@pytest.fixture
def moderator(tree):
    return staff_on(tree.nanshan, Role.STAFF)


@pytest.fixture
def hr(tree, moderator):
    user = WorkerFactory(display_name="王经理")
    claim = services.recruiter_claim(actor=user, uscc=tree.nantou_employer.uscc, name="王经理", title="人事主管")
    services.recruiter_decide(actor=moderator, recruiter=claim, approve=True)
    return user


@pytest.fixture
def live_job(tree, moderator):
    return services.posting_create(actor=moderator, employer_id=tree.nantou_employer.pk, data=JOB)


def _login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _seeker(user, **changes):
    data = {"occupations": ["4-02-07-08"], "places": ["440305001"], "salary_expected": 8000,
            "skills": ["电动车驾驶"], "education": "junior", "experience_years": 2, "help_group": "jobless",
            "visible_to_employers": True}
    data.update(changes)
    return services.seeker_save(actor=user, data=data)


# --- Search and the job page ----------------------------------------------------------------------


def test_anyone_searches_live_jobs_and_bad_filters_get_a_chinese_message(tree, hr, live_job):
    pending = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk,
                                      data={**JOB, "title": "快递分拣员", "occupation": "4-02-07-08"})
    c = Client()
    page = c.get("/jobs/", {"q": "快递"}).content.decode()
    assert "快递收派员" in page and "7000–11000元/月" in page and "五险一金" in page
    assert "快递分拣员" not in page  # still waiting for moderation
    assert pending.status == PostingStatus.PENDING
    page = c.get("/jobs/", {"q": "快递", "place": ["440000", "440300", "440305"]}).content.decode()
    assert "快递收派员" in page and 'value="440305" selected' in page
    assert "快递收派员" not in c.get("/jobs/", {"q": "快递", "place": ["110000"]}).content.decode()
    assert "快递收派员" not in c.get("/jobs/", {"q": "快递", "salary_min": "12000"}).content.decode()
    response = c.get("/jobs/", {"salary_min": "很多"})
    assert response.status_code == 200 and "最低月薪应为整数" in response.content.decode()
    assert "关键词至少两个字" in c.get("/jobs/", {"q": "快"}).content.decode()
    partial = c.get("/jobs/", {"q": "快递"}, headers={"HX-Request": "true", "HX-Target": "job-results"})
    assert partial.content.decode().lstrip().startswith("<section") and "快递收派员" in partial.content.decode()
    places = c.get("/jobs/places/", {"name": "place", "place": ["440000"]}).content.decode()
    assert "深圳市" in places and 'name="place"' in places


def test_the_job_page_tells_a_worker_why_it_suits_them(tree, live_job):
    c = Client()
    page = c.get(f"/jobs/{live_job.pk}/").content.decode()
    assert "快递收派员" in page and "登录后投递" in page and "为什么适合您" not in page
    assert "138****8111" in page and "13800138111" not in page
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    page = _login(worker).get(f"/jobs/{live_job.pk}/").content.decode()
    assert "为什么适合您" in page and "匹配度" in page and "一键投递" in page
    assert "快递员" in page  # the occupation reason names it


def test_a_posting_not_live_is_not_shown_to_the_public(tree, hr):
    pending = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data=JOB)
    assert Client().get(f"/jobs/{pending.pk}/").status_code == 404
    assert _login(WorkerFactory()).get(f"/jobs/{pending.pk}/").status_code == 404
    assert _login(hr).get(f"/jobs/{pending.pk}/").status_code == 200  # its recruiter may preview it
    assert Client().get("/jobs/999999/").status_code == 404


# --- Profile and applying -------------------------------------------------------------------------


def test_first_apply_goes_through_the_profile_and_a_double_tap_applies_once(tree, hr, live_job):
    worker = WorkerFactory(display_name="李求职")
    c = _login(worker)
    response = c.post(f"/jobs/{live_job.pk}/apply/")
    assert response.status_code == 302 and response["Location"].startswith("/jobs/profile/?next=")
    page = c.get(response["Location"]).content.decode()
    assert f'name="next" value="/jobs/{live_job.pk}/"' in page
    # Build the profile the way the phone does: search an occupation, add it, pick a place, add it, save.
    form = {"name": "李求职", "next": f"/jobs/{live_job.pk}/", "education": "junior", "experience_years": "2",
            "salary_expected": "8000", "skills": "电动车驾驶、智能手机操作", "help_group": "jobless",
            "visible_to_employers": "yes", "status": "active"}
    page = c.post("/jobs/profile/", {**form, "occupation_q": "快递", "action": "occupation_search"}).content.decode()
    assert 'value="4-02-07-08"' in page
    page = c.post("/jobs/profile/", {**form, "occupation_code": "4-02-07-08", "action": "occupation_add"}).content.decode()
    assert 'name="occupations" value="4-02-07-08"' in page
    page = c.post("/jobs/profile/", {**form, "occupations": "4-02-07-08", "action": "save"}).content.decode()
    assert "请至少选择一个想去的地方" in page  # nothing saved yet
    assert not SeekerProfile.objects.filter(user=worker).exists()
    page = c.post("/jobs/profile/", {**form, "occupations": "4-02-07-08",
                                     "wish": ["440000", "440300", "440305", "440305001"],
                                     "action": "place_add"}).content.decode()
    assert 'name="places" value="440305001"' in page
    response = c.post("/jobs/profile/", {**form, "occupations": "4-02-07-08", "places": "440305001", "action": "save"})
    assert response.status_code == 302 and response["Location"] == f"/jobs/{live_job.pk}/"
    profile = SeekerProfile.objects.get(user=worker)
    assert profile.skills == ["电动车驾驶", "智能手机操作"] and profile.help_group == "jobless"
    assert {(w.occupation_id, w.division_id) for w in profile.wishes.all()} == {("4-02-07-08", "440305001")}
    # Apply; a second tap shows the same application.
    first = c.post(f"/jobs/{live_job.pk}/apply/", {"note": "可随时到岗"})
    again = c.post(f"/jobs/{live_job.pk}/apply/", {"note": "可随时到岗"})
    application = JobApplication.objects.get(user=worker)
    assert first["Location"] == again["Location"] == f"/jobs/applications/{application.pk}/"
    assert application.note == "可随时到岗" and application.score > 0.5
    assert Notice.objects.filter(user=hr, title="收到新的求职申请").count() == 1
    page = c.get(f"/jobs/{live_job.pk}/").content.decode()
    assert "您已投递" in page


def test_profile_errors_are_shown_beside_the_field_and_nothing_is_saved(tree):
    worker = WorkerFactory(display_name="李求职")
    c = _login(worker)
    base = {"name": "李求职", "occupations": "4-02-07-08", "places": "440305001", "action": "save",
            "status": "active"}
    page = c.post("/jobs/profile/", {**base, "salary_expected": "八千"}).content.decode()
    assert "期望月薪" in error_next_to(page, "salary_expected")
    page = c.post("/jobs/profile/", {**base, "experience_years": "99"}).content.decode()
    assert "工作年限" in error_next_to(page, "experience_years")
    page = c.post("/jobs/profile/", {**base, "occupations": ""}).content.decode()
    assert "请至少选择一个想做的职业" in page
    assert not SeekerProfile.objects.filter(user=worker).exists()
    page = c.post("/jobs/profile/", {**base, "occupation_q": "不存在的职业名称", "action": "occupation_search"}).content.decode()
    assert "没有找到" in page


def test_my_applications_show_each_step_and_can_be_withdrawn(tree, hr, live_job):
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    application = services.application_submit(actor=worker, posting=live_job)
    services.application_move(actor=hr, application=application, to="interview",
                              interview_at=(timezone.now() + datetime.timedelta(days=1)).isoformat(),
                              interview_place="南头街道工业路1号")
    c = _login(worker)
    page = c.get("/jobs/applications/").content.decode()
    assert "快递收派员" in page and "邀请面试" in page and "南头街道工业路1号" in page
    page = c.get(f"/jobs/applications/{application.pk}/").content.decode()
    assert page.count('class="done"') == 3  # submitted, viewed (passed), interview
    assert "撤回投递" in page
    assert _login(WorkerFactory()).get(f"/jobs/applications/{application.pk}/").status_code == 404
    c.post(f"/jobs/applications/{application.pk}/withdraw/")
    c.post(f"/jobs/applications/{application.pk}/withdraw/")  # a double tap is harmless
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert "您已撤回" in c.get(f"/jobs/applications/{application.pk}/").content.decode()


# --- Employment help and fairs --------------------------------------------------------------------


def test_a_worker_asks_for_help_where_they_want_to_work(tree):
    worker = WorkerFactory(display_name="赵待岗")
    c = _login(worker)
    assert "申请就业帮扶" in c.get("/jobs/help/").content.decode()
    data = {"name": "赵待岗", "help_group": "", "needs": "工厂搬迁后待岗两个月，想找仓管工作。",
            "work": ["440000", "440300", "440305", "440305001"], "action": "submit"}
    page = c.post("/jobs/help/new/", data).content.decode()
    assert "请选择" in error_next_to(page, "help_group")
    page = c.post("/jobs/help/new/", {**data, "help_group": "between_jobs", "needs": "找"}).content.decode()
    assert "需求说明" in error_next_to(page, "needs")
    page = c.post("/jobs/help/new/", {**data, "help_group": "between_jobs", "work": ["440000"]}).content.decode()
    assert "范围太大" in page
    assert not HelpRequest.objects.exists()
    response = c.post("/jobs/help/new/", {**data, "help_group": "between_jobs"})
    request = HelpRequest.objects.get(user=worker)
    assert response["Location"] == f"/jobs/help/{request.pk}/" and request.org_id == tree.nantou.pk
    again = c.post("/jobs/help/new/", {**data, "help_group": "between_jobs"})  # a double submit
    assert again["Location"] == f"/jobs/help/{request.pk}/" and HelpRequest.objects.count() == 1
    page = c.get(f"/jobs/help/{request.pk}/").content.decode()
    assert request.number in page and "待分派" in page
    assert _login(WorkerFactory()).get(f"/jobs/help/{request.pk}/").status_code == 404


def test_fair_registration_shows_a_qr_code_once(tree, live_job, moderator):
    start = timezone.now() + datetime.timedelta(hours=1)  # check-in opens two hours before
    fair = services.fair_create(actor=moderator, org=tree.nanshan, data={
        "title": "南山区春风行动招聘会", "mode": "onsite", "division_code": "440305001", "venue": "南头街道文化广场",
        "starts_at": start.isoformat(), "ends_at": (start + datetime.timedelta(hours=4)).isoformat()})
    services.fair_booth_add(actor=moderator, fair=fair, employer_id=tree.nantou_employer.pk, posting_ids=[live_job.pk],
                            booth_no="A01")
    assert "南山区春风行动招聘会" in Client().get("/jobs/fairs/").content.decode()
    page = Client().get(f"/jobs/fairs/{fair.pk}/").content.decode()
    assert "A01" in page and "快递收派员" in page and "登录后报名" in page
    worker = WorkerFactory()
    c = _login(worker)
    c.post(f"/jobs/fairs/{fair.pk}/register/")
    c.post(f"/jobs/fairs/{fair.pk}/register/")
    registration = FairRegistration.objects.get(fair=fair, user=worker)
    page = c.get(f"/jobs/fairs/{fair.pk}/").content.decode()
    assert registration.code in page and "<svg" in page
    services.fair_checkin(actor=moderator, fair=fair, code=registration.code)
    page = c.get(f"/jobs/fairs/{fair.pk}/").content.decode()
    assert "已于" in page and registration.code not in page
    assert f"?fair={fair.pk}" in page  # applying from the fair counts for its results


# --- The recruiter's side -------------------------------------------------------------------------


def test_a_recruiter_claims_posts_and_the_union_moderates(tree, moderator):
    user = WorkerFactory(display_name="陈人事")
    c = _login(user)
    page = c.get("/jobs/recruit/").content.decode()
    assert "申请招聘方认证" in page
    page = c.post("/jobs/recruit/claim/", {"uscc": "123", "name": "陈人事", "action": "submit"}).content.decode()
    assert "统一社会信用代码" in error_next_to(page, "uscc")
    response = c.post("/jobs/recruit/claim/", {"uscc": tree.futian_employer.uscc, "name": "陈人事", "action": "submit"})
    assert response.status_code == 302
    claim = Recruiter.objects.get(user=user)
    assert claim.status == Recruiter.Status.PENDING
    assert c.get(f"/jobs/recruit/new/?employer={tree.futian_employer.pk}").status_code == 404  # not verified yet
    services.recruiter_decide(actor=staff_on(tree.futian, Role.STAFF), recruiter=claim, approve=True)
    page = c.get("/jobs/recruit/").content.decode()
    assert "发布岗位" in page
    form = {"employer": tree.futian_employer.pk, "title": "商场导购", "occupation_code": "4-01-02-01",
            "work": ["440000", "440300", "440304", "440304004"], "salary_min": "9000", "salary_max": "6000",
            "headcount": "2", "education": "senior", "experience_years": "0", "skills": "普通话", "benefit": ["五险一金"],
            "description": "负责门店商品导购。", "contact_name": "陈人事", "contact_phone": "13800138222",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(), "action": "submit"}
    page = c.post("/jobs/recruit/new/", form).content.decode()
    assert "月薪" in page and "error-summary" in page
    assert not JobPosting.objects.exists()
    form["salary_max"] = "9000000"
    assert "月薪" in c.post("/jobs/recruit/new/", form).content.decode()
    form["salary_max"] = "12000"
    response = c.post("/jobs/recruit/new/", form)
    posting = JobPosting.objects.get()
    assert response["Location"] == f"/jobs/recruit/{posting.pk}/"
    again = c.post("/jobs/recruit/new/", form)  # the double tap lands on the same posting
    assert again["Location"] == f"/jobs/recruit/{posting.pk}/" and JobPosting.objects.count() == 1
    assert posting.status == PostingStatus.PENDING and posting.benefits == ["五险一金"]
    assert "等待" in c.get(f"/jobs/recruit/{posting.pk}/").content.decode()
    # Someone else (another worker, a recruiter of another employer) cannot see or change it.
    other = _login(WorkerFactory())
    assert other.get(f"/jobs/recruit/{posting.pk}/").status_code == 404
    assert other.get(f"/jobs/recruit/{posting.pk}/edit/").status_code == 404
    other.post(f"/jobs/recruit/{posting.pk}/close/")
    posting.refresh_from_db()
    assert posting.status == PostingStatus.PENDING
    services.posting_moderate(actor=staff_on(tree.futian, Role.STAFF), posting=posting, approve=True)
    assert "招聘中" in c.get(f"/jobs/recruit/{posting.pk}/").content.decode()
    # An edit goes back to moderation; the stored phone is kept when the field is left empty.
    edit = {**form, "salary_max": "13000", "contact_phone": ""}
    c.post(f"/jobs/recruit/{posting.pk}/edit/", edit)
    posting.refresh_from_db()
    assert posting.status == PostingStatus.PENDING and posting.salary_max == 13000
    assert posting.phone_masked == "138****8222"


def test_the_recruiter_moves_applications_and_a_hire_places_the_help_request(tree, hr, live_job, moderator):
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    help_request = services.help_request_submit(actor=worker, division_code="440305001", help_group="jobless",
                                                needs="失业三个月，想做快递。")
    application = services.application_submit(actor=worker, posting=live_job)
    c = _login(hr)
    page = c.get(f"/jobs/recruit/{live_job.pk}/").content.decode()
    assert "李求职" in page and "邀请面试" in page
    c.post(f"/jobs/recruit/applications/{application.pk}/move/", {"status": "interview", "interview_at": ""})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert "请填写面试时间" in c.get(f"/jobs/recruit/{live_job.pk}/").content.decode()
    when = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    c.post(f"/jobs/recruit/applications/{application.pk}/move/",
           {"status": "interview", "interview_at": when, "interview_place": "南头街道工业路1号"})
    c.post(f"/jobs/recruit/applications/{application.pk}/move/", {"status": "offer"})
    c.post(f"/jobs/recruit/applications/{application.pk}/move/", {"status": "hired"})
    c.post(f"/jobs/recruit/applications/{application.pk}/move/", {"status": "hired"})  # a double tap
    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.PLACED
    assert help_request.placed_employer == tree.nantou_employer.name
    # Another worker cannot move it (404, nothing changes).
    assert _login(WorkerFactory()).post(f"/jobs/recruit/applications/{application.pk}/move/",
                                        {"status": "declined"}).status_code == 404
    page = _login(worker).get(f"/jobs/help/{help_request.pk}/").content.decode()
    assert "已就业" in page and tree.nantou_employer.name in page


def test_close_and_renew(tree, hr, live_job):
    c = _login(hr)
    c.post(f"/jobs/recruit/{live_job.pk}/close/", {"reason": "已招满"})
    live_job.refresh_from_db()
    assert live_job.status == PostingStatus.CLOSED
    page = c.get(f"/jobs/recruit/{live_job.pk}/").content.decode()
    assert "续期" in page
    far = (timezone.localdate() + datetime.timedelta(days=400)).isoformat()
    c.post(f"/jobs/recruit/{live_job.pk}/renew/", {"expires_on": far})
    assert "最长为180天" in c.get(f"/jobs/recruit/{live_job.pk}/").content.decode()
    soon = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    c.post(f"/jobs/recruit/{live_job.pk}/renew/", {"expires_on": soon})
    live_job.refresh_from_db()
    assert live_job.status == PostingStatus.LIVE and live_job.expires_on.isoformat() == soon


def test_posts_need_the_csrf_token(tree, live_job):
    worker = WorkerFactory(display_name="张三")
    _seeker(worker)
    c = Client(enforce_csrf_checks=True)
    c.force_login(worker)
    assert c.post(f"/jobs/{live_job.pk}/apply/").status_code == 403
    assert not JobApplication.objects.exists()


def test_staff_and_anonymous_users_are_sent_away_from_worker_pages(tree, live_job):
    for url in ("/jobs/profile/", "/jobs/applications/", "/jobs/help/", "/jobs/recruit/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    staff = _login(staff_on(tree.nanshan))
    assert staff.get("/jobs/recruit/")["Location"] == "/"
    assert staff.post(f"/jobs/{live_job.pk}/apply/").status_code == 302
    assert not JobApplication.objects.exists()


def test_a_claim_for_an_unregistered_employer_names_its_place(tree):
    c = _login(WorkerFactory(display_name="周老板"))
    data = {"uscc": uscc_in("440305001"), "name": "周老板", "employer_name": "深圳市新开餐饮有限公司",
            "action": "submit"}
    page = c.post("/jobs/recruit/claim/", data).content.decode()
    assert not Recruiter.objects.exists() and "error-summary" in page
    c.post("/jobs/recruit/claim/", {**data, "work": ["440000", "440300", "440305", "440305001"]})
    claim = Recruiter.objects.get()
    assert claim.employer_id is None and claim.division_id == "440305001" and claim.org_id == tree.nantou.pk


# --- Regressions from a review ----------------------------------------------------------------------


def test_a_staff_takedown_is_not_undone_by_the_recruiters_renewal(tree, hr, moderator):
    posting = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data=JOB)
    services.posting_moderate(actor=moderator, posting=posting, approve=True)
    services.posting_close(actor=moderator, posting=posting, reason="举报收取押金，下架核查")
    soon = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    _login(hr).post(f"/jobs/recruit/{posting.pk}/renew/", {"expires_on": soon})
    posting.refresh_from_db()
    assert posting.status == PostingStatus.PENDING  # back to moderation, not live
    assert Client().get(f"/jobs/{posting.pk}/").status_code == 404
    # A recruiter's own close and renewal keeps the approval (nothing changed in between).
    services.posting_moderate(actor=moderator, posting=posting, approve=True)
    services.posting_close(actor=hr, posting=posting)
    services.posting_renew(actor=hr, posting=posting, expires_on=soon)
    posting.refresh_from_db()
    assert posting.status == PostingStatus.LIVE


def test_an_applicant_does_not_see_an_edit_before_it_is_reviewed(tree, hr, live_job):
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    application = services.application_submit(actor=worker, posting=live_job)
    services.posting_update(actor=hr, posting=live_job, data={"description": "请先交押金500元到微信"})
    c = _login(worker)
    response = c.get(f"/jobs/{live_job.pk}/")
    assert response.status_code == 404 and "押金" not in response.content.decode()
    assert c.get(f"/jobs/applications/{application.pk}/").status_code == 200
    services.posting_close(actor=hr, posting=live_job)
    assert c.get(f"/jobs/{live_job.pk}/").status_code == 200  # closed: the applicant may still read it


def test_nul_bytes_and_foreign_links_never_break_a_page(tree, hr, live_job):
    assert Client().get("/jobs/", {"occupation": "\x00", "q": "快递\x00"}).status_code == 200
    worker = WorkerFactory(display_name="李求职")
    c = _login(worker)
    for data in ({"occupations": "4-02\x00", "action": "save"}, {"places": "44\x00", "action": "save"},
                 {"occupation_code": "\x00", "action": "occupation_add"},
                 {"occupation_q": "\x00", "action": "occupation_search"}):
        assert c.post("/jobs/profile/", {"name": "李求职", **data}).status_code in (200, 400), data
    page = c.get("/jobs/profile/", {"next": "/\\evil.com"}).content.decode()
    assert "evil.com" not in page
    assert 'href="/jobs/1/"' in c.get("/jobs/profile/", {"next": "/jobs/1/"}).content.decode()
    h = _login(hr)
    for data in ({"occupation_code": "\x00"}, {"occupation_q": "\x00", "action": "occupation_search"},
                 {"title": "\x00\x00", "salary_min": "9000", "salary_max": "100"}):
        response = h.post("/jobs/recruit/new/", {"employer": tree.nantou_employer.pk, "action": "submit", **data})
        assert response.status_code in (200, 400), data


def test_double_taps_land_where_the_first_tap_went(tree, hr, live_job):
    h = _login(hr)
    form = {"employer": tree.nantou_employer.pk, "title": "仓库  理货员", "occupation_code": "4-02-06-03",
            "work": ["440000", "440300", "440305", "440305001"], "salary_min": "5000", "salary_max": "7000",
            "headcount": "2", "action": "submit"}
    first, second = h.post("/jobs/recruit/new/", form), h.post("/jobs/recruit/new/", form)
    assert first.status_code == 302 and second["Location"] == first["Location"]
    assert JobPosting.objects.filter(title="仓库 理货员").count() == 1
    c = _login(WorkerFactory(display_name="周老板"))
    claim = {"uscc": tree.futian_employer.uscc, "name": "周老板", "action": "submit"}
    assert c.post("/jobs/recruit/claim/", claim).status_code == 302
    assert c.post("/jobs/recruit/claim/", claim).status_code == 302
    assert Recruiter.objects.filter(uscc=tree.futian_employer.uscc).count() == 1


def test_the_pages_say_what_is_really_open(tree, hr, live_job, moderator):
    # An expired posting not yet swept offers no apply button; a recruiter sees their own as theirs.
    JobPosting.objects.filter(pk=live_job.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    page = _login(hr).get(f"/jobs/{live_job.pk}/").content.decode()
    assert "招聘管理" in page and "一键投递" not in page
    JobPosting.objects.filter(pk=live_job.pk).update(expires_on=timezone.localdate() + datetime.timedelta(days=9))
    # A fair over several days shows both dates; once it has ended nobody is offered to register.
    start = timezone.now() + datetime.timedelta(hours=1)
    fair = services.fair_create(actor=moderator, org=tree.nanshan, data={
        "title": "南山区十日线上招聘周", "mode": "online", "division_code": "440305", "starts_at": start.isoformat(),
        "ends_at": (start + datetime.timedelta(days=10)).isoformat()})
    page = _login(worker).get(f"/jobs/fairs/{fair.pk}/").content.decode()
    end = timezone.localtime(fair.ends_at)
    assert f"{end.month}月{end.day}日" in page and "报名参加" in page
    JobFair.objects.filter(pk=fair.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
    assert "报名参加" not in _login(worker).get(f"/jobs/fairs/{fair.pk}/").content.decode()
    # While a help request is open, the form sends the worker to it.
    request = services.help_request_submit(actor=worker, division_code="440305001", help_group="jobless",
                                           needs="想找快递工作。")
    assert _login(worker).get("/jobs/help/new/")["Location"] == f"/jobs/help/{request.pk}/"


def test_the_recruiter_can_call_the_applicant_and_the_applicant_the_recruiter(tree, hr, live_job):
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker, about="两年同城配送经验")
    application = services.application_submit(actor=worker, posting=live_job)
    page = _login(hr).get(f"/jobs/recruit/{live_job.pk}/").content.decode()
    assert worker.phone in page and "两年同城配送经验" in page
    assert "13800138111" in _login(worker).get(f"/jobs/applications/{application.pk}/").content.decode()
    assert "13800138111" not in Client().get(f"/jobs/{live_job.pk}/").content.decode()


def test_a_worker_withdraws_their_help_request_and_may_ask_again(tree):
    worker = WorkerFactory(display_name="赵待岗")
    staff = staff_on(tree.nantou, Role.STAFF)
    request = services.help_request_submit(actor=worker, division_code="440305001", help_group="between_jobs",
                                           needs="待岗两个月，想找仓管工作。")
    services.help_assign(actor=staff, request=request, staff=staff)
    assert _login(WorkerFactory()).post(f"/jobs/help/{request.pk}/withdraw/").status_code == 404
    c = _login(worker)
    c.post(f"/jobs/help/{request.pk}/withdraw/", {"reason": "已自己找到工作"})
    c.post(f"/jobs/help/{request.pk}/withdraw/", {"reason": "已自己找到工作"})  # a double tap
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.CLOSED and request.close_reason == "本人撤回：已自己找到工作"
    assert Notice.objects.filter(user=staff, title="帮扶对象撤回申请").count() == 1
    assert c.get("/jobs/help/new/").status_code == 200


def test_a_worker_who_withdrew_may_apply_again(tree, hr, live_job):
    worker = WorkerFactory(display_name="李求职")
    _seeker(worker)
    application = services.application_submit(actor=worker, posting=live_job)
    services.application_withdraw(actor=worker, application=application)
    c = _login(worker)
    assert "可以重新投递" in c.get(f"/jobs/{live_job.pk}/").content.decode()
    first = c.post(f"/jobs/{live_job.pk}/apply/", {"note": "想清楚了，还是想去"})
    second = c.post(f"/jobs/{live_job.pk}/apply/", {"note": "想清楚了，还是想去"})
    assert first["Location"] == second["Location"] == f"/jobs/applications/{application.pk}/"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.note == "想清楚了，还是想去"
    assert JobApplication.objects.filter(user=worker).count() == 1
    assert Notice.objects.filter(user=hr, title="求职者重新投递").count() == 1

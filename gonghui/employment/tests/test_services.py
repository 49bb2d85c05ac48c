"""The employment-help cloud's services: recruiters, moderation, postings' life, seekers, search,
matching, applications, help requests and fairs; bad input gets a Chinese error naming the field."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.employment import selectors, services
from gonghui.employment.models import (
    ApplicationStatus,
    HelpRequest,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerWish,
)
from gonghui.membership.models import Notice
from gonghui.orgs.models import Role
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.fixtures import WorkerFactory, staff_on

pytestmark = pytest.mark.django_db

JOB = {"title": "快递收派员", "occupation": "4-02-07-08", "division_code": "440305001", "salary_min": 7000,
       "salary_max": 11000, "headcount": 3, "skills": ["电动车驾驶", "智能手机操作"], "benefits": ["五险一金"],
       "description": "负责南头片区快件收派，多劳多得。", "contact_name": "王经理", "contact_phone": "13800138111"}


@pytest.fixture
def hr(tree):
    """A verified recruiter of the Nantou employer."""
    user = WorkerFactory(display_name="王经理")
    claim = services.recruiter_claim(actor=user, uscc=tree.nantou_employer.uscc, name="王经理", title="人事主管")
    services.recruiter_decide(actor=staff_on(tree.nantou, Role.STAFF), recruiter=claim, approve=True)
    return user


@pytest.fixture
def seeker_user(tree):
    user = WorkerFactory(display_name="李求职")
    services.seeker_save(actor=user, data={
        "occupations": ["4-02-07-08"], "places": ["440305001", "440305"], "salary_expected": 8000,
        "skills": ["电动车驾驶"], "education": "junior", "experience_years": 2, "help_group": "jobless",
        "visible_to_employers": True})
    return user


def test_a_recruiters_posting_waits_for_moderation_and_goes_live(tree, hr):
    posting = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data=JOB)
    assert posting.status == PostingStatus.PENDING and posting.org_path == tree.nantou_union.path
    assert not selectors.job_search(q="快递")
    with pytest.raises(PermissionDenied):  # a sibling county's staff cannot moderate it
        services.posting_moderate(actor=staff_on(tree.futian), posting=posting, approve=True)
    with pytest.raises(ValidationFailed) as err:
        services.posting_moderate(actor=staff_on(tree.nanshan), posting=posting, approve=False)
    assert err.value.field == "reason"
    posting = services.posting_moderate(actor=staff_on(tree.nanshan, Role.STAFF), posting=posting, approve=True)
    assert posting.status == PostingStatus.LIVE and posting.published_at is not None
    assert [p.pk for p in selectors.job_search(q="快递员")] == [posting.pk]
    assert [p.pk for p in selectors.job_search(q="南山 快递", division="440305")] == []  # 南山 is not in the text
    assert [p.pk for p in selectors.job_search(occupation="4-02-07", division="440305")] == [posting.pk]
    assert not selectors.job_search(q="快递", salary_min=12000)
    # The recruiter edits it: reviewed again before it shows.
    posting = services.posting_update(actor=hr, posting=posting, data={"salary_max": 12000})
    assert posting.status == PostingStatus.PENDING
    assert_rollups_match_rebuild(tree.nanshan, tree.nantou_union)


def test_staff_post_for_employers_in_their_subtree_only(tree):
    nanshan = staff_on(tree.nanshan, Role.STAFF)
    posting = services.posting_create(actor=nanshan, employer_id=tree.nantou_employer.pk, data=JOB)
    assert posting.status == PostingStatus.LIVE  # staff are the moderators
    with pytest.raises(NotFound):  # Futian's employer is outside Nanshan: it looks unknown
        services.posting_create(actor=nanshan, employer_id=tree.futian_employer.pk, data=JOB)
    with pytest.raises(NotFound):  # a plain worker
        services.posting_create(actor=WorkerFactory(), employer_id=tree.nantou_employer.pk, data=JOB)
    with pytest.raises(Conflict):  # the same title at the same place again
        services.posting_create(actor=nanshan, employer_id=tree.nantou_employer.pk, data=JOB)


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"salary_min": 12000, "salary_max": 8000}, "salary_min", "salary_reversed"),
    ({"salary_min": 80, "salary_max": 100}, "salary_min", "salary_min_absurd"),
    ({"salary_min": 3000, "salary_max": 90000}, "salary_max", "salary_spread"),
    ({"salary_min": "八千"}, "salary_min", "salary_min_invalid"),
    ({"occupation": "9-99-99-99"}, "occupation", "occupation_unknown"),
    ({"occupation": "4-02"}, "occupation", "occupation_too_broad"),
    ({"division_code": "449999"}, "division_code", "unknown_division"),
    ({"division_code": "440000"}, "division_code", "place_too_broad"),
    ({"title": ""}, "title", "title_required"),
    ({"expires_on": "2020-01-01"}, "expires_on", "expires_on_past"),
    ({"headcount": 0}, "headcount", "headcount_invalid"),
    ({"contact_phone": "12345"}, "contact_phone", "contact_phone_invalid"),
    ({"skills": ["x" * 30]}, "skills", "skills_too_long"),
])
def test_bad_postings_are_refused_by_field_and_write_nothing(tree, change, field, code):
    before = JobPosting.objects.count()
    with pytest.raises(ValidationFailed) as err:
        services.posting_create(actor=staff_on(tree.nanshan, Role.STAFF), employer_id=tree.nantou_employer.pk,
                                data={**JOB, **change})
    assert (err.value.field, err.value.code) == (field, code)
    assert err.value.message and all(ord(c) < 128 for c in err.value.code)
    assert JobPosting.objects.count() == before


def test_postings_expire_on_their_date_and_renew(tree, hr):
    posting = services.posting_create(actor=staff_on(tree.nanshan, Role.STAFF), employer_id=tree.nantou_employer.pk,
                                      data=JOB)
    assert services.postings_expire(today=posting.expires_on) == 0
    assert services.postings_expire(today=posting.expires_on + datetime.timedelta(days=1)) == 1
    posting.refresh_from_db()
    assert posting.status == PostingStatus.EXPIRED
    posting = services.posting_renew(actor=hr, posting=posting,
                                     expires_on=timezone.localdate() + datetime.timedelta(days=20))
    assert posting.status == PostingStatus.LIVE  # moderated before: runs again at once
    assert_rollups_match_rebuild(tree.nantou_union)


def test_a_claim_for_an_unregistered_employer_registers_it_on_verification(tree):
    from gonghui.testing.fixtures import uscc_in

    user = WorkerFactory()
    code = uscc_in("440305007")
    claim = services.recruiter_claim(actor=user, uscc=code, name="赵人事", employer_name="深圳市粤海新开科技有限公司",
                                     division_code="440305007")
    assert claim.employer is None and claim.org == tree.yuehai
    with pytest.raises(Conflict):
        services.recruiter_claim(actor=user, uscc=code, name="赵人事", employer_name="深圳市粤海新开科技有限公司",
                                 division_code="440305007")
    claim = services.recruiter_decide(actor=staff_on(tree.yuehai, Role.STAFF), recruiter=claim, approve=True)
    assert claim.status == Recruiter.Status.VERIFIED and claim.employer.uscc == code
    assert services.can_manage_employer(user, claim.employer) == "recruiter"


def test_a_seekers_wishes_are_occupations_times_places(tree, seeker_user):
    profile = seeker_user.seeker_profile
    assert SeekerWish.objects.filter(seeker=profile, open=True).count() == 2
    with pytest.raises(ValidationFailed) as err:
        services.seeker_save(actor=seeker_user, data={"occupations": [], "places": ["440305"]})
    assert err.value.field == "occupations"
    with pytest.raises(ValidationFailed) as err:
        services.seeker_save(actor=seeker_user, data={"occupations": ["4-02-07-08"], "places": ["99"]})
    assert err.value.field == "places"


def test_recommendations_rank_the_close_job_first_and_say_why(tree, seeker_user):
    staff = staff_on(tree.shenzhen, Role.STAFF)
    near = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data=JOB)
    rider = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data={
        **JOB, "title": "外卖骑手", "occupation": "4-10-08-01", "salary_min": 6000, "salary_max": 9000})
    far = services.posting_create(actor=staff, employer_id=tree.futian_employer.pk, data={
        **JOB, "division_code": "440304004", "salary_min": 5000, "salary_max": 6000})
    cook = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data={
        **JOB, "title": "厨师", "occupation": "4-03-02-01", "skills": ["健康证"]})
    ranked = selectors.recommend_jobs(profile=seeker_user.seeker_profile)
    order = [p.pk for p, _m in ranked]
    assert order[0] == near.pk
    assert order.index(rider.pk) < order.index(far.pk)  # a related job nearby beats the same job across town
    assert cook.pk not in order[:2]
    reasons = dict((p.pk, m.reasons) for p, m in ranked)
    assert "职业对口：快递员" in reasons[near.pk]
    assert any(r.startswith("技能相通：网约配送员") for r in reasons[rider.pk])
    assert any("南头街道" in r for r in reasons[near.pk])
    assert "月薪最高6000元，略低于您期望的8000元" in reasons[far.pk]
    seekers = selectors.recommend_seekers(posting=near)
    assert [s.user_id for s, _m in seekers] == [seeker_user.pk]


def test_one_tap_apply_then_hire_places_the_workers_help_request(tree, hr, seeker_user):
    posting = services.posting_create(actor=staff_on(tree.nanshan, Role.STAFF), employer_id=tree.nantou_employer.pk,
                                      data=JOB)
    request = services.help_request_submit(actor=seeker_user, division_code="440305001", help_group="jobless",
                                           needs="工厂搬迁后失业，想在南山附近找快递或配送工作。")
    assert request.org == tree.nantou and request.number.startswith("JY")
    application = services.application_submit(actor=seeker_user, posting=posting)
    assert application.score > 0.7
    with pytest.raises(Conflict):
        services.application_submit(actor=seeker_user, posting=posting)
    with pytest.raises(NotFound):  # a stranger cannot move it
        services.application_move(actor=WorkerFactory(), application=application, to="viewed")
    for step in ("viewed", "interview", "offer", "hired"):
        extra = {"interview_at": (timezone.now() + datetime.timedelta(days=1)).isoformat()} if step == "interview" else {}
        application = services.application_move(actor=hr, application=application, to=step, **extra)
    assert application.status == ApplicationStatus.HIRED
    assert [e.to_status for e in application.events.all()] == ["submitted", "viewed", "interview", "offer", "hired"]
    with pytest.raises(Conflict):
        services.application_move(actor=hr, application=application, to="declined")
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.PLACED
    assert request.placed_employer == tree.nantou_employer.name and request.placed_posting == posting
    ledger = list(selectors.help_ledger(actor=staff_on(tree.nanshan, Role.VIEWER)))
    assert [r.pk for r in ledger] == [request.pk]
    assert not selectors.help_ledger(actor=staff_on(tree.futian, Role.VIEWER)).exists()
    assert_rollups_match_rebuild(tree.nanshan, tree.nantou_union, tree.nantou)


def test_help_requests_are_logged_and_closed_by_the_receiving_union(tree):
    worker = WorkerFactory(display_name="陈困难")
    request = services.help_request_submit(actor=worker, division_code="440305007", help_group="hardship",
                                           needs="家庭困难，需要离家近、时间短的工作。")
    with pytest.raises(Conflict):
        services.help_request_submit(actor=worker, division_code="440305007", help_group="hardship",
                                     needs="再提交一次")
    staff = staff_on(tree.yuehai, Role.STAFF)
    with pytest.raises(PermissionDenied):
        services.help_service_log(actor=staff_on(tree.nantou, Role.STAFF), request=request, kind="guidance",
                                  note="职业指导")
    services.help_service_log(actor=staff, request=request, kind="guidance", note="职业指导一次，建议考取保育员证")
    services.help_service_log(actor=staff, request=request, kind="training", note="推荐参加区总工会保育员培训班")
    with pytest.raises(ValidationFailed) as err:
        services.help_close(actor=staff, request=request, placed=True, employer="某幼儿园")
    assert err.value.field == "placed_on"
    request = services.help_close(actor=staff, request=request, placed=True, employer="深圳市粤海幼儿园",
                                  placed_on=timezone.localdate().isoformat(), salary=4800)
    assert request.status == HelpRequest.Status.PLACED and request.services.count() == 2
    assert_rollups_match_rebuild(tree.yuehai, tree.nanshan)


def test_a_fair_registers_once_checks_in_once_and_counts_results(tree, hr, seeker_user):
    staff = staff_on(tree.nanshan, Role.STAFF)
    now = timezone.now()
    fair = services.fair_create(actor=staff, org=tree.nanshan, data={
        "title": "南山区春风行动专场招聘会", "division_code": "440305001", "venue": "南头街道文体中心",
        "starts_at": (now - datetime.timedelta(hours=1)).isoformat(), "ends_at": (now + datetime.timedelta(hours=5)).isoformat()})
    posting = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data=JOB)
    services.fair_booth_add(actor=hr, fair=fair, employer_id=tree.nantou_employer.pk, posting_ids=[posting.pk],
                            booth_no="A01")
    first = services.fair_register(actor=seeker_user, fair=fair)
    assert services.fair_register(actor=seeker_user, fair=fair).code == first.code
    with pytest.raises(ValidationFailed):
        services.fair_checkin(actor=staff, fair=fair, code="forged-code")
    services.fair_checkin(actor=staff, fair=fair, code=first.code)
    with pytest.raises(Conflict):
        services.fair_checkin(actor=staff, fair=fair, code=first.code)
    application = services.application_submit(actor=seeker_user, posting=posting, fair=fair)
    services.application_move(actor=hr, application=application, to="interview",
                              interview_at=(now + datetime.timedelta(hours=2)).isoformat())
    assert selectors.fair_results(fair) == {"booths": 1, "postings": 1, "registered": 1, "checked_in": 1,
                                            "applications": 1, "interviews": 1, "offers": 0, "hires": 0}


def test_a_rejected_or_edited_posting_never_goes_live_by_renewal(tree, hr):
    staff = staff_on(tree.nanshan, Role.STAFF)
    rejected = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data=JOB)
    services.posting_moderate(actor=staff, posting=rejected, approve=False, reason="联系电话不实")
    rejected.refresh_from_db()
    rejected = services.posting_close(actor=hr, posting=rejected)
    later = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    assert services.posting_renew(actor=hr, posting=rejected, expires_on=later).status == PostingStatus.PENDING
    approved = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data={**JOB, "title": "分拣员"})
    approved = services.posting_moderate(actor=staff, posting=approved, approve=True)
    edited = services.posting_update(actor=hr, posting=approved, data={"description": "未经审核的新内容"})
    closed = services.posting_close(actor=hr, posting=edited)
    assert services.posting_renew(actor=hr, posting=closed, expires_on=later).status == PostingStatus.PENDING
    assert_rollups_match_rebuild(tree.nantou_union)


def test_a_claim_for_an_employer_registered_elsewhere_meanwhile_is_not_bound_by_an_outsider(tree):
    from gonghui.orgs.services import employer_create
    from gonghui.testing.fixtures import uscc_in

    code = uscc_in("440305007")
    claim = services.recruiter_claim(actor=WorkerFactory(), uscc=code, name="赵人事", employer_name="深圳市某新公司",
                                     division_code="440305007")  # routed to 粤海街道
    employer_create(actor=tree.root_admin, org=tree.futian_street, name="深圳市某新公司", uscc=code,
                    division_code="440304004")  # meanwhile registered under 福田
    with pytest.raises(Conflict) as err:
        services.recruiter_decide(actor=staff_on(tree.yuehai, Role.STAFF), recruiter=claim, approve=True)
    assert err.value.code == "employer_elsewhere"
    claim.refresh_from_db()
    assert claim.status == Recruiter.Status.PENDING and claim.employer is None


def test_postings_follow_their_employer_to_its_new_union(tree, hr):
    from gonghui.orgs.services import employer_update

    posting = services.posting_create(actor=hr, employer_id=tree.nantou_employer.pk, data=JOB)
    seeker = WorkerFactory(display_name="刘求职")
    services.seeker_save(actor=seeker, data={"occupations": ["4-02-07-08"], "places": ["440305"]})
    employer_update(actor=tree.root_admin, employer=tree.nantou_employer, data={"org_id": tree.nantou.pk})
    posting.refresh_from_db()
    assert posting.org == tree.nantou and posting.org_path == tree.nantou.path
    with pytest.raises(PermissionDenied):  # the union it left no longer moderates it
        services.posting_moderate(actor=staff_on(tree.nantou_union, Role.STAFF), posting=posting, approve=True)
    services.posting_moderate(actor=staff_on(tree.nantou, Role.STAFF), posting=posting, approve=True)
    assert_rollups_match_rebuild(tree.nantou_union, tree.nantou, tree.nanshan)


def test_fair_and_self_hire_abuse_and_a_not_placed_close_with_junk(tree, hr, seeker_user):
    staff = staff_on(tree.nanshan, Role.STAFF)
    posting = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data=JOB)
    now = timezone.now()
    fair = services.fair_create(actor=staff, org=tree.nanshan, data={
        "title": "南山区另一场招聘会", "division_code": "440305001", "venue": "南头街道文体中心",
        "starts_at": now.isoformat(), "ends_at": (now + datetime.timedelta(hours=3)).isoformat()})
    with pytest.raises(ValidationFailed) as err:  # the posting has no booth at this fair
        services.application_submit(actor=seeker_user, posting=posting, fair=fair)
    assert err.value.field == "fair_id"
    with pytest.raises(ValidationFailed) as err:
        services.fair_create(actor=staff, org=tree.nanshan, data={
            "title": "日期写错的招聘会", "division_code": "440305001", "venue": "某地", "starts_at": "下周一",
            "ends_at": "2026-12-01T12:00"})
    assert err.value.field == "starts_at"
    # A recruiter who is also a seeker cannot hire themselves.
    services.seeker_save(actor=hr, data={"occupations": ["4-02-07-08"], "places": ["440305"]})
    other = services.posting_create(actor=staff_on(tree.futian, Role.STAFF), employer_id=tree.futian_employer.pk,
                                    data={**JOB, "division_code": "440304004"})
    application = services.application_submit(actor=hr, posting=other)
    services.recruiter_decide(actor=staff_on(tree.futian_street, Role.STAFF), recruiter=services.recruiter_claim(
        actor=hr, uscc=tree.futian_employer.uscc, name="王经理"), approve=True)
    with pytest.raises(PermissionDenied):
        services.application_move(actor=hr, application=application, to="hired")
    request = services.help_request_submit(actor=WorkerFactory(display_name="孙回乡"), division_code="440305001",
                                           help_group="jobless", needs="想找南头附近的工作。")
    closed = services.help_close(actor=staff, request=request, placed=False, reason="本人已回老家",
                                 placed_on="2026-01-01", salary="abc", employer="乱填的单位")
    assert (closed.status, closed.placed_on, closed.placed_salary, closed.placed_employer) == ("closed", None, None, "")


def test_fairs_and_claims_refuse_steps_out_of_order_and_junk_ids(tree, hr, seeker_user):
    staff = staff_on(tree.nanshan, Role.STAFF)
    posting = services.posting_create(actor=staff, employer_id=tree.nantou_employer.pk, data=JOB)
    now = timezone.now()
    fair = services.fair_create(actor=staff, org=tree.nanshan, data={
        "title": "南山区夜间招聘会", "division_code": "440305001", "venue": "南头街道文体中心",
        "starts_at": now.isoformat(), "ends_at": (now + datetime.timedelta(hours=3)).isoformat()})
    with pytest.raises(ValidationFailed) as err:  # a junk id names the field instead of a 500
        services.fair_booth_add(actor=staff, fair=fair, employer_id=tree.nantou_employer.pk, posting_ids=["abc"])
    assert err.value.field == "posting_ids"
    services.fair_booth_add(actor=staff, fair=fair, employer_id=tree.nantou_employer.pk, posting_ids=[str(posting.pk)])
    registration = services.fair_register(actor=seeker_user, fair=fair)
    services.fair_cancel(actor=staff, fair=fair, reason="场地临时检修")
    with pytest.raises(Conflict):  # cancelled twice: nobody is notified again
        services.fair_cancel(actor=staff, fair=fair, reason="场地临时检修")
    assert Notice.objects.filter(user=seeker_user, title="招聘会取消").count() == 1
    with pytest.raises(Conflict):  # no check-in at a cancelled fair
        services.fair_checkin(actor=staff, fair=fair, code=registration.code)
    # Applying "at" a fair that has ended is refused (its results count what happened there).
    past = services.fair_create(actor=staff, org=tree.nanshan, data={
        "title": "南山区上午场", "division_code": "440305001", "venue": "南头街道文体中心",
        "starts_at": now.isoformat(), "ends_at": (now + datetime.timedelta(hours=1)).isoformat()})
    services.fair_booth_add(actor=staff, fair=past, employer_id=tree.nantou_employer.pk, posting_ids=[posting.pk])
    JobFair.objects.filter(pk=past.pk).update(ends_at=now - datetime.timedelta(minutes=1))
    past.refresh_from_db()
    with pytest.raises(ValidationFailed) as err:
        services.application_submit(actor=seeker_user, posting=posting, fair=past)
    assert err.value.code == "fair_ended"
    request = services.help_request_submit(actor=seeker_user, division_code="440305001", help_group="jobless",
                                           needs="想找南头附近的快递工作。")
    with pytest.raises(ValidationFailed) as err:
        services.help_service_log(actor=staff, request=request, kind="referral", note="推荐岗位", posting_id="abc")
    assert err.value.field == "posting_id"
    # Only a verified recruiter is revoked; a rejected claim keeps its reason.
    claim = services.recruiter_claim(actor=WorkerFactory(display_name="钱先生"), uscc=tree.nantou_employer.uscc,
                                     name="钱先生")
    services.recruiter_decide(actor=staff, recruiter=claim, approve=False, reason="非本单位员工")
    with pytest.raises(Conflict):
        services.recruiter_revoke(actor=staff, recruiter=claim, reason="清理")
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == (Recruiter.Status.REJECTED, "非本单位员工")

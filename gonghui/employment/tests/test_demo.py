"""The demo layer (`make demo`) builds the employment-help cloud through the real services: recruiters
verified and waiting, postings in every state over the last weeks, seekers in the help groups,
applications at every step, the district unions' help ledger, an upcoming and a past fair, phone
logins that show all of it, and totals kept by the services that equal a recount.

seed_demo takes most of twenty seconds, so the module seeds once, inside a transaction left open for
the module and rolled back at its end (as world.py's world_once does); each test runs in a savepoint."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core import pii
from gonghui.employment import selectors
from gonghui.employment.demo import MAIN_WORKER_PHONE, RECRUITER_PHONE
from gonghui.employment.models import (
    ApplicationStatus,
    FairRegistration,
    HelpGroup,
    HelpRequest,
    HelpService,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
)
from gonghui.orgs.models import Occupation, OrgKind, OrgUnit
from gonghui.orgs.tests.world import assert_rollups_match_rebuild

pytestmark = pytest.mark.django_db

EMPLOYMENT_METRICS = ("jobs.", "seekers.", "help.", "applications.total", "applications.hired")


def employment_rollups() -> dict:
    """Every node's non-zero employment totals (the incremental ones until a rebuild replaces them)."""
    from gonghui.analytics.rollups import rollup_values

    out = {}
    for org_id, values in rollup_values(OrgUnit.objects.values_list("id", flat=True)).items():
        mine = {m: v for m, v in values.items() if v and m.startswith(EMPLOYMENT_METRICS)}
        if mine:
            out[org_id] = mine
    return out


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """seed_demo once; the employment totals the services kept are read just before seed_demo's
    closing rebuild, so that the test can compare them with the recount."""
    from gonghui.orgs import demo as demo_module

    incremental: dict = {}
    rebuild = demo_module.rollup_rebuild

    def read_then_rebuild():
        incremental.update(employment_rollups())
        rebuild()

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as Django's TestCase marks its own: durable blocks nest inside it
        outer.__enter__()
        try:
            with mock.patch.object(demo_module, "rollup_rebuild", read_then_rebuild):
                logins = demo_module.seed_demo()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield SimpleNamespace(logins=logins, incremental=incremental)
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def by_phone(phone: str) -> User:
    return User.objects.get(phone_hash=pii.lookup_hash("phone", phone))


def staff(username: str) -> User:
    return User.objects.get(username=username)


def test_the_printed_logins_include_a_job_seeker_and_a_recruiter_by_phone(demo):
    printed = {login.username: login for login in demo.logins}
    assert {"demo-nanshan", "demo-futian", MAIN_WORKER_PHONE, RECRUITER_PHONE} <= set(printed)
    assert by_phone(MAIN_WORKER_PHONE).username == "demo-worker-001"
    recruiter = by_phone(RECRUITER_PHONE)
    assert recruiter.kind == User.Kind.WORKER and not recruiter.has_usable_password()
    assert Recruiter.objects.get(user=recruiter, status=Recruiter.Status.VERIFIED).employer.name in \
        printed[RECRUITER_PHONE].org


def test_recruiters_and_postings_in_every_state(demo):
    recruiters = Recruiter.objects.select_related("employer")
    verified = recruiters.filter(status=Recruiter.Status.VERIFIED)
    assert 3 <= verified.count() <= 4
    assert all(r.employer.division_id[:6] in ("440305", "440304") for r in verified)
    pending = recruiters.get(status=Recruiter.Status.PENDING)
    assert pending.org_path.startswith(staff("demo-nanshan").home_org.path)
    assert [r.pk for r in selectors.recruiters_for_staff(actor=staff("demo-nanshan"), status="pending")] == [pending.pk]
    assert not selectors.recruiters_for_staff(actor=staff("demo-futian"), status="pending").exists()

    postings = JobPosting.objects.all()
    assert 38 <= postings.count() <= 45
    statuses = dict((s, postings.filter(status=s).count()) for s in PostingStatus.values)
    assert statuses[PostingStatus.LIVE] >= 30 and 3 <= statuses[PostingStatus.PENDING] <= 4
    assert statuses[PostingStatus.REJECTED] == 1 and statuses[PostingStatus.CLOSED] == 1
    assert "歧视" in postings.get(status=PostingStatus.REJECTED).reject_reason
    codes = set(postings.values_list("occupation_id", flat=True))
    assert len(codes) >= 25 and set(Occupation.objects.filter(code__in=codes, level=4).values_list("code", flat=True)) \
        == codes
    assert {"4-02-07-08", "4-10-08-01", "6-31-01-03", "6-18-02-04", "4-10-01-03", "4-10-01-06", "4-04-05-03",
            "4-02-06-01", "6-30-05-01", "4-02-02-01", "4-04-05-02"} <= codes
    assert all(p.division_id.startswith(("440305", "440304")) and len(p.division_id) == 9 for p in postings)
    assert all(4500 <= p.salary_min <= p.salary_max <= 15000 and p.skills and p.benefits for p in postings)
    live = postings.filter(status=PostingStatus.LIVE)
    assert all(p.expires_on > timezone.localdate() and p.approved for p in live)
    # Moderated by the district unions (recruiters' postings) or posted by union staff themselves.
    moderators = set(live.values_list("moderated_by__username", flat=True))
    assert moderators <= {"demo-nanshan", "demo-futian", "demo-shenzhen"}
    assert live.filter(moderated_by__username__in=["demo-nanshan", "demo-futian"]).count() >= 30
    published = sorted(live.values_list("published_at", flat=True))
    assert published[-1] - published[0] > datetime.timedelta(days=21) and published[-1] <= timezone.now()
    # Posted, then published (a staff posting is published as it is made: the same moment, give or take).
    assert all(p.created_at <= p.published_at + datetime.timedelta(seconds=1) for p in live)


def test_seekers_applications_and_help_requests(demo):
    seekers = SeekerProfile.objects.all()
    assert 9 <= seekers.count() <= 12
    groups = set(seekers.values_list("help_group", flat=True))
    assert {HelpGroup.JOBLESS, HelpGroup.MIGRANT, HelpGroup.GRADUATE, HelpGroup.FLEXIBLE, HelpGroup.HARDSHIP} <= groups
    assert all(s.wishes.exists() for s in seekers)

    applications = JobApplication.objects.all()
    assert 15 <= applications.count() <= 20
    assert set(applications.values_list("status", flat=True)) == set(ApplicationStatus.values)
    for application in applications.filter(status=ApplicationStatus.INTERVIEW):
        assert application.interview_at is not None and application.interview_place
    assert all(a.hired_at is not None for a in applications.filter(status=ApplicationStatus.HIRED))
    assert all(a.events.count() >= 1 for a in applications)

    helps = HelpRequest.objects.select_related("org")
    assert 5 <= helps.count() <= 6
    assert {h.org.kind for h in helps} == {OrgKind.COUNTY}  # the district unions
    assert set(helps.values_list("status", flat=True)) == set(HelpRequest.Status.values)
    assert helps.filter(status=HelpRequest.Status.OPEN).exists()
    kinds = set(HelpService.objects.filter(request__status=HelpRequest.Status.ASSIGNED).values_list("kind", flat=True))
    assert {"policy", "guidance", "referral", "training"} <= kinds
    referral = HelpService.objects.filter(kind="referral").exclude(posting=None).first()
    assert referral is not None
    placed = helps.get(status=HelpRequest.Status.PLACED)
    assert placed.placed_employer and placed.placed_on and placed.placed_salary
    assert helps.get(status=HelpRequest.Status.CLOSED).close_reason
    ledger = selectors.help_ledger(actor=staff("demo-nanshan"))
    assert ledger.count() >= 3 and not ledger.filter(org__division_id="440304").exists()


def test_an_upcoming_fair_in_nanshan_and_a_past_online_fair_with_results(demo):
    now = timezone.now()
    onsite = JobFair.objects.get(mode=JobFair.Mode.ONSITE)
    assert onsite.starts_at > now and onsite.division_id.startswith("440305") and onsite.venue
    booth_postings = JobPosting.objects.filter(booths__fair=onsite)
    assert onsite.booths.count() >= 3 and booth_postings.exists()
    assert set(booth_postings.values_list("status", flat=True)) == {PostingStatus.LIVE}
    assert onsite.registrations.count() >= 3
    assert onsite in selectors.fairs_visible(province="44")

    online = JobFair.objects.get(mode=JobFair.Mode.ONLINE)
    assert online.ends_at < now
    results = selectors.fair_results(online)
    assert results["booths"] >= 2 and results["applications"] >= 3 and results["hires"] >= 1
    assert results["checked_in"] == 1
    assert FairRegistration.objects.filter(checked_in_at__isnull=False).count() == 1
    assert all(online.starts_at <= a.created_at <= online.ends_at for a in online.applications.all())


def test_the_demo_worker_sees_a_profile_applications_help_and_recommendations(demo):
    worker = by_phone(MAIN_WORKER_PHONE)
    profile = worker.seeker_profile
    assert profile.status == SeekerProfile.Status.ACTIVE and profile.wishes.exists()
    mine = selectors.my_applications(actor=worker)
    assert mine.count() >= 3 and len({a.status for a in mine}) >= 3
    assert mine.filter(status=ApplicationStatus.INTERVIEW, interview_at__gt=timezone.now()).exists()
    assert HelpRequest.objects.filter(user=worker, status__in=["open", "assigned"]).exists()
    assert FairRegistration.objects.filter(user=worker, fair__starts_at__gt=timezone.now()).exists()
    recommended = selectors.recommend_jobs(profile=profile, limit=5)
    assert len(recommended) == 5
    assert all(match.reasons and posting.status == PostingStatus.LIVE for posting, match in recommended)
    assert recommended[0][1].score >= 0.7


def test_the_recruiter_login_has_postings_and_applicants(demo):
    recruiter = by_phone(RECRUITER_PHONE)
    postings = selectors.postings_for_recruiter(actor=recruiter)
    assert {PostingStatus.LIVE, PostingStatus.PENDING, PostingStatus.REJECTED, PostingStatus.CLOSED} <= \
        set(postings.values_list("status", flat=True))
    applicants = JobApplication.objects.filter(posting__in=postings)
    assert len(set(applicants.values_list("status", flat=True))) >= 4
    live = postings.filter(status=PostingStatus.LIVE, applications__isnull=False).first()
    assert selectors.applications_for_posting(actor=recruiter, posting=live).exists()


def test_search_finds_couriers_near_a_nanshan_street(demo):
    found = selectors.job_search(q="快递", near="440305001")
    assert found and all(p.status == PostingStatus.LIVE for p in found)
    assert "快递" in found[0].title and found[0].division_id == "440305001"  # the street's own first
    assert selectors.job_search(occupation="4-10-08-01", division="440304")


def test_the_services_totals_equal_a_recount(demo):
    assert demo.incremental  # read before seed_demo's closing rebuild
    assert demo.incremental == employment_rollups()
    nanshan = OrgUnit.objects.get(division_id="440305", kind=OrgKind.COUNTY)
    futian = OrgUnit.objects.get(division_id="440304", kind=OrgKind.COUNTY)
    assert_rollups_match_rebuild(OrgUnit.objects.get(kind=OrgKind.NATIONAL), nanshan, futian)

"""Console employment-help pages (就业帮扶) as a union's staff use them: who may open what, moderating
postings, verifying recruiters, the help ledger from assignment to placement (and its CSV), a job fair's
check-in desk and the numbers."""

from __future__ import annotations

import csv
import datetime
import io
import re
import secrets

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.core.models import AuditEntry
from gonghui.employment import services
from gonghui.employment.models import (
    FairBooth,
    FairRegistration,
    HelpRequest,
    HelpService,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
)
from gonghui.orgs.models import Role
from gonghui.orgs.tests import world as cast
from gonghui.testing.fixtures import WorkerFactory, api_as, staff_on

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)
world_once, world = cast.world_once, cast.world  # the world's fixtures (gonghui/orgs/tests/world.py)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token() -> str:
    return secrets.token_urlsafe(18)


def text(response) -> str:
    return response.content.decode()


def post(client, url: str, headers=None, **data):
    return client.post(url, {"form_token": token(), **data}, headers=headers)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def node_pages(org) -> list[str]:
    n = org.pk
    postings = reverse("console:jobs_postings", args=[n])
    help_url = reverse("console:jobs_help", args=[n])
    return [
        postings, postings + "?status=live", postings + "?status=all", postings + "?status=bogus",
        reverse("console:jobs_recruiters", args=[n]), reverse("console:jobs_recruiters", args=[n]) + "?status=all",
        help_url, help_url + "?status=open&group=hardship", help_url + "?status=placed",
        reverse("console:jobs_fairs", args=[n]), reverse("console:jobs_stats", args=[n]),
    ]


def exports(org) -> list[str]:
    return [reverse("console:jobs_help_export", args=[org.pk]), reverse("console:jobs_stats_export", args=[org.pk])]


def object_pages(w) -> list[str]:
    return [
        reverse("console:jobs_posting", args=[w.pending_job.pk]),
        reverse("console:jobs_posting", args=[w.live_job.pk]),
        reverse("console:jobs_posting", args=[w.closed_job.pk]),
        reverse("console:jobs_help_request", args=[w.help_request.pk]),
        reverse("console:jobs_fair", args=[w.fair.pk]),
    ]


# --- Access -------------------------------------------------------------------------------------------


def test_every_page_renders_for_an_ancestors_staff(world):
    """The city's admin opens the county's pages and every object below it."""
    client = client_for(world.shenzhen_admin)
    for url in node_pages(world.tree.nanshan) + node_pages(world.tree.shenzhen) + object_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不存在或无权访问" not in text(response), url
    for url in exports(world.tree.nanshan):
        assert client.get(url).status_code == 200, url
    home = client.get(reverse("console:jobs_home"))
    assert home.status_code == 302 and home.url == reverse("console:jobs_postings", args=[world.tree.shenzhen.pk])


def test_the_console_header_links_to_the_employment_pages(world):
    page = text(client_for(world.nantou_staff).get(reverse("console:home"), follow=True))
    header = page.split('<main class="content">')[0]
    assert reverse("console:jobs_home") in header and "就业帮扶" in header


def test_a_sibling_countys_admin_gets_404_for_every_page_and_changes_nothing(world):
    client = client_for(world.futian_admin)
    before = (AuditEntry.objects.count(), reload(world.pending_job).status, reload(world.recruiter_claim).status,
              reload(world.help_request).status, FairRegistration.objects.filter(checked_in_at__isnull=False).count())
    for url in node_pages(world.tree.nanshan) + object_pages(world) + exports(world.tree.nanshan):
        response = client.get(url)
        assert response.status_code == 404, url
        if not url.endswith("/export/"):
            assert "不存在或无权访问" in text(response), url
    posts = [
        (reverse("console:jobs_posting", args=[world.pending_job.pk]), {"action": "approve"}),
        (reverse("console:jobs_posting", args=[world.live_job.pk]), {"action": "close"}),
        (reverse("console:jobs_recruiters", args=[world.tree.futian.pk]),
         {"action": "verify", "recruiter_id": world.recruiter_claim.pk}),
        (reverse("console:jobs_recruiters", args=[world.tree.nanshan.pk]),
         {"action": "verify", "recruiter_id": world.recruiter_claim.pk}),
        (reverse("console:jobs_help_request", args=[world.help_request.pk]),
         {"action": "assign", "staff_id": world.futian_admin.pk}),
        (reverse("console:jobs_fair", args=[world.fair.pk]), {"action": "cancel", "reason": "场地临时不能使用"}),
        (reverse("console:jobs_fair_checkin", args=[world.fair.pk]), {"code": world.fair_registration.code}),
        (reverse("console:jobs_fairs", args=[world.tree.nanshan.pk]), {"title": "福田冒名招聘会"}),
        (reverse("console:jobs_help_reveal", args=[world.help_request.pk]), {}),
    ]
    for url, data in posts:
        assert post(client, url, **data).status_code == 404, url
    after = (AuditEntry.objects.count(), reload(world.pending_job).status, reload(world.recruiter_claim).status,
             reload(world.help_request).status, FairRegistration.objects.filter(checked_in_at__isnull=False).count())
    assert after == before


def test_a_sibling_sees_nothing_of_another_subtree_in_its_own_lists(world):
    client = client_for(world.futian_admin)
    f = world.tree.futian.pk
    assert client.get(reverse("console:jobs_postings", args=[f]) + "?status=all").context["rows"] == []
    assert client.get(reverse("console:jobs_recruiters", args=[f]) + "?status=all").context["rows"] == []
    assert client.get(reverse("console:jobs_help", args=[f])).context["rows"] == []
    assert client.get(reverse("console:jobs_fairs", args=[f])).context["rows"] == []
    assert len(csv_rows(client.get(reverse("console:jobs_help_export", args=[f])))) == 1  # the header only
    stats = client.get(reverse("console:jobs_stats", args=[f])).context
    assert stats["numbers"]["jobs_live"] == 0 and stats["numbers"]["help_total"] == 0


def test_workers_and_anonymous_visitors_are_refused(world):
    for user in (world.worker, world.recruiter_user, world.help_worker):
        client = client_for(user)
        for url in node_pages(world.tree.nanshan)[:1] + object_pages(world):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "工作台仅限工会工作人员" in text(response)
        assert post(client, reverse("console:jobs_posting", args=[world.pending_job.pk]),
                    action="approve").status_code == 403
    anonymous = Client()
    for url in [reverse("console:jobs_home"), *object_pages(world), *exports(world.tree.nanshan)]:
        response = anonymous.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("console:login")), url
    assert reload(world.pending_job).status == PostingStatus.PENDING


def test_unknown_and_malformed_ids_are_404(world):
    client = client_for(world.nanshan_admin)
    for url in ["/console/jobs/postings/abc/", "/console/jobs/postings/99999999999999999999/",
                "/console/jobs/postings/-1/", "/console/jobs/help/x/", "/console/jobs/help/999999999/",
                "/console/jobs/fairs/0/", "/console/jobs/fairs/abc/checkin/", "/console/jobs/orgs/abc/help/",
                "/console/jobs/orgs/999999999/stats/export/"]:
        method = client.post if url.endswith("/checkin/") else client.get
        assert method(url, {"form_token": token()}).status_code == 404, url
    tampered = client.get(reverse("console:jobs_help", args=[world.tree.nanshan.pk]) + "?cursor=bogus")
    assert tampered.status_code == 400 and "翻页参数无效" in text(tampered)


def test_posts_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.nanshan_admin)
    assert post(client, reverse("console:jobs_posting", args=[world.pending_job.pk]),
                action="approve").status_code == 403
    assert post(client, reverse("console:jobs_fair_checkin", args=[world.fair.pk]),
                code=world.fair_registration.code).status_code == 403
    assert reload(world.pending_job).status == PostingStatus.PENDING
    assert reload(world.fair_registration).checked_in_at is None


def test_a_viewer_reads_but_cannot_act(world):
    viewer = client_for(staff_on(world.tree.nanshan, Role.VIEWER))
    page = text(viewer.get(reverse("console:jobs_posting", args=[world.pending_job.pk])))
    assert "审核通过并发布" not in page and "只对单位所属工会的工作人员显示" in page
    refused = post(viewer, reverse("console:jobs_posting", args=[world.pending_job.pk]), action="approve")
    assert refused.status_code == 400 and "没有审核该岗位的权限" in text(refused)
    assert reload(world.pending_job).status == PostingStatus.PENDING
    assert "您的角色为查看员" in text(viewer.get(reverse("console:jobs_help_request", args=[world.help_request.pk])))


# --- Postings -----------------------------------------------------------------------------------------


def test_the_queue_lists_pending_postings_and_a_moderator_rejects_with_a_reason_and_approves(world):
    client = client_for(world.nantou_staff)
    queue = client.get(reverse("console:jobs_postings", args=[world.tree.nantou.pk]))
    assert [p.pk for p in queue.context["rows"]] == [world.pending_job.pk]
    url = reverse("console:jobs_posting", args=[world.pending_job.pk])
    page = text(client.get(url))
    assert "审核通过并发布" in page and world.pending_job.title in page

    missing = post(client, url, action="reject", reason="")
    assert missing.status_code == 400
    assert re.search(r'has-error">\s*<label for="reject-reason">', text(missing))
    assert '<p class="error" id="reject-reason-error">请填写未通过原因</p>' in text(missing)
    assert reload(world.pending_job).status == PostingStatus.PENDING
    done = post(client, url, action="reject", reason="岗位描述过于简单，请写明工作时间和地点")
    assert done.status_code == 302 and done.url == url
    rejected = reload(world.pending_job)
    assert (rejected.status, rejected.reject_reason) == (PostingStatus.REJECTED, "岗位描述过于简单，请写明工作时间和地点")
    assert "审核不通过岗位" in text(client.get(url))  # the history
    again = post(client, url, action="approve")
    assert again.status_code == 400 and "无需审核" in text(again)

    second = services.posting_create(actor=world.recruiter_user, employer_id=world.tree.nantou_employer.pk, data={
        "title": "仓储理货员", "occupation": "4-02-06-01", "division_code": "440305001", "salary_min": 5000,
        "salary_max": 6500})
    approved = post(client, reverse("console:jobs_posting", args=[second.pk]), action="approve")
    assert approved.status_code == 302 and reload(second).status == PostingStatus.LIVE
    assert AuditEntry.objects.filter(action="job.approve", object_id=str(second.pk)).count() == 1
    assert client.get(reverse("console:jobs_postings", args=[world.tree.nantou.pk])).context["rows"] == []


def test_a_live_posting_shows_masked_candidates_with_reasons_and_its_applications(world):
    page = text(client_for(world.nantou_staff).get(reverse("console:jobs_posting", args=[world.live_job.pk])))
    assert "李求职" not in page
    candidates = page.split("推荐的求职者")[1].split("收到的申请")[0]
    assert "李**" in candidates and "同在" in candidates  # a place reason from matching
    applications = page.split("收到的申请")[1]
    assert "李**" in applications and "已投递" in applications
    # Pending postings get no candidates (seekers are shown for jobs really open).
    pending = text(client_for(world.nantou_staff).get(reverse("console:jobs_posting", args=[world.pending_job.pk])))
    assert "正在招聘时才推荐求职者" in pending


def test_closing_a_live_posting(world):
    client = client_for(world.nantou_staff)
    response = post(client, reverse("console:jobs_posting", args=[world.live_job.pk]), action="close",
                    reason="已招满")
    assert response.status_code == 302 and reload(world.live_job).status == PostingStatus.CLOSED


# --- Recruiters ---------------------------------------------------------------------------------------


def test_recruiter_claims_are_verified_rejected_with_a_reason_and_revoked(world):
    client = client_for(world.nanshan_admin)
    url = reverse("console:jobs_recruiters", args=[world.tree.nanshan.pk])
    listing = client.get(url)
    assert [r.pk for r in listing.context["rows"]] == [world.recruiter_claim.pk]
    assert "赵申请" in text(listing) and world.tree.nantou_employer.name in text(listing)
    assert post(client, url, action="verify", recruiter_id=world.recruiter_claim.pk).status_code == 302
    assert reload(world.recruiter_claim).status == Recruiter.Status.VERIFIED

    other = services.recruiter_claim(actor=WorkerFactory(display_name="钱冒充"), uscc=world.tree.nantou_employer.uscc,
                                     name="钱冒充")
    missing = post(client, url, action="reject", recruiter_id=other.pk, reason="")
    assert missing.status_code == 400 and "请填写说明" in text(missing)
    assert reload(other).status == Recruiter.Status.PENDING
    assert post(client, url, action="reject", recruiter_id=other.pk,
                reason="经与单位人事部门核实，无此员工").status_code == 302
    assert (reload(other).status, reload(other).reason) == (Recruiter.Status.REJECTED, "经与单位人事部门核实，无此员工")
    twice = post(client, url, action="verify", recruiter_id=other.pk)
    assert twice.status_code == 400 and "该申请已处理" in text(twice)

    verified = Recruiter.objects.get(user=world.recruiter_user)
    assert post(client, url, action="revoke", recruiter_id=verified.pk, reason="已离职").status_code == 302
    assert reload(verified).status == Recruiter.Status.REVOKED
    assert [r.pk for r in client.get(url + "?status=revoked").context["rows"]] == [verified.pk]


# --- Help ledger --------------------------------------------------------------------------------------


def test_a_help_request_from_assignment_to_placement_in_the_ledger_and_its_csv(world):
    client = client_for(world.nanshan_admin)
    request = world.help_request
    url = reverse("console:jobs_help_request", args=[request.pk])
    page = text(client.get(url))
    assert "陈**" in page and "陈帮扶" not in page and world.help_worker.phone not in page
    assert world.help_worker.phone_masked in page

    wrong = post(client, url, action="assign", staff_id=world.futian_admin.pk)
    assert wrong.status_code == 400 and "请选择受理工会的工作人员" in text(wrong)
    assert post(client, url, action="assign", staff_id=world.nantou_staff.pk).status_code == 302
    assert reload(request).assigned_to == world.nantou_staff and reload(request).status == HelpRequest.Status.ASSIGNED

    bad_posting = post(client, url, action="service", kind="referral", note="推荐快递分拣岗位", posting_id="abc")
    assert bad_posting.status_code == 400 and "岗位编号应为数字" in text(bad_posting)
    no_note = post(client, url, action="service", kind="referral", note="")
    assert no_note.status_code == 400 and "请填写服务内容" in text(no_note)
    for kind, note, posting in [("policy", "讲解就业困难人员社保补贴政策", ""),
                                ("referral", "推荐快递分拣员岗位", world.live_job.pk)]:
        assert post(client, url, action="service", kind=kind, note=note, posting_id=posting).status_code == 302
    assert list(HelpService.objects.filter(request=request).values_list("kind", flat=True)) == ["policy", "referral"]

    no_reason = post(client, url, action="not_placed", reason="")
    assert no_reason.status_code == 400 and "请填写结束原因" in text(no_reason)
    no_date = post(client, url, action="placed", employer="深圳市南头精密制造有限公司", salary="6000")
    assert no_date.status_code == 400 and "请填写就业日期" in text(no_date)
    today = timezone.localdate().isoformat()
    placed = post(client, url, action="placed", employer="深圳市南头精密制造有限公司", placed_on=today, salary="6000",
                  posting_id=world.live_job.pk)
    assert placed.status_code == 302
    request = reload(request)
    assert (request.status, request.placed_employer, request.placed_salary) == (
        HelpRequest.Status.PLACED, "深圳市南头精密制造有限公司", 6000)
    assert 'id="act-service"' not in text(client.get(url))  # closed: nothing more to log

    ledger = client.get(reverse("console:jobs_help", args=[world.tree.nanshan.pk]) + "?status=placed")
    assert [h.pk for h in ledger.context["rows"]] == [request.pk]
    assert "深圳市南头精密制造有限公司" in text(ledger) and "陈**" in text(ledger)

    elsewhere = services.help_request_submit(actor=WorkerFactory(display_name="孙福田"), division_code="440304004",
                                             help_group="jobless", needs="失业三个月，希望在福田找仓库工作。")
    rows = csv_rows(client_for(world.shenzhen_admin).get(reverse("console:jobs_help_export",
                                                                 args=[world.tree.nanshan.pk])))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["编号", "姓名", "帮扶类别"]
    assert [r[0] for r in body] == [request.number]  # the Futian request is not in Nanshan's ledger
    row = dict(zip(header, body[0], strict=True))
    assert (row["状态"], row["就业单位"], row["月薪（元）"], row["服务次数"], row["就业日期"]) == (
        "已就业", "深圳市南头精密制造有限公司", "6000", "2", today)
    assert "岗位推荐：推荐快递分拣员岗位" in row["服务记录"]
    assert AuditEntry.objects.filter(action="job_help.export", org=world.tree.nanshan).count() == 1
    futian = csv_rows(client_for(world.futian_admin).get(reverse("console:jobs_help_export",
                                                                 args=[world.tree.futian.pk])))
    assert [r[0] for r in futian[1:]] == [elsewhere.number]
    filtered = csv_rows(client.get(reverse("console:jobs_help_export", args=[world.tree.nanshan.pk]) + "?status=open"))
    assert len(filtered) == 1


def test_the_ledger_filters_by_group_and_pages_with_an_htmx_more_row(world):
    for i in range(31):
        services.help_request_submit(actor=WorkerFactory(display_name=f"周{i}号"), division_code="440305007",
                                     help_group="graduate", needs="应届毕业生，想在粤海街道找软件测试工作。")
    client = client_for(world.nanshan_admin)
    url = reverse("console:jobs_help", args=[world.tree.nanshan.pk])
    first = client.get(url + "?group=graduate")
    assert len(first.context["rows"]) == 30 and {h.help_group for h in first.context["rows"]} == {"graduate"}
    more = first.context["more_url"]
    assert "cursor=" in more and "group=graduate" in more and more in text(first).replace("&amp;", "&")
    rest = client.get(more, HTTP_HX_REQUEST="true")
    assert "<html" not in text(rest) and len(rest.context["rows"]) == 1
    seen = {h.pk for h in first.context["rows"]} | {h.pk for h in rest.context["rows"]}
    assert len(seen) == 31
    assert [h.pk for h in client.get(url + "?group=hardship").context["rows"]] == [world.help_request.pk]


# --- Job fairs ----------------------------------------------------------------------------------------


def test_creating_a_fair_shows_errors_next_to_the_fields(world):
    client = client_for(world.nanshan_admin)
    url = reverse("console:jobs_fairs", args=[world.tree.nanshan.pk])
    assert world.fair.title in text(client.get(url))
    bad = post(client, url, title="", division_code="440305001", starts_at="2030-05-01T09:00",
               ends_at="2030-05-01T16:00")
    assert bad.status_code == 400
    assert re.search(r'<p class="error" id="id_title_error">请填写招聘会名称</p>', text(bad))
    outside = post(client, url, title="南山区春风行动专场招聘会", division_code="440304004", venue="福田体育馆",
                   starts_at="2030-05-01T09:00", ends_at="2030-05-01T16:00")
    assert outside.status_code == 400 and "举办地应在南山区范围内" in text(outside)
    good = post(client, url, title="南山区春风行动专场招聘会", division_code="440305001", venue="南头街道文体中心",
                starts_at="2030-05-01T09:00", ends_at="2030-05-01T16:00", capacity="300")
    fair = JobFair.objects.get(title="南山区春风行动专场招聘会")
    assert good.status_code == 302 and good.url == reverse("console:jobs_fair", args=[fair.pk])
    assert (fair.org, fair.capacity, fair.venue) == (world.tree.nanshan, 300, "南头街道文体中心")


def test_fair_check_in_with_a_valid_a_reused_and_a_wrong_code(world):
    client = client_for(world.nanshan_admin)
    fair_url = reverse("console:jobs_fair", args=[world.fair.pk])
    url = reverse("console:jobs_fair_checkin", args=[world.fair.pk])
    page = text(client.get(fair_url))
    assert 'id="checkin-code"' in page and world.fair_registration.code not in page

    ok = post(client, url, code=world.fair_registration.code)
    assert ok.status_code == 302 and ok.url == fair_url
    assert "签到成功：李**" in text(client.get(fair_url))
    assert reload(world.fair_registration).checked_in_by == world.nanshan_admin
    reused = post(client, url, code=world.fair_registration.code)
    assert reused.status_code == 400 and re.search(r'id="checkin-error" role="alert">已于\d\d:\d\d签到', text(reused))
    wrong = post(client, url, code="not-a-real-code")
    assert wrong.status_code == 400 and "签到码无效或不是本场招聘会的报名" in text(wrong)
    # At the desk with a scanner: htmx swaps the box in place (200, so that htmx shows the answer).
    other = WorkerFactory(display_name="吴签到")
    registration = services.fair_register(actor=other, fair=world.fair)
    swapped = post(client, url, code=f"  {registration.code} ", headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and "<html" not in text(swapped) and "签到成功：<strong>吴**</strong>" in text(swapped)
    # The count and the recent list beside the box follow (out-of-band swaps).
    assert 'id="fair-checked-in" hx-swap-oob="true">2</p>' in text(swapped)
    assert re.search(r'id="fair-checked" hx-swap-oob="true">.*吴\*\*.*李\*\*', text(swapped), re.S)
    again = post(client, url, code=registration.code, headers={"HX-Request": "true"})
    assert again.status_code == 200 and "签到" in text(again) and 'class="error"' in text(again)
    results = client.get(fair_url).context["results"]
    assert (results["registered"], results["checked_in"]) == (2, 2)


def test_fair_booths_and_cancelling(world):
    client = client_for(world.nanshan_admin)
    url = reverse("console:jobs_fair", args=[world.fair.pk])
    wrong = post(client, url, action="booth", employer_id=world.tree.nantou_employer.pk,
                 posting_ids=[world.closed_job.pk])
    assert wrong.status_code == 400 and "只能带正在招聘的岗位参会" in text(wrong)
    foreign = post(client, url, action="booth", employer_id=world.tree.futian_employer.pk)
    assert foreign.status_code == 400 and "请选择参会单位" in text(foreign)
    added = post(client, url, action="booth", employer_id=world.tree.nantou_employer.pk,
                 posting_ids=[world.live_job.pk], booth_no="A01")
    assert added.status_code == 302
    booth = FairBooth.objects.get(fair=world.fair)
    assert (booth.booth_no, list(booth.postings.values_list("pk", flat=True))) == ("A01", [world.live_job.pk])
    assert "A01 · " + world.tree.nantou_employer.name in text(client.get(url))
    missing = post(client, url, action="cancel", reason="")
    assert missing.status_code == 400 and "请填写取消原因" in text(missing)
    assert post(client, url, action="cancel", reason="台风预警，场馆关闭").status_code == 302
    assert reload(world.fair).status == JobFair.Status.CANCELLED
    assert 'id="checkin-code"' not in text(client.get(url))


# --- Numbers ------------------------------------------------------------------------------------------


def _expected(org) -> dict:
    """What the services produced, counted from the rows of the node's subtree."""
    postings = JobPosting.objects.filter(org_path__startswith=org.path)
    live = postings.filter(status=PostingStatus.LIVE)
    helps = HelpRequest.objects.filter(org_path__startswith=org.path)
    seekers = SeekerProfile.objects.filter(org_path__startswith=org.path, status="active")
    placed = list(helps.filter(status=HelpRequest.Status.PLACED))
    days = [(h.placed_on - timezone.localtime(h.created_at).date()).days for h in placed]
    return {"jobs_live": live.count(), "openings_live": sum(p.headcount for p in live),
            "jobs_pending": postings.filter(status=PostingStatus.PENDING).count(), "seekers": seekers.count(),
            "jobless": seekers.filter(help_group="jobless").count(),
            "applications": sum(p.applications.count() for p in postings), "help_total": helps.count(),
            "help_open": helps.filter(status__in=["open", "assigned"]).count(), "help_placed": len(placed),
            "days_avg": round(sum(days) / len(days), 1) if days else None}


def test_the_numbers_page_and_its_csv_equal_what_the_services_produced(world):
    staff = client_for(world.nanshan_admin)
    today = timezone.localdate()
    services.help_close(actor=world.nanshan_admin, request=world.help_request, placed=True,
                        employer="深圳市南头精密制造有限公司", placed_on=today.isoformat(), salary=6000)
    services.posting_moderate(actor=world.nanshan_admin, posting=world.pending_job, approve=True)
    nanshan = world.tree.nanshan
    expected = _expected(nanshan)
    assert (expected["jobs_live"], expected["openings_live"], expected["help_placed"]) == (2, 4, 1)
    numbers = staff.get(reverse("console:jobs_stats", args=[nanshan.pk])).context["numbers"]
    shown = {key: numbers[key] for key in expected if key != "jobless"}
    shown["jobless"] = dict(numbers["by_group"])["失业人员"]
    assert shown == expected
    children = staff.get(reverse("console:jobs_stats", args=[nanshan.pk])).context["children"]
    nantou = next(row for row in children if row["org"] == world.tree.nantou)
    assert (nantou["jobs_live"], nantou["help_placed"]) == (2, 1)

    rows = csv_rows(staff.get(reverse("console:jobs_stats_export", args=[nanshan.pk])))
    header = rows[0]
    by_org = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    mine = by_org[nanshan.name]
    assert (int(mine["在招岗位"]), int(mine["在招人数"]), int(mine["待审核岗位"]), int(mine["求职者"]),
            int(mine["求职者：失业人员"]), int(mine["投递"]), int(mine["帮扶申请"]), int(mine["帮扶中"]),
            int(mine["帮扶已就业"])) == (
        expected["jobs_live"], expected["openings_live"], expected["jobs_pending"], expected["seekers"],
        expected["jobless"], expected["applications"], expected["help_total"], expected["help_open"],
        expected["help_placed"])
    assert float(mine["平均就业天数"]) == expected["days_avg"]
    assert int(by_org[world.tree.nantou.name]["在招岗位"]) == 2
    assert world.tree.futian.name not in by_org
    assert AuditEntry.objects.filter(action="job.stats_export", org=nanshan).count() == 1
    # The API's figures (the same rollups) agree.
    api = api_as(world.nanshan_admin).get("/api/v1/employment/stats", node=nanshan.pk).json()
    assert (api["jobs_live"], api["help_placed"], api["days_to_placement_avg"]) == (
        expected["jobs_live"], expected["help_placed"], expected["days_avg"])


def test_a_grant_on_the_node_alone_sees_no_subtree_totals(world):
    alone = client_for(staff_on(world.tree.nanshan, Role.STAFF, include_descendants=False))
    response = alone.get(reverse("console:jobs_stats", args=[world.tree.nanshan.pk]))
    assert response.status_code == 200 and response.context["numbers"] is None
    assert "不显示统计数字" in text(response)
    assert len(csv_rows(alone.get(reverse("console:jobs_stats_export", args=[world.tree.nanshan.pk])))) == 1


def test_days_are_counted_from_the_request_to_the_placement(world):
    """An older request placed today: its days reach the average."""
    HelpRequest.objects.filter(pk=world.help_request.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10))
    services.help_close(actor=world.nanshan_admin, request=reload(world.help_request), placed=True,
                        employer="深圳市南头精密制造有限公司", placed_on=timezone.localdate().isoformat())
    numbers = client_for(world.nanshan_admin).get(
        reverse("console:jobs_stats", args=[world.tree.nanshan.pk])).context["numbers"]
    assert numbers["days_avg"] == 10.0


def test_bad_input_gets_a_chinese_message_on_the_page_never_a_500(world):
    client = client_for(world.nanshan_admin)
    help_url = reverse("console:jobs_help_request", args=[world.help_request.pk])
    fair_url = reverse("console:jobs_fair", args=[world.fair.pk])
    cases = [
        (help_url, {"action": "service", "kind": "massage", "note": "上门按摩服务"}, "服务类型“massage”不在可选范围内"),
        (help_url, {"action": "service", "kind": "policy", "note": "讲解政策", "served_on": "2099-01-01"},
         "服务日期不能晚于今天"),
        (help_url, {"action": "service", "kind": "referral", "note": "推荐岗位", "posting_id": "99999999999999999999"},
         "推荐的岗位不存在或已停止招聘"),
        (help_url, {"action": "service", "kind": "policy", "note": "讲" * 501}, "服务内容不能超过500个字"),
        (help_url, {"action": "placed", "employer": "某公司", "placed_on": "明天", "salary": "6000"}, "就业日期格式应为"),
        (help_url, {"action": "placed", "employer": "某某公司", "placed_on": timezone.localdate().isoformat(),
                    "salary": "六千"}, "月薪（元）应为整数"),
        (help_url, {"action": "placed", "employer": "某某公司", "placed_on": timezone.localdate().isoformat(),
                    "posting_id": "x1"}, "所选岗位不存在"),
        (help_url, {"action": "teleport"}, "请选择要办理的事项"),
        (fair_url, {"action": "booth", "employer_id": "abc"}, "请选择参会单位"),
        (fair_url, {"action": "booth", "employer_id": world.tree.nantou_employer.pk, "posting_ids": ["1x"]},
         "所选岗位不属于该单位"),
        (reverse("console:jobs_fairs", args=[world.tree.nanshan.pk]),
         {"title": "南山区招聘会", "division_code": "440305001", "venue": "文体中心", "starts_at": "下周一",
          "ends_at": "2030-05-01T16:00"}, "开始时间格式应为"),
        (reverse("console:jobs_fairs", args=[world.tree.nanshan.pk]),
         {"title": "南山区招聘会", "division_code": "440305001", "venue": "文体中心", "starts_at": "2030-05-01T09:00",
          "ends_at": "2030-05-01T16:00", "capacity": "-5"}, "人数上限应在1至1000000之间"),
        (reverse("console:jobs_posting", args=[world.pending_job.pk]), {"action": "reject", "reason": "差" * 301},
         "未通过原因不能超过300个字"),
    ]
    before = (HelpService.objects.count(), reload(world.help_request).status, JobFair.objects.count())
    for url, data, message in cases:
        response = post(client, url, **data)
        assert response.status_code == 400, (url, data)
        assert message in text(response), (url, data)
    assert (HelpService.objects.count(), reload(world.help_request).status, JobFair.objects.count()) == before
    # A viewer cannot create fairs (the form is not shown to them) nor check in at the desk.
    viewer = client_for(staff_on(world.tree.nanshan, Role.VIEWER))
    assert post(viewer, reverse("console:jobs_fairs", args=[world.tree.nanshan.pk]), title="查看员的招聘会").status_code == 403
    refused = post(viewer, reverse("console:jobs_fair_checkin", args=[world.fair.pk]), code=world.fair_registration.code)
    assert refused.status_code == 400 and "没有为该招聘会签到的权限" in text(refused)
    assert reload(world.fair_registration).checked_in_at is None


def test_staff_reveal_the_applicants_name_and_phone_with_an_audit_entry(world):
    url = reverse("console:jobs_help_reveal", args=[world.help_request.pk])
    page = text(client_for(world.nanshan_admin).get(reverse("console:jobs_help_request", args=[world.help_request.pk])))
    assert "显示完整姓名和手机号" in page and world.help_worker.phone not in page
    before = AuditEntry.objects.filter(action="job_help.reveal").count()
    shown = post(client_for(world.nanshan_admin), url, headers={"HX-Request": "true"})
    assert shown.status_code == 200 and world.help_worker.phone in text(shown) and "陈帮扶" in text(shown)
    assert "no-store" in shown["Cache-Control"]
    plain = post(client_for(world.nanshan_admin), url)  # without JS: the page with them shown
    assert plain.status_code == 200 and world.help_worker.phone in text(plain) and "办理" in text(plain)
    assert AuditEntry.objects.filter(action="job_help.reveal").count() == before + 2
    # A viewer reads the page but may not reveal; a worker is refused.
    viewer = staff_on(world.tree.nanshan, Role.VIEWER)
    refused = post(client_for(viewer), url, headers={"HX-Request": "true"})
    assert world.help_worker.phone not in text(refused) and "工作人员" in text(refused)
    assert client_for(world.help_worker).post(url).status_code in (302, 403)
    assert AuditEntry.objects.filter(action="job_help.reveal").count() == before + 2


def test_a_viewers_ledger_csv_masks_the_names(world):
    url = reverse("console:jobs_help_export", args=[world.tree.nanshan.pk])
    viewer = csv_rows(client_for(staff_on(world.tree.nanshan, Role.VIEWER)).get(url))
    staff = csv_rows(client_for(world.nanshan_admin).get(url))
    number = world.help_request.number
    assert [r[1] for r in viewer if r[0] == number] == ["陈**"]
    assert [r[1] for r in staff if r[0] == number] == ["陈帮扶"]

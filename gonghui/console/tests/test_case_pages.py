"""Console case pages (诉求办理) as union staff use them: the board, one case and its actions, the
private attachments, protected identities and the 12351 hotline desk."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.casedesk import services
from gonghui.casedesk.models import Case, CaseEvent, CaseStatus
from gonghui.casedesk.tests.helpers import desk, file_case, upload
from gonghui.console import case_views
from gonghui.core.models import AuditEntry
from gonghui.membership import services as membership_services
from gonghui.membership.tests.helpers import join
from gonghui.testing.fixtures import WorkerFactory

pytestmark = pytest.mark.django_db
Action = CaseEvent.Action
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token() -> str:
    return secrets.token_urlsafe(18)


def text(response) -> str:
    return response.content.decode()


def audited(action: str, **filters) -> int:
    return AuditEntry.objects.filter(action=action, **filters).count()


def detail(case) -> str:
    return reverse("console:case_detail", args=[case.pk])


def board(org) -> str:
    return reverse("console:case_board", args=[org.pk])


def act(client, case, action: str, **data):
    return client.post(detail(case), {"form_token": token(), "action": action, **data})


def reload(case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def world(tree):
    """The desk people of casedesk.tests.helpers, a case at the Nantou company union (with a photo), a
    case at Nanshan itself, and one at Futian."""
    w = tree
    w.d = desk(tree)
    w.case = file_case(w.d.worker, tree.nantou_employer, attachments=[upload()])
    w.attachment = w.case.attachments.get()
    w.county_case = file_case(WorkerFactory(display_name="王五"), division_code="440305",
                              description="区里的物业公司拖欠保安工资两个月，找不到负责人。")
    w.futian_case = file_case(WorkerFactory(display_name="赵六"), tree.futian_employer)
    return w


def accepted(w, case=None, by=None):
    return services.case_accept(actor=by or w.d.county, case=case or w.case)


def resolved(w, case=None):
    case = accepted(w, case)
    return services.case_resolve(actor=w.d.county, case=case, result="已协调公司补发工资。", money_recovered="3000")


# --- Access -------------------------------------------------------------------------------------------


def test_every_page_renders_for_a_handler(world):
    client = client_for(world.d.county)
    n = world.nanshan.pk
    pages = [board(world.nanshan)] + [f"{board(world.nanshan)}?status={s}" for s in CaseStatus.values] + [
        f"{board(world.nanshan)}?overdue=1", f"{board(world.nanshan)}?supervising=1&status=in_progress",
        f"{board(world.nanshan)}?category=wage_arrears", f"{board(world.nanshan)}?category=wages",
        board(world.nantou_union), detail(world.case), detail(world.county_case),
        reverse("console:case_hotline"), reverse("console:case_dispatch_targets", args=[world.county_case.pk]),
        reverse("console:case_hotline_places") + "?place=440000&place=440300",
        reverse("console:case_hotline_employers") + "?employer_q=南头精密",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不存在或无权访问" not in text(response), url
    response = client.get(reverse("console:case_attachment", args=[world.case.pk, world.attachment.pk]))
    assert response.status_code == 200
    response = client.get(reverse("console:case_home") + "?overdue=1")
    assert response.status_code == 302 and response["Location"] == f"/console/cases/orgs/{n}/?overdue=1"


def test_the_nav_links_case_holders_to_their_board_and_nobody_else(world):
    page = text(client_for(world.d.county).get(reverse("console:home"), follow=True))
    assert f'href="{board(world.nanshan)}">诉求办理</a>' in page
    page = text(client_for(world.d.city_admin).get(reverse("console:home"), follow=True))
    assert "深圳市总工会" in page and ">诉求办理</a>" not in page


def test_a_sibling_countys_handler_gets_404_on_case_board_and_attachment(world):
    client = client_for(world.d.futian)
    for url in [
        detail(world.case),
        board(world.nanshan),
        reverse("console:case_attachment", args=[world.case.pk, world.attachment.pk]),
        reverse("console:case_reveal", args=[world.case.pk]),
        reverse("console:case_dispatch_targets", args=[world.case.pk]),
    ]:
        response = client.get(url) if "reveal" not in url else client.post(url)
        assert response.status_code == 404, url
        assert world.case.number not in text(response)
    # Their own case is theirs; a post to a case outside their scope changes nothing.
    assert client.get(detail(world.futian_case)).status_code == 200
    assert act(client, world.case, "accept").status_code == 404
    assert reload(world.case).status == CaseStatus.PENDING
    assert audited("case.attachment_view") == 0


def test_an_admin_without_a_case_role_is_refused(world):
    client = client_for(world.d.city_admin)
    response = client.get(board(world.shenzhen))
    assert response.status_code == 403 and "诉求办理权限" in text(response)
    assert world.case.number not in text(response)
    assert client.get(reverse("console:case_hotline")).status_code == 403
    assert client.get(reverse("console:case_home")).status_code == 403
    assert client.get(detail(world.case)).status_code == 404
    assert client.post(reverse("console:case_hotline_caller"), {"phone": world.d.worker.phone}).status_code == 403
    assert act(client, world.case, "accept").status_code == 404
    assert reload(world.case).status == CaseStatus.PENDING


def test_unknown_ids_are_the_consoles_404(world):
    client = client_for(world.d.county)
    assert client.get("/console/cases/999999999/").status_code == 404
    assert client.get(reverse("console:case_attachment", args=[world.case.pk, 999999])).status_code == 404
    assert client.get(reverse("console:case_attachment", args=[world.case.pk, "abc"])).status_code == 404
    other = file_case(WorkerFactory(display_name="孙八"), world.nantou_employer, attachments=[upload(PNG, "b.png", "image/png")])
    # Another case's attachment under this case's URL.
    response = client.get(reverse("console:case_attachment", args=[world.case.pk, other.attachments.get().pk]))
    assert response.status_code == 404
    assert client.get("/console/cases/orgs/abc/").status_code == 404


def test_posts_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.d.county)
    assert act(client, world.case, "accept").status_code == 403
    assert reload(world.case).status == CaseStatus.PENDING


# --- Board --------------------------------------------------------------------------------------------


def test_the_board_lists_a_status_soonest_deadline_first_with_filters(world):
    client = client_for(world.d.agent)
    second = file_case(WorkerFactory(display_name="孙八"), world.nantou_employer, category="dismissal",
                       description="公司突然口头通知我明天不用来上班了，没有任何补偿。")
    page = text(client.get(board(world.shenzhen)))
    numbers = re.findall(r"<code>(WQ\d+)</code>", page)
    assert numbers[:4] == [world.case.number, world.county_case.number, world.futian_case.number, second.number]
    assert "李*" in page and "李四" not in page  # lists show masked names
    page = text(client.get(board(world.shenzhen) + "?category=dismissal"))
    assert second.number in page and world.case.number not in page
    page = text(client.get(board(world.shenzhen) + "?category=wages"))  # a whole group
    assert world.case.number in page and second.number not in page
    accepted(world)
    page = text(client.get(board(world.shenzhen) + "?status=in_progress"))
    assert world.case.number in page and second.number not in page
    # The county's board holds its subtree only.
    page = text(client_for(world.d.county).get(board(world.nanshan)))
    assert world.county_case.number in page and world.futian_case.number not in page


def test_overdue_cases_are_highlighted_filtered_and_on_the_parents_督办_list(world):
    services.deadline_sweep(now=world.case.accept_due_at + (world.case.accept_due_at - world.case.created_at))
    client = client_for(world.d.county)
    page = text(client.get(board(world.nanshan)))
    assert "row-late" in page and "已逾期" in page
    page = text(client.get(board(world.nanshan) + "?overdue=1"))
    assert world.case.number in page and world.county_case.number in page
    # The Nantou union's case is escalated to the Nantou street union; Nanshan's own case to Shenzhen.
    page = text(client.get(board(world.nantou) + "?supervising=1"))
    assert world.case.number in page and world.county_case.number not in page
    page = text(client_for(world.d.agent).get(board(world.shenzhen) + "?supervising=1"))
    assert world.county_case.number in page and world.case.number not in page


def test_a_case_near_its_deadline_is_marked(world):
    Case.objects.filter(pk=world.case.pk).update(accept_warn_at=world.case.created_at)
    page = text(client_for(world.d.county).get(board(world.nanshan)))
    assert "row-warn" in page and "临期" in page


def test_the_board_pages_with_a_keyset_cursor(world, monkeypatch):
    monkeypatch.setattr(case_views, "PAGE", 1)
    client = client_for(world.d.county)
    page = text(client.get(board(world.nanshan)))
    assert world.case.number in page and world.county_case.number not in page
    more = re.search(r'href="([^"]+cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    response = client.get(more, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    rows = text(response)
    assert "<html" not in rows and world.county_case.number in rows and world.case.number not in rows
    assert "加载更多" not in rows
    # A tampered cursor is a clear message, not a crash.
    response = client.get(board(world.nanshan) + "?cursor=abc")
    assert response.status_code == 400 and "翻页参数无效" in text(response)


def test_a_cursor_from_a_finished_status_does_not_break_a_deadline_list(world, monkeypatch):
    monkeypatch.setattr(case_views, "PAGE", 1)
    client = client_for(world.d.county)
    for case in (world.case, world.county_case):
        resolved(world, case)
    page = text(client.get(board(world.nanshan) + "?status=resolved"))
    cursor = re.search(r"cursor=([^\"&]+)", page).group(1)
    response = client.get(board(world.nanshan) + f"?status=pending&cursor={cursor}")
    assert response.status_code == 400 and "翻页参数无效" in text(response)


def test_search_by_case_number_phone_or_words_across_statuses(world):
    accepted(world)
    client = client_for(world.d.county)
    for q in [world.case.number, world.case.number.lower(), world.d.worker.phone, "三个月没有发工资"]:
        response = client.post(board(world.nanshan), {"q": q})
        assert response.status_code == 200, q
        page = text(response)
        assert world.case.number in page and world.county_case.number not in page, q
        assert "办理中" in page
    page = text(client.post(board(world.nanshan), {"q": "没有这件事"}))
    assert "没有找到" in page
    # The phone never goes into a link on the page.
    page = text(client.post(board(world.nanshan), {"q": world.d.worker.phone}))
    assert f"q={world.d.worker.phone}" not in page


# --- One case -----------------------------------------------------------------------------------------


def test_the_case_page_shows_facts_deadlines_timeline_and_attachments(world):
    services.case_note(actor=world.d.county, case=world.case, text="已电话联系公司人事，明天上门。",
                       attachments=[upload(PNG, "记录.png", "image/png")])
    page = text(client_for(world.d.county).get(detail(world.case)))
    assert world.case.number in page and "李四" in page and world.case.phone_masked in page
    assert world.d.worker.phone not in page
    assert "受理期限" in page and "办结期限" in page and world.nantou_union.name in page
    assert "登记" in page and "内部备注" in page and "已电话联系公司人事" in page and "仅内部" not in page
    assert "欠条.jpg" in page and "记录.png" in page
    assert "查看完整号码" in page
    # Actions offered for a pending case to a handler: accept, reply, return…; not those of a supervisor.
    for label in ["受理", "答复职工", "退回上级", "内部备注", "合并到另一件诉求", "转法律援助", "调整难度"]:
        assert label in page, label
    for label in ["质检结案", "重新办理", "记录电话回访", "办结</summary>"]:
        assert label not in page, label


def test_the_attachment_is_served_privately_and_audited(world):
    response = client_for(world.d.county).get(
        reverse("console:case_attachment", args=[world.case.pk, world.attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and "jpg" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    entry = AuditEntry.objects.get(action="case.attachment_view")
    assert entry.actor == world.d.county and world.case.number in entry.object_repr


def test_reveal_the_callers_phone_is_audited(world):
    client = client_for(world.d.county)
    response = client.post(reverse("console:case_reveal", args=[world.case.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and world.d.worker.phone in text(response)
    assert "<html" not in text(response)
    response = client.post(reverse("console:case_reveal", args=[world.case.pk]))  # without JS: the whole page
    assert response.status_code == 200 and world.d.worker.phone in text(response) and "办理记录" in text(response)
    assert audited("case.reveal", actor=world.d.county) == 2
    assert client.get(reverse("console:case_reveal", args=[world.case.pk])).status_code == 405


def test_accept_through_the_page(world):
    client = client_for(world.d.grassroots)
    response = act(client, world.case, "accept")
    assert response.status_code == 302 and response["Location"] == detail(world.case)
    case = reload(world.case)
    assert case.status == CaseStatus.IN_PROGRESS and case.complete_due_at
    page = text(client.get(detail(case)))
    assert "已受理，办结期限" in page and "请职工补充材料" in page and "办结</summary>" in page


def test_a_repeated_submission_is_not_carried_out_twice(world):
    client = client_for(world.d.county)
    data = {"form_token": token(), "action": "note", "text": "第一次提交"}
    assert client.post(detail(world.case), data).status_code == 302
    response = client.post(detail(world.case), data)
    assert response.status_code == 302 and response["Location"] == detail(world.case)
    assert world.case.events.filter(action=Action.NOTE).count() == 1


def test_dispatch_to_a_child_union(world):
    client = client_for(world.d.county)
    page = text(client.get(detail(world.county_case)))
    assert f'<option value="{world.nantou.pk}"' in page and world.futian.name not in page
    # The search box finds deeper unions below the handling one.
    response = client.get(reverse("console:case_dispatch_targets", args=[world.county_case.pk]),
                          {"dispatch_q": "南头精密"}, HTTP_HX_REQUEST="true")
    assert f'<option value="{world.nantou_union.pk}"' in text(response)
    # Without JavaScript the search reloads the case page with the matches in the select.
    page = text(client.get(detail(world.county_case), {"dispatch_q": "南头精密"}))
    assert 'id="act-dispatch" open' in page and f'<option value="{world.nantou_union.pk}"' in page
    response = act(client, world.county_case, "dispatch", to_org_id=world.nantou.pk, note="属地街道办理")
    assert response.status_code == 302
    case = reload(world.county_case)
    assert case.org == world.nantou and case.status == CaseStatus.PENDING
    assert case.events.filter(action=Action.DISPATCH, to_org=world.nantou).exists()


def test_dispatch_outside_the_subtree_is_refused_with_a_chinese_error(world):
    # The city agent sees Futian, but the case is held by Nanshan: only Nanshan's children qualify.
    response = act(client_for(world.d.agent), world.county_case, "dispatch", to_org_id=world.futian.pk,
                   note="转福田")
    assert response.status_code == 200
    page = text(response)
    assert "只能转办给本级工会的下级工会" in page and 'id="act-dispatch" open' in page and "转福田" in page
    # A union the handler cannot see at all gets the same kind of message, not a 404 page.
    response = act(client_for(world.d.county), world.county_case, "dispatch", to_org_id=world.futian.pk,
                   note="转福田")
    assert response.status_code == 200 and "只能转办给本级工会的下级工会" in text(response)
    response = act(client_for(world.d.county), world.county_case, "dispatch", to_org_id="", note="转办")
    assert "请选择要转办的下级工会" in text(response)
    case = reload(world.county_case)
    assert case.org == world.nanshan and not case.events.filter(action=Action.DISPATCH).exists()


def test_return_up_moves_the_case_and_the_township_handler_goes_back_to_their_board(world):
    client = client_for(world.d.grassroots)
    response = act(client, world.case, "return", reason="不属于本单位工会办理范围")
    assert response.status_code == 302 and response["Location"] == board(world.nantou_union)
    case = reload(world.case)
    assert case.org == world.nantou and case.status == CaseStatus.PENDING
    assert client.get(detail(case)).status_code == 404
    response = act(client_for(world.d.county), world.county_case, "return", reason="短")
    assert "退回原因至少4个字" in text(response)


def test_reply_note_and_request_info(world):
    accepted(world)
    client = client_for(world.d.county)
    response = client.post(detail(world.case), {"form_token": token(), "action": "reply", "text": "已联系公司，请耐心等待。",
                                                "attachments": [upload(PNG, "通知.png", "image/png")]})
    assert response.status_code == 302
    reply = world.case.events.get(action=Action.REPLY)
    assert reply.worker_visible and world.case.attachments.filter(event=reply, name="通知.png").exists()
    assert act(client, world.case, "note", text="公司态度消极").status_code == 302
    assert not world.case.events.get(action=Action.NOTE).worker_visible
    assert act(client, world.case, "request_info", text="请补充工资条和考勤记录").status_code == 302
    case = reload(world.case)
    assert case.status == CaseStatus.WAITING_WORKER and case.paused_at
    page = text(client.get(detail(case)))
    assert "暂停计时" in page and "请补充工资条和考勤记录" in page


def test_a_bad_attachment_is_refused_and_nothing_is_written(world):
    client = client_for(world.d.county)
    response = client.post(detail(world.case), {"form_token": token(), "action": "reply", "text": "附件见附",
                                                "attachments": [upload(b"MZ\x90\x00" + b"\x00" * 50, "a.jpg")]})
    assert response.status_code == 200 and "不是 JPG、PNG 图片或 PDF 文件" in text(response)
    assert not world.case.events.filter(action=Action.REPLY).exists()
    assert world.case.attachments.count() == 1


def test_set_difficulty_and_refer_to_legal_aid(world):
    accepted(world)
    client = client_for(world.d.county)
    assert act(client, world.case, "difficulty", difficulty="complex", reason="涉及人数多").status_code == 302
    assert reload(world.case).difficulty == "complex"
    response = act(client, world.case, "difficulty", difficulty="hard", reason="随便")
    assert "难度只能是" in text(response)
    assert act(client, world.case, "legal_aid", note="需要申请劳动仲裁").status_code == 302
    assert reload(world.case).legal_aid_ref
    assert "转法律援助</summary>" not in text(client.get(detail(world.case)))


def test_resolve_then_phone_rating(world):
    accepted(world)
    client = client_for(world.d.county)
    response = act(client, world.case, "resolve", result="公司已补发三个月工资。", money_recovered="12,000.50",
                   workers_helped="12")
    assert response.status_code == 302
    case = reload(world.case)
    assert (case.status, case.money_recovered, case.workers_helped) == (CaseStatus.RESOLVED, Decimal("12000.50"), 12)
    page = text(client.get(detail(case)))
    assert "记录电话回访" in page and "质检结案" not in page
    assert act(client, case, "rate", score="5", comment="很满意").status_code == 302
    case = reload(case)
    assert (case.satisfaction, case.rated_via, case.status) == (5, "phone", CaseStatus.RESOLVED)


def test_a_low_phone_rating_reopens_the_case(world):
    case = resolved(world)
    response = act(client_for(world.d.county), case, "rate", score="1")
    assert response.status_code == 302
    assert reload(case).status == CaseStatus.IN_PROGRESS


def test_bad_resolve_input_shows_the_error_and_writes_nothing(world):
    accepted(world)
    client = client_for(world.d.county)
    for data, message in [
        ({"result": ""}, "请填写办理结果"),
        ({"result": "已补发工资。", "money_recovered": "一万"}, "追回金额应为数字"),
        ({"result": "已补发工资。", "workers_helped": "-1"}, "帮助人数应在0至100000之间"),
    ]:
        response = act(client, world.case, "resolve", **data)
        assert response.status_code == 200
        page = text(response)
        assert message in page and 'id="act-resolve" open' in page and "has-error" in page
    assert reload(world.case).status == CaseStatus.IN_PROGRESS
    assert not world.case.events.filter(action=Action.RESOLVE).exists()
    response = act(client, world.case, "rate", score="9")
    assert "请选择1至5分的满意度" in text(response)
    response = act(client, world.case, "fly")
    assert "请选择要办理的事项" in text(response)


def test_close_by_supervisor_and_the_handler_cannot(world):
    case = resolved(world)
    response = act(client_for(world.d.county), case, "close", passed="1")
    assert response.status_code == 200 and "只有有诉求督办质检权限的人员可以执行此操作" in text(response)
    assert reload(case).status == CaseStatus.RESOLVED
    client = client_for(world.d.supervisor)
    page = text(client.get(detail(case)))
    assert "质检结案" in page and "重新办理" in page
    response = act(client, case, "close", passed="0", note="短")
    assert "质检意见至少4个字" in text(response) and reload(case).status == CaseStatus.RESOLVED
    assert act(client, case, "close", passed="1", note="办理规范").status_code == 302
    case = reload(case)
    assert case.status == CaseStatus.CLOSED and case.qc_by == world.d.supervisor


def test_qc_fail_sends_the_case_back(world):
    case = resolved(world)
    assert act(client_for(world.d.supervisor), case, "close", passed="0", note="未核实补发金额").status_code == 302
    case = reload(case)
    assert case.status == CaseStatus.IN_PROGRESS and case.reopen_count == 1


def test_reopen_a_closed_case(world):
    case = resolved(world)
    services.case_close(actor=world.d.supervisor, case=case, passed=True)
    client = client_for(world.d.supervisor)
    response = act(client, case, "reopen", reason="")
    assert "请填写重新办理的原因" in text(response) and reload(case).status == CaseStatus.CLOSED
    assert act(client, case, "reopen", reason="职工反映工资仍未到账").status_code == 302
    assert reload(case).status == CaseStatus.IN_PROGRESS
    # A handler has no reopen form and cannot post one.
    case = reload(case)
    services.case_resolve(actor=world.d.county, case=case, result="再次协调已到账。")
    services.case_close(actor=world.d.supervisor, case=case, passed=True)
    response = act(client_for(world.d.county), case, "reopen", reason="职工反映工资仍未到账")
    assert "督办质检权限" in text(response) and reload(case).status == CaseStatus.CLOSED


def test_merge_into_another_case_by_its_number(world):
    duplicate = file_case(world.d.worker, world.nantou_employer, description="还是公司欠工资的事，想问问进展怎么样了。")
    client = client_for(world.d.county)
    for value, message in [("", "请填写要合并到的诉求编号"), ("WQ2000010100000", "没有找到编号为"),
                           (world.futian_case.number, "没有找到编号为"), (duplicate.number, "不能与自身合并"),
                           (world.case.number.replace("WQ2", "WQ1"), "没有找到编号为")]:
        response = act(client, duplicate, "merge", into=value)
        assert response.status_code == 200 and message in text(response), value
        assert reload(duplicate).status == CaseStatus.PENDING
    response = act(client, duplicate, "merge", into=f" {world.case.number.lower()} ", note="同一事项")
    assert response.status_code == 302
    duplicate = reload(duplicate)
    assert duplicate.status == CaseStatus.MERGED and duplicate.merged_into == world.case
    page = text(client.get(detail(duplicate)))
    assert world.case.number in page and "合并到另一件诉求" not in page


# --- Protected identity -------------------------------------------------------------------------------


def test_a_protected_case_hides_name_and_phone_from_the_grassroots_handler_and_views_are_audited(world):
    case = file_case(WorkerFactory(display_name="周密"), world.nantou_employer, protect_identity=True)
    client = client_for(world.d.grassroots)
    before = audited("case.view", actor=world.d.grassroots)
    response = client.get(detail(case))
    assert response.status_code == 200
    page = text(response)
    assert "周密" not in page and "周*" not in page and case.phone_masked not in page
    assert "保密身份" in page and "查看完整号码" not in page
    assert audited("case.view", actor=world.d.grassroots) == before + 1
    board_page = text(client.get(board(world.nantou_union)))
    assert case.number in board_page and "周*" not in board_page and "身份保密" in board_page
    response = client.post(reverse("console:case_reveal", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert "请由上级工会联系职工" in text(response) and case.phone not in text(response)
    assert audited("case.reveal") == 0
    # The county above sees who it is; its views are audited too.
    page = text(client_for(world.d.county).get(detail(case)))
    assert "周密" in page and case.phone_masked in page
    assert audited("case.view", actor=world.d.county) == 1
    # An unprotected case leaves no view entry.
    client.get(detail(world.case))
    assert audited("case.view", object_id=str(world.case.pk)) == 0


# --- Hotline desk -------------------------------------------------------------------------------------


def test_the_hotline_looks_up_the_caller(world):
    app, _ = join(world.d.worker, world.nantou_employer, name="李四")
    membership_services.application_approve(actor=world.d.county, application=app)
    client = client_for(world.d.agent)
    response = client.post(reverse("console:case_hotline_caller"), {"phone": world.d.worker.phone},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = text(response)
    assert "会员 李*" in page and "李四" not in page and world.case.number in page
    assert world.d.worker.phone not in page
    page = text(client.post(reverse("console:case_hotline_caller"), {"phone": "13900000000"}))
    assert "未查到会员信息" in page and "没有此前的诉求记录" in page
    page = text(client.post(reverse("console:case_hotline_caller"), {"phone": "1390000"}))
    assert "输入11位手机号" in page
    page = text(client.post(reverse("console:case_hotline_caller"), {"phone": "23900000000"}))
    assert "请输入正确的11位手机号码" in page
    assert client.get(reverse("console:case_hotline_caller")).status_code == 405


def test_a_question_answered_on_the_spot_is_a_closed_consultation(world):
    client = client_for(world.d.agent)
    page = text(client.get(reverse("console:case_hotline")))
    assert 'data-category="wage_arrears"' in page and "当场解答" in page and "转为诉求" in page
    response = client.post(reverse("console:case_hotline"), {
        "form_token": token(), "outcome": "consult", "phone": "138 0000 2222", "category": "probation",
        "description": "试用期最长可以约定多久？", "answer": "劳动合同期限三年以上的，试用期不得超过六个月。"})
    assert response.status_code == 302 and response["Location"] == reverse("console:case_hotline")
    case = Case.objects.get(kind="consultation")
    assert (case.status, case.channel, case.org) == (CaseStatus.CLOSED, "hotline", world.shenzhen)
    assert case.phone == "13800002222" and case.name == "来电职工"
    assert "已记录当场解答" in text(client.get(reverse("console:case_hotline")))


def test_a_call_becomes_a_case_for_the_employers_union(world):
    client = client_for(world.d.agent)
    response = client.post(reverse("console:case_hotline"), {
        "form_token": token(), "outcome": "case", "phone": "13800003333", "name": "钱七", "category": "wage_arrears",
        "description": "公司拖欠全车间工人两个月工资，老板不接电话。", "employer_id": world.nantou_employer.pk,
        "workers_affected": "15", "amount_claimed": "90000", "protect_identity": "1", "place": ["440000", "440300"]})
    assert response.status_code == 302
    case = Case.objects.get(name="钱七")
    assert response["Location"] == detail(case)
    assert (case.channel, case.org, case.intake_org, case.workers_affected) == (
        "hotline", world.nantou_union, world.shenzhen, 15)
    assert case.protect_identity and case.amount_claimed == Decimal("90000")
    # The place picker's default (the agent's city) does not override the chosen employer's place.
    assert case.work_division_id == world.nantou_employer.division_id
    assert f"已登记诉求 {case.number}" in text(client.get(detail(case)))


def test_a_call_about_an_unregistered_employer_goes_to_the_township(world):
    client = client_for(world.d.agent)
    response = client.post(reverse("console:case_hotline"), {
        "form_token": token(), "outcome": "case", "phone": "13800004444", "name": "孙八", "category": "no_contract",
        "description": "在一家小餐馆干了半年，老板一直不签劳动合同。", "employer_name": "南头某某餐馆",
        "place": ["440000", "440300", "440305", "440305001"]})
    assert response.status_code == 302
    case = Case.objects.get(name="孙八")
    assert case.org == world.nantou and case.employer_name == "南头某某餐馆"


def test_bad_hotline_input_shows_errors_and_writes_nothing(world):
    client = client_for(world.d.agent)
    count = Case.objects.count()
    base = {"outcome": "case", "phone": "13800005555", "name": "吴九", "category": "wage_arrears",
            "description": "公司拖欠两个月工资，一直拖着不给。", "employer_id": world.nantou_employer.pk}
    for changes, message in [
        ({"description": "欠薪"}, "诉求内容至少10个字"),
        ({"category": ""}, "请选择诉求分类"),
        ({"category": "wages"}, "请在「劳动报酬」下选择具体的诉求分类"),
        ({"phone": "12345"}, "请输入正确的11位手机号码"),
        ({"name": ""}, "请填写来电人姓名"),
        ({"employer_id": ""}, "请选择用人单位，或填写单位名称并选择所在地"),
        ({"employer_id": "", "employer_name": "某某餐馆", "place": ["440000"]}, "请选择所在的乡镇或街道"),
        ({"workers_affected": "0"}, "涉及人数应在1至100000之间"),
        ({"amount_claimed": "1.234"}, "涉及金额最多保留两位小数"),
        ({"kind": "bogus"}, "诉求类型无效"),
        ({"outcome": "consult", "answer": ""}, "请填写答复内容"),
        ({"outcome": "nothing"}, "请选择“当场解答”或“登记为诉求”"),
    ]:
        response = client.post(reverse("console:case_hotline"), {**base, **changes, "form_token": token()})
        assert response.status_code == 200, changes
        page = text(response)
        assert message in page, changes
        assert "吴九" in page and "公司拖欠" in page or "description" in changes or "name" in changes, changes
    assert Case.objects.count() == count


def test_the_hotline_employer_search_and_place_picker(world):
    client = client_for(world.d.agent)
    response = client.get(reverse("console:case_hotline_employers"), {"employer_q": "南头精密"},
                          HTTP_HX_REQUEST="true")
    page = text(response)
    assert f'value="{world.nantou_employer.pk}"' in page and 'name="employer_id"' in page
    page = text(client.get(reverse("console:case_hotline_employers"), {"employer_q": "南"}))
    assert "请至少输入2个字" in page
    # Without JavaScript the search posts the whole form back and keeps what was typed, saving nothing.
    response = client.post(reverse("console:case_hotline"), {
        "form_token": token(), "outcome": "find_employer", "employer_q": "南头精密", "description": "还没说完的情况"})
    page = text(response)
    assert f'value="{world.nantou_employer.pk}"' in page and "还没说完的情况" in page
    page = text(client.get(reverse("console:case_hotline_places"), {"place": ["440000", "440300", "440305"]}))
    assert 'value="440305001"' in page and "请选择" in page
    # The desk starts at the agent's own place.
    page = text(client.get(reverse("console:case_hotline")))
    assert 'value="440305" ' in page or 'value="440305">' in page

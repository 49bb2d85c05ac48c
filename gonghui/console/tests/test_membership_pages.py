"""Console membership pages as a union official uses them: access, decisions, personal data, exports."""

from __future__ import annotations

import csv
import datetime
import io
import re
import secrets

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gonghui.core.models import AuditEntry
from gonghui.membership import services
from gonghui.membership.models import Application, ChangeRequest, Member, MemberStatus, RosterImport, Transfer
from gonghui.membership.tests.helpers import join, make_id_number
from gonghui.orgs.models import Role
from gonghui.testing.fixtures import WorkerFactory, staff_on

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token() -> str:
    return secrets.token_urlsafe(18)


def text(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def audited(action: str, **filters) -> int:
    return AuditEntry.objects.filter(action=action, **filters).count()


@pytest.fixture
def world(tree):
    """Nanshan: a pending application at the Nantou company union, an approved member there (with a
    worker account), an escalated application, a transfer to Yuehai and two corrections."""
    w = tree
    w.nanshan_staff = staff_on(tree.nanshan, Role.STAFF, username="nanshan-staff", display_name="南山 王芳")
    w.nanshan_admin = staff_on(tree.nanshan, Role.ADMIN, username="nanshan-admin")
    w.nanshan_viewer = staff_on(tree.nanshan, Role.VIEWER, username="nanshan-viewer")
    w.futian_admin = staff_on(tree.futian, Role.ADMIN, username="futian-admin")
    # Escalated first, so that only this one is past its deadline.
    w.late, _ = join(WorkerFactory(), tree.nantou_employer, name="赵晓东")
    services.overdue_escalate(now=w.late.due_at + datetime.timedelta(seconds=1))
    w.late.refresh_from_db()

    w.pending_number = make_id_number()
    w.pending, _ = join(WorkerFactory(), tree.nantou_employer, name="李小红", id_number=w.pending_number)

    w.worker = WorkerFactory()
    w.member_number = make_id_number()
    app, _ = join(w.worker, tree.nantou_employer, name="张建国", id_number=w.member_number)
    w.member = services.application_approve(actor=w.nanshan_staff, application=app)

    mover = WorkerFactory()
    app, _ = join(mover, tree.nantou_employer, name="陈平")
    w.mover = services.application_approve(actor=w.nanshan_staff, application=app)
    w.transfer, _ = services.transfer_request(
        actor=mover, member=w.mover, employment_form="flexible", division_code="440305007"
    )
    w.correction = services.change_request_submit(
        actor=w.worker, member=w.member, changes={"name": "张建华"}, reason="户口本上的名字"
    )
    corrector = WorkerFactory()
    app, _ = join(corrector, tree.nantou_employer, name="周敏")
    w.corrector = services.application_approve(actor=w.nanshan_staff, application=app)
    w.id_correction = services.change_request_submit(
        actor=corrector,
        member=w.corrector,
        changes={"id_number": make_id_number()},
        evidence=SimpleUploadedFile("id.png", PNG, content_type="image/png"),
    )
    return w


def node_pages(w) -> list[str]:
    n = w.nanshan.pk
    return [
        reverse("console:membership_queue", args=[n]),
        reverse("console:membership_queue", args=[n]) + "?status=approved",
        reverse("console:membership_queue", args=[n]) + "?status=rejected&overdue=1",
        reverse("console:membership_board", args=[w.nantou.pk]),
        reverse("console:membership_members", args=[n]),
        reverse("console:membership_members", args=[n]) + "?status=transferring",
        reverse("console:membership_transfers", args=[n]),
        reverse("console:membership_transfers", args=[n]) + "?direction=out&status=done",
        reverse("console:membership_corrections", args=[n]),
        reverse("console:membership_policy", args=[n]),
        reverse("console:membership_stats", args=[n]),
        reverse("console:membership_stats", args=[n]) + "?days=7",
        reverse("console:membership_imports", args=[n]),
    ]


def object_pages(w) -> list[str]:
    return [
        reverse("console:membership_application", args=[w.pending.pk]),
        reverse("console:membership_application", args=[w.late.pk]),
        reverse("console:membership_member", args=[w.member.pk]),
        reverse("console:membership_transfer", args=[w.transfer.pk]),
        reverse("console:membership_correction", args=[w.correction.pk]),
        reverse("console:membership_correction", args=[w.id_correction.pk]),
    ]


# --- Access -------------------------------------------------------------------------------------------


def test_every_page_renders_for_the_nodes_staff(world):
    client = client_for(world.nanshan_staff)
    for url in node_pages(world) + object_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不存在或无权访问" not in text(response), url
    for url in [
        reverse("console:membership_members_export", args=[world.nanshan.pk]),
        reverse("console:membership_stats_export", args=[world.nanshan.pk]),
        reverse("console:membership_correction_evidence", args=[world.id_correction.pk]),
    ]:
        assert client.get(url).status_code == 200, url


def test_the_node_page_and_the_header_link_to_the_membership_pages(world):
    page = text(client_for(world.nanshan_staff).get(reverse("console:org_detail", args=[world.nantou.pk])))
    for name in [
        "membership_queue",
        "membership_members",
        "membership_board",
        "membership_stats",
        "membership_transfers",
        "membership_corrections",
        "membership_imports",
        "membership_policy",
    ]:
        assert reverse(f"console:{name}", args=[world.nantou.pk]) in page, name
    header = page.split('<main class="content">')[0]
    for label in ["入会审批", "会员", "督办", "统计"]:
        assert label in header


def test_a_sibling_countys_admin_gets_404_for_every_id_and_changes_nothing(world):
    client = client_for(world.futian_admin)
    before = (Member.objects.count(), AuditEntry.objects.count(), Application.objects.filter(status="pending").count())
    for url in (
        node_pages(world)
        + object_pages(world)
        + [
            reverse("console:membership_members_export", args=[world.nanshan.pk]),
            reverse("console:membership_stats_export", args=[world.nanshan.pk]),
            reverse("console:membership_correction_evidence", args=[world.id_correction.pk]),
        ]
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "不存在或无权访问" in text(response), url
    posts = [
        (reverse("console:membership_application", args=[world.pending.pk]), {"action": "approve"}),
        (reverse("console:membership_member", args=[world.member.pk]), {"action": "suspend", "reason": "测试原因"}),
        (reverse("console:membership_member_reveal", args=[world.member.pk]), {"field": "id_number"}),
        (reverse("console:membership_transfer", args=[world.transfer.pk]), {"action": "accept"}),
        (reverse("console:membership_correction", args=[world.correction.pk]), {"action": "approve"}),
        (
            reverse("console:membership_policy", args=[world.nanshan.pk]),
            {"auto_approve": "1", "decide_within_days": "5"},
        ),
    ]
    for url, data in posts:
        response = client.post(url, {**data, "form_token": token()})
        assert response.status_code == 404, url
    after = (Member.objects.count(), AuditEntry.objects.count(), Application.objects.filter(status="pending").count())
    assert after == before


def test_a_sibling_sees_nothing_of_another_subtree_in_its_own_lists(world):
    client = client_for(world.futian_admin)
    f = world.futian.pk
    assert client.get(reverse("console:membership_queue", args=[f])).context["apps"] == []
    assert client.get(reverse("console:membership_board", args=[world.futian_street.pk])).context["apps"] == []
    assert client.get(reverse("console:membership_members", args=[f])).context["members"] == []
    found = client.post(reverse("console:membership_members", args=[f]), {"q": world.member_number})
    assert found.context["members"] == []
    for direction in ("in", "out"):
        response = client.get(reverse("console:membership_transfers", args=[f]) + f"?direction={direction}")
        assert response.context["transfers"] == []
    assert client.get(reverse("console:membership_corrections", args=[f])).context["items"] == []
    rows = csv_rows(client.get(reverse("console:membership_members_export", args=[f])))
    assert len(rows) == 1  # the header only
    stats = client.get(reverse("console:membership_stats", args=[f]))
    assert stats.context["numbers"]["members"] == 0
    assert all(not row["org"].path.startswith(world.nanshan.path) for row in stats.context["children"])


def test_unknown_and_malformed_ids_are_404(world):
    client = client_for(world.nanshan_staff)
    for url in [
        "/console/membership/applications/abc/",
        "/console/membership/members/999999999/",
        "/console/membership/transfers/-1/",
        "/console/membership/corrections/0/",
        "/console/membership/corrections/x/evidence/",
        "/console/membership/imports/99999999999999999999/",
    ]:
        assert client.get(url).status_code == 404, url


def test_a_tampered_cursor_is_a_clear_error_not_a_500(world):
    response = client_for(world.nanshan_staff).get(
        reverse("console:membership_queue", args=[world.nanshan.pk]) + "?cursor=bogus"
    )
    assert response.status_code == 400
    assert "翻页参数无效" in text(response)


# --- 1. Queue -----------------------------------------------------------------------------------------


def test_queue_shows_masked_rows_by_due_time_with_overdue_marked(world):
    client = client_for(world.nanshan_staff)
    response = client.get(reverse("console:membership_queue", args=[world.nanshan.pk]))
    page = text(response)
    assert [a.pk for a in response.context["apps"]] == [world.late.pk, world.pending.pk]
    assert "李*" in page and "李小红" not in page
    assert world.pending_number not in page
    assert world.nantou_employer.name in page and "劳动合同" in page
    assert world.pending.route_reason in page
    assert "已督办" in page and "due-late" in page
    overdue = client.get(reverse("console:membership_queue", args=[world.nanshan.pk]) + "?overdue=1")
    assert [a.pk for a in overdue.context["apps"]] == [world.late.pk]
    approved = client.get(reverse("console:membership_queue", args=[world.nanshan.pk]) + "?status=approved")
    assert {a.member_id for a in approved.context["apps"]} == {world.member.pk, world.mover.pk, world.corrector.pk}


def test_queue_pages_with_a_keyset_more_link_fetched_by_htmx(world):
    for _ in range(31):
        join(WorkerFactory(), world.nantou_employer, name="排队者")
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_queue", args=[world.nantou_union.pk])
    first = client.get(url)
    assert len(first.context["apps"]) == 30
    more = first.context["more_url"]
    assert "cursor=" in more and more in text(first).replace("&amp;", "&")
    second = client.get(more, headers={"HX-Request": "true"})
    assert "<html" not in text(second)
    assert len(second.context["apps"]) == 3
    seen = {a.pk for a in first.context["apps"]} | {a.pk for a in second.context["apps"]}
    assert len(seen) == 33
    assert not second.context["more_url"]


def test_list_pages_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    for _ in range(12):
        app, _ = join(WorkerFactory(), world.nantou_employer, name="计数者")
        services.application_approve(actor=world.nanshan_staff, application=app)
        join(WorkerFactory(), world.nantou_employer, name="排队者")
    client = client_for(world.nanshan_staff)
    client.get(reverse("console:membership_queue", args=[world.nanshan.pk]))  # warm the session
    for name in ["membership_queue", "membership_members", "membership_transfers", "membership_corrections",
                 "membership_board"]:
        with django_assert_max_num_queries(12):
            response = client.get(reverse(f"console:{name}", args=[world.nanshan.pk]))
        assert response.status_code == 200, name


# --- 2. Decisions -------------------------------------------------------------------------------------


def test_approving_an_application_makes_a_member_and_is_audited(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_application", args=[world.pending.pk])
    page = text(client.get(url))
    assert "李小红" in page  # staff see the name; the ID number and phone stay masked
    assert world.pending.id_masked in page and world.pending_number not in page
    assert world.pending.phone_masked in page
    assert "批准入会" in page and "不予批准" in page
    response = client.post(url, {"action": "approve", "form_token": token()}, follow=True)
    assert "已批准入会" in text(response)
    world.pending.refresh_from_db()
    assert world.pending.status == Application.Status.APPROVED
    assert world.pending.member.org == world.nantou_union
    assert audited("membership.approve", object_id=str(world.pending.pk)) == 1
    page = text(client.get(url))
    assert "批准入会</button>" not in page and world.pending.member.member_no_display in page


def test_a_double_submitted_approval_creates_one_member(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_application", args=[world.pending.pk])
    data = {"action": "approve", "form_token": token()}
    members = Member.objects.count()
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == url
    third = client.post(url, {"action": "approve", "form_token": token()})  # another tab, a new token
    assert third.status_code == 302
    assert Member.objects.count() == members + 1
    assert Member.objects.filter(id_hash=world.pending.id_hash).count() == 1
    assert audited("membership.approve", object_id=str(world.pending.pk)) == 1


def test_rejecting_needs_a_reason_and_is_audited(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_application", args=[world.pending.pk])
    response = client.post(url, {"action": "reject", "reason": " ", "form_token": token()})
    assert response.status_code == 200
    assert "请填写不予批准的原因" in text(response)
    world.pending.refresh_from_db()
    assert world.pending.status == Application.Status.PENDING
    response = client.post(url, {"action": "reject", "reason": "该单位不在本会受理范围", "form_token": token()})
    assert response.status_code == 302
    world.pending.refresh_from_db()
    assert world.pending.status == Application.Status.REJECTED
    assert world.pending.reject_reason == "该单位不在本会受理范围"
    assert audited("membership.reject", object_id=str(world.pending.pk)) == 1
    page = text(client.get(url))
    assert "该单位不在本会受理范围" in page and "不予批准的原因" not in page


def test_a_viewer_sees_masked_names_and_cannot_decide(world):
    client = client_for(world.nanshan_viewer)
    url = reverse("console:membership_application", args=[world.pending.pk])
    page = text(client.get(url))
    assert "李小红" not in page and "李*" in page
    assert "批准入会</button>" not in page
    response = client.post(url, {"action": "approve", "form_token": token()})
    assert response.status_code == 200
    assert "只有受理工会的工作人员可以审批入会申请" in text(response)
    world.pending.refresh_from_db()
    assert world.pending.status == Application.Status.PENDING


def test_application_history_lists_submission_escalation_and_decision(world):
    page = text(client_for(world.nanshan_staff).get(reverse("console:membership_application", args=[world.late.pk])))
    assert "申请入会" in page and "入会申请超时，提请督办" in page
    assert world.nantou.name in page  # the supervising node


# --- 3. Board -----------------------------------------------------------------------------------------


def test_board_lists_escalated_applications_with_the_child_union_and_notices(world):
    client = client_for(world.nanshan_staff)
    response = client.get(reverse("console:membership_board", args=[world.nantou.pk]))
    assert [a.pk for a in response.context["apps"]] == [world.late.pk]
    page = text(response)
    assert world.nantou_union.name in page and "已督办" in page
    assert "入会申请超时督办" in page  # the org notice
    union_board = client.get(reverse("console:membership_board", args=[world.nantou_union.pk]))
    assert union_board.context["apps"] == []


# --- 4. Members and export ----------------------------------------------------------------------------


def test_member_search_is_exact_and_posted(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_members", args=[world.nanshan.pk])
    page = text(client.get(url))
    assert 'method="post"' in page and world.member_number not in page
    for q in [world.member_number, world.member.member_no, world.worker.phone, "张建国"]:
        response = client.post(url, {"q": q})
        assert [m.pk for m in response.context["members"]] == [world.member.pk], q
        assert world.member_number not in text(response).replace(f'value="{world.member_number}"', "")
    assert client.post(url, {"q": "张建"}).context["members"] == []
    transferring = client.get(url + "?status=transferring")
    assert [m.pk for m in transferring.context["members"]] == [world.mover.pk]


def test_export_masks_id_numbers_for_everyone_and_names_for_viewers(world):
    odd, _ = services.application_submit(
        actor=WorkerFactory(),
        name="王五",
        id_number=make_id_number(),
        employment_form="labor_contract",
        consent=True,
        employer={"name": '=HYPERLINK("http://x")公司', "division_code": "440305001"},
    )
    services.application_approve(actor=world.nanshan_staff, application=odd)
    url = reverse("console:membership_members_export", args=[world.nanshan.pk])

    staff_rows = csv_rows(client_for(world.nanshan_staff).get(url))
    body = "\n".join(",".join(r) for r in staff_rows)
    assert staff_rows[0][:5] == ["会员编号", "姓名", "性别", "身份证号", "手机号"]
    assert len(staff_rows) == 1 + Member.objects.count()
    assert world.member_number not in body and world.member.id_masked in body
    assert world.worker.phone not in body and world.member.phone_masked in body
    assert "张建国" in body
    assert any(cell.startswith("'=HYPERLINK") for row in staff_rows for cell in row)
    assert not any(cell.startswith("=") for row in staff_rows for cell in row)
    assert audited("membership.export", actor=world.nanshan_staff) == 1

    viewer_rows = csv_rows(client_for(world.nanshan_viewer).get(url))
    body = "\n".join(",".join(r) for r in viewer_rows)
    assert "张建国" not in body and "张**" in body
    assert world.member_number not in body
    entry = AuditEntry.objects.get(action="membership.export", actor=world.nanshan_viewer)
    assert entry.org == world.nanshan and entry.after["full_name"] is False


# --- 5. Member page: reveal and status ----------------------------------------------------------------


def test_staff_reveal_one_value_with_an_audit_entry(world):
    client = client_for(world.nanshan_staff)
    member_url = reverse("console:membership_member", args=[world.member.pk])
    page = text(client.get(member_url))
    assert "显示完整身份证号" in page and world.member_number not in page
    url = reverse("console:membership_member_reveal", args=[world.member.pk])
    response = client.post(url, {"field": "id_number"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in text(response)
    assert world.member_number in text(response)
    assert "no-store" in response["Cache-Control"]
    response = client.post(url, {"field": "phone"})  # without JS: the member page with the value
    assert world.worker.phone in text(response) and world.member_number not in text(response)
    assert audited("membership.reveal", actor=world.nanshan_staff, object_id=str(world.member.pk)) == 2


def test_reveal_by_a_viewer_is_refused(world):
    client = client_for(world.nanshan_viewer)
    page = text(client.get(reverse("console:membership_member", args=[world.member.pk])))
    assert "显示完整身份证号" not in page and "会籍办理" not in page
    url = reverse("console:membership_member_reveal", args=[world.member.pk])
    response = client.post(url, {"field": "id_number"})
    assert response.status_code == 403
    assert world.member_number not in text(response)
    response = client.post(url, {"field": "id_number"}, headers={"HX-Request": "true"})
    assert "只有会员所在工会的工作人员可以查看完整信息" in text(response)
    assert world.member_number not in text(response)
    assert audited("membership.reveal") == 0


def test_reveal_is_a_post(world):
    url = reverse("console:membership_member_reveal", args=[world.member.pk])
    assert client_for(world.nanshan_staff).get(url + "?field=id_number").status_code == 405


def test_status_actions_on_the_member_page(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_member", args=[world.member.pk])
    page = text(client.get(url))
    for label in ["保留会籍", "暂停会籍", "办理退会", "登记去世", "作废会员卡二维码", "退休", "用人单位关闭"]:
        assert label in page, label
    response = client.post(url, {"action": "suspend", "reason": "", "form_token": token()})
    assert "请填写原因" in text(response)
    assert Member.objects.get(pk=world.member.pk).status == MemberStatus.ACTIVE
    client.post(url, {"action": "suspend", "reason": "长期未缴会费", "form_token": token()})
    assert Member.objects.get(pk=world.member.pk).status == MemberStatus.SUSPENDED
    client.post(url, {"action": "reinstate", "form_token": token()})
    assert Member.objects.get(pk=world.member.pk).status == MemberStatus.ACTIVE
    client.post(url, {"action": "retain", "reason": "retired", "form_token": token()})
    member = Member.objects.get(pk=world.member.pk)
    assert member.status == MemberStatus.RETAINED and member.retain_reason == "retired"
    key = member.card_key
    response = client.post(url, {"action": "card_revoke", "form_token": token()}, follow=True)
    assert "已作废" in text(response)
    assert Member.objects.get(pk=world.member.pk).card_key != key
    for action in ["membership.suspend", "membership.reinstate", "membership.retain", "membership.card_revoke"]:
        assert audited(action, object_id=str(world.member.pk)) == 1, action
    page = text(client.get(url))
    assert "暂停会籍" in page and "长期未缴会费" in page  # the history


def test_a_viewer_cannot_revoke_a_card(world):
    key = world.member.card_key
    response = client_for(world.nanshan_viewer).post(
        reverse("console:membership_member", args=[world.member.pk]), {"action": "card_revoke", "form_token": token()}
    )
    assert "只有会员所在工会的工作人员" in text(response)
    assert Member.objects.get(pk=world.member.pk).card_key == key


# --- 6. Transfers -------------------------------------------------------------------------------------


def test_transfer_in_is_accepted_by_the_receiving_union(world):
    client = client_for(world.nanshan_staff)
    listing = client.get(reverse("console:membership_transfers", args=[world.yuehai.pk]))
    assert [t.pk for t in listing.context["transfers"]] == [world.transfer.pk]
    out = client.get(reverse("console:membership_transfers", args=[world.nantou_union.pk]) + "?direction=out")
    assert [t.pk for t in out.context["transfers"]] == [world.transfer.pk]
    url = reverse("console:membership_transfer", args=[world.transfer.pk])
    assert "办理接收" in text(client.get(url))
    response = client.post(url, {"action": "accept", "form_token": token()}, follow=True)
    assert "已办理接收" in text(response)
    world.transfer.refresh_from_db()
    assert world.transfer.status == Transfer.Status.DONE
    mover = Member.objects.get(pk=world.mover.pk)
    assert mover.org == world.yuehai and mover.status == MemberStatus.ACTIVE
    assert audited("membership.transfer_accept", object_id=str(world.transfer.pk)) == 1
    assert "办理接收</button>" not in text(client.get(url))


def test_the_old_union_sees_a_transfer_but_cannot_accept_it(world):
    nantou_staff = staff_on(world.nantou_union, Role.STAFF)
    client = client_for(nantou_staff)
    url = reverse("console:membership_transfer", args=[world.transfer.pk])
    page = text(client.get(url))
    assert "办理接收</button>" not in page and "原工会无需审批" in page
    response = client.post(url, {"action": "accept", "form_token": token()})
    assert "只有接收工会的工作人员可以办理接收" in text(response)
    assert Transfer.objects.get(pk=world.transfer.pk).status == Transfer.Status.PENDING


# --- 7. Corrections -----------------------------------------------------------------------------------


def test_correction_is_approved_and_audited(world):
    client = client_for(world.nanshan_staff)
    listing = client.get(reverse("console:membership_corrections", args=[world.nanshan.pk]))
    assert {c.pk for c in listing.context["items"]} == {world.correction.pk, world.id_correction.pk}
    url = reverse("console:membership_correction", args=[world.correction.pk])
    page = text(client.get(url))
    assert "张建国" in page and "张建华" in page and "户口本上的名字" in page
    client.post(url, {"action": "approve", "form_token": token()})
    assert Member.objects.get(pk=world.member.pk).name == "张建华"
    assert ChangeRequest.objects.get(pk=world.correction.pk).status == ChangeRequest.Status.APPROVED
    assert audited("membership.change_approve", object_id=str(world.correction.pk)) == 1


def test_correction_reject_needs_a_reason(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_correction", args=[world.id_correction.pk])
    page = text(client.get(url))
    new_number = world.id_correction.changes["id_number"]
    assert "*" in new_number and new_number in page  # the new ID number is only ever shown masked
    assert "请填写不予更正的原因" in text(client.post(url, {"action": "reject", "form_token": token()}))
    client.post(url, {"action": "reject", "reason": "照片看不清，请重新拍摄", "form_token": token()})
    cr = ChangeRequest.objects.get(pk=world.id_correction.pk)
    assert cr.status == ChangeRequest.Status.REJECTED and cr.reject_reason == "照片看不清，请重新拍摄"
    assert audited("membership.change_reject", object_id=str(cr.pk)) == 1


def test_evidence_is_an_audited_attachment_for_staff_only(world):
    url = reverse("console:membership_correction_evidence", args=[world.id_correction.pk])
    response = client_for(world.nanshan_staff).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert audited("membership.evidence_view", object_id=str(world.id_correction.pk)) == 1
    assert client_for(world.nanshan_viewer).get(url).status_code == 403
    no_file = reverse("console:membership_correction_evidence", args=[world.correction.pk])
    assert client_for(world.nanshan_staff).get(no_file).status_code == 404


# --- 8. Policy ----------------------------------------------------------------------------------------


def test_an_admin_sets_the_policy_and_only_changes_are_saved(world):
    client = client_for(world.nanshan_admin)
    url = reverse("console:membership_policy", args=[world.nanshan.pk])
    page = text(client.get(url))
    assert "当前生效的政策" in page and "本单位工会" in page and "所在地乡镇（街道）工会" in page
    response = client.post(url, {"auto_approve": "0", "decide_within_days": "0"})
    assert "审批时限应为1至30个工作日" in text(response)
    response = client.post(
        url,
        {
            "auto_approve": "0",
            "decide_within_days": "5",
            "rule_1": "employer_union",
            "rule_2": "employer_union",
            "rule_3": "county",
        },
    )
    assert "受理规则无效" in text(response)
    response = client.post(
        url,
        {"auto_approve": "0", "decide_within_days": "5", "rule_1": "employer_union", "rule_2": "township"},
        follow=True,
    )
    assert "入会政策已保存" in text(response)
    policy = services.policy_for(world.nantou_union)
    assert policy.decide_within_days == 5 and policy.routing == ["employer_union", "township"]
    assert policy.auto_approve is False
    entry = AuditEntry.objects.get(action="membership.policy")
    assert entry.after["decide_within_days"] == 5 and entry.after["auto_approve"] is None


def test_staff_see_the_policy_but_cannot_change_it(world):
    client = client_for(world.nanshan_staff)
    url = reverse("console:membership_policy", args=[world.nanshan.pk])
    page = text(client.get(url))
    assert "当前生效的政策" in page and "修改本级政策" not in page
    response = client.post(url, {"auto_approve": "1", "decide_within_days": "5"})
    assert "只有本级工会管理员可以设置入会政策" in text(response)
    assert audited("membership.policy") == 0


# --- 9. Stats -----------------------------------------------------------------------------------------


def tile(page: str, label: str) -> str:
    match = re.search(rf'<p class="stat-label">{re.escape(label)}</p><p class="stat-value[^"]*">([^<]*)</p>', page)
    assert match, label
    return match.group(1)


def test_stats_page_shows_the_numbers_tables_and_chart_data(world):
    client = client_for(world.nanshan_staff)
    response = client.get(reverse("console:membership_stats", args=[world.nanshan.pk]))
    page = text(response)
    numbers = response.context["numbers"]
    assert numbers["members"] == 3 and numbers["applications_pending"] == 2
    assert tile(page, "会员") == "3"
    assert tile(page, "待审批申请") == "2"
    assert tile(page, "超时申请") == "1"
    assert tile(page, "待接收接转") == "1"
    assert tile(page, "近30天新增会员") == "3"
    assert tile(page, "审批用时中位数") == "≤1小时"
    nantou_row = next(r for r in response.context["children"] if r["org"] == world.nantou)
    assert nantou_row["members"] == 3 and nantou_row["applications_pending"] == 2  # the transferring one counts
    assert re.search(rf"{world.nantou.name}</a></td>\s*<td[^>]*>3</td>", page)
    assert 'id="membership-chart-data"' in page and "echarts-6.0.0.simple.min.js" in page
    assert {"name": world.nantou.name, "members": 3} in response.context["chart"]["children"]
    assert response.context["chart"]["daily"][-1]["n"] == 3


def test_child_breakdown_export_is_scoped_and_audited(world):
    response = client_for(world.nanshan_staff).get(reverse("console:membership_stats_export", args=[world.nanshan.pk]))
    rows = csv_rows(response)
    assert rows[0][0] == "下级组织"
    nantou = next(r for r in rows if r[0] == world.nantou.name)
    assert nantou[2] == "3"
    assert not any(r[0] == world.futian_street.name for r in rows)
    assert audited("membership.stats_export", actor=world.nanshan_staff) == 1


# --- 10. Roster import --------------------------------------------------------------------------------


def roster_csv(rows) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "手机号", "用工形式", "岗位", "职业代码"])
    writer.writerows(rows)
    return SimpleUploadedFile("南头精密花名册.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv")


def test_roster_import_upload_validate_report_and_commit(world, django_capture_on_commit_callbacks):
    clerk = staff_on(world.nantou_union, Role.STAFF, username="nantou-clerk")
    client = client_for(clerk)
    list_url = reverse("console:membership_imports", args=[world.nantou_union.pk])
    page = text(client.get(list_url))
    assert 'enctype="multipart/form-data"' in page and world.nantou_employer.name in page
    good = [make_id_number(birth=datetime.date(1991, 2, 3)), make_id_number(birth=datetime.date(1992, 2, 3))]
    upload = roster_csv(
        [
            ("王一", good[0], "", "劳动合同", "钳工", ""),
            ("王二", good[1], "", "劳动合同", "", ""),
            ("王三", "440305199", "", "劳动合同", "", ""),
        ]
    )
    data = {"file": upload, "employer_id": str(world.nantou_employer.pk), "form_token": token()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(list_url, data)
    assert response.status_code == 302
    detail_url = response["Location"]
    response = client.get(detail_url)
    job = response.context["job"]
    assert job.status == "validated" and (job.valid_rows, job.error_rows) == (2, 1)
    page = text(response)
    assert "确认导入有效行" in page and "下载错误报告" in page and "every 2s" not in page
    assert audited("membership.import_create", object_id=str(job.pk)) == 1

    report = csv_rows(client.get(reverse("console:membership_import_errors", args=[job.pk])))
    assert len(report) == 2 and report[1][0] == "4"
    assert audited("membership.import_errors", object_id=str(job.pk)) == 1

    members = Member.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url, {"action": "commit", "form_token": token()})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.committed_rows == 2
    assert Member.objects.count() == members + 2
    assert audited("membership.import_commit", object_id=str(job.pk)) == 1
    page = text(client.get(detail_url))
    assert "确认导入有效行" not in page and "取消导入" not in page


def test_roster_import_progress_polls_while_running_and_cancel(world, django_capture_on_commit_callbacks):
    clerk = staff_on(world.nantou_union, Role.STAFF)
    client = client_for(clerk)
    list_url = reverse("console:membership_imports", args=[world.nantou_union.pk])
    rows = [("李一", make_id_number(birth=datetime.date(1993, 4, 5)), "", "劳动合同", "", "")]
    response = client.post(list_url, {"file": roster_csv(rows), "form_token": token()})  # the task is not run
    job = RosterImport.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    progress_url = reverse("console:membership_import_progress", args=[job.pk])
    fragment = client.get(progress_url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in text(fragment) and "<html" not in text(fragment)
    assert "every 2s" in text(client.get(reverse("console:membership_import", args=[job.pk])))

    from gonghui.membership.imports import roster_validate_run

    roster_validate_run(job.pk)
    fragment = client.get(progress_url + "?was=running", headers={"HX-Request": "true"})
    assert "every 2s" not in text(fragment) and fragment["HX-Refresh"] == "true"
    assert "100%" in text(fragment)

    detail_url = reverse("console:membership_import", args=[job.pk])
    assert "取消导入" in text(client.get(detail_url))
    client.post(detail_url, {"action": "cancel", "form_token": token()})
    job.refresh_from_db()
    assert job.status == "cancelled"
    response = client.post(detail_url, {"action": "commit", "form_token": token()})
    assert "不能确认导入" in text(response)
    assert audited("membership.import_commit") == 0


def test_roster_import_errors_are_shown_and_access_is_scoped(world):
    clerk = staff_on(world.nantou_union, Role.STAFF)
    client = client_for(clerk)
    list_url = reverse("console:membership_imports", args=[world.nantou_union.pk])
    response = client.post(list_url, {"form_token": token()})
    assert "请选择要上传的花名册文件" in text(response)
    empty = SimpleUploadedFile("空.csv", b"", content_type="text/csv")
    response = client.post(list_url, {"file": empty, "form_token": token()})
    assert "上传的文件是空的" in text(response)
    assert RosterImport.objects.count() == 0
    county = client_for(world.nanshan_staff).get(reverse("console:membership_imports", args=[world.nanshan.pk]))
    assert "不直接登记会员" in text(county) and 'enctype="multipart/form-data"' not in text(county)

    rows = [("李一", make_id_number(birth=datetime.date(1993, 4, 5)), "", "劳动合同", "", "")]
    response = client.post(list_url, {"file": roster_csv(rows), "form_token": token()})
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    futian = client_for(world.futian_admin)
    for name in ["membership_import", "membership_import_progress", "membership_import_errors"]:
        assert futian.get(reverse(f"console:{name}", args=[job_id])).status_code == 404, name
    assert futian.get(reverse("console:membership_imports", args=[world.futian.pk])).context["jobs"] == []


def test_roster_template_is_an_xlsx_download(world):
    response = client_for(world.nanshan_viewer).get(reverse("console:membership_import_template"))
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert response["Content-Disposition"].startswith("attachment")

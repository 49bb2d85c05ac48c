"""The worker's membership pages: join, status, card, transfer, corrections, leaving, without JavaScript
(plain form posts) and with htmx (the partials)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gonghui.membership import cards, services
from gonghui.membership.models import Application, ChangeRequest, Member, MemberStatus, Transfer
from gonghui.membership.tests.helpers import make_id_number
from gonghui.orgs.services import employer_create
from gonghui.portal import lookups
from gonghui.testing.fixtures import StaffFactory, WorkerFactory, staff_on, uscc_in

pytestmark = pytest.mark.django_db

PAGES = ["/membership/", "/membership/join/", "/membership/card/", "/membership/transfer/", "/membership/correct/",
         "/membership/leave/"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def worker(client):
    user = WorkerFactory(phone="13912345678")
    client.force_login(user)
    return user


def join_data(tree, **changes) -> dict:
    data = {"action": "submit", "name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract",
            "employer_id": tree.nantou_employer.pk, "consent": "yes"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def error_next_to(page: str, field: str) -> str:
    """The message shown right under a field (its `<field>-msg` paragraph), when it is an error."""
    found = re.search(rf'<p class="error" id="{re.escape(field)}-msg" role="alert">([^<]*)</p>', page)
    assert found, f"no error shown under {field}"
    return found.group(1)


def day(value: datetime.datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.month}月{local.day}日"


def make_member(tree, user, **changes) -> Member:
    app, _ = services.application_submit(actor=user, **{
        "name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract",
        "employer_id": tree.nantou_employer.pk, "consent": True, **changes})
    return services.application_approve(actor=tree.root_admin, application=app)


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_login_and_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("url", PAGES)
def test_staff_accounts_are_refused(client, tree, url):
    client.force_login(staff_on(tree.nantou_union, "staff"))
    assert client.get(url)["Location"] == "/"


def test_staff_cannot_submit_a_join(client, tree):
    client.force_login(StaffFactory())
    response = client.post("/membership/join/", join_data(tree))
    assert response["Location"] == "/"
    assert Application.objects.count() == 0


def test_lookups_need_a_worker_login(client):
    assert client.get("/membership/lookup/employer/", {"employer_q": "南头"})["Location"].startswith("/login/")
    assert client.get("/membership/lookup/places/")["Location"].startswith("/login/")
    assert client.get("/membership/card/qr/")["Location"].startswith("/login/")


def test_home_page_links_to_the_membership_hub(client, worker):
    assert 'href="/membership/"' in client.get("/").content.decode()


# --- Hub and join -------------------------------------------------------------------------------


def test_hub_invites_a_worker_who_is_not_a_member(client, worker):
    page = client.get("/membership/").content.decode()
    assert "您还不是工会会员" in page
    assert 'href="/membership/join/"' in page and "一键入会" in page
    assert "暂无消息" in page


def test_join_form_has_every_field_and_shows_the_phone_masked(client, worker):
    page = client.get("/membership/join/").content.decode()
    for name in ("name", "id_number", "employment_form", "employer_q", "employer_name", "employer_uscc", "job_title",
                 "occupation_q", "consent", "platform_role", "platform_q"):
        assert f'name="{name}"' in page, name
    assert re.search(r'id="id_number"[^>]*inputmode="text"', page)
    assert "性别和出生日期从身份证号中读取" in page
    assert "139****5678" in page and "13912345678" not in page
    assert 'href="/membership/consent/"' in page
    for label in ("劳动合同", "劳务派遣", "灵活就业", "平台网约", "快递员", "外卖骑手"):
        assert label in page
    # The place picker starts with the provinces.
    assert '<option value="440000">广东省</option>' in page


def test_join_creates_one_application_and_the_hub_shows_union_reason_and_deadline(client, worker, tree):
    response = client.post("/membership/join/", join_data(tree, job_title="装配工"))
    assert response.status_code == 302 and response["Location"] == "/membership/"
    app = Application.objects.get()
    assert app.user == worker and app.org == tree.nantou_union and app.job_title == "装配工"
    assert app.consent_version and app.phone_masked == "139****5678"

    page = client.get("/membership/").content.decode()
    assert "入会申请已提交" in page
    assert f"已提交至「{tree.nantou_union.name}」" in page
    assert app.route_reason in page
    assert f"须在{day(app.due_at)}（含）前答复" in page
    assert 'name="application_id"' in page and "撤回申请" in page
    assert app.id_number not in page and app.id_masked in page


def test_a_repeated_join_post_shows_the_pending_application_instead_of_a_second_one(client, worker, tree):
    data = join_data(tree)
    first = client.post("/membership/join/", data)
    again = client.post("/membership/join/", data, follow=True)
    assert first.status_code == 302
    assert again.redirect_chain == [("/membership/", 302)]
    page = again.content.decode()
    assert "正在审批中，无需重复提交" in page
    assert f"已提交至「{tree.nantou_union.name}」" in page
    assert Application.objects.count() == 1


def test_the_join_form_is_not_offered_again_while_pending(client, worker, tree):
    client.post("/membership/join/", join_data(tree))
    response = client.get("/membership/join/", follow=True)
    assert response.redirect_chain == [("/membership/", 302)]
    assert "请勿重复提交" in response.content.decode()


def test_a_double_tap_after_an_automatic_approval_shows_the_membership(client, worker, tree):
    services.policy_set(actor=tree.root_admin, org=tree.nantou_union, auto_approve=True)
    data = join_data(tree)
    first = client.post("/membership/join/", data, follow=True)
    assert "入会成功" in first.content.decode()
    again = client.post("/membership/join/", data, follow=True)
    page = again.content.decode()
    assert again.redirect_chain == [("/membership/", 302)]
    assert f"您已是「{tree.nantou_union.name}」的会员" in page
    assert Member.objects.count() == 1 and Application.objects.count() == 1


def test_field_errors_are_shown_next_to_their_fields_and_the_input_is_kept(client, worker, tree):
    response = client.post("/membership/join/", join_data(tree, name="", id_number=None))
    page = response.content.decode()
    assert response.status_code == 400
    assert error_next_to(page, "name") == "请填写姓名"
    assert re.search(r'id="name"[^>]*aria-invalid="true"', page)
    assert 'href="#f-name"' in page  # the summary at the top links to the field
    assert Application.objects.count() == 0


def test_every_mistake_is_shown_at_once(client, worker, tree):
    data = join_data(tree, name="张3", id_number="110105194912310021", employer_id=None, consent=None,
                     job_title="岗" * 101)
    page = client.post("/membership/join/", data).content.decode()
    assert error_next_to(page, "name") == "姓名中不能包含“3”，请填写身份证上的姓名"
    assert error_next_to(page, "id_number") == "身份证号校验位不正确，请核对每一位数字（尤其是最后一位）"
    assert error_next_to(page, "employer") == "签订劳动合同或劳务派遣的职工请选择或填写所在单位"
    assert error_next_to(page, "consent") == "请阅读并同意《个人信息处理规则》后再提交"
    assert "请修改以下4项后再提交" in page
    assert Application.objects.count() == 0


@pytest.mark.parametrize("number, message", [
    ("110105194912310021", "身份证号校验位不正确，请核对每一位数字（尤其是最后一位）"),
    ("11010519491231002", "身份证号应为18位，您填写了17位"),
    ("110105199902300011", "身份证号中的出生日期 19990230 不是有效日期，请检查第7至14位"),
])
def test_an_invalid_id_number_says_what_is_wrong(client, worker, tree, number, message):
    page = client.post("/membership/join/", join_data(tree, id_number=number, name="李四")).content.decode()
    assert error_next_to(page, "id_number") == message
    assert 'value="李四"' in page and f'value="{number}"' in page
    assert Application.objects.count() == 0


def test_consent_is_required(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, consent=None)).content.decode()
    assert error_next_to(page, "consent") == "请阅读并同意《个人信息处理规则》后再提交"
    assert Application.objects.count() == 0


def test_a_contract_worker_must_give_an_employer(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, employer_id=None)).content.decode()
    assert error_next_to(page, "employer") == "签订劳动合同或劳务派遣的职工请选择或填写所在单位"


def test_an_unlisted_employer_needs_its_place_and_a_valid_code(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, employer_id=None, employer_name="深圳市某某科技有限公司"))
    page = page.content.decode()
    assert error_next_to(page, "place") == "请选择单位所在地（乡镇或街道）"
    assert "<details class=\"manual\" open>" in page  # the manual employer part stays open
    bad = client.post("/membership/join/", join_data(tree, employer_id=None, employer_name="深圳市某某科技有限公司",
                                                      employer_uscc="123", place="440305001")).content.decode()
    assert error_next_to(bad, "employer_uscc")
    assert Application.objects.count() == 0


def test_an_unlisted_employer_is_routed_by_the_place_picked(client, worker, tree):
    data = join_data(tree, employer_id=None, employer_name="深圳市某某科技有限公司")
    data["place"] = ["440000", "440300", "440305", "440305007"]
    assert client.post("/membership/join/", data).status_code == 302
    app = Application.objects.get()
    assert app.org == tree.yuehai and app.employer_name == "深圳市某某科技有限公司"
    assert app.work_division_id == "440305007"


def test_a_picked_employer_ignores_a_place_left_in_the_picker(client, worker, tree):
    data = join_data(tree, employer_id=tree.futian_employer.pk)
    data["place"] = ["440000", "440300", "440305", "440305007"]
    client.post("/membership/join/", data)
    assert Application.objects.get().org == tree.futian_union


def test_a_flexible_worker_without_employer_joins_where_they_live(client, worker, tree):
    data = join_data(tree, employer_id=None, employment_form="flexible")
    data["place"] = ["440000", "440300", "440305", "440305007"]
    client.post("/membership/join/", data)
    assert Application.objects.get().org == tree.yuehai


def test_a_platform_worker_picks_role_platform_and_occupation(client, worker, tree):
    platform = employer_create(actor=tree.root_admin, org=tree.nanshan, name="深圳市快送网络科技有限公司",
                               uscc=uscc_in("440305"), division_code="440305001", is_platform=True)
    found = client.post("/membership/join/", join_data(tree, action="platform_search", platform_q="快送网络"))
    assert f'name="platform_id" value="{platform.pk}"' in found.content.decode()
    data = join_data(tree, employer_id=None, employment_form="platform", platform_role="courier",
                     platform_id=platform.pk, occupation_code="4-02-07-10")
    data["place"] = ["440000", "440300", "440305", "440305001"]
    response = client.post("/membership/join/", data)
    assert response.status_code == 302, error_next_to(response.content.decode(), "occupation")
    app = Application.objects.get()
    assert app.platform == platform and app.platform_role == "courier" and app.occupation_id == "4-02-07-10"


def test_ids_that_do_not_exist_are_reported_at_their_fields(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, occupation_code="9-99-99-99")).content.decode()
    assert error_next_to(page, "occupation") == "职业代码 9-99-99-99 不在2022版职业分类大典中，请从列表中选择"
    page = client.post("/membership/join/", join_data(tree, employer_id="999999999")).content.decode()
    assert error_next_to(page, "employer") == "所选单位不存在，请重新搜索选择"
    page = client.post("/membership/join/", join_data(tree, employment_form="platform",
                                                      platform_id=tree.nantou_employer.pk)).content.decode()
    assert error_next_to(page, "platform") == "所选平台不存在，请重新选择"
    assert Application.objects.count() == 0


# --- Searching and picking without JavaScript, and as htmx partials -------------------------------


def test_employer_search_step_keeps_the_form_and_lists_radio_choices(client, worker, tree):
    response = client.post("/membership/join/", join_data(tree, action="employer_search", employer_id=None,
                                                           employer_q="南头精密", name="王五"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="employer_id" value="{tree.nantou_employer.pk}"' in page
    assert tree.nantou_employer.name in page and 'value="王五"' in page
    assert Application.objects.count() == 0


def test_enter_in_the_search_box_searches_instead_of_submitting(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, action="refresh", employer_id=None,
                                                      employer_q="南头精密")).content.decode()
    assert f'name="employer_id" value="{tree.nantou_employer.pk}"' in page
    assert Application.objects.count() == 0


def test_employer_search_by_initials_and_code(client, worker, tree):
    by_code = client.get("/membership/lookup/employer/", {"employer_q": tree.nantou_employer.uscc}).content.decode()
    assert f'value="{tree.nantou_employer.pk}"' in by_code
    initials = tree.nantou_employer.name_initials[:6]
    by_initials = client.get("/membership/lookup/employer/", {"employer_q": initials}).content.decode()
    assert f'value="{tree.nantou_employer.pk}"' in by_initials


def test_employer_search_explains_a_bad_query_and_an_empty_result(client, worker, tree):
    short = client.get("/membership/lookup/employer/", {"employer_q": "南"}).content.decode()
    assert "请至少输入2个字" in short
    none = client.get("/membership/lookup/employer/", {"employer_q": "不存在的单位名"}).content.decode()
    assert "没有找到“不存在的单位名”" in none and "单位不在列表中" in none


def test_a_picked_employer_is_shown_with_a_way_to_pick_again(client, worker, tree):
    page = client.post("/membership/join/", join_data(tree, action="refresh")).content.decode()
    assert f'<input type="hidden" name="employer_id" value="{tree.nantou_employer.pk}">' in page
    assert 'value="employer_clear"' in page
    cleared = client.post("/membership/join/", join_data(tree, action="employer_clear")).content.decode()
    assert 'name="employer_q"' in cleared and 'name="employer_id" value=' not in cleared


def test_occupation_search_by_name_code_and_initials(tree):
    by_name = lookups.occupation_search("快递员")
    assert by_name and all(o.level == 4 for o in by_name) and any(o.name == "快递员" for o in by_name)
    courier = next(o for o in by_name if o.name == "快递员")
    assert courier in lookups.occupation_search(courier.code[:7])
    assert courier in lookups.occupation_search(courier.name_initials)


def test_occupation_lookup_partial(client, worker, tree):
    page = client.get("/membership/lookup/occupation/", {"occupation_q": "快递员"}).content.decode()
    assert 'name="occupation_code"' in page and "快递员" in page
    assert "<html" not in page


def test_place_picker_steps_down_to_the_township_without_javascript(client, worker, tree):
    base = join_data(tree, action="place", employer_id=None)
    step1 = client.post("/membership/join/", {**base, "place": ["440000"]}).content.decode()
    assert '<option value="440300">深圳市</option>' in step1
    step3 = client.post("/membership/join/", {**base, "place": ["440000", "440300", "440305"]}).content.decode()
    assert '<option value="440305001">南头街道</option>' in step3
    done = client.post("/membership/join/", {**base, "place": ["440000", "440300", "440305", "440305001"]})
    assert "已选：广东省 深圳市 南山区 南头街道" in done.content.decode()
    assert Application.objects.count() == 0


def test_changing_a_higher_level_drops_the_stale_lower_choices(client, worker):
    # The province changed to Beijing while Shenzhen's city and district are still submitted.
    page = client.get("/membership/lookup/places/", {"place": ["110000", "440300", "440305"]}).content.decode()
    assert '<option value="110000" selected>北京市</option>' in page
    assert "440300" not in page and '<option value="110101">东城区</option>' in page  # 市辖区 is skipped
    assert "已选" not in page


def test_place_lookup_accepts_values_in_any_order(client, worker):
    page = client.get("/membership/lookup/places/", {"place": ["440305001", "440000", "440305", "440300"]})
    assert "已选：广东省 深圳市 南山区 南头街道" in page.content.decode()


def test_townships_directly_under_a_city_are_reachable(tree):
    chain = lookups.place_chain(["440000", "441900", "441900003"])
    assert [d.code for d in chain] == ["440000", "441900", "441900003"]
    assert lookups.place_code(chain) == "441900003"


# --- Pending, escalated, rejected, withdrawn ----------------------------------------------------


def test_pending_application_can_be_withdrawn_and_joined_again(client, worker, tree):
    client.post("/membership/join/", join_data(tree))
    app = Application.objects.get()
    response = client.post("/membership/application/withdraw/", {"application_id": app.pk}, follow=True)
    assert "入会申请已撤回" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Application.Status.WITHDRAWN
    assert "一键入会" in response.content.decode()


def test_escalated_application_tells_the_worker_who_supervises(client, worker, tree):
    client.post("/membership/join/", join_data(tree))
    app = Application.objects.get()
    services.overdue_escalate(now=app.due_at + datetime.timedelta(minutes=1))
    page = client.get("/membership/").content.decode()
    assert f"已提请上级工会「{tree.nantou.name}」督办" in page
    assert "您的入会申请已提请督办" in page  # the notice


def test_rejected_application_shows_the_reason_and_a_new_application_button(client, worker, tree):
    client.post("/membership/join/", join_data(tree))
    services.application_reject(actor=tree.root_admin, application=Application.objects.get(), reason="不是本单位职工")
    page = client.get("/membership/").content.decode()
    assert "未通过" in page and "不是本单位职工" in page
    assert "重新申请" in page and 'href="/membership/join/"' in page
    assert client.get("/membership/join/").status_code == 200


# --- Member, card ------------------------------------------------------------------------------


def test_member_hub_shows_card_link_union_number_and_actions(client, worker, tree):
    member = make_member(tree, worker)
    page = client.get("/membership/").content.decode()
    assert member.member_no_display in page and tree.nantou_union.name in page
    assert f"{member.joined_on.year}年{member.joined_on.month}月{member.joined_on.day}日" in page
    for href in ("/membership/card/", "/membership/transfer/", "/membership/correct/", "/membership/leave/"):
        assert f'href="{href}"' in page
    assert "入会申请已批准" in page  # the notice
    assert member.id_number not in page


def test_card_shows_an_svg_qr_that_verifies_and_no_full_id_number(client, worker, tree):
    member = make_member(tree, worker)
    response = client.get("/membership/card/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert '<svg class="qr"' in page
    assert member.name in page and member.member_no_display in page and tree.nantou_union.name in page
    assert member.id_number not in page and member.phone not in page
    assert 'hx-trigger="every 60s, refresh"' in page and 'href="/membership/card/"' in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript the page reloads itself
    partial = client.get("/membership/card/qr/", headers={"HX-Request": "true"}).content.decode()
    assert '<svg class="qr"' in partial and "<html" not in partial


def test_card_token_in_the_qr_verifies(worker, tree):
    member = make_member(tree, worker)
    token, expires_at = cards.card_token_issue(member)
    assert cards.card_verify(token)["status"] == "valid"
    assert expires_at > timezone.now()


def test_card_revoke_changes_the_card_key(client, worker, tree):
    member = make_member(tree, worker)
    token, _ = cards.card_token_issue(member)
    page = client.get("/membership/card/").content.decode()
    assert "手机丢失？作废旧二维码" in page and 'action="/membership/card/revoke/"' in page
    assert client.get("/membership/card/revoke/").status_code == 405
    response = client.post("/membership/card/revoke/", follow=True)
    assert "已全部作废" in response.content.decode()
    assert cards.card_verify(token)["status"] == "revoked"


def test_card_is_for_members_only(client, worker, tree):
    assert client.get("/membership/card/")["Location"] == "/membership/"
    client.post("/membership/join/", join_data(tree))
    assert client.get("/membership/card/")["Location"] == "/membership/"
    assert "电子会员卡已不可用" in client.get("/membership/card/qr/").content.decode()


def test_suspended_member_sees_the_status_but_no_card(client, worker, tree):
    member = make_member(tree, worker)
    services.member_set_status(actor=tree.root_admin, member=member, status=MemberStatus.SUSPENDED, reason="欠缴会费")
    page = client.get("/membership/").content.decode()
    assert "暂停" in page and "电子会员卡暂不可用" in page
    response = client.get("/membership/card/", follow=True)
    assert "电子会员卡暂不可用" in response.content.decode()


def test_roster_member_with_the_login_phone_is_claimed_with_the_id_number(client, worker, tree):
    other = WorkerFactory()
    member = make_member(tree, other)
    Member.objects.filter(pk=member.pk).update(user=None, phone_hash=worker.phone_hash)
    page = client.get("/membership/").content.decode()
    assert "认领会籍" in page and member.member_no_display not in page  # the phone alone shows nothing
    client.post("/membership/claim/", {"id_number": member.id_number})
    assert member.member_no_display in client.get("/membership/").content.decode()


# --- Transfer -----------------------------------------------------------------------------------


def test_transfer_preview_names_the_receiving_union_and_submit_creates_it(client, worker, tree):
    member = make_member(tree, worker)
    form = client.get("/membership/transfer/").content.decode()
    assert 'name="employer_q"' in form and "居住地" in form and 'name="home"' in form
    data = {"action": "preview", "employment_form": "labor_contract", "employer_id": tree.futian_employer.pk,
            "home": ["440000", "440300", "440305", "440305007"]}
    preview = client.post("/membership/transfer/", data).content.decode()
    assert f"将转入「{tree.futian_union.name}」" in preview
    assert "原工会不能阻止接转" in preview and member.org.name in preview
    assert Transfer.objects.count() == 0
    assert 'name="action" value="submit"' in preview and f'name="employer_id" value="{tree.futian_employer.pk}"' in preview

    response = client.post("/membership/transfer/", {**data, "action": "submit"}, follow=True)
    page = response.content.decode()
    tr = Transfer.objects.get()
    assert tr.to_org == tree.futian_union and tr.status == Transfer.Status.PENDING
    assert response.redirect_chain == [("/membership/", 302)]
    assert f"转入「{tree.futian_union.name}」" in page and f"须在{day(tr.due_at)}（含）前办理" in page


def test_transfer_without_employer_goes_to_the_union_where_the_member_works(client, worker, tree):
    make_member(tree, worker)
    data = {"action": "submit", "employment_form": "flexible", "place": ["440000", "440300", "440305", "440305007"]}
    client.post("/membership/transfer/", data)
    assert Transfer.objects.get().to_org == tree.yuehai


def test_transfer_to_an_employer_without_union_goes_to_the_residence_union(client, worker, tree):
    make_member(tree, worker)
    data = {"action": "preview", "employment_form": "labor_contract", "employer_name": "深圳市福田某某餐饮有限公司",
            "place": ["440000", "440300", "440304", "440304004"], "home": ["440000", "440300", "440305", "440305007"]}
    preview = client.post("/membership/transfer/", data).content.decode()
    assert f"将转入「{tree.yuehai.name}」" in preview and "居住地" in preview
    assert 'name="home" value="440305007"' in preview  # carried to the confirm button
    client.post("/membership/transfer/", {**data, "action": "submit"})
    tr = Transfer.objects.get()
    assert tr.to_org == tree.yuehai and tr.employer_name == "深圳市福田某某餐饮有限公司"


def test_a_half_chosen_residence_is_not_silently_dropped(client, worker, tree):
    make_member(tree, worker)
    data = {"action": "preview", "employment_form": "labor_contract", "employer_id": tree.futian_employer.pk,
            "home": ["440000", "440300"]}
    page = client.post("/membership/transfer/", data).content.decode()
    assert error_next_to(page, "home") == "请把居住地选到乡镇（街道），不确定可以不填"


def test_transfer_errors_are_shown_at_the_fields(client, worker, tree):
    make_member(tree, worker)
    page = client.post("/membership/transfer/", {"action": "preview", "employment_form": "flexible"}).content.decode()
    assert error_next_to(page, "place") == "请选择您工作或居住的乡镇（街道）"
    same = client.post("/membership/transfer/", {"action": "preview", "employment_form": "labor_contract",
                                                 "employer_id": tree.nantou_employer.pk}).content.decode()
    assert "无需接转" in same and 'value="submit"' not in same


def test_pending_transfer_can_be_cancelled(client, worker, tree):
    member = make_member(tree, worker)
    tr, _ = services.transfer_request(actor=worker, member=member, employment_form="labor_contract",
                                      employer_id=tree.futian_employer.pk)
    page = client.get("/membership/transfer/").content.decode()
    assert "取消接转" in page and f'name="transfer_id" value="{tr.pk}"' in page
    client.post("/membership/transfer/cancel/", {"transfer_id": tr.pk})
    tr.refresh_from_db()
    member.refresh_from_db()
    assert tr.status == Transfer.Status.CANCELLED and member.status == MemberStatus.ACTIVE


# --- Corrections and leaving ----------------------------------------------------------------------


def test_correction_form_is_multipart_and_a_request_shows_as_pending(client, worker, tree):
    make_member(tree, worker)
    form = client.get("/membership/correct/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    response = client.post("/membership/correct/", {"action": "submit", "name": "张叁", "job_title": "质检员"},
                           follow=True)
    page = response.content.decode()
    cr = ChangeRequest.objects.get()
    assert cr.changes == {"name": "张叁", "job_title": "质检员"}
    assert "信息更正已提交" in page and "待审核" in page and "张叁" in page
    assert 'name="action" value="submit"' not in page  # no second request while one is pending


def test_id_number_correction_needs_evidence_of_the_right_kind(client, worker, tree):
    member = make_member(tree, worker)
    new_number = make_id_number()
    page = client.post("/membership/correct/", {"action": "submit", "id_number": new_number}).content.decode()
    assert error_next_to(page, "evidence") == "更正身份证号需要上传身份证照片或扫描件作为证明"
    text = SimpleUploadedFile("id.txt", b"not an image", content_type="text/plain")
    page = client.post("/membership/correct/", {"action": "submit", "id_number": new_number, "evidence": text})
    assert error_next_to(page.content.decode(), "evidence") == "证明材料只能是 JPG、PNG 图片或 PDF 文件"
    assert ChangeRequest.objects.count() == 0

    photo = SimpleUploadedFile("id.png", PNG, content_type="image/png")
    response = client.post("/membership/correct/", {"action": "submit", "id_number": new_number, "evidence": photo},
                           follow=True)
    cr = ChangeRequest.objects.get()
    assert cr.evidence_name == "证明材料.png"
    page = response.content.decode()
    assert new_number not in page and member.id_number not in page
    assert cr.changes["id_number"] in page  # masked


def test_an_evidence_file_over_10_mb_is_refused(client, worker, tree):
    make_member(tree, worker)
    big = SimpleUploadedFile("id.png", PNG + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    response = client.post("/membership/correct/", {"action": "submit", "id_number": make_id_number(), "evidence": big})
    assert response.status_code == 400
    assert "证明材料不能超过10MB" in error_next_to(response.content.decode(), "evidence")
    assert ChangeRequest.objects.count() == 0


def test_a_wrongly_registered_employer_is_corrected_by_search(client, worker, tree):
    make_member(tree, worker)
    found = client.post("/membership/correct/", {"action": "employer_search", "employer_q": "福田商贸"}).content.decode()
    assert f'name="employer_id" value="{tree.futian_employer.pk}"' in found
    bad = client.post("/membership/correct/", {"action": "submit", "employer_id": "999999999"}).content.decode()
    assert error_next_to(bad, "employer_id") == "所选单位不存在，请重新搜索选择"
    phone = client.post("/membership/correct/", {"action": "submit", "phone": "12345"}).content.decode()
    assert error_next_to(phone, "phone") == "请输入正确的11位手机号码（以1开头）"
    assert ChangeRequest.objects.count() == 0
    client.post("/membership/correct/", {"action": "submit", "employer_id": tree.futian_employer.pk})
    assert ChangeRequest.objects.get().changes == {"employer_id": tree.futian_employer.pk,
                                                    "employer_label": tree.futian_employer.name}


def test_an_empty_correction_says_so(client, worker, tree):
    make_member(tree, worker)
    page = client.post("/membership/correct/", {"action": "submit"}).content.decode()
    assert "没有需要更正的内容" in page


def test_leaving_asks_for_confirmation_then_ends_the_membership(client, worker, tree):
    member = make_member(tree, worker)
    confirm = client.get("/membership/leave/").content.decode()
    assert "确认退会" in confirm and member.member_no_display in confirm
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    response = client.post("/membership/leave/", {"reason": "个人原因"}, follow=True)
    member.refresh_from_db()
    assert member.status == MemberStatus.WITHDRAWN
    page = response.content.decode()
    assert "您已退会" in page and "一键入会" in page and "为您保留" in page
    assert client.get("/membership/card/")["Location"] == "/membership/"


# --- One worker never reaches another's data -------------------------------------------------------


def test_a_worker_cannot_see_or_touch_another_workers_application(client, worker, tree):
    other = WorkerFactory()
    app, _ = services.application_submit(actor=other, name="赵六", id_number=make_id_number(),
                                         employment_form="labor_contract", employer_id=tree.nantou_employer.pk,
                                         consent=True)
    page = client.get("/membership/").content.decode()
    assert "赵六" not in page and app.id_masked not in page and "您还不是工会会员" in page
    response = client.post("/membership/application/withdraw/", {"application_id": app.pk})
    assert response.status_code == 404 and "不存在或无权访问" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Application.Status.PENDING


def test_a_worker_cannot_cancel_another_workers_transfer_or_see_their_card(client, worker, tree):
    other = WorkerFactory()
    member = make_member(tree, other)
    tr, _ = services.transfer_request(actor=other, member=member, employment_form="labor_contract",
                                      employer_id=tree.futian_employer.pk)
    response = client.post("/membership/transfer/cancel/", {"transfer_id": tr.pk})
    assert response.status_code == 404
    tr.refresh_from_db()
    assert tr.status == Transfer.Status.PENDING
    for url in ("/membership/", "/membership/card/", "/membership/transfer/", "/membership/correct/"):
        body = client.get(url, follow=True).content.decode()
        assert member.member_no_display not in body and member.name not in body
    assert client.post("/membership/application/withdraw/", {"application_id": "abc"}).status_code == 404


def test_submits_are_rate_limited(client, worker, tree, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "join_user_hour": (1, 3600)}
    client.post("/membership/join/", join_data(tree, consent=None))
    response = client.post("/membership/join/", join_data(tree))
    assert response.status_code == 429
    assert "提交过于频繁" in error_next_to_form(response.content.decode())
    assert Application.objects.count() == 0


def error_next_to_form(page: str) -> str:
    found = re.search(r'<p class="error" id="f-form" role="alert">([^<]*)</p>', page)
    assert found
    return found.group(1)


def test_consent_page_names_purpose_data_retention_viewers_masking_and_rights(client, settings):
    page = client.get("/membership/consent/").content.decode()
    assert settings.GONGHUI_CONSENT_VERSION in page
    for text in ("处理目的", "收集哪些信息", "保存多久", "谁能看到", "遮挡", "更正", "撤回", "退会", "12351"):
        assert text in page


def test_notices_are_marked_new_once_then_read(client, worker, tree):
    app, _ = services.application_submit(actor=worker, name="张三", id_number=make_id_number(),
                                         employment_form="labor_contract", employer_id=tree.nantou_employer.pk,
                                         consent=True)
    services.application_reject(actor=tree.root_admin, application=app, reason="请补充劳动合同信息")
    first = client.get("/membership/").content.decode()
    assert "请补充劳动合同信息" in first and 'class="badge-new"' in first
    second = client.get("/membership/").content.decode()
    assert "请补充劳动合同信息" in second and 'class="badge-new"' not in second

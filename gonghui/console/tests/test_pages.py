"""Console pages as a union official uses them: access, forms, errors, audit."""

from __future__ import annotations

import re
import secrets

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.models import User
from gonghui.console.forms import role_choices
from gonghui.core.models import AuditEntry
from gonghui.orgs import services
from gonghui.orgs.models import ROLE_RANK, Employer, Grant, OrgMove, OrgUnit, Role
from gonghui.testing.fixtures import PASSWORD, StaffFactory, WorkerFactory, staff_on, uscc_in

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def token() -> str:
    return secrets.token_urlsafe(18)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def nanshan_admin(tree):
    return staff_on(tree.nanshan, Role.ADMIN, username="nanshan-admin")


@pytest.fixture
def futian_admin(tree):
    return staff_on(tree.futian, Role.ADMIN, username="futian-admin")


@pytest.fixture
def as_nanshan(nanshan_admin):
    return client_for(nanshan_admin)


@pytest.fixture
def as_futian(futian_admin):
    return client_for(futian_admin)


# --- Access: every page for the node's admin, a sibling county's admin, a worker, nobody --------


def _pages(tree, grant):
    """(method, url, data) for every console page about a Nanshan object."""
    return [
        ("get", reverse("console:org_detail", args=[tree.nanshan.pk]), None),
        ("get", reverse("console:org_detail", args=[tree.nantou_union.pk]), None),
        ("get", reverse("console:org_children", args=[tree.nanshan.pk]), None),
        ("get", reverse("console:org_employers", args=[tree.nantou.pk]), None),
        ("get", reverse("console:union_edit", args=[tree.nantou.pk]), None),
        ("get", reverse("console:union_create", args=[tree.nantou.pk]), None),
        ("get", reverse("console:employer_create", args=[tree.nantou.pk]), None),
        ("get", reverse("console:org_move", args=[tree.nantou_union.pk]), None),
        ("get", reverse("console:grant_create", args=[tree.nantou.pk]), None),
        ("get", reverse("console:staff_create", args=[tree.nantou.pk]), None),
        ("get", reverse("console:employer_detail", args=[tree.nantou_employer.pk]), None),
        ("get", reverse("console:employer_edit", args=[tree.nantou_employer.pk]), None),
        ("get", reverse("console:audit") + f"?org={tree.nantou.pk}", None),
        ("post", reverse("console:union_edit", args=[tree.nantou_union.pk]), {"name": "改名工会"}),
        (
            "post",
            reverse("console:union_create", args=[tree.nantou.pk]),
            {"kind": "grassroots", "name": "越权工会", "form_token": token()},
        ),
        (
            "post",
            reverse("console:employer_create", args=[tree.nantou.pk]),
            {"name": "越权单位", "uscc": uscc_in("440305001"), "division_code": "440305001", "form_token": token()},
        ),
        ("post", reverse("console:employer_edit", args=[tree.nantou_employer.pk]), {"name": "改名单位"}),
        (
            "post",
            reverse("console:org_move", args=[tree.nantou_union.pk]),
            {"new_parent_id": tree.yuehai.pk, "form_token": token()},
        ),
        (
            "post",
            reverse("console:grant_create", args=[tree.nantou.pk]),
            {"username": "someone", "role": "viewer", "form_token": token()},
        ),
        (
            "post",
            reverse("console:staff_create", args=[tree.nantou.pk]),
            {"username": "new-staff", "display_name": "新人", "role": "viewer", "form_token": token()},
        ),
        ("post", reverse("console:grant_revoke", args=[grant.pk]), {}),
    ]


@pytest.fixture
def nantou_grant(tree):
    staff_on(tree.nantou, Role.STAFF, username="nantou-staff")
    return Grant.objects.get(user__username="nantou-staff")


def test_every_page_renders_for_the_nodes_admin(tree, as_nanshan, nantou_grant):
    for method, url, _data in _pages(tree, nantou_grant):
        if method == "get":
            response = as_nanshan.get(url, headers={"HX-Request": "true"} if url.endswith("/employers/") else {})
            assert response.status_code == 200, url
    for url in [reverse("console:search") + "?q=南头", reverse("console:audit"), reverse("console:security")]:
        assert as_nanshan.get(url).status_code == 200, url
    assert as_nanshan.get(reverse("console:home"))["Location"] == reverse("console:org_detail", args=[tree.nanshan.pk])


def test_a_sibling_county_admin_gets_404_everywhere_and_changes_nothing(tree, as_futian, nantou_grant):
    before = (OrgUnit.objects.count(), Employer.objects.count(), Grant.objects.count(), AuditEntry.objects.count())
    for method, url, data in _pages(tree, nantou_grant):
        response = getattr(as_futian, method)(url, data or {})
        assert response.status_code == 404, url
        assert "不存在或无权访问" in text(response), url
    after = (OrgUnit.objects.count(), Employer.objects.count(), Grant.objects.count(), AuditEntry.objects.count())
    assert after == before
    assert OrgMove.objects.count() == 0
    assert User.objects.filter(username="new-staff").count() == 0


def test_a_worker_cannot_use_the_console(tree, nantou_grant):
    worker = client_for(WorkerFactory())
    for method, url, data in _pages(tree, nantou_grant) + [("get", reverse("console:home"), None)]:
        response = getattr(worker, method)(url, data or {})
        assert response.status_code == 403, url
        assert "职工账户不能使用工作台" in text(response)
    assert Grant.objects.filter(pk=nantou_grant.pk).exists()


def test_anonymous_visitors_are_sent_to_the_login_page(tree, nantou_grant):
    anonymous = Client()
    for method, url, _data in _pages(tree, nantou_grant):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("console:login"))


def test_unknown_and_malformed_ids_are_the_consoles_404(as_nanshan):
    for org_id in ["999999999", "abc", "99999999999999999999999", "-1"]:
        response = as_nanshan.get(f"/console/orgs/{org_id}/")
        assert response.status_code == 404
        assert "工会组织不存在或无权访问" in text(response)
    assert as_nanshan.get("/console/employers/0/").status_code == 404


# --- Login, logout, two-factor ------------------------------------------------------------------


def test_staff_log_in_with_username_and_password_and_land_on_their_node(tree, nanshan_admin):
    client = Client()
    response = client.post(reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:org_detail", args=[tree.nanshan.pk])
    assert "南山区总工会" in text(response)


def test_login_returns_to_the_page_asked_for(tree, nanshan_admin):
    client = Client()
    wanted = reverse("console:org_detail", args=[tree.nantou.pk])
    response = client.get(wanted)
    assert response["Location"] == f"{reverse('console:login')}?next={wanted}"
    response = client.post(
        reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD, "next": wanted}
    )
    assert response["Location"] == wanted
    response = client.post(
        reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("console:home")


def test_node_page_query_count_does_not_grow_with_rows(tree, as_nanshan, nanshan_admin, django_assert_max_num_queries):
    for i in range(25):
        services.employer_create(
            actor=nanshan_admin,
            org=tree.nantou,
            name=f"南头计数单位{i}有限公司",
            uscc=uscc_in("440305001"),
            division_code="440305001",
        )
    staff_on(tree.nanshan, Role.VIEWER)
    with django_assert_max_num_queries(15):
        response = as_nanshan.get(reverse("console:org_detail", args=[tree.nanshan.pk]))
    assert response.status_code == 200


def test_wrong_password_and_lockout_are_explained(nanshan_admin):
    client = Client()
    response = client.post(reverse("console:login"), {"username": "nanshan-admin", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in text(response)
    for _ in range(5):
        client.post(reverse("console:login"), {"username": "nanshan-admin", "password": "wrong-password"})
    response = client.post(reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD})
    assert "账户已临时锁定" in text(response)
    assert "_auth_user_id" not in client.session


def test_a_worker_cannot_log_in_to_the_console():
    worker = WorkerFactory()
    worker.set_password("worker-password-1")
    worker.save()
    response = Client().post(reverse("console:login"), {"username": worker.username, "password": "worker-password-1"})
    assert "用户名或密码错误" in text(response)


def test_login_asks_for_the_code_when_a_device_is_bound(tree, nanshan_admin):
    device = TOTPDevice.objects.create(user=nanshan_admin, name="工作台动态口令", confirmed=True)
    client = Client()
    response = client.post(reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD})
    assert "请输入动态口令" in text(response)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    response = client.post(
        reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD, "otp": f"{code:06d}"}
    )
    assert response.status_code == 302
    assert client.get(reverse("console:org_detail", args=[tree.nanshan.pk])).status_code == 200


def test_logout_is_a_post(as_nanshan):
    assert as_nanshan.get(reverse("console:logout")).status_code == 405
    response = as_nanshan.post(reverse("console:logout"))
    assert response["Location"] == reverse("console:login")
    assert as_nanshan.get(reverse("console:home")).status_code == 302


@override_settings(GONGHUI_STAFF_2FA_REQUIRED=True, OTP_TOTP_THROTTLE_FACTOR=0)
def test_when_2fa_is_required_staff_must_enrol_before_anything_else(tree, nanshan_admin):
    client = Client()
    response = client.post(reverse("console:login"), {"username": "nanshan-admin", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(reverse("console:org_detail", args=[tree.nanshan.pk]))
    assert response["Location"] == reverse("console:security")
    assert client.get(reverse("console:search") + "?q=南头").status_code == 302

    page = client.get(reverse("console:security"))
    assert "开始绑定" in text(page)
    client.post(reverse("console:security"), {"action": "begin"})
    page = text(client.get(reverse("console:security")))
    assert "otpauth://totp/" in page and "<svg" in page
    device = TOTPDevice.objects.get(user=nanshan_admin, confirmed=False)

    response = client.post(reverse("console:security"), {"action": "confirm", "otp": "12345"})
    assert "6位数字" in text(response)
    wrong = (TOTP(device.bin_key).token() + 1) % 1_000_000
    response = client.post(reverse("console:security"), {"action": "confirm", "otp": f"{wrong:06d}"})
    assert "动态口令不正确" in text(response)
    assert not TOTPDevice.objects.filter(user=nanshan_admin, confirmed=True).exists()

    code = TOTP(device.bin_key).token()
    response = client.post(reverse("console:security"), {"action": "confirm", "otp": f"{code:06d}"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=nanshan_admin, confirmed=True).count() == 1
    entry = AuditEntry.objects.get(action="staff.totp_enrol")
    assert entry.actor == nanshan_admin and entry.org == tree.nanshan
    assert client.get(reverse("console:org_detail", args=[tree.nanshan.pk])).status_code == 200


def test_staff_without_a_role_see_a_clear_page():
    client = client_for(StaffFactory())
    response = client.get(reverse("console:home"))
    assert response.status_code == 200
    assert "您还没有工作台角色" in text(response)


# --- The node page ------------------------------------------------------------------------------


def test_node_page_shows_chain_facts_stats_staff_and_actions(tree, as_nanshan, nanshan_admin):
    response = as_nanshan.get(reverse("console:org_detail", args=[tree.nantou.pk]))
    page = text(response)
    # Ancestors above the actor's scope are plain text, in-scope ones are links.
    assert f'href="/console/orgs/{tree.national.pk}/"' not in page and "中华全国总工会" in page
    assert f'href="/console/orgs/{tree.nanshan.pk}/"' in page
    assert "乡镇（街道）工会" in page and "440305001" in page
    for label in ["下级工会", "基层工会", "用人单位", "职工人数", "工作人员"]:
        assert label in page
    assert tree.nantou_union.name in page  # the tree
    assert tree.nantou_employer.name in page  # employers of the subtree
    for action in ["新建下级工会", "登记用人单位", "编辑", "授权"]:
        assert action in page
    assert "最近操作" in page and f"/console/audit/?org={tree.nantou.pk}" in page


def test_actions_are_hidden_from_a_viewer(tree):
    viewer = client_for(staff_on(tree.nanshan, Role.VIEWER))
    page = text(viewer.get(reverse("console:org_detail", args=[tree.nantou.pk])))
    assert tree.nantou.name in page
    for name in ["union_create", "employer_create", "union_edit", "grant_create", "staff_create"]:
        assert reverse(f"console:{name}", args=[tree.nantou.pk]) not in page
    assert "btn-danger" not in page  # no revoke buttons
    assert viewer.get(reverse("console:union_create", args=[tree.nantou.pk])).status_code == 403


def test_children_partial_pages_with_load_more(tree, as_nanshan, nanshan_admin):
    for i in range(51):
        services.union_create(actor=nanshan_admin, parent=tree.nantou, name=f"南头测试{i:02d}工会", kind="grassroots")
    url = reverse("console:org_children", args=[tree.nantou.pk])
    first = text(as_nanshan.get(url, HTTP_HX_REQUEST="true"))
    assert first.count('class="tree-row"') == 50 and "加载更多" in first
    cursor = re.search(r'children/\?cursor=([^"]+)"', first).group(1)
    second = text(as_nanshan.get(f"{url}?cursor={cursor}", HTTP_HX_REQUEST="true"))
    assert second.count('class="tree-row"') == 2 and "加载更多" not in second
    # Rows with children carry their own expand button.
    top = text(as_nanshan.get(reverse("console:org_children", args=[tree.nanshan.pk]), HTTP_HX_REQUEST="true"))
    assert f'aria-label="展开 {tree.nantou.name}"' in top
    tampered = as_nanshan.get(f"{url}?cursor=abc", HTTP_HX_REQUEST="true")
    assert tampered.status_code == 400 and "翻页参数无效" in text(tampered)


def test_employers_keyset_paging_and_direct_toggle(tree, as_nanshan, nanshan_admin):
    for _ in range(20):
        services.employer_create(
            actor=nanshan_admin,
            org=tree.nantou,
            name="南头测试单位有限公司",
            uscc=uscc_in("440305001"),
            division_code="440305001",
        )
    url = reverse("console:org_employers", args=[tree.nanshan.pk])
    section = text(as_nanshan.get(url, HTTP_HX_REQUEST="true"))
    assert section.count('data-label="单位名称"') == 20 and "加载更多" in section
    cursor = re.search(r'employers/\?cursor=([^"]+)"', section).group(1)
    rest = text(as_nanshan.get(f"{url}?cursor={cursor}", HTTP_HX_REQUEST="true"))
    assert rest.count('data-label="单位名称"') == 1 and "加载更多" not in rest
    direct = text(as_nanshan.get(url + "?direct=1", HTTP_HX_REQUEST="true"))
    assert "本级暂无直接登记的用人单位" in direct


def test_pending_move_is_shown(tree, as_nanshan, nanshan_admin):
    area = services.union_create(actor=nanshan_admin, parent=tree.nantou, name="南头科技园区工会联合会", kind="area")
    response = as_nanshan.post(
        reverse("console:org_move", args=[tree.nantou_union.pk]), {"new_parent_id": area.pk, "form_token": token()}
    )
    assert response["Location"] == reverse("console:org_detail", args=[tree.nantou_union.pk])
    move = OrgMove.objects.get(node=tree.nantou_union)
    assert move.status == OrgMove.Status.PENDING and move.requested_by == nanshan_admin
    page = text(as_nanshan.get(response["Location"], follow=True))
    assert "迁移处理中" in page and "后台任务" in page


def test_move_page_searches_within_scope_and_explains_what_cannot_be_chosen(tree, as_nanshan):
    url = reverse("console:org_move", args=[tree.nantou_union.pk])
    page = text(as_nanshan.get(url + "?q=粤海街道"))
    # Listed, but explained rather than offered: a 南头 union cannot hang under 粤海 (属地管理).
    assert "粤海街道工会" in page and "不在粤海街道工会的辖区" in page and "移到此处" not in page
    page = text(as_nanshan.get(url + "?q=南山区总工会"))
    assert "移到此处" in page
    page = text(as_nanshan.get(url + "?q=福田"))
    assert tree.futian.name not in page and tree.futian_street.name not in page and "没有找到" in page
    response = as_nanshan.post(url, {"new_parent_id": tree.futian_street.pk, "form_token": token()})
    assert "不存在或无权访问" in text(response)
    assert not OrgMove.objects.exists()


# --- Search -------------------------------------------------------------------------------------


def test_search_by_name_initials_and_code_within_scope(tree, as_nanshan, as_futian):
    page = text(as_nanshan.get(reverse("console:search"), {"q": "南头精密"}))
    assert tree.nantou_union.name in page and tree.nantou_employer.name in page
    page = text(as_nanshan.get(reverse("console:search"), {"q": "szsntjm"}))
    assert tree.nantou_union.name in page
    page = text(as_nanshan.get(reverse("console:search"), {"q": tree.nantou_employer.uscc}))
    assert tree.nantou_employer.name in page
    assert tree.nantou_union.name not in text(as_futian.get(reverse("console:search"), {"q": "南头精密"}))


def test_search_errors_are_chinese_and_live_search_returns_a_fragment(as_nanshan):
    page = text(as_nanshan.get(reverse("console:search"), {"q": "南"}))
    assert "请至少输入2个字" in page
    page = text(as_nanshan.get(reverse("console:search"), {"q": "南" * 150}))
    assert "搜索内容不能超过100个字" in page
    fragment = as_nanshan.get(
        reverse("console:search"), {"q": "南头"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-results"
    )
    assert "<html" not in text(fragment) and "南头街道工会" in text(fragment)


def test_every_page_has_the_search_box(tree, as_nanshan):
    page = text(as_nanshan.get(reverse("console:org_detail", args=[tree.nanshan.pk])))
    assert 'action="/console/search/"' in page and "退出" in page


# --- Forms: unions ------------------------------------------------------------------------------


def test_union_form_offers_only_the_kinds_allowed_under_the_parent(tree, as_nanshan):
    page = text(as_nanshan.get(reverse("console:union_create", args=[tree.nantou.pk])))
    options = re.findall(r'<option value="(\w+)"', page)
    assert options == ["area", "grassroots", "joint"]
    assert tree.nantou_employer.name not in page  # already has a union: not coverable


def test_creating_a_union_through_the_form_covers_employers_and_writes_audit(tree, as_nanshan, nanshan_admin):
    employer = services.employer_create(
        actor=nanshan_admin,
        org=tree.nantou,
        name="深圳市南头新星电子有限公司",
        uscc=uscc_in("440305001"),
        division_code="440305001",
        employee_count=30,
    )
    page = text(as_nanshan.get(reverse("console:union_create", args=[tree.nantou.pk])))
    assert employer.name in page
    data = {
        "kind": "grassroots",
        "name": "深圳市南头新星电子有限公司工会委员会",
        "chair_name": "李明",
        "founded_on": "2024-05-01",
        "employer_ids": [employer.pk],
        "form_token": token(),
    }
    response = as_nanshan.post(reverse("console:union_create", args=[tree.nantou.pk]), data)
    union = OrgUnit.objects.get(name=data["name"])
    assert response["Location"] == reverse("console:org_detail", args=[union.pk])
    assert union.parent == tree.nantou and union.chair_name == "李明" and str(union.founded_on) == "2024-05-01"
    employer.refresh_from_db()
    assert employer.org == union
    entry = AuditEntry.objects.get(action="org.create", object_id=str(union.pk))
    assert entry.actor == nanshan_admin and entry.ip == "127.0.0.1"


def test_a_double_submitted_union_form_creates_one_union(tree, as_nanshan):
    data = {"kind": "grassroots", "name": "深圳市南头重复提交有限公司工会委员会", "form_token": token()}
    url = reverse("console:union_create", args=[tree.nantou.pk])
    first = as_nanshan.post(url, data)
    second = as_nanshan.post(url, data)
    assert OrgUnit.objects.filter(name=data["name"]).count() == 1
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert as_nanshan.post(url, {**data, "form_token": ""}).status_code == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "grassroots", "name": "工" * 201}, "工会名称不能超过200个字（现为201个字）"),
        ({"kind": "grassroots", "name": ""}, "请填写工会名称"),
        ({"kind": "county", "name": "某某工会"}, "乡镇（街道）工会下只能新建"),
        ({"kind": "grassroots", "name": "某某工会", "division_code": "12345"}, "行政区划代码应为6位或9位数字"),
        ({"kind": "grassroots", "name": "某某工会", "division_code": "440304"}, "不在南头街道工会的辖区"),
        ({"kind": "grassroots", "name": "某某工会", "founded_on": "2024-13-01"}, "成立日期格式应为"),
        ({"kind": "grassroots", "name": "某某工会", "employer_ids": ["x"]}, "用人单位编号无效"),
    ],
)
def test_union_form_shows_the_chinese_error_and_creates_nothing(tree, as_nanshan, data, message):
    before = OrgUnit.objects.count(), AuditEntry.objects.count()
    response = as_nanshan.post(reverse("console:union_create", args=[tree.nantou.pk]), {**data, "form_token": token()})
    assert response.status_code == 200
    assert message in text(response)
    assert (OrgUnit.objects.count(), AuditEntry.objects.count()) == before


def test_editing_a_union_saves_and_audits(tree, as_nanshan):
    url = reverse("console:union_edit", args=[tree.nantou_union.pk])
    assert tree.nantou_union.name in text(as_nanshan.get(url))
    response = as_nanshan.post(
        url,
        {
            "name": tree.nantou_union.name,
            "division_code": "440305001",
            "chair_name": "王芳",
            "term_ends_on": "2029-06-30",
        },
    )
    assert response.status_code == 302
    tree.nantou_union.refresh_from_db()
    assert tree.nantou_union.chair_name == "王芳"
    entry = AuditEntry.objects.get(action="org.update")
    assert entry.after == {"chair_name": "王芳", "term_ends_on": "2029-06-30"}
    response = as_nanshan.post(url, {"name": "名" * 201})
    assert "工会名称不能超过200个字" in text(response)


def test_territorial_unions_do_not_offer_a_division_field(tree, as_nanshan):
    page = text(as_nanshan.get(reverse("console:union_edit", args=[tree.nantou.pk])))
    assert 'name="division_code"' not in page


# --- Forms: employers ---------------------------------------------------------------------------


def _employer(**overrides):
    data = {
        "name": "深圳市南头表单测试有限公司",
        "uscc": uscc_in("440305001"),
        "division_code": "440305001",
        "address": "南山区南头街道1号",
        "industry": "制造业",
        "employee_count": "88",
        "form_token": token(),
    }
    return {**data, **overrides}


def test_creating_an_employer_through_the_form_writes_audit(tree, as_nanshan, nanshan_admin):
    data = _employer(is_platform="on")
    response = as_nanshan.post(reverse("console:employer_create", args=[tree.nantou.pk]), data)
    employer = Employer.objects.get(uscc=data["uscc"])
    assert response["Location"] == reverse("console:employer_detail", args=[employer.pk])
    assert employer.org == tree.nantou and employer.employee_count == 88 and employer.is_platform
    entry = AuditEntry.objects.get(action="employer.create", object_id=str(employer.pk))
    assert entry.actor == nanshan_admin and entry.org == tree.nantou
    page = text(as_nanshan.get(response["Location"]))
    assert employer.name in page and data["uscc"] in page and "平台企业" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"uscc": "BAD-CHECK"}, "统一社会信用代码校验位不正确，请核对最后一位"),
        ({"uscc": "91440300MA5ABCDEFI"}, "只能包含数字和大写字母"),
        ({"uscc": "1234"}, "统一社会信用代码应为18位（现为4位）"),
        ({"name": "单" * 201}, "单位名称不能超过200个字（现为201个字）"),
        ({"division_code": "110108"}, "不在南头街道工会的辖区"),
        ({"employee_count": "很多"}, "职工人数应为整数"),
        ({"name": "<script>alert(1)</script>", "uscc": ""}, "请填写统一社会信用代码"),
    ],
)
def test_employer_form_shows_the_chinese_error_and_creates_nothing(tree, as_nanshan, overrides, message):
    if overrides.get("uscc") == "BAD-CHECK":
        valid = uscc_in("440305001")
        overrides = {"uscc": valid[:-1] + ("1" if valid[-1] == "0" else "0")}
    before = Employer.objects.count(), AuditEntry.objects.count()
    response = as_nanshan.post(reverse("console:employer_create", args=[tree.nantou.pk]), _employer(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert (Employer.objects.count(), AuditEntry.objects.count()) == before


def test_duplicate_uscc_points_to_the_existing_employer(tree, as_nanshan):
    response = as_nanshan.post(
        reverse("console:employer_create", args=[tree.nantou.pk]), _employer(uscc=tree.nantou_employer.uscc)
    )
    assert "已登记，请搜索该单位" in text(response)


def test_editing_an_employer(tree, as_nanshan):
    url = reverse("console:employer_edit", args=[tree.nantou_employer.pk])
    response = as_nanshan.post(url, _employer(uscc="123", name=tree.nantou_employer.name))
    assert "统一社会信用代码应为18位" in text(response)
    response = as_nanshan.post(url, _employer(uscc=tree.nantou_employer.uscc, name="深圳市南头精密制造股份有限公司"))
    assert response.status_code == 302
    tree.nantou_employer.refresh_from_db()
    assert tree.nantou_employer.name == "深圳市南头精密制造股份有限公司"
    assert AuditEntry.objects.filter(action="employer.update", object_id=str(tree.nantou_employer.pk)).exists()


# --- Staff and roles ----------------------------------------------------------------------------


def test_role_choices_never_exceed_the_actors_rank():
    for rank in ROLE_RANK.values():
        assert all(ROLE_RANK[Role(value)] <= rank for value, _label in role_choices(rank))
    assert [v for v, _ in role_choices(ROLE_RANK[Role.STAFF])] == ["staff", "viewer"]


def test_role_select_offers_nothing_above_the_actor(tree):
    # Admin of Nantou only: at Nanshan (a viewer there) the page is closed; at Nantou all roles up to admin.
    actor = staff_on(tree.nantou, Role.ADMIN)
    Grant.objects.create(
        user=actor, org=tree.nanshan, org_path=tree.nanshan.path, role=Role.VIEWER, include_descendants=False
    )
    client = client_for(actor)
    response = client.get(reverse("console:grant_create", args=[tree.nanshan.pk]))
    assert response.status_code == 403 and "只有管理员可以授予角色" in text(response)
    page = text(client.get(reverse("console:grant_create", args=[tree.nantou.pk])))
    assert re.findall(r'<option value="(\w+)"', page) == ["admin", "staff", "viewer"]
    page = text(client.get(reverse("console:staff_create", args=[tree.nantou.pk])))
    assert re.findall(r'<option value="(\w+)"', page) == ["admin", "staff", "viewer"]


def test_granting_a_role_through_the_form(tree, as_nanshan, nanshan_admin):
    colleague = StaffFactory(username="nantou-clerk", home_org=tree.nantou)
    StaffFactory(username="futian-clerk", home_org=tree.futian_street)
    url = reverse("console:grant_create", args=[tree.nantou.pk])
    response = as_nanshan.post(url, {"username": "nobody-here", "role": "staff", "form_token": token()})
    assert "工作人员账户不存在或无权访问" in text(response)
    # An account created in another district reads exactly like an unknown one.
    response = as_nanshan.post(url, {"username": "futian-clerk", "role": "staff", "form_token": token()})
    assert "工作人员账户不存在或无权访问" in text(response)
    assert not Grant.objects.filter(user__username="futian-clerk").exists()
    response = as_nanshan.post(url, {"username": "nantou-clerk", "role": "superuser", "form_token": token()})
    assert "角色无效" in text(response)
    response = as_nanshan.post(url, {"username": "nantou-clerk", "role": "staff", "form_token": token()})
    assert response["Location"].endswith("#staff")
    grant = Grant.objects.get(user=colleague)
    assert grant.org == tree.nantou and grant.role == Role.STAFF and not grant.include_descendants
    assert AuditEntry.objects.filter(action="grant.create", actor=nanshan_admin).exists()
    assert "nantou-clerk" in text(as_nanshan.get(reverse("console:org_detail", args=[tree.nantou.pk])))


def test_creating_a_staff_account_shows_the_password_once(tree, as_nanshan):
    url = reverse("console:staff_create", args=[tree.nantou.pk])
    data = {
        "username": "zhang.wei",
        "display_name": "张伟",
        "role": "staff",
        "include_descendants": "on",
        "form_token": token(),
    }
    response = as_nanshan.post(url, data)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = re.search(r'<code class="password">([^<]+)</code>', text(response)).group(1)
    staff = User.objects.get(username="zhang.wei")
    assert staff.check_password(password) and staff.kind == User.Kind.STAFF
    assert Grant.objects.get(user=staff).include_descendants
    again = as_nanshan.post(url, data)
    assert again.status_code == 302 and password not in text(as_nanshan.get(again["Location"]))
    assert User.objects.filter(username="zhang.wei").count() == 1
    response = as_nanshan.post(url, {**data, "form_token": token()})
    assert "用户名 zhang.wei 已被使用" in text(response)
    response = as_nanshan.post(url, {**data, "username": "bad name!", "form_token": token()})
    assert "用户名只能包含" in text(response)


def test_revoking_a_grant(tree, as_nanshan, nanshan_admin, nantou_grant):
    url = reverse("console:grant_revoke", args=[nantou_grant.pk])
    assert as_nanshan.get(url).status_code == 405
    response = as_nanshan.post(url, {"org_id": tree.nantou.pk})
    assert response["Location"] == reverse("console:org_detail", args=[tree.nantou.pk]) + "#staff"
    assert not Grant.objects.filter(pk=nantou_grant.pk).exists()
    assert AuditEntry.objects.filter(action="grant.revoke", actor=nanshan_admin).exists()
    again = as_nanshan.post(url, {"org_id": tree.nantou.pk}, follow=True)
    assert "该授权已不存在" in text(again)


def test_an_admin_cannot_revoke_their_own_grant(tree, as_nanshan, nanshan_admin):
    own = Grant.objects.get(user=nanshan_admin)
    page = text(as_nanshan.get(reverse("console:org_detail", args=[tree.nanshan.pk])))
    assert reverse("console:grant_revoke", args=[own.pk]) not in page
    response = as_nanshan.post(reverse("console:grant_revoke", args=[own.pk]), follow=True)
    assert "不能撤销自己的授权" in text(response)
    assert Grant.objects.filter(pk=own.pk).exists()


# --- Audit --------------------------------------------------------------------------------------


def test_audit_page_is_scoped_filtered_and_paged(tree, as_nanshan, as_futian, nanshan_admin):
    for i in range(50):
        services.union_update(actor=nanshan_admin, org=tree.nantou_union, data={"chair_name": f"主席{i}"})
    page = text(as_nanshan.get(reverse("console:audit")))
    assert page.count('class="audit-item"') == 50 and "更早的记录" in page
    assert "修改工会信息" in page and "主席49" in page
    cursor = re.search(r'cursor=([^"&]+)"', page).group(1)
    older = text(as_nanshan.get(reverse("console:audit") + f"?cursor={cursor}", HTTP_HX_REQUEST="true"))
    assert "<html" not in older and 'class="audit-item"' in older
    futian = text(as_futian.get(reverse("console:audit")))
    assert "主席49" not in futian and tree.nantou_union.name not in futian
    filtered = text(as_nanshan.get(reverse("console:audit"), {"org": tree.yuehai.pk}))
    assert "主席49" not in filtered and "暂无操作记录" in filtered
    assert as_nanshan.get(reverse("console:audit"), {"cursor": "tampered"}).status_code == 400


def test_a_staff_session_ends_after_a_working_day(client, settings):
    from gonghui.testing.fixtures import org_by_division

    staff_on(org_by_division("440305"), username="session-clerk")
    client.post(reverse("console:login"), {"username": "session-clerk", "password": PASSWORD})
    assert client.session.get_expiry_age() == settings.GONGHUI_STAFF_SESSION_SECONDS


def test_move_candidates_are_explained_by_the_services_own_rules(tree):
    shenzhen_admin = staff_on(tree.shenzhen)
    area = services.union_create(actor=shenzhen_admin, parent=tree.nantou, name="南头街道候选测试园区工会联合会",
                                 kind="area")
    page = text(client_for(shenzhen_admin).get(reverse("console:org_move", args=[area.pk]), {"q": "福田街道"}))
    # 福田街道 would take an area federation by kind, but not one located in 南头街道 (属地管理).
    assert "不在福田街道工会的辖区" in page
    assert "移到此处" not in page
    page = text(client_for(shenzhen_admin).get(reverse("console:org_move", args=[area.pk]), {"q": "南山区总工会"}))
    assert "移到此处" in page

"""Console case administration as union officials use it: the numbers (from rollups) and their
export, cluster alerts, the taxonomy, the time limits, and case roles on the grant form."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.analytics.rollups import rollup_read
from gonghui.casedesk import services
from gonghui.casedesk.models import CaseCategory, CaseTimeLimit, ClusterAlert
from gonghui.casedesk.tests.helpers import desk, file_case
from gonghui.core.models import AuditEntry
from gonghui.orgs.models import CaseRole, Grant, OrgUnit, Role
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.fixtures import StaffFactory, WorkerFactory, staff_on

pytestmark = pytest.mark.django_db

WAGES = "公司已经三个月没有发工资了，老板说等回款再发，我们十几个人都没拿到。"


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


def tile(page: str, label: str) -> str:
    match = re.search(rf'<p class="stat-label">{re.escape(label)}</p><p class="stat-value[^"]*">(.*?)</p>', page)
    assert match, label
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.fixture
def world(tree):
    """Three cases in Nanshan (one closed with money recovered and rated 5, one being handled at the
    township, one waiting at the county) and one in Futian."""
    w = tree
    w.d = desk(tree)
    w.nanshan_admin = staff_on(tree.nanshan, Role.ADMIN, username="nanshan-admin")  # no case role
    w.nanshan_viewer = staff_on(tree.nanshan, Role.VIEWER, username="nanshan-viewer")
    w.futian_admin = staff_on(tree.futian, Role.ADMIN, case_role=CaseRole.SUPERVISOR, username="futian-admin")
    w.guangdong_admin = staff_on(tree.guangdong, Role.ADMIN, username="guangdong-admin")
    d = w.d
    w.closed = file_case(WorkerFactory(display_name="张三"), tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=w.closed)
    services.case_resolve(actor=d.grassroots, case=w.closed, result="已协调公司补发三个月工资",
                          money_recovered="12000.00", workers_helped=3)
    services.case_rate_by_phone(actor=d.agent, case=w.closed, score=5)
    services.case_close(actor=d.supervisor, case=w.closed, note="处理及时")
    w.handling = file_case(WorkerFactory(display_name="王五"), employer={"name": "深圳某某餐饮店",
                                                                      "division_code": "440305001"})
    services.case_accept(actor=d.township, case=w.handling)
    w.waiting = file_case(WorkerFactory(display_name="赵六"), division_code="440305", category="no_insurance",
                          description="公司一直没有给我缴纳社会保险，入职已经一年了。")
    w.futian_case = file_case(WorkerFactory(display_name="钱七"), tree.futian_employer)
    return w


def node_pages(w, org=None) -> list[str]:
    n = (org or w.nanshan).pk
    return [
        reverse("console:case_stats", args=[n]),
        reverse("console:case_stats", args=[n]) + "?days=7",
        reverse("console:case_categories", args=[n]),
        reverse("console:case_limits", args=[n]),
    ]


# --- Access ---------------------------------------------------------------------------------------


def test_every_page_renders_for_a_case_handler_of_the_node(world):
    client = client_for(world.d.county)
    for url in node_pages(world) + [reverse("console:case_clusters", args=[world.nanshan.pk]),
                                    reverse("console:case_clusters", args=[world.nanshan.pk]) + "?status=handled"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不存在或无权访问" not in text(response), url
    export = client.get(reverse("console:case_stats_export", args=[world.nanshan.pk]))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def test_staff_without_a_case_role_see_numbers_and_settings_but_not_alerts(world):
    for user in (world.nanshan_admin, world.nanshan_viewer):
        client = client_for(user)
        for url in node_pages(world):
            assert client.get(url).status_code == 200, url
        stats = client.get(reverse("console:case_stats", args=[world.nanshan.pk]))
        assert stats.context["numbers"]["total"] == 3
        response = client.get(reverse("console:case_clusters", args=[world.nanshan.pk]))
        assert response.status_code == 403
        assert "只有有诉求办理权限的人员可以查看群体性诉求预警" in text(response)


def test_a_sibling_county_gets_404_for_every_page_and_changes_nothing(world):
    alert = ClusterAlert.objects.create(
        org=world.nantou_union, org_path=world.nantou_union.path, employer=world.nantou_employer,
        employer_key=f"id:{world.nantou_employer.pk}", employer_name=world.nantou_employer.name,
        category=CaseCategory.objects.get(code="wage_arrears"), first_case_at=world.closed.created_at,
        last_case_at=world.closed.created_at, case_count=5)
    wage = CaseCategory.objects.get(code="wage_arrears")
    client = client_for(world.futian_admin)  # an admin and case supervisor, of Futian
    before = (AuditEntry.objects.count(), CaseCategory.objects.count(), CaseTimeLimit.objects.count())
    gets = node_pages(world) + [
        reverse("console:case_clusters", args=[world.nanshan.pk]),
        reverse("console:case_stats_export", args=[world.nanshan.pk]),
        reverse("console:case_cluster", args=[alert.pk]),
        reverse("console:case_category_edit", args=[world.nanshan.pk, wage.pk]),
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "不存在或无权访问" in text(response), url
    posts = [
        (reverse("console:case_cluster", args=[alert.pk]), {"action": "handle", "note": "已约谈企业负责人"}),
        (reverse("console:case_categories", args=[world.nanshan.pk]),
         {"action": "create", "code": "probe", "name": "试探分类", "parent_id": wage.parent_id}),
        (reverse("console:case_limits", args=[world.nanshan.pk]),
         {"difficulty": "normal", "accept_days": "2", "complete_days": "9", "warn_days": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, {**data, "form_token": token()}).status_code == 404, url
    alert.refresh_from_db()
    assert alert.status == ClusterAlert.Status.OPEN
    assert (AuditEntry.objects.count(), CaseCategory.objects.count(), CaseTimeLimit.objects.count()) == before
    # Futian's own numbers hold nothing of Nanshan's.
    own = client.get(reverse("console:case_stats", args=[world.futian.pk]))
    assert own.context["numbers"]["total"] == 1
    assert {row["org"].pk for row in own.context["children"]} == {world.futian_street.pk}


def test_unknown_and_malformed_ids_are_404(world):
    client = client_for(world.d.county)
    for url in ["/console/cases/orgs/abc/stats/", "/console/cases/orgs/999999/limits/",
                "/console/cases/clusters/abc/", "/console/cases/clusters/999999/",
                f"/console/cases/orgs/{world.nanshan.pk}/categories/abc/",
                f"/console/cases/orgs/{world.nanshan.pk}/categories/999999/"]:
        assert client.get(url).status_code == 404, url


# --- Numbers --------------------------------------------------------------------------------------


def test_the_stats_page_shows_the_rollup_numbers_without_reading_the_case_table(world):
    client = client_for(world.d.county)
    url = reverse("console:case_stats", args=[world.nanshan.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert not [q["sql"] for q in queries.captured_queries if '"casedesk_case"' in q["sql"]]
    page = text(response)
    numbers = response.context["numbers"]
    r = rollup_read(world.nanshan.pk)
    assert (numbers["total"], numbers["open"], numbers["completed"]) == (
        r["cases.total"], r["cases.open"], r["cases.completed"]) == (3, 2, 1)
    assert tile(page, "诉求总数") == "3"
    assert tile(page, "办理中") == "2"
    assert tile(page, "超时未办结") == "0"
    assert tile(page, "按时受理率") == "100.0%"
    assert tile(page, "按时办结率") == "100.0%"
    assert tile(page, "平均满意度") == "5.00"
    assert tile(page, "满意率") == "100.0%"
    assert tile(page, "追回金额（元）") == "12,000.00"
    assert tile(page, "帮助职工（人）") == "3"
    assert tile(page, "近30天新增") == "3"
    assert ("劳动报酬", 2) in response.context["by_category"]
    assert ("社会保险", 1) in response.context["by_category"]
    assert dict(response.context["by_status"]) == {"待受理": 1, "办理中": 1, "待职工补充": 0, "已办结待回访": 0,
                                                   "已结案": 1, "已合并": 0, "已撤回": 0}
    today = response.context["chart"]["trend"][-1]
    assert (today["new"], today["closed"]) == (3, 1)
    nantou = next(row for row in response.context["children"] if row["org"] == world.nantou)
    assert (nantou["total"], nantou["open"], nantou["money_recovered"]) == (2, 1, 12000.0)
    assert {"name": world.nantou.name, "overdue": 0, "open": 1, "done": 1} in response.context["chart"]["children"]
    assert re.search(rf"{world.nantou.name}</a></td>\s*<td[^>]*>2</td>", page)
    assert 'id="case-chart-data"' in page and "echarts-6.0.0.simple.min.js" in page
    week = client.get(url + "?days=7")
    assert len(week.context["chart"]["trend"]) == 7 and week.context["new_total"] == 3
    assert_rollups_match_rebuild(world.national, world.shenzhen, world.nanshan, world.nantou, world.futian)


def test_numbers_follow_the_cases_as_they_are_resolved_and_closed(world):
    client = client_for(world.d.county)
    url = reverse("console:case_stats", args=[world.nanshan.pk])
    services.case_resolve(actor=world.d.township, case=world.handling, result="店主已结清工资",
                          money_recovered="500.50", workers_helped=1)
    services.case_rate_by_phone(actor=world.d.agent, case=world.handling, score=3)
    services.case_close(actor=world.d.supervisor, case=world.handling)
    page = text(client.get(url))
    assert tile(page, "办理中") == "1"
    assert tile(page, "追回金额（元）") == "12,500.50"
    assert tile(page, "平均满意度") == "4.00"
    assert tile(page, "满意率") == "50.0%"
    assert client.get(url).context["closed_total"] == 2
    nantou = client.get(url).context["children"][0]
    assert (nantou["org"], nantou["total"], nantou["open"]) == (world.nantou, 2, 0)


def test_a_grant_on_a_node_alone_sees_no_subtree_totals(world):
    node_only = staff_on(world.nanshan, Role.STAFF, include_descendants=False, case_role=CaseRole.HANDLER)
    client = client_for(node_only)
    response = client.get(reverse("console:case_stats", args=[world.nanshan.pk]))
    assert response.status_code == 200 and response.context["numbers"] is None
    assert "不显示统计数字" in text(response)
    rows = csv_rows(client.get(reverse("console:case_stats_export", args=[world.nanshan.pk])))
    assert len(rows) == 1  # the header only
    # A company union has no unions below it: its totals are its own.
    leaf = staff_on(world.nantou_union, Role.STAFF, include_descendants=False)
    response = client_for(leaf).get(reverse("console:case_stats", args=[world.nantou_union.pk]))
    assert response.context["numbers"]["total"] == 1


def test_the_child_breakdown_export_is_formula_safe_scoped_and_audited(world):
    OrgUnit.objects.filter(pk=world.nantou.pk).update(name="=HYPERLINK(\"http://x\")南头街道")
    client = client_for(world.nanshan_viewer)
    response = client.get(reverse("console:case_stats_export", args=[world.shenzhen.pk]))
    assert response.status_code == 404  # above the viewer's node
    response = client.get(reverse("console:case_stats_export", args=[world.nanshan.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="cases-children-{world.nanshan.pk}.csv"'
    rows = csv_rows(response)
    assert rows[0] == ["下级组织", "组织类型", "诉求总数", "办理中", "超时未办结", "按时受理率", "按时办结率", "追回金额（元）"]
    assert rows[1:] == [["'=HYPERLINK(\"http://x\")南头街道", world.nantou.kind_label, "2", "1", "0", "100.0%",
                         "100.0%", "12000.00"]]
    entry = AuditEntry.objects.get(action="case.stats_export")
    assert (entry.actor_id, entry.org_id, entry.object_id) == (world.nanshan_viewer.pk, world.nanshan.pk,
                                                                str(world.nanshan.pk))
    city = csv_rows(client_for(world.d.agent).get(reverse("console:case_stats_export", args=[world.shenzhen.pk])))
    assert {row[0] for row in city[1:]} == {world.nanshan.name, world.futian.name}


# --- Cluster alerts -------------------------------------------------------------------------------


def test_five_wage_cases_against_one_employer_raise_an_alert_that_a_handler_closes(tree):
    d = desk(tree)
    client = client_for(d.county)
    list_url = reverse("console:case_clusters", args=[tree.nanshan.pk])
    cases = [file_case(WorkerFactory(display_name=f"工人{i}"), tree.nantou_employer, workers_affected=2,
                       amount_claimed="3000") for i in range(4)]
    assert client.get(list_url).context["alerts"] == []
    cases.append(file_case(WorkerFactory(display_name="工人5"), tree.nantou_employer))
    response = client.get(list_url)
    [alert] = response.context["alerts"]
    assert (alert.case_count, alert.workers, alert.category.code) == (5, 9, "wage_arrears")
    page = text(response)
    url = reverse("console:case_cluster", args=[alert.pk])
    assert url in page and tree.nantou_employer.name in page
    detail = client.get(url)
    assert {c.pk for c in detail.context["cases"]} == {c.pk for c in cases}
    for case in cases:
        assert reverse("console:case_detail", args=[case.pk]) in text(detail)
    # A plain admin of the city (no case role) does not see it; the township's handler does.
    assert client_for(d.city_admin).get(url).status_code == 404
    assert client_for(d.township).get(url).status_code == 200
    response = client.post(url, {"action": "handle", "note": "好", "form_token": token()})
    assert "处置情况至少4个字" in text(response)
    alert.refresh_from_db()
    assert alert.status == ClusterAlert.Status.OPEN
    response = client.post(url, {"action": "handle", "note": "已约谈企业负责人，承诺月底前补发", "form_token": token()})
    assert response.status_code == 302 and response["Location"] == url
    alert.refresh_from_db()
    assert (alert.status, alert.handled_by, alert.handled_note) == (
        ClusterAlert.Status.HANDLED, d.county, "已约谈企业负责人，承诺月底前补发")
    assert AuditEntry.objects.filter(action="case.cluster_handle", actor=d.county).count() == 1
    assert client.get(list_url).context["alerts"] == []
    assert [a.pk for a in client.get(list_url + "?status=handled").context["alerts"]] == [alert.pk]
    assert "处置完毕" not in text(client.get(url))


# --- Taxonomy -------------------------------------------------------------------------------------


def test_a_national_admin_adds_renames_reorders_and_deactivates_categories(world):
    client = client_for(world.root_admin)
    url = reverse("console:case_categories", args=[world.national.pk])
    page = text(client.get(url))
    assert "添加诉求分类" in page and "欠薪" in page
    wages = CaseCategory.objects.get(code="wages")
    response = client.post(url, {"action": "create", "code": "heat_allowance", "name": "高温津贴",
                                 "parent_id": wages.pk, "keywords": "高温费 防暑降温费", "sort": "5",
                                 "default_kind": "problem", "default_difficulty": "normal", "form_token": token()})
    assert response.status_code == 302
    item = CaseCategory.objects.get(code="heat_allowance")
    assert (item.parent, item.owner_path, item.sort, item.is_active) == (wages, "", 5, True)
    groups = client.get(url).context["groups"]
    assert [i.code for i in next(g for g in groups if g.code == "wages").items][0] == "heat_allowance"
    # A bad code or sort number is a Chinese message next to the field, and nothing is saved.
    response = client.post(url, {"action": "create", "code": "Bad Code", "name": "测试", "parent_id": wages.pk,
                                 "form_token": token()})
    assert "代码应为2至40位小写字母" in text(response)
    response = client.post(url, {"action": "create", "code": "ok_code", "name": "测试", "parent_id": wages.pk,
                                 "sort": "abc", "form_token": token()})
    assert "排序应为整数" in text(response)
    assert not CaseCategory.objects.filter(code="ok_code").exists()
    edit = reverse("console:case_category_edit", args=[world.national.pk, item.pk])
    response = client.post(edit, {"name": "高温津贴与防暑降温费", "parent_id": wages.pk, "sort": "300",
                                  "default_kind": "problem", "default_difficulty": "difficult", "is_active": "1",
                                  "form_token": token()})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.sort, item.default_difficulty) == ("高温津贴与防暑降温费", 300, "difficult")
    groups = client.get(url).context["groups"]
    assert [i.code for i in next(g for g in groups if g.code == "wages").items][-1] == "heat_allowance"
    response = client.post(url, {"action": "deactivate", "category_id": item.pk, "form_token": token()})
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.is_active
    assert AuditEntry.objects.filter(action="case.category_update", actor=world.root_admin).count() == 2
    response = client.post(url, {"action": "create", "code": "new_group", "name": "新的大类", "form_token": token()})
    assert CaseCategory.objects.get(code="new_group").parent is None


def test_a_county_admin_may_read_the_taxonomy_but_not_change_it(world):
    client = client_for(world.nanshan_admin)
    url = reverse("console:case_categories", args=[world.nanshan.pk])
    page = text(client.get(url))
    assert "欠薪" in page and "添加诉求分类" not in page and "本页只供查看" in page
    before = CaseCategory.objects.count()
    wages = CaseCategory.objects.get(code="wages")
    response = client.post(url, {"action": "create", "code": "nanshan_item", "name": "南山自定", "parent_id": wages.pk,
                                 "form_token": token()})
    assert "诉求分类只能由全国总工会或省级总工会维护" in text(response)
    arrears = CaseCategory.objects.get(code="wage_arrears")
    response = client.post(url, {"action": "deactivate", "category_id": arrears.pk, "form_token": token()})
    assert "诉求分类只能由全国总工会或省级总工会维护" in text(response)
    assert CaseCategory.objects.count() == before and CaseCategory.objects.get(code="wage_arrears").is_active
    response = client.get(reverse("console:case_category_edit", args=[world.nanshan.pk, arrears.pk]))
    assert response.status_code == 403


def test_a_province_adds_its_own_items_and_leaves_national_ones_alone(world):
    client = client_for(world.guangdong_admin)
    url = reverse("console:case_categories", args=[world.guangdong.pk])
    wages = CaseCategory.objects.get(code="wages")
    response = client.post(url, {"action": "create", "code": "gd_heat", "name": "广东高温津贴", "parent_id": wages.pk,
                                 "form_token": token()})
    assert response.status_code == 302
    assert CaseCategory.objects.get(code="gd_heat").owner_path == world.guangdong.path
    arrears = CaseCategory.objects.get(code="wage_arrears")
    assert client.get(reverse("console:case_category_edit", args=[world.guangdong.pk, arrears.pk])).status_code == 403
    # Seen below the province, not in another one.
    assert "广东高温津贴" in text(client_for(world.d.county).get(reverse("console:case_categories",
                                                                         args=[world.nanshan.pk])))
    beijing = staff_on(world.beijing, Role.ADMIN)
    assert "广东高温津贴" not in text(client_for(beijing).get(reverse("console:case_categories",
                                                                      args=[world.beijing.pk])))


# --- Time limits ----------------------------------------------------------------------------------


def test_a_province_sets_a_time_limit_that_a_county_below_sees(world):
    county_url = reverse("console:case_limits", args=[world.nanshan.pk])
    rows = client_for(world.nanshan_admin).get(county_url).context["rows"]
    normal = next(r for r in rows if r["difficulty"] == "normal")
    assert (normal["limits"].complete_days, normal["source"]) == (5, "全国默认（系统设置）")
    client = client_for(world.guangdong_admin)
    url = reverse("console:case_limits", args=[world.guangdong.pk])
    response = client.post(url, {"difficulty": "normal", "accept_days": "3", "complete_days": "2", "warn_days": "1",
                                 "form_token": token()})
    assert "办结时限应不少于受理时限" in text(response)
    assert not CaseTimeLimit.objects.exists()
    response = client.post(url, {"difficulty": "normal", "accept_days": "2", "complete_days": "10", "warn_days": "2",
                                 "form_token": token()})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="case.time_limit", actor=world.guangdong_admin).count() == 1
    response = client_for(world.nanshan_admin).get(county_url)
    normal = next(r for r in response.context["rows"] if r["difficulty"] == "normal")
    assert (normal["limits"].accept_days, normal["limits"].complete_days, normal["limits"].warn_days) == (2, 10, 2)
    assert normal["source"] == f"{world.guangdong.name}设置（本省）"
    assert normal["limits"] == services.limits_for(world.nanshan, "normal")
    page = text(response)
    assert "10个工作日" in page and "保存“一般”时限" not in page
    # The county's admin cannot set one.
    response = client_for(world.nanshan_admin).post(county_url, {"difficulty": "normal", "accept_days": "1",
                                                                 "complete_days": "3", "form_token": token()})
    assert "办理时限只能由全国总工会或省级总工会设置" in text(response)
    assert CaseTimeLimit.objects.count() == 1


# --- Case roles on the grant form -----------------------------------------------------------------


def test_the_grant_form_grants_a_case_role_the_admin_holds_and_refuses_a_higher_one(world):
    handler_admin = staff_on(world.nanshan, Role.ADMIN, case_role=CaseRole.HANDLER, username="ns-case-admin")
    colleague = StaffFactory(username="nantou-agent", home_org=world.nantou)
    client = client_for(handler_admin)
    url = reverse("console:grant_create", args=[world.nantou.pk])
    page = text(client.get(url))
    assert re.findall(r'<select name="case_role"[^>]*>(.*?)</select>', page, re.S)
    assert re.findall(r'<option value="(\w*)"', page.split('name="case_role"')[1].split("</select>")[0]) == [
        "", "handler"]
    assert "诉求督办质检：另可质检结案" in page
    response = client.post(url, {"username": "nantou-agent", "role": "staff", "case_role": "supervisor",
                                 "include_descendants": "on", "form_token": token()})
    assert "不能授予高于自己的诉求办理角色" in text(response)
    response = client.post(url, {"username": "nantou-agent", "role": "staff", "case_role": "boss",
                                 "include_descendants": "on", "form_token": token()})
    assert "诉求办理角色无效" in text(response)
    assert not Grant.objects.filter(user=colleague).exists()
    response = client.post(url, {"username": "nantou-agent", "role": "staff", "case_role": "handler",
                                 "include_descendants": "on", "form_token": token()})
    assert response.status_code == 302
    grant = Grant.objects.get(user=colleague)
    assert (grant.role, grant.case_role, grant.org) == (Role.STAFF, CaseRole.HANDLER, world.nantou)
    detail = text(client.get(reverse("console:org_detail", args=[world.nantou.pk])))
    assert re.search(r"nantou-agent</span>\s*<span class=\"staff-role\">.*?诉求办理</span>", detail, re.S)
    # The new handler now reads the cases' numbers and alerts of the township.
    assert client_for(colleague).get(reverse("console:case_clusters", args=[world.nantou.pk])).status_code == 200
    # An admin without a case role is offered none, and cannot give one.
    plain = client_for(world.nanshan_admin)
    page = text(plain.get(url))
    assert re.findall(r'<option value="(\w*)"', page.split('name="case_role"')[1].split("</select>")[0]) == [""]
    other = StaffFactory(username="nantou-other", home_org=world.nantou)
    response = plain.post(url, {"username": "nantou-other", "role": "staff", "case_role": "handler",
                                "form_token": token()})
    assert "不能授予高于自己的诉求办理角色" in text(response)
    assert not Grant.objects.filter(user=other).exists()

"""Moving a node: the whole subtree and every row scoped by it follow, counts stay exact, access follows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gonghui.accounts.models import User
from gonghui.core.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.orgs.models import Employer, Grant, OrgKind, OrgMove, OrgUnit, Role
from gonghui.orgs.services import employer_create, org_move_execute, org_move_request, union_create
from gonghui.orgs.tests.world import World, assert_rollups_match_rebuild, rollups_of
from gonghui.testing.api_asserts import assert_error, has_chinese
from gonghui.testing.fixtures import staff_on, uscc_in

pytestmark = pytest.mark.django_db


@dataclass
class Moving:
    world: World
    area: OrgUnit  # the node to move: 南头街道科技园区工会联合会
    member_union: OrgUnit  # a grassroots union below it
    shop: Employer  # covered by member_union
    office: Employer  # directly under the area federation
    area_admin: User
    union_staff: User
    nantou_admin: User


@pytest.fixture
def moving(world) -> Moving:
    t, root = world.tree, world.tree.root_admin
    area = world.nantou_area
    shop = employer_create(actor=root, org=t.nantou, name="深圳市南头园区一号科技有限公司", uscc=uscc_in("440305001"),
                           division_code="440305001", employee_count=25)
    member_union = union_create(actor=root, parent=area, name="深圳市南头园区一号科技有限公司工会委员会",
                                kind=OrgKind.GRASSROOTS, employer_ids=[shop.pk])
    office = employer_create(actor=root, org=area, name="深圳市南头园区管理服务有限公司", uscc=uscc_in("440305001"),
                             division_code="440305001", employee_count=8)
    for obj in (shop, office, area):
        obj.refresh_from_db()
    return Moving(world, area, member_union, shop, office, staff_on(area), staff_on(member_union, Role.STAFF),
                  staff_on(t.nantou))


@dataclass
class PlatformMove:
    """A delivery platform's union registered in 南山区 under the district's industry federation, moved
    to the city's industry federation: out of the Nanshan admin's subtree, inside its territory (440305
    lies within 440300), into the view of an admin who did not see it before."""

    world: World
    old_parent: OrgUnit  # 南山区快递行业工会联合会 (industry, division 440305), under 南山区总工会
    new_parent: OrgUnit  # 深圳市快递行业工会联合会 (industry, division 440300), under 深圳市总工会
    platform: OrgUnit  # the platform company's union (platform, division 440305)
    company: Employer  # the platform company it covers, 33 employees
    platform_admin: User
    platform_staff: User
    old_parent_admin: User
    new_parent_admin: User


@pytest.fixture
def platform_move(world) -> PlatformMove:
    t, root = world.tree, world.tree.root_admin
    old_parent = union_create(actor=root, parent=t.nanshan, name="南山区快递行业工会联合会", kind=OrgKind.INDUSTRY,
                              division_code="440305")
    new_parent = union_create(actor=root, parent=t.shenzhen, name="深圳市快递行业工会联合会", kind=OrgKind.INDUSTRY,
                              division_code="440300")
    platform = union_create(actor=root, parent=old_parent, name="深圳市速达同城配送平台工会委员会",
                            kind=OrgKind.PLATFORM, division_code="440305")
    company = employer_create(actor=root, org=platform, name="深圳市速达同城配送科技有限公司", uscc=uscc_in("440305"),
                              division_code="440305", employee_count=33, is_platform=True)
    for obj in (old_parent, new_parent, platform, company):
        obj.refresh_from_db()
    return PlatformMove(world, old_parent, new_parent, platform, company, staff_on(platform),
                        staff_on(platform, Role.STAFF), staff_on(old_parent), staff_on(new_parent))


@dataclass
class Relocation:
    """A node to move, what its subtree holds, where it goes and who moves it (an admin of both ends)."""

    node: OrgUnit
    children: list[OrgUnit]
    employers: list[tuple[Employer, OrgUnit]]  # each employer in the subtree and the union covering it
    roles: list[tuple[User, OrgUnit]]  # each role held in the subtree and its node
    new_parent: OrgUnit
    actor: User


@pytest.fixture(params=["up_to_its_county", "out_of_its_county"])
def relocation(request) -> Relocation:
    """南头街道's park federation (with a member union) up to 南山区总工会; or the platform union from
    南山区's industry federation to 深圳市's."""
    if request.param == "up_to_its_county":
        m = request.getfixturevalue("moving")
        return Relocation(m.area, [m.member_union], [(m.shop, m.member_union), (m.office, m.area)],
                          [(m.area_admin, m.area), (m.union_staff, m.member_union)], m.world.tree.nanshan,
                          m.world.nanshan_admin)
    p = request.getfixturevalue("platform_move")
    return Relocation(p.platform, [], [(p.company, p.platform)],
                      [(p.platform_admin, p.platform), (p.platform_staff, p.platform)], p.new_parent,
                      p.world.shenzhen_admin)


def _shifted(totals: dict, delta: dict, sign: int) -> dict:
    """`totals` (as rollups_of gives them: zeros left out) with `delta` added `sign` times."""
    result = dict(totals)
    for metric, value in delta.items():
        result[metric] = result.get(metric, 0) + sign * value
    return {metric: value for metric, value in result.items() if value}


def _scoped_rows_under(prefix: str) -> dict:
    return {
        "orgs": OrgUnit.objects.filter(path__startswith=prefix).count(),
        "employers": Employer.objects.filter(org_path__startswith=prefix).count(),
        "grants": Grant.objects.filter(org_path__startswith=prefix).count(),
        "audit": AuditEntry.objects.filter(org_path__startswith=prefix).count(),
    }


def _move(actor, node, new_parent, capture) -> OrgMove:
    with capture(execute=True):
        move = org_move_request(actor=actor, node=node, new_parent=new_parent)
    move.refresh_from_db()
    return move


def test_the_subtree_and_every_scoped_row_follow_the_move(relocation, django_capture_on_commit_callbacks):
    r = relocation
    old_path = r.node.path
    before = _scoped_rows_under(old_path)
    assert before == {"orgs": 1 + len(r.children), "employers": len(r.employers), "grants": len(r.roles),
                      "audit": before["audit"]}
    assert before["audit"] >= 1 + len(r.children) + len(r.employers)  # at least each union's and employer's creation

    move = _move(r.actor, r.node, r.new_parent, django_capture_on_commit_callbacks)

    assert move.status == OrgMove.Status.DONE
    for obj in (r.node, *r.children, *(employer for employer, _ in r.employers)):
        obj.refresh_from_db()
    assert r.node.parent_id == r.new_parent.pk and r.node.path == move.new_path
    assert r.node.path.startswith(r.new_parent.path) and r.node.depth == r.new_parent.depth + 1
    for child in r.children:
        assert child.parent_id == r.node.pk
        assert child.path.startswith(r.node.path) and child.depth == r.node.depth + 1
    assert [employer.org_path for employer, _ in r.employers] == [org.path for _, org in r.employers]
    holders = [user for user, _ in r.roles]
    assert sorted(Grant.objects.filter(user__in=holders).values_list("org_path", flat=True)) == sorted(
        org.path for _, org in r.roles)
    assert _scoped_rows_under(old_path) == {"orgs": 0, "employers": 0, "grants": 0, "audit": 0}
    moved = _scoped_rows_under(r.node.path)
    assert (moved["orgs"], moved["employers"], moved["grants"]) == (before["orgs"], before["employers"],
                                                                    before["grants"])
    assert moved["audit"] == before["audit"] + 2  # the request and the move itself
    assert AuditEntry.objects.filter(action="org.move", object_id=str(r.node.pk)).get().after["path"] == r.node.path


def test_counts_of_old_and_new_ancestors_are_exact(platform_move, django_capture_on_commit_callbacks):
    t, p = platform_move.world.tree, platform_move
    watched = (t.national, t.guangdong, t.shenzhen, t.nanshan, p.old_parent, p.new_parent, p.platform)
    before = rollups_of(watched)
    _move(p.world.shenzhen_admin, p.platform, p.new_parent, django_capture_on_commit_callbacks)
    after = rollups_of(watched)
    for name in ("中华全国总工会", "广东省总工会", "深圳市总工会", p.platform.name):
        assert after[name] == before[name], name
    # The platform union, the company it covers (33 employees) and its two staff leave 南山区 for the city's federation.
    leaving = {"unions": 1, "grassroots": 1, "employers": 1, "workers": 33, "staff": 2}
    for name in ("南山区总工会", "南山区快递行业工会联合会"):
        assert after[name] == _shifted(before[name], leaving, -1), name
    assert after["深圳市快递行业工会联合会"] == _shifted(before["深圳市快递行业工会联合会"], leaving, +1)
    assert_rollups_match_rebuild(*watched)


def test_access_follows_the_node(platform_move, api, django_capture_on_commit_callbacks):
    p = platform_move
    for old in (p.old_parent_admin, p.world.nanshan_admin):
        assert api(old).get(f"/api/v1/orgs/{p.platform.pk}").status_code == 200
    assert_error(api(p.new_parent_admin).get(f"/api/v1/orgs/{p.platform.pk}"), 404)
    assert_error(api(p.new_parent_admin).get(f"/api/v1/employers/{p.company.pk}"), 404)
    _move(p.world.shenzhen_admin, p.platform, p.new_parent, django_capture_on_commit_callbacks)

    detail = api(p.platform_admin).get(f"/api/v1/orgs/{p.platform.pk}").json()
    assert detail["parent_id"] == p.new_parent.pk
    assert [a["name"] for a in detail["ancestors"]][-2:] == ["深圳市总工会", "深圳市快递行业工会联合会"]
    assert api(p.platform_staff).get(f"/api/v1/employers/{p.company.pk}").status_code == 200
    # The new parent's admin, who never saw it, and the city's admin now see it, its company and its staff.
    staff = {p.platform_admin.username, p.platform_staff.username}
    for new in (p.new_parent_admin, p.world.shenzhen_admin):
        children = api(new).get(f"/api/v1/orgs/{p.new_parent.pk}/children").json()["items"]
        assert p.platform.pk in {o["id"] for o in children}
        assert api(new).get(f"/api/v1/employers/{p.company.pk}").status_code == 200
        assert [e["id"] for e in api(new).get("/api/v1/employers/search", q=p.company.uscc).json()] == [p.company.pk]
        assert {g["username"] for g in api(new).get(f"/api/v1/orgs/{p.platform.pk}/staff").json()} == staff
    # The old parent's and the district's admins no longer see it, nor its company or staff.
    for old in (p.old_parent_admin, p.world.nanshan_admin):
        assert_error(api(old).get(f"/api/v1/orgs/{p.platform.pk}"), 404)
        assert_error(api(old).get(f"/api/v1/orgs/{p.platform.pk}/staff"), 404)
        assert_error(api(old).get(f"/api/v1/employers/{p.company.pk}"), 404)
        assert api(old).get("/api/v1/employers/search", q=p.company.uscc).json() == []
    children = api(p.old_parent_admin).get(f"/api/v1/orgs/{p.old_parent.pk}/children", limit=100).json()["items"]
    assert p.platform.pk not in {o["id"] for o in children}


def test_a_move_through_the_api_is_reported_done(moving, api, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    client = api(moving.world.nanshan_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.nanshan.pk})
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["new_parent_id"] == t.nanshan.pk
    status = client.get(f"/api/v1/moves/{response.json()['id']}").json()
    assert status["status"] == "done"
    m.area.refresh_from_db()
    assert m.area.parent_id == t.nanshan.pk
    # The old parent's own admin still follows the move's status but no longer the node.
    assert api(m.nantou_admin).get(f"/api/v1/moves/{response.json()['id']}").status_code == 200
    assert_error(api(m.nantou_admin).get(f"/api/v1/orgs/{m.area.pk}"), 404)


def test_a_node_moves_up_to_the_county_whose_territory_holds_it(moving, api, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    client = api(moving.world.nanshan_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.nanshan.pk})
    assert response.status_code == 202, response.json()
    assert client.get(f"/api/v1/moves/{response.json()['id']}").json()["status"] == "done"
    detail = client.get(f"/api/v1/orgs/{m.area.pk}").json()
    assert detail["parent_id"] == t.nanshan.pk and detail["division_code"] == "440305001"
    assert [a["name"] for a in detail["ancestors"]][-1] == "南山区总工会"
    children = client.get(f"/api/v1/orgs/{t.nanshan.pk}/children", limit=100).json()["items"]
    assert m.area.pk in {o["id"] for o in children}


def test_cases_follow_a_move_and_are_supervised_by_the_new_parent(platform_move, django_capture_on_commit_callbacks):
    from gonghui.casedesk.services import case_create
    from gonghui.testing.fixtures import WorkerFactory

    p = platform_move
    case, _ = case_create(actor=WorkerFactory(display_name="周九"), channel="portal", category="wage_arrears",
                          employer_id=p.company.pk, description="平台这个月扣了我们的配送费，站长说是总部规定。")
    assert (case.org, case.supervisor_path) == (p.platform, p.old_parent.path)
    move = _move(p.world.shenzhen_admin, p.platform, p.new_parent, django_capture_on_commit_callbacks)
    assert move.status == OrgMove.Status.DONE, move.error
    case.refresh_from_db()
    p.platform.refresh_from_db()
    assert (case.org_path, case.supervisor_path) == (p.platform.path, p.new_parent.path)


def test_a_move_out_of_the_nodes_territory_is_refused_and_changes_nothing(moving, platform_move, api,
                                                                          django_capture_on_commit_callbacks):
    t, m, p = moving.world.tree, moving, platform_move
    client = api(moving.world.shenzhen_admin)  # an admin of both ends of every move below
    futian_industry = union_create(actor=t.root_admin, parent=t.futian, name="福田区快递行业工会联合会",
                                   kind=OrgKind.INDUSTRY, division_code="440304")
    refused = [
        (m.area, t.yuehai, "粤海街道"),  # 南头街道's federation under another street of the same district
        (m.area, t.futian_street, "福田街道"),  # ...or of another district
        (m.area, t.futian, "福田区"),
        (p.platform, futian_industry, "福田区"),  # 南山区's platform union under 福田区's industry federation
    ]
    state = (sorted(OrgUnit.objects.values_list("id", "path", "parent_id")), AuditEntry.objects.count(),
             OrgMove.objects.count(), rollups_of([t.nanshan, t.nantou, t.futian, t.futian_street, t.yuehai]))
    for node, new_parent, place in refused:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/v1/orgs/{node.pk}/move", {"new_parent_id": new_parent.pk})
        body = assert_error(response, 400, "division_outside", "new_parent_id")
        assert node.division.name in body["message"] and place in body["message"], body
        with pytest.raises(ValidationFailed) as direct:
            org_move_request(actor=moving.world.shenzhen_admin, node=node, new_parent=new_parent)
        assert (direct.value.code, direct.value.field) == ("division_outside", "new_parent_id")
    assert (sorted(OrgUnit.objects.values_list("id", "path", "parent_id")), AuditEntry.objects.count(),
            OrgMove.objects.count(), rollups_of([t.nanshan, t.nantou, t.futian, t.futian_street, t.yuehai])) == state


def test_moves_that_make_no_sense_are_refused_in_chinese(moving):
    t, m = moving.world.tree, moving
    admin = moving.world.shenzhen_admin
    cases = [
        (m.area, m.member_union, ValidationFailed, "move_into_self"),
        (m.area, m.area, ValidationFailed, "move_into_self"),
        (t.nantou, t.futian, ValidationFailed, "territorial_move"),
        (t.nanshan, t.futian, ValidationFailed, "territorial_move"),
        (m.area, t.nantou, ValidationFailed, "same_parent"),
        (m.member_union, t.national, PermissionDenied, "forbidden"),
        (m.member_union, t.futian_union, ValidationFailed, "invalid_parent"),
    ]
    for node, new_parent, error, code in cases:
        with pytest.raises(error) as refused:
            org_move_request(actor=admin, node=node, new_parent=new_parent)
        assert refused.value.code == code, (node.name, new_parent.name)
        assert has_chinese(refused.value.message)
    assert OrgMove.objects.filter(status=OrgMove.Status.PENDING).count() == 0


def test_only_admins_of_both_ends_move_and_never_their_own_node(moving):
    t, m = moving.world.tree, moving
    cases = [
        (m.nantou_admin, m.area, t.nanshan),  # admin of the old end only
        (staff_on(t.nanshan, include_descendants=False), m.area, t.nanshan),  # admin of the new end only
        (moving.world.futian_admin, m.area, t.futian_street),  # a sibling county's admin
        (staff_on(t.nanshan, Role.STAFF), m.area, t.nanshan),  # both ends, but not an admin
    ]
    both_ends = staff_on(m.area)
    Grant.objects.create(user=both_ends, org=t.nanshan, org_path=t.nanshan.path, role=Role.ADMIN,
                         include_descendants=False)
    for actor, node, new_parent in cases:
        with pytest.raises(PermissionDenied) as refused:
            org_move_request(actor=actor, node=node, new_parent=new_parent)
        assert has_chinese(refused.value.message)
    with pytest.raises(PermissionDenied) as own:
        org_move_request(actor=both_ends, node=m.area, new_parent=t.nanshan)
    assert "自己所在组织" in own.value.message
    assert not OrgMove.objects.filter(node=m.area, status=OrgMove.Status.PENDING).exists()


def test_a_second_pending_move_of_the_same_node_is_a_conflict(moving, api):
    t, m = moving.world.tree, moving
    client = api(moving.world.shenzhen_admin)
    # Without the commit the job has not run yet: the first move is still pending. Both targets hold
    # 南头街道 in their territory, so only the pending move stands in the way of the second.
    assert client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.nanshan.pk}).status_code == 202
    assert_error(client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.shenzhen.pk}), 409,
                 "move_pending")
    with pytest.raises(Conflict):
        org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.shenzhen)
    assert OrgMove.objects.filter(node=m.area, status=OrgMove.Status.PENDING).count() == 1


def _everything(prefixes) -> tuple:
    return (
        sorted(OrgUnit.objects.filter(path__startswith=prefixes[0]).values_list("id", "path", "depth", "parent_id")),
        sorted(Employer.objects.values_list("id", "org_path")),
        sorted(Grant.objects.values_list("id", "org_path")),
        AuditEntry.objects.count(),
        sorted(OrgMove.objects.values_list("id", "status", "new_path")),
        tuple(sorted(rollups_of(OrgUnit.objects.filter(path__in=prefixes)).items())),
    )


def test_executing_a_move_twice_changes_nothing_the_second_time(moving):
    t, m = moving.world.tree, moving
    move = org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.nanshan)
    assert org_move_execute(move.pk).status == OrgMove.Status.DONE
    m.area.refresh_from_db()
    assert m.area.parent_id == t.nanshan.pk
    prefixes = [t.shenzhen.path, t.nanshan.path, t.nantou.path, m.area.path]
    once = _everything(prefixes)
    again = org_move_execute(move.pk)
    assert again.status == OrgMove.Status.DONE
    assert _everything(prefixes) == once


def test_a_move_whose_target_became_invalid_fails_cleanly(moving):
    t, m = moving.world.tree, moving
    move = org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.nanshan)
    # Meanwhile the node was moved there by another request that ran first.
    OrgUnit.objects.filter(pk=m.area.pk).update(parent=t.nanshan)
    result = org_move_execute(move.pk)
    assert result.status == OrgMove.Status.FAILED and has_chinese(result.error)
    m.area.refresh_from_db()
    assert m.area.path.startswith(t.nantou.path)


def test_refused_move_requests_write_nothing(moving):
    t = moving.world.tree
    audit = AuditEntry.objects.count()
    with pytest.raises(ServiceError):
        org_move_request(actor=moving.world.shenzhen_admin, node=t.nantou, new_parent=t.futian)
    assert AuditEntry.objects.count() == audit and OrgMove.objects.count() == 1  # the world's finished move


def test_a_queued_move_fails_when_the_territory_changed_before_it_ran(platform_move):
    p = platform_move
    move = org_move_request(actor=p.world.shenzhen_admin, node=p.platform, new_parent=p.new_parent)
    # Before the job runs, the target federation is re-registered in another district.
    OrgUnit.objects.filter(pk=p.new_parent.pk).update(division_id="440304")
    result = org_move_execute(move.pk)
    assert result.status == OrgMove.Status.FAILED and "不在" in result.error
    p.platform.refresh_from_db()
    assert p.platform.parent_id == p.old_parent.pk


def test_a_national_federation_without_a_division_cannot_go_under_a_territorial_union(world):
    t = world.tree
    seafarers = union_create(actor=t.root_admin, parent=t.national, name="中国海员建设工会", kind=OrgKind.INDUSTRY)
    assert seafarers.division_id is None
    with pytest.raises(ValidationFailed) as refused:
        org_move_request(actor=t.root_admin, node=seafarers, new_parent=t.guangdong)
    assert refused.value.code == "division_outside" and "全国性组织" in refused.value.message

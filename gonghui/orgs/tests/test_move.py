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


def test_the_subtree_and_every_scoped_row_follow_the_move(moving, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    old_path = m.area.path
    before = _scoped_rows_under(old_path)
    assert before == {"orgs": 2, "employers": 2, "grants": 2, "audit": before["audit"]} and before["audit"] >= 4

    move = _move(moving.world.shenzhen_admin, m.area, t.futian_street, django_capture_on_commit_callbacks)

    assert move.status == OrgMove.Status.DONE
    for obj in (m.area, m.member_union, m.shop, m.office):
        obj.refresh_from_db()
    assert m.area.parent_id == t.futian_street.pk and m.area.path == move.new_path
    assert m.area.path.startswith(t.futian_street.path) and m.area.depth == t.futian_street.depth + 1
    assert m.member_union.path.startswith(m.area.path) and m.member_union.depth == m.area.depth + 1
    assert (m.shop.org_path, m.office.org_path) == (m.member_union.path, m.area.path)
    assert set(Grant.objects.filter(user__in=[m.area_admin, m.union_staff]).values_list("org_path", flat=True)) == {
        m.area.path, m.member_union.path}
    assert _scoped_rows_under(old_path) == {"orgs": 0, "employers": 0, "grants": 0, "audit": 0}
    moved = _scoped_rows_under(m.area.path)
    assert moved["orgs"] == 2 and moved["employers"] == 2 and moved["grants"] == 2
    assert moved["audit"] == before["audit"] + 2  # the request and the move itself
    assert AuditEntry.objects.filter(action="org.move", object_id=str(m.area.pk)).get().after["path"] == m.area.path


def test_counts_of_old_and_new_ancestors_are_exact(moving, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    watched = (t.national, t.guangdong, t.shenzhen, t.nanshan, t.nantou, t.futian, t.futian_street, m.area)
    before = rollups_of(watched)
    _move(moving.world.shenzhen_admin, m.area, t.futian_street, django_capture_on_commit_callbacks)
    after = rollups_of(watched)
    for name in ("中华全国总工会", "广东省总工会", "深圳市总工会", m.area.name):
        assert after[name] == before[name], name
    assert after["南山区总工会"]["employers"] == before["南山区总工会"]["employers"] - 2
    assert after["南头街道工会"]["unions"] == before["南头街道工会"]["unions"] - 2
    assert after["福田区总工会"]["workers"] == before["福田区总工会"]["workers"] + 33
    assert after["福田区总工会"]["staff"] == before["福田区总工会"]["staff"] + 2
    assert_rollups_match_rebuild(*watched)


def test_access_follows_the_node(moving, api, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    futian_admin = moving.world.futian_admin
    assert_error(api(futian_admin).get(f"/api/v1/orgs/{m.area.pk}"), 404)
    _move(moving.world.shenzhen_admin, m.area, t.futian_street, django_capture_on_commit_callbacks)

    detail = api(m.area_admin).get(f"/api/v1/orgs/{m.area.pk}").json()
    assert detail["parent_id"] == t.futian_street.pk
    assert [a["name"] for a in detail["ancestors"]][-2:] == ["福田区总工会", t.futian_street.name]
    assert api(m.union_staff).get(f"/api/v1/orgs/{m.member_union.pk}").status_code == 200
    assert m.area.pk in {o["id"] for o in api(futian_admin).get(f"/api/v1/orgs/{t.futian_street.pk}/children").json()[
        "items"]}
    assert api(futian_admin).get(f"/api/v1/employers/{m.shop.pk}").status_code == 200
    # The old parent's and the old county's admins no longer see it, nor its employers or staff.
    for old in (m.nantou_admin, moving.world.nanshan_admin):
        assert_error(api(old).get(f"/api/v1/orgs/{m.area.pk}"), 404)
        assert_error(api(old).get(f"/api/v1/employers/{m.office.pk}"), 404)
        assert api(old).get("/api/v1/employers/search", q=m.shop.uscc).json() == []
    children = api(m.nantou_admin).get(f"/api/v1/orgs/{t.nantou.pk}/children", limit=100).json()["items"]
    assert m.area.pk not in {o["id"] for o in children}


def test_a_move_through_the_api_is_reported_done(moving, api, django_capture_on_commit_callbacks):
    t, m = moving.world.tree, moving
    client = api(moving.world.nanshan_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.yuehai.pk})
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["new_parent_id"] == t.yuehai.pk
    status = client.get(f"/api/v1/moves/{response.json()['id']}").json()
    assert status["status"] == "done"
    m.area.refresh_from_db()
    assert m.area.parent_id == t.yuehai.pk
    # The old parent's own admin still follows the move's status but no longer the node.
    assert api(m.nantou_admin).get(f"/api/v1/moves/{response.json()['id']}").status_code == 200
    assert_error(api(m.nantou_admin).get(f"/api/v1/orgs/{m.area.pk}"), 404)


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
        (m.nantou_admin, m.area, t.yuehai),  # admin of the old end only
        (moving.world.futian_admin, m.area, t.futian_street),  # admin of the new end only
        (staff_on(t.nanshan, Role.STAFF), m.area, t.yuehai),  # both ends, but not an admin
    ]
    both_ends = staff_on(m.area)
    Grant.objects.create(user=both_ends, org=t.yuehai, org_path=t.yuehai.path, role=Role.ADMIN)
    for actor, node, new_parent in cases:
        with pytest.raises(PermissionDenied) as refused:
            org_move_request(actor=actor, node=node, new_parent=new_parent)
        assert has_chinese(refused.value.message)
    with pytest.raises(PermissionDenied) as own:
        org_move_request(actor=both_ends, node=m.area, new_parent=t.yuehai)
    assert "自己所在组织" in own.value.message
    assert not OrgMove.objects.filter(node=m.area, status=OrgMove.Status.PENDING).exists()


def test_a_second_pending_move_of_the_same_node_is_a_conflict(moving, api):
    t, m = moving.world.tree, moving
    client = api(moving.world.shenzhen_admin)
    # Without the commit the job has not run yet: the first move is still pending.
    assert client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.yuehai.pk}).status_code == 202
    assert_error(client.post(f"/api/v1/orgs/{m.area.pk}/move", {"new_parent_id": t.futian_street.pk}), 409,
                 "move_pending")
    with pytest.raises(Conflict):
        org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.futian_street)
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
    move = org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.futian_street)
    org_move_execute(move.pk)
    prefixes = [t.shenzhen.path, t.nanshan.path, t.nantou.path, t.futian.path, t.futian_street.path]
    once = _everything(prefixes)
    again = org_move_execute(move.pk)
    assert again.status == OrgMove.Status.DONE
    assert _everything(prefixes) == once


def test_a_move_whose_target_became_invalid_fails_cleanly(moving):
    t, m = moving.world.tree, moving
    move = org_move_request(actor=moving.world.shenzhen_admin, node=m.area, new_parent=t.yuehai)
    # Meanwhile the node was moved there by another request that ran first.
    OrgUnit.objects.filter(pk=m.area.pk).update(parent=t.yuehai)
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

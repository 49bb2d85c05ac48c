"""Roles: nobody grants more than they hold; viewers read, staff write, admins grant and move."""

from __future__ import annotations

import pytest

from gonghui.accounts.models import User
from gonghui.orgs.models import Grant, OrgKind, OrgUnit, Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import StaffFactory, staff_on, uscc_in

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)


def _union(parent, name="深圳市角色测试有限公司工会委员会"):
    return {"parent_id": parent.pk, "name": name, "kind": OrgKind.GRASSROOTS}


def _employer(org, division="440305001"):
    return {"org_id": org.pk, "name": "深圳市角色测试科技有限公司", "uscc": uscc_in(division), "division_code": division}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.VIEWER])
def test_an_admin_grants_each_role_in_scope_and_the_grantee_then_sees_the_node(world, api, role):
    t = world.tree
    newcomer = StaffFactory(home_org=t.nantou)  # created at 南头街道: the Nanshan admin may give it a first role
    assert_error(api(newcomer).get(f"/api/v1/orgs/{t.nantou.pk}"), 404)
    response = api(world.nanshan_admin).post(f"/api/v1/orgs/{t.nantou.pk}/grants",
                                            {"username": newcomer.username, "role": role})
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == role and response.json()["org_id"] == t.nantou.pk
    assert api(newcomer).get(f"/api/v1/orgs/{t.nantou.pk}").json()["my_rank"] == {"admin": 30, "staff": 20,
                                                                                   "viewer": 10}[role]
    assert_error(api(newcomer).get(f"/api/v1/orgs/{t.nanshan.pk}"), 404)


@pytest.mark.parametrize("who", ["nantou_staff", "viewer"])
def test_staff_and_viewers_cannot_grant_or_revoke(world, api, who):
    t = world.tree
    actor = world.nantou_staff if who == "nantou_staff" else staff_on(t.nantou, Role.VIEWER)
    client = api(actor)
    for role in (Role.VIEWER, Role.STAFF, Role.ADMIN):
        assert_error(client.post(f"/api/v1/orgs/{t.nantou.pk}/grants",
                                 {"username": world.newcomer.username, "role": role}), 403)
    viewer_grant = Grant.objects.get(user=staff_on(t.nantou, Role.VIEWER))
    assert_error(client.delete(f"/api/v1/grants/{viewer_grant.pk}"), 403)
    assert_error(client.post(f"/api/v1/orgs/{t.nantou.pk}/staff-users", {"username": "x1", "display_name": "某人"}), 403)
    assert not Grant.objects.filter(user=world.newcomer).exists()
    assert Grant.objects.filter(pk=viewer_grant.pk).exists()


def test_admins_cannot_grant_above_or_beside_their_scope(world, api):
    t = world.tree
    client = api(world.nanshan_admin)
    for org in (t.shenzhen, t.futian, t.futian_street, t.national):
        assert_error(client.post(f"/api/v1/orgs/{org.pk}/grants",
                                 {"username": world.newcomer.username, "role": Role.VIEWER}), 404)
    assert not Grant.objects.filter(user=world.newcomer).exists()


def test_a_node_only_admin_cannot_hand_out_the_subtree(world, api):
    t = world.tree
    desk = staff_on(t.nanshan, Role.ADMIN, include_descendants=False)
    clerk = StaffFactory(username="nanshan-clerk", home_org=t.nanshan)  # created at the desk's own node
    client = api(desk)
    refused = client.post(f"/api/v1/orgs/{t.nanshan.pk}/grants",
                          {"username": clerk.username, "role": Role.VIEWER, "include_descendants": True})
    assert_error(refused, 403, "rank_exceeded")
    assert not Grant.objects.filter(user=clerk).exists()
    granted = client.post(f"/api/v1/orgs/{t.nanshan.pk}/grants",
                          {"username": clerk.username, "role": Role.ADMIN, "include_descendants": False})
    assert granted.status_code == 201, granted.json()
    assert Grant.objects.filter(user=clerk).values_list("org_id", "role", "include_descendants").get() == (
        t.nanshan.pk, Role.ADMIN, False)
    # Nor can they revoke or narrow the grant of someone who holds the whole subtree.
    nanshan_admin_grant = Grant.objects.get(user=world.nanshan_admin)
    assert_error(client.delete(f"/api/v1/grants/{nanshan_admin_grant.pk}"), 403)
    assert_error(client.post(f"/api/v1/orgs/{t.nanshan.pk}/grants",
                             {"username": world.nanshan_admin.username, "role": Role.VIEWER,
                              "include_descendants": False}), 403)
    nanshan_admin_grant.refresh_from_db()
    assert (nanshan_admin_grant.role, nanshan_admin_grant.include_descendants) == (Role.ADMIN, True)


def test_an_admin_revokes_in_scope_but_not_their_own_grant(world, api):
    t = world.tree
    client = api(world.nanshan_admin)
    assert client.delete(f"/api/v1/grants/{world.nantou_staff_grant.pk}").status_code == 204
    assert not Grant.objects.filter(pk=world.nantou_staff_grant.pk).exists()
    assert_error(api(world.nantou_staff).get(f"/api/v1/orgs/{t.nantou.pk}"), 404)
    own = Grant.objects.get(user=world.nanshan_admin)
    assert_error(client.delete(f"/api/v1/grants/{own.pk}"), 400, "self_revoke")
    # A Nantou admin cannot remove the Nanshan admin's grant: it is above their scope.
    nantou_admin = staff_on(t.nantou)
    assert_error(api(nantou_admin).delete(f"/api/v1/grants/{own.pk}"), 404)
    assert Grant.objects.filter(pk=own.pk).exists()



def test_a_staff_account_outside_the_admins_scope_looks_unknown(world, api):
    t = world.tree
    futian_clerk = api(world.futian_admin).post(f"/api/v1/orgs/{t.futian_street.pk}/staff-users",
                                                {"username": "futian-clerk", "display_name": "刘一"})
    assert futian_clerk.status_code == 201, futian_clerk.json()
    homeless = StaffFactory(username="no-home")  # created by nobody's admins: no union may hand it a first role
    client = api(world.nanshan_admin)
    url = f"/api/v1/orgs/{t.nantou.pk}/grants"
    unknown = client.post(url, {"username": "nobody-here", "role": Role.VIEWER})
    assert_error(unknown, 404, "not_found", "username")
    # Created in another district, holding a role only there, or created nowhere: the same answer, word for word.
    for username in ("futian-clerk", world.futian_admin.username, homeless.username):
        response = client.post(url, {"username": username, "role": Role.VIEWER})
        assert (response.status_code, response.json()) == (unknown.status_code, unknown.json()), username
    assert not Grant.objects.filter(user__username__in=["futian-clerk", "no-home"]).exists()
    assert not Grant.objects.filter(user=world.futian_admin).exclude(org=t.futian).exists()


def test_an_account_created_at_the_admins_node_can_be_granted_a_role(world, api):
    t = world.tree
    nantou_admin = staff_on(t.nantou, username="nantou-admin")
    client = api(nantou_admin)
    created = client.post(f"/api/v1/orgs/{t.nantou.pk}/staff-users", {"username": "nantou-clerk", "display_name": "陈二"})
    assert created.status_code == 201, created.json()
    assert not Grant.objects.filter(user__username="nantou-clerk").exists()
    granted = client.post(f"/api/v1/orgs/{t.nantou_union.pk}/grants", {"username": "nantou-clerk", "role": Role.STAFF})
    assert granted.status_code == 201, granted.json()
    assert (granted.json()["username"], granted.json()["org_id"]) == ("nantou-clerk", t.nantou_union.pk)
    clerk = User.objects.get(username="nantou-clerk")
    assert api(clerk).get(f"/api/v1/orgs/{t.nantou_union.pk}").json()["my_rank"] == 20
    # The sibling county's admin cannot reach it.
    assert_error(api(world.futian_admin).post(f"/api/v1/orgs/{t.futian_street.pk}/grants",
                                              {"username": "nantou-clerk", "role": Role.VIEWER}), 404, "not_found")


def test_an_account_with_a_role_in_the_admins_scope_can_be_granted_another(world, api):
    t = world.tree
    # Created in 福田区, then given a viewer's role at 南头街道 by the city's admin.
    created = api(world.futian_admin).post(f"/api/v1/orgs/{t.futian.pk}/staff-users",
                                           {"username": "loaned-clerk", "display_name": "王三"})
    assert created.status_code == 201, created.json()
    client = api(world.nanshan_admin)
    assert_error(client.post(f"/api/v1/orgs/{t.yuehai.pk}/grants", {"username": "loaned-clerk", "role": Role.STAFF}),
                 404, "not_found", "username")
    loaned = api(world.shenzhen_admin).post(f"/api/v1/orgs/{t.nantou.pk}/grants",
                                            {"username": "loaned-clerk", "role": Role.VIEWER})
    assert loaned.status_code == 201, loaned.json()
    granted = client.post(f"/api/v1/orgs/{t.yuehai.pk}/grants", {"username": "loaned-clerk", "role": Role.STAFF})
    assert granted.status_code == 201, granted.json()
    assert sorted(Grant.objects.filter(user__username="loaned-clerk").values_list("org_id", "role")) == sorted(
        [(t.nantou.pk, Role.VIEWER), (t.yuehai.pk, Role.STAFF)])


def test_grant_input_errors_are_clear(world, api):
    t = world.tree
    client = api(world.nanshan_admin)
    url = f"/api/v1/orgs/{t.nantou.pk}/grants"
    assert_error(client.post(url, {"username": world.newcomer.username, "role": "owner"}), 400, "invalid_role", "role")
    assert_error(client.post(url, {"username": "nobody-here", "role": Role.STAFF}), 404, "not_found", "username")
    assert_error(client.post(url, {"username": world.worker.username, "role": Role.STAFF}), 404, "not_found")
    assert_error(client.post(url, {"username": world.nanshan_admin.username, "role": Role.STAFF}), 400, "self_grant")


def test_viewers_cannot_create_or_edit(world, api):
    t = world.tree
    viewer = staff_on(t.nanshan, Role.VIEWER)
    client = api(viewer)
    before = (OrgUnit.objects.count(), t.nantou_union.chair_name, t.nantou_employer.address)
    assert_error(client.post("/api/v1/unions", _union(t.nantou)), 403)
    assert_error(client.patch(f"/api/v1/unions/{t.nantou_union.pk}", {"chair_name": "李四"}), 403)
    assert_error(client.post("/api/v1/employers", _employer(t.nantou)), 403)
    assert_error(client.patch(f"/api/v1/employers/{t.nantou_employer.pk}", {"address": "某地"}), 403)
    assert_error(client.post(f"/api/v1/orgs/{world.nantou_area.pk}/move", {"new_parent_id": t.nanshan.pk}), 403)
    t.nantou_union.refresh_from_db()
    t.nantou_employer.refresh_from_db()
    assert (OrgUnit.objects.count(), t.nantou_union.chair_name, t.nantou_employer.address) == before
    # ...but read everything in scope.
    assert client.get(f"/api/v1/orgs/{t.nantou.pk}/employers").status_code == 200


def test_staff_create_unions_and_employers_but_do_not_move(world, api):
    t = world.tree
    client = api(world.nantou_staff)
    union = client.post("/api/v1/unions", _union(t.nantou))
    assert union.status_code == 201 and union.json()["parent_id"] == t.nantou.pk
    employer = client.post("/api/v1/employers", _employer(t.nantou))
    assert employer.status_code == 201 and employer.json()["org_id"] == t.nantou.pk
    assert client.patch(f"/api/v1/unions/{t.nantou_union.pk}", {"chair_name": "李四"}).json()["chair_name"] == "李四"
    assert_error(client.post(f"/api/v1/orgs/{world.nantou_area.pk}/move", {"new_parent_id": t.nantou.pk}), 403)
    assert_error(client.post(f"/api/v1/orgs/{world.nantou_area.pk}/move", {"new_parent_id": t.yuehai.pk}), 404)
    # Outside their node nothing is writable.
    assert_error(client.post("/api/v1/unions", _union(t.yuehai)), 404)

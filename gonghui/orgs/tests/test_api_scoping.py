"""A county official never sees a sibling county's unions, employers, staff, counts or audit entries,
through any channel; unknown and forbidden ids look the same."""

from __future__ import annotations

import pytest

from gonghui.core.models import AuditEntry
from gonghui.orgs.models import Employer, OrgUnit, Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import staff_on

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)


def _ids(items) -> set[int]:
    return {item["id"] for item in items}


def _paths(model, ids) -> list[str]:
    field = "path" if model is OrgUnit else "org_path"
    return list(model.objects.filter(pk__in=ids).values_list(field, flat=True))


def test_detail_and_children_stop_at_the_county_border(world, api):
    t = world.tree
    nanshan = api(world.nanshan_admin)
    assert nanshan.get(f"/api/v1/orgs/{t.nantou_union.pk}").status_code == 200
    for org in (t.futian, t.futian_street, t.futian_union, t.shenzhen, t.guangdong, t.national, t.beijing):
        assert_error(nanshan.get(f"/api/v1/orgs/{org.pk}"), 404, "not_found")
        assert_error(nanshan.get(f"/api/v1/orgs/{org.pk}/children"), 404, "not_found")

    children = nanshan.get(f"/api/v1/orgs/{t.nanshan.pk}/children", limit=100).json()["items"]
    assert t.nantou.pk in _ids(children)
    assert all(p.startswith(t.nanshan.path) for p in _paths(OrgUnit, _ids(children)))


def test_the_parent_chain_names_ancestors_but_marks_them_out_of_scope(world, api):
    t = world.tree
    detail = api(world.nanshan_admin).get(f"/api/v1/orgs/{t.nantou.pk}").json()
    assert [(a["name"], a["in_scope"]) for a in detail["ancestors"]] == [
        ("中华全国总工会", False), ("广东省总工会", False), ("深圳市总工会", False), ("南山区总工会", True),
    ]
    assert detail["my_rank"] == 30


def test_search_finds_only_the_callers_subtree(world, api):
    t = world.tree
    for q in ("福田", "ftq", "440304", t.futian_employer.uscc):
        orgs = api(world.nanshan_admin).get("/api/v1/orgs/search", q=q)
        assert orgs.status_code == 200
        assert not any(p.startswith(t.futian.path) for p in _paths(OrgUnit, _ids(orgs.json())))
        employers = api(world.nanshan_admin).get("/api/v1/employers/search", q=q)
        assert employers.status_code == 200
        assert not any(p.startswith(t.futian.path) for p in _paths(Employer, _ids(employers.json())))
    # The same searches by Shenzhen's admin find Futian's union and employer.
    shenzhen = api(world.shenzhen_admin)
    assert t.futian_street.pk in _ids(shenzhen.get("/api/v1/orgs/search", q="440304004").json())
    assert t.futian_employer.pk in _ids(shenzhen.get("/api/v1/employers/search", q=t.futian_employer.uscc).json())
    assert t.futian_union.pk in _ids(shenzhen.get("/api/v1/orgs/search", q="福田商贸").json())


def test_employer_lists_hold_only_the_subtree(world, api):
    t = world.tree
    listed = api(world.nanshan_admin).get(f"/api/v1/orgs/{t.nanshan.pk}/employers", limit=100).json()["items"]
    assert _ids(listed) == set(Employer.objects.filter(org_path__startswith=t.nanshan.path).values_list("id", flat=True))
    assert t.nantou_employer.pk in _ids(listed) and t.futian_employer.pk not in _ids(listed)
    assert_error(api(world.nanshan_admin).get(f"/api/v1/orgs/{t.shenzhen.pk}/employers"), 404)
    assert_error(api(world.nanshan_admin).get(f"/api/v1/employers/{t.futian_employer.pk}"), 404)
    both = api(world.shenzhen_admin).get(f"/api/v1/orgs/{t.shenzhen.pk}/employers", limit=100).json()["items"]
    assert {t.nantou_employer.pk, t.futian_employer.pk} <= _ids(both)


def test_stats_count_the_subtree_and_only_those_who_may_see_it_read_them(world, api):
    t = world.tree
    shenzhen_stats = api(world.shenzhen_admin).get(f"/api/v1/orgs/{t.shenzhen.pk}/stats").json()
    nanshan_stats = api(world.nanshan_admin).get(f"/api/v1/orgs/{t.nanshan.pk}/stats").json()
    futian_stats = api(world.futian_admin).get(f"/api/v1/orgs/{t.futian.pk}/stats").json()

    def employers_under(org):
        return Employer.objects.filter(org_path__startswith=org.path).count()

    assert nanshan_stats["employers"] == employers_under(t.nanshan) == 1
    assert futian_stats["employers"] == employers_under(t.futian) == 1
    assert shenzhen_stats["employers"] == employers_under(t.shenzhen) == 2
    assert shenzhen_stats["workers"] == 160 and nanshan_stats["workers"] == 120 and futian_stats["workers"] == 40
    assert nanshan_stats["unions"] == OrgUnit.objects.filter(path__startswith=t.nanshan.path).count() - 1
    assert shenzhen_stats["grassroots_unions"] == 2 and nanshan_stats["grassroots_unions"] == 1
    # Counts are data too: Nanshan's admin cannot read Shenzhen's or Futian's at all.
    first = assert_error(api(world.nanshan_admin).get(f"/api/v1/orgs/{t.shenzhen.pk}/stats"), 404)
    second = assert_error(api(world.nanshan_admin).get(f"/api/v1/orgs/{t.futian.pk}/stats"), 404)
    assert first == second


def test_staff_lists_are_scoped(world, api):
    t = world.tree
    staff = api(world.shenzhen_admin).get(f"/api/v1/orgs/{t.nanshan.pk}/staff").json()
    assert [s["username"] for s in staff] == ["nanshan-admin"]
    assert_error(api(world.futian_admin).get(f"/api/v1/orgs/{t.nanshan.pk}/staff"), 404)
    assert_error(api(world.nanshan_admin).get(f"/api/v1/orgs/{t.futian.pk}/staff"), 404)


def test_audit_shows_the_subtree_only(world, api):
    t = world.tree
    entries = api(world.nanshan_admin).get("/api/v1/audit", limit=100).json()["items"]
    paths = [AuditEntry.objects.get(pk=e["id"]).org_path for e in entries]
    assert paths and all(p.startswith(t.nanshan.path) for p in paths)
    futian = api(world.futian_admin).get("/api/v1/audit", limit=100).json()["items"]
    assert {e["object_repr"] for e in futian} >= {"深圳市福田商贸有限公司"}
    assert not any(AuditEntry.objects.get(pk=e["id"]).org_path.startswith(t.nanshan.path) for e in futian)
    everything = api(world.shenzhen_admin).get("/api/v1/audit", limit=100).json()["items"]
    assert _ids(entries) | _ids(futian) <= _ids(everything)
    assert_error(api(world.futian_admin).get(f"/api/v1/orgs/{t.nanshan.pk}/audit"), 404)


ID_URLS = [
    ("GET", "/api/v1/orgs/{}"),
    ("GET", "/api/v1/orgs/{}/children"),
    ("GET", "/api/v1/orgs/{}/stats"),
    ("GET", "/api/v1/orgs/{}/employers"),
    ("GET", "/api/v1/orgs/{}/staff"),
    ("GET", "/api/v1/orgs/{}/audit"),
    ("PATCH", "/api/v1/unions/{}"),
    ("POST", "/api/v1/orgs/{}/grants"),
    ("POST", "/api/v1/orgs/{}/staff-users"),
    ("POST", "/api/v1/orgs/{}/move"),
]


@pytest.mark.parametrize(("method", "url"), ID_URLS)
def test_unknown_malformed_and_forbidden_org_ids_answer_alike(world, api, method, url):
    client = api(world.nanshan_admin)
    forbidden = world.tree.futian_street.pk
    unknown = OrgUnit.objects.order_by("-id").first().pk + 1000
    bodies = {}
    for org_id in (forbidden, unknown, "abc", "99999999999999999999999", "-1", "1.5", "%20"):
        target = url.format(org_id)
        if method == "GET":
            response = client.get(target)
        elif method == "PATCH":
            response = client.patch(target, {"chair_name": "李四"})
        elif url.endswith("/grants"):
            response = client.post(target, {"username": world.newcomer.username, "role": Role.VIEWER})
        elif url.endswith("/staff-users"):
            response = client.post(target, {"username": "probe", "display_name": "探测"})
        else:
            response = client.post(target, {"new_parent_id": world.tree.nantou.pk})
        bodies[org_id] = assert_error(response, 404, "not_found")
    assert len({tuple(b.items()) for b in bodies.values()}) == 1, bodies


@pytest.mark.parametrize("url", ["/api/v1/employers/{}", "/api/v1/grants/{}", "/api/v1/moves/{}"])
def test_unknown_malformed_and_forbidden_other_ids_answer_alike(world, api, url):
    from gonghui.orgs.models import Grant, OrgMove

    t = world.tree
    futian_clerk = staff_on(t.futian_street, Role.STAFF)
    forbidden = {
        "/api/v1/employers/{}": t.futian_employer.pk,
        "/api/v1/grants/{}": Grant.objects.get(user=futian_clerk).pk,
        "/api/v1/moves/{}": OrgMove.objects.create(
            node=t.futian_union, old_parent=t.futian_street, new_parent=t.futian_street, old_path=t.futian_union.path,
            status=OrgMove.Status.DONE).pk,
    }[url]
    client = api(world.nanshan_admin)
    bodies = []
    for some_id in (forbidden, forbidden + 100000, "abc", "99999999999999999999999", "-1"):
        if url.startswith("/api/v1/grants"):
            response = client.delete(url.format(some_id))
        else:
            response = client.get(url.format(some_id))
        bodies.append(assert_error(response, 404, "not_found"))
        if url.startswith("/api/v1/employers"):
            assert_error(client.patch(url.format(some_id), {"address": "x"}), 404, "not_found")
    assert len({tuple(b.items()) for b in bodies}) == 1, bodies
    assert Grant.objects.filter(user=futian_clerk).exists()


def test_a_node_only_grant_sees_the_node_but_not_its_children(world, api):
    t = world.tree
    viewer = staff_on(t.nanshan, Role.VIEWER, include_descendants=False, username="nanshan-desk")
    client = api(viewer)
    assert client.get(f"/api/v1/orgs/{t.nanshan.pk}").status_code == 200
    assert client.get(f"/api/v1/orgs/{t.nanshan.pk}/children").json()["items"] == []
    for org in (t.nantou, t.nantou_union, t.yuehai):
        assert_error(client.get(f"/api/v1/orgs/{org.pk}"), 404)
    assert client.get(f"/api/v1/orgs/{t.nanshan.pk}/employers").json()["items"] == []
    assert_error(client.get(f"/api/v1/employers/{t.nantou_employer.pk}"), 404)
    assert _ids(client.get("/api/v1/orgs/search", q="南山").json()) == {t.nanshan.pk}
    assert client.get("/api/v1/orgs/search", q="南头").json() == []
    assert client.get("/api/v1/employers/search", q=t.nantou_employer.uscc).json() == []
    assert all(AuditEntry.objects.get(pk=e["id"]).org_path == t.nanshan.path
               for e in client.get("/api/v1/audit").json()["items"])

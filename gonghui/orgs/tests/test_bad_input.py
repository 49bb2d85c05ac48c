"""Bad input and abuse through the API: a clear Chinese error naming what to fix, or the value stored
and shown exactly; never a 500."""

from __future__ import annotations

import pytest
from django.db import connection

from gonghui.accounts.models import SmsCode, User
from gonghui.orgs.models import Employer, OrgKind, OrgUnit
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.fixtures import uscc_in

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)


@pytest.fixture
def admin(world, api):
    client = api(world.nanshan_admin)
    client.client.raise_request_exception = False  # a server error shows up as a 500 to assert on
    return client


def _union(world, **fields):
    return {"parent_id": world.tree.nantou.pk, "name": "深圳市输入测试有限公司工会委员会", "kind": OrgKind.GRASSROOTS,
            **fields}


def _employer(world, **fields):
    return {"org_id": world.tree.nantou.pk, "name": "深圳市输入测试有限公司", "uscc": uscc_in("440305001"),
            "division_code": "440305001", **fields}


# --- Phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["1380013800", "13800l38000", "138001380001", "12800138000", "", "1٣٨٠٠١٣٨٠٠٠",
                                   "+86 1380013800", "138 0013 800a", "1" * 300, "13800138000; DROP TABLE x"])
def test_malformed_phones_are_refused(client, phone):
    response = client.post("/api/v1/auth/sms-code", {"phone": phone}, content_type="application/json")
    assert_error(response, 400, "invalid_phone", "phone")
    assert SmsCode.objects.count() == 0


@pytest.mark.parametrize("phone", ["+86 138 0013 8000", "138-0013-8000", "0086 13800138000", "(138) 0013 8000",
                                   "＋８６ １３８００１３８０００"])
def test_phones_in_common_notations_are_accepted(client, phone):
    response = client.post("/api/v1/auth/sms-code", {"phone": phone}, content_type="application/json",
                           REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200, response.json()
    assert SmsCode.objects.count() == 1


# --- USCC and division codes ------------------------------------------------------------------


@pytest.mark.parametrize(("uscc", "code"), [
    ("12345", "invalid_uscc"), ("91440305MA5F12345", "invalid_uscc"), ("91440305MA5F12345Z", "invalid_uscc"),
    ("９１４４０３０５ＭＡ５Ｆ１２３４５Ａ", "invalid_uscc"), ("<script>", "invalid_uscc"), ("", "required"),
])
def test_invalid_uscc_through_the_api(world, admin, uscc, code):
    assert_error(admin.post("/api/v1/employers", _employer(world, uscc=uscc)), 400, code, "uscc")
    assert not Employer.objects.filter(name="深圳市输入测试有限公司").exists()


@pytest.mark.parametrize(("division", "code"), [
    ("44030A", "invalid_division"), ("4403O5001", "invalid_division"), ("440305999", "unknown_division"),
    ("999999", "unknown_division"), ("44", "invalid_division"), ("440305001' OR '1'='1", "invalid_division"),
    ("440304004", "division_outside"),
])
def test_invalid_division_codes_through_the_api(world, admin, division, code):
    assert_error(admin.post("/api/v1/employers", _employer(world, division_code=division)), 400, code, "division_code")
    assert_error(admin.post("/api/v1/unions", _union(world, division_code=division)), 400, code, "division_code")


# --- Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["工", "𠈌", "a"])
def test_names_of_200_characters_are_kept_and_201_are_refused(world, admin, char):
    ok = admin.post("/api/v1/unions", _union(world, name=char * 200))
    assert ok.status_code == 201 and ok.json()["name"] == char * 200
    too_long = assert_error(admin.post("/api/v1/unions", _union(world, name=char * 201)), 400, "too_long", "name")
    assert "200" in too_long["message"] and "201" in too_long["message"]
    employer = admin.post("/api/v1/employers", _employer(world, name=char * 200))
    assert employer.status_code == 201 and employer.json()["name"] == char * 200
    assert_error(admin.post("/api/v1/employers", _employer(world, name=char * 201, uscc=uscc_in("440305001"))), 400,
                 "too_long", "name")
    assert_error(admin.patch(f"/api/v1/unions/{world.tree.nantou_union.pk}", {"name": char * 201}), 400, "too_long")


@pytest.mark.parametrize("name", ["深圳市𠈌𠈌科技有限公司", "阿卜杜拉·买买提餐饮店", "𠮷野家（深圳）餐饮有限公司",
                                  "<script>alert('x')</script>有限公司", "'; DROP TABLE orgs_employer; --有限公司",
                                  "Robert'); DELETE FROM orgs_orgunit;--", "100% 纯_净 \\ 公司 {{ name }}"])
def test_unusual_names_are_stored_and_returned_exactly(world, admin, name):
    created = admin.post("/api/v1/employers", _employer(world, name=name))
    assert created.status_code == 201, created.json()
    employer_id = created.json()["id"]
    assert admin.get(f"/api/v1/employers/{employer_id}").json()["name"] == name
    assert Employer.objects.get(pk=employer_id).name == name
    union = admin.post("/api/v1/unions", _union(world, name=name + "工会", chair_name=name[:20]))
    assert union.status_code == 201
    detail = admin.get(f"/api/v1/orgs/{union.json()['id']}").json()
    assert (detail["name"], detail["chair_name"]) == (name + "工会", name[:20])
    # Returned as JSON data, never as markup, and the tables are all still there.
    assert created["Content-Type"].startswith("application/json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM orgs_orgunit")
        assert cursor.fetchone()[0] == OrgUnit.objects.count() > 40000


def test_rare_characters_and_middle_dots_are_found_by_search(world, admin):
    for name in ("深圳市𠈌𠈌科技有限公司", "阿卜杜拉•买买提餐饮店"):
        assert admin.post("/api/v1/employers", _employer(world, name=name, uscc=uscc_in("440305001"))).status_code == 201
    found = admin.get("/api/v1/employers/search", q="𠈌𠈌科技").json()
    assert [e["name"] for e in found] == ["深圳市𠈌𠈌科技有限公司"]
    # The bullet a phone keyboard types is stored as the standard middle dot, and found either way.
    assert [e["name"] for e in admin.get("/api/v1/employers/search", q="阿卜杜拉·买买提").json()] == ["阿卜杜拉·买买提餐饮店"]
    assert [e["name"] for e in admin.get("/api/v1/employers/search", q="买买提").json()] == ["阿卜杜拉·买买提餐饮店"]


def test_staff_names_keep_rare_characters(world, admin):
    created = admin.post(f"/api/v1/orgs/{world.tree.nanshan.pk}/staff-users",
                         {"username": "abdulla", "display_name": "阿卜杜拉·买买提"})
    assert created.status_code == 201
    assert User.objects.get(username="abdulla").display_name == "阿卜杜拉·买买提"
    assert_error(admin.post(f"/api/v1/orgs/{world.tree.nanshan.pk}/staff-users",
                            {"username": "zero-width", "display_name": "张\u200b三"}), 400, "invalid_characters")


@pytest.mark.parametrize("name", ["", "   ", "\n\t", "名\x00称", "名\u202e称", "\ud800"])
def test_empty_or_invisible_names_are_refused(world, admin, name):
    response = admin.client.post("/api/v1/unions", _union(world, name=name), content_type="application/json",
                                 **admin._headers())
    assert response.status_code == 400
    assert_error(response, 400)
    assert not OrgUnit.objects.filter(parent=world.tree.nantou, kind=OrgKind.GRASSROOTS).exclude(
        pk=world.tree.nantou_union.pk).exists()


def test_search_queries_are_data(world, admin):
    for q in ("%' OR '1'='1", "_%", "\\", "南头%", "<img src=x onerror=alert(1)>", "'; SELECT pg_sleep(1); --"):
        for url in ("/api/v1/orgs/search", "/api/v1/employers/search"):
            response = admin.get(url, q=q)
            if response.status_code == 200:
                assert isinstance(response.json(), list)
                assert all(world.org_in_nanshan(o["id"]) for o in response.json()) if "orgs" in url else True
            else:
                assert_error(response, 400, field="q")
    assert admin.get("/api/v1/orgs/search", q="%%").status_code == 400
    assert admin.get("/api/v1/orgs/search", q="南头%").json() == []
    assert_error(admin.get("/api/v1/orgs/search", q="南头\x00"), 400, "invalid_query", "q")
    assert_error(admin.get("/api/v1/orgs/search", q="南" * 201), 400, "invalid_input", "q")
    assert_error(admin.get("/api/v1/orgs/search", q="南" * 101), 400, "invalid_query", "q")
    assert_error(admin.get("/api/v1/orgs/search", q="南"), 400, "query_too_short", "q")
    assert_error(admin.get("/api/v1/orgs/search"), 400, "invalid_input", "q")


# --- Bodies, types, ids -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{not json", "{'parent_id': 1}", '{"parent_id": 1,}', "null", "[1, 2]", "\"text\"",
                                 "", "\xff\xfe"])
def test_a_body_that_is_not_a_json_object(world, admin, raw):
    response = admin.client.post("/api/v1/unions", raw, content_type="application/json", **admin._headers())
    body = assert_error(response, 400)
    assert body["code"] in {"invalid_json", "invalid_input"}


@pytest.mark.parametrize(("url", "payload", "field"), [
    ("/api/v1/unions", {"parent_id": "abc", "name": "某工会", "kind": "grassroots"}, "parent_id"),
    ("/api/v1/unions", {"parent_id": 1.5, "name": "某工会", "kind": "grassroots"}, "parent_id"),
    ("/api/v1/unions", {"parent_id": None, "name": "某工会", "kind": "grassroots"}, "parent_id"),
    ("/api/v1/unions", {"parent_id": "PARENT", "name": 123, "kind": "grassroots"}, "parent_id"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": ["某工会"], "kind": "grassroots"}, "name"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": 7}, "kind"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": "grassroots", "employer_ids": [1, "x"]},
     "employer_ids"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": "grassroots", "employer_ids": "1,2"},
     "employer_ids"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": "grassroots", "founded_on": "2024-02-30"},
     "founded_on"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": "grassroots", "founded_on": "1800-01-01"},
     "founded_on"),
    ("/api/v1/unions", {"parent_id": "NANTOU", "name": "某工会", "kind": "street"}, "kind"),
    ("/api/v1/employers", {"org_id": "NANTOU", "name": "某公司", "uscc": "X", "division_code": "440305001",
                           "employee_count": "many"}, "employee_count"),
    ("/api/v1/employers", {"org_id": "NANTOU", "name": "某公司", "uscc": "USCC", "division_code": "440305001",
                           "employee_count": 10**12}, "employee_count"),
    ("/api/v1/employers", {"org_id": "NANTOU", "name": "某公司", "uscc": "USCC", "division_code": "440305001",
                           "employee_count": -1}, "employee_count"),
    ("/api/v1/employers", {"org_id": "NANTOU", "name": "某公司", "uscc": "X", "division_code": 440305001}, "division_code"),
    ("/api/v1/employers", {"org_id": "NANTOU", "name": "某公司", "uscc": "X", "division_code": "440305001",
                           "is_platform": "maybe"}, "is_platform"),
    ("/api/v1/employers", {"org_id": 10**30, "name": "某公司", "uscc": "X", "division_code": "440305001"}, None),
    ("/api/v1/orgs/NANTOU/grants", {"username": "x", "role": "staff", "include_descendants": "perhaps"},
     "include_descendants"),
    ("/api/v1/orgs/NANTOU/grants", {"username": ["x"], "role": "staff"}, "username"),
    ("/api/v1/orgs/NANTOU/move", {"new_parent_id": "up"}, "new_parent_id"),
])
def test_wrong_types_name_the_field(world, admin, url, payload, field):
    nantou = world.tree.nantou.pk
    url = url.replace("NANTOU", str(nantou))
    payload = {k: (nantou if v in ("NANTOU",) else v) for k, v in payload.items()}
    if payload.get("uscc") == "USCC":
        payload["uscc"] = uscc_in("440305001")
    response = admin.post(url, payload)
    body = assert_error(response, 404 if field is None else 400)
    if field is not None:
        assert body["field"] == field, body
        assert "field" not in body["message"] and "_" not in body["message"], body


def test_unknown_api_paths_and_methods_answer_in_the_error_format(world, admin):
    assert_error(admin.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(admin.get("/api/v1/orgs/"), 404, "not_found")
    response = admin.delete(f"/api/v1/orgs/{world.tree.nantou.pk}")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


# --- Pagination -------------------------------------------------------------------------------


def _paged_urls(world) -> list[str]:
    t = world.tree
    return [f"/api/v1/orgs/{t.nanshan.pk}/children", f"/api/v1/orgs/{t.nanshan.pk}/employers",
            f"/api/v1/orgs/{t.nanshan.pk}/audit", "/api/v1/audit"]


def test_tampered_cursors_are_a_clear_400(world, admin):
    t = world.tree
    for i in range(3):
        admin.post("/api/v1/employers", _employer(world, name=f"深圳市翻页测试{i}有限公司", uscc=uscc_in("440305001")))
    for url in _paged_urls(world):
        page = admin.get(url, limit=1).json()
        cursor = page["next_cursor"]
        assert cursor, url
        assert admin.get(url, limit=1, cursor=cursor).status_code == 200
        flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
        for bad in (flipped, "abc", cursor + "x", "", "%00", "eyJhIjoxfQ:1abc:xyz", cursor.replace(":", "")):
            response = admin.get(url, limit=1, cursor=bad)
            if bad == "":
                assert response.status_code == 200  # an empty cursor is the first page
                continue
            assert_error(response, 400, "invalid_cursor", "cursor")
    # A genuine cursor of another list (a path where an id is expected) is refused too.
    children_cursor = admin.get(f"/api/v1/orgs/{t.nanshan.pk}/children", limit=1).json()["next_cursor"]
    assert_error(admin.get(f"/api/v1/orgs/{t.nanshan.pk}/employers", cursor=children_cursor), 400, "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "1000", "-1", "101", "abc", "1.5", "99999999999999999999"])
def test_page_sizes_out_of_range_are_refused(world, admin, limit):
    for url, params in [(url, {}) for url in _paged_urls(world)] + [
        ("/api/v1/orgs/search", {"q": "南头"}), ("/api/v1/employers/search", {"q": "南头"})
    ]:
        body = assert_error(admin.get(url, limit=limit, **params), 400, "invalid_input", "limit")
        assert "每页条数" in body["message"]


def test_page_sizes_in_range_are_honoured(world, admin):
    for url in _paged_urls(world):
        assert len(admin.get(url, limit=1).json()["items"]) == 1
        assert admin.get(url, limit=100).status_code == 200

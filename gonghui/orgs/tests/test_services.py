"""Services: what may be created where, employer checks, covering employers, rollups kept exact."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc as stdnum_uscc

from gonghui.analytics.rollups import rollup_read
from gonghui.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from gonghui.orgs import selectors
from gonghui.orgs.models import CREATABLE_CHILD_KINDS, Employer, OrgKind, OrgUnit, Role
from gonghui.orgs.services import (
    employer_create,
    employer_update,
    grant_revoke,
    grant_role,
    staff_user_create,
    union_create,
    union_update,
)
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.api_asserts import assert_error, has_chinese
from gonghui.testing.fixtures import staff_on, uscc_in

pytestmark = pytest.mark.django_db
WORLD_ONCE_PER_MODULE = True  # built once; each test runs in a savepoint rolled back after it (world.py)


def _uscc(first17: str) -> str:
    return first17 + stdnum_uscc.calc_check_digit(first17)


LETTERED_USCC = _uscc("91440305MA5F12345")  # 91440305MA5F12345A


def parents_of_every_kind(world) -> dict[str, OrgUnit]:
    t = world.tree
    root = t.root_admin
    return {
        OrgKind.NATIONAL: t.national,
        OrgKind.PROVINCE: t.guangdong,
        OrgKind.CITY: t.shenzhen,
        OrgKind.COUNTY: t.nanshan,
        OrgKind.TOWNSHIP: t.nantou,
        OrgKind.INDUSTRY: union_create(actor=root, parent=t.shenzhen, name="深圳市电子信息产业工会联合会",
                                       kind=OrgKind.INDUSTRY),
        OrgKind.AREA: world.nantou_area,
        OrgKind.JOINT: union_create(actor=root, parent=t.nantou, name="南头街道小微企业联合工会委员会", kind=OrgKind.JOINT),
        OrgKind.PLATFORM: union_create(actor=root, parent=t.shenzhen, name="深圳市某网约配送平台工会委员会",
                                       kind=OrgKind.PLATFORM),
        OrgKind.GRASSROOTS: t.nantou_union,
    }


@pytest.mark.parametrize("parent_kind", list(OrgKind))
def test_union_create_follows_the_table_of_creatable_kinds(world, parent_kind):
    parent = parents_of_every_kind(world)[parent_kind]
    for kind in OrgKind:
        count = OrgUnit.objects.count()
        if kind in CREATABLE_CHILD_KINDS[parent_kind]:
            org = union_create(actor=world.tree.root_admin, parent=parent, name=f"测试{kind.label}", kind=kind)
            assert (org.kind, org.parent_id, org.depth) == (kind, parent.pk, parent.depth + 1)
            assert org.path.startswith(parent.path) and len(org.path) == len(parent.path) + 4
        else:
            with pytest.raises(ValidationFailed) as refused:
                union_create(actor=world.tree.root_admin, parent=parent, name=f"测试{kind.label}", kind=kind)
            assert refused.value.code in {"invalid_kind", "invalid_parent"}
            assert has_chinese(refused.value.message) and refused.value.field in {"kind", "parent_id"}
            assert OrgUnit.objects.count() == count


def test_territorial_unions_are_never_created_by_hand(world):
    for kind in (OrgKind.NATIONAL, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.TOWNSHIP):
        assert all(kind not in allowed for allowed in CREATABLE_CHILD_KINDS.values())
    with pytest.raises(ValidationFailed) as refused:
        union_create(actor=world.tree.root_admin, parent=world.tree.nanshan, name="某街道工会", kind="street")
    assert refused.value.code == "invalid_kind"


def test_union_division_must_exist_and_lie_in_the_parents_territory(world):
    admin, t = world.nanshan_admin, world.tree
    with pytest.raises(ValidationFailed) as unknown:
        union_create(actor=admin, parent=t.nantou, name="某公司工会", kind=OrgKind.GRASSROOTS, division_code="440305999")
    assert unknown.value.code == "unknown_division" and "440305999" in unknown.value.message
    with pytest.raises(ValidationFailed) as outside:
        union_create(actor=admin, parent=t.nantou, name="某公司工会", kind=OrgKind.GRASSROOTS, division_code="440304004")
    assert outside.value.code == "division_outside" and "南头" in outside.value.message
    org = union_create(actor=admin, parent=t.nanshan, name="某公司工会", kind=OrgKind.GRASSROOTS, division_code="440305007")
    assert org.division_id == "440305007" and org.province_code == "44"
    # Without a code the union takes the parent's territory.
    assert union_create(actor=admin, parent=t.nantou, name="另一公司工会", kind=OrgKind.GRASSROOTS).division_id == "440305001"


def test_territorial_unions_keep_their_division(world):
    with pytest.raises(ValidationFailed) as refused:
        union_update(actor=world.nanshan_admin, org=world.tree.nanshan, data={"division_code": "440304"})
    assert refused.value.code == "territorial_division"
    world.tree.nanshan.refresh_from_db()
    assert world.tree.nanshan.division_id == "440305"
    updated = union_update(actor=world.nanshan_admin, org=world.tree.nanshan, data={"chair_name": "赵六"})
    assert updated.chair_name == "赵六"


# --- Employers --------------------------------------------------------------------------------


def _employer(actor, org, uscc, division="440305001", **extra):
    return employer_create(actor=actor, org=org, name="深圳市南头服务测试有限公司", uscc=uscc, division_code=division,
                           **extra)


@pytest.mark.parametrize(("uscc", "fragment"), [
    ("91440305MA5F1234", "18位（现为16位）"),
    ("91440305MA5F12345AB", "18位（现为19位）"),
    (LETTERED_USCC[:-1] + ("B" if LETTERED_USCC[-1] != "B" else "C"), "校验位"),
    ("91440305MA5F1234IA", "格式不正确"),
    ("", "请填写统一社会信用代码"),
])
def test_invalid_uscc_is_refused_with_what_to_fix(world, uscc, fragment):
    with pytest.raises(ValidationFailed) as refused:
        _employer(world.nanshan_admin, world.tree.nantou, uscc)
    assert fragment in refused.value.message and refused.value.field == "uscc"
    assert not Employer.objects.filter(name="深圳市南头服务测试有限公司").exists()


def test_lower_case_uscc_is_accepted_and_stored_upper_case(world, api):
    response = api(world.nanshan_admin).post("/api/v1/employers", {
        "org_id": world.tree.nantou.pk, "name": "深圳市小写代码有限公司", "uscc": f" {LETTERED_USCC.lower()} ",
        "division_code": "440305001",
    })
    assert response.status_code == 201, response.json()
    assert response.json()["uscc"] == LETTERED_USCC == Employer.objects.get(name="深圳市小写代码有限公司").uscc


def test_duplicate_uscc_is_a_conflict(world, api):
    existing = world.tree.nantou_employer.uscc
    client = api(world.nanshan_admin)
    body = {"org_id": world.tree.yuehai.pk, "name": "深圳市重复代码有限公司", "uscc": existing.lower(),
            "division_code": "440305007"}
    assert_error(client.post("/api/v1/employers", body), 409, "duplicate_uscc", "uscc")
    other = _employer(world.nanshan_admin, world.tree.nantou, uscc_in("440305001"))
    assert_error(client.patch(f"/api/v1/employers/{other.pk}", {"uscc": existing}), 409, "duplicate_uscc", "uscc")
    # Even a code registered outside the caller's scope is a conflict (the register is national).
    futian = world.tree.futian_employer.uscc
    with pytest.raises(Conflict):
        _employer(world.nanshan_admin, world.tree.nantou, futian)


def test_employer_division_is_checked(world):
    admin, nantou = world.nanshan_admin, world.tree.nantou
    cases = [("440305999", "unknown_division"), ("44030A", "invalid_division"), ("4403", "invalid_division"),
             ("440304004", "division_outside"), ("440305007", "division_outside"), ("", "required")]
    for code, expected in cases:
        with pytest.raises(ValidationFailed) as refused:
            _employer(admin, nantou, uscc_in("440305001"), division=code)
        assert refused.value.code == expected and refused.value.field == "division_code", code
        assert has_chinese(refused.value.message)
    assert _employer(admin, world.tree.nanshan, uscc_in("440305007"), division="440305007").org_id == world.tree.nanshan.pk


def test_employers_are_not_registered_at_the_national_union(world):
    with pytest.raises(ValidationFailed) as refused:
        _employer(world.tree.root_admin, world.tree.national, uscc_in("440305001"))
    assert refused.value.code == "invalid_org"


def test_an_employer_moves_only_to_a_union_whose_territory_holds_it(world):
    t = world.tree
    employer = _employer(world.shenzhen_admin, t.nantou, uscc_in("440305001"))
    with pytest.raises(ValidationFailed) as refused:
        employer_update(actor=world.shenzhen_admin, employer=employer, data={"org_id": t.futian_street.pk})
    assert refused.value.code == "division_outside" and refused.value.field == "org_id"
    # A grassroots union that is not a joint union covers one employer.
    with pytest.raises(ValidationFailed) as single:
        employer_update(actor=world.shenzhen_admin, employer=employer, data={"org_id": t.nantou_union.pk})
    assert single.value.code == "too_many_employers"
    employer.refresh_from_db()
    assert employer.org_id == t.nantou.pk


def test_covering_an_employer_that_has_a_union_is_refused(world):
    t = world.tree
    with pytest.raises(ValidationFailed) as refused:
        union_create(actor=world.nanshan_admin, parent=t.nantou, name="重复建会工会", kind=OrgKind.GRASSROOTS,
                     employer_ids=[t.nantou_employer.pk])
    assert refused.value.code == "employer_has_union" and t.nantou_employer.name in refused.value.message
    assert not OrgUnit.objects.filter(name="重复建会工会").exists()
    with pytest.raises(NotFound):
        union_create(actor=world.nanshan_admin, parent=t.nantou, name="越界建会工会", kind=OrgKind.GRASSROOTS,
                     employer_ids=[t.futian_employer.pk])
    assert not OrgUnit.objects.filter(name="越界建会工会").exists()


def test_only_a_joint_union_covers_several_employers(world):
    t = world.tree
    a = _employer(world.nanshan_admin, t.nantou, uscc_in("440305001"))
    b = employer_create(actor=world.nanshan_admin, org=t.nantou, name="深圳市南头第二测试有限公司",
                        uscc=uscc_in("440305001"), division_code="440305001")
    with pytest.raises(ValidationFailed) as refused:
        union_create(actor=world.nanshan_admin, parent=t.nantou, name="两家单位工会", kind=OrgKind.GRASSROOTS,
                     employer_ids=[a.pk, b.pk])
    assert refused.value.code == "too_many_employers"
    joint = union_create(actor=world.nanshan_admin, parent=t.nantou, name="两家单位联合工会", kind=OrgKind.JOINT,
                         employer_ids=[a.pk, b.pk])
    assert set(Employer.objects.filter(org=joint).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_founding_a_union_moves_its_employer_and_the_counts(world):
    t = world.tree
    employer = _employer(world.nanshan_admin, t.nantou, uscc_in("440305001"), employee_count=30)
    ancestors = (t.national, t.shenzhen, t.nanshan, t.nantou)
    before = {o.pk: rollup_read(o.pk) for o in ancestors}
    direct = selectors.employer_list(actor=world.nanshan_admin, org=t.nantou, direct_only=True)[0]
    assert employer in direct

    union = union_create(actor=world.nanshan_admin, parent=t.nantou, name="深圳市南头服务测试有限公司工会委员会",
                         kind=OrgKind.GRASSROOTS, employer_ids=[employer.pk])

    employer.refresh_from_db()
    assert (employer.org_id, employer.org_path) == (union.pk, union.path)
    assert rollup_read(union.pk) == {"employers": 1, "workers": 30}
    for org in ancestors:
        after = rollup_read(org.pk)
        assert after["employers"] == before[org.pk]["employers"]
        assert after["workers"] == before[org.pk]["workers"]
        assert after["unions"] == before[org.pk]["unions"] + 1
        assert after["grassroots"] == before[org.pk]["grassroots"] + 1
    assert employer not in selectors.employer_list(actor=world.nanshan_admin, org=t.nantou, direct_only=True)[0]
    assert employer in selectors.employer_list(actor=world.nanshan_admin, org=union, direct_only=True)[0]
    assert_rollups_match_rebuild(*ancestors, union)


def test_rollups_after_each_write_equal_a_fresh_rebuild(world):
    t = world.tree
    admin = world.shenzhen_admin
    watched = (t.national, t.shenzhen, t.nanshan, t.nantou, t.futian)
    assert_rollups_match_rebuild(*watched)

    employer = _employer(admin, t.nantou, uscc_in("440305001"), employee_count=55)
    assert_rollups_match_rebuild(*watched)
    employer_update(actor=admin, employer=employer, data={"employee_count": 70})
    assert_rollups_match_rebuild(*watched)
    employer_update(actor=admin, employer=employer, data={"org_id": t.nanshan.pk})
    assert_rollups_match_rebuild(*watched)
    union = union_create(actor=admin, parent=t.nanshan, name="深圳市南头服务测试有限公司工会委员会",
                         kind=OrgKind.GRASSROOTS, division_code="440305001", employer_ids=[employer.pk])
    assert_rollups_match_rebuild(*watched, union)
    union_update(actor=admin, org=union, data={"name": "深圳市南头服务测试有限公司工会"})
    assert_rollups_match_rebuild(*watched, union)
    clerk, _password = staff_user_create(actor=admin, org=t.nanshan, username="nanshan-clerk", display_name="钱七")
    grant = grant_role(actor=admin, org=union, username=clerk.username, role=Role.STAFF)
    assert_rollups_match_rebuild(*watched, union)
    grant_role(actor=admin, org=union, username=clerk.username, role=Role.VIEWER)  # an update, not a new grant
    assert_rollups_match_rebuild(*watched, union)
    grant_revoke(actor=admin, grant=grant)
    assert_rollups_match_rebuild(*watched, union)
    futian = employer_create(actor=admin, org=t.futian, name="深圳市福田第二商贸有限公司", uscc=uscc_in("440304004"),
                             division_code="440304004", employee_count=9)
    employer_update(actor=admin, employer=futian, data={"employee_count": 0})
    assert_rollups_match_rebuild(*watched, union)


def test_a_refused_write_changes_nothing(world):
    t = world.tree
    before = (OrgUnit.objects.count(), Employer.objects.count(), rollup_read(t.nantou.pk))
    bad = [
        lambda: union_create(actor=world.nanshan_admin, parent=t.nantou, name="x" * 201, kind=OrgKind.GRASSROOTS),
        lambda: union_create(actor=world.nanshan_admin, parent=t.nantou, name="某工会", kind=OrgKind.GRASSROOTS,
                             founded_on="2024-13-01"),
        lambda: _employer(world.nanshan_admin, t.nantou, "123"),
        lambda: _employer(world.nanshan_admin, t.nantou, uscc_in("440305001"), employee_count=-5),
        lambda: _employer(world.futian_admin, t.nantou, uscc_in("440305001")),
    ]
    for write in bad:
        with pytest.raises(ServiceError) as refused:
            write()
        assert has_chinese(refused.value.message)
    assert (OrgUnit.objects.count(), Employer.objects.count(), rollup_read(t.nantou.pk)) == before


def test_staff_user_create_checks_the_username(world):
    admin, t = world.nanshan_admin, world.tree
    for username, code in (("demo-nanshan", "reserved_username"), ("张 三", "invalid_username"), ("", "invalid_username")):
        with pytest.raises(ValidationFailed) as refused:
            staff_user_create(actor=admin, org=t.nanshan, username=username, display_name="某人")
        assert refused.value.code == code
    user, password = staff_user_create(actor=admin, org=t.nanshan, username="nanshan-new", display_name="孙八")
    assert len(password) >= 12 and user.check_password(password) and user.kind == "staff"
    with pytest.raises(Conflict) as duplicate:
        staff_user_create(actor=admin, org=t.nanshan, username="nanshan-new", display_name="孙八")
    assert duplicate.value.code == "duplicate_username"
    staff = staff_on(t.nanshan, Role.STAFF)
    with pytest.raises(ServiceError) as refused:
        staff_user_create(actor=staff, org=t.nanshan, username="by-staff", display_name="某人")
    assert refused.value.status == 403


def test_a_union_covers_employers_registered_at_or_above_it_in_its_territory(world):
    t, admin = world.tree, world.nanshan_admin
    at_county = _employer(admin, t.nanshan, uscc_in("440305001"))  # registered at the county, located in 南头
    park_union = union_create(actor=admin, parent=world.nantou_area, name="园区内某公司工会", kind=OrgKind.GRASSROOTS,
                              employer_ids=[at_county.pk])
    at_county.refresh_from_db()
    assert at_county.org_path == park_union.path
    in_yuehai = employer_create(actor=admin, org=t.yuehai, name="深圳市粤海测试有限公司", uscc=uscc_in("440305007"),
                                division_code="440305007")
    with pytest.raises(ValidationFailed) as elsewhere:
        union_create(actor=admin, parent=t.nantou, name="跨街道工会", kind=OrgKind.GRASSROOTS, employer_ids=[in_yuehai.pk])
    assert elsewhere.value.code == "employer_elsewhere" and elsewhere.value.field == "employer_ids"
    located_in_yuehai = employer_create(actor=admin, org=t.nanshan, name="深圳市粤海第二测试有限公司",
                                        uscc=uscc_in("440305007"), division_code="440305007")
    with pytest.raises(ValidationFailed) as outside:
        union_create(actor=admin, parent=t.nantou, name="跨辖区工会", kind=OrgKind.GRASSROOTS,
                     employer_ids=[located_in_yuehai.pk])
    assert outside.value.code == "division_outside"
    assert not OrgUnit.objects.filter(name__in=["跨街道工会", "跨辖区工会"]).exists()

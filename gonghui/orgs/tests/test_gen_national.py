"""gen_national at a tiny size: the data it writes is what the product expects (no timing here)."""

import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from stdnum.cn import uscc as stdnum_uscc

from gonghui.analytics.rollups import rollup_read
from gonghui.core.text import name_bigrams, name_initials
from gonghui.orgs.models import LEAF_KINDS, Employer, OrgKind, OrgUnit
from gonghui.orgs.national import index_names
from gonghui.orgs.selectors import employer_search, org_search
from gonghui.testing.fixtures import staff_on

pytestmark = pytest.mark.django_db
GRASSROOTS, EMPLOYERS = 2000, 5000


def _schema() -> dict[str, set[str]]:
    names = {table: index_names(table) for table in ("orgs_orgunit", "orgs_employer")}
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid IN "
                       "('orgs_orgunit'::regclass, 'orgs_employer'::regclass)")
        names["constraints"] = {name for (name,) in cursor}
    return names


def test_gen_national_builds_a_consistent_tree():
    """One generation (a few seconds), checked from every side the product relies on."""
    schema_before = _schema()
    out = io.StringIO()
    call_command("gen_national", "--grassroots", str(GRASSROOTS), "--employers", str(EMPLOYERS), "--seed", "7",
                 stdout=out)
    assert "完成" in out.getvalue() and "秒" in out.getvalue()
    check_counts()
    check_uscc_valid_and_unique()
    check_paths_follow_parents_and_employers_copy_their_unions_path()
    check_search_columns_match_the_text_helpers()
    check_rollups_equal_real_counts()
    check_search_finds_generated_rows()
    # Secondary indexes and constraints were dropped for the load and are back under their names.
    assert _schema() == schema_before
    # A second run is refused, and changes nothing.
    with pytest.raises(CommandError, match="已有基层工会或用人单位"):
        call_command("gen_national", "--grassroots", "10", "--employers", "30", stdout=io.StringIO())
    assert OrgUnit.objects.filter(kind__in=[OrgKind.GRASSROOTS, OrgKind.JOINT]).count() == GRASSROOTS


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def check_counts():
    unions = OrgUnit.objects.filter(kind__in=[OrgKind.GRASSROOTS, OrgKind.JOINT])
    assert unions.count() == GRASSROOTS
    assert unions.filter(kind=OrgKind.JOINT).exists() and unions.filter(kind=OrgKind.GRASSROOTS).exists()
    assert Employer.objects.count() == EMPLOYERS
    # Every generated union is below a township, in that township's division.
    assert not unions.exclude(parent__kind=OrgKind.TOWNSHIP).exists()
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_orgunit o JOIN orgs_orgunit p ON p.id = o.parent_id "
        "WHERE o.kind IN ('grassroots', 'joint') AND (o.division_id <> p.division_id OR o.province_code <> p.province_code)"
    ) == 0


def check_uscc_valid_and_unique():
    codes = list(Employer.objects.values_list("uscc", flat=True))
    assert len(set(codes)) == EMPLOYERS
    for code in codes:
        assert stdnum_uscc.validate(code) == code
    # The registration authority part is the employer's county.
    assert _scalar("SELECT COUNT(*) FROM orgs_employer WHERE SUBSTR(uscc, 3, 6) <> SUBSTR(division_id, 1, 6)") == 0


def check_paths_follow_parents_and_employers_copy_their_unions_path():
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_orgunit o JOIN orgs_orgunit p ON p.id = o.parent_id "
        "WHERE LEFT(o.path, LENGTH(o.path) - 4) <> p.path OR o.depth <> p.depth + 1 OR LENGTH(o.path) <> 4 * o.depth"
    ) == 0
    assert _scalar("SELECT COUNT(*) FROM orgs_orgunit WHERE parent_id IS NULL") == 1
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_employer e JOIN orgs_orgunit o ON o.id = e.org_id WHERE e.org_path <> o.path"
    ) == 0
    # Every grassroots union covers exactly one employer; every joint union several.
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_orgunit o WHERE o.kind = 'grassroots' "
        "AND (SELECT COUNT(*) FROM orgs_employer e WHERE e.org_id = o.id) <> 1"
    ) == 0
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_orgunit o WHERE o.kind = 'joint' "
        "AND (SELECT COUNT(*) FROM orgs_employer e WHERE e.org_id = o.id) < 2"
    ) == 0
    # Townships hand out the next child number after the generated ones.
    assert _scalar(
        "SELECT COUNT(*) FROM orgs_orgunit t WHERE t.kind = 'township' "
        "AND t.child_seq <> (SELECT COUNT(*) FROM orgs_orgunit c WHERE c.parent_id = t.id)"
    ) == 0


def check_search_columns_match_the_text_helpers():
    rng = random.Random(3)
    unions = list(OrgUnit.objects.filter(kind__in=[OrgKind.GRASSROOTS, OrgKind.JOINT])
                  .values_list("name", "name_initials", "name_bigrams"))
    employers = list(Employer.objects.values_list("name", "name_initials", "name_bigrams"))
    for name, initials, bigrams in rng.sample(unions, 150) + rng.sample(employers, 150):
        assert initials == name_initials(name), name
        assert bigrams == name_bigrams(name), name
    union_names = {name for name, _, _ in unions}
    with_union = Employer.objects.filter(org__kind=OrgKind.GRASSROOTS).values_list("name", flat=True)[:50]
    assert all(f"{name}工会委员会" in union_names for name in with_union)


def check_search_finds_generated_rows():
    admin = staff_on(OrgUnit.objects.get(kind=OrgKind.NATIONAL))
    employer = Employer.objects.filter(org__kind=OrgKind.GRASSROOTS).select_related("org").order_by("id").first()
    assert employer in employer_search(actor=admin, q=employer.name)
    assert employer_search(actor=admin, q=employer.uscc) == [employer]
    assert employer.org in org_search(actor=admin, q=employer.org.name)
    assert employer.org in org_search(actor=admin, q=employer.org.name_initials)


def check_rollups_equal_real_counts():
    root = OrgUnit.objects.get(kind=OrgKind.NATIONAL)
    totals = rollup_read(root.pk)
    assert totals["unions"] == OrgUnit.objects.count() - 1
    assert totals["grassroots"] == OrgUnit.objects.filter(kind__in=list(LEAF_KINDS)).count()
    assert totals["employers"] == EMPLOYERS
    assert totals["workers"] == Employer.objects.aggregate(n=Sum("employee_count"))["n"]
    busiest = OrgUnit.objects.filter(kind=OrgKind.TOWNSHIP).order_by("-child_seq").first()
    assert rollup_read(busiest.pk)["employers"] == Employer.objects.filter(org_path__startswith=busiest.path).count()


def test_bad_sizes_are_refused():
    with pytest.raises(CommandError, match="--scale"):
        call_command("gen_national", "--scale", "0", stdout=io.StringIO())
    with pytest.raises(CommandError, match="用人单位数量"):
        call_command("gen_national", "--grassroots", "1000", "--employers", "10", stdout=io.StringIO())
    with pytest.raises(CommandError, match="生成会员需要基层工会"):
        call_command("gen_national", "--grassroots", "0", "--employers", "10", "--members", "5", stdout=io.StringIO())
    with pytest.raises(CommandError, match="不能为负数"):
        call_command("gen_national", "--members", "-5", stdout=io.StringIO())
    assert not Employer.objects.exists()


def _member_schema() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'membership_member'::regclass")
        return index_names("membership_member") | {name for (name,) in cursor}


def test_gen_national_members_are_findable_by_their_real_numbers():
    """--members at a tiny size: valid, distinct people in grassroots unions, counted by the rollups."""
    from stdnum.cn import ric

    from gonghui.membership.models import Member
    from gonghui.membership.numbers import is_valid_member_no, member_nos
    from gonghui.membership.selectors import member_find_by_id_number
    from gonghui.orgs.national_members import numbers

    members = 3000
    schema_before = _member_schema()
    out = io.StringIO()
    call_command("gen_national", "--grassroots", "300", "--employers", "800", "--members", str(members),
                 "--seed", "5", stdout=out)
    assert f"会员 {members:,} 名" in out.getvalue()
    assert _member_schema() == schema_before
    assert Member.objects.count() == members
    assert Member.objects.values("id_hash").distinct().count() == members
    assert Member.objects.values("member_no").distinct().count() == members
    assert not Member.objects.exclude(org__kind__in=list(LEAF_KINDS)).exists()
    assert _scalar("SELECT COUNT(*) FROM membership_member m JOIN orgs_orgunit o ON o.id = m.org_id "
                   "WHERE m.org_path <> o.path OR m.province_code <> o.province_code "
                   "OR m.employer_id NOT IN (SELECT id FROM orgs_employer e WHERE e.org_id = o.id)") == 0
    # Bigger unions (more employees) get more members, and most members are active.
    assert Member.objects.filter(status="active").count() > members * 0.85
    # The generated numbers are real: valid, and the product finds the member by them.
    admin = staff_on(OrgUnit.objects.get(kind=OrgKind.NATIONAL))
    scheme = numbers()
    first = Member.objects.order_by("id").first()
    for n in (0, 1, 1234, members - 1):
        number = scheme.id_number(n)
        assert ric.validate(number) == number
        found = member_find_by_id_number(actor=admin, id_number=number)
        assert found.pk == first.pk + n
        assert found.id_masked == number[:6] + "********" + number[-4:]
        assert found.birth_date == ric.get_birth_date(number)
        assert is_valid_member_no(found.member_no) and found.member_no[:2] == found.province_code
    # New member numbers continue after the generated ones.
    used = {m[4:13] for m in Member.objects.values_list("member_no", flat=True)}
    assert member_nos("44", 2026, 1)[0][4:13] not in used
    assert int(member_nos("44", 2026, 1)[0][4:13]) > max(int(u) for u in used)
    # The rollups count them (rollup_rebuild ran with the membership sources).
    totals = rollup_read(OrgUnit.objects.get(kind=OrgKind.NATIONAL).pk)
    for status in ("active", "retained", "withdrawn"):
        assert totals.get(f"members.{status}", 0) == Member.objects.filter(status=status).count()
    union = Member.objects.values("org_id").annotate(n=Count("id")).order_by("-n").first()
    assert rollup_read(union["org_id"])["members.active"] == Member.objects.filter(
        org_id=union["org_id"], status="active").count()
    # Adding members again is refused, and changes nothing.
    from gonghui.orgs.national import GenerationRefused, generate_members

    with pytest.raises(GenerationRefused, match="已有会员"):
        generate_members(members=10, log=lambda line: None)
    assert Member.objects.count() == members


def test_generate_members_adds_to_existing_unions_and_refuses_without_them():
    from gonghui.membership.models import Member
    from gonghui.orgs.national import GenerationRefused, generate_members

    with pytest.raises(GenerationRefused, match="基层工会"):
        generate_members(members=10, log=lambda line: None)
    call_command("gen_national", "--grassroots", "50", "--employers", "120", stdout=io.StringIO())
    assert not Member.objects.exists()
    report = generate_members(members=400, seed=3, log=lambda line: None, processes=2)  # two worker processes
    assert report.members == 400 and Member.objects.count() == 400
    assert rollup_read(OrgUnit.objects.get(kind=OrgKind.NATIONAL).pk)["members.active"] == \
        Member.objects.filter(status="active").count()

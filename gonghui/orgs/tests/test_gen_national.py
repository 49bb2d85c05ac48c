"""gen_national at a tiny size: the data it writes is what the product expects (no timing here)."""

import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
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
    assert not Employer.objects.exists()

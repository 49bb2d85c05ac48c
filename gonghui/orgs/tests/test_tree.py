from collections import Counter

import pytest

from gonghui.analytics.rollups import rollup_read, rollup_rebuild
from gonghui.orgs.models import Division, OrgKind, OrgUnit
from gonghui.orgs.paths import ancestor_paths

pytestmark = pytest.mark.django_db


def test_real_tree_has_every_division_level():
    counts = Counter(OrgUnit.objects.values_list("kind", flat=True))
    assert counts[OrgKind.NATIONAL] == 1
    assert counts[OrgKind.PROVINCE] == 31
    assert counts[OrgKind.CITY] == 342
    assert counts[OrgKind.COUNTY] == 2975
    assert counts[OrgKind.TOWNSHIP] == 41352
    assert Division.objects.count() == 44700


def test_placeholders_are_marked_and_named():
    beijing_group = OrgUnit.objects.get(division_id="110100")
    assert beijing_group.is_placeholder
    assert "统计用区划分组" in beijing_group.name
    assert not OrgUnit.objects.get(division_id="440300").is_placeholder


def test_names_and_parent_chain_follow_the_divisions():
    nantou = OrgUnit.objects.get(division_id="440305001")
    assert nantou.name == "南头街道工会"
    chain = list(OrgUnit.objects.filter(path__in=ancestor_paths(nantou.path, include_self=False)).order_by("path"))
    assert [o.name for o in chain] == ["中华全国总工会", "广东省总工会", "深圳市总工会", "南山区总工会"]
    assert nantou.parent.division_id == "440305"
    # Cities without counties (东莞) have townships directly below the city union.
    dongcheng = OrgUnit.objects.get(division_id="441900003")
    assert dongcheng.parent.division_id == "441900"


def test_rollups_count_the_whole_subtree():
    root = OrgUnit.objects.get(kind=OrgKind.NATIONAL)
    assert rollup_read(root.pk)["unions"] == OrgUnit.objects.count() - 1
    nanshan = OrgUnit.objects.get(division_id="440305")
    assert rollup_read(nanshan.pk)["unions"] == OrgUnit.objects.filter(path__startswith=nanshan.path).count() - 1


def test_rollup_rebuild_matches_incremental_counts(tree):
    before = {o: rollup_read(o.pk) for o in (tree.national, tree.nanshan, tree.nantou, tree.nantou_union)}
    rollup_rebuild()
    after = {o: rollup_read(o.pk) for o in before}
    for org in before:
        assert {k: v for k, v in before[org].items() if v} == {k: v for k, v in after[org].items() if v}

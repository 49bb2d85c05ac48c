"""Subtree totals: writers append deltas, readers add the ones not folded yet, the fold moves them into
the totals exactly once, whatever runs meanwhile."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from gonghui.analytics.models import Rollup, RollupDelta
from gonghui.analytics.rollups import (
    rollup_add,
    rollup_add_many,
    rollup_fold,
    rollup_read,
    rollup_rebuild,
    rollup_top_children,
    rollup_values,
)
from gonghui.orgs.models import OrgUnit
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import org_by_division


def _chain():
    nantou = org_by_division("440305001")  # 南头街道 → 南山区 → 深圳市 → 广东省 → national
    return nantou, list(OrgUnit.objects.filter(path__in=[nantou.path[:i] for i in range(0, len(nantou.path) + 1)]))


@pytest.mark.django_db
def test_a_write_is_read_at_once_at_every_ancestor_and_the_fold_keeps_it():
    nantou, chain = _chain()
    before = {o.pk: rollup_read(o.pk).get("test.widgets", 0) for o in chain}
    rollup_add(nantou.path, {"test.widgets": 3, "test.gadgets": 0})
    rollup_add(nantou.path, {"test.widgets": -1})
    assert RollupDelta.objects.filter(metric="test.widgets").count() == 2 * len(chain)
    assert not RollupDelta.objects.filter(metric="test.gadgets").exists()  # a zero delta writes nothing
    assert {o.pk: rollup_read(o.pk).get("test.widgets", 0) for o in chain} == {o.pk: before[o.pk] + 2 for o in chain}
    assert rollup_fold() >= 2 * len(chain)
    assert not RollupDelta.objects.exists()
    assert {o.pk: rollup_read(o.pk).get("test.widgets", 0) for o in chain} == {o.pk: before[o.pk] + 2 for o in chain}
    assert set(Rollup.objects.filter(metric="test.widgets").values_list("org_id", "value")) == {
        (o.pk, before[o.pk] + 2) for o in chain}


@pytest.mark.django_db
def test_bulk_deltas_and_the_children_ranking_count_unfolded_rows():
    nantou, chain = _chain()
    nanshan = nantou.parent
    siblings = list(OrgUnit.objects.filter(parent=nanshan).order_by("path")[:3])
    rollup_add_many([(siblings[0].path, "test.load", 5), (siblings[1].path, "test.load", 2),
                     (siblings[1].path, "test.load", 2), (siblings[2].path, "test.load", 0)])
    rollup_fold()
    rollup_add(siblings[1].path, {"test.load": 4})  # not folded: 8 now beats 5
    assert rollup_top_children(nanshan.pk, "test.load", 10) == [siblings[1].pk, siblings[0].pk]
    assert rollup_values([s.pk for s in siblings], ["test.load"]) == {siblings[0].pk: {"test.load": 5},
                                                                      siblings[1].pk: {"test.load": 8}}
    assert rollup_read(nanshan.pk)["test.load"] == 13
    rollup_add(siblings[1].path, {"test.load": -8})  # back to zero: no longer ranked
    assert rollup_top_children(nanshan.pk, "test.load", 10) == [siblings[0].pk]


@pytest.mark.django_db
def test_a_rebuild_drops_the_deltas_it_has_counted():
    nanshan = _chain()[0].parent
    below = OrgUnit.objects.filter(path__startswith=nanshan.path).count() - 1
    assert below > 5
    rollup_add(nanshan.path, {"unions": 7})  # a wrong delta: no union was created
    assert rollup_read(nanshan.pk)["unions"] == below + 7
    rollup_rebuild()
    assert not RollupDelta.objects.exists()
    assert rollup_read(nanshan.pk)["unions"] == below


@pytest.mark.django_db(transaction=True)
def test_writers_and_folds_at_once_lose_and_double_nothing():
    nantou, chain = _chain()
    stop = threading.Event()
    folds = []

    def folder():
        while not stop.is_set():
            folds.append(rollup_fold(batch=7))  # small batches: many folds interleave with the writers
        connection.close()

    thread = threading.Thread(target=folder)
    thread.start()
    try:
        run_together(lambda i: [rollup_add(nantou.path, {"test.hits": 1}) for _ in range(25)], 6)
    finally:
        stop.set()
        thread.join()
    assert sum(folds) > 0
    assert all(rollup_read(o.pk)["test.hits"] == 150 for o in chain)
    rollup_fold()
    assert all(Rollup.objects.get(org=o, metric="test.hits").value == 150 for o in chain)


@pytest.mark.django_db(transaction=True)
def test_a_delta_committed_after_a_fold_began_is_folded_next_time():
    nantou, chain = _chain()
    written, release = threading.Event(), threading.Event()

    def slow_writer(_i):
        with transaction.atomic():
            rollup_add(nantou.path, {"test.late": 1})
            written.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=slow_writer, args=(0,))
    thread.start()
    written.wait(10)
    rollup_add(nantou.path, {"test.late": 10})
    assert rollup_fold() == len(chain)  # the uncommitted row is neither seen nor waited for
    release.set()
    thread.join()
    assert rollup_read(nantou.pk)["test.late"] == 11
    assert rollup_fold() == len(chain)
    assert Rollup.objects.get(org=nantou, metric="test.late").value == 11

"""Concurrent joins and approvals on PostgreSQL: one application per person, one member per person,
exact counts."""

from __future__ import annotations

import pytest

from gonghui.analytics.rollups import rollup_read
from gonghui.core.errors import Conflict
from gonghui.membership import services
from gonghui.membership.models import Application, Member, MemberEvent
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import WorkerFactory, org_by_division, staff_on

from .helpers import make_id_number

pytestmark = pytest.mark.django_db(transaction=True)

NANTOU = "440305001"  # 南头街道: flexible workers living there join its union


def _join(worker, id_number: str, name: str = "张三"):
    return services.application_submit(actor=worker, name=name, id_number=id_number, employment_form="flexible",
                                       consent=True, division_code=NANTOU)


def test_eight_identical_submits_make_one_application():
    worker = WorkerFactory()
    number = make_id_number()
    results = run_together(lambda i: _join(worker, number), 8)
    assert all(isinstance(r, tuple) for r in results), [r for r in results if not isinstance(r, tuple)]
    assert len({app.pk for app, _created in results}) == 1
    assert sum(created for _app, created in results) == 1
    assert Application.objects.count() == 1
    assert rollup_read(org_by_division(NANTOU).pk)["applications.pending"] == 1


def test_two_workers_with_the_same_id_number_get_one_application_and_a_conflict():
    number = make_id_number()
    workers = [WorkerFactory(), WorkerFactory()]
    results = run_together(lambda i: _join(workers[i], number), 2)
    apps = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(apps) == 1 and len(refused) == 1, results
    assert refused[0].code == "application_pending" and refused[0].field == "id_number"
    app = Application.objects.get()
    assert app.pk == apps[0][0].pk and app.user == workers[results.index(apps[0])]


def test_two_clerks_approving_at_once_make_one_member():
    township = org_by_division(NANTOU)
    app, _ = _join(WorkerFactory(), make_id_number())
    clerks = [staff_on(township, "staff"), staff_on(township, "staff")]
    results = run_together(lambda i: services.application_approve(actor=clerks[i], application=app), 2)
    members = [r for r in results if isinstance(r, Member)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(members) + len(refused) == 2 and members, results
    assert len({m.pk for m in members}) == 1
    assert Member.objects.count() == 1 and MemberEvent.objects.count() == 1
    member = Member.objects.get()
    app.refresh_from_db()
    assert app.status == Application.Status.APPROVED and app.member_id == member.pk
    totals = rollup_read(township.pk)
    assert (totals.get("members.active"), totals.get("applications.pending"), totals.get("applications.decided")) == (
        1, 0, 1)


def test_twenty_workers_joining_at_once_are_all_counted():
    township = org_by_division(NANTOU)
    workers = [WorkerFactory() for _ in range(20)]
    numbers = [make_id_number() for _ in range(20)]
    results = run_together(lambda i: _join(workers[i], numbers[i]), 20)
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    assert Application.objects.filter(org=township, status="pending").count() == 20
    assert rollup_read(township.pk)["applications.pending"] == 20
    assert_rollups_match_rebuild(township, township.parent, township.parent.parent)

"""One-click join: routing, deadlines, approval, repeats."""

from __future__ import annotations

import pytest

from gonghui.core.errors import Conflict, ValidationFailed
from gonghui.membership import services
from gonghui.membership.models import Application, Member, MemberStatus
from gonghui.membership.numbers import is_valid_member_no
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.fixtures import WorkerFactory, staff_on

from .helpers import join, make_id_number

pytestmark = pytest.mark.django_db


def test_worker_at_an_organised_employer_goes_to_its_union_and_is_approved(tree):
    worker = WorkerFactory()
    app, created = join(worker, tree.nantou_employer)
    assert created and app.status == Application.Status.PENDING
    assert app.org == tree.nantou_union and app.route_rule == "employer_union"
    assert "已建立工会" in app.route_reason
    assert app.due_at > app.submitted_at
    clerk = staff_on(tree.nantou_union, "staff")
    member = services.application_approve(actor=clerk, application=app)
    assert member.status == MemberStatus.ACTIVE and member.org == tree.nantou_union
    assert is_valid_member_no(member.member_no) and member.member_no.startswith("44")
    assert member.user == worker
    assert [e.to_status for e in member.events.all()] == ["active"]
    assert_rollups_match_rebuild(tree.nantou_union, tree.nantou, tree.nanshan, tree.national)


def test_unorganised_employer_goes_to_the_township_and_a_repeat_returns_the_same_application(tree):
    worker = WorkerFactory()
    number = make_id_number()
    app, _ = join(worker, tree.futian_employer, id_number=number)
    assert app.org == tree.futian_union
    again, created = join(worker, tree.futian_employer, id_number=number.lower())
    assert again.pk == app.pk and not created
    other = WorkerFactory()
    with pytest.raises(Conflict):
        join(other, tree.futian_employer, id_number=number)
    assert Application.objects.count() == 1


def test_flexible_worker_without_employer_goes_to_the_township_where_they_live(tree):
    app, _ = join(WorkerFactory(), employment_form="flexible", division_code="440305007")
    assert app.org == tree.yuehai and app.route_rule == "township"


def test_bad_id_numbers_are_refused_with_the_reason(tree):
    for bad, code in [("110105199902300011", "id_birth_date"), ("11010519491231002", "id_length"),
                      ("110105194912310021", "id_checksum")]:
        with pytest.raises(ValidationFailed) as exc:
            join(WorkerFactory(), tree.nantou_employer, id_number=bad)
        assert exc.value.code == code
    assert Application.objects.count() == 0


def test_a_member_is_told_where_they_belong(tree):
    worker = WorkerFactory()
    number = make_id_number()
    app, _ = join(worker, tree.nantou_employer, id_number=number)
    services.application_approve(actor=tree.root_admin, application=app)
    with pytest.raises(Conflict) as exc:
        join(worker, tree.nantou_employer, id_number=number)
    assert tree.nantou_union.name in exc.value.message
    assert Member.objects.count() == 1


def test_region_codes_newer_than_the_birth_date_are_accepted(tree):
    """The region is where the number was first issued: 南山区 (440305, since 1990) for a worker
    born in 1965 is a real number that python-stdnum's own birth-year check would refuse."""
    import datetime

    app, _ = join(WorkerFactory(), tree.nantou_employer,
                  id_number=make_id_number("440305", datetime.date(1965, 3, 1)))
    assert app.birth_date == datetime.date(1965, 3, 1)


def test_a_transfer_to_an_employer_without_a_union_is_held_where_the_member_lives(tree):
    from gonghui.membership.models import Transfer
    from gonghui.orgs.services import employer_create
    from gonghui.testing.fixtures import uscc_in

    worker = WorkerFactory()
    app, _ = join(worker, tree.nantou_employer)
    member = services.application_approve(actor=tree.root_admin, application=app)
    unorganised = employer_create(actor=tree.root_admin, org=tree.futian_street, name="深圳市福田无工会贸易有限公司",
                                  uscc=uscc_in("440304004"), division_code="440304004", employee_count=10)
    transfer, created = services.transfer_request(actor=worker, member=member, employment_form="labor_contract",
                                                  employer_id=unorganised.pk, residence_code="440305007")
    assert created and transfer.to_org == tree.yuehai and transfer.route_rule == "residence"
    member.refresh_from_db()
    assert member.status == MemberStatus.TRANSFERRING and member.org == tree.nantou_union  # still a member there
    staff = staff_on(tree.yuehai, "staff")
    services.transfer_accept(actor=staff, transfer=transfer)
    member.refresh_from_db()
    assert member.org == tree.yuehai and member.status == MemberStatus.ACTIVE
    assert Transfer.objects.get().status == Transfer.Status.DONE
    assert_rollups_match_rebuild(tree.nantou_union, tree.yuehai, tree.nanshan, tree.national)

"""Membership over time, at the service level: working-day deadlines, supervision of overdue
applications, policies, routing, member status transitions, rejoining, node moves; every change
leaves a MemberEvent and totals equal to a recount."""

from __future__ import annotations

import datetime
import zoneinfo
from unittest import mock

import pytest
from django.utils import timezone

from gonghui.analytics.models import DailyRollup
from gonghui.analytics.rollups import daily_rebuild, rollup_read
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.membership import selectors, services
from gonghui.membership.models import (
    Application,
    Member,
    MemberEvent,
    MemberStatus,
    Notice,
    OrgNotice,
    Stint,
    Transfer,
)
from gonghui.orgs.models import OrgKind, Role
from gonghui.orgs.services import employer_create, org_move_execute, org_move_request, union_create
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.fixtures import WorkerFactory, staff_on, uscc_in

from .helpers import join, make_id_number

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def frozen(moment: datetime.datetime):
    """Every timezone.now() (services, auto_now fields, deadlines) returns `moment`."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def all_nodes(tree) -> list:
    return [tree.nantou_union, tree.nantou, tree.yuehai, tree.nanshan, tree.futian_union, tree.futian_street,
            tree.futian, tree.shenzhen, tree.guangdong, tree.national]


def events(member: Member) -> list[tuple[str, str]]:
    return list(MemberEvent.objects.filter(member=member).order_by("id").values_list("action", "to_status"))


def approved(tree, worker=None, employer=None, **kwargs) -> Member:
    app, _ = join(worker or WorkerFactory(), employer or tree.nantou_employer, **kwargs)
    return services.application_approve(actor=tree.root_admin, application=app)


# --- Deadlines in Chinese working days ----------------------------------------------------------------


@pytest.mark.parametrize(("submitted", "days", "due_day"), [
    # Wed 30 Sep 2026; 1-7 Oct is the National Day holiday; Sat 10 Oct is a make-up working day.
    (at(2026, 9, 30, 10, 0), 3, datetime.date(2026, 10, 10)),
    (at(2026, 9, 30, 10, 0), 5, datetime.date(2026, 10, 13)),
    # Early on 30 Sep in Shanghai is still 29 Sep in UTC: the local day counts.
    (at(2026, 9, 30, 7, 30), 1, datetime.date(2026, 10, 8)),
    # Submitted on a holiday: the first working day after it is day one.
    (at(2026, 10, 3, 9, 0), 1, datetime.date(2026, 10, 8)),
    # An ordinary Friday: the weekend is skipped.
    (at(2026, 11, 27, 16, 0), 3, datetime.date(2026, 12, 2)),
], ids=["3 days over National Day", "5 days over National Day", "eve of the holiday", "during the holiday",
        "over a weekend"])
def test_the_deadline_counts_chinese_working_days(tree, submitted, days, due_day):
    services.policy_set(actor=tree.root_admin, org=tree.nanshan, decide_within_days=days)
    with frozen(submitted):
        app, _ = join(WorkerFactory(), tree.nantou_employer)
    assert app.submitted_at == submitted
    assert app.due_at == datetime.datetime.combine(due_day, datetime.time(23, 59, 59), tzinfo=SHANGHAI)


# --- Supervision of overdue applications ----------------------------------------------------------------


def test_an_overdue_application_goes_on_the_parents_board_once(tree):
    worker = WorkerFactory()
    app, _ = join(worker, tree.nantou_employer)
    assert services.overdue_escalate(now=app.due_at) == 0  # due, not yet overdue
    later = app.due_at + datetime.timedelta(minutes=1)
    assert services.overdue_escalate(now=later) == 1
    assert services.overdue_escalate(now=later + datetime.timedelta(hours=2)) == 0

    app.refresh_from_db()
    assert app.escalated_at == later and app.supervisor == tree.nantou and app.status == "pending"
    township_admin = staff_on(tree.nantou)
    board, _ = selectors.application_board(actor=township_admin, node=tree.nantou)
    assert [a.pk for a in board] == [app.pk]
    assert selectors.application_board(actor=staff_on(tree.nanshan), node=tree.nanshan)[0] == []
    assert [n.title for n in Notice.objects.filter(user=worker)] == ["您的入会申请已提请督办"]
    assert OrgNotice.objects.filter(org=tree.nantou, kind="escalation").count() == 1
    assert not OrgNotice.objects.filter(kind="escalation").exclude(org=tree.nantou).exists()
    assert rollup_read(tree.nantou_union.pk)["applications.overdue"] == 1
    assert rollup_read(tree.nanshan.pk)["applications.overdue"] == 1
    assert_rollups_match_rebuild(*all_nodes(tree))

    services.application_approve(actor=township_admin, application=app)  # the supervisor may decide it
    assert rollup_read(tree.nantou_union.pk)["applications.overdue"] == 0
    assert rollup_read(tree.nanshan.pk)["applications.overdue"] == 0
    assert selectors.application_board(actor=township_admin, node=tree.nantou)[0] == []
    assert_rollups_match_rebuild(*all_nodes(tree))


def test_an_overdue_application_withdrawn_or_rejected_leaves_the_overdue_count(tree):
    first, _ = join(WorkerFactory(), tree.nantou_employer)
    second, _ = join(WorkerFactory(), tree.nantou_employer)
    services.overdue_escalate(now=max(first.due_at, second.due_at) + datetime.timedelta(seconds=1))
    assert rollup_read(tree.nantou_union.pk)["applications.overdue"] == 2
    services.application_withdraw(actor=first.user, application=first)
    services.application_reject(actor=tree.root_admin, application=second, reason="不在本单位工作")
    assert rollup_read(tree.nantou_union.pk)["applications.overdue"] == 0
    assert_rollups_match_rebuild(*all_nodes(tree))


# --- Policies and routing -------------------------------------------------------------------------------


def test_auto_approve_set_on_an_ancestor_approves_at_submit(tree):
    services.policy_set(actor=staff_on(tree.nanshan), org=tree.nanshan, auto_approve=True)
    worker = WorkerFactory()
    app, created = join(worker, tree.nantou_employer)
    assert created and app.status == Application.Status.APPROVED and app.decided_by is None
    member = Member.objects.get(user=worker)
    assert member.org == tree.nantou_union and app.member == member
    assert [(e.action, e.reason) for e in member.events.all()] == [("join", "自动批准")]
    elsewhere, _ = join(WorkerFactory(), tree.futian_employer)
    assert elsewhere.status == Application.Status.PENDING  # 福田 is not under the policy
    assert_rollups_match_rebuild(*all_nodes(tree))


def test_a_policy_reorders_the_routing_rules_below_it(tree):
    with pytest.raises(ValidationFailed) as exc:
        services.policy_set(actor=tree.root_admin, org=tree.nanshan, routing_rules=["employer_union"])
    assert exc.value.field == "routing"
    services.policy_set(actor=staff_on(tree.nanshan), org=tree.nanshan,
                        routing_rules=["township", "employer_union", "county"])
    app, _ = join(WorkerFactory(), tree.nantou_employer)
    assert (app.org, app.route_rule) == (tree.nantou, "township")
    outside, _ = join(WorkerFactory(), tree.futian_employer)
    assert (outside.org, outside.route_rule) == (tree.futian_union, "employer_union")


def test_cached_policies_follow_a_change_made_in_the_process_at_once(tree, settings):
    """Production keeps policies in a per-process cache; a change (service or plain save) clears it."""
    from gonghui.membership.models import MembershipPolicy
    from gonghui.membership.routing import forget_policies

    settings.GONGHUI_POLICY_CACHE_SECONDS = 3600
    forget_policies()
    try:
        first, _ = join(WorkerFactory(), tree.nantou_employer)
        assert first.status == Application.Status.PENDING  # the cache now holds "no policy" for 南头
        services.policy_set(actor=staff_on(tree.nanshan), org=tree.nanshan, auto_approve=True)
        second, _ = join(WorkerFactory(), tree.nantou_employer)
        assert second.status == Application.Status.APPROVED
        MembershipPolicy.objects.filter(org=tree.nanshan).get().delete()
        third, _ = join(WorkerFactory(), tree.nantou_employer)
        assert third.status == Application.Status.PENDING
    finally:
        forget_policies()


def test_a_platform_courier_goes_to_the_countys_industry_federation(tree):
    federation = union_create(actor=tree.root_admin, parent=tree.nanshan, name="南山区快递物流行业工会联合会",
                              kind=OrgKind.INDUSTRY, division_code="440305", industry="快递物流")
    courier, _ = join(WorkerFactory(), employment_form="platform", platform_role="courier", division_code="440305001")
    assert (courier.org, courier.route_rule) == (federation, "industry_federation")
    assert federation.name in courier.route_reason
    rider, _ = join(WorkerFactory(), employment_form="platform", platform_role="rider", division_code="440305001")
    assert (rider.org, rider.route_rule) == (tree.nantou, "township")
    in_futian, _ = join(WorkerFactory(), employment_form="platform", platform_role="courier",
                        division_code="440304004")
    assert in_futian.org == tree.futian_street


def test_a_platform_worker_goes_to_the_platforms_own_union_wherever_they_live(tree):
    root = tree.root_admin
    union_create(actor=root, parent=tree.nanshan, name="南山区快递物流行业工会联合会", kind=OrgKind.INDUSTRY,
                 division_code="440305", industry="快递物流")
    company = employer_create(actor=root, org=tree.nanshan, name="深圳市速达同城配送科技有限公司",
                              uscc=uscc_in("440305"), division_code="440305", employee_count=33, is_platform=True)
    platform_union = union_create(actor=root, parent=tree.nanshan, name="深圳市速达同城配送平台工会委员会",
                                  kind=OrgKind.PLATFORM, employer_ids=[company.pk])
    app, _ = join(WorkerFactory(), employment_form="platform", platform_id=company.pk, platform_role="courier",
                  division_code="440304004")
    assert (app.org, app.route_rule) == (platform_union, "platform_union")
    assert app.platform == company and app.is_gig
    member = services.application_approve(actor=root, application=app)
    assert rollup_read(platform_union.pk)["members.gig"] == 1
    assert rollup_read(tree.nanshan.pk)["members.gig"] == 1
    assert member.org == platform_union
    assert_rollups_match_rebuild(platform_union, *all_nodes(tree))


# --- Member status ---------------------------------------------------------------------------------------


def test_status_changes_follow_the_allowed_transitions(tree):
    member = approved(tree)
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    services.member_set_status(actor=clerk, member=member, status="suspended", reason="长期未缴纳会费")
    services.member_set_status(actor=clerk, member=member, status="active")
    services.member_set_status(actor=clerk, member=member, status="deceased")
    for status, reason in [("active", ""), ("suspended", "长期未缴纳会费"), ("withdrawn", "家属申请")]:
        with pytest.raises(Conflict) as exc:
            services.member_set_status(actor=clerk, member=member, status=status, reason=reason)
        assert (exc.value.code, exc.value.field) == ("bad_transition", "status")
        assert "已故" in exc.value.message
    with pytest.raises(Conflict):
        services.member_retain(actor=clerk, member=member, reason="retired")
    with pytest.raises(ValidationFailed) as exc:
        services.member_set_status(actor=clerk, member=member, status="transferring")
    assert exc.value.code == "status_invalid"
    member.refresh_from_db()
    assert member.status == MemberStatus.DECEASED
    assert events(member) == [("join", "active"), ("suspend", "suspended"), ("reinstate", "active"),
                              ("deceased", "deceased")]
    assert_rollups_match_rebuild(*all_nodes(tree))


def test_staff_cannot_reinstate_a_withdrawn_member_without_a_new_application(tree):
    member = approved(tree)
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    services.member_set_status(actor=clerk, member=member, status="withdrawn", reason="本人申请退会")
    with pytest.raises(Conflict) as exc:
        services.member_set_status(actor=clerk, member=member, status="active")
    assert exc.value.field == "status"
    member.refresh_from_db()
    assert member.status == MemberStatus.WITHDRAWN
    assert not Stint.objects.filter(member=member, status=Stint.Status.CURRENT).exists()


def test_a_viewer_cannot_change_a_status(tree):
    member = approved(tree)
    with pytest.raises(PermissionDenied):
        services.member_set_status(actor=staff_on(tree.nantou_union, Role.VIEWER), member=member,
                                   status="suspended", reason="长期未缴纳会费")
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE and events(member) == [("join", "active")]


def test_when_the_employer_closes_the_membership_is_held_by_the_higher_union(tree):
    member = approved(tree)
    services.member_retain(actor=staff_on(tree.nantou_union, Role.STAFF), member=member, reason="employer_closed")
    member.refresh_from_db()
    assert (member.status, member.retain_reason) == (MemberStatus.RETAINED, "employer_closed")
    assert (member.org, member.org_path) == (tree.nantou, tree.nantou.path)
    stints = list(member.stints.order_by("id").values_list("org_id", "status", "how_started", "how_ended"))
    assert stints == [(tree.nantou_union.pk, "transferred", "application", "transferred"),
                      (tree.nantou.pk, "current", "retained_by_higher", "")]
    assert MemberEvent.objects.filter(member=member).last().org == tree.nantou
    assert rollup_read(tree.nantou_union.pk).get("members.active") == 0
    assert rollup_read(tree.nantou.pk)["members.retained"] == 1
    # The township's staff now hold the membership; the closed union's staff no longer see it.
    assert selectors.member_get(actor=staff_on(tree.nantou, Role.STAFF), member_id=member.pk) == member
    retired = approved(tree)
    services.member_retain(actor=tree.root_admin, member=retired, reason="retired")
    retired.refresh_from_db()
    assert retired.org == tree.nantou_union and retired.status == MemberStatus.RETAINED
    assert_rollups_match_rebuild(*all_nodes(tree))


def test_a_member_who_withdrew_rejoins_with_the_same_number(tree):
    worker = WorkerFactory()
    number = make_id_number()
    member = approved(tree, worker, id_number=number)
    old_key = member.card_key
    services.member_withdraw_self(actor=worker, member=member)
    member.refresh_from_db()
    assert member.status == MemberStatus.WITHDRAWN and member.card_key != old_key
    assert OrgNotice.objects.filter(org=tree.nantou_union, kind="withdrawal").count() == 1

    app, created = join(worker, tree.futian_employer, id_number=number)
    assert created and app.org == tree.futian_union
    again = services.application_approve(actor=tree.root_admin, application=app)
    assert again.pk == member.pk and again.member_no == member.member_no
    assert (again.status, again.org) == (MemberStatus.ACTIVE, tree.futian_union)
    assert events(again) == [("join", "active"), ("withdraw", "withdrawn"), ("rejoin", "active")]
    assert list(again.stints.order_by("id").values_list("org_id", "status")) == [
        (tree.nantou_union.pk, "ended"), (tree.futian_union.pk, "current")]
    assert Member.objects.count() == 1
    assert_rollups_match_rebuild(*all_nodes(tree))


def test_every_transition_of_a_mixed_day_is_recorded_and_counted(tree):
    root = tree.root_admin
    clerk = staff_on(tree.nantou_union, Role.STAFF)
    a, b, c, d = (approved(tree) for _ in range(4))
    gig_app, _ = join(WorkerFactory(), employment_form="platform", platform_role="rider", division_code="440305001")
    gig = services.application_approve(actor=root, application=gig_app)
    rejected, _ = join(WorkerFactory(), tree.nantou_employer)
    services.application_reject(actor=clerk, application=rejected, reason="不在本单位工作")
    withdrawn, _ = join(WorkerFactory(), tree.nantou_employer)
    services.application_withdraw(actor=withdrawn.user, application=withdrawn)
    join(WorkerFactory(), tree.futian_employer)  # stays pending

    services.member_set_status(actor=clerk, member=a, status="suspended", reason="长期未缴纳会费")
    services.member_set_status(actor=clerk, member=a, status="active")
    services.member_set_status(actor=clerk, member=a, status="withdrawn", reason="本人申请退会")
    services.member_retain(actor=clerk, member=b, reason="unemployed")
    services.member_set_status(actor=clerk, member=b, status="active")
    services.member_set_status(actor=clerk, member=b, status="deceased")
    moving, _ = services.transfer_request(actor=c.user, member=c, employment_form="labor_contract",
                                          employer_id=tree.futian_employer.pk)
    services.transfer_accept(actor=staff_on(tree.futian_union, Role.STAFF), transfer=moving)
    staying, _ = services.transfer_request(actor=d.user, member=d, employment_form="flexible",
                                           division_code="440305007")
    services.transfer_cancel(actor=d.user, transfer=staying)
    services.transfer_request(actor=root, member=gig, employment_form="platform", platform_role="rider",
                              division_code="440304004")  # pending at the end of the day

    assert events(a) == [("join", "active"), ("suspend", "suspended"), ("reinstate", "active"),
                         ("withdraw", "withdrawn")]
    assert events(b) == [("join", "active"), ("retain", "retained"), ("reinstate", "active"),
                         ("deceased", "deceased")]
    assert events(c) == [("join", "active"), ("transfer_request", "transferring"), ("transfer_in", "active")]
    assert events(d) == [("join", "active"), ("transfer_request", "transferring"), ("transfer_cancel", "active")]
    assert events(gig) == [("join", "active"), ("transfer_request", "transferring")]
    assert MemberEvent.objects.count() == 16
    totals = rollup_read(tree.nanshan.pk)
    assert (totals["members.active"], totals["members.transferring"], totals["members.withdrawn"],
            totals["members.deceased"], totals["members.gig"]) == (1, 1, 1, 1, 1)
    assert rollup_read(tree.futian.pk)["transfers.pending"] == 1
    assert rollup_read(tree.futian_union.pk)["members.active"] == 1
    assert_rollups_match_rebuild(*all_nodes(tree))


# --- Moving a union with its members --------------------------------------------------------------------


def daily_of(*orgs) -> dict:
    return {org.name: sorted(DailyRollup.objects.filter(org=org).exclude(value=0)
                             .values_list("metric", "day", "value")) for org in orgs}


def test_moving_a_union_carries_its_members_and_their_counts(tree, django_capture_on_commit_callbacks):
    """Townships cannot move (属地管理), so 南头精密's union moves up from 南头街道 to 南山区总工会."""
    union = tree.nantou_union
    first, second = approved(tree), approved(tree, employment_form="platform", platform_role="rider")
    pending, _ = join(WorkerFactory(), tree.nantou_employer)
    services.overdue_escalate(now=pending.due_at + datetime.timedelta(seconds=1))
    incoming = approved(tree, employer=tree.futian_employer)
    transfer, _ = services.transfer_request(actor=incoming.user, member=incoming, employment_form="labor_contract",
                                            employer_id=tree.nantou_employer.pk)
    assert transfer.to_org == union
    admin = staff_on(tree.nanshan)
    nanshan_before = rollup_read(tree.nanshan.pk)
    today = timezone.localdate()
    assert daily_of(tree.nantou)[tree.nantou.name] == [("applications.approved", today, 2), ("members.new", today, 2)]

    with django_capture_on_commit_callbacks(execute=True):
        move = org_move_request(actor=admin, node=union, new_parent=tree.nanshan)
    move.refresh_from_db()
    assert move.status == "done", move.error
    assert org_move_execute(move.pk).status == "done"  # a second run changes nothing
    union.refresh_from_db()
    assert union.parent == tree.nanshan and union.path.startswith(tree.nanshan.path)
    assert not union.path.startswith(tree.nantou.path)

    assert set(Member.objects.filter(pk__in=[first.pk, second.pk]).values_list("org_path", flat=True)) == {union.path}
    assert set(Stint.objects.filter(org=union).values_list("org_path", flat=True)) == {union.path}
    assert set(MemberEvent.objects.filter(org=union).values_list("org_path", flat=True)) == {union.path}
    assert set(Application.objects.filter(org=union).values_list("org_path", flat=True)) == {union.path}
    assert Transfer.objects.get(pk=transfer.pk).to_path == union.path
    assert Application.objects.get(pk=pending.pk).supervisor_path == tree.nantou.path  # supervised as before

    township = rollup_read(tree.nantou.pk)
    assert (township.get("members.active", 0), township.get("applications.pending", 0),
            township.get("transfers.pending", 0)) == (0, 0, 0)
    assert rollup_read(tree.nanshan.pk) == nanshan_before
    assert rollup_read(union.pk)["members.active"] == 2 and rollup_read(union.pk)["members.gig"] == 1
    assert daily_of(tree.nantou)[tree.nantou.name] == []
    assert_rollups_match_rebuild(union, *all_nodes(tree))
    incremental = daily_of(union, *all_nodes(tree))
    daily_rebuild()
    assert daily_of(union, *all_nodes(tree)) == incremental

    # The township's staff no longer see the union's members; the county's still do.
    assert selectors.member_list(actor=staff_on(tree.nantou), node=tree.nantou)[0] == []
    assert {m.pk for m in selectors.member_list(actor=admin, node=union)[0]} == {first.pk, second.pk}
    transfer.refresh_from_db()
    accepted = services.transfer_accept(actor=staff_on(union, Role.STAFF), transfer=transfer)
    assert accepted.org_path == union.path
    assert_rollups_match_rebuild(union, *all_nodes(tree))


# --- Lookups --------------------------------------------------------------------------------------------


def test_member_by_id_number_is_found_only_inside_the_actors_subtree(tree):
    from gonghui.core.errors import NotFound

    number = make_id_number()
    member = approved(tree, id_number=number)
    assert selectors.member_find_by_id_number(actor=tree.root_admin, id_number=number) == member
    assert selectors.member_find_by_id_number(actor=staff_on(tree.nanshan), id_number=f" {number.lower()} ") == member
    for outsider in (staff_on(tree.futian), WorkerFactory()):
        with pytest.raises(NotFound):
            selectors.member_find_by_id_number(actor=outsider, id_number=number)
    with pytest.raises(NotFound):
        selectors.member_find_by_id_number(actor=tree.root_admin, id_number=make_id_number())
    with pytest.raises(ValidationFailed):
        selectors.member_find_by_id_number(actor=tree.root_admin, id_number=number[:-1] + ("1" if number[-1] != "1" else "2"))

"""The case desk at the service level: routing, every transition, working-day deadlines with the
pause, the sweep, callbacks, clusters, privacy and the taxonomy; totals always equal a recount."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone

from gonghui.analytics.rollups import rollup_read
from gonghui.casedesk import selectors, services
from gonghui.casedesk.models import Case, CaseCategory, CaseEvent, CaseStatus, ClusterAlert
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.membership.models import Notice, OrgNotice
from gonghui.orgs.models import CaseRole, OrgKind, Role
from gonghui.orgs.services import employer_create, grant_role
from gonghui.orgs.tests.world import assert_rollups_match_rebuild
from gonghui.testing.fixtures import WorkerFactory, staff_on, uscc_in

from .helpers import PDF, at, big_file, desk, file_case, upload

pytestmark = pytest.mark.django_db
Action = CaseEvent.Action


def nodes(tree) -> list:
    return [tree.national, tree.guangdong, tree.shenzhen, tree.nanshan, tree.nantou, tree.nantou_union,
            tree.futian, tree.futian_street, tree.futian_union]


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


# --- Intake and routing ---------------------------------------------------------------------------


def test_a_workers_case_goes_to_the_employers_union_with_a_working_day_deadline(tree):
    d = desk(tree)
    with frozen(at(2026, 11, 27, 16, 0)):  # a Friday
        case = file_case(d.worker, tree.nantou_employer, attachments=[upload(), upload(PDF, "合同.pdf")])
    assert (case.org, case.status, case.channel) == (tree.nantou_union, CaseStatus.PENDING, "portal")
    assert "本单位工会" in case.route_reason or "已建立工会" in case.route_reason
    assert timezone.localtime(case.accept_due_at).date() == datetime.date(2026, 11, 30)  # the next Monday
    assert case.name == "李四" and case.phone_masked.startswith("139") and "*" in case.phone_masked
    assert [(a.name, a.content_type) for a in case.attachments.order_by("id")] == [
        ("欠条.jpg", "image/jpeg"), ("合同.pdf", "application/pdf")]
    assert [e.action for e in case.events.all()] == [Action.CREATE]
    assert OrgNotice.objects.filter(org=tree.nantou_union, kind="case").count() == 1
    assert rollup_read(tree.national.pk)["cases.open"] == 1
    assert_rollups_match_rebuild(*nodes(tree))


def test_without_an_employer_union_the_case_goes_to_the_township(tree):
    d = desk(tree)
    case = file_case(d.worker, employer={"name": "深圳某某餐饮店", "division_code": "440305001"})
    assert case.org == tree.nantou and case.employer_name == "深圳某某餐饮店"
    county_case = file_case(WorkerFactory(display_name="王五"), division_code="440305")
    assert county_case.org == tree.nanshan


def test_an_agent_records_a_call_and_the_caller_is_found_by_phone(tree):
    d = desk(tree)
    case, created = services.case_create(
        actor=d.agent, channel="hotline", category="dismissal", name="赵六", phone=d.worker.phone,
        description="上周被公司口头辞退，没有任何补偿，也没有书面通知。", employer_id=tree.futian_employer.pk)
    assert created and case.worker == d.worker and case.intake_org == tree.shenzhen
    assert case.org == tree.futian_union and case.difficulty == "difficult"
    lookup = selectors.caller_lookup(actor=d.agent, phone=d.worker.phone)
    assert [c.pk for c in lookup["cases"]] == [case.pk]
    with pytest.raises(NotFound):
        selectors.caller_lookup(actor=d.city_admin, phone=d.worker.phone)


def test_an_outside_system_is_idempotent_on_its_external_id(tree):
    d = desk(tree)
    data = dict(channel="api", category="wage_arrears", name="钱七", phone="13800001111",
                description="外部系统转来的欠薪诉求，涉及多名工人。", employer_id=tree.nantou_employer.pk,
                external_id="12345-2026-0001")
    first, created = services.case_create(actor=d.agent, **data)
    again, created_again = services.case_create(actor=d.agent, **data)
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(Conflict):
        services.case_create(actor=d.futian, **data)
    assert Case.objects.count() == 1


def test_a_hotline_question_answered_on_the_spot_is_a_closed_consultation(tree):
    d = desk(tree)
    case = services.consultation_close(actor=d.agent, category="probation", question="试用期最长可以约定多久？",
                                       answer="劳动合同期限三年以上的，试用期不得超过六个月。", phone="13800002222")
    assert (case.status, case.kind, case.org) == (CaseStatus.CLOSED, "consultation", tree.shenzhen)
    assert case.accepted_on_time and case.completed_on_time
    with pytest.raises(PermissionDenied):
        services.consultation_close(actor=d.city_admin, category="probation", question="试用期多久？", answer="六个月")
    assert_rollups_match_rebuild(*nodes(tree))


@pytest.mark.parametrize(("changes", "field"), [
    ({"description": ""}, "description"),
    ({"description": "太短了"}, "description"),
    ({"description": "欠" * 5001}, "description"),
    ({"description": "欠薪" * 50_000}, "description"),
    ({"category": "no_such"}, "category"),
    ({"category": "wages"}, "category"),  # a group, not an item
    ({"workers_affected": 0}, "workers_affected"),
    ({"amount_claimed": "-5"}, "amount_claimed"),
    ({"amount_claimed": "1.234"}, "amount_claimed"),
    ({"amount_claimed": "十万"}, "amount_claimed"),
    ({"attachments": [upload(b"MZ\x90\x00" + b"\x00" * 100, "photo.jpg")]}, "attachments"),
    ({"attachments": [upload(b"", "empty.jpg")]}, "attachments"),
    ({"employer_id": 999999999}, "employer_id"),
    ({"employer_id": None, "division_code": "999999"}, "division_code"),
], ids=["empty", "too short", "5001 chars", "100 KB", "unknown category", "group only", "no workers",
        "negative amount", "fractions of a fen", "amount in words", "exe named jpg", "empty attachment",
        "unknown employer", "unknown division"])
def test_bad_input_is_refused_with_the_field_and_nothing_is_written(tree, changes, field):
    d = desk(tree)
    with pytest.raises(ValidationFailed) as exc:
        file_case(d.worker, tree.nantou_employer, **changes)
    assert exc.value.field == field and exc.value.message
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_a_30_mb_photo_is_refused(tree, settings):
    d = desk(tree)
    with pytest.raises(ValidationFailed) as exc:
        file_case(d.worker, tree.nantou_employer, attachments=[big_file(30 * 1024 * 1024)])
    assert exc.value.code == "attachment_too_large" and "10MB" in exc.value.message
    assert not Case.objects.exists()


# --- Handling -------------------------------------------------------------------------------------


def test_the_whole_life_of_a_case(tree):
    d = desk(tree)
    with frozen(at(2026, 9, 30, 10, 0)):  # Wed; 1-7 Oct holiday; Sat 10 Oct a make-up working day
        case = file_case(d.worker, employer={"name": "深圳某某餐饮店", "division_code": "440305001"})
        assert case.org == tree.nantou
        assert timezone.localtime(case.accept_due_at).date() == datetime.date(2026, 10, 8)
    with frozen(at(2026, 10, 8, 9, 0)):
        case = services.case_accept(actor=d.township, case=case)
        assert case.accepted_on_time is True
        # 5 working days from 8 Oct: 9, 10 (make-up Saturday), 12, 13, 14.
        assert timezone.localtime(case.complete_due_at).date() == datetime.date(2026, 10, 14)
        services.case_note(actor=d.township, case=case, text="已电话联系店主，对方称资金困难。")
        services.case_request_info(actor=d.township, case=case, text="请上传工资条或考勤记录")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_WORKER
    with frozen(at(2026, 10, 13, 11, 0)):  # waited 9, 10, 12, 13 Oct: four working days
        services.case_worker_add(actor=d.worker, case=case, text="已上传考勤记录", attachments=[upload()])
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert timezone.localtime(case.complete_due_at).date() == datetime.date(2026, 10, 20)  # 14 Oct + 4
    with frozen(at(2026, 10, 15, 15, 0)):
        services.case_reply(actor=d.township, case=case, text="已约谈店主，承诺本月底前结清。")
        case = services.case_resolve(actor=d.township, case=case, result="店主已结清三个月工资共计12000元",
                                     money_recovered="12000.00", workers_helped=3)
    assert case.completed_on_time is True and case.money_recovered == Decimal("12000.00")
    token = case.callback_links.get(used_at__isnull=True)
    link = Notice.objects.filter(user=d.worker, title__contains="评价").get().link.split("/")[2]
    with frozen(at(2026, 10, 16, 8, 0)):
        case = services.callback_rate(token=link, score=5, comment="很满意")
    assert case.satisfaction == 5 and case.status == CaseStatus.RESOLVED
    token.refresh_from_db()
    assert token.used_at is not None
    with pytest.raises(Conflict):
        services.callback_rate(token=link, score=1)
    with pytest.raises(PermissionDenied):
        services.case_close(actor=d.township, case=case)  # a handler is not a supervisor
    case = services.case_close(actor=d.supervisor, case=case, note="处理及时")
    assert case.status == CaseStatus.CLOSED
    worker_view = [e.action for e in selectors.case_timeline(actor=d.worker, case=case)]
    assert Action.NOTE not in worker_view and Action.REPLY in worker_view and Action.CLOSE in worker_view
    r = rollup_read(tree.shenzhen.pk)
    assert (r["cases.completed"], r["cases.satisfied"], r["cases.money_fen"], r.get("cases.open", 0)) == (
        1, 1, 1_200_000, 0)
    assert_rollups_match_rebuild(*nodes(tree))


def test_dispatch_down_and_return_up_with_a_reason(tree):
    d = desk(tree)
    case = file_case(d.worker, division_code="440305")  # no employer: the county
    assert case.org == tree.nanshan
    with pytest.raises(ValidationFailed):
        services.case_dispatch(actor=d.county, case=case, to_org=tree.futian_street, note="请办理")
    with pytest.raises(PermissionDenied):
        services.case_dispatch(actor=d.futian, case=case, to_org=tree.nantou, note="请办理")
    case = services.case_dispatch(actor=d.county, case=case, to_org=tree.nantou, note="属地办理")
    assert (case.org, case.status) == (tree.nantou, CaseStatus.PENDING)
    with pytest.raises(ValidationFailed):
        services.case_return(actor=d.township, case=case, reason="")
    case = services.case_return(actor=d.township, case=case, reason="不属于本街道辖区")
    assert case.org == tree.nanshan
    assert [e.action for e in case.events.order_by("id")] == [Action.CREATE, Action.DISPATCH, Action.RETURN]
    assert_rollups_match_rebuild(*nodes(tree))


def test_a_low_rating_reopens_and_a_failed_quality_check_too(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    services.case_resolve(actor=d.grassroots, case=case, result="已协调公司补发工资")
    case = services.case_rate_by_phone(actor=d.agent, case=case, score=1, comment="问题没有解决")
    assert case.status == CaseStatus.IN_PROGRESS and case.reopen_count == 1 and case.resolved_at is None
    services.case_resolve(actor=d.grassroots, case=case, result="第二次协调，已补发")
    case.refresh_from_db()
    case = services.case_close(actor=d.supervisor, case=case, passed=False, note="未核实补发凭证")
    assert case.status == CaseStatus.IN_PROGRESS and case.reopen_count == 2
    assert_rollups_match_rebuild(*nodes(tree))


def test_callback_links_refuse_tampering_expiry_and_replay(tree, settings):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    services.case_accept(actor=d.grassroots, case=case)
    services.case_resolve(actor=d.grassroots, case=case, result="已协调解决")
    case.refresh_from_db()
    token = services.callback_link_issue(case)
    with pytest.raises(NotFound):
        services.callback_rate(token=token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], score=5)
    forged = signing.dumps({"c": case.pk, "n": "0" * 32}, salt=services.CALLBACK_SALT, compress=True)
    with pytest.raises(NotFound):
        services.callback_rate(token=forged, score=5)
    with pytest.raises(ValidationFailed):
        services.callback_rate(token=token, score=9)
    with frozen(timezone.now() + datetime.timedelta(days=settings.GONGHUI_CASE_CALLBACK_DAYS + 1)):
        with pytest.raises(ValidationFailed) as exc:
            services.callback_rate(token=token, score=5)
    assert exc.value.code == "callback_expired"
    newer = services.callback_link_issue(case)
    with pytest.raises(Conflict):
        services.callback_rate(token=token, score=5)  # superseded by the newer link
    assert services.callback_rate(token=newer, score=4).satisfaction == 4


def test_merge_withdraw_and_refer_to_legal_aid(tree):
    d = desk(tree)
    a = file_case(d.worker, tree.nantou_employer)
    b = file_case(d.worker, tree.nantou_employer, description="再次反映：公司拖欠三个月工资至今未发，请尽快处理。")
    services.case_merge(actor=d.grassroots, case=b, into=a, note="同一事项")
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == (CaseStatus.MERGED, a.pk)
    with pytest.raises(Conflict):
        services.case_merge(actor=d.grassroots, case=a, into=b)
    calls = []
    saved = list(services.LEGAL_AID_HANDLERS)  # the legal app's real handler is tested in gonghui/legal/tests
    services.LEGAL_AID_HANDLERS[:] = []
    services.register_legal_aid_handler(lambda **kw: calls.append(kw) or "LA-1")
    try:
        a = services.case_refer_legal_aid(actor=d.grassroots, case=a, note="需要申请劳动仲裁")
    finally:
        services.LEGAL_AID_HANDLERS[:] = saved
    assert a.legal_aid_ref == "LA-1" and calls[0]["case"].pk == a.pk
    c = file_case(d.worker, tree.nantou_employer, category="leave", description="想咨询年休假天数的计算方法。")
    with pytest.raises(NotFound):
        services.case_withdraw(actor=WorkerFactory(), case=c)
    c = services.case_withdraw(actor=d.worker, case=c, reason="已自行解决")
    assert c.status == CaseStatus.WITHDRAWN
    assert_rollups_match_rebuild(*nodes(tree))


# --- Deadlines ------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sql", "portable"])
def test_the_sweep_warns_then_escalates_once_to_the_parents_board(tree, engine, monkeypatch):
    if engine == "portable":  # the ORM path SQLite (the demo) takes
        monkeypatch.setattr(services, "_sweep_step_sql", services._sweep_step_portable)
    d = desk(tree)
    with frozen(at(2026, 11, 23, 9, 0)):  # Monday
        late = file_case(d.worker, tree.nantou_employer)
        other = file_case(WorkerFactory(display_name="孙八"), tree.nantou_employer, category="no_insurance",
                          description="公司一直没有给我缴纳社会保险，入职已经一年了。")
        services.case_accept(actor=d.grassroots, case=other)  # due 30 Nov (5 working days)
    with frozen(at(2026, 11, 25, 9, 0)):
        # Past its one-day limit: escalated, and its warning is moot (one event, not two).
        assert services.deadline_sweep() == {"accept_warn": 0, "accept_overdue": 1, "complete_warn": 0,
                                             "complete_overdue": 0}
        assert services.deadline_sweep() == {"accept_warn": 0, "accept_overdue": 0, "complete_warn": 0,
                                             "complete_overdue": 0}
    late.refresh_from_db()
    assert late.supervisor == tree.nantou and late.supervisor_path == tree.nantou.path
    assert late.accept_warned_at == late.accept_overdue_at == at(2026, 11, 25, 9, 0)
    assert [(e.action, e.org_path) for e in late.events.order_by("id")] == [
        (Action.CREATE, tree.nantou_union.path), (Action.ESCALATE, tree.nantou_union.path)]
    board = OrgNotice.objects.get(org=tree.nantou_union, kind="case_deadline")
    assert (board.org_path, board.title, board.body, board.link) == (
        tree.nantou_union.path, "职工诉求超过受理期限", "本级有1件职工诉求超过受理期限，已提请上级督办。",
        "/console/cases/?overdue=1")
    assert Notice.objects.get(user=d.worker, title__contains="督办").link == f"/cases/{late.pk}/"
    parent = OrgNotice.objects.get(org=tree.nantou, kind="case_escalation")
    assert (parent.org_path, parent.body, parent.link) == (
        tree.nantou.path, "下级工会有1件职工诉求超过受理期限，已提请上级督办，请督促办理。", "/console/cases/?supervising=1")
    assert Notice.objects.filter(user=d.worker, title__contains="督办").count() == 1
    rows, _ = selectors.case_board(actor=d.township, node=tree.nantou, supervising=True)
    assert [c.pk for c in rows] == [late.pk]
    with frozen(at(2026, 11, 30, 9, 0)):
        assert services.deadline_sweep()["complete_warn"] == 1
    with frozen(at(2026, 12, 1, 9, 0)):
        assert services.deadline_sweep()["complete_overdue"] == 1
    assert rollup_read(tree.national.pk)["cases.overdue_open"] == 2
    late = services.case_accept(actor=d.grassroots, case=late)
    assert late.accepted_on_time is False
    assert_rollups_match_rebuild(*nodes(tree))


@pytest.mark.parametrize("engine", ["sql", "portable"])
def test_small_batches_walk_on_in_deadline_order_and_miss_no_tie(tree, engine, monkeypatch):
    if engine == "portable":
        monkeypatch.setattr(services, "_sweep_step_sql", services._sweep_step_portable)
    d = desk(tree)
    with frozen(at(2026, 11, 23, 9, 0)):  # three cases with the very same deadline
        same = [file_case(WorkerFactory(display_name=f"同时{i}"), tree.nantou_employer) for i in range(3)]
    with frozen(at(2026, 11, 23, 15, 0)):
        later = file_case(d.worker, tree.nantou_employer)
    with frozen(at(2026, 11, 26, 9, 0)):
        assert services.deadline_sweep(batch=1)["accept_overdue"] == 4
        assert services.deadline_sweep(batch=1)["accept_overdue"] == 0
    assert Case.objects.filter(pk__in=[c.pk for c in [*same, later]], accept_overdue_at__isnull=False).count() == 4
    assert rollup_read(tree.national.pk)["cases.overdue_open"] == 4
    assert_rollups_match_rebuild(*nodes(tree))


def test_an_escalated_case_is_supervised_by_the_union_above_whoever_holds_it(tree):
    d = desk(tree)
    with frozen(at(2026, 11, 23, 9, 0)):
        case = file_case(d.worker, division_code="440305")  # no employer: the county holds it
        assert case.supervisor_path == tree.shenzhen.path and case.supervisor is None
    with frozen(at(2026, 11, 25, 8, 0)):  # pending at the county too, but within its limit
        file_case(WorkerFactory(display_name="钱七"), division_code="440305")
    with frozen(at(2026, 11, 25, 9, 0)):
        assert services.deadline_sweep()["accept_overdue"] == 1
    case.refresh_from_db()
    assert (case.supervisor, case.supervisor_path) == (tree.shenzhen, tree.shenzhen.path)
    city_handler = staff_on(tree.shenzhen, Role.STAFF, case_role=CaseRole.HANDLER, username="sz-handler-2")
    board = lambda node: [c.pk for c in selectors.case_board(  # noqa: E731
        actor=city_handler, node=node, supervising=True)[0]]
    # Only the overdue case is on the city's supervising board, not the pending one still in time.
    assert board(tree.shenzhen) == [case.pk]
    case = services.case_dispatch(actor=d.county, case=case, to_org=tree.nantou, note="属地办理")
    assert (case.supervisor, case.supervisor_path) == (tree.nanshan, tree.nanshan.path)
    assert board(tree.shenzhen) == [] and board(tree.nanshan) == [case.pk]
    case = services.case_return(actor=d.township, case=case, reason="不属于本街道辖区")
    assert (case.supervisor, case.supervisor_path) == (tree.shenzhen, tree.shenzhen.path)
    assert board(tree.shenzhen) == [case.pk] and board(tree.nanshan) == []
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.supervisor_path == tree.shenzhen.path and fresh.supervisor_id == tree.shenzhen.pk


def test_no_index_covers_what_the_sweep_writes(tree):
    """The sweep's updates stay HOT (the row version stays on its page, no index is written) only while
    no index names the columns it sets, in its key or in its condition."""
    from django.db import connection

    written = {"accept_warned_at", "accept_overdue_at", "complete_warned_at", "complete_overdue_at", "supervisor_id"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                       "WHERE indrelid = 'casedesk_case'::regclass")
        definitions = dict(cursor.fetchall())
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'casedesk_case'::regclass")
        options = cursor.fetchone()[0] or []
    assert len(definitions) >= 10
    assert {name: [c for c in written if c in d] for name, d in definitions.items() if any(c in d for c in written)} == {}
    assert "fillfactor=70" in options  # room on each page for the new version


def test_a_case_waiting_for_the_worker_is_not_swept(tree):
    d = desk(tree)
    with frozen(at(2026, 11, 23, 9, 0)):
        case = file_case(d.worker, tree.nantou_employer)
        services.case_accept(actor=d.grassroots, case=case)
        services.case_request_info(actor=d.grassroots, case=case, text="请补充劳动合同")
    with frozen(at(2026, 12, 10, 9, 0)):
        assert sum(services.deadline_sweep().values()) == 0


def test_province_time_limits_override_the_national_defaults(tree):
    admin = staff_on(tree.guangdong)
    with pytest.raises(ValidationFailed):
        services.time_limit_set(actor=admin, org=tree.shenzhen, difficulty="normal", accept_days=1, complete_days=3)
    with pytest.raises(ValidationFailed):
        services.time_limit_set(actor=admin, org=tree.guangdong, difficulty="normal", accept_days=5, complete_days=3)
    with pytest.raises(PermissionDenied):
        services.time_limit_set(actor=staff_on(tree.beijing), org=tree.guangdong, difficulty="normal",
                                accept_days=1, complete_days=3)
    services.time_limit_set(actor=admin, org=tree.guangdong, difficulty="normal", accept_days=2, complete_days=3)
    assert services.limits_for(tree.nantou_union, "normal").complete_days == 3
    assert services.limits_for(tree.beijing, "normal").complete_days == 5


# --- Privacy and access ---------------------------------------------------------------------------


def test_case_content_is_seen_only_on_the_handling_chain_with_a_case_role(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    for reader in (d.agent, d.supervisor, d.county, d.township, d.grassroots):
        assert selectors.case_get(actor=reader, case_id=case.pk) == case
    for outsider in (d.futian, d.city_admin, tree.root_admin, WorkerFactory()):
        with pytest.raises(NotFound):
            selectors.case_get(actor=outsider, case_id=case.pk)
    assert selectors.case_get(actor=d.worker, case_id=case.pk) == case
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=d.city_admin, case=case)


def test_a_protected_worker_is_anonymous_to_the_employer_level_union(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer, protect_identity=True)
    assert selectors.identity_hidden(d.grassroots, case) is True
    assert selectors.identity_hidden(d.township, case) is False
    plain = file_case(WorkerFactory(display_name="周九"), tree.nantou_employer)
    assert selectors.identity_hidden(d.grassroots, plain) is False
    with pytest.raises(PermissionDenied):
        services.case_reveal_phone(actor=d.grassroots, case=case)
    assert services.case_reveal_phone(actor=d.township, case=case) == d.worker.phone
    services.case_viewed(actor=d.township, case=case)
    services.case_viewed(actor=d.township, case=plain)  # not protected: not audited
    services.case_viewed(actor=d.worker, case=case)  # their own case
    assert list(AuditEntry.objects.filter(action__in=["case.view", "case.reveal"]).order_by("id")
                .values_list("action", "actor", "object_id")) == [
        ("case.reveal", d.township.pk, str(case.pk)), ("case.view", d.township.pk, str(case.pk))]


def test_case_roles_are_granted_only_by_admins_who_hold_them(tree):
    grantee = staff_on(tree.nantou, Role.VIEWER, username="grantee")
    plain_admin = staff_on(tree.nanshan, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        grant_role(actor=plain_admin, org=tree.nantou, username=grantee.username, role=Role.STAFF,
                   case_role=CaseRole.HANDLER)
    case_admin = staff_on(tree.nanshan, Role.ADMIN, case_role=CaseRole.HANDLER)
    with pytest.raises(PermissionDenied):
        grant_role(actor=case_admin, org=tree.nantou, username=grantee.username, role=Role.STAFF,
                   case_role=CaseRole.SUPERVISOR)
    grant = grant_role(actor=case_admin, org=tree.nantou, username=grantee.username, role=Role.STAFF,
                       case_role=CaseRole.HANDLER)
    assert grant.case_role == CaseRole.HANDLER
    with pytest.raises(PermissionDenied):  # cannot strip a case role the actor does not hold
        grant_role(actor=plain_admin, org=tree.nantou, username=grantee.username, role=Role.VIEWER)


# --- Clusters -------------------------------------------------------------------------------------


def test_five_wage_arrears_cases_against_one_employer_raise_one_alert(tree):
    desk(tree)
    cases = [file_case(WorkerFactory(display_name=f"工人{i}"), tree.nantou_employer, workers_affected=2,
                       amount_claimed="3000") for i in range(4)]
    assert not ClusterAlert.objects.exists()
    cases.append(file_case(WorkerFactory(display_name="工人5"), tree.nantou_employer))
    alert = ClusterAlert.objects.get()
    assert (alert.case_count, alert.workers, alert.amount, alert.org) == (5, 9, Decimal("12000.00"),
                                                                          tree.nantou_union)
    assert set(Case.objects.filter(cluster=alert).values_list("pk", flat=True)) == {c.pk for c in cases}
    assert OrgNotice.objects.filter(kind="cluster", org__in=[tree.nantou_union, tree.nantou]).count() == 2
    file_case(WorkerFactory(display_name="工人6"), tree.nantou_employer)
    alert.refresh_from_db()
    assert alert.case_count == 6 and ClusterAlert.objects.count() == 1
    file_case(WorkerFactory(display_name="工人7"), tree.nantou_employer, category="no_insurance",
              description="公司没有缴纳社保，入职两年了一直没有交。")
    assert ClusterAlert.objects.count() == 1


# --- Taxonomy -------------------------------------------------------------------------------------


def test_the_taxonomy_is_seeded_searchable_and_edited_by_national_and_provincial_admins(tree):
    groups = selectors.categories()
    assert {"wages", "contract", "insurance", "injury", "hours", "women", "platform", "membership",
            "hardship"} <= {g.code for g in groups}
    assert selectors.category_search("老板不发工资")[0].code == "wage_arrears"
    assert selectors.category_search("被开除")[0].code == "dismissal"
    item = services.category_save(actor=staff_on(tree.guangdong), owner=tree.guangdong, name="外卖骑手超时罚款",
                                  parent_id=CaseCategory.objects.get(code="platform").pk, code="gd_rider_fine",
                                  keywords="超时 罚款 骑手")
    assert item.owner_path == tree.guangdong.path
    assert "gd_rider_fine" in {i.code for g in selectors.categories(tree.nantou.path) for i in g.items}
    assert "gd_rider_fine" not in {i.code for g in selectors.categories(tree.beijing.path) for i in g.items}
    with pytest.raises(ValidationFailed):
        file_case(WorkerFactory(display_name="北京工人"), category="gd_rider_fine", division_code="110101")
    with pytest.raises(PermissionDenied):
        services.category_save(actor=staff_on(tree.guangdong), owner=tree.guangdong,
                               category=CaseCategory.objects.get(code="wage_arrears"), name="欠薪改名")
    with pytest.raises(ValidationFailed):
        services.category_save(actor=staff_on(tree.shenzhen), owner=tree.shenzhen, name="市级分类", code="sz_x",
                               parent_id=CaseCategory.objects.get(code="platform").pk)
    edited = services.category_save(actor=tree.root_admin, owner=tree.national,
                                    category=CaseCategory.objects.get(code="wage_arrears"), name="拖欠工资",
                                    parent_id=CaseCategory.objects.get(code="wages").pk, keywords="欠薪 讨薪")
    assert edited.name == "拖欠工资"
    assert OrgKind.NATIONAL == tree.national.kind


def test_a_new_employer_registered_later_does_not_break_old_cases(tree):
    d = desk(tree)
    case = file_case(d.worker, employer={"name": "深圳某某餐饮店", "division_code": "440305001"})
    employer_create(actor=tree.root_admin, org=tree.nantou, name="深圳某某餐饮店", uscc=uscc_in("440305001"),
                    division_code="440305001", employee_count=8)
    assert selectors.case_get(actor=d.township, case_id=case.pk).employer_label == "深圳某某餐饮店"


def test_a_simple_case_is_resolved_straight_from_the_queue(tree):
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    case = services.case_resolve(actor=d.grassroots, case=case, result="当场电话答复，公司已补发工资。")
    assert case.status == CaseStatus.RESOLVED and case.accepted_at is not None and case.accepted_on_time is True
    assert case.completed_on_time is True
    assert [e.action for e in case.events.order_by("id")] == [Action.CREATE, Action.RESOLVE]
    assert_rollups_match_rebuild(*nodes(tree))


def test_a_worker_cannot_flood_a_case_with_additions(tree, settings):
    settings.GONGHUI_RATE_LIMITS = {**settings.GONGHUI_RATE_LIMITS, "case_info_user_day": (2, 86400)}
    d = desk(tree)
    case = file_case(d.worker, tree.nantou_employer)
    for i in range(2):
        services.case_worker_add(actor=d.worker, case=case, text=f"补充说明第{i + 1}条")
    with pytest.raises(RateLimited) as exc:
        services.case_worker_add(actor=d.worker, case=case, text="补充说明第3条")
    assert "明天再试" in exc.value.message
    assert case.events.filter(action=Action.WORKER_INFO).count() == 2

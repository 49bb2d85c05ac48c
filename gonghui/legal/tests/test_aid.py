"""Legal aid: applying (directly, from a question, from a 12351 case), the checklist and membership
proof, the decision clock in working days (paused while documents are awaited), providers and
assignment, stages with statutory time limits, hearings, the outcome, archive, the sweep, the stats
and the API with its bad input."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from gonghui.casedesk import services as case_services
from gonghui.casedesk.tests.helpers import JPEG, PDF, at, desk, file_case, upload
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEntry
from gonghui.legal import aid
from gonghui.legal.models import (
    AidApplication,
    AidDeadline,
    AidDocument,
    AidEvent,
    AidProvider,
    AidStage,
    AidStatus,
    LegalPolicy,
)
from gonghui.membership import services as membership_services
from gonghui.membership.models import Notice, OrgNotice
from gonghui.membership.tests.helpers import join
from gonghui.orgs.models import CaseRole, Role
from gonghui.testing.api_asserts import assert_error
from gonghui.testing.concurrency import run_together
from gonghui.testing.fixtures import Tree, WorkerFactory, api_as, staff_on

pytestmark = pytest.mark.django_db
FACTS = "公司从今年八月起拖欠我三个月工资共计一万八千元，多次找老板都说没钱，现在要求支付工资和经济补偿。"


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


class People:
    def __init__(self, tree):
        d = desk(tree)
        self.tree = tree
        self.worker = d.worker
        self.county = d.county  # 南山区 handler: the legal-aid centre
        self.city_supervisor = d.supervisor
        self.grassroots = d.grassroots
        self.township = d.township
        self.futian = d.futian
        self.county_staff = staff_on(tree.nanshan, Role.STAFF, username="ns-roster")
        self.lawyer_user = WorkerFactory(display_name="王律师", phone="13912340001")
        self.lawyer = aid.provider_save(actor=self.county_staff, org=tree.nanshan, data={
            "kind": "lawyer", "name": "王明", "firm": "广东南山律师事务所", "licence_no": "14403201910123456",
            "phone": "13912340001", "expertise": ["wages", "dismissal"], "region_code": "440305", "max_active": 2})
        self.volunteer = aid.provider_save(actor=self.county_staff, org=tree.nanshan, data={
            "kind": "volunteer", "name": "陈静", "phone": "13912340002", "expertise": ["injury"]})


@pytest.fixture
def people(tree) -> People:
    return People(tree)


def make_member(worker, tree):
    application, _created = join(worker, tree.nantou_employer, name="李四")
    admin = staff_on(tree.nantou_union, Role.ADMIN)
    return membership_services.application_approve(actor=admin, application=application)


def apply(worker, tree, **kwargs):
    data = {"category": "wages", "facts": FACTS, "employer_id": tree.nantou_employer.pk, "amount_claimed": "18000"}
    data.update(kwargs)
    return aid.aid_apply(actor=worker, **data)


# --- Applying ---------------------------------------------------------------------------------------


def test_a_members_application_goes_to_the_county_union_with_proof_and_a_working_day_clock(people):
    tree = people.tree
    member = make_member(people.worker, tree)
    with frozen(at(2026, 9, 28, 10, 0)):  # Monday before the National Day holiday (Oct 1–7, 2026)
        application = apply(people.worker, tree, documents=[("evidence", upload(PDF, "工资条.pdf"))])
    assert application.org == tree.nanshan and application.status == AidStatus.SUBMITTED
    assert "县级以上" in application.route_reason
    assert application.membership_proof["member_no"] == member.member_no
    assert application.name == "李四" and "*" in application.phone_masked
    # Five working days: Sep 29, 30, then after the holiday Oct 8, 9 and Oct 10 (a make-up working Saturday).
    assert timezone.localtime(application.decide_due_at).date() == datetime.date(2026, 10, 10)
    items = {item.key: item for item in aid.checklist(application)}
    assert items["membership"].done and items["identity"].done and items["evidence"].done
    assert not items["hardship"].required
    assert aid.missing_items(application) == []
    assert OrgNotice.objects.filter(org=tree.nanshan, kind="legal_aid").exists()
    assert AuditEntry.objects.filter(action="legal_aid.apply", object_id=str(application.pk)).exists()


def test_a_non_member_must_bring_identity_and_evidence_and_hardship_when_claimed(people):
    application = apply(people.worker, people.tree, hardship=True)
    assert application.membership_proof == {}
    assert aid.missing_items(application) == ["身份证件", "经济困难证明", "证据材料"]
    with pytest.raises(ValidationFailed) as error:
        aid.aid_approve(actor=people.county, application=application)
    assert error.value.code == "documents_missing" and "身份证件" in error.value.message
    aid.aid_add_documents(actor=people.worker, application=application, documents=[
        ("identity", upload()), ("hardship", upload(PDF, "低保证.pdf")), ("evidence", upload())])
    assert aid.missing_items(application) == []
    assert aid.aid_approve(actor=people.county, application=application).status == AidStatus.APPROVED


def test_applying_from_a_question_keeps_it_and_a_second_application_for_the_same_dispute_is_refused(people):
    application = apply(people.worker, people.tree, question="公司三个月没发工资了怎么办")
    assert application.source == AidApplication.Source.QUESTION and application.question.startswith("公司")
    with pytest.raises(Conflict) as error:
        apply(people.worker, people.tree)
    assert error.value.code == "aid_duplicate" and application.number in error.value.message
    other = apply(people.worker, people.tree, category="injury")  # another dispute is a new application
    assert other.pk != application.pk


def test_staff_cannot_apply_for_a_worker_and_bad_documents_write_nothing(people):
    with pytest.raises(PermissionDenied):
        apply(people.county, people.tree)
    with pytest.raises(ValidationFailed) as error:
        apply(people.worker, people.tree, documents=[("evidence", upload(b"MZ\x90\x00fake", "证据.jpg"))])
    assert error.value.code == "attachment_type"
    with pytest.raises(ValidationFailed):
        apply(people.worker, people.tree, documents=[("membership", upload())])  # filled in by the system only
    assert AidApplication.objects.count() == 0 and AidDocument.objects.count() == 0


@pytest.mark.parametrize(("changes", "code"), [
    ({"category": "astrology"}, "category_invalid"),
    ({"facts": "太短"}, "facts_too_short"),
    ({"facts": "欠薪" * 3000}, "facts_too_long"),
    ({"employer_id": 999999999}, "employer_unknown"),
    ({"employer_id": None, "division_code": None}, "place_required"),
    ({"amount_claimed": "很多钱"}, "amount_claimed_invalid"),
    ({"workers_involved": 0}, "workers_involved_invalid"),
])
def test_bad_applications_name_the_field(people, changes, code):
    with pytest.raises(ValidationFailed) as error:
        apply(people.worker, people.tree, **changes)
    assert error.value.code == code
    assert AidApplication.objects.count() == 0


def test_a_referred_case_opens_an_application_at_the_county_union(people):
    tree = people.tree
    case = file_case(people.worker, tree.nantou_employer)
    case = case_services.case_refer_legal_aid(actor=people.grassroots, case=case, note="需要申请劳动仲裁，职工经济困难")
    application = AidApplication.objects.get(case=case)
    assert case.legal_aid_ref == application.number
    assert application.source == AidApplication.Source.CASE and application.org == tree.nanshan
    assert application.category == "wages" and application.applicant == people.worker
    assert application.phone_masked == case.phone_masked and "转介说明" in application.facts
    assert application.status == AidStatus.SUBMITTED
    # The worker sees it as their own.
    assert aid.aid_get(actor=people.worker, application_id=application.pk) == application


# --- Access -----------------------------------------------------------------------------------------


def test_who_reads_an_application(people):
    tree = people.tree
    application = apply(people.worker, tree)
    for allowed in (people.worker, people.county, people.city_supervisor):
        assert aid.aid_get(actor=allowed, application_id=application.pk) == application
    no_case_role = staff_on(tree.shenzhen, Role.ADMIN)
    for outsider in (people.futian, WorkerFactory(), no_case_role, people.grassroots, people.lawyer_user):
        with pytest.raises(NotFound):
            aid.aid_get(actor=outsider, application_id=application.pk)
    with pytest.raises(NotFound):
        aid.aid_get(actor=people.county, application_id="1 OR 1=1")
    with pytest.raises(PermissionDenied):
        aid.aid_approve(actor=people.worker, application=application)


# --- Deciding ---------------------------------------------------------------------------------------


def test_requesting_documents_pauses_the_clock_and_supplying_moves_the_deadline(people):
    tree = people.tree
    with frozen(at(2026, 11, 23, 9, 0)):  # Monday
        application = apply(people.worker, tree)
    assert timezone.localtime(application.decide_due_at).date() == datetime.date(2026, 11, 30)
    with frozen(at(2026, 11, 24, 9, 0)):
        application = aid.aid_request_documents(actor=people.county, application=application,
                                                text="请上传身份证和工资条")
    assert application.status == AidStatus.NEEDS_DOCS
    assert Notice.objects.filter(user=people.worker, title__contains="补充材料").exists()
    with frozen(at(2026, 11, 27, 9, 0)):  # three working days later
        application = aid.aid_supply(actor=people.worker, application=application, text="已上传",
                                     documents=[("identity", upload()), ("evidence", upload(PDF, "工资条.pdf"))])
    assert application.status == AidStatus.SUBMITTED and application.paused_at is None
    assert timezone.localtime(application.decide_due_at).date() == datetime.date(2026, 12, 3)
    with pytest.raises(Conflict):  # not waiting any more
        aid.aid_supply(actor=people.worker, application=application, text="再补充")
    with frozen(at(2026, 12, 2, 9, 0)):
        application = aid.aid_approve(actor=people.county, application=application)
    assert application.decided_on_time is True


def test_rejecting_needs_a_reason_and_ends_the_file(people):
    application = apply(people.worker, people.tree)
    with pytest.raises(ValidationFailed):
        aid.aid_reject(actor=people.county, application=application, reason="")
    application = aid.aid_reject(actor=people.county, application=application, reason="不属于劳动争议，建议向法院起诉")
    assert application.status == AidStatus.REJECTED and application.decided_on_time is True
    with pytest.raises(Conflict):
        aid.aid_approve(actor=people.county, application=application)
    with pytest.raises(Conflict):
        aid.aid_add_documents(actor=people.worker, application=application, documents=[("evidence", upload())])


def test_the_sweep_escalates_a_late_decision_once_and_reminds_hearings(people):
    tree = people.tree
    with frozen(at(2026, 11, 23, 9, 0)):
        application = apply(people.worker, tree, documents=[("identity", upload()), ("evidence", upload())])
    with frozen(at(2026, 12, 1, 9, 0)):  # past Nov 30
        assert aid.aid_sweep() == {"overdue": 1, "reminded": 0}
        assert aid.aid_sweep() == {"overdue": 0, "reminded": 0}
    assert OrgNotice.objects.filter(org=tree.shenzhen, title__contains="督办").count() == 1
    assert AidEvent.objects.filter(application=application, action=AidEvent.Action.OVERDUE).count() == 1
    application.refresh_from_db()
    with frozen(at(2026, 12, 1, 10, 0)):
        application = aid.aid_approve(actor=people.county, application=application,
                                      note="材料齐全，予以援助")
    assert application.decided_on_time is False


# --- Providers, assignment, stages ----------------------------------------------------------------------


def approved(people, **kwargs):
    application = apply(people.worker, people.tree, documents=[("identity", upload()), ("evidence", upload())],
                        **kwargs)
    return aid.aid_approve(actor=people.county, application=application)


def test_suggestions_rank_by_expertise_place_and_load_and_a_full_lawyer_is_refused(people):
    application = approved(people)
    ranked = aid.provider_suggestions(actor=people.county, application=application)
    assert ranked[0].provider == people.lawyer and "擅长劳动报酬" in ranked[0].reasons
    application = aid.aid_assign(actor=people.county, application=application, provider_id=people.lawyer.pk)
    assert application.status == AidStatus.ASSIGNED and application.provider == people.lawyer
    people.lawyer.refresh_from_db()
    assert people.lawyer.active_count == 1
    assert Notice.objects.filter(user=people.worker, title__contains="指派").exists()
    assert Notice.objects.filter(user=people.lawyer_user, title__contains="指派").exists()
    # The lawyer now reads the file (linked by the phone they sign in with).
    assert aid.aid_get(actor=people.lawyer_user, application_id=application.pk) == application
    second = approved(people, category="dismissal")
    aid.aid_assign(actor=people.county, application=second, provider_id=people.lawyer.pk)
    third = approved(people, category="contract")
    with pytest.raises(Conflict) as error:
        aid.aid_assign(actor=people.county, application=third, provider_id=people.lawyer.pk)
    assert error.value.code == "provider_full"
    # Reassigning moves the count.
    aid.aid_assign(actor=people.county, application=second, provider_id=people.volunteer.pk)
    people.lawyer.refresh_from_db()
    people.volunteer.refresh_from_db()
    assert (people.lawyer.active_count, people.volunteer.active_count) == (1, 1)
    futian_lawyer = aid.provider_save(actor=staff_on(people.tree.futian, Role.STAFF), org=people.tree.futian, data={
        "kind": "lawyer", "name": "赵律", "phone": "13912340003", "expertise": ["contract"]})
    with pytest.raises(ValidationFailed) as error:
        aid.aid_assign(actor=people.county, application=third, provider_id=futian_lawyer.pk)
    assert error.value.code == "provider_unknown"


def test_stages_add_statutory_limits_that_skip_rest_days(people):
    application = approved(people)
    application = aid.aid_assign(actor=people.county, application=application, provider_id=people.lawyer.pk)
    lawyer = people.lawyer_user
    with frozen(at(2026, 9, 25, 10, 0)):
        stage = aid.aid_stage_add(actor=lawyer, application=application, kind="arbitration",
                                  started_on=datetime.date(2026, 9, 25), forum="深圳市劳动人事争议仲裁委员会")
    limits = {d.rule: timezone.localtime(d.due_at).date() for d in AidDeadline.objects.filter(stage=stage)}
    # 5 days from Sep 25 is Sep 30; 45 days is Nov 9 (a Monday).
    assert limits == {"arbitration_accept_5": datetime.date(2026, 9, 30),
                      "arbitration_award_45": datetime.date(2026, 11, 9)}
    with frozen(at(2026, 9, 28, 10, 0)):
        aid.aid_stage_decision(actor=lawyer, application=application, stage_id=stage.pk,
                               received_on=datetime.date(2026, 9, 25), result="仲裁裁决支持工资18000元")
    sue = AidDeadline.objects.get(stage=stage, rule="sue_after_award_15")
    # 15 days after Sep 25 is Oct 10 (a make-up working Saturday): the limit stays there.
    assert timezone.localtime(sue.due_at).date() == datetime.date(2026, 10, 10)
    assert "第四十八条" in sue.basis
    assert AidDeadline.objects.get(stage=stage, rule="arbitration_award_45").done_at is not None
    assert aid.statutory_end(datetime.date(2026, 9, 20), 15) == datetime.date(2026, 10, 8)  # Oct 5 → after the holiday
    with pytest.raises(ValidationFailed):
        aid.aid_stage_add(actor=lawyer, application=application, kind="litigation", started_on="2026-09-01")
    with pytest.raises(ValidationFailed):
        aid.aid_stage_add(actor=lawyer, application=application, kind="mediation", started_on="2999-01-01")
    with pytest.raises(NotFound):
        aid.aid_stage_decision(actor=lawyer, application=application, stage_id=999999, received_on="2026-09-25",
                               result="不存在的阶段")


def test_a_hearing_is_told_to_the_worker_reminded_and_blocks_concluding_until_done(people):
    application = approved(people)
    application = aid.aid_assign(actor=people.county, application=application, provider_id=people.lawyer.pk)
    with frozen(at(2026, 11, 23, 9, 0)):
        hearing = aid.aid_deadline_add(actor=people.lawyer_user, application=application, title="仲裁开庭",
                                       due_at="2026-11-25T09:30", place="南山区仲裁院第三庭")
        assert Notice.objects.filter(user=people.worker, title__contains="开庭").count() == 1
        assert aid.aid_sweep()["reminded"] == 1
        assert aid.aid_sweep()["reminded"] == 0
        with pytest.raises(Conflict) as error:
            aid.aid_conclude(actor=people.lawyer_user, application=application, outcome="award_won",
                             closing_report="仲裁裁决支持全部请求，公司已履行。" * 3, amount_awarded="18000")
        assert error.value.code == "hearing_pending"
        aid.aid_deadline_done(actor=people.lawyer_user, application=application, deadline_id=hearing.pk)
        application = aid.aid_conclude(actor=people.lawyer_user, application=application, outcome="award_won",
                                       closing_report="仲裁裁决支持全部请求，公司已于十日内履行完毕。" * 2,
                                       amount_awarded="18000", amount_recovered="18000")
    assert application.status == AidStatus.CONCLUDED and application.amount_recovered == Decimal("18000.00")
    people.lawyer.refresh_from_db()
    assert (people.lawyer.active_count, people.lawyer.closed_count) == (0, 1)
    with pytest.raises(PermissionDenied):  # archiving is the supervisor's quality check
        aid.aid_archive(actor=people.county, application=application)
    application = aid.aid_archive(actor=people.city_supervisor, application=application)
    assert application.status == AidStatus.ARCHIVED and application.archive_no.startswith("FYDA")
    with pytest.raises(Conflict):
        aid.aid_note(actor=people.county, application=application, text="归档后不能再记")


def test_the_worker_withdraws_before_assignment_only(people):
    application = apply(people.worker, people.tree)
    with pytest.raises(NotFound):
        aid.aid_withdraw(actor=WorkerFactory(), application=application)
    application = aid.aid_withdraw(actor=people.worker, application=application, reason="已和公司协商解决")
    assert application.status == AidStatus.WITHDRAWN
    other = approved(people, category="injury")
    other = aid.aid_assign(actor=people.county, application=other, provider_id=people.volunteer.pk)
    with pytest.raises(Conflict):
        aid.aid_withdraw(actor=people.worker, application=other)


def test_stats_count_the_subtree_only(people):
    tree = people.tree
    a = approved(people)
    a = aid.aid_assign(actor=people.county, application=a, provider_id=people.lawyer.pk)
    aid.aid_conclude(actor=people.county, application=a, outcome="mediated", amount_awarded="12000",
                     amount_recovered="10000", closing_report="经仲裁前调解，公司同意分两期支付工资一万二千元。")
    apply(people.worker, tree, category="injury")
    stats = aid.aid_stats(actor=people.city_supervisor, node=tree.shenzhen)
    assert stats["concluded"] == 1 and stats["outcomes"]["mediated"] == 1 and stats["success_rate"] == 1.0
    assert stats["amount_recovered"] == Decimal("10000.00") and stats["by_status"]["submitted"] == 1
    assert stats["decided_on_time_rate"] == 1.0 and stats["open"] == 1
    assert aid.aid_stats(actor=people.futian, node=tree.futian)["concluded"] == 0
    with pytest.raises(NotFound):
        aid.aid_stats(actor=people.futian, node=tree.nanshan)


def test_policy_sets_the_decision_days_for_the_subtree(people):
    tree = people.tree
    admin = staff_on(tree.shenzhen, Role.ADMIN)
    aid.policy_set(actor=admin, org=tree.shenzhen, data={"aid_decide_days": 3})
    assert aid.policy_value(tree.nanshan, "aid_decide_days") == 3
    with frozen(at(2026, 11, 23, 9, 0)):
        application = apply(people.worker, tree)
    assert timezone.localtime(application.decide_due_at).date() == datetime.date(2026, 11, 26)
    with pytest.raises(ValidationFailed):
        aid.policy_set(actor=admin, org=tree.shenzhen, data={"aid_decide_days": 0})
    with pytest.raises(ValidationFailed):
        aid.policy_set(actor=admin, org=tree.shenzhen, data={"letter_prefix": "深工〔2026〕"})
    with pytest.raises(PermissionDenied):
        aid.policy_set(actor=people.county, org=tree.shenzhen, data={"aid_decide_days": 9})
    assert LegalPolicy.objects.get(org=tree.shenzhen).aid_decide_days == 3


def test_provider_roster_input_is_checked(people):
    staff = people.county_staff
    for data, code in [({"kind": "lawyer", "name": "王", "phone": "13900000000", "expertise": ["wages"]},
                        "name_too_short"),
                       ({"kind": "judge", "name": "王五", "phone": "13900000000", "expertise": ["wages"]}, "kind_invalid"),
                       ({"kind": "lawyer", "name": "王五", "phone": "13900000000", "expertise": []}, "expertise_invalid"),
                       ({"kind": "lawyer", "name": "王五", "phone": "13900000000", "expertise": ["wages"],
                         "licence_no": "12345"}, "licence_no_invalid"),
                       ({"kind": "lawyer", "name": "王五", "expertise": ["wages"]}, "phone_required")]:
        with pytest.raises(ValidationFailed) as error:
            aid.provider_save(actor=staff, org=people.tree.nanshan, data=data)
        assert error.value.code == code
    with pytest.raises(PermissionDenied):
        aid.provider_save(actor=people.futian, org=people.tree.nanshan, data={})
    assert AidProvider.objects.count() == 2


# --- The API ------------------------------------------------------------------------------------------


def test_the_whole_file_through_the_api(people):
    tree = people.tree
    make_member(people.worker, tree)
    worker = api_as(people.worker)
    response = worker.post("/api/v1/legal/aid", {"category": "wages", "facts": FACTS, "amount_claimed": 18000,
                                                 "employer_id": tree.nantou_employer.pk,
                                                 "question": "公司三个月没发工资了怎么办"})
    assert response.status_code == 201, response.content
    body = response.json()
    aid_id = body["id"]
    assert body["union"]["name"] == tree.nanshan.name and body["your_role"] == "applicant"
    assert {i["key"]: i["done"] for i in body["checklist"]} == {"membership": True, "identity": True,
                                                               "hardship": False, "evidence": False}
    upload_response = worker.client.post(f"/api/v1/legal/aid/{aid_id}/documents",
                                         {"kind": "evidence", "files": [upload(JPEG, "欠条.jpg")]},
                                         **worker._headers())
    assert upload_response.status_code == 200, upload_response.content
    document_id = upload_response.json()["documents"][0]["id"]
    assert worker.get(f"/api/v1/legal/aid/{aid_id}/documents/{document_id}").status_code == 200
    county = api_as(people.county)
    assert county.get(f"/api/v1/legal/aid/{aid_id}/documents/{document_id}").status_code == 200
    assert AuditEntry.objects.filter(action="legal_aid.document_view").count() == 1  # staff views are audited
    assert county.post(f"/api/v1/legal/aid/{aid_id}/approve", {"note": "材料齐全"}).json()["status"] == "approved"
    suggestions = county.get(f"/api/v1/legal/aid/{aid_id}/providers").json()
    assert suggestions[0]["provider"]["name"] == "王明" and suggestions[0]["reasons"]
    assert county.post(f"/api/v1/legal/aid/{aid_id}/assign",
                       {"provider_id": people.lawyer.pk}).json()["provider"]["name"] == "王明"
    lawyer = api_as(people.lawyer_user)
    assert [a["id"] for a in lawyer.get("/api/v1/me/legal-aid", assigned=True).json()] == [aid_id]
    stage = lawyer.post(f"/api/v1/legal/aid/{aid_id}/stages", {"kind": "mediation", "started_on": "2026-11-20",
                                                                "forum": "南山区劳动争议调解中心"})
    assert stage.status_code == 201, stage.content
    decision = lawyer.post(f"/api/v1/legal/aid/{aid_id}/stages/{stage.json()['id']}/decision",
                           {"received_on": "2026-11-24", "result": "达成调解协议，公司分两期支付"})
    assert decision.status_code == 200, decision.content
    note = lawyer.post(f"/api/v1/legal/aid/{aid_id}/notes", {"text": "已与公司财务核对第一期款项", "worker_visible": True})
    assert note.status_code == 201
    concluded = lawyer.post(f"/api/v1/legal/aid/{aid_id}/conclude", {
        "outcome": "mediated", "amount_awarded": "18000", "amount_recovered": 18000,
        "closing_report": "经调解，公司同意支付拖欠工资一万八千元，已分两期付清，申请人满意。"})
    assert concluded.status_code == 200 and concluded.json()["status"] == "concluded", concluded.content
    mine = worker.get(f"/api/v1/legal/aid/{aid_id}").json()
    assert mine["status"] == "concluded" and mine["amount_recovered"] == "18000.00"
    assert all(e["actor"] is None for e in mine["timeline"])
    assert any("核对第一期" in e["text"] for e in mine["timeline"])
    archived = api_as(people.city_supervisor).post(f"/api/v1/legal/aid/{aid_id}/archive")
    assert archived.json()["status"] == "archived"
    stats = api_as(people.city_supervisor).get("/api/v1/legal/aid/stats", node=tree.shenzhen.pk).json()
    assert stats["concluded"] == 1 and stats["amount_recovered"] == "18000.00"


def test_api_bad_input_and_tampered_ids(people):
    worker = api_as(people.worker)
    assert_error(worker.post("/api/v1/legal/aid", {"category": "wages", "facts": "短", "employer_id": 1}), 400,
                 "facts_too_short")
    assert_error(worker.post("/api/v1/legal/aid", {"category": "wages", "facts": FACTS * 200,
                                                   "employer_id": people.tree.nantou_employer.pk}), 400,
                 "facts_too_long")
    assert_error(worker.post("/api/v1/legal/aid", {"category": ["wages"], "facts": FACTS}), 400, "invalid_input")
    for bad in ("999999", "abc", "1%20OR%201=1", "-1"):
        assert_error(worker.get(f"/api/v1/legal/aid/{bad}"), 404, "not_found")
    application = apply(people.worker, people.tree)
    assert_error(api_as(people.futian).post(f"/api/v1/legal/aid/{application.pk}/approve", {}), 404, "not_found")
    assert_error(worker.post(f"/api/v1/legal/aid/{application.pk}/approve", {}), 403)
    assert_error(worker.get(f"/api/v1/legal/aid/{application.pk}/documents/999"), 404, "not_found")
    fake = worker.client.post(f"/api/v1/legal/aid/{application.pk}/documents",
                              {"kind": "evidence", "files": [upload(b"<html>not a photo", "x.jpg")]},
                              **worker._headers())
    assert_error(fake, 400, "attachment_type")
    assert_error(api_as(people.county).post(f"/api/v1/legal/aid/{application.pk}/assign",
                                            {"provider_id": people.lawyer.pk}), 409, "status_invalid")
    assert AidDocument.objects.count() == 0


def test_case_staff_refer_a_case_through_the_api_once(people):
    case = file_case(people.worker, people.tree.nantou_employer)
    client = api_as(people.grassroots)
    first = client.post(f"/api/v1/cases/{case.pk}/legal-aid", {"note": "职工要求申请仲裁"})
    assert first.status_code == 200, first.content
    again = client.post(f"/api/v1/cases/{case.pk}/legal-aid", {"note": "职工要求申请仲裁"})
    assert again.json()["legal_aid_ref"] == first.json()["legal_aid_ref"]
    assert AidApplication.objects.filter(case=case).count() == 1
    assert_error(api_as(people.futian).post(f"/api/v1/cases/{case.pk}/legal-aid", {"note": "越权转介"}), 404)


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_makes_one_application():
    tree = Tree()
    worker = WorkerFactory(display_name="李四")
    clients = [api_as(worker) for _ in range(3)]
    body = {"category": "wages", "facts": FACTS, "employer_id": tree.nantou_employer.pk}
    results = run_together(lambda i: clients[i].post("/api/v1/legal/aid", body).status_code, len(clients))
    assert sorted(results) == [201, 409, 409], results
    assert AidApplication.objects.count() == 1


def test_role_names_and_stage_kinds_are_declared_once():
    assert set(aid.TRANSITIONS) == set(AidStatus.values)
    assert set(aid.STAGE_DECISION_LIMITS) <= set(AidStage.Kind.values)
    assert CaseRole.SUPERVISOR in CaseRole.values

"""The cast of the API tests: staff at Nanshan, Shenzhen and Futian, a worker, and targets in Nanshan."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from gonghui.accounts.models import User
from gonghui.casedesk import services as casedesk
from gonghui.casedesk.models import Case
from gonghui.legal import aid, supervision
from gonghui.legal.models import (
    AidApplication,
    AidDeadline,
    AidDocument,
    AidProvider,
    AidStage,
    SupervisionLetter,
    SupervisionRecord,
)
from gonghui.membership import services as membership
from gonghui.membership.imports import import_create, roster_validate_run
from gonghui.membership.models import Application, ChangeRequest, Member, RosterImport, Transfer
from gonghui.membership.tests.helpers import make_id_number
from gonghui.orgs.models import CaseRole, Employer, Grant, OrgKind, OrgMove, OrgUnit, Role
from gonghui.orgs.services import union_create
from gonghui.testing.fixtures import StaffFactory, Tree, WorkerFactory, is_transactional, staff_on


@dataclass
class World:
    tree: Tree
    nanshan_admin: User
    shenzhen_admin: User
    futian_admin: User
    worker: User
    nantou_staff: User
    nantou_staff_grant: Grant
    newcomer: User  # a staff account created at 南头街道, without any grant yet
    nantou_area: OrgUnit  # a movable federation under 南头街道
    done_move: OrgMove
    # Membership in 南头精密's union (tree.nantou_union), each row owned by its own worker (never `worker`):
    applicant: User
    application: Application  # pending, overdue: on the 南头街道 board (督办)
    member_user: User
    member: Member  # active, with a pending correction
    correction: ChangeRequest
    mover_user: User
    mover: Member  # transferring to the 南头街道 union (a pending transfer)
    transfer: Transfer
    roster_import: RosterImport  # a validated roster import at the union, two rows ready to commit
    # The case desk: the three admins above also hold the case supervisor role over their nodes.
    case_worker: User
    case: Case  # a protected-identity wage case filed by case_worker, pending at 南头精密's union
    active_case: Case  # case_worker's case about an employer without a union: in progress at 南头街道
    resolved_case: Case  # case_worker's overtime case, resolved at 南头精密's union (waiting for the rating)
    # Legal aid at 南山区 (the county union handles 南头精密's workers), each file aid_worker's:
    aid_worker: User
    aid_provider: AidProvider  # a lawyer on 南山区's roster
    aid_submitted: AidApplication  # with identity and evidence: ready for a decision
    aid_document: AidDocument  # its evidence
    aid_waiting: AidApplication  # asked for documents
    aid_approved: AidApplication  # waiting for a lawyer
    aid_assigned: AidApplication  # with the lawyer, in arbitration (aid_stage, with its statutory aid_deadline)
    aid_stage: AidStage
    aid_deadline: AidDeadline
    aid_concluded: AidApplication  # concluded, waiting to be archived
    # Labour-law supervision (一函两书): a record at 南山区 and one at 南头精密's union (which must ask
    # the county for a 建议书); opinions at 南山区 in draft, issued, delivered and unresolved.
    supervision_record: SupervisionRecord
    grassroots_record: SupervisionRecord
    draft_letter: SupervisionLetter
    issued_letter: SupervisionLetter
    delivered_letter: SupervisionLetter
    unresolved_letter: SupervisionLetter
    # The employment-help cloud at 南头精密 (tree.nantou_employer, in 南山区):
    recruiter_user: User  # its verified recruiter
    recruiter_claim: object  # another person's pending claim to recruit for it
    pending_job: object  # a recruiter's posting waiting for moderation
    live_job: object
    closed_job: object
    job_seeker: User  # a seeker (visible to employers) who applied to live_job
    job_application: object  # submitted
    help_worker: User
    help_request: object  # open at 南头街道
    fair: object  # 南山区's job fair, running now, with job_seeker registered (fair_registration)
    fair_registration: object

    def in_nanshan(self, path: str) -> bool:
        return path.startswith(self.tree.nanshan.path)

    def org_in_nanshan(self, org_id: int) -> bool:
        return self.in_nanshan(OrgUnit.objects.get(pk=org_id).path)

    def employer_in_nanshan(self, employer_id: int) -> bool:
        return self.in_nanshan(Employer.objects.get(pk=employer_id).org_path)


def build_world() -> World:
    tree = Tree()
    nanshan_admin = staff_on(tree.nanshan, username="nanshan-admin", case_role=CaseRole.SUPERVISOR)
    shenzhen_admin = staff_on(tree.shenzhen, username="shenzhen-admin", case_role=CaseRole.SUPERVISOR)
    futian_admin = staff_on(tree.futian, username="futian-admin", case_role=CaseRole.SUPERVISOR)
    nantou_staff = staff_on(tree.nantou, Role.STAFF, username="nantou-staff")
    m = _membership(tree)
    area = union_create(actor=tree.root_admin, parent=tree.nantou, name="南头街道科技园区工会联合会", kind=OrgKind.AREA)
    done_move = OrgMove.objects.create(
        node=area, old_parent=tree.yuehai, new_parent=tree.nantou, old_path=area.path, new_path=area.path,
        status=OrgMove.Status.DONE, requested_by=tree.root_admin,
    )
    return World(
        tree=tree,
        nanshan_admin=nanshan_admin,
        shenzhen_admin=shenzhen_admin,
        futian_admin=futian_admin,
        worker=WorkerFactory(display_name="张三"),
        nantou_staff=nantou_staff,
        nantou_staff_grant=Grant.objects.get(user=nantou_staff),
        newcomer=StaffFactory(username="newcomer", home_org=tree.nantou),
        nantou_area=area,
        done_move=done_move,
        **m,
        **_casedesk(tree, shenzhen_admin),
        **_legal_aid(tree, shenzhen_admin),
        **_supervision(tree, tree.root_admin),
        **_employment(tree, nanshan_admin),
    )


def _employment(tree: Tree, staff: User) -> dict:
    from gonghui.employment import services as employment

    job = {"title": "仓库管理员", "occupation": "4-02-06-01", "division_code": "440305001", "salary_min": 5500,
           "salary_max": 7500, "headcount": 2, "skills": ["叉车证"], "description": "负责成品仓收发货。"}
    recruiter_user = WorkerFactory(display_name="王人事")
    claim = employment.recruiter_claim(actor=recruiter_user, uscc=tree.nantou_employer.uscc, name="王人事")
    employment.recruiter_decide(actor=staff, recruiter=claim, approve=True)
    pending_claim = employment.recruiter_claim(actor=WorkerFactory(display_name="赵申请"),
                                               uscc=tree.nantou_employer.uscc, name="赵申请")
    employer = tree.nantou_employer.pk
    pending = employment.posting_create(actor=recruiter_user, employer_id=employer, data=job)
    live = employment.posting_create(actor=staff, employer_id=employer, data={**job, "title": "快递分拣员",
                                                                             "occupation": "4-02-07-08"})
    closed = employment.posting_close(actor=staff, posting=employment.posting_create(
        actor=staff, employer_id=employer, data={**job, "title": "装配工", "occupation": "6-25-04-01"}))
    seeker = WorkerFactory(display_name="李求职")
    employment.seeker_save(actor=seeker, data={"occupations": ["4-02-07-08"], "places": ["440305"],
                                               "salary_expected": 6000, "visible_to_employers": True,
                                               "help_group": "jobless"})
    application = employment.application_submit(actor=seeker, posting=live)
    help_worker = WorkerFactory(display_name="陈帮扶")
    help_request = employment.help_request_submit(actor=help_worker, division_code="440305001", help_group="hardship",
                                                  needs="家庭困难，想在南头附近找一份白班工作。")
    now = datetime.datetime.now(datetime.UTC)
    fair = employment.fair_create(actor=staff, org=tree.nanshan, data={
        "title": "南山区就业援助月专场招聘会", "division_code": "440305001", "venue": "南头街道文体中心",
        "starts_at": now - datetime.timedelta(hours=1), "ends_at": now + datetime.timedelta(hours=6)})
    registration = employment.fair_register(actor=seeker, fair=fair)
    return {"recruiter_user": recruiter_user, "recruiter_claim": pending_claim, "pending_job": pending,
            "live_job": live, "closed_job": closed, "job_seeker": seeker, "job_application": application,
            "help_worker": help_worker, "help_request": help_request, "fair": fair,
            "fair_registration": registration}


def _supervision(tree: Tree, actor: User) -> dict:
    common = {"trigger": "inspection", "employer_id": tree.nantou_employer.pk, "inspected_on": "2026-11-20",
              "monitors": [{"name": "李明"}, {"name": "王芳"}],
              "findings": "该公司未与车间职工订立书面劳动合同，且拖欠上月工资。",
              "articles": [{"law": "劳动合同法", "article": "第八十二条"}]}
    record = supervision.record_create(actor=actor, org_id=tree.nanshan.pk, **common)
    grassroots_record = supervision.record_create(actor=actor, org_id=tree.nantou_union.pk, **common)

    def opinion():
        return supervision.letter_draft(actor=actor, record=record, kind="opinion")

    draft = opinion()
    issued = supervision.letter_issue(actor=actor, letter=opinion())
    delivered = supervision.letter_deliver(actor=actor, letter=supervision.letter_issue(actor=actor, letter=opinion()),
                                           method="直接送达", received_by="张经理")
    unresolved = supervision.letter_deliver(actor=actor, letter=supervision.letter_issue(actor=actor, letter=opinion()),
                                            method="邮寄送达")
    unresolved = supervision.letter_unresolved(actor=actor, letter=unresolved, reason="单位拒绝整改")
    return {"supervision_record": record, "grassroots_record": grassroots_record, "draft_letter": draft,
            "issued_letter": issued, "delivered_letter": delivered, "unresolved_letter": unresolved}


def _legal_aid(tree: Tree, handler: User) -> dict:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    aid_worker = WorkerFactory(display_name="吴援助")
    provider = aid.provider_save(actor=handler, org=tree.nanshan, data={
        "kind": "lawyer", "name": "王明", "phone": "13912349999", "expertise": ["wages"]})

    def filed(category: str):
        return aid.aid_apply(actor=aid_worker, category=category, employer_id=tree.nantou_employer.pk,
                             facts="公司拖欠我三个月工资共计一万八千元，多次协商无果，请求工会提供法律援助。",
                             documents=[("identity", SimpleUploadedFile("身份证.jpg", jpeg)),
                                        ("evidence", SimpleUploadedFile("工资条.jpg", jpeg))])

    submitted = filed("wages")
    waiting = aid.aid_request_documents(actor=handler, application=filed("contract"), text="请补充劳动合同")
    approved = aid.aid_approve(actor=handler, application=filed("dismissal"))
    assigned = aid.aid_approve(actor=handler, application=filed("injury"))
    assigned = aid.aid_assign(actor=handler, application=assigned, provider_id=provider.pk)
    stage = aid.aid_stage_add(actor=handler, application=assigned, kind="arbitration",
                              started_on=datetime.date.today() - datetime.timedelta(days=3))
    concluded = aid.aid_approve(actor=handler, application=filed("hours"))
    concluded = aid.aid_assign(actor=handler, application=concluded, provider_id=provider.pk)
    concluded = aid.aid_conclude(actor=handler, application=concluded, outcome="mediated",
                                 closing_report="经调解，公司同意支付加班费六千元，已当场付清，申请人满意。")
    return {"aid_worker": aid_worker, "aid_provider": provider, "aid_submitted": submitted,
            "aid_document": submitted.documents.get(kind="evidence"), "aid_waiting": waiting, "aid_approved": approved,
            "aid_assigned": assigned, "aid_stage": stage, "aid_deadline": stage.deadlines.first(),
            "aid_concluded": concluded}


def _casedesk(tree: Tree, handler: User) -> dict:
    case_worker = WorkerFactory(display_name="周诉求")
    case, _ = casedesk.case_create(
        actor=case_worker, channel="portal", category="wage_arrears", employer_id=tree.nantou_employer.pk,
        description="公司已经两个月没有发工资了，车间二十多人都没有拿到。", workers_affected=20,
        amount_claimed="36000", protect_identity=True)
    active, _ = casedesk.case_create(
        actor=case_worker, channel="portal", category="no_contract",
        employer={"name": "深圳市南头某某餐饮店", "division_code": "440305001"},
        description="入职半年了店里一直没有和我签劳动合同，想问能不能要二倍工资。")
    active = casedesk.case_accept(actor=handler, case=active)
    resolved, _ = casedesk.case_create(
        actor=case_worker, channel="portal", category="overtime_pay", employer_id=tree.nantou_employer.pk,
        description="上个月国庆节加班三天，公司没有按三倍工资支付加班费。")
    casedesk.case_accept(actor=handler, case=resolved)
    resolved = casedesk.case_resolve(actor=handler, case=resolved, result="已协调公司按规定补发国庆加班费。")
    return {"case_worker": case_worker, "case": case, "active_case": active, "resolved_case": resolved}


def _membership(tree: Tree) -> dict:
    """A pending (and overdue) application, an active member with a pending correction, a member
    moving to the 南头街道 union, a validated roster import: all in 南山区, none of them `worker`'s."""
    root = tree.root_admin

    def joined(name: str, birth: datetime.date) -> tuple[User, Application]:
        user = WorkerFactory(display_name=name)
        app, _ = membership.application_submit(
            actor=user, name=name, id_number=make_id_number("440305", birth), employment_form="labor_contract",
            consent=True, employer_id=tree.nantou_employer.pk)
        return user, app

    applicant, application = joined("李申请", datetime.date(1991, 3, 8))
    member_user, app = joined("王会员", datetime.date(1988, 6, 1))
    member = membership.application_approve(actor=root, application=app)
    mover_user, app = joined("赵转出", datetime.date(1985, 11, 20))
    mover = membership.application_approve(actor=root, application=app)
    transfer, _ = membership.transfer_request(actor=mover_user, member=mover, employment_form="flexible",
                                              division_code="440305001")
    correction = membership.change_request_submit(actor=member_user, member=member, changes={"job_title": "装配工"})
    membership.overdue_escalate(now=application.due_at + datetime.timedelta(seconds=1))
    application.refresh_from_db()
    member.refresh_from_db()
    mover.refresh_from_db()
    return {"applicant": applicant, "application": application, "member_user": member_user, "member": member,
            "correction": correction, "mover_user": mover_user, "mover": mover, "transfer": transfer,
            "roster_import": _roster_import(tree)}


ROSTER_CSV = "姓名,身份证号,用工形式\n钱花名,{},劳动合同\n孙花名,{},劳动合同\n"


def roster_csv() -> bytes:
    return ROSTER_CSV.format(make_id_number("440305", datetime.date(1992, 1, 2)),
                             make_id_number("440305", datetime.date(1993, 2, 3))).encode()


def _roster_import(tree: Tree) -> RosterImport:
    """Two valid rows for 南头精密's union, uploaded and validated (ready to commit)."""
    job = import_create(actor=tree.root_admin, org=tree.nantou_union,
                        upload=SimpleUploadedFile("花名册.csv", roster_csv(), content_type="text/csv"),
                        employer=tree.nantou_employer)
    return roster_validate_run(job.pk)


# --- The `world` fixture -------------------------------------------------------------------------
# Building the world takes most of a second. A module that sets WORLD_ONCE_PER_MODULE = True gets it
# built once, inside a transaction that stays open for the whole module and is rolled back at its
# end; each test's own transaction (the `db` fixture) nests in it as a savepoint, so every test starts
# from exactly the rows the world was built with and whatever it writes is undone. Each test gets its
# own deep copy of the Python objects (as Django does for setUpTestData), so a test that changes an
# instance in memory (a save, a refresh, a cached relation) leaves nothing behind for the next.
# Such a module must not hold transactional tests (they would run inside the open transaction and
# flush it): the module fixture refuses to start if it does.


@pytest.fixture(scope="module")
def world_once(request, django_db_setup, django_db_blocker):
    """The module's pristine world, for modules with WORLD_ONCE_PER_MODULE = True (else None)."""
    if not getattr(request.module, "WORLD_ONCE_PER_MODULE", False):
        yield None
        return
    clash = [item.name for item in request.session.items
             if item.module is request.module and is_transactional(item)]
    if clash:
        raise pytest.UsageError(f"{request.module.__name__} builds its world once (WORLD_ONCE_PER_MODULE) and "
                                f"so cannot hold transactional tests: {', '.join(clash)}")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as Django's TestCase marks its own: durable blocks nest inside it
        outer.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(world_once, db) -> World:
    if world_once is None:
        return build_world()
    return copy.deepcopy(world_once)


def rollups_of(orgs) -> dict:
    from gonghui.analytics.rollups import rollup_read

    return {org.name: {k: v for k, v in rollup_read(org.pk).items() if v} for org in orgs}


def assert_rollups_match_rebuild(*orgs) -> None:
    """The incrementally kept totals equal a recount from the rows, for every metric of these nodes."""
    from gonghui.analytics.rollups import rollup_rebuild

    incremental = rollups_of(orgs)
    rollup_rebuild()
    assert incremental == rollups_of(orgs)

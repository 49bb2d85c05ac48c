"""Demo legal-affairs work in Nanshan (and one file in Futian), made through the real services so the
console's legal-aid ledger, the roster, a lawyer's phone view, the worker's files and the 一函两书
pages all have something to show. Built after the demo cases; deterministic."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.casedesk import services as case_services
from gonghui.casedesk.models import Case, CaseStatus
from gonghui.orgs.models import Employer, OrgKind, OrgUnit

from . import aid, supervision
from .models import AidApplication

# A demo worker's phone is the roster phone of a demo lawyer: signing in with it on the portal shows
# 法律援助 → 指派给我承办的案件.
LAWYER_PHONE = "13800138059"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256

STORIES = [
    ("wages", "公司从今年七月起拖欠我和同车间十几名工友的工资，每人约一万二千元，老板一直说资金紧张，"
              "请工会帮我们申请劳动仲裁，要回工资和经济补偿。", 14, "168000"),
    ("dismissal", "我在公司做了六年质检员，上个月公司以“末位淘汰”为由解除劳动合同，没有任何补偿，"
                  "我认为是违法解除，要求支付赔偿金。", 1, "96000"),
    ("injury", "今年五月在车间被冲床压伤右手，已认定工伤、鉴定九级，公司拒绝支付一次性伤残就业补助金，"
               "请求工会提供法律援助。", 1, "85000"),
    ("contract", "入职十个月公司一直没有签书面劳动合同，现在让我离职，我想要回未签合同期间的二倍工资。", 1, "42000"),
    ("women", "怀孕四个月被公司调到仓库搬货，不同意就说我旷工要开除我，请工会帮我维权。", 1, None),
    ("hours", "公司要求每天工作十二小时，每月只休两天，加班费按最低工资算，要求补发加班工资。", 30, "210000"),
    ("social_insurance", "公司三年没有给我缴社会保险，现在我生病住院医药费全部自费，要求公司赔偿损失。", 1, "38000"),
]


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def seed_legal(*, county: User, futian: User, grassroots: User, supervisor: User) -> dict:
    """county: 南山区's admin (supervisor case role); futian: 福田区's; grassroots: a 南头 grassroots admin."""
    nanshan = county.home_org
    with transaction.atomic():
        lawyers = [
            aid.provider_save(actor=county, org=nanshan, data={
                "kind": "lawyer", "name": "王明", "firm": "广东南山律师事务所", "licence_no": "14403201910123456",
                "phone": LAWYER_PHONE, "expertise": ["wages", "dismissal", "contract"], "region_code": "440305",
                "max_active": 8}),
            aid.provider_save(actor=county, org=nanshan, data={
                "kind": "lawyer", "name": "刘红", "firm": "广东前海律师事务所", "licence_no": "14403201510654321",
                "phone": "13912300002", "expertise": ["women", "injury", "social_insurance"], "max_active": 6}),
            aid.provider_save(actor=county, org=nanshan, data={
                "kind": "union_staff", "name": "陈立", "phone": "13912300003", "expertise": ["wages", "hours"],
                "region_code": "440305", "max_active": 10}),
            aid.provider_save(actor=county, org=nanshan, data={
                "kind": "volunteer", "name": "赵敏", "firm": "深圳大学法学院", "phone": "13912300004",
                "expertise": ["platform", "contract"], "max_active": 4}),
        ]
        workers = list(User.objects.filter(username__startswith="demo-worker-").order_by("username")[40:48])
        nanshan_employers = list(Employer.objects.filter(org_path__startswith=nanshan.path).order_by("id")[:8])
        files = []
        for i, (category, facts, involved, amount) in enumerate(STORIES):
            files.append(aid.aid_apply(
                actor=workers[i], category=category, facts=facts, employer_id=nanshan_employers[i % len(
                    nanshan_employers)].pk, workers_involved=involved, amount_claimed=amount, hardship=(i == 4),
                documents=[("identity", _upload("身份证.jpg")), ("evidence", _upload("证据.jpg"))]
                + ([("hardship", _upload("困难职工证.jpg"))] if i == 4 else [])))
        # 0: waiting for a decision; 1: asked for documents; 2: approved, waiting for a lawyer;
        # 3: with the lawyer, in arbitration, a hearing next week; 4: mediated and concluded;
        # 5: won at arbitration and archived; 6: rejected.
        aid.aid_request_documents(actor=county, application=files[1], text="请补充解除劳动合同通知书和近一年工资流水")
        aid.aid_approve(actor=county, application=files[2], note="材料齐全，符合援助条件")
        for index, lawyer in ((3, lawyers[0]), (4, lawyers[1]), (5, lawyers[2])):
            aid.aid_approve(actor=county, application=files[index])
            aid.aid_assign(actor=county, application=files[index], provider_id=lawyer.pk)
        today = timezone.localdate()
        aid.aid_stage_add(actor=county, application=files[3], kind="arbitration", started_on=today - datetime.timedelta(
            days=12), forum="深圳市南山区劳动人事争议仲裁委员会", docket_no="深南劳人仲案〔2026〕1288号")
        aid.aid_deadline_add(actor=county, application=files[3], title="仲裁开庭",
                             due_at=timezone.now() + datetime.timedelta(days=6), place="南山区劳动人事争议仲裁院第二仲裁庭")
        aid.aid_stage_add(actor=county, application=files[4], kind="mediation",
                          started_on=today - datetime.timedelta(days=20), forum="南山区劳动争议调解中心")
        aid.aid_conclude(actor=county, application=files[4], outcome="mediated", amount_awarded="30000",
                         amount_recovered="30000", closing_report="经调解中心调解，公司同意撤销调岗决定、恢复原岗位，"
                         "并支付孕期被扣工资及补偿共三万元，已当场付清，申请人满意。")
        stage = aid.aid_stage_add(actor=county, application=files[5], kind="arbitration",
                                  started_on=today - datetime.timedelta(days=50), forum="深圳市南山区劳动人事争议仲裁委员会")
        aid.aid_stage_decision(actor=county, application=files[5], stage_id=stage.pk,
                               received_on=today - datetime.timedelta(days=8), result="裁决公司支付加班工资十八万元")
        aid.aid_conclude(actor=county, application=files[5], outcome="award_won", amount_awarded="180000",
                         amount_recovered="150000", closing_report="仲裁裁决支持申请人大部分请求，公司未起诉，"
                         "已支付十五万元，余款约定下月付清，承办人继续跟踪。")
        aid.aid_archive(actor=supervisor, application=files[5])
        aid.aid_reject(actor=county, application=files[6], reason="申请人已委托律师代理并已立案，不再重复提供援助")
        # A 12351 case referred by its handler.
        case = (Case.objects.filter(status=CaseStatus.IN_PROGRESS, category__code="wage_arrears", legal_aid_ref="")
                .order_by("id").first())
        if case is not None:
            handler = grassroots if case.org_path.startswith(grassroots.home_org.path) else county
            if not case.org_path.startswith(handler.home_org.path):
                handler = supervisor
            case_services.case_refer_legal_aid(actor=handler, case=case, note="企业拒不支付，职工要求申请劳动仲裁")
        # One application in Futian (Nanshan's sibling sees none of it).
        futian_org = OrgUnit.objects.filter(division_id="440304", kind=OrgKind.COUNTY).first()
        futian_employer = Employer.objects.filter(org_path__startswith=futian_org.path).order_by("id").first()
        if futian_employer is not None:
            aid.aid_apply(actor=workers[7], category="wages", employer_id=futian_employer.pk,
                          facts="离职两个月了，公司一直不结算最后一个月工资和提成，共九千多元，请求法律援助。",
                          amount_claimed="9300")

        # 一函两书 in Nanshan: a record after a wage-arrears cluster, an opinion delivered and overdue for
        # a reply soon, a reminder answered and rectified; a grassroots union's record asking the county
        # for a 建议书.
        aid.policy_set(actor=county, org=nanshan, data={"letter_prefix": "深南工",
                                                        "letter_contact": "联系人：李明　联系电话：0755-26661234"})
        employer = nanshan_employers[1]
        monitors = [{"name": "李明", "cert_no": "粤工监4403050012"}, {"name": "王芳", "cert_no": "粤工监4403050027"}]
        record = supervision.record_create(
            actor=county, org_id=nanshan.pk, trigger="inspection", employer_id=employer.pk,
            inspected_on=today - datetime.timedelta(days=9), monitors=monitors, workers_affected=36,
            findings="经现场检查和查阅工资台账，该公司自今年七月起未按月足额支付36名职工工资，"
                     "且未与其中12名职工订立书面劳动合同。",
            articles=[{"law": "劳动合同法", "article": 30}, {"law": "劳动合同法", "article": 82},
                      {"law": "劳动法", "article": 50}])
        opinion = supervision.letter_issue(actor=county, letter=supervision.letter_draft(
            actor=county, record=record, kind="opinion"))
        supervision.letter_deliver(actor=county, letter=opinion, method="直接送达", received_by="张经理")
        reminder = supervision.letter_issue(actor=county, letter=supervision.letter_draft(
            actor=county, record=record, kind="reminder"))
        supervision.letter_deliver(actor=county, letter=reminder, method="电子送达")
        supervision.letter_reply(actor=county, letter=reminder, text="公司已收到提示函，将于本月底前补签劳动合同。")
        supervision.letter_rectified(actor=county, letter=reminder, text="已与12名职工补签书面劳动合同。")
        grassroots_record = supervision.record_create(
            actor=grassroots, org_id=grassroots.home_org.pk, trigger="report",
            employer_id=Employer.objects.filter(org_path__startswith=grassroots.home_org.path).order_by("id").first().pk,
            inspected_on=today - datetime.timedelta(days=3), monitors=monitors[:1] + [{"name": "周强"}],
            findings="职工反映车间夏季高温作业未发放高温津贴，经核实属实，涉及职工80人。", workers_affected=80,
            articles=[{"law": "劳动法", "article": 54}])
        supervision.record_escalate(actor=grassroots, record=grassroots_record, note="单位拒不整改，提请区总工会发出建议书")
    return {"aid": AidApplication.objects.count(), "providers": len(lawyers)}

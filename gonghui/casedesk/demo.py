"""Demo cases: sixty days of 12351 work in Nanshan and Futian, made through the real services and
then moved back in time, so that the boards, the 督办 escalations, the callback ratings, a wage
arrears cluster and the stats trend all have something to show. Deterministic (fixed seed); built
after the demo unions, staff and workers, before the rollups are rebuilt."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from gonghui.accounts.models import User
from gonghui.orgs.models import CASE_ROLE_RANK, CaseRole, Employer, OrgKind, OrgUnit
from gonghui.orgs.selectors import actor_scope

from . import services
from .models import Case, CaseEvent, ClusterAlert

HANDLER = CASE_ROLE_RANK[CaseRole.HANDLER]
# (category, what happened, workers affected, amount owed)
STORIES = [
    ("wage_arrears", "公司已经两个月没有发工资了，老板说等客户回款再发，车间里好多人都没拿到。", 12, "48000"),
    ("wage_arrears", "离职已经一个月，最后一个月的工资和加班费一直不结算，打电话也不接。", 1, "6800"),
    ("overtime_pay", "每周六都要加班，但是工资条上从来没有加班费，问了主管说是综合工时。", 30, None),
    ("no_contract", "入职半年了公司一直没有和我签劳动合同，现在说要辞退我，不知道能不能要二倍工资。", 1, None),
    ("no_insurance", "公司只给我们买了意外险，没有交社保，想知道应该怎么要求公司补缴。", 8, None),
    ("dismissal", "怀孕后被主管约谈，让我自己写辞职信，不写就调到很远的仓库上班。", 1, None),
    ("injury_recognition", "上班时被机器压伤了手指，公司不给申请工伤，只给了两千块钱让我回家休息。", 1, "20000"),
    ("platform_pay", "外卖平台最近改了超时罚款规则，下雨天也照样罚，一单扣的比挣的还多。", 40, None),
    ("platform_injury", "送餐路上被车撞了，平台说我不是员工，保险公司也推来推去，医药费都是自己垫的。", 1, "15000"),
    ("excess_hours", "工厂要求每天上班十二个小时，一个月只休两天，不加班就扣全勤奖。", 60, None),
    ("leave", "工作满五年了，公司说年假要看领导批不批，没有休的也不给钱，想问问怎么算。", 1, None),
    ("severance", "公司搬迁到东莞，不愿意去的要我们自己辞职，一分补偿都没有。", 25, "300000"),
    ("hazard", "车间夏天温度很高，没有发高温补贴，也没有防暑用品，已经有人中暑了。", 80, None),
    ("hardship_relief", "爱人生病住院，家里还有两个孩子上学，想问工会有没有困难帮扶。", 1, None),
]
CLUSTER_STORY = "公司拖欠我们三个月工资，老板说资金链断了，厂里的人都在找。"
CONSULTATIONS = [
    ("probation", "试用期最长可以约定多久？", "劳动合同期限一年以上不满三年的，试用期不得超过二个月；三年以上"
     "固定期限和无固定期限的，不得超过六个月（《劳动合同法》第十九条）。"),
    ("join", "我是外卖骑手，可以加入工会吗？怎么入会？", "可以。平台网约劳动者可以通过工会一网通“一键入会”，"
     "选择平台网约的用工形式，申请会自动送到平台工会或所在地的工会。"),
    ("housing_fund", "公司可以不给交住房公积金吗？", "单位应当为职工缴存住房公积金，可以向当地住房公积金管理中心投诉。"),
]
RESULTS = [
    "经街道工会约谈企业负责人，企业已结清所欠工资并承诺按月足额发放。",
    "经协调，企业已与职工补签劳动合同，并支付未签合同期间的二倍工资差额。",
    "已指导职工申请工伤认定，企业已补办工伤申报手续并垫付医疗费用。",
    "工会联合人社部门调解，企业同意按规定支付经济补偿。",
]


@dataclass
class Cast:
    hotline: User  # the city's 12351 agent
    supervisor: User  # the city's supervisor
    county: User  # 南山区
    township: User  # 南头街道
    grassroots: User  # the demo grassroots union
    futian: User  # 福田区


def _shift(case: Case, days: float) -> None:
    """Move a case and its steps back in time by `days` (the services stamp everything 'now')."""
    delta = datetime.timedelta(days=days)
    fields = ["created_at", "accepted_at", "resolved_at", "closed_at", "accept_due_at", "accept_warn_at",
              "complete_due_at", "complete_warn_at", "due_at", "paused_at", "rated_at", "qc_at"]
    Case.objects.filter(pk=case.pk).update(**{f: F(f) - delta for f in fields})
    CaseEvent.objects.filter(case=case).update(created_at=F("created_at") - delta)


def seed_cases(cast: Cast, rng: random.Random | None = None) -> dict:
    rng = rng or random.Random(2026)
    workers = list(User.objects.filter(username__startswith="demo-worker-").order_by("username")[20:60])
    nantou_employers = list(Employer.objects.filter(org_path__startswith=cast.township.home_org.path)
                            .order_by("id")[:12])
    futian = OrgUnit.objects.filter(division_id="440304", kind=OrgKind.COUNTY).first()
    futian_employers = list(Employer.objects.filter(org_path__startswith=futian.path).order_by("id")[:6]) if futian else []
    nanshan_employers = list(Employer.objects.filter(org_path__startswith=cast.county.home_org.path)
                             .exclude(org_path__startswith=cast.township.home_org.path).order_by("id")[:10])
    employers = nantou_employers + nanshan_employers + futian_employers
    cases = []
    with transaction.atomic():
        for i, worker in enumerate(workers[:30]):
            category, story, affected, owed = STORIES[i % len(STORIES)]
            employer = nantou_employers[0] if i < 4 else rng.choice(employers)
            case, _ = services.case_create(
                actor=worker, channel="portal", category=category, description=story, employer_id=employer.pk,
                workers_affected=affected, amount_claimed=owed, protect_identity=(i % 5 == 1),
                contact_preference=rng.choice(["", "工作日晚上联系", "请发短信"]))
            cases.append(case)
        # A wage-arrears cluster: five more workers of one employer within days (the alert fires).
        cluster_employer = nantou_employers[1] if len(nantou_employers) > 1 else nantou_employers[0]
        for worker in workers[30:35]:
            case, _ = services.case_create(actor=worker, channel="portal", category="wage_arrears",
                                           description=CLUSTER_STORY, employer_id=cluster_employer.pk,
                                           workers_affected=rng.randint(1, 5), amount_claimed="15000")
        # Calls to 12351: one recorded as a case, three answered on the spot.
        hotline_case, _ = services.case_create(
            actor=cast.hotline, channel="hotline", category="wage_arrears", name="陈师傅", phone="13912345678",
            description="来电人反映在工地干了三个月，包工头跑了，工钱一直没拿到，同一个工地还有十几个人。",
            employer={"name": "南山区某建筑工地劳务班组", "division_code": "440305001"}, workers_affected=15,
            amount_claimed="90000")
        cases.append(hotline_case)
        for category, question, answer in CONSULTATIONS:
            services.consultation_close(actor=cast.hotline, category=category, question=question, answer=answer,
                                        phone=f"1391234{rng.randint(1000, 9999)}")
        handled = _work(cast, cases, rng)
    services.deadline_sweep()  # the backdated ones go overdue: warnings and 督办 on the parents' boards
    return {"cases": Case.objects.count(), "handled": handled,
            "clusters": ClusterAlert.objects.filter(status=ClusterAlert.Status.OPEN).count()}


def _handler_for(cast: Cast, case: Case) -> User:
    """The most local demo handler whose case role covers the case's union."""
    for user in (cast.grassroots, cast.township, cast.county, cast.futian):
        if actor_scope(user).case_rank_at(case.org_path) >= HANDLER:
            return user
    return cast.supervisor


def _work(cast: Cast, cases: list[Case], rng: random.Random) -> int:
    """Walk the cases through the desk, then spread them over the last sixty days: waiting ones a
    few days back (some overdue), finished ones up to two months."""
    handled = 0
    waiting = 0
    for i, case in enumerate(cases):
        stage = i % 6
        if stage == 0:  # still waiting to be accepted
            # The first three long enough that they are overdue on any day the demo is seeded (the
            # limit counts working days: seeded on a Friday night, four calendar days are not enough).
            _shift(case, rng.uniform(8, 12) if waiting < 3 else rng.uniform(0.1, 4))
            waiting += 1
            continue
        handler = _handler_for(cast, case)
        case = services.case_accept(actor=handler, case=case)
        services.case_note(actor=handler, case=case, text="已电话联系职工，了解基本情况，准备约谈企业。")
        if stage == 1:  # in progress
            _shift(case, rng.uniform(0.1, 9))
            handled += 1
            continue
        if stage == 2:
            services.case_request_info(actor=handler, case=case, text="请补充工资条、考勤记录或聊天记录截图。")
            _shift(case, rng.uniform(0.5, 6))
            handled += 1
            continue
        services.case_reply(actor=handler, case=case, text="工会已受理，正在与企业沟通，请保持电话畅通。")
        case = services.case_resolve(actor=handler, case=case, result=rng.choice(RESULTS),
                                     money_recovered=rng.choice(["0", "6800", "12000", "48000"]),
                                     workers_helped=case.workers_affected)
        if stage >= 4:
            token = services.callback_link_issue(case)
            services.callback_rate(token=token, score=rng.choice([5, 5, 4, 4, 3]),
                                   comment=rng.choice(["处理很及时，谢谢工会", "", "希望以后多来厂里看看"]))
            if stage == 5:
                services.case_close(actor=cast.supervisor, case=case, note="回访满意，办理规范")
        handled += 1
        _shift(case, rng.uniform(1, 58))
    return handled

"""The seeded case taxonomy: subject groups and their items, with the colloquial words workers use
(searched by the intake form and the hotline desk). National admins edit it; provinces add items."""

from __future__ import annotations

from .models import CaseKind, Difficulty

# (code, name, description, keywords, default kind, default difficulty, [items with the same shape])
SEED: list[tuple] = [
    ("wages", "劳动报酬", "工资、加班费、最低工资", "工资 薪水 报酬", CaseKind.PROBLEM, Difficulty.NORMAL, [
        ("wage_arrears", "欠薪", "拖欠、克扣工资", "欠薪 拖欠工资 不发工资 克扣 讨薪 工资没发 押工资", CaseKind.PROBLEM,
         Difficulty.NORMAL),
        ("overtime_pay", "加班费", "加班工资、值班费", "加班费 加班工资 双休加班 节假日加班", CaseKind.PROBLEM, Difficulty.NORMAL),
        ("minimum_wage", "最低工资", "低于当地最低工资标准", "最低工资 工资太低", CaseKind.COMPLAINT, Difficulty.NORMAL),
    ]),
    ("contract", "劳动合同", "签订、变更、试用期、劳务派遣", "合同 劳动合同", CaseKind.PROBLEM, Difficulty.NORMAL, [
        ("no_contract", "未签劳动合同", "未订立书面劳动合同、二倍工资", "没签合同 不签合同 二倍工资 口头约定", CaseKind.PROBLEM,
         Difficulty.NORMAL),
        ("probation", "试用期", "试用期期限、工资", "试用期 转正", CaseKind.CONSULTATION, Difficulty.NORMAL),
        ("dispatch", "劳务派遣", "派遣用工、同工同酬", "派遣 劳务派遣 外包 同工同酬", CaseKind.PROBLEM, Difficulty.DIFFICULT),
    ]),
    ("termination", "解除劳动关系与经济补偿", "辞退、开除、经济补偿", "辞退 开除 解除 裁员 补偿", CaseKind.PROBLEM,
     Difficulty.DIFFICULT, [
        ("dismissal", "违法解除", "被辞退、开除、劝退", "辞退 开除 炒鱿鱼 被解雇 劝退 违法解除", CaseKind.PROBLEM,
         Difficulty.DIFFICULT),
        ("severance", "经济补偿", "经济补偿金、赔偿金", "经济补偿 补偿金 N+1 赔偿金", CaseKind.PROBLEM, Difficulty.DIFFICULT),
        ("layoff", "经济性裁员", "集体裁员、关停搬迁", "裁员 关厂 搬迁 倒闭 老板跑路", CaseKind.PROBLEM, Difficulty.COMPLEX),
    ]),
    ("insurance", "社会保险", "社保缴纳、待遇", "社保 五险一金 保险", CaseKind.PROBLEM, Difficulty.NORMAL, [
        ("no_insurance", "未缴社保", "未缴、少缴社会保险费", "不交社保 没买社保 少缴 断缴 五险一金", CaseKind.PROBLEM,
         Difficulty.NORMAL),
        ("housing_fund", "住房公积金", "公积金缴存", "公积金", CaseKind.CONSULTATION, Difficulty.NORMAL),
    ]),
    ("injury", "工伤", "工伤认定、待遇、职业病", "工伤 受伤 职业病", CaseKind.PROBLEM, Difficulty.DIFFICULT, [
        ("injury_recognition", "工伤认定", "申请工伤认定、劳动能力鉴定", "工伤认定 受伤 摔伤 上班路上 伤残鉴定", CaseKind.PROBLEM,
         Difficulty.DIFFICULT),
        ("occupational_disease", "职业病", "职业病诊断与待遇", "职业病 尘肺 噪音", CaseKind.PROBLEM, Difficulty.COMPLEX),
    ]),
    ("hours", "工时与休假", "工作时间、休息休假", "工时 休假 加班", CaseKind.COMPLAINT, Difficulty.NORMAL, [
        ("excess_hours", "超时加班", "强制加班、超时工作", "强制加班 996 超时 没有休息", CaseKind.COMPLAINT, Difficulty.NORMAL),
        ("leave", "休假", "年休假、婚假、病假", "年假 婚假 病假 休假 带薪", CaseKind.CONSULTATION, Difficulty.NORMAL),
    ]),
    ("women", "女职工权益", "孕期、产期、哺乳期保护", "女职工 怀孕 产假", CaseKind.PROBLEM, Difficulty.NORMAL, [
        ("maternity", "孕产期保护", "孕期被辞退、产假、生育津贴", "怀孕 产假 生育津贴 哺乳 孕期辞退", CaseKind.PROBLEM,
         Difficulty.DIFFICULT),
        ("harassment", "性骚扰", "工作场所性骚扰", "性骚扰 骚扰", CaseKind.COMPLAINT, Difficulty.DIFFICULT),
    ]),
    ("platform", "平台用工", "快递员、外卖骑手、网约车司机等", "平台 骑手 快递 网约车 司机", CaseKind.PROBLEM,
     Difficulty.DIFFICULT, [
        ("platform_pay", "平台报酬与抽成", "派单、计件、抽成、罚款", "抽成 罚款 派单 计件 扣钱 超时罚款", CaseKind.PROBLEM,
         Difficulty.DIFFICULT),
        ("platform_injury", "职业伤害保障", "新就业形态职业伤害", "职业伤害 送餐受伤 车祸", CaseKind.PROBLEM, Difficulty.DIFFICULT),
        ("platform_account", "封号与规则", "封号、算法规则", "封号 算法 规则 降级", CaseKind.COMPLAINT, Difficulty.NORMAL),
    ]),
    ("membership", "入会与会籍", "入会、转会、会员卡", "入会 会员 会籍", CaseKind.CONSULTATION, Difficulty.NORMAL, [
        ("join", "入会咨询", "如何入会、审批进度", "入会 加入工会 审批", CaseKind.CONSULTATION, Difficulty.NORMAL),
        ("transfer", "会员关系接转", "换工作后会籍接转", "转会 接转 换工作", CaseKind.CONSULTATION, Difficulty.NORMAL),
    ]),
    ("hardship", "困难帮扶", "困难职工、大病、子女就学", "困难 帮扶 救助", CaseKind.HELP, Difficulty.NORMAL, [
        ("hardship_relief", "生活困难救助", "生活困难、大病救助", "困难 大病 救助 送温暖", CaseKind.HELP, Difficulty.NORMAL),
        ("education_aid", "助学", "子女就学", "助学 上学 学费", CaseKind.HELP, Difficulty.NORMAL),
    ]),
    ("safety", "劳动安全卫生", "安全隐患、防护用品", "安全 隐患 防护", CaseKind.COMPLAINT, Difficulty.NORMAL, [
        ("hazard", "安全隐患", "安全生产隐患、高温作业", "隐患 高温 防护用品 安全", CaseKind.COMPLAINT, Difficulty.NORMAL),
    ]),
    ("other", "其他", "其他诉求与建议", "其他 建议", CaseKind.SUGGESTION, Difficulty.NORMAL, [
        ("suggestion", "意见建议", "对工会工作的意见建议", "建议 意见", CaseKind.SUGGESTION, Difficulty.NORMAL),
        ("other_matter", "其他事项", "以上分类之外", "其他", CaseKind.CONSULTATION, Difficulty.NORMAL),
    ]),
]


def seed(CaseCategory) -> int:  # noqa: N803 - the model class (the historical one in migrations)
    """Create the seeded categories that are missing; returns how many were created."""
    created = 0
    for g_sort, (code, name, desc, words, kind, difficulty, items) in enumerate(SEED, start=1):
        group, made = CaseCategory.objects.get_or_create(code=code, defaults=dict(
            name=name, description=desc, keywords=words, default_kind=kind, default_difficulty=difficulty,
            sort=g_sort * 10))
        created += made
        for i_sort, (i_code, i_name, i_desc, i_words, i_kind, i_difficulty) in enumerate(items, start=1):
            _item, made = CaseCategory.objects.get_or_create(code=i_code, defaults=dict(
                name=i_name, parent=group, description=i_desc, keywords=i_words, default_kind=i_kind,
                default_difficulty=i_difficulty, sort=i_sort * 10))
            created += made
    return created

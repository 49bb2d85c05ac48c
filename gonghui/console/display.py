"""How console pages word things: audit actions and changes, member statuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from gonghui.core.models import AuditEntry
from gonghui.orgs.models import OrgKind, Role

ACTION_LABELS = {
    "org.create": "新建工会",
    "org.update": "修改工会信息",
    "org.move_request": "申请调整隶属",
    "org.move": "调整隶属完成",
    "employer.create": "登记用人单位",
    "employer.update": "修改用人单位",
    "employer.reassign": "单位划归工会",
    "employer.export": "导出用人单位名录",
    "staff.create": "新建工作人员账户",
    "staff.totp_enrol": "绑定动态口令",
    "staff.login": "工作人员登录",
    "staff.locked": "账户因多次登录失败被临时锁定",
    "grant.create": "授予角色",
    "grant.update": "调整角色",
    "grant.revoke": "撤销角色",
    "worker.register": "职工注册",
    "worker.profile_update": "职工修改资料",
    "membership.apply": "申请入会",
    "membership.approve": "批准入会",
    "membership.reject": "不予批准入会",
    "membership.withdraw_application": "撤回入会申请",
    "membership.escalate": "入会申请超时，提请督办",
    "membership.retain": "保留会籍",
    "membership.suspend": "暂停会籍",
    "membership.reinstate": "恢复会籍",
    "membership.withdraw": "退会",
    "membership.deceased": "登记会员去世",
    "membership.card_revoke": "作废会员卡二维码",
    "membership.reveal": "查看完整个人信息",
    "membership.export": "导出会员名册",
    "membership.stats_export": "导出会员统计",
    "membership.policy": "设置入会政策",
    "membership.transfer_request": "申请会员关系接转",
    "membership.transfer_accept": "办理接转接收",
    "membership.transfer_cancel": "取消会员关系接转",
    "membership.transfer_escalate": "接转超时，提请督办",
    "membership.change_request": "提交信息更正",
    "membership.change_approve": "同意信息更正",
    "membership.change_reject": "不予信息更正",
    "membership.evidence_view": "查看更正证明材料",
    "membership.link_account": "会员关联职工账户",
    "membership.import_create": "上传花名册",
    "membership.import_commit": "确认导入花名册",
    "membership.import_resume": "继续导入花名册",
    "membership.import_cancel": "取消花名册导入",
    "membership.import_errors": "下载花名册错误报告",
    "membership.import_done": "花名册导入完成",
    "case.create": "登记职工诉求",
    "case.consult": "热线当场解答",
    "case.accept": "受理诉求",
    "case.dispatch": "转办诉求",
    "case.return": "退回诉求",
    "case.note": "添加内部备注",
    "case.reply": "答复职工",
    "case.request_info": "请职工补充材料",
    "case.worker_info": "职工补充材料",
    "case.difficulty": "调整诉求难度",
    "case.resolve": "办结诉求",
    "case.rate": "回访评价",
    "case.close": "质检通过，结案",
    "case.qc_reject": "质检不通过，退回重办",
    "case.reopen": "重新办理诉求",
    "case.merge": "合并重复诉求",
    "case.withdraw": "职工撤回诉求",
    "case.legal_aid": "转介法律援助",
    "case.view": "查看保密身份诉求",
    "case.reveal": "查看诉求人完整电话",
    "case.attachment_view": "查看诉求附件",
    "case.cluster_handle": "处理群体性诉求预警",
    "case.category_create": "新增诉求分类",
    "case.category_update": "修改诉求分类",
    "case.time_limit": "设置办理时限",
    "case.stats_export": "导出诉求统计",
    "job.stats_export": "导出就业帮扶统计",
}


def _legal_labels() -> dict[str, str]:
    from gonghui.employment.services import AUDIT_LABELS as EMPLOYMENT
    from gonghui.legal.aid import AUDIT_LABELS as AID
    from gonghui.legal.supervision import AUDIT_LABELS as SUPERVISION

    return {**AID, **SUPERVISION, **EMPLOYMENT}


ACTION_LABELS.update(_legal_labels())

FIELD_LABELS = {
    "name": "名称",
    "kind": "类型",
    "division_id": "行政区划",
    "industry": "行业",
    "chair_name": "主席",
    "founded_on": "成立日期",
    "term_ends_on": "届满日期",
    "parent_id": "上级组织编号",
    "path": "路径",
    "uscc": "统一社会信用代码",
    "address": "地址",
    "employee_count": "职工人数",
    "is_platform": "平台企业",
    "org_id": "所属工会编号",
    "user": "人员",
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "include_descendants": "含下级组织",
    "device": "设备",
    "member_id": "会员记录编号",
    "member_no": "会员编号",
    "auto": "自动批准",
    "auto_approve": "自动批准",
    "decide_within_days": "审批时限（工作日）",
    "routing": "受理规则顺序",
    "rule": "受理规则",
    "due_at": "办理时限",
    "reason": "原因",
    "status": "状态",
    "field": "查看项目",
    "fields": "更正项目",
    "supervisor_id": "督办工会编号",
    "from_org_id": "转出工会编号",
    "to_org_id": "接收工会编号",
    "full_name": "含完整姓名",
}

MEMBER_STATUS_LABELS = {
    "active": "在会会员",
    "retained": "保留会籍",
    "transferring": "接转中",
    "suspended": "暂停",
    "gig": "新就业形态",
    "withdrawn": "已退会",
    "deceased": "已故",
}


_REVEAL_FIELDS = {"id_number": "身份证号", "phone": "手机号"}


def _value(key: str, value) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "kind" and value in OrgKind.values:
        return OrgKind(value).label
    if key == "role" and value in Role.values:
        return Role(value).label
    if key == "field" and value in _REVEAL_FIELDS:
        return _REVEAL_FIELDS[value]
    return str(value)


@dataclass
class AuditRow:
    entry: AuditEntry
    action_label: str
    org_name: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def audit_rows(entries: list[AuditEntry], org_names: dict[int, str]) -> list[AuditRow]:
    rows = []
    for entry in entries:
        before, after = entry.before or {}, entry.after or {}
        changes = []
        for key in list(dict.fromkeys([*before, *after])):
            label = FIELD_LABELS.get(key, key)
            old = _value(key, before.get(key)) if key in before else ""
            new = _value(key, after.get(key)) if key in after else ""
            changes.append((label, old, new))
        rows.append(
            AuditRow(
                entry=entry,
                action_label=ACTION_LABELS.get(entry.action, entry.action),
                org_name=org_names.get(entry.org_id, "") if entry.org_id else "",
                changes=changes,
            )
        )
    return rows


def member_stats(members: dict[str, int]) -> list[tuple[str, int]]:
    # members.* rollups also hold helper counts (members.at_counted_employers, members.new…): not shown.
    return [(MEMBER_STATUS_LABELS[k], members[k]) for k in MEMBER_STATUS_LABELS if k in members]

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
}

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
}

MEMBER_STATUS_LABELS = {
    "applying": "申请中",
    "active": "在会会员",
    "retained": "保留会籍",
    "transferred_out": "已转出",
    "suspended": "暂停",
    "withdrawn": "已退会",
    "deceased": "已故",
}


def _value(key: str, value) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "kind" and value in OrgKind.values:
        return OrgKind(value).label
    if key == "role" and value in Role.values:
        return Role(value).label
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
    known = [(MEMBER_STATUS_LABELS[k], members[k]) for k in MEMBER_STATUS_LABELS if k in members]
    other = [(k, v) for k, v in sorted(members.items()) if k not in MEMBER_STATUS_LABELS]
    return known + other

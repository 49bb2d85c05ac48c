"""The employment-help ledger (帮扶台账) as CSV, scoped to the actor's subtree, audited."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from gonghui.core.audit import audit_log
from gonghui.core.pii import mask_name
from gonghui.orgs.exports import _csv_line
from gonghui.orgs.models import ROLE_RANK, Role
from gonghui.orgs.selectors import actor_scope

from .selectors import help_ledger

COLUMNS = ["编号", "姓名", "帮扶类别", "需求", "受理工会", "意向工作地", "状态", "责任人", "申请日期", "服务次数",
           "服务记录", "就业单位", "就业日期", "月薪（元）", "帮扶天数", "结束说明"]


def help_ledger_csv(*, actor, org, status: str | None = None, group: str | None = None) -> Iterator[str]:
    """Record the export now (while the request's IP is known), then stream the rows of the node's
    subtree that the actor may see."""
    with transaction.atomic():
        audit_log(actor=actor, action="job_help.export", org=org, object_type="employment.helprequest",
                  object_repr=f"{org.name} 就业帮扶台账")
    # Full names for staff of the node (who may also reveal them one by one); masked for viewers.
    full_names = actor_scope(actor).rank_at(org.path) >= ROLE_RANK[Role.STAFF]
    return _rows(actor=actor, org=org, status=status, group=group, full_names=full_names)


def _rows(*, actor, org, status, group, full_names: bool, batch: int = 1000) -> Iterator[str]:
    yield "\ufeff" + _csv_line(COLUMNS)
    qs = help_ledger(actor=actor, status=status, group=group).filter(org_path__startswith=org.path) \
        .prefetch_related("services")
    last = None
    while True:
        page = qs.order_by("-id")
        if last is not None:
            page = page.filter(id__lt=last)
        rows = list(page[:batch])
        if not rows:
            return
        for r in rows:
            services = list(r.services.all())
            created = timezone.localtime(r.created_at).date()
            days = (r.placed_on - created).days if r.placed_on else ""
            yield _csv_line([
                r.number, r.name if full_names else mask_name(r.name), r.get_help_group_display(), r.needs, r.org.name, r.division.name,
                r.get_status_display(), (r.assigned_to.display_name or r.assigned_to.username) if r.assigned_to else "",
                created.isoformat(), len(services),
                "；".join(f"{s.served_on:%m-%d} {s.get_kind_display()}：{s.note}" for s in services),
                r.placed_employer, r.placed_on.isoformat() if r.placed_on else "", r.placed_salary or "", days,
                r.close_reason])
        last = rows[-1].pk

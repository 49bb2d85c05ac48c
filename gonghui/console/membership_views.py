"""The staff console's membership pages (会员工作): approval queue, 督办, members, transfers,
corrections, policy, numbers and roster imports.

Thin views over gonghui.membership's services and selectors, like views.py: every id from a request
is looked up through a selector (unknown and out-of-scope ids are both the console's 404), every
write is one service call, and a ServiceError becomes a Chinese message on the page.

Personal data: lists show masked names; ID numbers and phones are always masked, except one value
at a time through "显示完整…" (services.member_reveal, audited and rate limited). Searches by ID
number or phone are POSTed so they never end up in a URL, a log line or the browser history.
"""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import pii
from gonghui.core.audit import audit_log
from gonghui.core.errors import NotFound, ServiceError, ValidationFailed
from gonghui.core.files import private_file
from gonghui.membership import cards, routing, selectors, services
from gonghui.membership.models import (
    CARD_STATUSES,
    Application,
    ChangeRequest,
    Member,
    MemberStatus,
    RosterImport,
    Transfer,
)
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.exports import _csv_line as csv_line
from gonghui.orgs.models import LEAF_KINDS, ROLE_RANK, Role

from . import display
from .access import (
    claim_form_token,
    console_render,
    console_view,
    remember_form_result,
)
from .access import (
    form_token_context as _token,
)

STAFF = ROLE_RANK[Role.STAFF]
ADMIN = ROLE_RANK[Role.ADMIN]
PAGE = 30

QUEUE_STATUSES = {
    Application.Status.PENDING.value: "待审批",
    Application.Status.APPROVED.value: "已批准",
    Application.Status.REJECTED.value: "未通过",
}
TRANSFER_STATUSES = {s.value: s.label for s in Transfer.Status}
CORRECTION_STATUSES = {s.value: s.label for s in ChangeRequest.Status}
STATS_DAYS = (7, 30, 90)

EVENT_LABELS = {
    "join": "入会",
    "rejoin": "重新入会",
    "roster": "集体登记入会",
    "retain": "保留会籍",
    "suspend": "暂停会籍",
    "reinstate": "恢复会籍",
    "withdraw": "退会",
    "deceased": "登记去世",
    "transfer_request": "申请接转",
    "transfer_in": "接转转入",
    "transfer_cancel": "取消接转",
}
STINT_STARTS = {
    "application": "入会申请",
    "roster": "集体登记",
    "transfer": "接转转入",
    "retained_by_higher": "单位关闭，由上级工会保管",
}
STINT_ENDS = {"transferred": "转出", "withdraw": "退会", "deceased": "去世"}
CHANGE_LABELS = {**services.CHANGE_FIELDS, "employer_id": "所在单位"}

# Member status actions on the member page: action -> (target status, button label, needs a reason).
STATUS_ACTIONS = {
    "suspend": (MemberStatus.SUSPENDED, "暂停会籍", True),
    "reinstate": (MemberStatus.ACTIVE, "恢复正常", False),
    "withdraw": (MemberStatus.WITHDRAWN, "办理退会", True),
    "deceased": (MemberStatus.DECEASED, "登记去世", False),
}


# --- Helpers ----------------------------------------------------------------------------------------


def _rank(user, path: str) -> int:
    return org_selectors.actor_scope(user).rank_at(path)


def _choice(value, allowed, default=""):
    """A filter value from the query string, or the default when it is not one we offer."""
    return value if value in allowed else default


def _tabs(org) -> list[tuple[str, str, str]]:
    names = [
        ("queue", "入会审批", "console:membership_queue"),
        ("board", "督办", "console:membership_board"),
        ("members", "会员", "console:membership_members"),
        ("transfers", "接转", "console:membership_transfers"),
        ("corrections", "信息更正", "console:membership_corrections"),
        ("imports", "集体登记", "console:membership_imports"),
        ("stats", "统计", "console:membership_stats"),
        ("policy", "入会政策", "console:membership_policy"),
    ]
    return [(key, label, reverse(name, args=[org.pk])) for key, label, name in names]


def _node_render(request, org, tab: str, template: str, context: dict, status: int = 200):
    rank = _rank(request.user, org.path)
    base = {
        "org": org,
        "tab": tab,
        "tabs": _tabs(org),
        "rank": rank,
        "is_staff_rank": rank >= STAFF,
        "now": timezone.now(),
    }
    return console_render(request, template, {**base, **context}, status=status)


def _more_url(name: str, org, cursor: str | None, **params) -> str:
    """The "more" link of a keyset list: the same filters and the next cursor."""
    if not cursor:
        return ""
    query = urlencode({**{k: v for k, v in params.items() if v}, "cursor": cursor})
    return f"{reverse(name, args=[org.pk])}?{query}"


def _late(obj, now) -> bool:
    return obj.status == "pending" and obj.due_at < now


def _history_rows(entries) -> list:
    return display.audit_rows(entries, {})


# --- 1. Approval queue ------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def application_queue(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status = _choice(request.GET.get("status"), QUEUE_STATUSES, Application.Status.PENDING)
    overdue = request.GET.get("overdue") == "1"
    cursor = request.GET.get("cursor")
    apps, next_cursor = selectors.application_list(
        actor=user, node=org, status=status, overdue=overdue, cursor=cursor, limit=PAGE
    )
    now = timezone.now()
    for app in apps:
        app.is_late = _late(app, now)
    context = {
        "apps": apps,
        "next_cursor": next_cursor,
        "status": status,
        "overdue": overdue,
        "statuses": QUEUE_STATUSES,
        "status_label": QUEUE_STATUSES[status],
        "more_url": _more_url(
            "console:membership_queue", org, next_cursor, status=status, overdue="1" if overdue else ""
        ),
    }
    if request.htmx and cursor:
        return render(request, "console/membership/_queue_rows.html", {"org": org, **context})
    return _node_render(request, org, "queue", "console/membership/queue.html", context)


# --- 2. One application -----------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def application_detail(request, application_id):
    user = request.user
    app = selectors.application_get(actor=user, application_id=application_id)
    url = reverse("console:membership_application", args=[app.pk])
    error = reject_error = ""
    reason = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action")
        reason = request.POST.get("reason", "")
        try:
            if action == "approve":
                member = services.application_approve(actor=user, application=app)
                note = f"已批准入会：{member.name_masked}，会员编号 {member.member_no_display}"
            elif action == "reject":
                services.application_reject(actor=user, application=app, reason=reason)
                note = "已作出不予批准的决定，申请人会收到通知和原因"
            else:
                raise ValidationFailed("action_invalid", "请选择“批准入会”或“不予批准”", "action")
        except ServiceError as exc:
            if exc.field == "reason":
                reject_error = exc.message
            else:
                error = exc.message
            app = selectors.application_get(actor=user, application_id=app.pk)
        else:
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    rank = _rank(user, app.org_path)
    now = timezone.now()
    context = {
        "app": app,
        "org": app.org,
        "display_name": app.name if rank >= STAFF else app.name_masked,
        "rule_label": routing.RULE_LABELS.get(app.route_rule, app.route_rule),
        "is_late": _late(app, now),
        "can_decide": rank >= STAFF and app.status == Application.Status.PENDING,
        "history": _history_rows(selectors.application_history(app)),
        "error": error,
        "reject_error": reject_error,
        "reason": reason,
        "now": now,
        **_token(),
    }
    return console_render(request, "console/membership/application.html", context)


# --- 3. 督办 board ----------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def board(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    cursor = request.GET.get("cursor")
    apps, next_cursor = selectors.application_board(actor=user, node=org, cursor=cursor, limit=PAGE)
    now = timezone.now()
    for app in apps:
        app.is_late = _late(app, now)
    context = {"apps": apps, "more_url": _more_url("console:membership_board", org, next_cursor)}
    if request.htmx and cursor:
        return render(request, "console/membership/_board_rows.html", {"org": org, **context})
    context["notices"] = selectors.org_notices(actor=user, node=org)
    return _node_render(request, org, "board", "console/membership/board.html", context)


# --- 4. Members -------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def member_list(request, org_id):
    """GET: the roster by status. POST: an exact search (ID number, phone, member number or name),
    posted so that the search term is never part of a URL."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    data = request.POST if request.method == "POST" else request.GET
    status = _choice(data.get("status"), MemberStatus.values)
    q = (request.POST.get("q", "") if request.method == "POST" else "").strip()[:60]
    cursor = data.get("cursor")
    members, next_cursor = selectors.member_list(
        actor=user, node=org, status=status or None, q=q, cursor=cursor, limit=PAGE
    )
    context = {
        "members": members,
        "next_cursor": next_cursor,
        "status": status,
        "q": q,
        "statuses": MemberStatus.choices,
        "more_url": _more_url("console:membership_members", org, next_cursor, status=status),
    }
    if request.htmx and cursor:
        return render(request, "console/membership/_member_rows.html", {"org": org, **context})
    return _node_render(request, org, "members", "console/membership/members.html", context)


MEMBER_COLUMNS = [
    "会员编号",
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "所在工会",
    "用人单位",
    "用工形式",
    "会籍状态",
    "入会日期",
]


@require_GET
@console_view
def member_export(request, org_id):
    """The roster as CSV, streamed page by page through the member_list selector. Viewers get
    masked names; ID numbers and phones are masked for everyone. The export is audited first."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status = _choice(request.GET.get("status"), MemberStatus.values)
    full_name = _rank(user, org.path) >= STAFF
    # The first page is read now, so a bad parameter is an error page rather than a broken file.
    first = selectors.member_list(actor=user, node=org, status=status or None, limit=selectors.PAGE_MAX)
    with transaction.atomic():
        audit_log(
            actor=user,
            action="membership.export",
            org=org,
            object_type="membership.member",
            object_repr=f"{org.name} 会员名册",
            after={"status": status or "all", "full_name": full_name},
        )
    rows = _member_rows(user, org, status, first, full_name)
    return _csv_response(rows, f"members-{org.pk}.csv")


def _member_rows(user, org, status, first, full_name: bool):
    yield "\ufeff" + csv_line(MEMBER_COLUMNS)
    page, cursor = first
    while True:
        for m in page:
            yield csv_line(
                [
                    m.member_no,
                    m.name if full_name else m.name_masked,
                    m.get_gender_display(),
                    m.id_masked,
                    m.phone_masked,
                    m.org.name,
                    m.employer_label,
                    m.get_employment_form_display(),
                    m.get_status_display(),
                    m.joined_on.isoformat(),
                ]
            )
        if not cursor:
            return
        page, cursor = selectors.member_list(
            actor=user, node=org, status=status or None, cursor=cursor, limit=selectors.PAGE_MAX
        )


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- 5. One member ----------------------------------------------------------------------------------


def _member_actions(member: Member, rank: int) -> dict:
    if rank < STAFF:
        return {}
    allowed = services.MEMBER_TRANSITIONS.get(member.status, set())
    actions = {
        "retain": member.status == MemberStatus.ACTIVE and MemberStatus.RETAINED in allowed,
        "suspend": MemberStatus.SUSPENDED in allowed,
        # Transferring members are registered by the receiving union; withdrawn ones rejoin by applying.
        "reinstate": member.status in (MemberStatus.SUSPENDED, MemberStatus.RETAINED),
        "withdraw": MemberStatus.WITHDRAWN in allowed,
        "deceased": MemberStatus.DECEASED in allowed,
        "card_revoke": member.status in CARD_STATUSES,
    }
    return {key: on for key, on in actions.items() if on}


def _member_context(request, member: Member) -> dict:
    user = request.user
    rank = _rank(user, member.org_path)
    events = selectors.member_history(member)
    for event in events:
        event.action_label = EVENT_LABELS.get(event.action, event.action)
        event.from_label = MemberStatus(event.from_status).label if event.from_status in MemberStatus.values else "—"
        event.to_label = (
            MemberStatus(event.to_status).label if event.to_status in MemberStatus.values else event.to_status
        )
    stints = selectors.member_stints(member)
    for stint in stints:
        stint.start_label = STINT_STARTS.get(stint.how_started, stint.how_started)
        stint.end_label = STINT_ENDS.get(stint.how_ended, stint.how_ended)
    return {
        "member": member,
        "org": member.org,
        "display_name": member.name if rank >= STAFF else member.name_masked,
        "may_reveal": selectors.may_reveal(user, member),
        "actions": _member_actions(member, rank),
        "retain_reasons": Member.RetainReason.choices,
        "events": events,
        "stints": stints,
        "revealed": {},
        **_token(),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def member_detail(request, member_id):
    user = request.user
    member = selectors.member_get(actor=user, member_id=member_id)
    url = reverse("console:membership_member", args=[member.pk])
    error = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            note = _member_action(user, member, action, reason)
        except ServiceError as exc:
            error = exc.message
            member = selectors.member_get(actor=user, member_id=member.pk)
        else:
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    context = _member_context(request, member)
    context.update(
        error=error,
        error_action=request.POST.get("action", "") if error else "",
        reason=request.POST.get("reason", "") if error else "",
    )
    return console_render(request, "console/membership/member.html", context)


def _member_action(user, member: Member, action: str, reason: str) -> str:
    if action == "retain":
        services.member_retain(actor=user, member=member, reason=reason)
        return f"已保留会籍（{Member.RetainReason(reason).label}）"
    if action == "card_revoke":
        # cards.card_revoke does not check the actor's role itself.
        org_selectors.require_rank(user, member.org_path, Role.STAFF, "只有会员所在工会的工作人员可以作废会员卡二维码")
        cards.card_revoke(actor=user, member=member)
        return "已作废该会员此前的全部电子会员卡二维码，会员重新打开会员卡即生成新的二维码"
    if action in STATUS_ACTIONS:
        status, label, _ = STATUS_ACTIONS[action]
        services.member_set_status(actor=user, member=member, status=status, reason=reason)
        return f"已{label}"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


@never_cache
@require_POST
@console_view
def member_reveal(request, member_id):
    """One full ID number or phone, swapped in by htmx (or shown on the member page without JS)."""
    user = request.user
    member = selectors.member_get(actor=user, member_id=member_id)
    field = request.POST.get("field", "")
    value = error = ""
    status = 200
    try:
        value = services.member_reveal(actor=user, member=member, field=field)
    except ServiceError as exc:
        error, status = exc.message, exc.status
    if request.htmx:
        # htmx swaps only 2xx answers: the refusal is said in place of the button.
        response = render(
            request,
            "console/membership/_reveal.html",
            {"member": member, "field": field, "value": value, "error": error},
        )
    else:
        context = _member_context(request, member)
        context["revealed"] = {field: value} if value else {}
        context["error"] = error
        response = console_render(request, "console/membership/member.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- 6. Transfers -----------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def transfer_list(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    direction = _choice(request.GET.get("direction"), ("in", "out"), "in")
    status = _choice(request.GET.get("status"), TRANSFER_STATUSES, Transfer.Status.PENDING)
    cursor = request.GET.get("cursor")
    transfers, next_cursor = selectors.transfer_list(
        actor=user, node=org, direction=direction, status=status, cursor=cursor, limit=PAGE
    )
    now = timezone.now()
    for tr in transfers:
        tr.is_late = _late(tr, now)
    context = {
        "transfers": transfers,
        "next_cursor": next_cursor,
        "direction": direction,
        "status": status,
        "statuses": TRANSFER_STATUSES,
        "more_url": _more_url("console:membership_transfers", org, next_cursor, direction=direction, status=status),
    }
    if request.htmx and cursor:
        return render(request, "console/membership/_transfer_rows.html", {"org": org, **context})
    return _node_render(request, org, "transfers", "console/membership/transfers.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def transfer_detail(request, transfer_id):
    user = request.user
    tr = selectors.transfer_get(actor=user, transfer_id=transfer_id)
    url = reverse("console:membership_transfer", args=[tr.pk])
    error = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        try:
            if request.POST.get("action") != "accept":
                raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")
            member = services.transfer_accept(actor=user, transfer=tr)
        except ServiceError as exc:
            error = exc.message
            tr = selectors.transfer_get(actor=user, transfer_id=tr.pk)
        else:
            remember_form_result(request, url)
            messages.success(
                request, f"已办理接收：{member.name_masked} 的会员关系已转入{tr.to_org.name}，会员编号不变"
            )
            return redirect(url)
    now = timezone.now()
    receiving = org_selectors.actor_scope(user).covers(tr.to_path)
    context = {
        "tr": tr,
        "org": tr.to_org if receiving else tr.from_org,
        "direction": "in" if receiving else "out",
        "rule_label": routing.RULE_LABELS.get(tr.route_rule, tr.route_rule),
        "is_late": _late(tr, now),
        "can_accept": tr.status == Transfer.Status.PENDING and _rank(user, tr.to_path) >= STAFF,
        "member_in_scope": org_selectors.actor_scope(user).covers(tr.member.org_path),
        "error": error,
        **_token(),
    }
    return console_render(request, "console/membership/transfer.html", context)


# --- 7. Corrections ---------------------------------------------------------------------------------


@never_cache
@require_GET
@console_view
def correction_list(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    status = _choice(request.GET.get("status"), CORRECTION_STATUSES, ChangeRequest.Status.PENDING)
    cursor = request.GET.get("cursor")
    items, next_cursor = selectors.change_request_list(actor=user, node=org, status=status, cursor=cursor, limit=PAGE)
    for cr in items:
        cr.field_labels = "、".join(CHANGE_LABELS.get(k, k) for k in cr.changes if k != "employer_label")
    context = {
        "items": items,
        "next_cursor": next_cursor,
        "status": status,
        "statuses": CORRECTION_STATUSES,
        "more_url": _more_url("console:membership_corrections", org, next_cursor, status=status),
    }
    if request.htmx and cursor:
        return render(request, "console/membership/_correction_rows.html", {"org": org, **context})
    return _node_render(request, org, "corrections", "console/membership/corrections.html", context)


def _change_rows(cr: ChangeRequest, full_name: bool) -> list[tuple[str, str, str]]:
    """(what, now, asked for), personal identifiers masked."""
    member, changes = cr.member, cr.changes
    rows = []
    if "name" in changes:
        rows.append(
            (
                "姓名",
                member.name if full_name else member.name_masked,
                changes["name"] if full_name else pii.mask_name(changes["name"]),
            )
        )
    if "phone" in changes:
        rows.append(("手机号", member.phone_masked or "—", pii.mask_phone(str(changes["phone"]))))
    if "id_number" in changes:
        rows.append(("身份证号", member.id_masked, changes["id_number"]))
    if "employer_id" in changes:
        rows.append(("所在单位", member.employer_label, changes.get("employer_label") or str(changes["employer_id"])))
    if "employer_name" in changes:
        rows.append(("单位名称", member.employer_name or "—", changes["employer_name"]))
    if "job_title" in changes:
        rows.append(("岗位", member.job_title or "—", changes["job_title"] or "（空）"))
    return rows


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def correction_detail(request, change_request_id):
    user = request.user
    cr = selectors.change_request_get(actor=user, change_request_id=change_request_id)
    url = reverse("console:membership_correction", args=[cr.pk])
    error = reject_error = reason = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action")
        reason = request.POST.get("reason", "")
        try:
            if action not in ("approve", "reject"):
                raise ValidationFailed("action_invalid", "请选择“同意更正”或“不予更正”", "action")
            services.change_request_decide(actor=user, change_request=cr, approve=action == "approve", reason=reason)
        except ServiceError as exc:
            if exc.field == "reason":
                reject_error = exc.message
            else:
                error = exc.message
            cr = selectors.change_request_get(actor=user, change_request_id=cr.pk)
        else:
            remember_form_result(request, url)
            messages.success(
                request, "已同意更正，会员信息已更新" if action == "approve" else "已作出不予更正的决定，会员会收到原因"
            )
            return redirect(url)
    rank = _rank(user, cr.org_path)
    context = {
        "cr": cr,
        "org": cr.org,
        "member_name": cr.member.name if rank >= STAFF else cr.member.name_masked,
        "rows": _change_rows(cr, rank >= STAFF),
        "can_decide": rank >= STAFF and cr.status == ChangeRequest.Status.PENDING,
        "can_view_evidence": rank >= STAFF and bool(cr.evidence),
        "error": error,
        "reject_error": reject_error,
        "reason": reason,
        **_token(),
    }
    return console_render(request, "console/membership/correction.html", context)


EVIDENCE_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


@never_cache
@require_GET
@console_view
def correction_evidence(request, change_request_id):
    """The evidence file, only through this view (never a public media URL): in scope, staff rank,
    as an attachment that the browser may not sniff into something else. Each download is audited."""
    user = request.user
    cr = selectors.change_request_get(actor=user, change_request_id=change_request_id)
    org_selectors.require_rank(user, cr.org_path, Role.STAFF, "只有会员所在工会的工作人员可以查看证明材料")
    if not cr.evidence:
        raise NotFound("证明材料")
    ext = (cr.evidence_name or cr.evidence.name).rsplit(".", 1)[-1].lower()
    try:
        handle = cr.evidence.open("rb")
    except OSError:
        raise NotFound("证明材料") from None
    with transaction.atomic():
        audit_log(
            actor=user,
            action="membership.evidence_view",
            obj=cr,
            org=cr.org,
            object_repr=f"{cr.member.name_masked}的信息更正证明材料",
        )
    return private_file(handle, filename=cr.evidence_name or f"证明材料.{ext}",
                        content_type=EVIDENCE_TYPES.get(ext, "application/octet-stream"))


# --- 8. Policy --------------------------------------------------------------------------------------

ROUTING_SLOTS = len(routing.RULES)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def policy(request, org_id):
    """Shows the effective policy; an admin changes what differs from it (unchanged values keep
    being inherited from above)."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    effective = services.policy_for(org)
    errors: dict[str, str] = {}
    posted = None
    if request.method == "POST":
        posted = {
            "auto_approve": request.POST.get("auto_approve", ""),
            "decide_within_days": request.POST.get("decide_within_days", "").strip(),
            "routing": [request.POST.get(f"rule_{i}", "") for i in range(1, ROUTING_SLOTS + 1)],
        }
        try:
            changes = _policy_changes(posted, effective)
            if not changes:
                messages.info(request, "入会政策没有变化")
                return redirect("console:membership_policy", org.pk)
            services.policy_set(actor=user, org=org, **changes)
        except ServiceError as exc:
            errors[exc.field if exc.field in ("auto_approve", "decide_within_days", "routing") else "form"] = (
                exc.message
            )
        else:
            messages.success(request, "入会政策已保存，新提交的申请按新政策办理")
            return redirect("console:membership_policy", org.pk)
    current = posted or {
        "auto_approve": "1" if effective.auto_approve else "0",
        "decide_within_days": str(effective.decide_within_days),
        "routing": list(effective.routing) + [""] * (ROUTING_SLOTS - len(effective.routing)),
    }
    context = {
        "effective": effective,
        "effective_rules": [routing.RULE_LABELS.get(r, r) for r in effective.routing],
        "rule_choices": [(r, routing.RULE_LABELS[r]) for r in routing.RULES],
        "slots": list(enumerate(current["routing"][:ROUTING_SLOTS], start=1)),
        "current": current,
        "errors": errors,
        "can_edit": _rank(user, org.path) >= ADMIN,
    }
    return _node_render(request, org, "policy", "console/membership/policy.html", context)


def _policy_changes(posted: dict, effective: services.Policy) -> dict:
    """Keyword arguments for services.policy_set: only the values that differ from the effective policy."""
    changes: dict = {}
    if posted["auto_approve"] not in ("0", "1"):
        raise ValidationFailed("auto_approve_invalid", "请选择是否自动批准入会申请", "auto_approve")
    if (posted["auto_approve"] == "1") != effective.auto_approve:
        changes["auto_approve"] = posted["auto_approve"] == "1"
    days = posted["decide_within_days"]
    if not days.isdigit():
        raise ValidationFailed("days_invalid", "审批时限应为1至30个工作日", "decide_within_days")
    if int(days) != effective.decide_within_days:
        changes["decide_within_days"] = int(days)
    rules = [r for r in posted["routing"] if r]
    if rules != list(effective.routing):
        changes["routing_rules"] = rules  # [] = follow the union above (or the national default)
    return changes


# --- 9. Numbers -------------------------------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _hours(value) -> str:
    return "—" if value is None else f"≤{value:g}小时"


@never_cache
@require_GET
@console_view
def stats(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in STATS_DAYS else 30
    numbers = selectors.membership_stats(actor=user, node=org, days=days)
    children = selectors.child_breakdown(actor=user, node=org)
    by_status = [(MemberStatus(s).label, n) for s, n in numbers["by_status"].items()]
    daily = [{"day": d["day"].isoformat(), "n": d["new_members"]} for d in numbers["new_members_daily"]]
    for row in children:
        row["join_rate_label"] = _percent(row["join_rate"])
    chart = {
        "daily": daily,
        "children": [{"name": row["org"].name, "members": row["members"]} for row in children],
    }
    context = {
        "numbers": numbers,
        "days": days,
        "day_choices": STATS_DAYS,
        "by_status": by_status,
        "daily": daily,
        "new_total": sum(d["n"] for d in daily),
        "children": children,
        "join_rate": _percent(numbers["join_rate"]),
        "median": _hours(numbers["approval_hours_median"]),
        "p90": _hours(numbers["approval_hours_p90"]),
        "chart": chart,
    }
    return _node_render(request, org, "stats", "console/membership/stats.html", context)


CHILD_COLUMNS = ["下级组织", "组织类型", "会员数", "新就业形态会员", "待审批申请", "超时申请", "入会率"]


@require_GET
@console_view
def stats_export(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    children = selectors.child_breakdown(actor=user, node=org)
    with transaction.atomic():
        audit_log(
            actor=user,
            action="membership.stats_export",
            org=org,
            object_type="orgs.orgunit",
            object_id=str(org.pk),
            object_repr=f"{org.name} 下级组织会员统计",
        )

    def rows():
        yield "\ufeff" + csv_line(CHILD_COLUMNS)
        for row in children:
            yield csv_line(
                [
                    row["org"].name,
                    row["org"].kind_label,
                    row["members"],
                    row["gig_members"],
                    row["applications_pending"],
                    row["applications_overdue"],
                    _percent(row["join_rate"]),
                ]
            )

    return _csv_response(rows(), f"membership-children-{org.pk}.csv")


# --- 10. Roster import ------------------------------------------------------------------------------

IMPORT_RUNNING = (RosterImport.Status.QUEUED, RosterImport.Status.VALIDATING, RosterImport.Status.COMMITTING)
IMPORT_EMPLOYERS = 200


def _imports():
    from gonghui.membership import imports

    return imports


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def import_list(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    # Members are registered at a company's own union (基层/联合基层/平台企业工会), not higher up.
    can_upload = _rank(user, org.path) >= STAFF and org.kind in LEAF_KINDS
    error = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        try:
            org_selectors.require_rank(user, org.path, Role.STAFF, "只有工作人员可以上传花名册")
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed("file_required", "请选择要上传的花名册文件（.xlsx 或 .csv）", "file")
            employer_id = request.POST.get("employer_id", "").strip()
            employer = org_selectors.employer_get(actor=user, employer_id=employer_id) if employer_id else None
            job = _imports().import_create(actor=user, org=org, upload=upload, employer=employer)
        except ServiceError as exc:
            error = exc.message
        else:
            url = reverse("console:membership_import", args=[job.pk])
            remember_form_result(request, url)
            messages.success(request, "花名册已上传，正在校验，请稍候查看结果")
            return redirect(url)
    employers = []
    if can_upload:
        employers, _ = org_selectors.employer_list(actor=user, org=org, limit=IMPORT_EMPLOYERS, direct_only=True)
    context = {
        "jobs": selectors.import_list(actor=user, node=org),
        "can_upload": can_upload,
        "leaf": org.kind in LEAF_KINDS,
        "employers": employers,
        "error": error,
        **_token(),
    }
    return _node_render(request, org, "imports", "console/membership/imports.html", context)


@require_GET
@console_view
def import_template(request):
    from gonghui.membership import roster_file

    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    try:
        roster_file.write_template_xlsx(handle.name)
        with open(handle.name, "rb") as f:
            content = f.read()
    finally:
        os.unlink(handle.name)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = (
        "attachment; filename=\"roster-template.xlsx\"; filename*=UTF-8''%E4%BC%9A%E5%91%98%E8%8A%B1%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.xlsx"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _import_context(request, job: RosterImport) -> dict:
    progress = _imports().import_progress(job)
    staff = _rank(request.user, job.org_path) >= STAFF
    interrupted = job.status == RosterImport.Status.COMMITTING and bool(job.error)
    return {
        "job": job,
        "org": job.org,
        "progress": progress,
        "percent": max(0, min(100, int(progress.get("percent") or 0))),
        "running": job.status in IMPORT_RUNNING and not interrupted,
        "interrupted": interrupted,
        "can_commit": staff and bool(progress.get("can_commit")),
        "can_cancel": staff and bool(progress.get("can_cancel")),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def import_detail(request, import_id):
    user = request.user
    job = selectors.import_get(actor=user, import_id=import_id)
    url = reverse("console:membership_import", args=[job.pk])
    error = ""
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action")
        try:
            if action == "commit":
                _imports().import_commit(actor=user, job=job)
                note = "已开始导入校验通过的行，本页会显示进度，完成后显示结果"
            elif action == "cancel":
                _imports().import_cancel(actor=user, job=job)
                note = "已取消本次导入"
            else:
                raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")
        except ServiceError as exc:
            error = exc.message
            job = selectors.import_get(actor=user, import_id=job.pk)
        else:
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    context = {**_import_context(request, job), "error": error, **_token()}
    return console_render(request, "console/membership/import.html", context)


@never_cache
@require_GET
@console_view
def import_progress(request, import_id):
    """The progress fragment, polled by htmx every 2 s while the job runs. When the job is done it
    asks htmx for a full refresh, so the counts and the buttons of the finished job show."""
    job = selectors.import_get(actor=request.user, import_id=import_id)
    context = _import_context(request, job)
    response = render(request, "console/membership/_import_progress.html", context)
    if not context["running"] and request.GET.get("was") == "running":
        response["HX-Refresh"] = "true"
    return response


@require_GET
@console_view
def import_errors(request, import_id):
    user = request.user
    job = selectors.import_get(actor=user, import_id=import_id)
    org_selectors.require_rank(user, job.org_path, Role.STAFF, "只有工作人员可以下载错误报告")
    with transaction.atomic():
        audit_log(
            actor=user,
            action="membership.import_errors",
            obj=job,
            org=job.org,
            object_repr=f"{job.original_name} 错误报告",
        )
    return _csv_response(_imports().error_report(job), f"roster-errors-{job.pk}.csv")

"""The staff console's labour-law supervision pages (劳动法律监督, 一函两书): a union's records and
letters, the record form with its article picker, one record with the drafting forms, one letter with
its timeline and an action form for each step the actor may take, the PDF and DOCX, and the figures.

Thin views over gonghui.legal.supervision, like case_views.py: every id from a request is looked up
through a selector (unknown and out-of-scope ids are both the console's 404), every write is one
service call, and a ServiceError becomes a Chinese message next to the field it names. Who may do
what follows the general staff role over the union: VIEWER reads, STAFF records, drafts and follows
letters, ADMIN issues and voids (the services check; the pages only hide what would be refused).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.core.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from gonghui.legal import supervision as sv
from gonghui.legal.lawtext import int_to_cn
from gonghui.legal.models import LetterKind, LetterStatus, SupervisionLetter, SupervisionRecord
from gonghui.orgs import selectors as org_selectors
from gonghui.orgs.models import OrgUnit

from .access import claim_form_token, console_render, console_view, remember_form_result
from .access import form_token_context as _token
from .membership_views import _choice

PAGE = 30
EMPLOYER_SEARCH = 10
MONITOR_ROWS = 3
_CASE_NO = re.compile(r"^WQ\d{8}(\d{6,})$", re.IGNORECASE)

KIND_TABS = {"": "全部文书", LetterKind.REMINDER.value: "提示函", LetterKind.OPINION.value: "意见书",
             LetterKind.SUGGESTION.value: "建议书", LetterKind.REFERRAL.value: "移送检察机关"}
STATUS_LABELS = {s.value: s.label for s in LetterStatus}
RECORD_STATUS_LABELS = {s.value: s.label for s in SupervisionRecord.Status}
STATUS_BADGE = {"draft": "badge-muted", "issued": "", "delivered": "badge-warn", "replied": "badge-warn",
                "rectified": "badge-ok", "unresolved": "badge-danger", "escalated": "", "void": "badge-muted"}
ACTION_LABELS = {"edit": "修改草稿", "issue": "签发", "deliver": "登记送达", "reply": "登记回复", "rectify": "登记整改完成",
                 "unresolved": "登记未整改", "escalate": "升级", "void": "作废"}


# --- Helpers ----------------------------------------------------------------------------------------


def _rank(user, path: str) -> int:
    return org_selectors.actor_scope(user).rank_at(path)


def _tabs(org: OrgUnit) -> list[tuple[str, str, str]]:
    return [("board", "记录与文书", reverse("console:supervision_board", args=[org.pk])),
            ("new", "登记监督记录", reverse("console:supervision_record_new", args=[org.pk])),
            ("stats", "统计", reverse("console:supervision_stats", args=[org.pk]))]


def _node_render(request, org: OrgUnit, tab: str, template: str, context: dict, status: int = 200):
    rank = _rank(request.user, org.path)
    base = {"org": org, "tab": tab, "tabs": _tabs(org), "may_write": rank >= sv.STAFF, "now": timezone.now()}
    return console_render(request, template, {**base, **context}, status=status)


def _mark(letter: SupervisionLetter, now) -> SupervisionLetter:
    letter.is_overdue = sv.is_overdue(letter, now)
    letter.badge = STATUS_BADGE.get(letter.status, "")
    letter.title = sv.letter_title(letter)
    return letter


def _letter_url(letter) -> str:
    return reverse("console:supervision_letter", args=[letter.pk])


def _record_url(record) -> str:
    return reverse("console:supervision_record", args=[record.pk])


def _error(exc: ServiceError, aliases: dict | None = None) -> dict:
    field = (aliases or {}).get(exc.field or "", exc.field or "form")
    return {field: exc.message}


# --- 1. The union's records and letters -------------------------------------------------------------


@require_GET
@console_view
def supervision_home(request):
    """/console/legal/supervision/: the list of the highest union the actor works for."""
    nodes = sv.nodes_for(request.user)
    if not nodes:
        raise PermissionDenied("没有可查看的工会组织")
    return redirect("console:supervision_board", nodes[0].pk)


@never_cache
@require_GET
@console_view
def supervision_board(request, org_id):
    """Letters (default) or records of the union and its subtree, newest first, with the filters in
    the URL; overdue letters are marked (and can be listed alone)."""
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    view = _choice(request.GET.get("view"), ("letters", "records"), "letters")
    kind = _choice(request.GET.get("kind", ""), KIND_TABS)
    status = _choice(request.GET.get("status", ""), STATUS_LABELS if view == "letters" else RECORD_STATUS_LABELS)
    overdue = view == "letters" and request.GET.get("overdue") == "1"
    cursor = request.GET.get("cursor")
    now = timezone.now()
    filters = {"view": view, "kind": kind if view == "letters" else "", "status": status,
               "overdue": "1" if overdue else ""}
    if view == "letters":
        rows, next_cursor = sv.letter_list(actor=user, node=org, kind=kind, status=status, overdue=overdue,
                                           cursor=cursor, limit=PAGE)
        rows = [_mark(letter, now) for letter in rows]
    else:
        rows, next_cursor = sv.record_list(actor=user, node=org, status=status, cursor=cursor, limit=PAGE)
    more_url = ""
    if next_cursor:
        query = urlencode({**{k: v for k, v in filters.items() if v}, "cursor": next_cursor})
        more_url = f"{reverse('console:supervision_board', args=[org.pk])}?{query}"
    context = {"view": view, "rows": rows, "kind": kind, "kind_label": KIND_TABS[kind] if kind else "",
               "status": status, "overdue": overdue,
               "kinds": KIND_TABS, "statuses": STATUS_LABELS if view == "letters" else RECORD_STATUS_LABELS,
               "filters": filters, "more_url": more_url}
    if request.htmx and cursor:
        template = "_letter_rows.html" if view == "letters" else "_record_rows.html"
        return render(request, f"console/legal/supervision/{template}", {"org": org, **context})
    return _node_render(request, org, "board", "console/legal/supervision/board.html", context)


# --- 2. The record form -----------------------------------------------------------------------------

RECORD_FIELDS = ("trigger", "case_no", "cluster_id", "employer_id", "employer_name", "employer_address",
                 "inspected_on", "findings", "articles", "workers_affected")


def _posted_record(post) -> dict:
    posted = {key: post.get(key, "") for key in RECORD_FIELDS}
    names, certs = post.getlist("monitor_name"), post.getlist("monitor_cert")
    posted["monitors"] = [{"name": n, "cert_no": certs[i] if i < len(certs) else ""} for i, n in enumerate(names)]
    return posted


def _record_initial(record: SupervisionRecord) -> dict:
    return {
        "trigger": record.trigger, "case_no": record.case.number if record.case_id and record.case else "",
        "cluster_id": str(record.cluster_id or ""), "employer_id": str(record.employer_id or ""),
        "employer_name": "" if record.employer_id else record.employer_name,
        "employer_address": record.employer_address, "inspected_on": record.inspected_on.isoformat(),
        "findings": record.findings, "workers_affected": str(record.workers_affected or ""),
        "articles": "\n".join(sv.article_ref_text(a) for a in record.articles.select_related("law")),
        "monitors": list(record.monitors),
    }


def _case_id(value: str):
    """The case a record comes from, as its number (WQ…) or id."""
    value = re.sub(r"\s", "", value or "")
    if not value:
        return None
    found = _CASE_NO.match(value)
    if found:
        return found.group(1)
    if value.isdigit():
        return value
    raise ValidationFailed("case_invalid", "诉求编号应为 WQ 开头的编号，如 WQ20261120000123", "case_id")


def _record_data(posted: dict) -> dict:
    return {
        "trigger": posted["trigger"], "case_id": _case_id(posted["case_no"]) if posted["trigger"] == "case" else None,
        "cluster_id": (posted["cluster_id"].strip() or None) if posted["trigger"] == "cluster" else None,
        "employer_id": posted["employer_id"] or None, "employer_name": posted["employer_name"],
        "employer_address": posted["employer_address"], "inspected_on": posted["inspected_on"],
        "monitors": posted["monitors"], "findings": posted["findings"], "articles": posted["articles"],
        "workers_affected": posted["workers_affected"],
    }


RECORD_ALIASES = {"case_id": "case_no", "org_id": "form"}


def _employer_choices(user, posted: dict, q: str) -> dict:
    employers, error, chosen = None, "", None
    if q.strip():
        try:
            employers = org_selectors.employer_search(actor=user, q=q, limit=EMPLOYER_SEARCH)
        except ValidationFailed as exc:
            employers, error = [], exc.message
    if posted.get("employer_id"):
        try:
            chosen = org_selectors.employer_get(actor=user, employer_id=posted["employer_id"])
        except NotFound:
            posted["employer_id"] = ""
    return {"employers": employers, "employer_error": error, "chosen_employer": chosen, "employer_q": q}


def _record_form(request, org: OrgUnit, record: SupervisionRecord | None):
    user = request.user
    if _rank(user, (record.org_path if record else org.path)) < sv.STAFF:
        raise PermissionDenied("只有本工会的工作人员可以登记或修改劳动法律监督记录")
    errors: dict[str, str] = {}
    posted = _record_initial(record) if record else {key: "" for key in RECORD_FIELDS} | {
        "trigger": "inspection", "monitors": [], "inspected_on": timezone.localdate().isoformat()}
    q = ""
    if request.method == "POST":
        posted = _posted_record(request.POST)
        q = request.POST.get("employer_q", "")
        if request.POST.get("step") == "save":
            duplicate = claim_form_token(request)
            if duplicate:
                return duplicate
            try:
                data = _record_data(posted)
                if record is None:
                    saved = sv.record_create(actor=user, org_id=org.pk, **data)
                    note = f"已登记监督记录 {sv.record_number(saved)}，可以起草提示函或意见书"
                else:
                    changes = _record_changes(record, data)
                    saved = sv.record_update(actor=user, record=record, **changes) if changes else record
                    note = "已保存监督记录" if changes else "没有修改任何内容"
            except ServiceError as exc:
                errors = _error(exc, RECORD_ALIASES)
            else:
                url = _record_url(saved)
                remember_form_result(request, url)
                messages.success(request, note)
                return redirect(url)
    monitors = list(posted["monitors"]) + [{"name": "", "cert_no": ""}] * MONITOR_ROWS
    context = {
        "record": record, "posted": posted, "errors": errors, "monitors": monitors[:max(MONITOR_ROWS,
                                                                                         len(posted["monitors"]))],
        "triggers": SupervisionRecord.Trigger.choices, **_employer_choices(user, posted, q), **_token(),
    }
    return _node_render(request, org, "new" if record is None else "", "console/legal/supervision/record_form.html",
                        context)


def _record_changes(record: SupervisionRecord, data: dict) -> dict:
    """What the edit form changed: only those fields go to the service (a kept case link is not looked
    up again, an unchanged employer not searched again)."""
    initial = _record_data(_record_initial(record))
    changes = {}
    for key, value in data.items():
        old = initial.get(key)
        if key == "monitors":
            clean = [m for m in value if (m.get("name") or "").strip() or (m.get("cert_no") or "").strip()]
            if [(m["name"].strip(), m.get("cert_no", "").strip()) for m in clean] != [
                    (m["name"], m.get("cert_no", "")) for m in record.monitors]:
                changes[key] = value
        elif (value or "") != (old or ""):
            changes[key] = value
    if {"employer_name", "employer_address"} & set(changes) and "employer_id" not in changes:
        changes["employer_id"] = data["employer_id"]
    return changes


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def supervision_record_new(request, org_id):
    org = org_selectors.org_get(actor=request.user, org_id=org_id)
    return _record_form(request, org, None)


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def supervision_record_edit(request, record_id):
    record = sv.record_get(actor=request.user, record_id=record_id)
    return _record_form(request, record.org, record)


@never_cache
@require_GET
@console_view
def supervision_employers(request, org_id):
    """Employers matching what was typed (htmx): radio buttons inside the record form."""
    org_selectors.org_get(actor=request.user, org_id=org_id)
    context = _employer_choices(request.user, {"employer_id": ""}, request.GET.get("employer_q", ""))
    return render(request, "console/cases/_employer_results.html", context)


# --- 3. One record ----------------------------------------------------------------------------------

DRAFT_ALIASES = {"org_id": "form", "record": "form"}


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def supervision_record(request, record_id):
    """The record, its articles quoted, its letters; POST drafts a letter (action=draft) or asks the
    county for a 建议书 (action=escalate)."""
    user = request.user
    record = sv.record_get(actor=user, record_id=record_id)
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        posted = request.POST
        try:
            letter, note = _record_action(user, record, action, request.POST)
        except ServiceError as exc:
            err = {"action": action, "kind": request.POST.get("kind", ""), **_error(exc, DRAFT_ALIASES)}
        else:
            target = _letter_url(letter) if letter is not None and sv.letters_visible(user).filter(
                pk=letter.pk).exists() else _record_url(record)
            remember_form_result(request, target)
            messages.success(request, note)
            return redirect(target)
    return console_render(request, "console/legal/supervision/record.html",
                          {**_record_context(user, record), "err": err, "posted": posted})


def _record_action(user, record: SupervisionRecord, action: str, post) -> tuple[SupervisionLetter | None, str]:
    if action == "draft":
        kind = post.get("kind", "")
        letter = sv.letter_draft(
            actor=user, record=record, kind=kind, recipient=post.get("recipient") or None,
            reply_days=post.get("reply_days", ""), articles=post.get("articles", ""),
            referral_ground=post.get("referral_ground", "") if kind == LetterKind.REFERRAL else "")
        return letter, f"已起草{letter.get_kind_display()}，请核对正文后提请管理员签发"
    if action == "escalate":
        letter = sv.record_escalate(actor=user, record=record, note=post.get("note", ""))
        return letter, f"已提请{letter.org.name}发出建议书，该会已收到通知"
    if action == "close":
        sv.record_close(actor=user, record=record, note=post.get("note", ""))
        return None, "监督已结束"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


def _record_context(user, record: SupervisionRecord) -> dict:
    now = timezone.now()
    mine, above = sv.record_letters(actor=user, record=record)
    for letter in mine:
        _mark(letter, now)
    rank = _rank(user, record.org_path)
    articles = list(record.articles.select_related("law").order_by("law__sort", "number"))
    may_write = rank >= sv.STAFF and record.status != SupervisionRecord.Status.CLOSED
    county = sv.is_county_plus(record.org)
    kinds = []
    if may_write:
        for kind in LetterKind:
            if kind in (LetterKind.SUGGESTION, LetterKind.REFERRAL) and not county:
                continue
            kinds.append({"value": kind.value, "label": kind.label, "short": sv.KIND_SHORT[kind],
                          "recipient": sv.recipient_default(record, kind, record.org),
                          "reply_days": sv.reply_days_for(record.org, kind)})
    return {
        "record": record, "org": record.org, "number": sv.record_number(record), "articles": articles,
        "articles_text": "\n".join(sv.article_ref_text(a) for a in articles),
        "letters": mine, "above": above, "draft_kinds": kinds, "may_write": may_write,
        "may_escalate": may_write and not county, "county": sv.county_union_for(record.org) if not county else None,
        "grounds": sv.referral_grounds(), "now": now, **_token(),
    }


# --- 4. One letter ----------------------------------------------------------------------------------

LETTER_ALIASES = {"replied_on": "date", "rectified_on": "date", "text": "text", "reason": "reason",
                  "note": "note", "kind": "form", "status": "form"}


@never_cache
@require_http_methods(["GET", "POST"])
@console_view
def supervision_letter(request, letter_id):
    """The letter as it will print, its facts and timeline, and a form for each step the actor may take."""
    user = request.user
    letter = sv.letter_get(actor=user, letter_id=letter_id)
    err, posted = None, {}
    if request.method == "POST":
        duplicate = claim_form_token(request)
        if duplicate:
            return duplicate
        action = request.POST.get("action", "")
        try:
            target, note = _letter_action(user, letter, action, request.POST)
        except ServiceError as exc:
            err = {"action": action, **_error(exc, LETTER_ALIASES)}
            posted = request.POST
            letter = sv.letter_get(actor=user, letter_id=letter.pk)
        else:
            url = _letter_url(target) if sv.letters_visible(user).filter(pk=target.pk).exists() else \
                _letter_url(letter)
            remember_form_result(request, url)
            messages.success(request, note)
            return redirect(url)
    return console_render(request, "console/legal/supervision/letter.html",
                          {**_letter_context(user, letter), "err": err, "posted": posted})


def _letter_action(user, letter: SupervisionLetter, action: str, post) -> tuple[SupervisionLetter, str]:
    """Carry out one action of the letter page; returns (the letter to show next, the message)."""
    if action == "edit":
        changes = {"recipient": post.get("recipient", ""), "recipient_address": post.get("recipient_address", ""),
                   "body": post.get("body", ""), "demands": post.get("demands", ""),
                   "articles": post.get("articles", ""), "reply_days": post.get("reply_days", "")}
        if letter.kind == LetterKind.REFERRAL:
            changes["referral_ground"] = post.get("referral_ground", "")
        return sv.letter_update(actor=user, letter=letter, **changes), "已保存草稿"
    if action == "issue":
        letter = sv.letter_issue(actor=user, letter=letter)
        return letter, f"已签发，文号 {letter.serial_label}。请下载 PDF 盖章后送达"
    if action == "deliver":
        letter = sv.letter_deliver(actor=user, letter=letter, method=post.get("method", ""),
                                   received_by=post.get("received_by", ""), delivered_at=post.get("delivered_at", ""))
        due = f"，回复期限 {timezone.localtime(letter.reply_due_at):%Y-%m-%d}" if letter.reply_due_at else "，无需回复"
        return letter, "已登记送达" + due
    if action == "reply":
        return sv.letter_reply(actor=user, letter=letter, text=post.get("text", ""),
                               replied_on=post.get("date", "")), "已登记回复"
    if action == "rectify":
        return sv.letter_rectified(actor=user, letter=letter, text=post.get("text", ""),
                                   rectified_on=post.get("date", "")), "已登记整改完成"
    if action == "unresolved":
        return sv.letter_unresolved(actor=user, letter=letter, reason=post.get("reason", "")), \
            "已登记未整改，可以升级处理"
    if action == "escalate":
        new = sv.letter_escalate(actor=user, letter=letter, note=post.get("note", ""))
        if new.org_id != letter.org_id:
            return new, f"已提请{new.org.name}发出{new.get_kind_display()}，该会已收到通知"
        return new, f"已起草{new.get_kind_display()}，请核对后签发"
    if action == "void":
        return sv.letter_void(actor=user, letter=letter, reason=post.get("reason", "")), "文书已作废"
    raise ValidationFailed("action_invalid", "请选择要办理的事项", "action")


def _letter_context(user, letter: SupervisionLetter) -> dict:
    now = timezone.now()
    _mark(letter, now)
    document = sv.letter_document(letter)
    events = sv.letter_timeline(letter)
    for event in events:
        event.actor_label = "系统" if event.actor is None else (event.actor.display_name or event.actor.username)
        event.to_label = STATUS_LABELS.get(event.to_status, "")
        event.status_changed = event.from_status != event.to_status and bool(event.to_label)
    allowed = sv.letter_allowed_actions(user, letter, now)
    articles = list(letter.articles.select_related("law").order_by("law__sort", "number"))
    next_letters = [_mark(x, now) for x in sv.letters_visible(user).filter(previous=letter).select_related("org")]
    return {
        "letter": letter, "record": letter.record, "org": letter.org, "document": document,
        "demands": [(int_to_cn(i), text) for i, text in enumerate(document.demands, start=1)],
        "previous_visible": bool(letter.previous_id)
        and sv.letters_visible(user).filter(pk=letter.previous_id).exists(),
        "record_number": sv.record_number(letter.record), "record_visible": sv.records_visible(user).filter(
            pk=letter.record_id).exists(),
        "events": events, "can": {name: True for name in allowed}, "action_labels": ACTION_LABELS,
        "escalate_refusal": sv.escalation_refusal(letter, now) if letter.kind in sv.NEXT_KIND else "",
        "next_kind": LetterKind(sv.NEXT_KIND[letter.kind]).label if letter.kind in sv.NEXT_KIND else "",
        "escalate_to": sv.county_union_for(letter.org) if letter.kind == LetterKind.OPINION else letter.org,
        "next_letters": next_letters, "articles_text": "\n".join(sv.article_ref_text(a) for a in articles),
        "methods": sv.DELIVERY_METHODS, "grounds": sv.referral_grounds(),
        "ground_label": sv.referral_grounds().get(letter.referral_ground, ""),
        "today": timezone.localdate().isoformat(),
        "now_local": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
        **_token(),
    }


@never_cache
@require_GET
@console_view
def supervision_letter_file(request, letter_id, fmt: str):
    """The letter as PDF or DOCX, as an attachment named after its serial number."""
    letter = sv.letter_get(actor=request.user, letter_id=letter_id)
    if fmt == "pdf":
        content, filename = sv.letter_pdf(letter)
        content_type = "application/pdf"
    else:
        content, filename = sv.letter_docx(letter)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (f"attachment; filename=\"letter-{letter.pk}.{fmt}\"; "
                                       f"filename*=UTF-8''{quote(filename)}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- 5. Figures -------------------------------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@never_cache
@require_GET
@console_view
def supervision_stats(request, org_id):
    user = request.user
    org = org_selectors.org_get(actor=user, org_id=org_id)
    numbers = sv.letter_stats(actor=user, node=org)
    rows = [(LetterKind(k).label, [numbers["by_kind_status"][k][s] for s in STATUS_LABELS], numbers["by_kind"][k])
            for k in LetterKind.values]
    context = {
        "numbers": numbers, "rows": rows, "status_labels": list(STATUS_LABELS.values()),
        "status_totals": [numbers["by_status"][s] for s in STATUS_LABELS],
        "reply_rate": _percent(numbers["reply_rate"]), "on_time_rate": _percent(numbers["on_time_rate"]),
        "median": "—" if numbers["rectify_days_median"] is None else f"{numbers['rectify_days_median']:g}",
        "mean": "—" if numbers["rectify_days_mean"] is None else f"{numbers['rectify_days_mean']:g}",
        "overdue_url": f"{reverse('console:supervision_board', args=[org.pk])}?overdue=1",
    }
    return _node_render(request, org, "stats", "console/legal/supervision/stats.html", context)

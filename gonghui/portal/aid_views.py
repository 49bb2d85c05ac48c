"""The worker's legal-aid pages (工会法律援助): apply (directly, or with the question just asked in
the legal-affairs cloud), my applications, one application with its checklist, documents, stages,
hearings and outcome; and, for a lawyer or volunteer signed in with the phone on a union's roster,
the files assigned to them, where they record stages, hearings and the closing report.

Every write goes through gonghui.legal.aid; a ServiceError becomes a Chinese message beside the field
it names. The employer picker is the case form's (same lookups, same partial templates).
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core.errors import NotFound, ServiceError
from gonghui.core.files import private_file
from gonghui.legal import aid
from gonghui.legal.models import AidApplication, AidDeadline, AidStage, AidStatus, Expertise
from gonghui.membership.models import Member
from gonghui.orgs.models import Division, Employer

from . import lookups
from .case_views import _attachment_rules, _too_big, _too_big_message
from .membership_views import _place_context, _search
from .views import worker_required

SLOTS = ("category", "facts", "employer", "employer_name", "place", "workers_involved", "amount_claimed",
         "documents", "form")
SLOT_LABELS = {"category": "争议类型", "facts": "案情及请求", "employer": "用人单位", "employer_name": "单位名称",
               "place": "工作地", "workers_involved": "涉及人数", "amount_claimed": "请求金额", "documents": "材料",
               "form": "提交", "text": "补充说明", "reason": "撤回原因"}
FIELD_SLOTS = {"employer_id": "employer", "employer.name": "employer_name", "division_code": "place",
               "attachments": "documents"}
UPLOAD_KINDS = [("identity", "身份证件"), ("hardship", "经济困难证明"), ("evidence", "证据材料")]


def _slot(error: ServiceError) -> str:
    name = FIELD_SLOTS.get(error.field or "", error.field or "")
    return name if name in SLOTS else "form"


def _error_list(errors: dict) -> list[tuple[str, str, str]]:
    return [(slot, SLOT_LABELS.get(slot, slot), errors[slot]) for slot in SLOTS if slot in errors]


def _error_page(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return render(request, "portal/cases/error.html", {"message": error.message, "back": reverse("portal:aid_list")},
                  status=error.status)


@dataclass
class AidForm:
    nonce: str = ""
    category: str = ""
    facts: str = ""
    question: str = ""
    employer_id: str = ""
    employer: Employer | None = None
    employer_q: str = ""
    employer_results: list | None = None
    employer_search_error: str = ""
    employer_name: str = ""
    place_chain: list[Division] = field(default_factory=list)
    workers_involved: str = ""
    amount_claimed: str = ""
    hardship: bool = False
    files_sent: bool = False

    @property
    def manual_open(self) -> bool:
        return bool(self.employer_name)

    def employer_args(self) -> dict:
        if self.employer_id:
            return {"employer_id": self.employer_id, "employer": None, "division_code": None}
        code = lookups.place_code(self.place_chain) or None
        if self.employer_name:
            return {"employer_id": None, "employer": {"name": self.employer_name}, "division_code": code}
        return {"employer_id": None, "employer": None, "division_code": code}


def _read_form(request: HttpRequest, action: str) -> AidForm:
    post = request.POST
    form = AidForm(
        nonce=(post.get("nonce") or "")[:40], category=(post.get("category") or "")[:30],
        facts=post.get("facts") or "", question=(post.get("question") or "")[:500],
        employer_q=(post.get("employer_q") or "")[:100].strip(),
        employer_name=" ".join((post.get("employer_name") or "")[:250].split()),
        place_chain=lookups.place_chain(post.getlist("place")[:6]),
        workers_involved=(post.get("workers_involved") or "")[:20].strip(),
        amount_claimed=(post.get("amount_claimed") or "")[:30].strip(),
        hardship=post.get("hardship") == "yes",
        files_sent=any(request.FILES.getlist(kind) for kind, _label in UPLOAD_KINDS),
    )
    if action != "employer_clear":
        form.employer_id = (post.get("employer_id") or "").strip()[:20]
        form.employer = lookups.employer_public_get(form.employer_id)
    if form.employer is None and form.employer_q and action in ("employer_search", "submit"):
        form.employer_results, form.employer_search_error = _search(lookups.employer_find, form.employer_q,
                                                                    actor=request.user)
    return form


def _new_page(request: HttpRequest, form: AidForm, errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    context = {"form": form, "errors": errors, "error_list": _error_list(errors), "categories": Expertise.choices,
               "place": _place_context(form.place_chain, "work", errors.get("place", "")),
               "upload_kinds": UPLOAD_KINDS, **_attachment_rules(),
               "member": aid.membership_proof(Member.objects.filter(user=request.user).select_related("org").first())}
    return render(request, "portal/legal/aid_new.html", context, status=status)


@never_cache
@worker_required
@require_http_methods(["GET", "POST"])
def aid_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        question = (request.GET.get("question") or "").replace("\x00", "").strip()[:500]
        category = request.GET.get("category", "")
        return _new_page(request, AidForm(nonce=secrets.token_hex(16), question=question, facts=question,
                                          category=category if category in Expertise.values else ""))
    if _too_big(request):
        return _new_page(request, AidForm(nonce=secrets.token_hex(16)), {"documents": _too_big_message()}, 400)
    action = request.POST.get("action", "refresh")
    form = _read_form(request, action)
    if action != "submit":
        return _new_page(request, form)
    documents = [(kind, upload) for kind, _label in UPLOAD_KINDS for upload in request.FILES.getlist(kind)]
    # A second tap of the same form: the application the first one made is shown, not refused.
    existing = AidApplication.objects.filter(applicant=request.user, status__in=[AidStatus.SUBMITTED],
                                             submitted_at__gte=timezone.now() - datetime.timedelta(minutes=10))
    key = f"aid-form-{form.nonce}"
    if form.nonce and request.session.get(key):
        found = existing.filter(pk=request.session[key]).first()
        if found is not None:
            messages.info(request, f"这份申请已经提交过（编号 {found.number}），无需重复提交。")
            return redirect("portal:aid_detail", application_id=found.pk)
    try:
        application = aid.aid_apply(actor=request.user, category=form.category, facts=form.facts,
                                    workers_involved=form.workers_involved or None,
                                    amount_claimed=form.amount_claimed or None, hardship=form.hardship,
                                    question=form.question, documents=documents, **form.employer_args())
    except ServiceError as error:
        return _new_page(request, form, {_slot(error): error.message}, error.status)
    request.session[key] = application.pk
    messages.success(request, f"法律援助申请已提交，编号 {application.number}。{application.org.name}将在"
                              f"{timezone.localtime(application.decide_due_at):%-m月%-d日}前作出决定。")
    return redirect("portal:aid_detail", application_id=application.pk)


@never_cache
@worker_required
@require_GET
def aid_list(request: HttpRequest) -> HttpResponse:
    mine = list(aid.my_applications(request.user)[:100])
    assigned = list(aid.assigned_to_me(request.user)[:200])
    return render(request, "portal/legal/aid_list.html", {"mine": mine, "assigned": assigned})


def _detail_page(request: HttpRequest, application: AidApplication, errors: dict | None = None,
                 status: int = 200, failed: str = "") -> HttpResponse:
    role = aid.role_of(request.user, application)
    context = {
        "a": application, "role": role, "errors": errors or {}, "failed": failed, "checklist": aid.checklist(application),
        "documents": list(application.documents.exclude(file="")),
        "stages": list(application.stages.all()), "deadlines": list(application.deadlines.all()),
        "events": aid.timeline(actor=request.user, application=application), "upload_kinds": UPLOAD_KINDS,
        "stage_kinds": AidStage.Kind.choices, "outcomes": AidApplication.Outcome.choices,
        "open": application.is_open, "waiting": application.status == AidStatus.NEEDS_DOCS,
        "working": application.status == AidStatus.ASSIGNED and role == "provider",
        "today": timezone.localdate(), "now": timezone.now(), **_attachment_rules(),
    }
    return render(request, "portal/legal/aid_detail.html", context, status=status)


def _get(request: HttpRequest, application_id) -> AidApplication:
    application = aid.aid_get(actor=request.user, application_id=application_id)
    if aid.role_of(request.user, application) not in ("applicant", "provider"):
        raise NotFound("法律援助申请")  # staff use the console
    return application


@never_cache
@worker_required
@require_GET
def aid_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        return _detail_page(request, _get(request, application_id))
    except NotFound as error:
        return _error_page(request, error)


@never_cache
@worker_required
@require_GET
def aid_document(request: HttpRequest, application_id: int, document_id: int) -> HttpResponse:
    try:
        application = _get(request, application_id)
        document = aid.aid_document_get(actor=request.user, application=application, document_id=document_id)
        handle = document.file.open("rb")
    except NotFound as error:
        return _error_page(request, error)
    except OSError:
        return _error_page(request, NotFound("材料"))
    return private_file(handle, filename=document.name, content_type=document.content_type, inline_images=True)


@never_cache
@worker_required
@require_POST
def aid_action(request: HttpRequest, application_id: int, action: str) -> HttpResponse:
    """One form per step: add documents, answer a request for documents, withdraw (the applicant);
    record a stage, a decision, a hearing, a note, the outcome (the assigned provider)."""
    try:
        application = _get(request, application_id)
    except NotFound as error:
        return _error_page(request, error)
    if _too_big(request):
        return _detail_page(request, application, {"documents": _too_big_message()}, 400)
    post, user = request.POST, request.user
    documents = [(kind, upload) for kind, _label in UPLOAD_KINDS for upload in request.FILES.getlist(kind)]
    try:
        if action == "documents":
            aid.aid_add_documents(actor=user, application=application, documents=documents, note=post.get("note", ""))
            messages.success(request, "材料已上传。")
        elif action == "supply":
            aid.aid_supply(actor=user, application=application, text=post.get("text", ""), documents=documents)
            messages.success(request, "已补充，工会将继续审查。")
        elif action == "withdraw":
            aid.aid_withdraw(actor=user, application=application, reason=post.get("reason", ""))
            messages.success(request, "申请已撤回。")
        elif action == "stage":
            aid.aid_stage_add(actor=user, application=application, kind=post.get("kind", ""),
                              started_on=post.get("started_on", ""), forum=post.get("forum", ""),
                              docket_no=post.get("docket_no", ""))
            messages.success(request, "已记录办理阶段，法定期限已列入。")
        elif action == "decision":
            aid.aid_stage_decision(actor=user, application=application, stage_id=post.get("stage_id"),
                                   received_on=post.get("received_on", ""), result=post.get("result", ""))
            messages.success(request, "已记录阶段结果。")
        elif action == "hearing":
            aid.aid_deadline_add(actor=user, application=application, title=post.get("title", ""),
                                 due_at=post.get("due_at", ""), place=post.get("place", ""),
                                 kind=AidDeadline.Kind.HEARING)
            messages.success(request, "已登记，申请人会收到通知。")
        elif action == "deadline_done":
            aid.aid_deadline_done(actor=user, application=application, deadline_id=post.get("deadline_id"))
        elif action == "note":
            aid.aid_note(actor=user, application=application, text=post.get("text", ""),
                         worker_visible=post.get("worker_visible") == "yes")
            messages.success(request, "已记录。")
        elif action == "conclude":
            aid.aid_conclude(actor=user, application=application, outcome=post.get("outcome", ""),
                             closing_report=post.get("closing_report", ""),
                             amount_awarded=post.get("amount_awarded") or None,
                             amount_recovered=post.get("amount_recovered") or None)
            messages.success(request, "已结案，等待工会审核归档。")
        else:
            raise NotFound("操作")
    except ServiceError as error:
        return _detail_page(request, application, {error.field or "form": error.message}, error.status, action)
    return redirect("portal:aid_detail", application_id=application.pk)


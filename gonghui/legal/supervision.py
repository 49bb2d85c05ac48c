"""Labour-law supervision (劳动法律监督, 一函两书): services and selectors.

Two or more monitors (劳动法律监督员) inspect an employer and write a SupervisionRecord: what they
found and the articles of the law violated, picked from the library. The record leads to letters:

- 提示函 (REMINDER) to the employer: a reminder, with a reply only if the union asks for one;
- 意见书 (OPINION) to the employer: correct the violation and reply in writing within a number of
  working days (LegalPolicy, 15 by default);
- 建议书 (SUGGESTION) from a county-level or higher union to the labour inspection authority, which
  must open a case or explain within a number of working days (5 by default); a grassroots union
  asks its nearest county-level ancestor to send one (record_escalate);
- 移送 (REFERRAL) of a lead to the procuratorate, for the grounds of REFERRAL_GROUNDS.

A letter is drafted, issued (签发: its serial number is assigned then, per issuing union, kind and
year, under a row lock on LetterSerial, so there are no gaps and no repeats; a voided letter keeps
its number), delivered (the reply clock starts), answered, and followed until the employer rectifies
or the union escalates (意见书 → 建议书 → 移送检察机关). Statuses move only along TRANSITIONS; every step
is a LetterEvent (actor, from and to status) and an audit entry in the same transaction.

Who may do what, by the general staff role (Grant.role) over the union concerned:
- VIEWER and above read records and letters in their subtree;
- STAFF write records, draft and edit letters, record delivery, replies, rectification and escalate;
- ADMIN issue (签发) and void letters.
Workers never. Unknown and out-of-scope ids both raise NotFound.
"""

from __future__ import annotations

import datetime
import re
import statistics
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.casedesk import selectors as case_selectors
from gonghui.casedesk.services import clean_text
from gonghui.core import cursors, workdays
from gonghui.core.audit import audit_log, diff
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.text import normalize_name
from gonghui.membership.models import OrgNotice
from gonghui.orgs.models import ROLE_RANK, Division, OrgKind, OrgUnit, Role
from gonghui.orgs.paths import ancestor_paths
from gonghui.orgs.selectors import actor_scope, employer_get, org_get

from . import documents
from .aid import policy_value
from .lawtext import NUMERAL, article_label, int_to_cn, parse_article_ref
from .models import (
    Article,
    LegalPolicy,
    LetterEvent,
    LetterKind,
    LetterSerial,
    LetterStatus,
    SupervisionLetter,
    SupervisionRecord,
)
from .selectors import law_get

Action = LetterEvent.Action
Kind = LetterKind
Status = LetterStatus
Trigger = SupervisionRecord.Trigger
VIEWER, STAFF, ADMIN = ROLE_RANK[Role.VIEWER], ROLE_RANK[Role.STAFF], ROLE_RANK[Role.ADMIN]
PAGE_MAX = 100
ID_MAX = 2**63 - 1

# Unions that may send a 建议书 or a referral: county level and above (placeholders are statistical
# groupings, not unions).
COUNTY_PLUS = (OrgKind.NATIONAL, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY)

# --- The state machine ----------------------------------------------------------------------------

TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.ISSUED, Status.VOID},
    Status.ISSUED: {Status.DELIVERED, Status.VOID},
    Status.DELIVERED: {Status.REPLIED, Status.RECTIFIED, Status.UNRESOLVED, Status.ESCALATED, Status.VOID},
    Status.REPLIED: {Status.RECTIFIED, Status.UNRESOLVED, Status.ESCALATED},
    Status.UNRESOLVED: {Status.RECTIFIED, Status.ESCALATED},
    Status.RECTIFIED: set(),
    Status.ESCALATED: set(),
    Status.VOID: set(),
}


@dataclass(frozen=True)
class Step:
    to_status: str
    rank: int  # the general role needed over the issuing union
    event: str
    verb: str  # for "文书当前为「…」，不能{verb}"


# Each action of a letter once: the status it leads to and who may take it. Editing a draft is not a
# status change (letter_update); escalation also depends on the kind and the deadline (can_escalate).
STEPS: dict[str, Step] = {
    "issue": Step(Status.ISSUED, ADMIN, Action.ISSUE, "签发"),
    "deliver": Step(Status.DELIVERED, STAFF, Action.DELIVER, "登记送达"),
    "reply": Step(Status.REPLIED, STAFF, Action.REPLY, "登记回复"),
    "rectify": Step(Status.RECTIFIED, STAFF, Action.RECTIFY, "登记整改完成"),
    "unresolved": Step(Status.UNRESOLVED, STAFF, Action.UNRESOLVED, "登记未整改"),
    "escalate": Step(Status.ESCALATED, STAFF, Action.ESCALATE, "升级"),
    "void": Step(Status.VOID, ADMIN, Action.VOID, "作废"),
}
# Letters still waiting for the employer (or the authority): a record is rectified when none is left.
AWAITING = (Status.ISSUED, Status.DELIVERED, Status.REPLIED, Status.UNRESOLVED)
# What a letter escalates to; a referral is the last step.
NEXT_KIND = {Kind.REMINDER: Kind.OPINION, Kind.OPINION: Kind.SUGGESTION, Kind.SUGGESTION: Kind.REFERRAL}

# Serial numbers: 〔2026〕第3号 after the issuer's code, "监" and one character for the kind.
KIND_CHAR = {Kind.REMINDER: "提", Kind.OPINION: "意", Kind.SUGGESTION: "建", Kind.REFERRAL: "移"}
KIND_SHORT = {Kind.REMINDER: "提示函", Kind.OPINION: "意见书", Kind.SUGGESTION: "建议书",
              Kind.REFERRAL: "移送检察机关线索函"}
REPLY_DAYS_SETTING = {Kind.REMINDER: "reminder_reply_days", Kind.OPINION: "opinion_reply_days",
                      Kind.SUGGESTION: "suggestion_reply_days"}

DELIVERY_METHODS = ("直接送达", "邮寄送达", "电子送达", "留置送达")

# Grounds on which a union passes a lead to the procuratorate (移送检察机关). Since 2024 the
# procuratorates and the unions cooperate on public-interest litigation for workers' rights where
# many workers are harmed and the public interest is at stake (see DOMAIN.md, "Legal services");
# this list follows that practice and is configurable (settings.GONGHUI_LEGAL_REFERRAL_GROUNDS):
# check it against the local implementing rules before relying on it.
DEFAULT_REFERRAL_GROUNDS = {
    "wage_arrears_mass": "欠薪涉及人数众多",
    "women_minors": "女职工和未成年工特殊保护",
    "safety_hazard": "安全生产重大隐患",
    "discrimination": "就业歧视",
    "gig_workers": "新就业形态劳动者权益保障",
}


def referral_grounds() -> dict[str, str]:
    return dict(getattr(settings, "GONGHUI_LEGAL_REFERRAL_GROUNDS", DEFAULT_REFERRAL_GROUNDS))


# Audit actions written here, with the console's label for each (gonghui/console/display.py).
AUDIT_LABELS = {
    "legal.record_create": "登记劳动法律监督记录",
    "legal.record_update": "修改劳动法律监督记录",
    "legal.record_escalate": "提请上级工会发出建议书",
    "legal.record_close": "结束劳动法律监督",
    "legal.letter_draft": "起草监督文书",
    "legal.letter_update": "修改监督文书草稿",
    "legal.letter_issue": "签发监督文书",
    "legal.letter_deliver": "登记监督文书送达",
    "legal.letter_reply": "登记监督文书回复",
    "legal.letter_rectify": "登记整改完成",
    "legal.letter_unresolved": "登记逾期未整改",
    "legal.letter_escalate": "监督文书升级",
    "legal.letter_void": "作废监督文书",
}

# Input limits.
MONITORS_MAX = 10
ARTICLES_MAX = 30
FINDINGS_MIN, FINDINGS_MAX = 10, 5000
BODY_MAX, PARAGRAPH_MAX = 10000, 3000
DEMANDS_MAX, DEMAND_MAX = 20, 500
REPLY_DAYS_MAX = 60
WORKERS_MAX = 10_000_000


# --- Small helpers --------------------------------------------------------------------------------


def record_number(record: SupervisionRecord) -> str:
    return f"JD{record.pk or 0:06d}"


def letter_title(letter: SupervisionLetter) -> str:
    """How a letter is named in lists and notices: its serial, or the kind and 草稿."""
    return letter.serial_label or f"{LetterKind(letter.kind).label}（草稿）"


def _pk(value, what: str, field: str | None = None) -> int:
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound(what, field) from None
    if not 0 < pk <= ID_MAX:
        raise NotFound(what, field)
    return pk


def _scoped(lookup, what: str, field: str):
    """A selector's lookup, its NotFound naming the request field the id came in."""
    try:
        return lookup()
    except NotFound:
        raise NotFound(what, field) from None


def _is_worker(actor) -> bool:
    return getattr(actor, "kind", None) == User.Kind.WORKER


def _rank(actor, path: str) -> int:
    if actor is None or _is_worker(actor):
        return 0
    return actor_scope(actor).rank_at(path)


def _require(actor, path: str, rank: int, message: str) -> None:
    if _rank(actor, path) < rank:
        raise PermissionDenied(message)


def is_county_plus(org: OrgUnit) -> bool:
    return org.kind in COUNTY_PLUS and not org.is_placeholder


def county_union_for(org: OrgUnit) -> OrgUnit | None:
    """The nearest county-level-or-higher union at or above `org` (None in a tree without one)."""
    if is_county_plus(org):
        return org
    return (OrgUnit.objects.filter(path__in=ancestor_paths(org.path, include_self=False), kind__in=COUNTY_PLUS,
                                   is_placeholder=False, is_active=True)
            .order_by("-path").first())


def reply_days_for(org: OrgUnit, kind: str) -> int:
    """The default reply time of a kind of letter from `org`: its LegalPolicy, the nearest ancestor's,
    then settings.GONGHUI_LEGAL_DEFAULTS. A referral has no union-set time (0: no reply clock)."""
    name = REPLY_DAYS_SETTING.get(kind)
    return int(policy_value(org, name) or 0) if name else 0


def _user_date(value, *, field: str, label: str, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{field}_required", f"请填写{label}", field)
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    try:
        return datetime.date.fromisoformat(text) if len(text) <= 10 else \
            _user_date(datetime.datetime.fromisoformat(text), field=field, label=label)
    except ValueError:
        raise ValidationFailed(f"{field}_invalid", f"{label}应为“2026-11-20”这样的日期", field) from None


def _user_moment(value, *, field: str, label: str) -> datetime.datetime:
    """A moment the user gives (ISO date-time, a date, or nothing for now), in the product's time zone."""
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        return _day_moment(value)
    else:
        text = str(value).strip()
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(f"{field}_invalid", f"{label}应为“2026-11-20 09:30”这样的时间", field) from None
        if len(text) <= 10:
            return _day_moment(moment.date())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _day_moment(day: datetime.date) -> datetime.datetime:
    """A day given without a time: now when it is today, else 09:00 that day (a working morning)."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)), timezone.get_current_timezone())


def _local(moment: datetime.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


def _cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _lines(value, *, field: str, label: str) -> list[str]:
    """A list of texts, or one text with one entry per line."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").split("\n")
    if not isinstance(value, (list, tuple)):
        raise ValidationFailed(f"{field}_invalid", f"{label}格式不正确", field)
    out = []
    for item in value:
        if not isinstance(item, str):
            raise ValidationFailed(f"{field}_invalid", f"{label}应为文字", field)
        out.append(item)
    return out


# --- The law library: articles named by staff -----------------------------------------------------

_ARTICLE_IN_LINE = re.compile(
    r"^(?P<law>.*?)\s*(?P<article>第\s*(?:\d{1,4}|[" + NUMERAL + r"]{1,8})\s*条|\d{1,4}\s*条?)"
    r"(?:\s*第\s*[\d" + NUMERAL + r"]+\s*[款项])*\s*$"
)


def parse_article_line(line: str) -> tuple[str, str]:
    """"劳动合同法第八十二条", "《中华人民共和国劳动法》第四十四条第一款", "劳动合同法 82" → (law, article).
    A paragraph or item (第一款, 第二项) is cited as its whole article."""
    text = normalize_name(line).strip("，,。；;、 ")
    found = _ARTICLE_IN_LINE.match(text)
    if not found or not found.group("law").strip("《》 "):
        raise ValidationFailed("article_invalid", f"「{text}」应写作法律名称加条号，例如“劳动合同法第八十二条”",
                               "articles")
    return found.group("law").strip("《》 "), found.group("article").replace(" ", "")


def _law(ref: str, field: str):
    """A law by slug, title or short title; 《》 and a 中华人民共和国 the library's title lacks are forgiven."""
    ref = ref.strip("《》 ")
    for candidate in dict.fromkeys([ref, ref.removeprefix("中华人民共和国")]):
        try:
            return law_get(candidate)
        except NotFound:
            continue
    raise ValidationFailed("law_unknown", f"法规库中没有《{ref}》，请检查法律名称（如“劳动合同法”）", field)


def resolve_articles(refs, *, field: str = "articles", required: bool = True) -> list[Article]:
    """Articles named as {"law": "labour-contract-law" | "劳动合同法", "article": "第八十二条" | 82}, or as
    text ("劳动合同法第八十二条"): each looked up in the library, in the order given, without repeats.
    A law or article that does not exist is named in the error."""
    if refs is None:
        refs = []
    if isinstance(refs, str):
        refs = [line for line in refs.replace("\r\n", "\n").split("\n") if line.strip()]
    if not isinstance(refs, (list, tuple)):
        raise ValidationFailed("articles_invalid", "违反的条款应为条文列表", field)
    if required and not refs:
        raise ValidationFailed("articles_required", "请至少引用一条违反的法律条文，例如“劳动合同法第八十二条”", field)
    if len(refs) > ARTICLES_MAX:
        raise ValidationFailed("articles_too_many", f"引用的条文最多{ARTICLES_MAX}条", field)
    found: list[Article] = []
    for ref in refs:
        if isinstance(ref, str):
            law_ref, article_ref = parse_article_line(ref)
        elif isinstance(ref, dict):
            law_ref, article_ref = str(ref.get("law") or "").strip(), str(ref.get("article") or "").strip()
        else:
            raise ValidationFailed("articles_invalid", "每条引用应写明法律和条号", field)
        if not law_ref:
            raise ValidationFailed("article_law_required", "请写明引用条文所属的法律法规", field)
        law = _law(law_ref, field)
        number = parse_article_ref(article_ref)
        if number is None:
            raise ValidationFailed("article_invalid", f"《{law.short_title}》的条号「{article_ref}」无法识别，"
                                   "应写作“第八十二条”或“82”", field)
        article = Article.objects.select_related("law").filter(law=law, number=number).first()
        if article is None:
            label = article_label(number) if number < 10000 else f"第{number}条"
            raise ValidationFailed("article_unknown", f"《{law.short_title}》没有{label}（共{law.article_count}条）",
                                   field)
        if article.pk not in {a.pk for a in found}:
            found.append(article)
    return found


def article_ref_text(article: Article) -> str:
    """What the picker shows for an article: 劳动合同法第八十二条."""
    return f"{article.law.short_title}{article.label}"


def cited_text(articles: list[Article]) -> str:
    """《中华人民共和国劳动合同法》第八十二条、第三十条和《中华人民共和国劳动法》第五十条."""
    groups: dict[int, list[Article]] = {}
    for article in sorted(articles, key=lambda a: (a.law.sort, a.law_id, a.number)):
        groups.setdefault(article.law_id, []).append(article)
    parts = [f"《{items[0].law.title}》" + "、".join(a.label for a in items) for items in groups.values()]
    if len(parts) <= 1:
        return "".join(parts)
    return "、".join(parts[:-1]) + "和" + parts[-1]


# --- Records --------------------------------------------------------------------------------------


def _clean_monitors(value) -> list[dict]:
    field = "monitors"
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)):
        raise ValidationFailed("monitors_invalid", "监督员名单格式不正确", field)
    monitors, seen = [], set()
    for i, item in enumerate(value, start=1):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValidationFailed("monitors_invalid", f"第{i}名监督员的信息格式不正确", field)
        name = normalize_name(str(item.get("name") or ""))
        cert_no = normalize_name(str(item.get("cert_no") or ""))
        if not name and not cert_no:
            continue  # an empty row of the form
        if not 2 <= len(name) <= 20:
            raise ValidationFailed("monitor_name_invalid", f"第{i}名监督员的姓名应为2至20个字", field)
        if any(ch.isdigit() for ch in name):
            raise ValidationFailed("monitor_name_invalid", f"第{i}名监督员的姓名「{name}」含有数字，请检查", field)
        if len(cert_no) > 30:
            raise ValidationFailed("monitor_cert_invalid", f"第{i}名监督员的证件编号不能超过30个字符", field)
        if name in seen:
            raise ValidationFailed("monitor_repeated", f"监督员「{name}」重复填写，请填写两名不同的监督员", field)
        seen.add(name)
        monitors.append({"name": name, "cert_no": cert_no})
    if len(monitors) < 2:
        raise ValidationFailed("monitors_too_few", "劳动法律监督须由两名以上监督员进行，请填写至少两名监督员的姓名", field)
    if len(monitors) > MONITORS_MAX:
        raise ValidationFailed("monitors_too_many", f"监督员最多填写{MONITORS_MAX}名", field)
    return monitors


def _count(value, *, field: str, label: str, high: int, default: int = 0) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field}_invalid", f"{label}应为整数", field) from None
    if not 0 <= number <= high:
        raise ValidationFailed(f"{field}_invalid", f"{label}应在0至{high}之间", field)
    return number


def _inspected_on(value) -> datetime.date:
    day = _user_date(value, field="inspected_on", label="检查日期")
    if day > timezone.localdate():
        raise ValidationFailed("inspected_on_future", "检查日期不能晚于今天", "inspected_on")
    if day.year < 2000:
        raise ValidationFailed("inspected_on_invalid", "检查日期有误，请检查年份", "inspected_on")
    return day


@dataclass
class _Source:
    trigger: str
    case: object = None
    cluster: object = None


def _linked(value, kept, *, fetch, what: str, field: str):
    """A linked case or cluster alert: looked up in the actor's scope when given, else the one kept."""
    if value in (None, ""):
        return kept
    return _scoped(lambda: fetch(_pk(value, what, field)), what, field)


def _source(actor, data: dict, record: SupervisionRecord | None) -> _Source:
    trigger = data.get("trigger", record.trigger if record else None)
    if trigger not in Trigger.values:
        raise ValidationFailed("trigger_invalid", "请选择监督来源：" + "、".join(Trigger.labels), "trigger")
    if data.get("case_id") not in (None, "") and trigger != Trigger.CASE:
        raise ValidationFailed("case_unexpected", "只有监督来源为“职工诉求”时才能关联诉求", "case_id")
    if data.get("cluster_id") not in (None, "") and trigger != Trigger.CLUSTER:
        raise ValidationFailed("cluster_unexpected", "只有监督来源为“风险预警”时才能关联群体性诉求预警", "cluster_id")
    # A link kept from the record is not looked up again: the editor may lack the case role it needs.
    kept_case = record.case if record and "case_id" not in data and trigger == Trigger.CASE else None
    kept_cluster = record.cluster if record and "cluster_id" not in data and trigger == Trigger.CLUSTER else None
    case = _linked(data.get("case_id"), kept_case, what="诉求", field="case_id",
                   fetch=lambda pk: case_selectors.case_get(actor=actor, case_id=pk))
    cluster = _linked(data.get("cluster_id"), kept_cluster, what="群体性诉求预警", field="cluster_id",
                      fetch=lambda pk: case_selectors.cluster_get(actor=actor, alert_id=pk))
    return _Source(trigger, case, cluster)


def _employer(actor, data: dict, source: _Source, record: SupervisionRecord | None) -> tuple:
    """(employer or None, name, address): a registered employer in the actor's scope, else a name and an
    address as written; a linked case or alert lends its employer when none is given."""
    employer_id, name = data.get("employer_id"), data.get("employer_name")
    employer = None
    if employer_id not in (None, ""):
        employer = _scoped(lambda: employer_get(actor=actor, employer_id=_pk(employer_id, "用人单位", "employer_id")),
                           "用人单位", "employer_id")
    elif record is not None and "employer_id" not in data and not name:
        employer, name = record.employer, record.employer_name  # kept as it was
    elif not name:
        linked = source.case or source.cluster
        employer = getattr(linked, "employer", None)
        name = getattr(linked, "employer_name", "") if employer is None else ""
    given_address = data.get("employer_address", record.employer_address if record else "")
    address = clean_text(given_address, field="employer_address", label="单位地址", max_len=200)
    if employer is not None:
        return employer, employer.name, address or employer.address[:200]
    name = normalize_name(clean_text(name, field="employer_name", label="用人单位名称", max_len=200))
    if len(name) < 2:
        raise ValidationFailed("employer_required", "请选择已登记的用人单位，或填写用人单位名称（至少2个字）",
                               "employer_name")
    return None, name, address


def _clean_record(actor, data: dict, *, record: SupervisionRecord | None = None) -> dict:
    """The record's fields from the input: all of them for a new record, those given for an edit."""
    def wants(*names: str) -> bool:
        return record is None or bool(set(names) & set(data))

    out: dict = {}
    source = _Source(record.trigger if record else "", record.case if record else None,
                     record.cluster if record else None)
    if wants("trigger", "case_id", "cluster_id"):
        source = _source(actor, data, record)
        out.update(trigger=source.trigger, case=source.case, cluster=source.cluster)
    if wants("employer_id", "employer_name", "employer_address"):
        out["employer"], out["employer_name"], out["employer_address"] = _employer(actor, data, source, record)
    if wants("inspected_on"):
        out["inspected_on"] = _inspected_on(data.get("inspected_on"))
    if wants("monitors"):
        out["monitors"] = _clean_monitors(data.get("monitors"))
    if wants("findings"):
        out["findings"] = clean_text(data.get("findings"), field="findings", label="发现的问题", min_len=FINDINGS_MIN,
                                     max_len=FINDINGS_MAX)
    if wants("workers_affected"):
        linked = source.case or source.cluster
        default = (getattr(linked, "workers_affected", None) or getattr(linked, "workers", None) or 0) if linked else 0
        out["workers_affected"] = _count(data.get("workers_affected"), field="workers_affected", label="涉及职工人数",
                                         high=WORKERS_MAX, default=default)
    if wants("articles"):
        out["articles"] = resolve_articles(data.get("articles"))
    return out


RECORD_AUDIT_FIELDS = ["trigger", "case_id", "cluster_id", "employer_id", "employer_name", "employer_address",
                       "inspected_on", "monitors", "findings", "workers_affected"]


def _record_snapshot(record: SupervisionRecord) -> dict:
    snap = {name: getattr(record, name) for name in RECORD_AUDIT_FIELDS}
    snap["inspected_on"] = str(snap["inspected_on"])
    snap["articles"] = sorted(record.articles.values_list("pk", flat=True)) if record.pk else []
    return snap


def record_create(*, actor, org_id, trigger: str, inspected_on, monitors, findings: str, articles,
                  case_id=None, cluster_id=None, employer_id=None, employer_name: str = "",
                  employer_address: str = "", workers_affected=None) -> SupervisionRecord:
    """A supervision at an employer, recorded by the union (org_id) whose monitors carried it out."""
    org = _scoped(lambda: org_get(actor=actor, org_id=_pk(org_id, "工会组织", "org_id")), "工会组织", "org_id")
    _require(actor, org.path, STAFF, "只有本工会的工作人员可以登记劳动法律监督记录")
    data = {"trigger": trigger, "case_id": case_id, "cluster_id": cluster_id, "employer_id": employer_id,
            "employer_name": employer_name, "employer_address": employer_address, "inspected_on": inspected_on,
            "monitors": monitors, "findings": findings, "articles": articles, "workers_affected": workers_affected}
    values = _clean_record(actor, data)
    chosen = values.pop("articles")
    record = SupervisionRecord(org=org, org_path=org.path, province_code=org.province_code, created_by=actor,
                               **values)
    with transaction.atomic():
        record.save()
        record.articles.set(chosen)
        audit_log(actor=actor, action="legal.record_create", obj=record, object_repr=f"{record_number(record)} "
                  f"{record.employer_name}", org=org, after=_record_snapshot(record))
    return record


def record_update(*, actor, record: SupervisionRecord, **changes) -> SupervisionRecord:
    """Correct a record (only the fields given). Letters already drafted keep their own text and
    articles; a closed record is kept as it is."""
    allowed = {"trigger", "case_id", "cluster_id", "employer_id", "employer_name", "employer_address",
               "inspected_on", "monitors", "findings", "articles", "workers_affected"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed("field_unknown", f"不能修改：{'、'.join(sorted(unknown))}", sorted(unknown)[0])
    _require(actor, record.org_path, STAFF, "只有本工会的工作人员可以修改劳动法律监督记录")
    values = _clean_record(actor, changes, record=record)
    with transaction.atomic():
        record = SupervisionRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
        if record.status == SupervisionRecord.Status.CLOSED:
            raise Conflict("record_closed", "监督记录已结束，不能再修改", "status")
        before = _record_snapshot(record)
        chosen = values.pop("articles", None)
        for name, value in values.items():
            setattr(record, name, value)
        record.save()
        if chosen is not None:
            record.articles.set(chosen)
        old, new = diff(before, _record_snapshot(record))
        audit_log(actor=actor, action="legal.record_update", obj=record, org=record.org,
                  object_repr=f"{record_number(record)} {record.employer_name}", before=old, after=new)
    return record


def record_close(*, actor, record: SupervisionRecord, note: str) -> SupervisionRecord:
    """结束监督: the follow-up is over (rectified, the employer closed, or the matter passed to the
    authority). Refused while a draft or a letter waiting for the employer is open: void or settle it
    first. A closed record takes no new letters."""
    _require(actor, record.org_path, STAFF, "只有本工会的工作人员可以结束劳动法律监督记录")
    note = clean_text(note, field="note", label="结束说明", min_len=4, max_len=500)
    with transaction.atomic():
        record = SupervisionRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
        if record.status == SupervisionRecord.Status.CLOSED:
            return record
        pending = record.letters.filter(status__in=(Status.DRAFT, *AWAITING)).select_related("org").first()
        if pending is not None:
            raise Conflict("letters_pending", f"还有未办结的文书（{pending.get_kind_display()}"
                           f"{'，' + pending.serial_label if pending.serial_label else '，草稿'}），请先办结或作废", "record")
        was = record.status
        record.status = SupervisionRecord.Status.CLOSED
        record.save(update_fields=["status", "updated_at"])
        audit_log(actor=actor, action="legal.record_close", obj=record, org=record.org,
                  object_repr=f"{record_number(record)} {record.employer_name}",
                  before={"status": was}, after={"status": record.status, "note": note})
    return record


def record_escalate(*, actor, record: SupervisionRecord, note: str = "") -> SupervisionLetter:
    """提请上级: a union that may not send a 建议书 itself (below county level) asks its nearest
    county-level ancestor to send one. The record stays where it is; the draft belongs to the ancestor,
    which is told on its board. Asking again while that draft is open returns it."""
    _require(actor, record.org_path, STAFF, "只有本工会的工作人员可以提请上级工会发出建议书")
    note = clean_text(note, field="note", label="提请说明", max_len=500)
    with transaction.atomic():
        record = SupervisionRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
        if record.status == SupervisionRecord.Status.CLOSED:
            raise Conflict("record_closed", "监督记录已结束，不能再提请发出建议书", "record")
        target = county_union_for(record.org)
        if target is None:
            raise ValidationFailed("no_county_union", "上级没有县级以上工会，无法提请发出建议书", "record")
        existing = record.letters.filter(kind=Kind.SUGGESTION, org=target, status=Status.DRAFT).first()
        if existing is not None:
            return existing
        letter = _new_draft(record=record, org=target, kind=Kind.SUGGESTION, actor=actor, previous=None)
        text = f"{record.org.name}提请发出建议书" + (f"：{note}" if note else "")
        _event(letter, Action.DRAFT, actor, was="", text=text)
        audit_log(actor=actor, action="legal.record_escalate", obj=record, org=record.org,
                  object_repr=f"{record_number(record)} {record.employer_name}",
                  after={"letter_id": letter.pk, "to_org_id": target.pk, "note": note})
        if target.pk != record.org_id:
            _notify(target, "下级工会提请发出劳动法律监督建议书",
                    f"{record.org.name}对「{record.employer_name}」的监督记录{record_number(record)}提请本会向劳动保障"
                    f"监察机构发出建议书，草稿已生成，请审核。" + (f"说明：{note}" if note else ""), letter)
    return letter


# --- Letters: drafting ----------------------------------------------------------------------------


def recipient_default(record: SupervisionRecord, kind: str, org: OrgUnit) -> str:
    if kind in (Kind.REMINDER, Kind.OPINION):
        return record.employer_name
    place = _place_name(record, org)
    if kind == Kind.SUGGESTION:
        return f"{place}人力资源和社会保障局劳动保障监察{_inspection_unit(record, org)}"
    return f"{place}人民检察院"


def _place_division(record: SupervisionRecord, org: OrgUnit) -> Division | None:
    """The employer's county (or the issuing union's territory), for the authority there."""
    division = record.employer.division if record.employer_id and record.employer else None
    if division is None:
        from gonghui.orgs.services import territory_of

        division = territory_of(org)
    while division is not None and division.level > Division.Level.COUNTY:
        division = division.parent
    return division


def _place_name(record: SupervisionRecord, org: OrgUnit) -> str:
    division = _place_division(record, org)
    if division is None:
        return ""
    names = [division.name]
    parent = division.parent
    if division.level == Division.Level.COUNTY and parent is not None:
        if parent.is_placeholder:  # 北京市 市辖区 东城区: the province names the city
            parent = parent.parent
        if parent is not None:
            names.insert(0, parent.name)
    return "".join(names)


def _inspection_unit(record: SupervisionRecord, org: OrgUnit) -> str:
    division = _place_division(record, org)
    level = division.level if division else Division.Level.COUNTY
    return {Division.Level.PROVINCE: "总队", Division.Level.PREFECTURE: "支队"}.get(level, "大队")


BASIS = "根据《中华人民共和国劳动法》第八十八条、《中华人民共和国劳动合同法》第七十八条的规定"


def _default_body(record: SupervisionRecord, kind: str, org: OrgUnit, articles: list[Article],
                  previous: SupervisionLetter | None, referral_ground: str = "") -> list[str]:
    names = "、".join(m["name"] for m in record.monitors)
    when = _cn_date(record.inspected_on)
    findings = record.findings.replace("\n", "").rstrip("。；;，,") + "。"
    cited = cited_text(articles)
    ours = "本会" if record.org_id == org.pk else record.org.name
    if kind in (Kind.REMINDER, Kind.OPINION):
        opening = f"{when}，{ours}劳动法律监督员{names}对你单位遵守劳动法律法规的情况进行了监督检查，发现你单位存在以下问题：{findings}"
    else:
        where = f"（地址：{record.employer_address}）" if record.employer_address else ""
        opening = (f"{when}，{ours}劳动法律监督员{names}对{record.employer_name}{where}遵守劳动法律法规的情况进行了"
                   f"监督检查，发现该单位存在以下问题：{findings}")
    paragraphs = [opening]
    if previous is not None and previous.serial_label:
        if previous.status == Status.UNRESOLVED:
            answer = "未按要求整改"
        elif previous.status == Status.REPLIED:
            answer = "回复后仍未整改到位"
        elif previous.reply_due_at is not None:
            answer = "逾期未回复、未整改"
        else:
            answer = "未予纠正"
        who = "本会" if previous.org_id == org.pk else previous.org.name
        sent = _cn_date(timezone.localtime(previous.issued_at).date())
        paragraphs.append(f"{who}已于{sent}向{previous.recipient}发出{LetterKind(previous.kind).label}"
                          f"（{previous.serial_label}），该单位{answer}。")
    if kind == Kind.REMINDER:
        paragraphs.append(f"上述情况不符合{cited}的规定。{BASIS}，特向你单位提示：请对照有关规定认真自查，"
                          "及时纠正，依法保障职工的合法权益。")
    elif kind == Kind.OPINION:
        paragraphs.append(f"上述行为违反了{cited}的规定。{BASIS}，本会要求你单位依法予以纠正，并提出如下整改意见：")
    elif kind == Kind.SUGGESTION:
        paragraphs.append(f"上述行为违反了{cited}的规定。根据《劳动保障监察条例》第七条和《中华人民共和国劳动法》第八十八条的"
                          "规定，本会建议你单位依法对该单位进行调查处理，具体建议如下：")
    else:
        ground = referral_grounds().get(referral_ground, "")
        about = f"涉及{ground}，" if ground else ""
        paragraphs.append(f"上述行为违反了{cited}的规定，{about}侵害众多劳动者的合法权益，损害社会公共利益。根据检察机关"
                          "与工会组织在公益诉讼中加强协作配合的有关规定，现将该线索移送你院，请依法审查处理。")
    return paragraphs


DEFAULT_DEMANDS = {
    Kind.REMINDER: [],
    Kind.OPINION: ["对照上述法律规定，立即纠正违法行为。",
                   "依法保障受影响职工的合法权益，应当支付的款项及时足额支付。",
                   "健全相关规章制度，防止类似问题再次发生。"],
    Kind.SUGGESTION: ["依法对该单位开展劳动保障监察，责令其限期改正违法行为。",
                      "督促该单位依法保障受影响职工的合法权益。"],
    Kind.REFERRAL: ["依法审查该线索，必要时开展公益诉讼调查。"],
}


def reply_clause(kind: str, days: int | None) -> str:
    """请于收到本意见书之日起十五个工作日内将整改情况书面回复本会。"""
    if not days:
        return ""
    n = int_to_cn(days)
    if kind == Kind.OPINION:
        return f"请于收到本意见书之日起{n}个工作日内将整改情况书面回复本会。"
    if kind == Kind.SUGGESTION:
        return f"请于收到本建议书之日起{n}个工作日内将是否立案查处或者处理情况书面告知本会。"
    if kind == Kind.REFERRAL:
        return f"请于收到本函之日起{n}个工作日内将受理情况告知本会。"
    return f"请于收到本提示函之日起{n}个工作日内将自查纠正情况书面回复本会。"


_ENUMERATOR = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十\d]{1,3}\s*[、.．]|[-*•·])\s*")


def _clean_body(value, required: bool = True) -> list[str]:
    paragraphs = [clean_text(p, field="body", label="正文段落", max_len=PARAGRAPH_MAX)
                  for p in _lines(value, field="body", label="正文")]
    paragraphs = [p for p in paragraphs if p]
    total = sum(len(p) for p in paragraphs)
    if required and total < 10:
        raise ValidationFailed("body_too_short" if paragraphs else "body_required",
                               "请填写正文（至少10个字）" if not paragraphs else "正文至少10个字", "body")
    if total > BODY_MAX:
        raise ValidationFailed("body_too_long", f"正文不能超过{BODY_MAX}个字（现有{total}个字）", "body")
    return paragraphs


def _clean_demands(value, kind: str) -> list[str]:
    items = []
    for i, raw in enumerate(_lines(value, field="demands", label="整改要求"), start=1):
        text = _ENUMERATOR.sub("", clean_text(raw, field="demands", label="整改要求", max_len=DEMAND_MAX + 10))
        if not text:
            continue
        if len(text) > DEMAND_MAX:
            raise ValidationFailed("demands_too_long", f"第{i}项要求不能超过{DEMAND_MAX}个字", "demands")
        items.append(text)
    if len(items) > DEMANDS_MAX:
        raise ValidationFailed("demands_too_many", f"要求或建议事项最多{DEMANDS_MAX}项", "demands")
    if kind == Kind.OPINION and not items:
        raise ValidationFailed("demands_required", "意见书须写明整改要求（每行一项）", "demands")
    if kind == Kind.SUGGESTION and not items:
        raise ValidationFailed("demands_required", "建议书须写明建议事项（每行一项）", "demands")
    return items


def _clean_reply_days(value, kind: str, org: OrgUnit) -> int:
    if value in (None, ""):
        return reply_days_for(org, kind)
    days = _count(value, field="reply_days", label="回复期限（工作日）", high=REPLY_DAYS_MAX)
    if kind in (Kind.OPINION, Kind.SUGGESTION) and days < 1:
        raise ValidationFailed("reply_days_required", f"{KIND_SHORT[kind]}须设定回复期限（1至{REPLY_DAYS_MAX}个工作日）",
                               "reply_days")
    return days


def _clean_ground(value, kind: str) -> str:
    value = (value or "").strip()
    grounds = referral_grounds()
    if kind != Kind.REFERRAL:
        if value:
            raise ValidationFailed("referral_ground_unexpected", "只有移送检察机关的线索函需要填写移送事由", "referral_ground")
        return ""
    if value not in grounds:
        raise ValidationFailed("referral_ground_invalid", "请选择移送事由：" + "、".join(grounds.values()),
                               "referral_ground")
    return value


def _check_issuer_level(org: OrgUnit, kind: str) -> None:
    if kind in (Kind.SUGGESTION, Kind.REFERRAL) and not is_county_plus(org):
        what = "建议书" if kind == Kind.SUGGESTION else "移送检察机关的线索"
        raise PermissionDenied(f"{what}须由县级以上工会发出，{org.name}不能直接发出，请提请上级工会",
                               code="county_level_required", field="kind")


def _issuer(actor, record: SupervisionRecord, org_id) -> OrgUnit:
    """The issuing union: the record's own, or an ancestor of it where the actor works."""
    if org_id in (None, "", record.org_id):
        return record.org
    org = _scoped(lambda: org_get(actor=actor, org_id=_pk(org_id, "工会组织", "org_id")), "工会组织", "org_id")
    if not record.org_path.startswith(org.path):
        raise ValidationFailed("issuer_invalid", "发文工会应为监督记录所属工会或其上级工会", "org_id")
    return org


def _new_draft(*, record: SupervisionRecord, org: OrgUnit, kind: str, actor, previous: SupervisionLetter | None,
               recipient: str | None = None, recipient_address: str | None = None, body: list[str] | None = None,
               demands: list[str] | None = None, articles: list[Article] | None = None,
               reply_days: int | None = None, referral_ground: str = "") -> SupervisionLetter:
    """Write a draft (inside the caller's transaction): what was not given comes from the record."""
    if articles is None:
        articles = list(previous.articles.select_related("law")) if previous is not None else \
            list(record.articles.select_related("law"))
    if body is None:
        body = _default_body(record, kind, org, articles, previous, referral_ground)
    if demands is None:
        demands = list(DEFAULT_DEMANDS[kind])
    if recipient is None:
        recipient = recipient_default(record, kind, org)
    if recipient_address is None:
        recipient_address = record.employer_address if kind in (Kind.REMINDER, Kind.OPINION) else ""
    letter = SupervisionLetter.objects.create(
        record=record, kind=kind, org=org, org_path=org.path, province_code=org.province_code, previous=previous,
        recipient=recipient[:200], recipient_address=recipient_address[:200], body="\n".join(body),
        demands="\n".join(demands), referral_ground=referral_ground,
        reply_days=reply_days if reply_days is not None else reply_days_for(org, kind),
        status=Status.DRAFT, created_by=actor if getattr(actor, "pk", None) else None)
    letter.articles.set(articles)
    return letter


def letter_draft(*, actor, record: SupervisionRecord, kind: str, org_id=None, recipient: str | None = None,
                 recipient_address: str | None = None, body=None, demands=None, articles=None, reply_days=None,
                 referral_ground: str = "") -> SupervisionLetter:
    """Draft a letter from a record. Anything not given is filled from the record and the templates
    (the body, the demands, the recipient, the record's articles, the union's reply time)."""
    if kind not in Kind.values:
        raise ValidationFailed("kind_invalid", "文书类型只能是：" + "、".join(Kind.labels), "kind")
    org = _issuer(actor, record, org_id)
    _require(actor, org.path, STAFF, "只有发文工会的工作人员可以起草监督文书")
    _check_issuer_level(org, kind)
    if record.status == SupervisionRecord.Status.CLOSED:
        raise Conflict("record_closed", "监督记录已结束，不能再起草文书", "record")
    if recipient is not None:
        recipient = normalize_name(clean_text(recipient, field="recipient", label="主送单位", min_len=2, max_len=200))
    recipient_address = None if recipient_address is None else clean_text(
        recipient_address, field="recipient_address", label="送达地址", max_len=200)
    ground = _clean_ground(referral_ground, kind)
    chosen = None if articles is None else resolve_articles(articles)
    paragraphs = None if body is None else _clean_body(body)
    items = None if demands is None else _clean_demands(demands, kind)
    days = _clean_reply_days(reply_days, kind, org)
    with transaction.atomic():
        letter = _new_draft(record=record, org=org, kind=kind, actor=actor, previous=None, recipient=recipient,
                            recipient_address=recipient_address, body=paragraphs, demands=items, articles=chosen,
                            reply_days=days, referral_ground=ground)
        _event(letter, Action.DRAFT, actor, was="")
        _audit(actor, "letter_draft", letter, after={"record_id": record.pk, "kind": kind, "org_id": org.pk,
                                                      "reply_days": days})
    return letter


LETTER_EDITABLE = ("recipient", "recipient_address", "body", "demands", "articles", "reply_days", "referral_ground")


def letter_update(*, actor, letter: SupervisionLetter, **changes) -> SupervisionLetter:
    """Edit a draft (only the fields given). An issued letter is never changed: void it and draft anew."""
    unknown = set(changes) - set(LETTER_EDITABLE)
    if unknown:
        raise ValidationFailed("field_unknown", f"不能修改：{'、'.join(sorted(unknown))}", sorted(unknown)[0])
    _require(actor, letter.org_path, STAFF, "只有发文工会的工作人员可以修改监督文书")
    values: dict = {}
    if "recipient" in changes:
        values["recipient"] = normalize_name(clean_text(changes["recipient"], field="recipient", label="主送单位",
                                                        min_len=2, max_len=200))
    if "recipient_address" in changes:
        values["recipient_address"] = clean_text(changes["recipient_address"], field="recipient_address",
                                                 label="送达地址", max_len=200)
    if "body" in changes:
        values["body"] = "\n".join(_clean_body(changes["body"]))
    if "demands" in changes:
        values["demands"] = "\n".join(_clean_demands(changes["demands"], letter.kind))
    if "reply_days" in changes:
        values["reply_days"] = _clean_reply_days(changes["reply_days"], letter.kind, letter.org)
    if "referral_ground" in changes:
        values["referral_ground"] = _clean_ground(changes["referral_ground"], letter.kind)
    chosen = resolve_articles(changes["articles"]) if "articles" in changes else None
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status != Status.DRAFT:
            raise Conflict("letter_not_draft", f"文书当前为「{letter.get_status_display()}」，已签发的文书不能修改；"
                           "如需更正，请作废后重新起草", "status")
        before = {name: getattr(letter, name) for name in values}
        if chosen is not None:
            before["articles"] = sorted(letter.articles.values_list("pk", flat=True))
        for name, value in values.items():
            setattr(letter, name, value)
        letter.save()
        after = dict(values)
        if chosen is not None:
            letter.articles.set(chosen)
            after["articles"] = sorted(a.pk for a in chosen)
        old, new = diff(before, after)
        if new:
            _event(letter, Action.EDIT, actor, text="修改了：" + "、".join(_FIELD_NAMES.get(k, k) for k in new))
            _audit(actor, "letter_update", letter, before=old, after=new)
    return letter


_FIELD_NAMES = {"recipient": "主送单位", "recipient_address": "送达地址", "body": "正文", "demands": "要求事项",
                "articles": "引用条文", "reply_days": "回复期限", "referral_ground": "移送事由"}


# --- Letters: the workflow ------------------------------------------------------------------------


def _lock(letter: SupervisionLetter) -> SupervisionLetter:
    return (SupervisionLetter.objects.select_for_update(of=("self",))
            .select_related("org", "record", "record__org", "previous", "previous__org").get(pk=letter.pk))


def _move(letter: SupervisionLetter, action: str) -> str:
    step = STEPS[action]
    if step.to_status not in TRANSITIONS[letter.status]:
        raise Conflict("status_invalid", f"文书当前为「{letter.get_status_display()}」，不能{step.verb}", "status")
    was = letter.status
    letter.status = step.to_status
    return was


def _event(letter: SupervisionLetter, action: str, actor, *, was: str | None = None, text: str = "") -> LetterEvent:
    return LetterEvent.objects.create(letter=letter, action=action, actor=actor if getattr(actor, "pk", None) else None,
                                      from_status=letter.status if was is None else was, to_status=letter.status,
                                      text=text[:5000])


def _audit(actor, name: str, letter: SupervisionLetter, **kwargs) -> None:
    audit_log(actor=actor if getattr(actor, "pk", None) else None, action=f"legal.{name}", obj=letter,
              object_repr=f"{letter_title(letter)}（{record_number(letter.record)} {letter.record.employer_name}）",
              org=letter.org, **kwargs)


def letter_link(letter: SupervisionLetter) -> str:
    return f"/console/legal/supervision/letters/{letter.pk}/"


def _notify(org: OrgUnit, title: str, body: str, letter: SupervisionLetter) -> None:
    OrgNotice.objects.create(org=org, org_path=org.path, kind="legal_letter", title=title[:100], body=body[:500],
                             link=letter_link(letter))


def _require_step(actor, letter: SupervisionLetter, action: str) -> None:
    if STEPS[action].rank >= ADMIN:
        message = "只有发文工会的管理员可以" + STEPS[action].verb + "监督文书"
    else:
        message = "只有发文工会的工作人员可以" + STEPS[action].verb
    _require(actor, letter.org_path, STEPS[action].rank, message)


def issuer_code(org: OrgUnit) -> str:
    """The issuer's code in serial numbers: the union's own LegalPolicy.letter_prefix (深南工), else its
    name from its place on (深圳市南山区总工会 → 南山区总工会)."""
    prefix = LegalPolicy.objects.filter(org=org).values_list("letter_prefix", flat=True).first()
    if prefix:
        return prefix
    name = org.name
    division = org.division.name if org.division_id else ""
    if division and division in name and not name.startswith(division):
        name = name[name.index(division):]
    return name[:40]


def serial_label(org: OrgUnit, kind: str, year: int, serial: int) -> str:
    return f"{issuer_code(org)}监{KIND_CHAR[kind]}〔{year}〕第{serial}号"


def letter_issue(*, actor, letter: SupervisionLetter) -> SupervisionLetter:
    """签发 (the issuing union's admin): the letter gets the next serial number of its union, kind and
    year. The counter row is locked until the transaction ends, so two issues at once take turns and
    numbers have no gaps and no repeats (a rolled-back issue gives its number back)."""
    _require_step(actor, letter, "issue")
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.ISSUED:
            return letter  # a double click
        _check_issuer_level(letter.org, letter.kind)
        if not letter.articles.exists():
            raise ValidationFailed("articles_required", "文书没有引用任何法律条文，请先在草稿中补充", "articles")
        if letter.kind == Kind.REFERRAL and letter.referral_ground not in referral_grounds():
            raise ValidationFailed("referral_ground_required", "请先在草稿中选择移送事由：" + "、".join(
                referral_grounds().values()), "referral_ground")
        was = _move(letter, "issue")
        now = timezone.now()
        year = timezone.localtime(now).year
        counter, _ = LetterSerial.objects.select_for_update().get_or_create(org=letter.org, kind=letter.kind, year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
        letter.year, letter.serial = year, counter.last
        letter.serial_label = serial_label(letter.org, letter.kind, year, counter.last)
        letter.issued_at, letter.issued_by = now, actor
        letter.save()
        record = letter.record
        if record.status == SupervisionRecord.Status.RECTIFIED:  # a new letter reopens the follow-up
            SupervisionRecord.objects.filter(pk=record.pk).update(status=SupervisionRecord.Status.OPEN,
                                                                  rectified_at=None)
        _event(letter, Action.ISSUE, actor, was=was, text=letter.serial_label)
        _audit(actor, "letter_issue", letter, after={"serial_label": letter.serial_label})
    return letter


def letter_deliver(*, actor, letter: SupervisionLetter, method: str, received_by: str = "",
                   delivered_at=None) -> SupervisionLetter:
    """送达: the reply clock starts (reply_days working days from the day of delivery); a letter without
    reply days needs no reply."""
    _require_step(actor, letter, "deliver")
    method = (method or "").strip()
    if method not in DELIVERY_METHODS:
        raise ValidationFailed("method_invalid", "请选择送达方式：" + "、".join(DELIVERY_METHODS), "method")
    received_by = normalize_name(clean_text(received_by, field="received_by", label="签收人", max_len=50))
    if method == "直接送达" and not received_by:
        raise ValidationFailed("received_by_required", "直接送达请填写签收人", "received_by")
    moment = _user_moment(delivered_at, field="delivered_at", label="送达时间")
    now = timezone.now()
    if moment > now:
        raise ValidationFailed("delivered_at_future", "送达时间不能晚于现在", "delivered_at")
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.DELIVERED:
            return letter
        if letter.issued_at and moment < letter.issued_at and \
                timezone.localtime(moment).date() == timezone.localtime(letter.issued_at).date():
            moment = letter.issued_at  # the same day, given without a time
        if letter.issued_at and moment < letter.issued_at:
            raise ValidationFailed("delivered_before_issue", f"送达时间不能早于签发时间（{_local(letter.issued_at)}）",
                                   "delivered_at")
        was = _move(letter, "deliver")
        letter.delivered_at, letter.delivery_method, letter.received_by = moment, method, received_by
        letter.reply_due_at = workdays.deadline(moment, letter.reply_days) if letter.reply_days else None
        letter.save()
        due = f"，回复期限{_local(letter.reply_due_at)}" if letter.reply_due_at else "，无需回复"
        _event(letter, Action.DELIVER, actor, was=was,
               text=f"{method}" + (f"，签收人{received_by}" if received_by else "") + due)
        _audit(actor, "letter_deliver", letter, after={"method": method, "delivered_at": moment,
                                                        "reply_due_at": letter.reply_due_at})
    return letter


def _answer_moment(value, letter: SupervisionLetter, *, field: str, label: str) -> datetime.datetime:
    day = _user_date(value, field=field, label=label, required=False) or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationFailed(f"{field}_future", f"{label}不能晚于今天", field)
    moment = _day_moment(day)
    if letter.delivered_at and day < timezone.localtime(letter.delivered_at).date():
        raise ValidationFailed(f"{field}_before_delivery", f"{label}不能早于送达日期（{_local(letter.delivered_at)}）",
                               field)
    return max(moment, letter.delivered_at) if letter.delivered_at else moment


def letter_reply(*, actor, letter: SupervisionLetter, text: str, replied_on=None) -> SupervisionLetter:
    """收到回复: the employer's (or the authority's) written answer, on the day it came in."""
    _require_step(actor, letter, "reply")
    text = clean_text(text, field="text", label="回复内容", min_len=2, max_len=5000)
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.REPLIED:
            return letter
        moment = _answer_moment(replied_on, letter, field="replied_on", label="回复日期")
        was = _move(letter, "reply")
        letter.replied_at, letter.reply_text = moment, text
        letter.save()
        late = letter.reply_due_at is not None and moment > letter.reply_due_at
        _event(letter, Action.REPLY, actor, was=was, text=("（逾期回复）" if late else "") + text)
        _audit(actor, "letter_reply", letter, after={"replied_at": moment, "late": late})
    return letter


def letter_rectified(*, actor, letter: SupervisionLetter, text: str, rectified_on=None) -> SupervisionLetter:
    """整改完成; the record is rectified too when none of its letters is still waiting."""
    _require_step(actor, letter, "rectify")
    text = clean_text(text, field="text", label="整改情况", min_len=2, max_len=5000)
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.RECTIFIED:
            return letter
        moment = _answer_moment(rectified_on, letter, field="rectified_on", label="整改完成日期")
        was = _move(letter, "rectify")
        letter.rectified_at, letter.rectification = moment, text
        letter.save()
        _event(letter, Action.RECTIFY, actor, was=was, text=text)
        _audit(actor, "letter_rectify", letter, after={"rectified_at": moment})
        record = SupervisionRecord.objects.select_for_update().get(pk=letter.record_id)
        if record.status == SupervisionRecord.Status.OPEN and not record.letters.filter(status__in=AWAITING).exists():
            record.status, record.rectified_at = SupervisionRecord.Status.RECTIFIED, moment
            record.save(update_fields=["status", "rectified_at", "updated_at"])
    return letter


def letter_unresolved(*, actor, letter: SupervisionLetter, reason: str) -> SupervisionLetter:
    """未整改: the employer refused or did not correct; the letter can then be escalated."""
    _require_step(actor, letter, "unresolved")
    reason = clean_text(reason, field="reason", label="未整改情况", min_len=2, max_len=1000)
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.UNRESOLVED:
            return letter
        was = _move(letter, "unresolved")
        letter.save()
        _event(letter, Action.UNRESOLVED, actor, was=was, text=reason)
        _audit(actor, "letter_unresolved", letter, after={"reason": reason})
    return letter


def escalation_refusal(letter: SupervisionLetter, now: datetime.datetime | None = None) -> str:
    """Why the letter cannot be escalated now ("" when it can)."""
    if letter.kind not in NEXT_KIND:
        return "移送检察机关的线索函已是最后一步，不能再升级"
    if Status.ESCALATED not in TRANSITIONS[letter.status]:
        return f"文书当前为「{letter.get_status_display()}」，不能升级"
    now = now or timezone.now()
    if letter.status == Status.DELIVERED and letter.reply_due_at and letter.reply_due_at >= now:
        return (f"回复期限（{_local(letter.reply_due_at)}）尚未届满，不能升级；如单位明确拒绝整改，"
                "请先登记“未整改”")
    return ""


def letter_escalate(*, actor, letter: SupervisionLetter, note: str = "") -> SupervisionLetter:
    """升级: 提示函 → 意见书 at the same union; 意见书 → 建议书 at the same union when it is county-level
    or higher, else at its nearest such ancestor (told on its board); 建议书 → 移送检察机关 (a draft;
    the referral ground is chosen before it is issued). Returns the new draft."""
    _require_step(actor, letter, "escalate")
    note = clean_text(note, field="note", label="升级说明", max_len=500)
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.ESCALATED:  # a double click: the draft it already led to
            done = letter.next_letters.order_by("-id").first()
            if done is not None:
                return done
        refusal = escalation_refusal(letter)
        if refusal:
            raise Conflict("escalate_refused", refusal, "status")
        kind = NEXT_KIND[letter.kind]
        target = letter.org if kind not in (Kind.SUGGESTION, Kind.REFERRAL) else county_union_for(letter.org)
        if target is None:
            raise ValidationFailed("no_county_union", "上级没有县级以上工会，无法升级为建议书", "kind")
        # The draft first: its text tells what became of the letter (still in its old status). A
        # referral's ground is left for the union to choose before it is issued (letter_issue checks).
        new = _new_draft(record=letter.record, org=target, kind=kind, actor=actor, previous=letter)
        was = _move(letter, "escalate")
        letter.save()
        label = LetterKind(kind).label
        suffix = f"：{note}" if note else ""
        _event(letter, Action.ESCALATE, actor, was=was, text=f"升级为{label}（{target.name}）{suffix}")
        _event(new, Action.DRAFT, actor, was="", text=f"由{letter_title(letter)}升级" + (f"：{note}" if note else ""))
        _audit(actor, "letter_escalate", letter, after={"new_letter_id": new.pk, "kind": kind, "org_id": target.pk})
        if target.pk != letter.org_id:
            _notify(target, f"下级工会提请发出{label}",
                    f"{letter.org.name}的{letter_title(letter)}（主送{letter.recipient}）未获整改，已提请本会发出{label}，"
                    "草稿已生成，请审核。" + (f"说明：{note}" if note else ""), new)
    return new


def letter_void(*, actor, letter: SupervisionLetter, reason: str) -> SupervisionLetter:
    """作废 (the issuing union's admin). An issued letter keeps its number, which is never used again."""
    _require_step(actor, letter, "void")
    reason = clean_text(reason, field="reason", label="作废原因", min_len=2, max_len=300)
    with transaction.atomic():
        letter = _lock(letter)
        if letter.status == Status.VOID:
            return letter
        was = _move(letter, "void")
        letter.void_reason = reason
        letter.save()
        _event(letter, Action.VOID, actor, was=was, text=reason)
        _audit(actor, "letter_void", letter, after={"reason": reason, "serial_label": letter.serial_label})
    return letter


def letter_allowed_actions(actor, letter: SupervisionLetter, now: datetime.datetime | None = None) -> list[str]:
    """The actions the actor may take on the letter now (the services check again)."""
    rank = _rank(actor, letter.org_path)
    out = ["edit"] if letter.status == Status.DRAFT and rank >= STAFF else []
    for name, step in STEPS.items():
        if rank < step.rank or step.to_status not in TRANSITIONS[letter.status]:
            continue
        if name == "escalate" and escalation_refusal(letter, now):
            continue
        if name == "issue" and not is_county_plus(letter.org) and letter.kind in (Kind.SUGGESTION, Kind.REFERRAL):
            continue
        out.append(name)
    return out


# --- The deadline sweep ---------------------------------------------------------------------------


def letters_sweep(now: datetime.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Delivered letters past their reply deadline are marked overdue (the issuing union and its
    parent are told); those within GONGHUI_LEGAL_REMIND_WORKDAYS working days of it are reminded
    once. Idempotent (the marks), safe beside a second runner (SKIP LOCKED); both queries walk the
    partial index letter_reply_due (delivered, not yet overdue, by reply_due_at)."""
    now = now or timezone.now()
    counts = {"overdue": 0, "reminded": 0}
    pending = SupervisionLetter.objects.filter(status=Status.DELIVERED, overdue_at__isnull=True)
    while True:  # overdue first: a letter already late is not reminded any more
        with transaction.atomic():
            ids = list(pending.select_for_update(skip_locked=True).filter(reply_due_at__lt=now)
                       .order_by("reply_due_at").values_list("pk", flat=True)[:batch])
            letters = list(SupervisionLetter.objects.filter(pk__in=ids).select_related("org", "org__parent", "record"))
            for letter in letters:
                letter.overdue_at = now
                letter.save(update_fields=["overdue_at", "updated_at"])
                _event(letter, Action.OVERDUE, None, text=f"回复期限{_local(letter.reply_due_at)}已过，尚未收到回复")
                body = (f"{letter_title(letter)}（主送{letter.recipient}）回复期限{_local(letter.reply_due_at)}已过，"
                        "尚未收到回复，请跟进或升级处理。")
                _notify(letter.org, "监督文书逾期未回复", body, letter)
                if letter.org.parent is not None:
                    _notify(letter.org.parent, "下级工会监督文书逾期未回复", f"{letter.org.name}：{body}", letter)
        counts["overdue"] += len(ids)
        if len(ids) < batch:
            break
    horizon = workdays.deadline(now, int(settings.GONGHUI_LEGAL_REMIND_WORKDAYS))
    while True:
        with transaction.atomic():
            ids = list(pending.select_for_update(skip_locked=True)
                       .filter(reminded_at__isnull=True, reply_due_at__gte=now, reply_due_at__lte=horizon)
                       .order_by("reply_due_at").values_list("pk", flat=True)[:batch])
            letters = list(SupervisionLetter.objects.filter(pk__in=ids).select_related("org", "record"))
            for letter in letters:
                letter.reminded_at = now
                letter.save(update_fields=["reminded_at", "updated_at"])
                _event(letter, Action.REMIND, None, text=f"回复期限{_local(letter.reply_due_at)}临近")
                _notify(letter.org, "监督文书回复期限临近",
                        f"{letter_title(letter)}（主送{letter.recipient}）回复期限为{_local(letter.reply_due_at)}，"
                        "请提前跟进。", letter)
        counts["reminded"] += len(ids)
        if len(ids) < batch:
            break
    return counts


# --- Documents ------------------------------------------------------------------------------------


def letter_document(letter: SupervisionLetter) -> documents.LetterDocument:
    """The letter as the renderers take it: the body and demands as written, every cited article
    quoted in full from the library, the reply clause from the letter's reply days."""
    articles = list(letter.articles.select_related("law").order_by("law__sort", "law_id", "number"))
    cc = ""
    if letter.record.org_id != letter.org_id:
        cc = letter.record.org.name
    return documents.LetterDocument(
        issuer=letter.org.name,
        kind_title=LetterKind(letter.kind).label,
        serial_label=letter.serial_label if letter.status != Status.DRAFT else "",
        recipient=letter.recipient,
        paragraphs=[p for p in letter.body.split("\n") if p.strip()],
        demands=[d for d in letter.demands.split("\n") if d.strip()],
        articles=[documents.CitedArticle(law_title=a.law.title, label=a.label, text=a.text) for a in articles],
        reply_clause=reply_clause(letter.kind, letter.reply_days),
        issued_on=timezone.localtime(letter.issued_at).date() if letter.issued_at else None,
        contact=LegalPolicy.objects.filter(org_id=letter.org_id).values_list("letter_contact", flat=True).first() or "",
        cc=cc,
        draft=letter.status == Status.DRAFT,
    )


def letter_filename(letter: SupervisionLetter, extension: str) -> str:
    """南山区总工会监意〔2026〕第3号-劳动法律监督意见书.pdf; 草稿-… before it is issued."""
    serial = letter.serial_label if letter.status != Status.DRAFT and letter.serial_label else "草稿"
    return f"{serial}-{LetterKind(letter.kind).label}.{extension}"


def letter_pdf(letter: SupervisionLetter) -> tuple[bytes, str]:
    return documents.render_pdf(letter_document(letter)), letter_filename(letter, "pdf")


def letter_docx(letter: SupervisionLetter) -> tuple[bytes, str]:
    return documents.render_docx(letter_document(letter)), letter_filename(letter, "docx")


# --- Selectors ------------------------------------------------------------------------------------


def records_visible(actor) -> QuerySet[SupervisionRecord]:
    if actor is None or not getattr(actor, "is_authenticated", False) or _is_worker(actor):
        return SupervisionRecord.objects.none()
    return SupervisionRecord.objects.filter(actor_scope(actor).q("org_path"))


def letters_visible(actor) -> QuerySet[SupervisionLetter]:
    if actor is None or not getattr(actor, "is_authenticated", False) or _is_worker(actor):
        return SupervisionLetter.objects.none()
    return SupervisionLetter.objects.filter(actor_scope(actor).q("org_path"))


def record_get(*, actor, record_id) -> SupervisionRecord:
    pk = _pk(record_id, "劳动法律监督记录")
    record = (records_visible(actor).select_related("org", "employer__division__parent__parent", "case", "cluster",
                                                    "created_by").filter(pk=pk).first())
    if record is None:
        raise NotFound("劳动法律监督记录")
    return record


def letter_get(*, actor, letter_id) -> SupervisionLetter:
    pk = _pk(letter_id, "监督文书")
    letter = (letters_visible(actor)
              .select_related("org", "org__parent", "record", "record__org", "record__employer", "previous",
                              "previous__org", "issued_by", "created_by")
              .filter(pk=pk).first())
    if letter is None:
        raise NotFound("监督文书")
    return letter


def _page(qs: QuerySet, cursor: str | None, limit: int) -> tuple[list, str | None]:
    limit = max(1, min(int(limit or 50), PAGE_MAX))
    before = cursors.decode(cursor, int)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: limit + 1])
    next_cursor = cursors.encode(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _in_node(qs: QuerySet, actor, node: OrgUnit | None) -> QuerySet:
    """Rows of the actor's scope, within `node` (which the caller fetched through the scope)."""
    if node is None:
        return qs
    return qs.filter(org_path__startswith=node.path)


def record_list(*, actor, node: OrgUnit | None = None, status: str = "", cursor: str | None = None,
                limit: int = 50) -> tuple[list[SupervisionRecord], str | None]:
    """Records of the actor's subtree (or of a node in it), newest first, keyset-paginated by id."""
    qs = _in_node(records_visible(actor), actor, node)
    if status:
        if status not in SupervisionRecord.Status.values:
            raise ValidationFailed("status_invalid", "状态参数无效", "status")
        qs = qs.filter(status=status)
    qs = qs.select_related("org").annotate(letter_count=Count("letters", filter=~Q(letters__status=Status.VOID)))
    return _page(qs, cursor, limit)


def letter_list(*, actor, node: OrgUnit | None = None, kind: str = "", status: str = "", overdue: bool = False,
                record: SupervisionRecord | None = None, cursor: str | None = None,
                limit: int = 50) -> tuple[list[SupervisionLetter], str | None]:
    """Letters of the actor's subtree (or of a node in it), newest first. `overdue`: delivered and past
    the reply deadline without a reply (marked by the sweep or not yet)."""
    qs = _in_node(letters_visible(actor), actor, node)
    if kind:
        if kind not in Kind.values:
            raise ValidationFailed("kind_invalid", "文书类型参数无效", "kind")
        qs = qs.filter(kind=kind)
    if status:
        if status not in Status.values:
            raise ValidationFailed("status_invalid", "状态参数无效", "status")
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=Status.DELIVERED, reply_due_at__lt=timezone.now())
    if record is not None:
        qs = qs.filter(record=record)
    return _page(qs.select_related("org", "record"), cursor, limit)


def record_letters(*, actor, record: SupervisionRecord) -> tuple[list[SupervisionLetter], list[SupervisionLetter]]:
    """The record's letters the actor may open, and those sent on by a union above (提请上级) that the
    actor sees only as a line: kind, union and status."""
    letters = list(record.letters.select_related("org").order_by("id"))
    scope = actor_scope(actor)
    mine = [letter for letter in letters if scope.covers(letter.org_path)]
    above = [letter for letter in letters if not scope.covers(letter.org_path)]
    return mine, above


def letter_timeline(letter: SupervisionLetter) -> list[LetterEvent]:
    return list(letter.events.select_related("actor").order_by("id"))


def is_overdue(letter: SupervisionLetter, now: datetime.datetime | None = None) -> bool:
    """Waiting past the reply deadline (the sweep may not have marked it yet)."""
    now = now or timezone.now()
    return letter.status == Status.DELIVERED and letter.reply_due_at is not None and letter.reply_due_at < now


def letter_stats(*, actor, node: OrgUnit | None = None) -> dict:
    """Supervision figures for the actor's subtree, or a node inside it (fetched through the scope).

    Letters are few (thousands a year even nationally), so one aggregate over the org_path prefix index
    answers, and the working days from delivery to rectification are counted in Python. Definitions:
    - reply rate: letters answered (a reply, or rectification recorded without one) ÷ letters with a
      reply deadline that has passed or that were answered; on-time rate: answered by the deadline ÷
      the same letters (a letter still within its time counts in neither);
    - time to rectify: working days from delivery to rectification, median and mean;
    - overdue open: delivered, past the deadline, not answered.
    """
    now = timezone.now()
    letters = _in_node(letters_visible(actor), actor, node)
    records = _in_node(records_visible(actor), actor, node)
    by_kind_status: dict[str, dict[str, int]] = {k: dict.fromkeys(Status.values, 0) for k in Kind.values}
    for kind, status, n in letters.values_list("kind", "status").annotate(n=Count("id")).values_list(
            "kind", "status", "n"):
        by_kind_status[kind][status] = n
    live = letters.exclude(status=Status.VOID)
    rows = list(live.filter(delivered_at__isnull=False).values_list(
        "status", "delivered_at", "reply_due_at", "replied_at", "rectified_at"))
    counted = answered = on_time = overdue_open = 0
    rectify_days: list[int] = []
    for status, delivered_at, due_at, replied_at, rectified_at in rows:
        answer = replied_at or rectified_at
        if due_at is not None and (answer is not None or due_at < now):
            counted += 1
            if answer is not None:
                answered += 1
                on_time += answer <= due_at
        if status == Status.DELIVERED and due_at is not None and due_at < now:
            overdue_open += 1
        if rectified_at is not None:
            rectify_days.append(workdays.workdays_between(delivered_at, rectified_at))
    record_counts = dict(records.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "node": {"id": node.pk, "name": node.name} if node is not None else None,
        "records": sum(record_counts.values()),
        "records_by_status": {s: record_counts.get(s, 0) for s in SupervisionRecord.Status.values},
        "by_kind": {k: sum(n for s, n in by_status.items() if s not in (Status.DRAFT, Status.VOID))
                    for k, by_status in by_kind_status.items()},
        "by_status": {s: sum(by_kind_status[k][s] for k in Kind.values) for s in Status.values},
        "by_kind_status": by_kind_status,
        "delivered": len(rows),
        "reply_counted": counted,
        "replied": answered,
        "reply_rate": round(answered / counted, 4) if counted else None,
        "on_time_rate": round(on_time / counted, 4) if counted else None,
        "rectified": sum(by_kind_status[k][Status.RECTIFIED] for k in Kind.values),
        "rectify_days_median": statistics.median(rectify_days) if rectify_days else None,
        "rectify_days_mean": round(statistics.fmean(rectify_days), 1) if rectify_days else None,
        "overdue_open": overdue_open,
    }


def nodes_for(actor) -> list[OrgUnit]:
    """The unions the actor works for (the console's entry points), highest first."""
    return list(OrgUnit.objects.filter(pk__in=actor_scope(actor).roots).order_by("path"))

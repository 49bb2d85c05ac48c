"""The one NinjaAPI instance: auth, error format, routers of every app."""

from __future__ import annotations

import datetime
import logging

from django.db import DataError
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, django_auth

from .errors import RateLimited, ServiceError


class BearerAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        from gonghui.accounts.services import token_resolve

        user = token_resolve(token)
        if user is not None:
            request.user = user
        return user


class LocalTimeEncoder(NinjaJSONEncoder):
    """Every moment in the product's time zone (Asia/Shanghai, "+08:00"), whether it was just computed
    or read back from the database (which gives UTC): one format for clients to parse and show."""

    def default(self, o):
        if isinstance(o, datetime.datetime) and timezone.is_aware(o):
            return timezone.localtime(o).isoformat()
        return super().default(o)


class LocalTimeRenderer(JSONRenderer):
    encoder_class = LocalTimeEncoder


api = NinjaAPI(
    renderer=LocalTimeRenderer(),
    title="工会一网通 Gonghui API",
    version="1.0.0",
    description="工会一网通开放接口。错误统一为 {code, message, field}，message 为中文说明。",
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


@api.exception_handler(ServiceError)
def service_error(request, exc: ServiceError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


_FIELD_LABELS = {
    "phone": "手机号",
    "code": "验证码",
    "username": "用户名",
    "password": "密码",
    "otp": "动态口令",
    "name": "名称",
    "display_name": "姓名",
    "uscc": "统一社会信用代码",
    "division_code": "行政区划代码",
    "limit": "每页条数",
    "cursor": "翻页参数",
    "q": "搜索内容",
    "parent_id": "上级组织",
    "org_id": "所属工会",
    "new_parent_id": "新的上级组织",
    "kind": "工会类型",
    "employer_ids": "用人单位",
    "employee_count": "职工人数",
    "is_platform": "平台企业",
    "address": "地址",
    "industry": "行业",
    "chair_name": "主席姓名",
    "founded_on": "成立日期",
    "term_ends_on": "届期届满日期",
    "role": "角色",
    "include_descendants": "含下级组织",
    "direct": "仅本级",
    "id_number": "身份证号",
    "employment_form": "用工形式",
    "employer_id": "所在单位",
    "occupation_code": "职业",
    "platform_id": "所在平台",
    "platform_role": "平台工作类型",
    "job_title": "岗位",
    "consent": "个人信息处理同意",
    "reason": "原因",
    "status": "状态",
    "token": "二维码令牌",
    "member_id": "会员",
    "approve": "审核结论",
    "field": "查看项目",
    "routing": "受理规则",
    "decide_within_days": "审批时限",
    "auto_approve": "自动批准",
    "file": "花名册文件",
    "node": "工会",
    "days": "天数",
    "direction": "方向",
    "overdue": "只看超时",
    "residence_code": "居住地",
    "employer": "单位",
    # The case desk
    "category": "诉求分类",
    "description": "诉求内容",
    "channel": "来源渠道",
    "workers_affected": "涉及人数",
    "amount_claimed": "涉及金额",
    "contact_preference": "联系方式偏好",
    "protect_identity": "保密身份",
    "external_id": "外部编号",
    "to_org": "转办工会",
    "note": "说明",
    "text": "内容",
    "result": "办理结果",
    "money_recovered": "追回金额",
    "workers_helped": "帮助人数",
    "passed": "质检结论",
    "score": "满意度",
    "comment": "评价内容",
    "supervising": "督办",
    "attachments": "附件",
    # The legal-affairs cloud
    "question": "问题",
    "law": "法律法规",
    "article": "条文",
}
_BOUNDS = {"greater_than_equal": "不能小于{ge}", "greater_than": "应大于{gt}", "less_than_equal": "不能大于{le}",
           "less_than": "应小于{lt}"}


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    # Field names only: list positions (employer_ids.1) and the schema's wrapper names are dropped.
    loc = [str(part) for part in first.get("loc", [])
           if not isinstance(part, int) and part not in ("body", "query", "path", "payload", "params")]
    # Nested fields keep their path (employer.name), so two fields named alike are told apart.
    field = ".".join(loc) if loc else None
    last = loc[-1] if loc else ""
    label = _FIELD_LABELS.get(last, "请求内容" if not field else f"字段 {field} ")
    if len(loc) > 1 and last in _FIELD_LABELS:
        label = _FIELD_LABELS.get(loc[0], loc[0]) + label
    kind = first.get("type", "")
    if kind == "missing":
        message = f"缺少必填项：{label}"
    elif kind in _BOUNDS:
        message = f"{label}" + _BOUNDS[kind].format(**(first.get("ctx") or {}))
    elif kind.startswith(("int", "float", "bool", "date")):
        message = f"{label}格式不正确"
    elif kind.startswith("string") and kind != "string_too_long":
        message = f"{label}应为文字"
    elif "too_long" in kind or "max_length" in kind:
        message = f"{label}过长"
    elif kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        message, field = "请求体应为 JSON 对象，请检查格式", None
    elif kind == "list_type":
        message = f"{label}应为列表"
    else:
        message = f"{label}无效，请检查后重试"
    return api.create_response(request, error_body("invalid_input", message, field), status=400)


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(request, error_body("unauthenticated", "请先登录"), status=401)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, error_body("not_found", "请求的对象不存在或无权访问"), status=404)


# Django Ninja raises HttpError in English for a body it cannot parse and for a failed CSRF check.
_HTTP_ERRORS = {
    400: ("invalid_json", "请求体不是有效的 JSON，请检查格式"),
    403: ("csrf_failed", "安全校验失败，请刷新页面后重试"),
}


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", f"请求无法处理（{exc.status_code}）"))
    return api.create_response(request, error_body(code, message), status=exc.status_code)


@api.exception_handler(DataError)
def data_error(request, exc: DataError):
    # The database refused a value that slipped past validation (a NUL byte, a number out of range):
    # the caller's input, so a 400 that says so, never a 500.
    logging.getLogger(__name__).warning("database refused input on %s: %s", request.path, exc)
    return api.create_response(
        request, error_body("invalid_input", "请求中含有无法保存的字符或数值，请检查后重试"), status=400
    )


def register_routers() -> None:
    from gonghui.accounts.api import router as accounts_router
    from gonghui.casedesk.api import router as casedesk_router
    from gonghui.employment.api import router as employment_router
    from gonghui.legal.api import router as legal_router
    from gonghui.legal.api_aid import router as legal_aid_router
    from gonghui.legal.api_letters import router as letters_router
    from gonghui.membership.api import router as membership_router
    from gonghui.orgs.api import router as orgs_router

    api.add_router("/v1/", accounts_router)
    api.add_router("/v1/", orgs_router)
    api.add_router("/v1/", membership_router)
    api.add_router("/v1/", casedesk_router)
    api.add_router("/v1/", legal_router)
    api.add_router("/v1/", legal_aid_router)
    api.add_router("/v1/", letters_router)
    api.add_router("/v1/", employment_router)


register_routers()

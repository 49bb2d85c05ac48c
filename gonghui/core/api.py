"""The one NinjaAPI instance: auth, error format, routers of every app."""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
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


api = NinjaAPI(
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
    "name": "名称",
    "uscc": "统一社会信用代码",
    "division_code": "行政区划代码",
    "limit": "每页条数",
}


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path", "payload")]
    field = loc[-1] if loc else None
    label = _FIELD_LABELS.get(field or "", field or "请求内容")
    kind = first.get("type", "")
    if kind == "missing":
        message = f"缺少必填项：{label}"
    elif kind.startswith(("int", "float", "bool", "date")):
        message = f"{label}格式不正确"
    elif "too_long" in kind or "max_length" in kind:
        message = f"{label}过长"
    elif kind == "json_invalid":
        message, field = "请求体不是有效的 JSON", None
    else:
        message = f"{label}无效，请检查后重试"
    return api.create_response(request, error_body("invalid_input", message, field), status=400)


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return api.create_response(request, error_body("unauthenticated", "请先登录"), status=401)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, error_body("not_found", "请求的对象不存在或无权访问"), status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)


def register_routers() -> None:
    from gonghui.accounts.api import router as accounts_router
    from gonghui.orgs.api import router as orgs_router

    api.add_router("/v1/", accounts_router)
    api.add_router("/v1/", orgs_router)


register_routers()

"""Errors a user can cause: a stable machine code, a Chinese message, the field to fix."""

from __future__ import annotations


class ServiceError(Exception):
    """Raised by services and selectors; API and pages turn it into a 4xx with this message."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationFailed(ServiceError):
    status = 400


class NotFound(ServiceError):
    """Unknown and forbidden ids look the same."""

    status = 404

    def __init__(self, what: str = "对象", field: str | None = None):
        super().__init__("not_found", f"{what}不存在或无权访问", field)


class PermissionDenied(ServiceError):
    status = 403

    def __init__(self, message: str = "没有权限执行此操作", code: str = "forbidden", field: str | None = None):
        super().__init__(code, message, field)


class Conflict(ServiceError):
    status = 409


class RateLimited(ServiceError):
    status = 429

    def __init__(self, message: str, retry_after: int = 60):
        super().__init__("rate_limited", message)
        self.retry_after = retry_after

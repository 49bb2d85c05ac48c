"""Assertions on the API's error contract, shared by the API test suites."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff]")


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def assert_error(response, status: int, code: str | None = None, field: str | None = ...) -> dict:
    """The response is `status` with the body {code, message, field} and a Chinese message."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "field"}, body
    assert isinstance(body["code"], str) and body["code"], body
    assert has_chinese(body["message"]), body
    if code is not None:
        assert body["code"] == code, body
    if field is not ...:
        assert body["field"] == field, body
    return body

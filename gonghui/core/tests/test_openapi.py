"""The OpenAPI document other systems build on: valid, described, and honest about errors."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorOut"
# Endpoints that answer 429 when called too often.
RATE_LIMITED = {("post", "/api/v1/auth/sms-code"), ("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/staff/login"),
                ("post", "/api/v1/legal/ask")}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)
    assert document["info"]["title"] and document["info"]["version"]


def test_the_error_schema_is_code_message_field(document):
    schema = document["components"]["schemas"]["ErrorOut"]
    assert set(schema["properties"]) == {"code", "message", "field"}
    assert set(schema["required"]) == {"code", "message"}


def test_every_operation_has_a_chinese_summary(document):
    for method, path, operation in _operations(document):
        summary = operation.get("summary", "")
        assert summary and any("\u4e00" <= ch <= "\u9fff" for ch in summary), (method, path)


def test_every_operation_declares_its_errors(document):
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        errors = {code: r for code, r in responses.items() if code.startswith("4")}
        assert errors, f"{method.upper()} {path} declares no 4xx response"
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, code)
        if operation.get("security"):
            assert "401" in errors, f"{method.upper()} {path} needs a login but does not declare 401"
        if (method, path) in RATE_LIMITED:
            assert "429" in errors, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "400" in errors, f"{method.upper()} {path} takes input but does not declare 400"
        if "{" in path and operation.get("security"):
            assert "404" in errors, f"{method.upper()} {path} addresses an id but does not declare 404"


def test_every_v1_path_is_versioned_and_secured_unless_it_is_a_login(document):
    # Logins, and the worker's satisfaction link (the signed single-use token is the credential).
    # And the law library and legal questions: the law is for everyone.
    public = {"/api/v1/auth/sms-code", "/api/v1/auth/login", "/api/v1/auth/staff/login",
              "/api/v1/callbacks/{token}", "/api/v1/laws", "/api/v1/laws/search", "/api/v1/laws/{law}",
              "/api/v1/laws/{law}/articles/{article}", "/api/v1/legal/ask"}
    for method, path, operation in _operations(document):
        assert path.startswith("/api/v1/"), path
        assert bool(operation.get("security")) == (path not in public), (method, path)


def test_the_interactive_docs_answer(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content

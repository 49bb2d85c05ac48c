from django.http import JsonResponse

from .context import client_ip, current_ip

# Django answers an unknown URL or method with an HTML page; API callers get the error format.
_API_FALLBACK_ERRORS = {
    404: ("not_found", "请求的接口不存在，请检查地址"),
    405: ("method_not_allowed", "该接口不支持此请求方法"),
}


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
        if (
            request.path.startswith("/api/")
            and response.status_code in _API_FALLBACK_ERRORS
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _API_FALLBACK_ERRORS[response.status_code]
            fallback = JsonResponse({"code": code, "message": message, "field": None}, status=response.status_code)
            if response.has_header("Allow"):
                fallback["Allow"] = response["Allow"]
            return fallback
        return response

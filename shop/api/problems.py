"""Every error of the API as `application/problem+json` (RFC 9457).

A problem has `type`, `title`, `status`, `detail` (for a refused service: the ShopError's
message, written for people) and `code`, a stable machine name (`insufficient_stock`,
`invalid_transition`, `validation_error`...), plus details of its own (`shortages`, `errors`...).
"""

import json
import logging
import re

from django.http import HttpResponse
from django.utils.encoding import force_str

from catalog import exceptions as catalog_errors
from orders import exceptions as order_errors
from shop.core.exceptions import ShopError, TransactionConflict

logger = logging.getLogger("shop.api")

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://shop.example.com/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiProblem(Exception):
    """Raised by the API's own code for a problem response."""

    def __init__(self, status: int, code: str, detail: str, *, headers=None, **extra):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, code: str, detail: str, **extra) -> dict:
    return {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem_response(status: int, code: str, detail: str, *, headers=None, **extra) -> HttpResponse:
    body = problem_body(status, code, detail, **extra)
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Status of a refused service by the exception's class (the first base found wins); the code is the
# class name in snake case (InsufficientStock -> insufficient_stock) unless named here.
STATUSES = [
    (catalog_errors.InsufficientStock, 409),
    (order_errors.InvalidTransition, 409),
    (order_errors.NotADraft, 409),
    (order_errors.OrderNotEditable, 409),
    (TransactionConflict, 503),
    (ShopError, 422),
]


def shop_error_problem(error: ShopError) -> tuple[int, str, str, dict]:
    """(status, code, detail, extra) for a refused service."""
    status = next(status for cls, status in STATUSES if isinstance(error, cls))
    code = snake_case(type(error).__name__)
    extra = {}
    if isinstance(error, catalog_errors.InsufficientStock):
        extra["shortages"] = [
            {"sku": product.sku, "requested": requested, "available": available}
            for product, requested, available in error.shortages
        ]
    elif isinstance(error, order_errors.UnknownSku):
        extra["skus"] = error.skus
    elif isinstance(error, order_errors.InvalidTransition):
        extra.update(current_status=error.current, requested_status=error.requested)
    errors = getattr(error, "errors", None)
    if errors:
        extra["errors"] = errors
    return status, code, error.message, extra


def shop_error_response(error: ShopError) -> HttpResponse:
    status, code, detail, extra = shop_error_problem(error)
    headers = {"Retry-After": "1"} if status == 503 else None
    return problem_response(status, code, detail, headers=headers, **extra)


def validation_errors(errors) -> list[dict]:
    """ninja/pydantic errors as [{"field": "body.lines.0.quantity", "message": ...}]."""
    found = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        found.append({"field": ".".join(location), "message": force_str(error.get("msg", "Invalid value."))})
    return found


def django_validation_errors(error) -> list[dict]:
    """A django ValidationError as [{"field": name, "message": ...}] (no card numbers echoed)."""
    if hasattr(error, "error_dict"):
        return [
            {"field": field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in error.messages]

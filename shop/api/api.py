"""The storefront API: the NinjaAPI instance, its error handlers and its URL patterns.

Every error is a problem (shop/api/problems.py). The schema is at /api/v1/openapi.json and the
interactive docs at /api/v1/docs, served from the project's static files (django-ninja's own
copy of Swagger UI, no CDN; its settings are a JSON block and its start-up a static file, so the
Content-Security-Policy needs no inline script).
"""

import copy
import json
import logging
import time

from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from django.urls import re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger

from shop.api import catalog as catalog_routes
from shop.api import customers as customer_routes
from shop.api import orders as order_routes
from shop.api import webhooks as webhook_routes
from shop.api.problems import (
    CONTENT_TYPE,
    ApiProblem,
    problem_response,
    shop_error_response,
    validation_errors,
)
from shop.core.exceptions import ShopError

logger = logging.getLogger("shop.api")

ERROR_STATUSES = {"400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "500", "503"}


class StorefrontAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # A copy: the operations' declared parts (openapi_extra) are shared between builds.
        schema = copy.deepcopy(super().get_openapi_schema(*args, **kwargs))
        # Error responses are application/problem+json, not application/json.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if str(status) in ERROR_STATUSES and content and "application/json" in content:
                        response["content"] = {CONTENT_TYPE: content.pop("application/json")}
        _hoist_definitions(schema)
        _add_links(schema)
        return schema


def _hoist_definitions(schema) -> None:
    """Request bodies declared by hand (openapi_extra) carry their models' `$defs`, referenced
    as #/components/schemas/<name>: move them there."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                body = media.get("schema", {})
                for name, definition in body.get("$defs", {}).items():
                    components.setdefault(name, definition)
                # A copy without them: the declared dict is shared by every build of the schema.
                media["schema"] = {key: value for key, value in body.items() if key != "$defs"}


# OpenAPI links: what a response's ids lead to (create customer -> add address -> place order ->
# get order...), for clients and for Schemathesis' stateful tests.
LINKS = {
    ("post", "/customers"): {
        "GetCustomer": ("read_customer", {"customer_id": "$response.body#/id"}),
        "UpdateCustomer": ("update_customer", {"customer_id": "$response.body#/id"}),
        "AddAddress": ("create_address", {"customer_id": "$response.body#/id"}),
        "ListAddresses": ("list_addresses", {"customer_id": "$response.body#/id"}),
        "SaveCard": ("create_payment_method", {"customer_id": "$response.body#/id"}),
        "ListOrders": ("list_customer_orders", {"customer_id": "$response.body#/id"}),
    },
    ("post", "/customers/{customer_id}/addresses"): {
        "DeleteAddress": (
            "delete_address",
            {"customer_id": "$request.path.customer_id", "address_id": "$response.body#/id"},
        ),
        "PlaceOrder": (
            "place_order",
            {},
            {
                "customer_id": "$request.path.customer_id",
                "shipping_address_id": "$response.body#/id",
                "lines": [{"sku": "STATE-1", "quantity": 1}],
            },
        ),
    },
    ("post", "/orders"): {
        "GetOrder": ("read_order", {"number": "$response.body#/number"}),
        "CancelOrder": ("cancel_order", {"number": "$response.body#/number"}),
    },
}


def _add_links(schema) -> None:
    paths = schema.get("paths", {})
    operation_ids = [op["operationId"] for operations in paths.values() for op in operations.values()]

    def operation_id(function: str) -> str:
        return next(name for name in operation_ids if name.endswith("_" + function))

    prefix = next((p[: -len("/customers")] for p in paths if p.endswith("/customers")), "")
    for (method, path), links in LINKS.items():
        operation = paths.get(prefix + path, {}).get(method)
        if not operation or not links:
            continue
        success = next(status for status in operation["responses"] if str(status).startswith("2"))
        target = operation["responses"][success].setdefault("links", {})
        for link_name, (function, parameters, *body) in links.items():
            link = {"operationId": operation_id(function)}
            if parameters:
                link["parameters"] = parameters
            if body:
                link["requestBody"] = body[0]
            target[link_name] = link


api = StorefrontAPI(
    title="Shop storefront API",
    version="1.0.0",
    description=(
        "The storefront's server-side API: catalog, customers, orders and payment webhooks. "
        "Authenticate with `Authorization: Bearer <key>` (keys: `manage.py api_key_create`). "
        "Errors are `application/problem+json` (RFC 9457) with a stable `code`."
    ),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

api.add_router("/products", catalog_routes.router)
api.add_router("/customers", customer_routes.router)
api.add_router("/orders", order_routes.router)
api.add_router("/payments", webhook_routes.router)


@api.exception_handler(ApiProblem)
def _api_problem(request, error: ApiProblem):
    return problem_response(error.status, error.code, error.detail, headers=error.headers, **error.extra)


@api.exception_handler(ShopError)
def _shop_error(request, error: ShopError):
    return shop_error_response(error)


@api.exception_handler(ValidationError)
def _validation_error(request, error: ValidationError):
    errors = validation_errors(error.errors)
    fields = ", ".join(sorted({e["field"] for e in errors})) or "the request"
    return problem_response(
        422, "validation_error", f"The request is not valid: see {fields}.", errors=errors
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request, error):
    return problem_response(401, "unauthenticated", "Send the API key as `Authorization: Bearer <key>`.")


@api.exception_handler(HttpError)
def _http_error(request, error: HttpError):
    status = error.status_code
    if status == 400 and "parse request body" in str(error).lower():
        return problem_response(400, "malformed_json", "The request body is not valid JSON.")
    return problem_response(status, f"http_{status}", str(error))


@api.exception_handler(Http404)
def _not_found(request, error):
    return problem_response(404, "not_found", str(error) or "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, error):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem_response(413, "body_too_large", f"The request body is larger than {limit} bytes.")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, error):
    return problem_response(400, "bad_request", "The request was refused.")


@api.exception_handler(DataError)
def _data_error(request, error):
    # A value the database cannot store (the transaction was rolled back: nothing changed).
    logger.warning("api data error: %s %s: %s", request.method, request.path, error)
    return problem_response(422, "invalid_value", "A value sent cannot be stored; nothing was changed.")


@api.exception_handler(Exception)
def _unexpected(request, error):
    if isinstance(error, (OperationalError, InterfaceError)):  # each service is one transaction
        logger.error("database unavailable: %s %s: %s", request.method, request.path, error)
        return problem_response(
            503,
            "database_unavailable",
            "The database is unavailable; nothing was changed. Try again.",
            headers={"Retry-After": "30"},
        )
    logger.exception("api error: %s %s", request.method, request.path)
    return problem_response(500, "internal_error", "Something went wrong on our side; nothing was changed.")


def _logged(view):
    """Each request as one log line (JSON in production): method, path, status, code, the API
    key's name (never the key), duration. 405s become problems as well."""

    def wrapper(request, *args, **kwargs):
        started = time.perf_counter()
        if "\x00" in request.path or any("\x00" in f"{k}{v}" for k, v in request.GET.lists()):
            response = problem_response(
                422, "invalid_characters", "NUL characters are not allowed in the path or the query."
            )
        else:
            response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "") != CONTENT_TYPE:
            allowed = response.get("Allow", "")
            response = problem_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed}.",
                headers={"Allow": allowed},
            )
        code = ""
        if response.get("Content-Type", "") == CONTENT_TYPE:
            try:
                code = json.loads(response.content).get("code", "")
            except ValueError:
                code = ""
        api_key = getattr(request, "api_key", None)
        logger.info(
            "api %s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "code": code,
                "api_key": api_key.name if api_key is not None else "",
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    wrapper.csrf_exempt = getattr(view, "csrf_exempt", False)
    return wrapper


def not_found(request, rest=""):
    return problem_response(404, "not_found", f"There is no {request.path} in the API.")


def _urlpatterns():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.name == "openapi-view":
            # Swagger UI's style sheet draws its icons as data: images; only this page allows them.
            pattern.callback = csp_update({"img-src": ["data:"]})(pattern.callback)
        pattern.callback = _logged(pattern.callback)
    patterns.append(re_path(r"^.*$", _logged(not_found), name="not_found"))
    return patterns, app_name, namespace


urls = _urlpatterns()
__all__ = ["api", "urls"]

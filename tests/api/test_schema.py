"""The OpenAPI document and Schemathesis: property-based tests generated from the schema, run
in-process through WSGI, every operation, with a bounded number of examples (fast in CI;
SCHEMATHESIS_EXAMPLES raises it for a longer run, see bench/README.md)."""

import json
import os
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, settings
from ninja.responses import NinjaJSONEncoder
from openapi_spec_validator import validate

from orders.models import Order
from shop.api.api import api
from shop.api.keys import api_key_create
from shop.api.models import ApiKey
from shop.wsgi import application
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
STATEFUL_EXAMPLES = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "25"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.status_code_conformance,
]


def openapi():
    """The document as served (JSON: status codes as strings)."""
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=NinjaJSONEncoder))


schema = schemathesis.openapi.from_dict(openapi())
schema.app = application


def test_the_document_is_valid_openapi_3():
    document = openapi()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_reference_resolves():
    document = openapi()
    text = json.dumps(document)
    names = set(document["components"]["schemas"])
    referenced = {ref.split("/")[-1] for ref in re.findall(r'"#/components/schemas/([^"]+)"', text)}
    assert referenced and referenced <= names
    assert "$defs" not in text


def test_every_operation_has_a_summary_its_errors_and_problem_json():
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            errors = {s: r for s, r in operation["responses"].items() if s.startswith(("4", "5"))}
            assert errors, where
            for status, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (where, status)
            if path != "/api/v1/payments/webhook":
                assert {"401", "403", "429"} <= set(errors), where


def test_the_docs_page_uses_only_local_static_files(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "<script>" not in page  # the policy allows no inline script


@pytest.fixture
def seeded(db):
    # As Django's test client does: the request signals must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()
    customer = CustomerFactory(email="seed@example.com")
    AddressFactory(customer=customer, is_default_shipping=True)
    PaymentMethodFactory(customer=customer, is_default=True)
    ProductFactory(stock=1000, sku="STATE-1")
    _, key = api_key_create(name="schemathesis", scopes=ApiKey.Scope.values)
    with override_settings(API_THROTTLE_RATE=0, SHOP_PAYMENT_WEBHOOK_SECRET="whsec_fuzz"):
        yield {"Authorization": f"Bearer {key}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms(case, seeded):
    case.call_and_validate(headers=seeded, checks=CHECKS)


HEADERS: dict = {}
CALLS: list = []


class Workflow(schema.as_state_machine()):
    """Stateful: follows the OpenAPI links (create customer -> add address -> place order ->
    get order, cancel it...) with the ids the API returned."""

    def setup(self):
        # Each run starts from the same database: what one run made is rolled back after it,
        # so a run's responses depend on its own steps only (Hypothesis requires as much).
        self.savepoint = transaction.savepoint()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def get_call_kwargs(self, case):
        return {"headers": HEADERS}

    def before_call(self, case):
        # A generated SKU names no product, so a placement would always stop at unknown_sku
        # (test_every_operation_conforms fuzzes the lines): here an order's lines are one line
        # of the seeded product (a few units of its 1,000), so the chain goes on to a placed
        # order, reading it and cancelling it. The other fields stay generated or linked.
        super().before_call(case)
        if case.method == "POST" and case.path == "/api/v1/orders" and isinstance(case.body, dict):
            lines = case.body.get("lines")
            if isinstance(lines, list) and lines and isinstance(lines[0], dict):
                quantity = lines[0].get("quantity")
                if isinstance(quantity, int | float) and not isinstance(quantity, bool) and quantity >= 1:
                    quantity = 1 + int(quantity) % 3
                case.body["lines"] = [{**lines[0], "sku": "STATE-1", "quantity": quantity}]

    def after_call(self, response, case):
        super().after_call(response, case)
        CALLS.append((case.method, case.path, response.status_code))

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


def test_stateful_links(seeded):
    HEADERS.update(seeded)
    links = [
        link
        for operations in openapi()["paths"].values()
        for operation in operations.values()
        for response in operation["responses"].values()
        for link in response.get("links", {})
    ]
    assert {"GetCustomer", "AddAddress", "PlaceOrder", "GetOrder"} <= set(links)
    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            # The database outlives each example: no replaying or shrinking against it.
            phases=[Phase.generate],
            database=None,
        )
    )
    # The links were followed: customers the API made got addresses through the links. How far
    # a sampled run goes varies; the next test walks the whole chain (to placing, reading and
    # cancelling an order) every time.
    made = {(method, path) for method, path, status in CALLS if status == 201}
    assert {("POST", "/api/v1/customers"), ("POST", "/api/v1/customers/{customer_id}/addresses")} <= made


def _evaluate(expression, request, body):
    """An OpenAPI runtime expression of the links this API declares: `$response.body#/name`,
    `$request.path.name`; anything else (a literal, a list of lines) is taken as it is."""
    if isinstance(expression, dict):
        return {name: _evaluate(value, request, body) for name, value in expression.items()}
    if isinstance(expression, list):
        return [_evaluate(value, request, body) for value in expression]
    if isinstance(expression, str) and expression.startswith("$response.body#/"):
        return body[expression.removeprefix("$response.body#/")]
    if isinstance(expression, str) and expression.startswith("$request.path."):
        return request[expression.removeprefix("$request.path.")]
    return expression


def test_the_links_lead_from_a_new_customer_to_a_placed_order_and_back(seeded):
    """The chain the stateful run samples, walked whole every time: each step's request is built
    from the link the previous response declares, and each response passes the same checks
    (no server error, the schema's shapes and status codes)."""
    document = openapi()
    operations = {
        operation["operationId"]: (path, method)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }

    def call(path, method, path_parameters=None, body=None, **headers):
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = schema[path][method.upper()].Case(
            path_parameters=path_parameters or {}, headers={**seeded, **headers}, **extra
        )
        response = case.call()
        case.validate_response(response, checks=CHECKS)
        return response

    def follow(step, link_name, body=None, **headers):
        """The operation `link_name` of the step's response leads to, called with the link's
        parameters and request body (or `body` where the link gives none)."""
        path, method, parameters, response = step
        link = document["paths"][path][method]["responses"][str(response.status_code)]["links"][link_name]
        target_path, target_method = operations[link["operationId"]]
        target_parameters = _evaluate(link.get("parameters", {}), parameters, response.json())
        payload = (
            _evaluate(link["requestBody"], parameters, response.json()) if "requestBody" in link else body
        )
        called = call(target_path, target_method, target_parameters, payload, **headers)
        assert called.status_code < 300, (link_name, called.status_code, called.text)
        return target_path, target_method, target_parameters, called

    customer = {"first_name": "Link", "last_name": "Walker", "email": "link.walker@example.com"}
    created = ("/api/v1/customers", "post", {}, call("/api/v1/customers", "post", body=customer))
    assert created[3].status_code == 201, created[3].text
    # The link gives the customer; the address is the request's own (generated in the stateful
    # run, a valid one here).
    address = {"line1": "1 Link Road", "city": "Springfield", "postal_code": "62701", "country": "US"}
    added = follow(created, "AddAddress", address)
    placed = follow(added, "PlaceOrder", **{"Idempotency-Key": "walk-1"})
    assert placed[3].status_code == 201
    read = follow(placed, "GetOrder")[3].json()
    assert read["number"] == placed[3].json()["number"] and read["customer_id"] == created[3].json()["id"]
    # Shipped to the address the link named (the order's snapshot of it).
    assert Order.objects.get(number=read["number"]).shipping_line1 == "1 Link Road"
    assert follow(placed, "CancelOrder")[3].json()["status"] == "cancelled"

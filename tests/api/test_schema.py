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

    def after_call(self, response, case):
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
    # The links were followed: customers the API made got addresses through the links.
    made = {(method, path) for method, path, status in CALLS if status == 201}
    assert {("POST", "/api/v1/customers"), ("POST", "/api/v1/customers/{customer_id}/addresses")} <= made

"""Orders: placement with an Idempotency-Key, reading one, cancelling one."""

import hashlib
import json
from typing import Annotated

from django.db import IntegrityError, connection
from django.db.models import Prefetch
from django.http import HttpResponse
from ninja import Header, Router
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError

from customers.models import Address, Customer
from orders import services as order_services
from orders.models import Order, OrderLine, Shipment, ShipmentLine
from payments.models import PaymentMethod
from shop.api import keys, schemas
from shop.api.common import WRITE_ERRORS, money
from shop.api.models import IdempotencyRecord
from shop.api.problems import ApiProblem, problem_body, shop_error_problem, validation_errors
from shop.core.db import atomic_with_retry, insert_rows, no_savepoints, sql_select
from shop.core.exceptions import ShopError, TransactionConflict

router = Router(tags=["orders"], auth=keys.WRITE_ORDERS)

MAX_ID = 2**63 - 1
REPLAY_HEADER = "Idempotent-Replayed"


def order_out(order: Order, *, just_placed: bool = False) -> dict:
    """The order as the storefront sees it; `order` comes from `order_queryset()` (its lines,
    shipments with their carriers and lines, and payments prefetched: no query per shipment).
    `just_placed`: the order `order_place` returned, in the transaction that placed it: it has
    no shipment and no payment yet, so neither is read, and its lines are those it wrote."""
    lines = order.placed_lines if just_placed else sorted(order.lines.all(), key=lambda line: line.pk)
    shipments = [] if just_placed else order.shipments.all()
    payments = [] if just_placed else order.payments.order_by("pk")
    sku_of = {line.pk: line.sku for line in lines}
    return {
        "number": order.number,
        "status": order.status,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "subtotal": money(order.subtotal),
        "shipping": money(order.shipping_cost),
        "total": money(order.total),
        "placed_at": order.created_at,
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "quantity": line.quantity,
                "quantity_shipped": line.quantity_shipped,
                "quantity_returned": line.quantity_returned,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
            }
            for line in lines
        ],
        # Oldest first: the order they left in.
        "shipments": [
            {
                "carrier": shipment.carrier.name,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_link or None,
                "status": shipment.status,
                "shipped_at": shipment.shipped_at,
                "delivered_at": shipment.delivered_at,
                "lines": [
                    {"sku": sku_of[item.order_line_id], "quantity": item.quantity}
                    for item in shipment.lines.all()
                ],
            }
            for shipment in shipments
        ],
        # How an order was paid is not the storefront's business: amounts and states only.
        "payments": [
            {
                "amount": money(p.amount),
                "refunded_amount": money(p.refunded_amount),
                "currency": p.currency,
                "status": p.status,
                "created_at": p.created_at,
            }
            for p in payments
        ],
    }


def order_queryset():
    """Orders with what `order_out` shows, in a fixed number of queries however many shipments."""
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("carrier")
            .order_by("shipped_at", "pk")
            .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.order_by("order_line_id"))),
        ),
    )


def get_order(number: str) -> Order:
    order = order_queryset().filter(number=number.strip().upper()[:32]).exclude(status="draft").first()
    if order is None:
        raise ApiProblem(404, "order_not_found", f"There is no order {number[:40]}.")
    return order


def _resolve(payload: schemas.OrderIn):
    """The customer, address and method the payload names; an unknown address or method is a 422.

    Neither the customer nor the products are read here: `order_place_by_sku` locks the
    customer's row first thing and reads the products by SKU in the placing transaction, and
    refuses an unknown one (`UnknownCustomer`, `UnknownSku`: 422 `unknown_customer`,
    `unknown_sku`), so a read here would only read them twice."""
    address = None
    if payload.shipping_address_id is not None:
        address = Address.objects.filter(pk=payload.shipping_address_id).first()
        if address is None:
            raise ApiProblem(422, "unknown_address", f"There is no address #{payload.shipping_address_id}.")
    method = None
    if payload.payment_method_id is not None:
        method = PaymentMethod.objects.filter(pk=payload.payment_method_id).first()
        if method is None:
            raise ApiProblem(
                422, "unknown_payment_method", f"There is no payment method #{payload.payment_method_id}."
            )
    return Customer(pk=payload.customer_id), address, method


def _json_response(status: int, body: dict, *, replayed: bool = False) -> HttpResponse:
    content_type = "application/json" if status < 400 else "application/problem+json"
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=content_type)
    if replayed:
        response[REPLAY_HEADER] = "true"
    return response


class _KeyTaken(Exception):
    """Another request with the same Idempotency-Key committed its record first."""


def find_recorded(api_key, key: str) -> tuple[str, int | None, str] | None:
    """(request hash, status, body) of the record of this key, or None (one raw statement)."""
    sql = sql_select(
        IdempotencyRecord, ("request_hash", "response_status", "response_body"), where=("api_key", "key")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [api_key.pk, key])
        return cursor.fetchone()


def _record(*, api_key, key: str, request_hash: str, status: int, text: str) -> None:
    """Write the key's record with its response (the caller's transaction commits it); another
    request's record of the same key already there raises _KeyTaken."""
    record = IdempotencyRecord(
        api_key=api_key, key=key, request_hash=request_hash, response_status=status, response_body=text
    )
    try:
        insert_rows([record])
    except IntegrityError as error:
        raise _KeyTaken from error  # leaves the transaction: everything in it is rolled back


@atomic_with_retry
def _place_and_record(*, api_key, key: str, request_hash: str, payload) -> str:
    """Place the order and write the idempotency record with the response, in one transaction;
    returns the response body. A refusal raises (ApiProblem, ShopError) and rolls all of it back.

    The record is written last, under its unique constraint: a second request with the same key
    (a replay, or its twin at the same moment) does its work, then fails on the record (waiting
    for the first to commit if it has not) and rolls all of it back (_KeyTaken): its order and
    stock never existed, and it answers with the first's response. The placement runs without a
    savepoint of its own (no_savepoints): a refusal dooms this transaction anyway."""
    customer, address, method = _resolve(payload)
    with no_savepoints():
        order = order_services.order_place_by_sku(
            customer=customer,
            lines=[(line.sku, line.quantity) for line in payload.lines],
            shipping_address=address,
            payment_method=method,
        )
    # Encoded as every other response is (ninja's encoder), so a replay matches a GET. The order
    # is not read back: placement returns it as saved (a test compares it with a GET).
    body = schemas.Order.model_validate(order_out(order, just_placed=True)).model_dump()
    text = json.dumps(body, cls=NinjaJSONEncoder)
    _record(api_key=api_key, key=key, request_hash=request_hash, status=201, text=text)
    return text


@atomic_with_retry
def _record_refusal(*, api_key, key: str, request_hash: str, refusal: Exception) -> tuple[int, str]:
    """The refusal's problem response, recorded under the key in a transaction of its own (the
    placement's was rolled back), so that a retry with the same key gets the same answer."""
    if isinstance(refusal, ApiProblem):
        status = refusal.status
        body = problem_body(status, refusal.code, refusal.detail, **refusal.extra)
    else:
        status, code, detail, extra = shop_error_problem(refusal)
        body = problem_body(status, code, detail, **extra)
    text = json.dumps(body, cls=NinjaJSONEncoder)
    _record(api_key=api_key, key=key, request_hash=request_hash, status=status, text=text)
    return status, text


def _replay(recorded, request_hash: str) -> HttpResponse:
    recorded_hash, status, body = recorded
    if recorded_hash != request_hash:
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body; use a new key.",
        )
    return _json_response(status, json.loads(body), replayed=True)


@router.post(
    "",
    response={201: schemas.Order, **WRITE_ERRORS},
    summary="Place an order",
    description=(
        "Requires an `Idempotency-Key` header (1-255 characters, e.g. a UUID). The same key with "
        "the same body returns the first response again with `Idempotent-Replayed: true` and "
        "places nothing; the same key with a different body is a 422 `idempotency_key_reused`. "
        "Keys are kept per API key for at least 24 hours. A refusal (insufficient stock...) is "
        "kept and replayed too: retry with a new key."
    ),
)
def place_order(
    request,
    payload: schemas.OrderIn,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)],
):
    key = idempotency_key.strip()
    if not key:
        raise ApiProblem(
            422,
            "validation_error",
            "The Idempotency-Key header is empty.",
            errors=[{"field": "header.Idempotency-Key", "message": "This header is required."}],
        )
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    request_hash = hashlib.sha256(f"POST /orders\n{canonical}".encode()).hexdigest()
    # Nothing is looked up first: a key already used fails on its record at the end of the
    # placing transaction (which then rolls back), so a new key, nearly every request, costs
    # no extra statement.
    try:
        try:
            text = _place_and_record(
                api_key=request.auth, key=key, request_hash=request_hash, payload=payload
            )
            status = 201
        except TransactionConflict:
            raise
        except (ApiProblem, ShopError) as refusal:
            status, text = _record_refusal(
                api_key=request.auth, key=key, request_hash=request_hash, refusal=refusal
            )
    except _KeyTaken:
        recorded = find_recorded(request.auth, key)
        if recorded is None:  # the key's record was deleted meanwhile (its API key with it)
            raise ApiProblem(
                409, "idempotency_conflict", "A request with this Idempotency-Key was in progress; retry."
            ) from None
        return _replay(recorded, request_hash)
    response = HttpResponse(text, status=status)
    response["Content-Type"] = "application/json" if status < 400 else "application/problem+json"
    return response


@router.get(
    "/{number}",
    response={
        200: schemas.Order,
        401: schemas.Problem,
        403: schemas.Problem,
        404: schemas.Problem,
        429: schemas.Problem,
    },
    summary="Get an order",
    description=(
        "Status, lines with what was shipped and returned of each, the shipments (carrier, "
        "tracking link, status, lines), payments (amounts only)."
    ),
)
def read_order(request, number: str):
    return order_out(get_order(number))


@router.post(
    "/{number}/cancel",
    response={200: schemas.Order, 415: schemas.Problem, **WRITE_ERRORS},
    summary="Cancel an order",
    description=(
        "While placed or paid (captured payments are refunded); otherwise 409 `invalid_transition`. "
        'The body is optional: `{"reason": "..."}`.'
    ),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": schemas.CancelIn.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        }
    },
)
def cancel_order(request, number: str):
    order = get_order(number)
    reason = ""
    if request.body.strip():
        if request.content_type != "application/json":
            raise ApiProblem(415, "unsupported_media_type", "Send the body as application/json.")
        try:
            reason = schemas.CancelIn.model_validate_json(request.body).reason
        except ValidationError as error:
            errors = [
                {**e, "field": "body." + e["field"]}
                for e in validation_errors(error.errors(include_input=False))
            ]
            raise ApiProblem(
                422, "validation_error", "The request body is not valid.", errors=errors
            ) from None
    order_services.order_cancel(order=order, reason=reason or "Cancelled through the storefront API.")
    return order_out(get_order(number))

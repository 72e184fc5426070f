"""POST /payments/webhook: the payment gateway's signed notifications of captures and refunds.

Header `Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the HMAC, keyed with
SHOP_PAYMENT_WEBHOOK_SECRET, is over `<t>.<raw body>`. Refused (401) when missing, malformed,
wrong, or more than WEBHOOK_TOLERANCE seconds away from now; an event id already applied is a
409. The body: {"id": "evt_...", "type": "payment.captured" | "payment.refunded",
"data": {"order": "SO-000123", "amount": "12.34", "currency": "USD", "reference": "..."}}.
"""

import hashlib
import hmac
import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from ninja import Router
from pydantic import Field, StringConstraints, ValidationError

from orders.models import Order
from payments import services as payment_services
from payments.models import Payment
from shop.api import schemas
from shop.api.models import WebhookEvent
from shop.api.problems import ApiProblem, validation_errors
from shop.core.validators import MAX_AMOUNT

router = Router(tags=["payments"])

SIGNATURE_HEADER = "Shop-Signature"
WEBHOOK_TOLERANCE = 5 * 60


class EventData(schemas.Input):
    order: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    amount: Annotated[str, StringConstraints(pattern=r"^\d{1,8}(\.\d{1,2})?$")]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    reference: Annotated[str, StringConstraints(max_length=100)] = ""


class Event(schemas.Input):
    id: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(examples=["evt_123"])
    type: Literal["payment.captured", "payment.refunded"]
    data: EventData


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(request) -> None:
    secret = settings.SHOP_PAYMENT_WEBHOOK_SECRET
    if not secret:
        raise ApiProblem(
            401, "webhook_not_configured", "No webhook secret is configured; every event is refused."
        )
    header = request.headers.get(SIGNATURE_HEADER, "")
    parts = dict(part.strip().partition("=")[::2] for part in header.split(",") if "=" in part)
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or len(timestamp) > 12 or not signature:
        raise ApiProblem(
            401, "invalid_signature", f"The {SIGNATURE_HEADER} header must be t=<unix time>,v1=<hex>."
        )
    if abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE:
        raise ApiProblem(401, "stale_signature", "The signature's timestamp is more than 5 minutes from now.")
    if not hmac.compare_digest(sign(secret, int(timestamp), request.body), signature):
        raise ApiProblem(401, "invalid_signature", "The signature does not match the body.")


@router.post(
    "/webhook",
    response={
        200: schemas.WebhookResult,
        400: schemas.Problem,
        401: schemas.Problem,
        404: schemas.Problem,
        409: schemas.Problem,
        413: schemas.Problem,
        422: schemas.Problem,
    },
    summary="Payment gateway webhook",
    description=__doc__,
    auth=None,
    openapi_extra={
        "parameters": [
            {"in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": Event.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        },
    },
)
def payment_webhook(request):
    verify(request)  # before reading the body as JSON: nobody unsigned gets that far
    try:
        event = Event.model_validate_json(request.body)
    except ValidationError as error:
        errors = validation_errors(error.errors(include_input=False))
        raise ApiProblem(422, "validation_error", "The event is not valid.", errors=errors) from None
    data = event.data
    try:
        amount = Decimal(data.amount)
    except InvalidOperation:
        raise ApiProblem(422, "invalid_amount", "The amount is not a number.") from None
    if amount <= 0 or amount > MAX_AMOUNT:
        raise ApiProblem(422, "invalid_amount", f"The amount must be from 0.01 to {MAX_AMOUNT}.")
    order = Order.objects.filter(number=data.order.upper()).exclude(status="draft").first()
    if order is None:
        raise ApiProblem(404, "order_not_found", f"There is no order {data.order}.")
    if data.currency != order.currency:
        raise ApiProblem(
            422, "currency_mismatch", f"Order {order.number} is in {order.currency}, not {data.currency}."
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    event_id=event.id, kind=event.type, order_number=order.number, amount=amount
                )
        except IntegrityError:
            raise ApiProblem(
                409, "webhook_replayed", f"The event {event.id} was already processed."
            ) from None
        if event.type == "payment.captured":
            payment_services.payment_capture(order=order, amount=amount, reference=data.reference)
        else:
            payment = _payment_to_refund(order, data.reference)
            payment_services.payment_refund(
                payment=payment, amount=amount, reason=f"Gateway event {event.id}."
            )
    return {"event_id": event.id, "status": "processed", "order": order.number}


def _payment_to_refund(order: Order, reference: str) -> Payment:
    payments = order.payments.filter(status=Payment.Status.CAPTURED)
    if reference:
        payments = payments.filter(reference=reference)
    found = list(payments.order_by("pk")[:2])
    if len(found) != 1:
        what = f"with the reference {reference}" if reference else "(name it by its reference)"
        raise ApiProblem(
            422,
            "payment_not_found",
            f"Order {order.number} has {'no' if not found else 'more than one'} captured payment {what}.",
        )
    return found[0]

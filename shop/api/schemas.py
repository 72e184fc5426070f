"""Request and response schemas (pydantic v2 through django-ninja)."""

from datetime import datetime
from typing import Annotated

from django.conf import settings
from django_countries import countries
from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from orders.models import PLACED_STATUSES
from shop.core.validators import MAX_QUANTITY

Money = Annotated[str, Field(pattern=r"^\d+\.\d{2}$", examples=["19.99"])]
# What an order's status may be through the API (drafts are not shown).
OrderStatusText = Annotated[
    str, Field(examples=["placed", "partially_shipped"], description="One of: " + ", ".join(PLACED_STATUSES))
]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Input(Schema):
    """Request bodies refuse unknown fields (422), so nothing typed by mistake is ignored, and
    NUL characters in any text (PostgreSQL cannot store them)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data):
        if isinstance(data, dict):
            for name, value in data.items():
                if isinstance(value, str) and "\x00" in value:
                    raise ValueError(f"{name}: NUL characters are not allowed.")
        return data


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem: every error response of the API."""

    type: str = Field(examples=["https://shop.example.com/problems/insufficient-stock"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["Not enough stock for Widget (WID-1): requested 5, available 2."])
    code: str = Field(examples=["insufficient_stock"])
    errors: list[FieldError] | None = None
    model_config = ConfigDict(extra="allow")


class Product(Schema):
    sku: str = Field(examples=["EL-HUB-007"])
    name: str
    type: str
    description: str
    price: Money
    currency: str = Field(examples=[settings.SHOP_CURRENCY])
    active: bool
    available: int = Field(ge=0, description="Units that can be ordered now (on hand − allocated).")


class ProductPage(Schema):
    items: list[Product]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    Field(json_schema_extra={"format": "email"}, examples=["ada@example.com"]),
]
Phone = Annotated[
    str,
    StringConstraints(max_length=32, pattern=r"^[0-9+() .-]*$"),
    Field(examples=["+1 202 555 0101"], description="Without a country code: PHONENUMBER_DEFAULT_REGION."),
]


class CustomerIn(Input):
    first_name: Text100 = Field(examples=["Ada"])
    last_name: Text100 = Field(examples=["Lovelace"])
    email: Email
    phone: Phone = ""


class CustomerPatch(Input):
    first_name: Text100 | None = None
    last_name: Text100 | None = None
    email: Email | None = None
    phone: Phone | None = None


class Customer(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    created_at: datetime


class AddressIn(Input):
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        examples=["1 Main St"]
    )
    line2: Annotated[str, StringConstraints(max_length=200)] = ""
    city: Text100 = Field(examples=["Springfield"])
    state: Annotated[str, StringConstraints(max_length=100)] = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = (
        Field(examples=["12345"])
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        examples=["US"],
        description="ISO 3166-1 alpha-2 code",
        json_schema_extra={"enum": [code for code, _ in countries]},
    )
    is_default_shipping: bool = False
    is_default_billing: bool = False


class Address(Schema):
    id: int
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str
    is_default_shipping: bool
    is_default_billing: bool


class PaymentMethodIn(Input):
    gateway_token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = (
        Field(examples=["tok_1Nv0aB2eZvKYlo2C"])
    )
    brand: Annotated[str, StringConstraints(pattern=r"^(visa|mastercard|amex|discover|other)$")] = Field(
        examples=["visa"]
    )
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] = Field(examples=["4242"])
    exp_month: int = Field(ge=1, le=12, examples=[12])
    exp_year: int = Field(ge=2000, le=2100, examples=[2030])
    holder_name: Annotated[str, StringConstraints(max_length=100)] = ""
    is_default: bool = False


class PaymentMethod(Schema):
    id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    label: str
    is_default: bool


class LineIn(Input):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        examples=["EL-HUB-007"]
    )
    quantity: int = Field(ge=1, le=MAX_QUANTITY, examples=[2])


class OrderIn(Input):
    customer_id: int = Field(ge=1, le=2**63 - 1)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    shipping_address_id: int | None = Field(None, ge=1, le=2**63 - 1)
    payment_method_id: int | None = Field(None, ge=1, le=2**63 - 1)


class OrderLine(Schema):
    sku: str
    name: str
    quantity: int
    quantity_shipped: int = Field(description="Units of the line shipped so far.")
    quantity_returned: int = Field(description="Shipped units that came back.")
    unit_price: Money
    line_total: Money


class ShipmentLine(Schema):
    sku: str
    quantity: int


class Shipment(Schema):
    carrier: str = Field(examples=["UPS"])
    tracking_number: str = Field(description="Empty for an untracked carrier.")
    tracking_url: str | None
    status: str = Field(examples=["in_transit", "delivered"])
    shipped_at: datetime
    delivered_at: datetime | None
    lines: list[ShipmentLine]


class Payment(Schema):
    amount: Money
    refunded_amount: Money
    currency: str
    status: str
    created_at: datetime


class Order(Schema):
    number: str = Field(examples=["SO-000123"])
    status: OrderStatusText
    customer_id: int
    currency: str
    subtotal: Money
    shipping: Money
    total: Money
    placed_at: datetime
    lines: list[OrderLine]
    shipments: list[Shipment]
    payments: list[Payment]


class OrderSummary(Schema):
    number: str
    status: OrderStatusText
    currency: str
    total: Money
    placed_at: datetime


class OrderPage(Schema):
    items: list[OrderSummary]
    next_cursor: str | None


class CancelIn(Input):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class WebhookResult(Schema):
    event_id: str
    status: str = Field(examples=["processed"])
    order: str

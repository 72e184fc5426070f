"""Customers, their addresses and saved cards, through the customers and payments services."""

from typing import Annotated

from ninja import Query, Router
from ninja.responses import Status

from customers import services as customer_services
from customers.models import Address, Customer
from orders.models import Order
from payments import services as payment_services
from shop.api import keys, schemas
from shop.api.common import READ_ERRORS, WRITE_ERRORS, money
from shop.api.pagination import MAX_LIMIT, page
from shop.api.problems import ApiProblem

router = Router(tags=["customers"], auth=keys.WRITE_CUSTOMERS)

MAX_ID = 2**63 - 1


def get_customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first() if 0 < customer_id <= MAX_ID else None
    if customer is None:
        raise ApiProblem(404, "customer_not_found", f"There is no customer #{customer_id}.")
    return customer


def customer_out(customer: Customer) -> dict:
    return {
        "id": customer.pk,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": str(customer.phone or ""),
        "created_at": customer.created_at,
    }


def address_out(address: Address) -> dict:
    return {
        "id": address.pk,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country.code if address.country else "",
        "is_default_shipping": address.is_default_shipping,
        "is_default_billing": address.is_default_billing,
    }


def method_out(method) -> dict:
    return {
        "id": method.pk,
        "brand": method.brand,
        "last4": method.last4,
        "exp_month": method.exp_month,
        "exp_year": method.exp_year,
        "label": method.label,
        "is_default": method.is_default,
    }


@router.post(
    "",
    response={201: schemas.Customer, **WRITE_ERRORS},
    summary="Create a customer",
    description="An email already used by another customer (in any case) is a 422 `email_taken`.",
)
def create_customer(request, payload: schemas.CustomerIn):
    customer = customer_services.customer_create(**payload.model_dump())
    return Status(201, customer_out(customer))


@router.get("/{customer_id}", response={200: schemas.Customer, **READ_ERRORS}, summary="Get a customer")
def read_customer(request, customer_id: int):
    return customer_out(get_customer(customer_id))


@router.patch(
    "/{customer_id}",
    response={200: schemas.Customer, **WRITE_ERRORS},
    summary="Change a customer",
    description="Only the fields sent are changed.",
)
def update_customer(request, customer_id: int, payload: schemas.CustomerPatch):
    customer = get_customer(customer_id)
    changes = payload.model_dump(exclude_unset=True)
    for field in ("first_name", "last_name", "email"):
        if field in changes and changes[field] is None:
            raise ApiProblem(
                422,
                "validation_error",
                f"{field} cannot be null.",
                errors=[{"field": f"body.{field}", "message": "This field cannot be null."}],
            )
    return customer_out(customer_services.customer_update(customer=customer, **changes))


@router.post(
    "/{customer_id}/addresses",
    response={201: schemas.Address, **WRITE_ERRORS},
    summary="Add an address",
    description="A new default shipping (billing) address takes over from the previous default.",
)
def create_address(request, customer_id: int, payload: schemas.AddressIn):
    customer = get_customer(customer_id)
    fields = payload.model_dump()
    fields["country"] = fields["country"].upper()
    return Status(201, address_out(customer_services.address_create(customer=customer, **fields)))


@router.get(
    "/{customer_id}/addresses", response={200: list[schemas.Address], **READ_ERRORS}, summary="List addresses"
)
def list_addresses(request, customer_id: int):
    return [address_out(a) for a in get_customer(customer_id).addresses.order_by("pk")]


@router.delete(
    "/{customer_id}/addresses/{address_id}", response={204: None, **WRITE_ERRORS}, summary="Delete an address"
)
def delete_address(request, customer_id: int, address_id: int):
    customer = get_customer(customer_id)
    address = customer.addresses.filter(pk=address_id).first() if 0 < address_id <= MAX_ID else None
    if address is None:
        raise ApiProblem(404, "address_not_found", f"Customer #{customer_id} has no address #{address_id}.")
    customer_services.address_delete(address=address)
    return Status(204, None)


@router.post(
    "/{customer_id}/payment-methods",
    response={201: schemas.PaymentMethod, **WRITE_ERRORS},
    summary="Save a card",
    description=(
        "A card the payment gateway tokenized: its token, brand, last 4 digits and expiry. "
        "Anything that looks like a full card number, in any field, is a 422 and nothing is stored."
    ),
)
def create_payment_method(request, customer_id: int, payload: schemas.PaymentMethodIn):
    customer = get_customer(customer_id)
    method = payment_services.payment_method_create(customer=customer, **payload.model_dump())
    return Status(201, method_out(method))


@router.get(
    "/{customer_id}/orders",
    response={200: schemas.OrderPage, **READ_ERRORS},
    summary="List a customer's orders",
    description="Newest first, `limit` at a time (needs the orders:write scope too).",
    auth=keys.WRITE_ORDERS,
)
def list_customer_orders(
    request,
    customer_id: int,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
):
    customer = get_customer(customer_id)
    orders = Order.objects.filter(customer=customer).exclude(status="draft")
    rows, next_cursor = page(orders, cursor=cursor, limit=limit, descending=True)
    items = [
        {
            "number": o.number,
            "status": o.status,
            "currency": o.currency,
            "total": money(o.total),
            "placed_at": o.created_at,
        }
        for o in rows
    ]
    return {"items": items, "next_cursor": next_cursor}

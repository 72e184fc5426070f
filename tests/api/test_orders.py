"""POST /orders with an Idempotency-Key, GET /orders/{number}, a customer's orders, cancel."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Stock
from orders.models import Carrier, Order
from orders.services import order_deliver, order_return, order_ship
from payments.services import payment_capture
from shop.api.models import IdempotencyRecord
from tests.api.conftest import assert_problem
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory(stock=10, price="10.00", sku="WID-1")


def body(customer, **changes):
    return {"customer_id": customer.pk, "lines": [{"sku": "wid-1", "quantity": 2}], **changes}


def place(api, payload, key="key-1"):
    return api.post("/orders", payload, headers={"Idempotency-Key": key})


def test_place_an_order(api, customer, card, product):
    response = place(api, body(customer, payment_method_id=card.pk))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    order = response.json()
    assert order["status"] == "placed" and order["total"] == "27.50" and order["currency"] == "USD"
    assert order["lines"] == [
        {
            "sku": "WID-1",
            "name": product.name,
            "quantity": 2,
            "quantity_shipped": 0,
            "quantity_returned": 0,
            "unit_price": "10.00",
            "line_total": "20.00",
        }
    ]
    assert order["shipments"] == []
    assert Stock.objects.get(pk=product.pk).allocated == 2


def test_the_same_key_and_body_replays_and_places_nothing_new(api, customer, product):
    first = place(api, body(customer))
    again = place(api, body(customer))
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1 and Stock.objects.get(pk=product.pk).allocated == 2


def test_the_same_key_with_another_body_is_422(api, customer, product):
    place(api, body(customer))
    other = body(customer, lines=[{"sku": "WID-1", "quantity": 3}])
    assert_problem(place(api, other), 422, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_keys_are_per_api_key(api, make_key, client, customer, product):
    from tests.api.conftest import Api

    _, other_key = make_key("other")
    place(api, body(customer))
    response = place(Api(client, other_key), body(customer))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


def test_missing_idempotency_key_is_422(api, customer, product):
    problem = assert_problem(api.post("/orders", body(customer)), 422, "validation_error")
    assert problem["errors"][0]["field"] == "header.Idempotency-Key"
    assert_problem(place(api, body(customer), key="   "), 422, "validation_error")


def test_insufficient_stock_names_the_sku_and_is_replayed(api, customer, product):
    payload = body(customer, lines=[{"sku": "WID-1", "quantity": 11}])
    problem = assert_problem(place(api, payload), 409, "insufficient_stock")
    assert problem["shortages"] == [{"sku": "WID-1", "requested": 11, "available": 10}]
    replay = place(api, payload)
    assert replay.status_code == 409 and replay["Idempotent-Replayed"] == "true"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_sku"),
        ({"lines": []}, "validation_error"),
        ({"lines": [{"sku": "WID-1", "quantity": 0}]}, "validation_error"),
        ({"lines": [{"sku": "WID-1", "quantity": 1_000_001}]}, "validation_error"),
        ({"customer_id": 999_999}, "unknown_customer"),
        ({"shipping_address_id": 999_999}, "unknown_address"),
        ({"payment_method_id": 999_999}, "unknown_payment_method"),
    ],
)
def test_refusals_change_nothing(api, customer, product, changes, code):
    assert_problem(place(api, body(customer, **changes)), 422, code)
    assert not Order.objects.exists() and Stock.objects.get(pk=product.pk).allocated == 0


def test_another_customers_address_or_card_is_refused(api, customer, product):
    other = CustomerFactory()
    address = AddressFactory(customer=other)
    card = PaymentMethodFactory(customer=other)
    assert_problem(place(api, body(customer, shipping_address_id=address.pk), "a"), 422, "address_not_owned")
    assert_problem(
        place(api, body(customer, payment_method_id=card.pk), "b"), 422, "payment_method_not_owned"
    )
    assert not Order.objects.exists()


def test_inactive_product_is_refused(api, customer):
    ProductFactory(stock=5, sku="OLD-1", is_active=False)
    payload = body(customer, lines=[{"sku": "OLD-1", "quantity": 1}])
    assert_problem(place(api, payload), 422, "product_inactive")


def test_read_an_order_with_shipment_and_payments_without_method_details(api, customer, card, product):
    number = place(api, body(customer, payment_method_id=card.pk)).json()["number"]
    order = Order.objects.get(number=number)
    payment_capture(order=order)
    order_ship(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    response = api.get(f"/orders/{number.lower()}")
    data = response.json()
    assert data["status"] == "shipped"
    (shipment,) = data["shipments"]
    assert (shipment["carrier"], shipment["tracking_number"], shipment["status"]) == (
        "UPS",
        "1Z999AA10123456784",
        "in_transit",
    )
    assert shipment["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert shipment["lines"] == [{"sku": "WID-1", "quantity": 2}]
    assert "shipment" not in data
    assert data["lines"][0]["quantity_shipped"] == 2 and data["lines"][0]["quantity_returned"] == 0
    assert data["payments"][0]["amount"] == "27.50" and data["payments"][0]["status"] == "captured"
    text = response.content.decode()
    assert card.last4 not in text and card.gateway_token not in text and "method" not in text
    assert_problem(api.get("/orders/SO-999999"), 404, "order_not_found")


def test_customer_orders_newest_first_with_a_cursor(api, customer, product):
    numbers = [
        place(api, body(customer, lines=[{"sku": "WID-1", "quantity": 1}]), f"k{i}").json()["number"]
        for i in range(3)
    ]
    first = api.get(f"/customers/{customer.pk}/orders", {"limit": 2}).json()
    second = api.get(f"/customers/{customer.pk}/orders", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [o["number"] for o in first["items"] + second["items"]] == numbers[::-1]
    assert second["next_cursor"] is None


def test_cancel_while_cancellable(api, customer, product):
    number = place(api, body(customer)).json()["number"]
    response = api.post(f"/orders/{number}/cancel", {"reason": "changed my mind"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Stock.objects.get(pk=product.pk).allocated == 0
    problem = assert_problem(api.post(f"/orders/{number}/cancel"), 409, "invalid_transition")
    assert problem["current_status"] == "cancelled"


def test_cleanup_command_deletes_records_older_than_24_hours(api, customer, product):
    place(api, body(customer), "old")
    place(api, body(customer), "new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    call_command("api_idempotency_clean")
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_placement_response_is_what_reading_the_order_gives(api, customer, product):
    placed = place(api, body(customer)).json()
    assert api.get(f"/orders/{placed['number']}").json() == placed


def test_a_placement_response_lists_its_lines_as_reading_the_order_does(api, customer):
    """The response is built from the lines placement wrote, not read back: the same lines in the
    same order (by id) as a GET, whatever the order of the SKUs in the request."""
    skus = ["ZED-9", "ALP-1", "MID-5"]
    for sku in skus:
        ProductFactory(stock=5, sku=sku)
    lines = [{"sku": sku, "quantity": n} for n, sku in enumerate(["MID-5", "ZED-9", "ALP-1"], 1)]
    placed = place(api, body(customer, lines=lines)).json()
    assert sorted(line["sku"] for line in placed["lines"]) == sorted(skus)
    assert api.get(f"/orders/{placed['number']}").json() == placed


@pytest.fixture
def two_products():
    return ProductFactory(stock=10, price="10.00", sku="WID-1"), ProductFactory(
        stock=10, price="5.00", sku="GAD-2"
    )


def _paid(api, customer, card, key="paid-1"):
    payload = body(
        customer,
        payment_method_id=card.pk,
        lines=[{"sku": "WID-1", "quantity": 2}, {"sku": "GAD-2", "quantity": 1}],
    )
    number = place(api, payload, key).json()["number"]
    order = Order.objects.get(number=number)
    payment_capture(order=order)
    return order


def test_an_order_shipped_in_parts_shows_each_shipment_with_its_lines(api, customer, card, two_products):
    order = _paid(api, customer, card)
    widget = order.lines.order_by("pk").first()
    order_ship(order=order, carrier="DHL", tracking_number="JD 01/46", lines=[(widget, 1)])

    data = api.get(f"/orders/{order.number}").json()

    assert data["status"] == "partially_shipped"
    assert [(line["sku"], line["quantity"], line["quantity_shipped"]) for line in data["lines"]] == [
        ("WID-1", 2, 1),
        ("GAD-2", 1, 0),
    ]
    (first,) = data["shipments"]
    # The link comes from the carrier's pattern, the number quoted into it.
    assert first["tracking_url"] == "https://www.dhl.com/en/express/tracking.html?AWB=JD%2001%2F46"

    order_ship(order=order, carrier="courier", tracking_number="")  # the rest, untracked
    data = api.get(f"/orders/{order.number}").json()

    assert data["status"] == "shipped"
    assert [s["carrier"] for s in data["shipments"]] == ["DHL", "Local courier"]  # oldest first
    courier = data["shipments"][1]
    assert (courier["tracking_number"], courier["tracking_url"]) == ("", None)
    assert courier["lines"] == [{"sku": "WID-1", "quantity": 1}, {"sku": "GAD-2", "quantity": 1}]


def test_a_carrier_edited_by_the_manager_gives_its_new_link(api, customer, card, two_products):
    order = _paid(api, customer, card)
    order_ship(order=order, carrier="UPS", tracking_number="1ZABC")
    Carrier.objects.filter(code="ups").update(
        name="UPS Ground", tracking_url="https://ups.example/t/{tracking_number}"
    )

    (shipment,) = api.get(f"/orders/{order.number}").json()["shipments"]

    assert (shipment["carrier"], shipment["tracking_url"]) == ("UPS Ground", "https://ups.example/t/1ZABC")


def test_returned_units_and_the_new_statuses_are_shown(api, customer, card, two_products):
    order = _paid(api, customer, card)
    order_ship(order=order, carrier="UPS", tracking_number="1ZRET")
    order_deliver(order=order)
    widget = order.lines.order_by("pk").first()
    order_return(order=order, lines=[(widget, 1)])

    data = api.get(f"/orders/{order.number}").json()

    assert data["status"] == "partially_returned"
    assert [(line["quantity_shipped"], line["quantity_returned"]) for line in data["lines"]] == [
        (2, 1),
        (1, 0),
    ]
    (shipment,) = data["shipments"]
    assert shipment["status"] == "delivered" and shipment["delivered_at"]
    assert data["payments"][0]["refunded_amount"] == "10.00"
    statuses = api.get("/openapi.json").json()["components"]["schemas"]["Order"]["properties"]["status"]
    assert "partially_shipped" in statuses["description"] and "returned" in statuses["description"]


def test_reading_an_order_costs_the_same_queries_however_many_shipments(
    api, customer, card, two_products, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(number):
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/orders/{number}").status_code == 200
        return len(captured)

    one = _paid(api, customer, card)
    order_ship(order=one, carrier="UPS", tracking_number="1ZONE")
    many = _paid(api, customer, card, "paid-2")
    for line in many.lines.order_by("pk"):
        order_ship(order=many, carrier="FedEx", tracking_number=f"77{line.pk}", lines=[(line, 1)])
    order_ship(order=many, carrier="DHL", tracking_number="JDLAST")
    assert many.shipments.count() == 3
    queries(one.number)  # warm what is cached per process
    assert queries(many.number) == queries(one.number)


def test_a_replay_after_the_stock_ran_out_still_gives_the_first_order(api, customer, product):
    """The key is not looked up first: the replay's own placement is refused (nothing left),
    and the refusal, finding the key's record, answers with the first response instead."""
    first = place(api, body(customer, lines=[{"sku": "WID-1", "quantity": 10}]))
    assert first.status_code == 201
    again = place(api, body(customer, lines=[{"sku": "WID-1", "quantity": 10}]))
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1 and Stock.objects.get(pk=product.pk).allocated == 10
    assert IdempotencyRecord.objects.count() == 1


def test_another_body_that_could_be_placed_is_refused_and_places_nothing(api, customer, product):
    place(api, body(customer))
    other = body(customer, lines=[{"sku": "WID-1", "quantity": 1}])
    assert_problem(place(api, other), 422, "idempotency_key_reused")
    assert Order.objects.count() == 1 and Stock.objects.get(pk=product.pk).allocated == 2
    record = IdempotencyRecord.objects.get()
    assert record.response_status == 201


@pytest.mark.django_db(transaction=True)  # the API's transaction is the outermost, as in production
def test_placing_through_the_api_costs_two_statements_more_than_the_service(api, customer, product):
    """The API's own statements on a new key: the API key's lookup and the idempotency record's
    INSERT. No SAVEPOINT (the placement runs in the API's transaction without one), no second
    read of the products, no look-up of the key before placing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services import order_place_by_sku

    place(api, body(customer), key="warm-up")  # the key's last-used time, per-process caches
    with CaptureQueriesContext(connection) as through_api:
        assert place(api, body(customer), key="counted").status_code == 201
    with CaptureQueriesContext(connection) as service:
        order_place_by_sku(customer=customer, lines=[("wid-1", 2)])
    statements = [q["sql"] for q in through_api.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql.upper()], statements
    assert len(statements) == len(service.captured_queries) + 2, statements
    assert sum("catalog_product" in sql for sql in statements) == 1, statements

"""Database rules of orders, order lines and shipments, checked below the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from orders.models import Carrier, Order, OrderLine, Return, ReturnLine, Shipment, ShipmentLine
from tests.assertions import refused_by_database
from tests.factories import (
    CarrierFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db

QUANTITY_POSITIVE = "order_line_quantity_positive"
LINE_TOTAL = "order_line_total_is_price_times_quantity"
ORDER_TOTAL = "order_total_is_subtotal_plus_shipping"
STATUS_VALID = "order_status_valid"
DELIVERED_AFTER_SHIPPED = "shipment_delivered_after_shipped"
STATUS_MATCHES_DELIVERY = "shipment_status_matches_delivery"
COUNTERS = "order_line_returned_le_shipped_le_ordered"


def create_line(*, unit_price, quantity, line_total, order=None, product=None) -> OrderLine:
    product = product or ProductFactory()
    return OrderLine.objects.create(
        order=order or OrderFactory(),
        product=product,
        product_name=product.name,
        sku=product.sku,
        unit_price=Decimal(unit_price),
        quantity=quantity,
        line_total=Decimal(line_total),
    )


def create_order(*, subtotal, shipping_cost, total, **fields) -> Order:
    customer = CustomerFactory()
    return Order.objects.create(
        customer=customer,
        subtotal=Decimal(subtotal),
        shipping_cost=Decimal(shipping_cost),
        total=Decimal(total),
        **fields,
    )


class TestOrderLine:
    def test_zero_quantity_is_refused(self):
        with refused_by_database(QUANTITY_POSITIVE):
            create_line(unit_price="19.99", quantity=0, line_total="0.00")

        assert not OrderLine.objects.exists()

    def test_negative_quantity_is_refused(self):
        with refused_by_database(QUANTITY_POSITIVE):
            create_line(unit_price="19.99", quantity=-1, line_total="-19.99")

    def test_quantity_set_to_zero_by_update_is_refused(self):
        line = OrderLineFactory(quantity=2)

        with refused_by_database(QUANTITY_POSITIVE):
            OrderLine.objects.filter(pk=line.pk).update(quantity=0, line_total=Decimal("0.00"))

        line.refresh_from_db()
        assert line.quantity == 2

    def test_line_total_other_than_price_times_quantity_is_refused(self):
        with refused_by_database(LINE_TOTAL):
            create_line(unit_price="19.99", quantity=2, line_total="39.99")

    def test_quantity_changed_without_its_total_is_refused(self):
        line = OrderLineFactory(quantity=1)

        with refused_by_database(LINE_TOTAL):
            OrderLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + 1)

    def test_bulk_create_with_a_wrong_line_total_is_refused(self):
        order = OrderFactory()
        first, second = ProductFactory.create_batch(2, price=Decimal("2.50"))

        with refused_by_database(LINE_TOTAL):
            OrderLine.objects.bulk_create(
                [
                    OrderLineFactory.build(order=order, product=first, quantity=2),
                    OrderLineFactory.build(
                        order=order, product=second, quantity=2, line_total=Decimal("4.00")
                    ),
                ]
            )

        assert not order.lines.exists()

    @pytest.mark.parametrize(
        ("unit_price", "quantity", "line_total"),
        [
            ("19.99", 1, "19.99"),
            ("19.99", 3, "59.97"),
            ("0.10", 3, "0.30"),
            ("1.15", 3, "3.45"),
            ("0.00", 2, "0.00"),
        ],
    )
    def test_line_total_equal_to_price_times_quantity_is_accepted(self, unit_price, quantity, line_total):
        line = create_line(unit_price=unit_price, quantity=quantity, line_total=line_total)

        line.refresh_from_db()
        assert line.line_total == Decimal(line_total)


class TestOrderLineCounters:
    @pytest.mark.parametrize(
        ("shipped", "returned"),
        [(3, 0), (2, 3), (0, 1), (-1, 0), (1, -1)],
    )
    def test_shipping_more_than_ordered_or_taking_back_more_than_shipped_is_refused(self, shipped, returned):
        line = OrderLineFactory(quantity=2)

        with refused_by_database(COUNTERS):
            OrderLine.objects.filter(pk=line.pk).update(quantity_shipped=shipped, quantity_returned=returned)

        line.refresh_from_db()
        assert (line.quantity_shipped, line.quantity_returned) == (0, 0)

    def test_quantity_lowered_below_what_shipped_is_refused(self):
        line = OrderLineFactory(quantity=3, quantity_shipped=3)

        with refused_by_database(COUNTERS):
            OrderLine.objects.filter(pk=line.pk).update(quantity=2, line_total=F("unit_price") * 2)

    @pytest.mark.parametrize(("shipped", "returned"), [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)])
    def test_counters_within_the_order_are_accepted(self, shipped, returned):
        line = OrderLineFactory(quantity=2)
        OrderLine.objects.filter(pk=line.pk).update(quantity_shipped=shipped, quantity_returned=returned)

        line.refresh_from_db()
        assert (line.quantity_to_ship, line.quantity_returnable) == (2 - shipped, shipped - returned)


class TestOrder:
    def test_total_other_than_subtotal_plus_shipping_is_refused(self):
        with refused_by_database(ORDER_TOTAL):
            create_order(subtotal="50.00", shipping_cost="5.00", total="50.00")

        assert not Order.objects.exists()

    def test_shipping_changed_without_the_total_is_refused(self):
        order = create_order(subtotal="50.00", shipping_cost="5.00", total="55.00")

        with refused_by_database(ORDER_TOTAL):
            Order.objects.filter(pk=order.pk).update(shipping_cost=Decimal("7.50"))

        order.refresh_from_db()
        assert order.total == Decimal("55.00")

    @pytest.mark.parametrize(
        ("subtotal", "shipping_cost", "total"),
        [
            ("50.00", "5.00", "55.00"),
            ("19.99", "5.99", "25.98"),
            ("0.10", "0.20", "0.30"),
            ("100.00", "0.00", "100.00"),
            ("0.00", "0.00", "0.00"),
        ],
    )
    def test_total_equal_to_subtotal_plus_shipping_is_accepted(self, subtotal, shipping_cost, total):
        order = create_order(subtotal=subtotal, shipping_cost=shipping_cost, total=total)

        order.refresh_from_db()
        assert order.total == Decimal(total)

    def test_status_outside_the_choices_is_refused(self):
        with refused_by_database(STATUS_VALID):
            create_order(subtotal="0", shipping_cost="0", total="0", status="refunded")

    def test_status_set_outside_the_choices_by_update_is_refused(self):
        order = OrderFactory()

        with refused_by_database(STATUS_VALID):
            Order.objects.filter(pk=order.pk).update(status="lost")

        order.refresh_from_db()
        assert order.status == Order.Status.PLACED

    @pytest.mark.parametrize("status", Order.Status.values)
    def test_every_status_in_the_choices_is_accepted(self, status):
        order = create_order(subtotal="0", shipping_cost="0", total="0", status=status)

        assert Order.objects.get(pk=order.pk).status == status

    def test_duplicate_number_is_refused(self):
        OrderFactory(number="SO-000001")

        with refused_by_database("number"):
            OrderFactory(number="SO-000001")

        assert Order.objects.filter(number="SO-000001").count() == 1

    def test_number_given_to_another_order_by_update_is_refused(self):
        OrderFactory(number="SO-000001")
        other = OrderFactory(number="SO-000002")

        with refused_by_database("number"):
            Order.objects.filter(pk=other.pk).update(number="SO-000001")

    def test_many_orders_may_wait_for_their_number(self):
        # The number is set from the primary key after the insert, so NULLs must not collide.
        OrderFactory.create_batch(2, number=None)

        assert Order.objects.filter(number__isnull=True).count() == 2


class TestShipment:
    def test_delivered_before_shipped_is_refused(self):
        order = OrderFactory(status=Order.Status.SHIPPED)
        shipped_at = timezone.now()

        with refused_by_database(DELIVERED_AFTER_SHIPPED):
            Shipment.objects.create(
                order=order,
                carrier=CarrierFactory(),
                tracking_number="1Z999",
                status=Shipment.Status.DELIVERED,
                shipped_at=shipped_at,
                delivered_at=shipped_at - timedelta(minutes=1),
            )

        assert not Shipment.objects.exists()

    def test_delivery_moved_before_shipping_by_update_is_refused(self):
        shipment = ShipmentFactory()

        with refused_by_database(DELIVERED_AFTER_SHIPPED):
            Shipment.objects.filter(pk=shipment.pk).update(
                status=Shipment.Status.DELIVERED, delivered_at=F("shipped_at") - timedelta(days=1)
            )

        shipment.refresh_from_db()
        assert shipment.delivered_at is None

    @pytest.mark.parametrize("delay", [timedelta(0), timedelta(days=2)])
    def test_delivered_at_or_after_shipped_is_accepted(self, delay):
        shipped_at = timezone.now() - timedelta(days=3)
        shipment = ShipmentFactory(
            shipped_at=shipped_at, status=Shipment.Status.DELIVERED, delivered_at=shipped_at + delay
        )

        shipment.refresh_from_db()
        assert shipment.delivered_at == shipped_at + delay

    def test_delivered_without_a_date_is_refused(self):
        with refused_by_database(STATUS_MATCHES_DELIVERY):
            ShipmentFactory(status=Shipment.Status.DELIVERED, delivered_at=None)

    def test_an_order_has_several_shipments(self):
        order = OrderFactory(status=Order.Status.SHIPPED)
        first, second = ShipmentFactory.create_batch(2, order=order)

        assert set(order.shipments.all()) == {first, second}
        assert set(Order.objects.filter(shipment__tracking_number=first.tracking_number)) == {order}

    def test_a_shipment_without_a_carrier_is_refused(self):
        with refused_by_database("carrier"):
            ShipmentFactory(carrier=None)

    def test_a_carrier_with_shipments_is_not_deleted(self):
        from django.db.models import ProtectedError

        shipment = ShipmentFactory()
        with pytest.raises(ProtectedError):
            shipment.carrier.delete()


class TestShipmentAndReturnLines:
    @pytest.mark.parametrize("model", ["shipment", "return"])
    @pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
    def test_a_line_quantity_outside_1_to_the_maximum_is_refused(self, model, quantity):
        line = OrderLineFactory(quantity=2)
        with refused_by_database(f"{model}_line_quantity_valid"):
            _line_of(model, line, quantity)

    @pytest.mark.parametrize("model", ["shipment", "return"])
    def test_one_order_line_twice_in_a_shipment_or_return_is_refused(self, model):
        line = OrderLineFactory(quantity=2)
        first = _line_of(model, line, 1)
        parent = {"shipment": "shipment", "return": "return_record"}[model]
        with refused_by_database(f"{model}_line_once", "order_line_id"):
            type(first).objects.create(**{parent: getattr(first, parent)}, order_line=line, quantity=1)


def _line_of(model, order_line, quantity):
    if model == "shipment":
        shipment = ShipmentFactory(order=order_line.order)
        return ShipmentLine.objects.create(shipment=shipment, order_line=order_line, quantity=quantity)
    record = Return.objects.create(order=order_line.order, currency="USD")
    return ReturnLine.objects.create(return_record=record, order_line=order_line, quantity=quantity)


class TestCarrier:
    def test_a_tracking_link_pattern_without_the_placeholder_is_refused(self):
        with refused_by_database("carrier_tracking_url_has_placeholder"):
            Carrier.objects.create(code="acme", name="Acme", tracking_url="https://acme.example/track")

    def test_a_carrier_name_is_unique(self):
        with refused_by_database("name"):
            Carrier.objects.create(code="ups-2", name="UPS")

    def test_the_standard_carriers_are_there_after_a_flush(self):
        assert set(Carrier.objects.values_list("code", flat=True)) >= {
            "ups",
            "usps",
            "fedex",
            "dhl",
            "royal-mail",
            "courier",
        }
        assert not Carrier.objects.get(code="courier").tracked

    def test_a_tracking_link_quotes_the_number(self):
        carrier = Carrier.objects.get(code="ups")
        assert carrier.tracking_link("1Z 9&9") == "https://www.ups.com/track?tracknum=1Z%209%269"
        assert carrier.tracking_link("") == ""
        assert Carrier.objects.get(code="courier").tracking_link("123") == ""

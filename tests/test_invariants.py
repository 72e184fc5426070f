"""Long random sequences of every stock and order operation (partial shipments, deliveries and
returns among them); after each step the shop's cross-table rules hold, and a refused operation
changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from catalog.models import Stock, StockMovement
from catalog.services import product_create, stock_adjust, stock_receive
from orders.models import (
    OPEN_STATUSES,
    RETURNABLE_STATUSES,
    SHIPPABLE_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.services import (
    order_cancel,
    order_deliver,
    order_draft_create,
    order_draft_place,
    order_draft_set_lines,
    order_edit,
    order_place,
    order_return,
    order_ship,
    orders_delete,
)
from payments.models import Payment
from payments.services import payment_capture, payment_refund
from shop.backoffice.integrity import find_violations
from shop.core.exceptions import ShopError
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductTypeFactory

PRODUCTS = 4


def _snapshot():
    """Everything a refused operation must leave untouched."""
    return (
        list(Stock.objects.order_by("pk").values_list("pk", "on_hand", "allocated")),
        Order.objects.count(),
        list(Order.objects.order_by("pk").values_list("pk", "status", "total")),
        list(
            OrderLine.objects.order_by("pk").values_list(
                "pk", "quantity", "unit_price", "quantity_shipped", "quantity_returned"
            )
        ),
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "refunded_amount")),
        list(Shipment.objects.order_by("pk").values_list("pk", "status", "delivered_at")),
        ShipmentLine.objects.count(),
        list(Return.objects.order_by("pk").values_list("pk", "refunded_amount")),
        ReturnLine.objects.count(),
    )


# How many units of a line a partial shipment or a return asks for.
AMOUNTS = st.sampled_from(["one", "one", "rest", "too many", "none"])

# Carriers by code or name, one untracked (shipped without a tracking number), one unknown.
CARRIERS = st.sampled_from(
    [("ups", "1Z"), ("UPS", "1Z"), ("courier", ""), ("FedEx", "77"), ("ups", ""), ("nope", "1")]
)


class ShopMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        kind = ProductTypeFactory(name="Invariant type")
        self.products = [
            product_create(
                name=f"P{i}",
                sku=f"INV-{id(self)}-{i}",
                product_type=kind,
                price=Decimal("9.99") + i,
                initial_stock=8,
            )
            for i in range(PRODUCTS)
        ]
        self.customers = []
        for _ in range(2):
            customer = CustomerFactory()
            AddressFactory(customer=customer, is_default_shipping=True)
            PaymentMethodFactory(customer=customer, is_default=True)
            self.customers.append(customer)
        self.orders: list[Order] = []
        self.outcomes: dict[str, int] = {}

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def _run(self, name, operation):
        """Run `operation`, returning what it returns; if the shop refuses it (None), nothing
        may have changed."""
        before = _snapshot()
        try:
            result = operation()
        except ShopError:
            assert _snapshot() == before, f"refused {name} changed data"
            self.outcomes[f"{name} refused"] = self.outcomes.get(f"{name} refused", 0) + 1
        else:
            self.outcomes[name] = self.outcomes.get(name, 0) + 1
            return result
        return None

    def _order(self, index, fitting=()):
        """One of the orders; for three `index`es in four, one whose status is `fitting` if there
        is one, so that sequences reach the later steps (ship, deliver, return) often."""
        if not self.orders:
            return None
        if fitting and index % 4:
            ids = set(
                Order.objects.filter(pk__in=[o.pk for o in self.orders], status__in=fitting).values_list(
                    "pk", flat=True
                )
            )
            candidates = [order for order in self.orders if order.pk in ids]
            if candidates:
                return candidates[index // 4 % len(candidates)]
        return self.orders[index % len(self.orders)]

    @rule(
        customer=st.integers(0, 1),
        lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, 4)), min_size=1, max_size=4),
    )
    def place(self, customer, lines):
        customer = self.customers[customer]
        method = customer.payment_methods.first()

        def go():
            order = order_place(
                customer=customer,
                lines=[(self.products[p], q) for p, q in lines],
                payment_method=method,
            )
            self.orders.append(order)

        self._run("place", go)

    @rule(
        customer=st.integers(0, 1),
        lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 3)), min_size=1, max_size=3),
    )
    def place_and_pay(self, customer, lines):
        """An order paid for at checkout: the most common start of everything shipped and returned."""
        self._place_and_pay(customer, lines)

    @initialize(
        orders=st.lists(
            st.tuples(
                st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 2)), min_size=1, max_size=3),
                st.sampled_from(["paid", "partly shipped", "shipped"]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def paid_orders_to_begin_with(self, orders):
        """Every sequence starts with some paid orders, some of them partly or wholly shipped, so
        that its steps ship, deliver and take back from the first one (sequences are short, and
        there are many kinds of step)."""
        for customer, (lines, state) in enumerate(orders):
            order = self._place_and_pay(customer % 2, lines)
            if order is None or state == "paid":
                continue
            part = [(order.lines.order_by("pk").first(), 1)] if state == "partly shipped" else None
            self._run(
                "ship part" if part else "ship",
                lambda order=order, part=part: order_ship(
                    order=order, carrier="ups", tracking_number="1Z", lines=part
                ),
            )

    def _place_and_pay(self, customer, lines):
        customer = self.customers[customer]

        def go():
            with transaction.atomic():
                order = order_place(
                    customer=customer,
                    lines=[(self.products[p], q) for p, q in lines],
                    payment_method=customer.payment_methods.first(),
                )
                payment_capture(order=order)
            self.orders.append(order)
            return order

        return self._run("place and pay", go)

    @rule(
        customer=st.integers(0, 1),
        lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, 4)), max_size=4),
    )
    def draft(self, customer, lines):
        def go():
            with transaction.atomic():
                draft = order_draft_create(customer=self.customers[customer])
                order_draft_set_lines(order=draft, lines=[(self.products[p], q) for p, q in lines])
            self.orders.append(draft)

        self._run("draft", go)

    @rule(
        index=st.integers(0, 1000),
        lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, 4)), max_size=4),
    )
    def set_draft_lines(self, index, lines):
        order = self._order(index)
        if order is not None:
            self._run(
                "set draft lines",
                lambda: order_draft_set_lines(order=order, lines=[(self.products[p], q) for p, q in lines]),
            )

    @rule(index=st.integers(0, 1000))
    def place_draft(self, index):
        order = self._order(index)
        if order is not None:
            self._run("place draft", lambda: order_draft_place(order=order))

    @rule(
        index=st.integers(0, 1000),
        lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, 4)), max_size=4),
    )
    def edit(self, index, lines):
        order = self._order(index)
        if order is not None:
            self._run(
                "edit", lambda: order_edit(order=order, lines=[(self.products[p], q) for p, q in lines])
            )

    @rule(index=st.integers(0, 1000), partial=st.booleans())
    def pay(self, index, partial):
        order = self._order(index, fitting=["placed"])
        if order is None:
            return
        amount = Decimal("1.00") if partial else None
        self._run("pay", lambda: payment_capture(order=order, amount=amount))

    def _lines_of(self, order, picks, *, left):
        """(order line, quantity) for each (line index, amount) picked. The line is one of those
        with units `left(line)` (to ship, or to take back) if any; the amount is "one" unit, the
        "rest", one "too many" or "none"."""
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        lines = [line for line in lines if left(line)] or lines
        if not lines:
            return []
        chosen = []
        for i, amount in picks:
            line = lines[i % len(lines)]
            rest = left(line)
            chosen.append((line, {"one": 1, "rest": rest, "too many": rest + 1, "none": 0}[amount]))
        return chosen

    @rule(index=st.integers(0, 1000), carrier=CARRIERS)
    def ship(self, index, carrier):
        order = self._order(index, fitting=SHIPPABLE_STATUSES)
        if order is not None:
            name, number = carrier
            self._run("ship", lambda: order_ship(order=order, carrier=name, tracking_number=number))

    @rule(
        index=st.integers(0, 1000),
        carrier=CARRIERS,
        picks=st.lists(st.tuples(st.integers(0, 3), AMOUNTS), min_size=1, max_size=2),
    )
    def ship_part(self, index, carrier, picks):
        order = self._order(index, fitting=SHIPPABLE_STATUSES)
        if order is not None:
            name, number = carrier
            self._run(
                "ship part",
                lambda: order_ship(
                    order=order,
                    carrier=name,
                    tracking_number=number,
                    lines=self._lines_of(order, picks, left=lambda line: line.quantity_to_ship),
                ),
            )

    @rule(
        index=st.integers(0, 1000),
        which=st.integers(-1, 3),
        when=st.sampled_from(["now", "today", "since it left", "before it left", "future"]),
    )
    def deliver(self, index, which, when):
        """One shipment of the order (or all in transit: -1), now, on a date or at a moment; one
        before the shipment left or in the future is refused."""
        order = self._order(index, fitting=["partially_shipped", "shipped", "partially_returned"])
        if order is None:
            return
        shipments = list(Shipment.objects.filter(order=order).order_by("pk"))
        shipment = shipments[which % len(shipments)] if shipments and which >= 0 else None
        left = max((s.shipped_at for s in shipments), default=timezone.now())
        delivered_at = {
            "now": None,
            "today": timezone.localdate(),
            "since it left": left + datetime.timedelta(microseconds=1),
            "before it left": left - datetime.timedelta(days=1),
            "future": timezone.now() + datetime.timedelta(hours=1),
        }[when]
        self._run("deliver", lambda: order_deliver(order=order, shipment=shipment, delivered_at=delivered_at))

    @rule(
        index=st.integers(0, 1000),
        picks=st.lists(
            st.tuples(st.integers(0, 3), AMOUNTS, st.sampled_from([None, True, False])),
            min_size=1,
            max_size=2,
        ),
        restock=st.booleans(),
        refund=st.booleans(),
        refund_shipping=st.booleans(),
    )
    def take_back(self, index, picks, restock, refund, refund_shipping):
        """Return some units: restocked or written off (for all, or per line), refunded or not."""
        order = self._order(index, fitting=RETURNABLE_STATUSES)
        if order is None:
            return
        lines = self._lines_of(
            order, [(i, q) for i, q, _ in picks], left=lambda line: line.quantity_returnable
        )
        lines = [
            (line, q) if per_line is None else (line, q, per_line)
            for (line, q), (_, _, per_line) in zip(lines, picks, strict=False)
        ]
        self._run(
            "return",
            lambda: order_return(
                order=order, lines=lines, restock=restock, refund=refund, refund_shipping=refund_shipping
            ),
        )

    @rule(index=st.integers(0, 1000))
    def cancel(self, index):
        order = self._order(index, fitting=OPEN_STATUSES)
        if order is not None:
            self._run("cancel", lambda: order_cancel(order=order, reason="test"))

    @rule(index=st.integers(0, 1000), cents=st.integers(-100, 5000))
    def refund(self, index, cents):
        order = self._order(index, fitting=["paid", *RETURNABLE_STATUSES])
        payment = order and order.payments.order_by("pk").first()
        if payment is None:
            return
        amount = None if cents < 0 else Decimal(cents) / 100
        self._run("refund", lambda: payment_refund(payment=payment, amount=amount))

    @rule(index=st.integers(0, 1000))
    def delete(self, index):
        order = self._order(index)
        if order is not None:

            def go():
                Order.objects.get(pk=order.pk).delete()
                self.orders.remove(order)

            self._run("delete", go)

    @rule(index=st.integers(0, 1000))
    def delete_releasing(self, index):
        """Delete through orders_delete, which gives back what open orders (partially shipped
        ones too) still hold."""
        order = self._order(index, fitting=OPEN_STATUSES)
        if order is not None:

            def go():
                orders_delete(queryset=Order.objects.filter(pk=order.pk))
                self.orders.remove(order)

            self._run("delete releasing", go)

    @rule(product=st.integers(0, PRODUCTS - 1), quantity=st.integers(-1, 6))
    def receive(self, product, quantity):
        self._run("receive", lambda: stock_receive(product=self.products[product], quantity=quantity))

    @rule(
        product=st.integers(0, PRODUCTS - 1),
        delta=st.integers(-6, 4),
        reason=st.sampled_from(["count", "damaged", "found", "return"]),
    )
    def adjust(self, product, delta, reason):
        self._run(
            "adjust",
            lambda: stock_adjust(product=self.products[product], delta=delta, reason=reason),
        )

    @invariant()
    def rules_hold(self):
        assert find_violations() == []


@pytest.mark.django_db
def test_random_operation_sequences_keep_every_invariant():
    run_state_machine_as_test(
        ShopMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )

"""Long random sequences of every stock and order operation; after each step the shop's
cross-table rules hold, and a refused operation changes nothing."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from catalog.models import Stock, StockMovement
from catalog.services import product_create, stock_adjust, stock_receive
from orders.models import Order, OrderEvent, OrderLine
from orders.services import (
    order_cancel,
    order_deliver,
    order_draft_create,
    order_draft_place,
    order_draft_set_lines,
    order_edit,
    order_place,
    order_ship,
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
        list(OrderLine.objects.order_by("pk").values_list("pk", "quantity", "unit_price")),
        StockMovement.objects.count(),
        OrderEvent.objects.count(),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "refunded_amount")),
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
                initial_stock=3,
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
        before = _snapshot()
        try:
            operation()
        except ShopError:
            assert _snapshot() == before, f"refused {name} changed data"
            self.outcomes[f"{name} refused"] = self.outcomes.get(f"{name} refused", 0) + 1
        else:
            self.outcomes[name] = self.outcomes.get(name, 0) + 1

    def _order(self, index):
        return self.orders[index % len(self.orders)] if self.orders else None

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
        order = self._order(index)
        if order is None:
            return
        amount = Decimal("1.00") if partial else None
        self._run("pay", lambda: payment_capture(order=order, amount=amount))

    @rule(index=st.integers(0, 1000))
    def ship(self, index):
        order = self._order(index)
        if order is not None:
            self._run("ship", lambda: order_ship(order=order, carrier="UPS", tracking_number="1Z"))

    @rule(index=st.integers(0, 1000))
    def deliver(self, index):
        order = self._order(index)
        if order is not None:
            self._run("deliver", lambda: order_deliver(order=order))

    @rule(index=st.integers(0, 1000))
    def cancel(self, index):
        order = self._order(index)
        if order is not None:
            self._run("cancel", lambda: order_cancel(order=order, reason="test"))

    @rule(index=st.integers(0, 1000), cents=st.integers(-100, 5000))
    def refund(self, index, cents):
        order = self._order(index)
        payment = order and order.payments.order_by("pk").first()
        if payment is None:
            return
        amount = None if cents < 0 else Decimal(cents) / 100
        self._run("refund", lambda: payment_refund(payment=payment, amount=amount))

    @rule(index=st.integers(0, 1000))
    def delete(self, index):
        order = self._order(index)
        if order is not None:
            self.orders.remove(order)
            self._run("delete", lambda: Order.objects.get(pk=order.pk).delete())

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
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )

"""Every change made through the admin can be traced to a person: the admin's history (LogEntry)
names who did what, and the order timeline and the stock ledger name the same person."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from catalog.models import Product, StockMovement
from orders.models import Order, OrderEvent
from payments.models import Payment
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    MANAGER,
    SHIPPING,
    admin_url,
    confirm_action,
    log_in,
    paid_order,
    place_order,
    start_action,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

ADJUST_ACTION = "adjust_stock_selected"


def logged(user, obj, words):
    entry = (
        LogEntry.objects.filter(
            user=user,
            action_flag=CHANGE,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
        )
        .order_by("-pk")
        .first()
    )
    assert entry is not None, f"no admin history for {obj}"
    assert words in entry.get_change_message(), entry.get_change_message()


def test_receive_and_adjust_leave_history_and_ledger_rows(client):
    clerk = log_in(client, INVENTORY)
    product = ProductFactory(stock=4)
    client.post(admin_url(Product, "receive_stock", product.pk), {"quantity": "6", "note": "PO 77"})
    logged(clerk, product, "Receive stock")
    assert product.movements.get(kind="receipt").actor == clerk

    page = start_action(client, Product, ADJUST_ACTION, [product])
    assert page.status_code == 200
    confirm_action(client, page, rows={product.pk: {"delta": "-1", "reason": "damaged"}})
    logged(clerk, product, "Adjust stock")
    assert product.movements.get(kind="adjustment").actor == clerk


def test_shipping_delivering_cancelling_refunding_and_notes_leave_history_and_events(client):
    product = ProductFactory(stock=30, price=Decimal("20.00"))
    to_ship = paid_order(product)
    to_cancel = paid_order(product)
    noted = place_order(product)

    shipper = log_in(client, SHIPPING)
    page = start_action(client, Order, "mark_shipped", [to_ship])
    confirm_action(client, page, rows={to_ship.pk: {"carrier": "ups", "tracking_number": "1ZTRACE"}})
    logged(shipper, to_ship, "Mark shipped")
    assert to_ship.events.get(kind=OrderEvent.Kind.SHIPPED).actor == shipper
    assert set(
        StockMovement.objects.filter(order_number=to_ship.number, kind="sale").values_list("actor", flat=True)
    ) == {shipper.pk}

    client.post(admin_url(Order, "deliver", to_ship.pk), {})
    logged(shipper, to_ship, "Mark delivered")
    assert to_ship.events.get(kind=OrderEvent.Kind.DELIVERED).actor == shipper

    agent = log_in(client, CUSTOMER_SERVICE)
    client.post(admin_url(Order, "cancel", to_cancel.pk), {"reason": "Changed mind"})
    logged(agent, to_cancel, "Cancel order")
    assert to_cancel.events.get(kind=OrderEvent.Kind.CANCELLED).actor == agent
    assert to_cancel.events.get(kind=OrderEvent.Kind.REFUNDED).actor == agent
    assert StockMovement.objects.get(order_number=to_cancel.number, kind="release").actor == agent

    client.post(admin_url(Order, "note", noted.pk), {"message": "Called the customer"})
    logged(agent, noted, "Add a note")

    manager = log_in(client, MANAGER)
    refundable = paid_order(product)
    payment = refundable.payments.get()
    # The refund's confirmation page posts the amount back with confirmed=yes.
    refund = {"amount": "5.00", "reason": "Dent", "confirmed": "yes"}
    client.post(admin_url(Payment, "refund", payment.pk), refund)
    logged(manager, payment, "Refund")
    assert refundable.events.get(kind=OrderEvent.Kind.REFUNDED).actor == manager

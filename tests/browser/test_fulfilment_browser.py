"""Fulfilment as staff do it in a browser: part of an order shipped from its page and then the
rest; one unit taken back with "Return items" (back on the shelf, refunded); a shipment's packing
slip opened from the order and printed (a screenshot of the printed page)."""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from catalog.models import Stock
from orders import services as order_services
from orders.models import Order, Return, Shipment
from tests.browser.pages import click_and_wait, expect_no_errors, readonly, success_messages, timeline_row

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def paid(transactional_db):
    """paid(quantity) -> a paid order of one product (10 on hand), placed and paid by the services."""
    from tests.admin_support import paid_order
    from tests.factories import CarrierFactory, ProductFactory

    CarrierFactory()  # UPS, as every migrated database has it (a flush removed it)

    def make(quantity=3, **product):
        return paid_order(ProductFactory(stock=10, **product), quantity=quantity)

    return make


def _on_hand(line) -> int:
    return Stock.objects.get(pk=line.product_id).on_hand


def _order_page(page, live_server, order):
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()


def test_shipping_staff_ship_part_of_an_order_then_the_rest(page, live_server, login, shot, paid):
    order = paid(quantity=3)
    line = order.lines.get()
    quantity = page.locator(f"input[name=line_{line.pk}]")
    login(page, "sam.shipping", role="Shipping staff")

    _order_page(page, live_server, order)
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Mark shipped"))
    # Every unit that remains, to begin with; one goes in this parcel.
    expect(quantity).to_have_value("3")
    page.locator("select[name=carrier]").select_option(value="ups")
    page.locator("input[name=tracking_number]").fill("1ZPARTONE")
    quantity.fill("1")
    shot(page, "ship-one-of-three")
    click_and_wait(page, page.get_by_role("button", name="Mark shipped", exact=True))

    expect_no_errors(page)
    expect(success_messages(page)).to_have_text(
        [f"Order {order.number}: 1 unit(s) shipped; the rest is still to ship."]
    )
    expect(readonly(page, "status")).to_have_text("Partially shipped")
    expect(page.locator("table.shipments tbody tr")).to_have_count(1)
    shot(page, "partially-shipped")

    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Mark shipped"))
    expect(quantity).to_have_value("2")
    page.locator("select[name=carrier]").select_option(value="ups")
    page.locator("input[name=tracking_number]").fill("1ZPARTTWO")
    click_and_wait(page, page.get_by_role("button", name="Mark shipped", exact=True))

    expect_no_errors(page)
    expect(success_messages(page)).to_have_text(
        [f"Order {order.number} shipped (2 unit(s) in this shipment)."]
    )
    expect(readonly(page, "status")).to_have_text("Shipped")
    shipments = page.locator("table.shipments tbody tr")
    expect(shipments).to_have_count(2)
    expect(shipments.filter(has_text="1ZPARTONE")).to_contain_text(f"1 × {line.product_name} ({line.sku})")
    expect(shipments.filter(has_text="1ZPARTTWO")).to_contain_text(f"2 × {line.product_name} ({line.sku})")
    expect(timeline_row(page, "Shipped")).to_have_count(2)
    expect(page.locator(".object-tools").get_by_role("link", name="Mark shipped")).to_have_count(0)
    shot(page, "shipped")

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert sorted(Shipment.objects.filter(order=order).values_list("tracking_number", flat=True)) == [
        "1ZPARTONE",
        "1ZPARTTWO",
    ]
    assert _on_hand(line) == 7


def test_customer_service_return_one_unit_to_the_shelf_with_a_refund(page, live_server, login, shot, paid):
    order = paid(quantity=2, price=Decimal("12.50"))
    order_services.order_ship(order=order, carrier="ups", tracking_number="1ZRETURN")
    line = order.lines.get()
    assert _on_hand(line) == 8
    login(page, "cass.service", role="Customer service")

    _order_page(page, live_server, order)
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Return items"))
    quantity = page.locator(f"input[name=line_{line.pk}]")
    expect(quantity).to_have_value("0")
    # Back on the shelf and refunded, unless unticked.
    expect(page.locator(f"input[name=restock_{line.pk}]")).to_be_checked()
    expect(page.locator("input[name=refund]")).to_be_checked()
    quantity.fill("1")
    page.locator("textarea[name=reason]").fill("Too small")
    shot(page, "return-form")
    click_and_wait(page, page.get_by_role("button", name="Return items", exact=True))

    expect_no_errors(page)
    record = Return.objects.get(order=order)
    expect(success_messages(page)).to_have_text(
        [f"Return #{record.pk} of order {order.number}: 1 unit(s) taken back, 12.50 USD refunded."]
    )
    expect(readonly(page, "status")).to_have_text("Partially returned")
    returns = page.locator("table.returns tbody tr")
    expect(returns).to_have_count(1)
    expect(returns).to_contain_text(f"1 × {line.product_name} ({line.sku})")
    expect(returns).to_contain_text("12.50 USD")
    expect(returns).to_contain_text("Too small")
    expect(timeline_row(page, "Returned")).to_have_count(1)
    shot(page, "returned")

    assert record.refunded_amount == Decimal("12.50")
    assert [(rl.quantity, rl.restocked) for rl in record.lines.all()] == [(1, True)]
    assert order.payments.get().refunded_amount == Decimal("12.50")
    assert _on_hand(line) == 9


def test_a_shipments_packing_slip_prints_without_the_toolbar(page, live_server, login, shot, paid, tmp_path):
    order = paid(quantity=2, sku="SLIP-MUG-01")
    line = order.lines.get()
    order_services.order_ship(order=order, carrier="ups", tracking_number="1ZSLIP", lines=[(line, 2)])
    login(page, "sam.shipping", role="Shipping staff")

    _order_page(page, live_server, order)
    with page.context.expect_page() as opened:
        page.locator("table.shipments").get_by_role("link", name="Print").click()
    slip = opened.value
    slip.wait_for_load_state()
    expect(slip.locator(".toolbar")).to_be_visible()
    expect(slip.locator(".slip")).to_have_count(1)
    shot(slip, "packing-slip-screen")

    slip.emulate_media(media="print")
    printed = tmp_path / "packing_slip.png"
    slip.screenshot(path=str(printed), full_page=True)
    if ARTIFACTS.is_dir():
        shutil.copyfile(printed, ARTIFACTS / "packing_slip.png")

    assert printed.stat().st_size > 0
    expect(slip.locator(".toolbar")).to_be_hidden()
    expect(slip.locator(".order-number")).to_have_text(order.number)
    expect(slip.locator(".order-number")).to_be_visible()
    expect(slip.locator("td.sku")).to_have_text(["SLIP-MUG-01"])
    expect(slip.locator("td.sku")).to_be_visible()
    expect(slip.locator("td.qty")).to_have_text(["2"])
    to = slip.locator(".slip .to")
    expect(to).to_be_visible()
    for address_line in order.shipping_address_lines:
        expect(to).to_contain_text(address_line)

"""Shipping staff ship an order the way they do every day: the awaiting-shipment list (paid and
partially shipped orders), the "Mark shipped" action, carrier and tracking number on its page,
and the order shipped."""

from playwright.sync_api import expect

from orders.models import SHIPPABLE_STATUSES, Order, OrderEvent, Shipment
from tests.browser.pages import (
    click_and_wait,
    column,
    expect_no_errors,
    list_filter,
    readonly,
    result_row,
    result_rows,
    run_action,
    success_messages,
    timeline_row,
)

TRACKING = "1Z999AA10123456784"


def test_shipping_staff_ship_an_order_awaiting_shipment(page, live_server, login, shot, demo):
    awaiting = list(Order.objects.filter(status__in=SHIPPABLE_STATUSES).order_by("-created_at", "-id"))
    assert len(awaiting) >= 2, "the demo data has orders awaiting shipment"
    order = next(o for o in awaiting if o.status == Order.Status.PAID)

    login(page, "sam.shipping", role="Shipping staff")
    shot(page, "dashboard")
    click_and_wait(page, page.locator("#orders-order").get_by_role("link", name="Orders", exact=True))
    expect(page.get_by_role("heading", name="Select order to view")).to_be_visible()
    shot(page, "order-list")

    # The shortcut over the list: paid orders not yet shipped, and those shipped in part.
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Awaiting shipment"))
    assert "status__in=paid,partially_shipped" in page.url
    assert column(page, "number") == [o.number for o in awaiting]
    assert set(column(page, "status")) == {o.get_status_display() for o in awaiting}
    shot(page, "awaiting-shipment")

    result_row(page, order.number).locator("input.action-select").check()
    expect(page.locator("#changelist-form .action-counter")).to_have_text(f"1 of {len(awaiting)} selected")
    run_action(page, "Mark selected orders shipped")

    # The action's page: the selected order only, asking carrier and tracking number.
    expect(page.get_by_role("heading", name="Mark shipped: 1 order")).to_be_visible()
    rows = page.locator("table.shop-rows tbody tr")
    expect(rows).to_have_count(1)
    row = rows.filter(has_text=order.number)
    expect(row).to_contain_text(order.customer.full_name)
    row.locator("select[name$='-carrier']").select_option(value="ups")
    row.locator("input[name$='-tracking_number']").fill(TRACKING)
    shot(page, "ship-form-filled")
    click_and_wait(page, page.get_by_role("button", name="Mark shipped", exact=True))

    # Back on the awaiting-shipment list: done, and the order left it.
    expect_no_errors(page)
    expect(success_messages(page)).to_have_text(["1 order shipped."])
    assert "status__in=paid,partially_shipped" in page.url
    expect(result_row(page, order.number)).to_have_count(0)
    expect(result_rows(page)).to_have_count(len(awaiting) - 1)
    shot(page, "shipped-message")

    # A status chosen in the sidebar replaces the shortcut (not a filter inside it).
    list_filter(page, "status", "Shipped")
    assert "status__in" not in page.url
    shipped_row = result_row(page, order.number)
    expect(shipped_row.locator(".field-status")).to_have_text("Shipped")
    expect(shipped_row.locator(".field-tracking_number")).to_have_text(TRACKING)
    shot(page, "shipped-list")

    click_and_wait(page, shipped_row.get_by_role("link", name=order.number, exact=True))
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()
    expect(readonly(page, "status")).to_have_text("Shipped")
    shipments = page.locator("#content-main table.shipments tbody tr")
    expect(shipments).to_have_count(1)
    expect(shipments.locator("td").nth(0)).to_have_text("UPS")
    expect(shipments.locator("td").nth(1)).to_have_text(TRACKING)
    expect(shipments.locator("td").nth(1).get_by_role("link")).to_have_attribute(
        "href", f"https://www.ups.com/track?tracknum={TRACKING}"
    )
    shipped_event = timeline_row(page, "Shipped")
    expect(shipped_event.locator("td.field-actor_name")).to_have_text("sam.shipping")
    expect(shipped_event).to_contain_text(f"UPS {TRACKING}")
    # Next step on the order page: delivery, not shipping again.
    tools = page.locator(".object-tools")
    expect(tools.get_by_role("link", name="Mark delivered")).to_be_visible()
    expect(tools.get_by_role("link", name="Mark shipped")).to_have_count(0)
    shot(page, "order-page")

    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier_id, shipment.tracking_number) == ("ups", TRACKING)
    assert sum(line.quantity for line in shipment.lines.all()) == sum(
        line.quantity for line in order.lines.all()
    )
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.SHIPPED)
    assert event.actor is not None and event.actor.username == "sam.shipping"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED

"""Customer service cancel a paid order from its page: "Cancel order", a reason, confirm; the
order is cancelled and its payment refunded, both on the order's timeline under their name."""

from playwright.sync_api import expect

from orders.models import Order, OrderEvent
from payments.models import Payment
from tests.browser.pages import (
    click_and_wait,
    expect_no_errors,
    list_filter,
    readonly,
    result_row,
    success_messages,
    timeline_row,
)

REASON = "Customer called: ordered the wrong size"


def test_customer_service_cancel_a_paid_order_and_it_is_refunded(page, live_server, login, shot, demo):
    order = (
        Order.objects.filter(status=Order.Status.PAID, payments__status=Payment.Status.CAPTURED)
        .order_by("-created_at", "-id")
        .first()
    )
    assert order is not None, "the demo data has a paid order"

    login(page, "cora.service", role="Customer service")
    shot(page, "dashboard")
    click_and_wait(page, page.locator("#orders-order").get_by_role("link", name="Orders", exact=True))
    list_filter(page, "status", "Paid")
    shot(page, "paid-orders")
    click_and_wait(page, result_row(page, order.number).get_by_role("link", name=order.number, exact=True))
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()
    expect(readonly(page, "status")).to_have_text("Paid")
    expect(timeline_row(page, "Cancelled")).to_have_count(0)
    expect(timeline_row(page, "Refunded")).to_have_count(0)
    # Their note form: under the timeline, as wide as a form (not squeezed beside the page).
    note = page.locator("#staff-note").get_by_label("Note")
    expect(note).to_be_visible()
    note_box, timeline_box = note.bounding_box(), page.locator("#events-group").bounding_box()
    assert note_box["width"] > 300, note_box
    assert note_box["y"] > timeline_box["y"] + timeline_box["height"], (note_box, timeline_box)
    shot(page, "order-page")

    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Cancel order"))
    expect(page.get_by_role("heading", name="Cancel order")).to_be_visible()
    expect(page.locator("#content-main table.shop-rows")).to_contain_text(order.number)
    expect(page.locator("#content-main")).to_contain_text("payments captured for it are refunded in full")
    page.get_by_label("Reason").fill(REASON)
    shot(page, "cancel-form-filled")
    click_and_wait(page, page.get_by_role("button", name="Cancel order", exact=True))

    # Back on the order's page: cancelled, refunded, both on the timeline under their name.
    expect_no_errors(page)
    expect(success_messages(page)).to_have_text([f"Order {order.number} cancelled."])
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()
    expect(readonly(page, "status")).to_have_text("Cancelled")
    expect(readonly(page, "cancelled_at")).not_to_have_text("-")
    cancelled = timeline_row(page, "Cancelled")
    expect(cancelled).to_have_count(1)
    expect(cancelled.locator("td.field-to_status")).to_have_text("Cancelled")
    expect(cancelled).to_contain_text(REASON)
    expect(cancelled.locator("td.field-actor_name")).to_have_text("cora.service")
    refunded = timeline_row(page, "Refunded")
    expect(refunded).to_have_count(1)
    expect(refunded.locator("td.field-actor_name")).to_have_text("cora.service")
    # Nothing left to do to a cancelled order.
    expect(page.locator(".object-tools").get_by_role("link", name="Cancel order")).to_have_count(0)
    shot(page, "order-cancelled")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    payment = order.payments.get()
    assert (payment.status, payment.refunded_amount) == (Payment.Status.REFUNDED, payment.amount)
    events = {event.kind: event for event in order.events.select_related("actor")}
    assert events[OrderEvent.Kind.CANCELLED].actor.username == "cora.service"
    assert events[OrderEvent.Kind.CANCELLED].message == REASON
    assert events[OrderEvent.Kind.REFUNDED].actor.username == "cora.service"

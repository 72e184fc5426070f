"""A store manager refunds part of a payment: from the order to its payment, "Refund"; the amount
is typed (nothing filled in, what is left to refund said under it), an empty amount is refused,
then a page asks "Refund 3.00 USD of ...? This cannot be undone." and only "Yes, refund" runs it.
"""

from decimal import Decimal

from playwright.sync_api import expect

from orders.models import Order, OrderEvent
from payments.models import Payment
from tests.browser.pages import click_and_wait, expect_no_errors, success_messages, timeline_row

MANAGER = "Store manager"


def test_store_manager_refunds_part_of_a_payment_after_confirming(page, live_server, login, shot, demo):
    order = (
        Order.objects.filter(status=Order.Status.PAID, payments__status=Payment.Status.CAPTURED)
        .order_by("-created_at", "-id")
        .first()
    )
    assert order is not None, "the demo data has a paid order"
    payment = order.payments.get(status=Payment.Status.CAPTURED)
    left = payment.refundable_amount
    assert left > Decimal("5.00")

    login(page, "max.manager", role=MANAGER)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    click_and_wait(page, page.locator("#payments-group a.inlineviewlink").first)
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Refund"))

    # The form: no amount filled in, what is left to refund under it.
    expect(page.get_by_role("heading", name="Refund")).to_be_visible()
    amount = page.get_by_label("Amount")
    expect(amount).to_have_value("")
    expect(page.locator(".field-amount .help")).to_have_text(f"At most {left:,.2f} USD is left to refund.")
    shot(page, "refund-form")

    # An empty amount refunds nothing: it is an error on the field.
    click_and_wait(page, page.get_by_role("button", name="Refund", exact=True))
    expect(page.locator(".field-amount .errorlist")).to_have_text("Enter the amount to refund.")
    shot(page, "refund-empty-amount")

    # 5.00, then a page that asks; going back keeps what was typed.
    page.get_by_label("Amount").fill("5.00")
    page.get_by_label("Reason").fill("Scratched lid")
    click_and_wait(page, page.get_by_role("button", name="Refund", exact=True))
    question = (
        f"Refund 5.00 USD of the {payment.amount:,.2f} USD payment for order {order.number} "
        f"({payment.method_label})? This cannot be undone."
    )
    expect(page.locator(".shop-question")).to_have_text(question)
    expect(page.locator("#content-main table.shop-rows")).to_contain_text(order.number)
    shot(page, "refund-confirmation")
    payment.refresh_from_db()
    assert payment.refunded_amount == 0  # nothing before the confirmation

    click_and_wait(page, page.get_by_role("button", name="Change the amount"))
    expect(page.get_by_label("Amount")).to_have_value("5.00")
    expect(page.get_by_label("Reason")).to_have_value("Scratched lid")
    page.get_by_label("Amount").fill("3.00")
    click_and_wait(page, page.get_by_role("button", name="Refund", exact=True))
    expect(page.locator(".shop-question")).to_contain_text("Refund 3.00 USD of the")
    shot(page, "refund-confirmation-changed")

    click_and_wait(page, page.get_by_role("button", name="Yes, refund"))

    # Back on the payment's page: refunded, and on the order's timeline under their name.
    expect_no_errors(page)
    rest = f"{left - Decimal('3.00'):,.2f} USD is left to refund."
    expect(success_messages(page)).to_have_text(
        [f"Refunded 3.00 USD of order {order.number}'s payment; {rest}"]
    )
    shot(page, "refunded")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    refunded = timeline_row(page, "Refunded")
    expect(refunded).to_have_count(1)
    expect(refunded).to_contain_text("Scratched lid")
    expect(refunded.locator("td.field-actor_name")).to_have_text("max.manager")
    shot(page, "order-timeline")

    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("3.00")
    assert order.events.filter(kind=OrderEvent.Kind.REFUNDED, actor__username="max.manager").count() == 1

"""Each demo role tried as a new staff member would: log in, look at the dashboard, open the page
of their daily work. What the role must not see is checked on the pages themselves, next to what
it must see (so a blank or broken page fails too); the store manager is the positive control for
the revenue figures the others must not get."""

import re

from playwright.sync_api import expect

from customers.models import Customer
from orders.models import Order
from tests.admin_support import CUSTOMER_SERVICE, INVENTORY, MANAGER, SHIPPING
from tests.browser.pages import (
    app_names,
    click_and_wait,
    column,
    model_names,
    readonly,
    result_row,
    result_rows,
    sidebar_app_names,
)

# How a saved card may be shown anywhere: brand, four dots, the last four digits (and expiry).
MASKED_CARD = re.compile(
    r"^(Visa|Mastercard|American Express|Discover|Other|Card) •••• \d{4}( exp \d\d/\d{4})?$"
)
MASKED_PAYPAL = re.compile(r"^PayPal \([^)]+@[^)]+\)$")
# Card numbers (13-19 digits, maybe grouped), never on any page.
CARD_NUMBER = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


def visible_text(page) -> str:
    """The page's text as shown, in lower case (CSS shows some headings in capitals)."""
    return page.locator("body").inner_text().lower()


def expect_dashboard(page, *, cards: set[str], charts: set[str]):
    """The dashboard shows exactly these figures (ids of `shop/dashboard_card.html`) and charts."""
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    card_ids = page.locator("#shop-dashboard .dash-card").evaluate_all("cards => cards.map(c => c.id)")
    shown_cards = {card_id.removeprefix("dash-") for card_id in card_ids}
    assert shown_cards == cards
    shown_charts = set(
        page.locator("#shop-dashboard figure.dash-chart").evaluate_all(
            "figures => figures.map(f => [...f.classList].find(c => c !== 'dash-chart'))"
        )
    )
    assert shown_charts == charts
    for chart in page.locator("#shop-dashboard svg[role=img]").all():
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100


def expect_no_revenue(page):
    assert page.locator("[id^=dash-revenue], .dash-chart.revenue").count() == 0
    assert "revenue" not in visible_text(page)


def expect_masked_payment_methods(labels: list[str]):
    assert labels, "some payment methods are shown"
    for label in labels:
        assert MASKED_CARD.match(label) or MASKED_PAYPAL.match(label), label


def expect_no_secrets(page):
    """No gateway token and no card number in the page's text or its form fields."""
    html = page.content()
    assert "tok_" not in html
    assert page.locator("[name$=gateway_token]").count() == 0
    assert not CARD_NUMBER.search(visible_text(page))


def test_store_manager_sees_everything_of_the_shop_but_no_secrets(page, live_server, login, shot, demo):
    login(page, "max.manager", role=MANAGER)
    expect_dashboard(
        page,
        cards={
            "awaiting_shipment",
            "orders_today",
            "revenue_today",
            "orders_period",
            "revenue_period",
            "low_stock",
            "out_of_stock",
        },
        charts={"revenue", "orders"},
    )
    assert app_names(page) == ["Catalog", "Customers", "Orders", "Payments", "Storefront API"]
    # Staff accounts and roles are the superuser's.
    assert not {"Users", "Groups"} & set(model_names(page))
    expect(page.locator("#dash-revenue_period .dash-unit")).to_have_text("USD")
    shot(page, "dashboard")

    click_and_wait(page, page.locator("#orders-order").get_by_role("link", name="Orders", exact=True))
    # "to change": a manager edits placed orders (the order desk), and adds them.
    expect(page.get_by_role("heading", name="Select order to change")).to_be_visible()
    expect(page.locator(".object-tools").get_by_role("link", name="Add order")).to_be_visible()
    expect(result_rows(page)).to_have_count(Order.objects.count())
    expect_masked_payment_methods([label for label in column(page, "payment_method_label") if label != "-"])
    expect_no_secrets(page)
    shot(page, "orders")

    # A paid order: the manager sees its payment, masked, with the way to refund it.
    order = Order.objects.filter(status=Order.Status.PAID).order_by("-created_at", "-id").first()
    click_and_wait(page, result_row(page, order.number).get_by_role("link", name=order.number, exact=True))
    payments = page.locator("#payments-group tbody tr.has_original")
    expect(payments).to_have_count(order.payments.count())
    expect_masked_payment_methods(payments.locator("td.field-method_label").all_inner_texts())
    expect_no_secrets(page)
    shot(page, "order-page")


def test_inventory_staff_see_the_catalog_only(page, live_server, login, shot, demo):
    login(page, "ivy.inventory", role=INVENTORY)
    expect_dashboard(page, cards={"low_stock", "out_of_stock"}, charts=set())
    assert app_names(page) == ["Catalog"]
    assert model_names(page) == ["Product types", "Products", "Stock", "Stock movements"]
    expect_no_revenue(page)
    text = visible_text(page)
    for hidden in ["orders", "customers", "payments", "awaiting shipment", "sales"]:
        assert hidden not in text, hidden
    shot(page, "dashboard")

    # Their daily work: the low-stock figure leads to the products to reorder.
    low = page.locator("#dash-low_stock")
    count = int(low.locator(".dash-value").inner_text())
    assert count > 0
    click_and_wait(page, low)
    expect(page.get_by_role("heading", name="Select product to change")).to_be_visible()
    expect(result_rows(page)).to_have_count(count)
    expect(page.locator("#changelist-filter li.selected").filter(has_text="Low stock")).to_have_count(1)
    assert sidebar_app_names(page) == ["Catalog"]
    for hidden in ["Orders", "Customers", "Payments"]:
        expect(page.locator("#nav-sidebar")).not_to_contain_text(hidden, ignore_case=True)
    shot(page, "low-stock-products")


def test_shipping_staff_see_orders_but_no_customers_payments_or_revenue(page, live_server, login, shot, demo):
    login(page, "sam.shipping", role=SHIPPING)
    expect_dashboard(page, cards={"awaiting_shipment", "orders_today", "orders_period"}, charts={"orders"})
    assert app_names(page) == ["Orders"]
    expect_no_revenue(page)
    for hidden in ["customers", "payments", "catalog", "low stock", "out of stock"]:
        assert hidden not in visible_text(page), hidden
    shot(page, "dashboard")

    # Their daily work: the awaiting-shipment figure leads to the orders to ship.
    awaiting = page.locator("#dash-awaiting_shipment")
    count = int(awaiting.locator(".dash-value").inner_text())
    assert count > 0
    click_and_wait(page, awaiting)
    expect(page.get_by_role("heading", name="Select order to view")).to_be_visible()
    expect(result_rows(page)).to_have_count(count)
    # Paid, and partially shipped (their remaining units still to ship).
    assert set(column(page, "status")) <= {"Paid", "Partially shipped"}
    # No payment column, nothing of the customers' app or payments in the navigation.
    expect(page.locator("#result_list th.column-payment_method_label")).to_have_count(0)
    assert sidebar_app_names(page) == ["Orders"]
    assert "••••" not in visible_text(page)
    shot(page, "awaiting-shipment")

    number = column(page, "number")[0]
    click_and_wait(page, result_row(page, number).get_by_role("link", name=number, exact=True))
    expect(page.get_by_role("heading", name=number)).to_be_visible()
    # What shipping needs: where it goes, what is in it, and the button to ship it.
    expect(readonly(page, "shipping_address")).not_to_have_text("-")
    expect(page.locator(".object-tools").get_by_role("link", name="Mark shipped")).to_be_visible()
    # Not their business: how it was paid, or a link to the customer's page.
    order = Order.objects.select_related("customer").get(number=number)
    expect(readonly(page, "customer_name")).to_have_text(order.customer.full_name)
    expect(readonly(page, "customer_name").get_by_role("link")).to_have_count(0)
    expect(page.locator("#payments-group")).to_have_count(0)
    expect(page.locator("fieldset").filter(has_text="Paid with")).to_have_count(0)
    assert "••••" not in visible_text(page)
    expect_no_secrets(page)
    shot(page, "order-page")


def test_customer_service_see_masked_payment_methods_and_no_revenue(page, live_server, login, shot, demo):
    customer = Customer.objects.get(email="john.doe@example.com")
    tokens = [m.gateway_token for m in customer.payment_methods.all() if m.gateway_token]
    assert tokens, "the demo customer has a card with a gateway token to hide"

    login(page, "cora.service", role=CUSTOMER_SERVICE)
    expect_dashboard(page, cards={"awaiting_shipment", "orders_today", "orders_period"}, charts={"orders"})
    assert app_names(page) == ["Customers", "Orders", "Payments"]
    # Saved payment methods (masked) but never the payments themselves.
    assert "Payment methods" in model_names(page)
    expect(page.locator("#payments-payment")).to_have_count(0)
    expect_no_revenue(page)
    for hidden in ["catalog", "low stock", "out of stock"]:
        assert hidden not in visible_text(page), hidden
    shot(page, "dashboard")

    # Their daily work: a customer's page, found by name.
    customers = page.locator("#customers-customer").get_by_role("link", name="Customers", exact=True)
    click_and_wait(page, customers)
    page.locator("#searchbar").fill(customer.last_name)
    click_and_wait(page, page.get_by_role("button", name="Search"))
    click_and_wait(page, page.get_by_role("link", name=customer.full_name, exact=True))
    expect(page.get_by_role("heading", name=str(customer))).to_be_visible()
    methods = page.locator("#payment_methods-group tbody tr.has_original")
    expect(methods).to_have_count(customer.payment_methods.count())
    labels = methods.locator("td.field-masked_label").all_inner_texts()
    expect_masked_payment_methods(labels)
    assert any(label.startswith("Visa •••• 4242") for label in labels), labels
    expect_no_secrets(page)
    for token in tokens:
        assert token not in page.content()
    expect_no_revenue(page)
    shot(page, "customer-page")

"""The order desk in a browser: staff take an order by phone for a customer they find by search,
take on a new customer and order for them in one go, edit a placed order, record a bank transfer,
and see the refusal when stock ran out between adding a line and placing the order."""

from decimal import Decimal

from playwright.sync_api import expect

from catalog.models import Stock
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderStatus
from payments.models import Payment
from tests.browser.pages import (
    click_and_wait,
    error_messages,
    expect_no_errors,
    readonly,
    success_messages,
    timeline_row,
)
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory


def _customer(first, last, email, phone):
    customer = CustomerFactory(first_name=first, last_name=last, email=email, phone=phone)
    AddressFactory(customer=customer, line1="12 Harbour Road", city="Portland", is_default_shipping=True)
    return customer


def _orders_list(page, live_server):
    page.goto(f"{live_server.url}/admin/orders/order/")


def _choose_result(page, search, text):
    """Type into a desk search box and choose the match containing `text` from its list."""
    box = page.locator(search)
    box.fill("")
    box.press_sequentially(text[:6], delay=30)
    option = page.locator(f"#{box.get_attribute('aria-controls')} [role=option]").filter(has_text=text)
    expect(option.first).to_be_visible()


def _add_product(page, term, name):
    box = page.locator("#desk-product-search")
    box.fill("")
    box.press_sequentially(term, delay=30)
    option = page.locator("#desk-product-results [role=option]").filter(has_text=name)
    expect(option).to_have_count(1)
    option.click()
    return page.locator("table.desk-lines tbody tr.desk-line").filter(
        has=page.locator("td.desk-name", has_text=name)
    )


def test_phone_order_for_an_existing_customer_from_search_to_placed(page, live_server, login, shot):
    customer = _customer("Margaret", "Hamilton", "margaret.hamilton@example.com", "+15035550142")
    PaymentMethodFactory(customer=customer, is_default=True, last4="4444")
    CustomerFactory(first_name="Martha", last_name="Hampton", email="martha@example.com")
    kettle = ProductFactory(name="Copper kettle", sku="KT-COPPER", price=Decimal("45.00"), stock=8)
    mugs = ProductFactory(name="Stoneware mug", sku="MUG-STONE", price=Decimal("12.50"), stock=30)

    login(page, "sam.service", role="Customer service")
    _orders_list(page, live_server)
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Add order"))
    expect(page.get_by_role("heading", name="Add order")).to_be_visible()
    shot(page, "add-order")

    # By phone: the customer gives their number; the search shows them as it is typed.
    box = page.locator("#desk-customer-search")
    box.press_sequentially("503 555 0142", delay=20)
    option = page.locator("#desk-customer-results [role=option]").filter(has_text="Margaret Hamilton")
    expect(option).to_have_count(1)
    expect(option).to_contain_text("margaret.hamilton@example.com")
    shot(page, "customer-found-by-phone")
    with page.expect_navigation():
        option.click()

    expect(success_messages(page)).to_contain_text(["started for Margaret Hamilton"])
    draft = Order.objects.get(customer=customer)
    assert draft.status == OrderStatus.DRAFT
    expect(page.get_by_role("heading", name="Place order")).to_be_visible()
    shot(page, "draft-editor")

    row = _add_product(page, "copper", "Copper kettle")
    expect(row.locator(".desk-price")).to_have_text("45.00")
    expect(row.locator(".desk-available")).to_have_text("8")
    row.locator("input.desk-quantity").fill("2")
    mug_row = _add_product(page, "MUG-ST", "Stoneware mug")
    expect(mug_row.locator(".desk-available")).to_have_text("30")
    mug_row.locator("input.desk-quantity").fill("4")
    # 2 x 45.00 + 4 x 12.50 = 140.00: free shipping from 100.00.
    expect(page.locator("#desk-subtotal")).to_have_text("140.00 USD")
    expect(page.locator("#desk-shipping")).to_have_text("0.00 USD")
    expect(page.locator("#desk-total")).to_have_text("140.00 USD")
    expect(page.get_by_label("Ship to")).to_contain_text("12 Harbour Road")
    expect(page.get_by_label("Payment method")).to_contain_text("4444")
    # Nothing is held while it is a draft.
    assert Stock.objects.get(pk=kettle.pk).allocated == 0
    shot(page, "lines-added")

    click_and_wait(page, page.get_by_role("button", name="Place order", exact=True))
    expect_no_errors(page)
    expect(success_messages(page)).to_contain_text([f"Order {draft.number} placed for Margaret Hamilton"])
    expect(readonly(page, "status")).to_have_text("Placed")
    expect(timeline_row(page, "Placed")).to_have_count(1)
    shot(page, "order-placed")

    draft.refresh_from_db()
    assert draft.status == OrderStatus.PLACED
    assert draft.total == Decimal("140.00")
    assert {(line.sku, line.quantity) for line in draft.lines.all()} == {("KT-COPPER", 2), ("MUG-STONE", 4)}
    assert (Stock.objects.get(pk=kettle.pk).allocated, Stock.objects.get(pk=mugs.pk).allocated) == (2, 4)
    assert draft.payment_method.last4 == "4444"


def test_new_customer_with_an_address_ordered_for_in_one_go(page, live_server, login, shot):
    ProductFactory(name="Linen apron", sku="APRON-LINEN", price=Decimal("24.00"), stock=5)

    login(page, "nia.service", role="Customer service")
    page.goto(f"{live_server.url}/admin/orders/order/add/")
    new = page.locator("#desk-new")
    new.get_by_label("First name").fill("Grace")
    new.get_by_label("Last name").fill("Hopper")
    new.get_by_label("Email").fill("grace.hopper@example.com")
    new.get_by_label("Phone").fill("(202) 555-0199")
    new.get_by_label("Address line 1").fill("1 Navy Yard")
    new.get_by_label("City").fill("Arlington")
    new.get_by_label("State / region").fill("VA")
    new.get_by_label("Postal code").fill("22202")
    new.get_by_label("Country").select_option("US")
    shot(page, "new-customer-filled")
    click_and_wait(page, new.get_by_role("button", name="Create customer and start the order"))

    expect_no_errors(page)
    expect(page.get_by_role("heading", name="Place order")).to_be_visible()
    expect(page.locator(".desk-summary")).to_contain_text("Grace Hopper")
    # Without the search: an SKU typed into an empty row, saved, priced by the server.
    first = page.locator("table.desk-lines tbody tr.desk-line").first
    first.locator("input.desk-sku").fill("apron-linen")
    first.locator("input.desk-quantity").fill("2")
    shot(page, "sku-typed")
    click_and_wait(page, page.get_by_role("button", name="Save draft"))
    expect(success_messages(page)).to_contain_text(["saved"])
    expect(readonly(page, "status")).to_have_text("Draft")
    shot(page, "draft-saved")

    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Place order"))
    expect(page.locator("table.desk-lines")).to_contain_text("Linen apron")
    # 2 x 24.00 = 48.00, under the free-shipping threshold: 7.50 shipping.
    expect(page.locator("#desk-subtotal")).to_have_text("48.00 USD")
    expect(page.locator("#desk-shipping")).to_have_text("7.50 USD")
    expect(page.locator("#desk-total")).to_have_text("55.50 USD")
    expect(page.get_by_label("Ship to")).to_contain_text("1 Navy Yard")
    shot(page, "ready-to-place")
    click_and_wait(page, page.get_by_role("button", name="Place order", exact=True))

    expect_no_errors(page)
    expect(readonly(page, "status")).to_have_text("Placed")
    shot(page, "placed")
    order = Order.objects.get(customer__email="grace.hopper@example.com")
    assert order.status == OrderStatus.PLACED
    assert order.total == Decimal("55.50")
    assert order.shipping_line1 == "1 Navy Yard"
    address = order.customer.addresses.get()
    assert address.is_default_shipping and address.is_default_billing


def test_edit_a_placed_order_adding_a_line_and_lowering_another(page, live_server, login, shot):
    customer = _customer("Alan", "Turing", "alan.turing@example.com", "+15035550111")
    scarf = ProductFactory(name="Wool scarf", sku="SCARF-WOOL", price=Decimal("30.00"), stock=10)
    hat = ProductFactory(name="Felt hat", sku="HAT-FELT", price=Decimal("40.00"), stock=10)
    gloves = ProductFactory(name="Leather gloves", sku="GLOVES-LTH", price=Decimal("35.00"), stock=10)
    order = order_services.order_place(customer=customer, lines=[(scarf, 3), (hat, 1)])

    login(page, "ed.service", role="Customer service")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    shot(page, "order-page")
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Edit order"))
    expect(page.get_by_role("heading", name="Edit order")).to_be_visible()
    scarf_row = page.locator("table.desk-lines tr.desk-line").filter(
        has=page.locator("td", has_text="Wool scarf")
    )
    expect(scarf_row.locator("input.desk-quantity")).to_have_value("3")
    shot(page, "editor")

    scarf_row.locator("input.desk-quantity").fill("1")
    gloves_row = _add_product(page, "leather", "Leather gloves")
    gloves_row.locator("input.desk-quantity").fill("2")
    # 1 x 30.00 + 1 x 40.00 + 2 x 35.00 = 140.00
    expect(page.locator("#desk-subtotal")).to_have_text("140.00 USD")
    page.get_by_label("Reason").fill("Customer called: one scarf, two pairs of gloves")
    shot(page, "edited")
    click_and_wait(page, page.get_by_role("button", name="Save changes"))

    expect_no_errors(page)
    expect(success_messages(page)).to_have_text([f"Order {order.number} edited."])
    edited = timeline_row(page, "Edited")
    expect(edited).to_have_count(1)
    expect(edited).to_contain_text("Wool scarf (SCARF-WOOL): 3 → 1")
    expect(edited.locator("td.field-actor_name")).to_have_text("ed.service")
    shot(page, "order-after-edit")

    order.refresh_from_db()
    assert order.total == Decimal("140.00")
    assert {(line.sku, line.quantity) for line in order.lines.all()} == {
        ("SCARF-WOOL", 1),
        ("HAT-FELT", 1),
        ("GLOVES-LTH", 2),
    }
    allocated = dict(
        Stock.objects.filter(pk__in=[scarf.pk, hat.pk, gloves.pk]).values_list("pk", "allocated")
    )
    assert allocated == {scarf.pk: 1, hat.pk: 1, gloves.pk: 2}


def test_manager_records_a_bank_transfer_that_makes_the_order_paid(page, live_server, login, shot):
    customer = _customer("Ada", "Byron", "ada.byron@example.com", "+15035550123")
    lamp = ProductFactory(name="Desk lamp", sku="LAMP-DESK", price=Decimal("60.00"), stock=4)
    order = order_services.order_place(customer=customer, lines=[(lamp, 2)])

    login(page, "mo.manager", role="Store manager")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    shot(page, "order-page")
    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Record payment"))
    expect(page.get_by_role("heading", name="Record payment")).to_be_visible()
    expect(page.get_by_label("Amount")).to_have_value("120.00")
    page.get_by_label("Paid with").select_option(label="Bank transfer")
    page.get_by_label("Reference").fill("TRF 2026-1187")
    shot(page, "payment-form")
    click_and_wait(page, page.get_by_role("button", name="Record payment"))

    expect_no_errors(page)
    expect(success_messages(page)).to_have_text(
        [f"Recorded 120.00 USD (Bank transfer) for order {order.number}; the order is paid in full."]
    )
    expect(readonly(page, "status")).to_have_text("Paid")
    expect(page.locator("#payments-group")).to_contain_text("TRF 2026-1187")
    expect(page.locator(".object-tools").get_by_role("link", name="Record payment")).to_have_count(0)
    shot(page, "order-paid")

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    payment = order.payments.get()
    assert (payment.offline_method, payment.amount, payment.status) == (
        Payment.Offline.BANK_TRANSFER,
        Decimal("120.00"),
        Payment.Status.CAPTURED,
    )
    assert order.events.filter(kind=OrderEvent.Kind.PAID, actor__username="mo.manager").exists()


def test_refusal_shown_when_stock_ran_out_between_adding_the_line_and_placing(page, live_server, login, shot):
    customer = _customer("Katherine", "Johnson", "katherine.johnson@example.com", "+15035550177")
    other = _customer("Dorothy", "Vaughan", "dorothy.vaughan@example.com", "+15035550178")
    clock = ProductFactory(name="Brass clock", sku="CLOCK-BRASS", price=Decimal("80.00"), stock=3)

    login(page, "kim.service", role="Customer service")
    page.goto(f"{live_server.url}/admin/orders/order/add/")
    _choose_result(page, "#desk-customer-search", "Katherine Johnson")
    with page.expect_navigation():
        page.locator("#desk-customer-results [role=option]").filter(has_text="Katherine Johnson").click()
    row = _add_product(page, "brass", "Brass clock")
    expect(row.locator(".desk-available")).to_have_text("3")
    row.locator("input.desk-quantity").fill("3")
    click_and_wait(page, page.get_by_role("button", name="Save draft"))
    draft = Order.objects.get(customer=customer)
    shot(page, "draft-saved")

    # Meanwhile the storefront sells two of the three clocks.
    order_services.order_place(customer=other, lines=[(clock, 2)])

    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Place order"))
    shot(page, "editor-before-placing")
    click_and_wait(page, page.get_by_role("button", name="Place order", exact=True))

    refusal = error_messages(page)
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text("Brass clock (CLOCK-BRASS)")
    expect(refusal).to_contain_text("requested 3, available 1")
    expect(page.get_by_role("heading", name="Place order")).to_be_visible()
    expect(page.locator("table.desk-lines tr.desk-line").first.locator("input.desk-quantity")).to_have_value(
        "3"
    )
    shot(page, "refused")

    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT
    assert [(line.sku, line.quantity) for line in draft.lines.all()] == [("CLOCK-BRASS", 3)]
    assert Stock.objects.get(pk=clock.pk).allocated == 2

"""What each staff role may open and do in the admin: every page and action, for every role.

The table below is the specification: a page a role may use answers 200, any other page 403; an
action a role may not run is missing from its list, and posting it anyway is a 403. Then what
each role sees on the pages it shares with others (payments, customers, tokens).
"""

import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import services as catalog_services
from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders import services as order_services
from orders.models import Carrier, Order, OrderEvent, OrderLine, Return, Shipment
from payments.models import Payment, PaymentMethod
from payments.services import payment_refund
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    MANAGER,
    ROLES,
    SHIPPING,
    admin_url,
    form_data,
    log_in,
    paid_order,
    place_order,
    shop_customer,
    start_action,
)
from tests.factories import (
    AddressFactory,
    PaymentMethodFactory,
    ProductFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """One row of every model, made the way the shop makes them (services), with a paid order,
    a shipped order and a placed one."""
    customer = shop_customer(first_name="Ada", last_name="Lovelace")
    card = PaymentMethodFactory(
        customer=customer, is_default=True, last4="4242", gateway_token="tok_secret_4242"
    )
    product = ProductFactory(name="Teapot", stock=20)
    paid = paid_order(product, quantity=2, payment_method=card, reference="ch_secret_ref")
    shipped = paid_order(product, payment_method=card, reference="ch_other_ref")
    order_services.order_ship(order=shipped, carrier="UPS", tracking_number="1ZWORLD")
    returned = paid_order(product, payment_method=card, reference="ch_returned_ref")
    order_services.order_ship(order=returned, carrier="UPS", tracking_number="1ZBACK")
    order_services.order_return(order=returned, lines=[(returned.lines.get(), 1)], reason="Too big")
    placed = place_order(product, customer=customer)
    draft = order_services.order_draft_create(customer=customer)
    order_services.order_draft_set_lines(order=draft, lines=[(product, 1)])
    clerk = UserFactory(username="clerk")
    catalog_services.stock_receive(product=product, quantity=5, actor=clerk, note="Delivery 7")
    order_services.order_add_note(order=paid, message="Called the customer", actor=clerk)
    objects = {
        Customer: customer,
        Address: customer.addresses.get(),
        ProductType: product.product_type,
        Product: product,
        Stock: Stock.objects.get(pk=product.pk),
        StockMovement: product.movements.get(note="Delivery 7"),
        Order: paid,
        OrderLine: paid.lines.get(),
        Shipment: Shipment.objects.get(order=shipped),
        Carrier: Carrier.objects.get(code="ups"),
        Return: Return.objects.get(order=returned),
        OrderEvent: paid.events.get(message="Called the customer"),
        PaymentMethod: card,
        Payment: paid.payments.get(),
    }
    return SimpleNamespace(objects=objects, paid=paid, shipped=shipped, placed=placed, draft=draft, card=card)


# The specification. Pages: l = list, c = an object's page, a = add page, d = delete page.
PAGES = {
    INVENTORY: {ProductType: "lca", Product: "lca", Stock: "lc", StockMovement: "lc"},
    SHIPPING: {Order: "lc", OrderLine: "lc", Shipment: "lc", Carrier: "lc", OrderEvent: "lc"},
    CUSTOMER_SERVICE: {
        Customer: "lca",
        Address: "lcad",
        PaymentMethod: "lcd",
        Order: "lca",  # "Add order": the order desk
        OrderLine: "lc",
        Shipment: "lc",
        Carrier: "lc",
        Return: "lc",
        OrderEvent: "lc",
    },
    MANAGER: {
        ProductType: "lca",
        Product: "lcad",
        Stock: "lc",
        StockMovement: "lc",
        Customer: "lcad",
        Address: "lcad",
        PaymentMethod: "lcd",
        Order: "lca",
        OrderLine: "lc",
        Shipment: "lc",
        Carrier: "lca",  # the carriers are the manager's: added and changed, never deleted
        Return: "lc",
        OrderEvent: "lc",
        Payment: "lc",
    },
}
VIEWS = {"l": "changelist", "c": "change", "a": "add", "d": "delete"}

# The staff screens: (model, url name, the object it is about) -> roles that may use it.
CUSTOM_PAGES = {
    (Product, "receive_stock", Product): {INVENTORY, MANAGER},
    (Product, "adjust_stock", Product): {INVENTORY, MANAGER},
    (Product, "set_threshold", Product): {INVENTORY, MANAGER},
    (Order, "ship", "paid"): {SHIPPING, MANAGER},
    (Order, "deliver", "shipped"): {SHIPPING, MANAGER},
    (Order, "cancel", "paid"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "note", "paid"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "return_items", "shipped"): {CUSTOMER_SERVICE, MANAGER},
    (Shipment, "packing_slip", Shipment): {SHIPPING, CUSTOMER_SERVICE, MANAGER},
    (Payment, "refund", Payment): {MANAGER},
    # The order desk: a draft's editor (place, save), a placed order's edit, recording a payment,
    # and discarding a draft (Django's delete page, for a draft only).
    (Order, "place", "draft"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "save_draft", "draft"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "edit", "placed"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "record_payment", "placed"): {MANAGER},
    (Order, "delete", "draft"): {CUSTOMER_SERVICE, MANAGER},
}

# Import and export pages of a list: (model, url name) -> roles that may use them.
LIST_PAGES = {
    (Product, "import"): {INVENTORY, MANAGER},
    (Product, "export"): {INVENTORY, MANAGER},
    (Stock, "import"): {INVENTORY, MANAGER},
    (Stock, "export"): {INVENTORY, MANAGER},
    (Order, "export"): {SHIPPING, CUSTOMER_SERVICE, MANAGER},
    # The order desk's searches (JSON): customers for "Add order", products for the line editor.
    (Order, "desk_customers"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "desk_products"): {CUSTOMER_SERVICE, MANAGER},
    (Order, "desk_shipping"): {CUSTOMER_SERVICE, MANAGER},
}

# Actions on each list -> roles that have them.
ACTIONS = {
    Product: {
        "receive_stock_selected": {INVENTORY, MANAGER},
        "adjust_stock_selected": {INVENTORY, MANAGER},
        "set_threshold_selected": {INVENTORY, MANAGER},
        "delete_selected": {MANAGER},
    },
    Order: {
        "mark_shipped": {SHIPPING, MANAGER},
        "mark_delivered": {SHIPPING, MANAGER},
        "cancel_selected": {CUSTOMER_SERVICE, MANAGER},
        "print_packing_slips": {SHIPPING, CUSTOMER_SERVICE, MANAGER},
    },
    Customer: {"delete_selected": {MANAGER}, "anonymize_selected": {CUSTOMER_SERVICE, MANAGER}},
    Address: {"delete_selected": {CUSTOMER_SERVICE, MANAGER}},
    PaymentMethod: {"delete_selected": {CUSTOMER_SERVICE, MANAGER}},
    ProductType: {},
    Stock: {},
    StockMovement: {},
    OrderLine: {},
    Shipment: {},
    Carrier: {},
    Return: {},
    OrderEvent: {},
    Payment: {},
}


def page_table(world):
    """(url, roles answered 200) for every admin page of every shop model and every staff screen."""
    table = []
    for model, obj in world.objects.items():
        for letter, view in VIEWS.items():
            args = [] if view in ("changelist", "add") else [obj.pk]
            allowed = {role for role in ROLES if letter in PAGES[role].get(model, "")}
            table.append((admin_url(model, view, *args), allowed))
    for (model, name, target), allowed in CUSTOM_PAGES.items():
        obj = getattr(world, target) if isinstance(target, str) else world.objects[target]
        table.append((admin_url(model, name, obj.pk), allowed))
    for (model, name), allowed in LIST_PAGES.items():
        table.append((admin_url(model, name), allowed))
    return table


def test_the_specification_covers_every_registered_shop_model(world):
    shop_apps = {"catalog", "customers", "orders", "payments"}
    registered = {model for model in admin.site._registry if model._meta.app_label in shop_apps}
    assert set(world.objects) == registered
    assert set(ACTIONS) == registered


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_the_pages_it_may_use(client, world, role):
    log_in(client, role)

    wrong = []
    for url, allowed in page_table(world):
        expected = 200 if role in allowed else 403
        status = client.get(url).status_code
        if status != expected:
            wrong.append(f"{url}: {status}, expected {expected}")

    assert wrong == []


def test_a_superuser_opens_every_staff_screen(client, world):
    client.force_login(SuperuserFactory())

    for model, name, target in CUSTOM_PAGES:
        obj = getattr(world, target) if isinstance(target, str) else world.objects[target]
        assert client.get(admin_url(model, name, obj.pk)).status_code == 200, name
    for model, name in LIST_PAGES:
        assert client.get(admin_url(model, name)).status_code == 200, (model, name)


def _actions_on_list(client, model) -> set[str] | None:
    response = client.get(admin_url(model, "changelist"))
    if response.status_code != 200:
        return None
    form = response.context["action_form"]
    return set() if form is None else {name for name, _ in form.fields["action"].choices if name}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_exactly_its_actions_on_every_list(client, world, role):
    log_in(client, role)

    for model, actions in ACTIONS.items():
        shown = _actions_on_list(client, model)
        if model not in PAGES[role]:
            assert shown is None, model
            continue
        assert shown == {name for name, roles in actions.items() if role in roles}, model


@pytest.mark.parametrize("role", ROLES)
def test_each_action_a_role_has_opens_its_page_for_the_selection(client, world, role):
    log_in(client, role)
    before = {model: model.objects.count() for model in world.objects}

    for model, actions in ACTIONS.items():
        for action, roles in actions.items():
            if role not in roles:
                continue
            response = start_action(client, model, action, [world.objects[model]])
            assert response.status_code == 200, (model, action)
            # Django's delete confirmation calls the selection `queryset`; the staff screens `objects`.
            selection = response.context["queryset" if action == "delete_selected" else "objects"]
            assert [obj.pk for obj in selection] == [world.objects[model].pk]

    assert {model: model.objects.count() for model in world.objects} == before


@pytest.mark.parametrize("role", ROLES)
def test_posting_an_action_the_role_lacks_is_forbidden_and_changes_nothing(client, world, role):
    log_in(client, role)
    before = {model: model.objects.count() for model in world.objects}
    statuses = list(Order.objects.values_list("status", flat=True).order_by("pk"))

    for model, actions in ACTIONS.items():
        for action, roles in actions.items():
            if role in roles:
                continue
            obj = world.objects[model]
            for extra in ({"index": "0"}, {"apply": "yes"}):
                response = client.post(
                    admin_url(model, "changelist"),
                    {"action": action, "_selected_action": [obj.pk], "post": "yes", **extra},
                )
                assert response.status_code == 403, (model, action, extra)

    assert {model: model.objects.count() for model in world.objects} == before
    assert list(Order.objects.values_list("status", flat=True).order_by("pk")) == statuses


@pytest.mark.parametrize("role", ROLES)
def test_staff_screens_refuse_a_direct_post_from_roles_without_the_permission(client, world, role):
    log_in(client, role)
    stock_before = Stock.objects.get(pk=world.objects[Product].pk).on_hand
    events_before = OrderEvent.objects.count()
    posts = {
        (Product, "receive_stock", Product): {"quantity": "5"},
        (Product, "adjust_stock", Product): {"delta": "-1", "reason": "damaged"},
        (Product, "set_threshold", Product): {"threshold": "99"},
        (Order, "ship", "paid"): {"carrier": "ups", "tracking_number": "1ZNOPE"},
        (Order, "deliver", "shipped"): {},
        (Order, "cancel", "paid"): {"reason": "nope"},
        (Order, "note", "paid"): {"message": "nope"},
        (Payment, "refund", Payment): {"amount": "1.00"},
        (Order, "place", "draft"): _editor_post(world.draft, quantity=1),
        (Order, "save_draft", "draft"): _editor_post(world.draft, quantity=2),
        (Order, "edit", "placed"): _editor_post(world.placed, quantity=2),
        (Order, "record_payment", "placed"): {"amount": "1.00", "paid_with": "offline:cash"},
        (Order, "delete", "draft"): {"post": "yes"},
    }
    orders_before = sorted(Order.objects.values_list("pk", "status", "total"))
    payments_before = Payment.objects.count()

    for (model, name, target), data in posts.items():
        if role in CUSTOM_PAGES[(model, name, target)]:
            continue
        obj = getattr(world, target) if isinstance(target, str) else world.objects[target]
        assert client.post(admin_url(model, name, obj.pk), data).status_code == 403, name

    assert Stock.objects.get(pk=world.objects[Product].pk).on_hand == stock_before
    if role not in CUSTOM_PAGES[(Product, "set_threshold", Product)]:
        assert Stock.objects.get(pk=world.objects[Product].pk).low_stock_threshold == 5
    assert OrderEvent.objects.count() == events_before
    assert sorted(Order.objects.values_list("pk", "status", "total")) == orders_before
    assert Payment.objects.count() == payments_before


def _editor_post(order, *, quantity: int) -> dict:
    """The line editor's form as a browser posts it: the order's first line at `quantity`."""
    line = order.lines.select_related("product").first()
    address = order.customer.addresses.first()
    return {
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-sku": line.product.sku,
        "lines-0-quantity": str(quantity),
        "shipping_address": str(address.pk),
    }


@pytest.mark.parametrize("role", ROLES)
def test_imports_refuse_a_direct_post_from_roles_without_the_permission(client, world, role):
    log_in(client, role)
    product = world.objects[Product]
    stock_before = Stock.objects.get(pk=product.pk).on_hand
    files = {
        Product: f"sku,name\n{product.sku},Renamed\n",
        Stock: f"sku,counted\n{product.sku},{stock_before + 1}\n",
    }

    for model, text in files.items():
        if role in LIST_PAGES[(model, "import")]:
            continue
        upload = SimpleUploadedFile("file.csv", text.encode(), content_type="text/csv")
        response = client.post(admin_url(model, "import"), {"import_file": upload, "format": "0"})
        assert response.status_code == 403, model
        confirmation = {"import_file_name": "file.csv", "original_file_name": "file.csv", "format": "0"}
        assert client.post(admin_url(model, "process_import"), confirmation).status_code == 403, model

    product.refresh_from_db()
    assert product.name == "Teapot"
    assert Stock.objects.get(pk=product.pk).on_hand == stock_before


HREF = re.compile(r'href="(/admin/[^"?#]*)')


@pytest.mark.parametrize("role", ROLES)
def test_no_page_links_a_role_to_a_page_it_cannot_open(client, world, role):
    log_in(client, role)
    pages = [url for url, allowed in page_table(world) if role in allowed]
    links = set()
    for url in pages:
        links |= set(HREF.findall(client.get(url).content.decode()))
    # "__fk__" is the related-object widget's placeholder, filled in by JavaScript.
    links = {link for link in links if "__fk__" not in link}

    dead = [(link, status) for link in sorted(links) if (status := client.get(link).status_code) >= 400]

    assert dead == []


# Shipping staff


def test_shipping_staff_order_page_shows_shipment_and_address_but_no_payments_or_customer_link(client, world):
    log_in(client, SHIPPING)

    response = client.get(admin_url(Order, "change", world.shipped.pk))

    html = response.content.decode()
    assert "1ZWORLD" in html and "UPS" in html
    for line in world.shipped.shipping_address_lines:
        assert line in html
    assert "ch_other_ref" not in html and "ch_secret_ref" not in html
    assert "4242" not in html
    assert "payments" not in {inline.formset.prefix for inline in response.context["inline_admin_formsets"]}
    assert "/admin/customers/" not in html
    assert "Ada Lovelace" in html
    # The shipment sits near the top of the page, before the address, amounts and lines.
    assert html.index("1ZWORLD") < html.index(world.shipped.shipping_address_lines[1])
    assert html.index("1ZWORLD") < html.index("Teapot")


def test_shipping_staff_order_list_has_the_awaiting_shipment_shortcut_and_no_payment_column(client, world):
    log_in(client, SHIPPING)

    response = client.get(admin_url(Order, "changelist"))

    html = response.content.decode()
    assert f'href="{admin_url(Order, "changelist")}?status__in=paid,partially_shipped"' in html
    assert "Awaiting shipment" in html
    assert "payment_method_label" not in response.context["cl"].list_display
    assert "4242" not in html
    assert "Ada Lovelace" in html
    assert "/admin/customers/" not in html

    shortcut = client.get(admin_url(Order, "changelist"), {"status__exact": "paid"})
    assert list(shortcut.context["cl"].result_list) == [world.paid]


def test_shipping_staff_find_orders_by_number_customer_name_and_tracking_number_not_email(client, world):
    log_in(client, SHIPPING)
    url = admin_url(Order, "changelist")

    for term in [world.shipped.number, "Ada Lovelace", "1ZWORLD"]:
        found = set(client.get(url, {"q": term}).context["cl"].result_list)
        assert world.shipped in found, term
    assert list(client.get(url, {"q": "1ZWORLD"}).context["cl"].result_list) == [world.shipped]
    # Customers' emails are customer details, which shipping staff do not see: not searched.
    email = world.shipped.customer.email
    for term in [email, email.split("@")[0], email.upper()]:
        assert list(client.get(url, {"q": term}).context["cl"].result_list) == [], term


def test_shipping_staff_see_ship_and_deliver_buttons_only_where_the_order_can_move(client, world):
    log_in(client, SHIPPING)

    paid = client.get(admin_url(Order, "change", world.paid.pk)).content.decode()
    shipped = client.get(admin_url(Order, "change", world.shipped.pk)).content.decode()
    placed = client.get(admin_url(Order, "change", world.placed.pk)).content.decode()

    assert admin_url(Order, "ship", world.paid.pk) in paid
    assert admin_url(Order, "deliver", world.shipped.pk) in shipped
    assert admin_url(Order, "ship", world.placed.pk) not in placed
    for html, order in [(paid, world.paid), (shipped, world.shipped)]:
        assert admin_url(Order, "cancel", order.pk) not in html
        assert admin_url(Order, "note", order.pk) not in html


# Customer service


@pytest.mark.parametrize("role", [CUSTOMER_SERVICE, MANAGER])
def test_staff_see_masked_payment_methods_and_never_the_token(client, world, role):
    log_in(client, role)

    pages = [
        client.get(admin_url(Customer, "change", world.card.customer_id)),
        client.get(admin_url(PaymentMethod, "change", world.card.pk)),
        client.get(admin_url(PaymentMethod, "changelist")),
        client.get(admin_url(PaymentMethod, "delete", world.card.pk)),
    ]

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "Visa •••• 4242" in html
        assert "tok_secret_4242" not in html
        assert "gateway_token" not in html


def test_customer_page_shows_addresses_payment_methods_and_orders_to_customer_service(client, world):
    log_in(client, CUSTOMER_SERVICE)

    response = client.get(admin_url(Customer, "change", world.card.customer_id))

    formsets = {i.formset.prefix: i for i in response.context["inline_admin_formsets"]}
    assert set(formsets) == {"addresses", "payment_methods"}
    html = response.content.decode()
    # The latest orders, as a table of links to their pages (which customer service may open).
    assert world.paid.number in html and world.placed.number in html
    assert client.get(admin_url(Order, "change", world.paid.pk)).status_code == 200
    assert world.objects[Address].line1 in html
    assert "exp 12/" in html


def test_customer_page_for_customer_service_costs_the_same_queries_for_few_or_many_rows(client, world):
    log_in(client, CUSTOMER_SERVICE)
    customer = world.card.customer
    url = admin_url(Customer, "change", customer.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    product = ProductFactory(stock=50)
    for _ in range(50):
        AddressFactory(customer=customer)
        PaymentMethodFactory(customer=customer)
        place_order(product, customer=customer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(many) == len(few)
    formsets = {i.formset.prefix: i.formset for i in response.context["inline_admin_formsets"]}
    assert len(formsets["payment_methods"].forms) == 51


def test_customer_service_saves_a_customer_page_that_shows_masked_payment_methods(client, world):
    log_in(client, CUSTOMER_SERVICE)
    url = admin_url(Customer, "change", world.card.customer_id)
    data = form_data(client.get(url))
    data["phone"] = "+12025550199"

    response = client.post(url, data)

    assert response.status_code == 302
    assert str(Customer.objects.get(pk=world.card.customer_id).phone.as_e164) == "+12025550199"
    world.card.refresh_from_db()
    assert world.card.gateway_token == "tok_secret_4242"


def test_customer_service_removes_a_payment_method_from_the_customer_page(client, world):
    log_in(client, CUSTOMER_SERVICE)
    url = admin_url(Customer, "change", world.card.customer_id)
    data = form_data(client.get(url))
    data["payment_methods-0-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302
    assert not PaymentMethod.objects.filter(pk=world.card.pk).exists()


def test_customer_service_order_page_has_cancel_and_note_but_no_payments(client, world):
    log_in(client, CUSTOMER_SERVICE)

    response = client.get(admin_url(Order, "change", world.paid.pk))

    html = response.content.decode()
    assert admin_url(Order, "cancel", world.paid.pk) in html
    assert admin_url(Order, "note", world.paid.pk) in html
    assert admin_url(Order, "ship", world.paid.pk) not in html
    assert "ch_secret_ref" not in html
    assert "payments" not in {inline.formset.prefix for inline in response.context["inline_admin_formsets"]}
    assert admin_url(Customer, "change", world.paid.customer_id) in html


def test_only_superusers_see_and_edit_the_gateway_token(client, world):
    client.force_login(SuperuserFactory())

    customer_page = client.get(admin_url(Customer, "change", world.card.customer_id)).content.decode()
    method_page = client.get(admin_url(PaymentMethod, "change", world.card.pk)).content.decode()

    assert "tok_secret_4242" in customer_page
    assert "tok_secret_4242" in method_page


# Inventory staff


def test_inventory_staff_product_page_has_stock_buttons_and_the_ledger(client, world):
    log_in(client, INVENTORY)
    product = world.objects[Product]

    html = client.get(admin_url(Product, "change", product.pk)).content.decode()

    assert admin_url(Product, "receive_stock", product.pk) in html
    assert admin_url(Product, "adjust_stock", product.pk) in html
    assert "Whole ledger for this product" in html


def test_staff_who_may_edit_products_but_not_stock_get_no_stock_buttons(client, world):
    product = world.objects[Product]
    editor = UserFactory()
    editor.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__in=["view_product", "change_product"]
        )
    )
    client.force_login(editor)

    html = client.get(admin_url(Product, "change", product.pk)).content.decode()

    assert admin_url(Product, "receive_stock", product.pk) not in html
    assert admin_url(Product, "adjust_stock", product.pk) not in html
    assert admin_url(Product, "set_threshold", product.pk) not in html
    assert client.get(admin_url(Product, "receive_stock", product.pk)).status_code == 403
    assert _actions_on_list(client, Product) == set()


# Low-stock thresholds: inventory staff and store managers (catalog.change_stock), logged.


@pytest.mark.parametrize("role", ROLES)
def test_thresholds_are_changed_by_inventory_staff_and_managers_only_and_logged(client, world, role):
    user = log_in(client, role)
    product = world.objects[Product]
    may = role in (INVENTORY, MANAGER)
    stock_url = admin_url(Stock, "change", product.pk)
    stock_page = client.get(stock_url)
    product_page = client.get(admin_url(Product, "change", product.pk))

    quantities = Stock.objects.values_list("on_hand", "allocated").get(pk=product.pk)
    if not may:
        response = client.post(admin_url(Product, "set_threshold", product.pk), {"threshold": "9"})
        assert response.status_code == 403
        assert stock_page.status_code == 403
        assert Stock.objects.get(pk=product.pk).low_stock_threshold == 5
        return
    # The stock page's one editable input, and on the product page the stock row's and a button.
    assert 'name="low_stock_threshold"' in stock_page.content.decode()
    assert 'name="stock-0-low_stock_threshold"' in product_page.content.decode()
    assert admin_url(Product, "set_threshold", product.pk) in product_page.content.decode()

    response = client.post(admin_url(Product, "set_threshold", product.pk), {"threshold": "9"})
    assert response.status_code == 302
    assert Stock.objects.get(pk=product.pk).low_stock_threshold == 9
    data = form_data(client.get(stock_url))
    data["low_stock_threshold"] = "4"
    assert client.post(stock_url, data).status_code == 302
    stock = Stock.objects.get(pk=product.pk)
    assert stock.low_stock_threshold == 4
    assert (stock.on_hand, stock.allocated) == quantities  # quantities change only through the ledger
    history = [entry.get_change_message() for entry in LogEntry.objects.filter(user=user).order_by("pk")]
    assert len(history) == 2
    assert "Set low-stock threshold" in history[0] and "9" in history[0]
    assert "threshold" in history[1].lower()


# Store manager


def test_store_manager_sees_payments_on_the_order_page_and_the_refund_button(client, world):
    log_in(client, MANAGER)
    payment = world.objects[Payment]

    order_page = client.get(admin_url(Order, "change", world.paid.pk))
    payment_page = client.get(admin_url(Payment, "change", payment.pk)).content.decode()

    assert "payments" in {i.formset.prefix for i in order_page.context["inline_admin_formsets"]}
    assert "ch_secret_ref" in order_page.content.decode()
    assert admin_url(Payment, "change", payment.pk) in order_page.content.decode()
    assert admin_url(Payment, "refund", payment.pk) in payment_page


def test_refund_button_is_absent_once_nothing_is_left_to_refund(client, world):
    log_in(client, MANAGER)
    payment = world.objects[Payment]
    payment_refund(payment=payment)

    html = client.get(admin_url(Payment, "change", payment.pk)).content.decode()

    assert admin_url(Payment, "refund", payment.pk) not in html


def test_staff_account_pages_are_never_linked_from_ledger_or_timeline(client, world):
    log_in(client, MANAGER)

    for url in [
        admin_url(StockMovement, "change", world.objects[StockMovement].pk),
        admin_url(OrderEvent, "change", world.objects[OrderEvent].pk),
    ]:
        assert reverse("admin:auth_user_changelist") not in client.get(url).content.decode()

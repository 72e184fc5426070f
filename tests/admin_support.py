"""Helpers for the staff-screen tests: staff members of each role, real orders made by the
services, and posting an admin action the way a browser does (list, then the action's page)."""

from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from orders import services as order_services
from payments import services as payment_services
from tests.factories import AddressFactory, CustomerFactory, UserFactory

INVENTORY = "Inventory staff"
SHIPPING = "Shipping staff"
CUSTOMER_SERVICE = "Customer service"
MANAGER = "Store manager"
ROLES = [INVENTORY, SHIPPING, CUSTOMER_SERVICE, MANAGER]


def staff_member(role: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(client, role: str):
    """Log `client` in as a new member of `role`; returns the user."""
    user = staff_member(role)
    client.force_login(user)
    return user


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def shop_customer(**kwargs):
    customer = CustomerFactory(**kwargs)
    AddressFactory(customer=customer, is_default_shipping=True)
    return customer


def place_order(*products, quantity: int = 1, customer=None, payment_method=None):
    """A real order, placed by the service (stock allocated, lines and address snapshotted)."""
    customer = customer or (payment_method.customer if payment_method else shop_customer())
    return order_services.order_place(
        customer=customer,
        lines=[(product, quantity) for product in products],
        payment_method=payment_method,
    )


def paid_order(*products, quantity: int = 1, reference: str = "", **kwargs):
    order = place_order(*products, quantity=quantity, **kwargs)
    payment_services.payment_capture(order=order, reference=reference)
    order.refresh_from_db()
    return order


def start_action(client, model, action: str, objects):
    """Choose `action` for `objects` on the model's list, as the list's action bar posts it."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objects], "index": "0"},
    )


def confirm_action(client, page, rows=None, **fields):
    """Submit an action's page as a browser would: its selection, `rows` (pk -> that row's
    fields) for pages with a row per object, and `fields` for the page's own form."""
    context = page.context
    data = {
        "action": context["action_name"],
        context["action_checkbox_name"]: [obj.pk for obj in context["objects"]],
        "apply": "yes",
    }
    formset = context.get("formset")
    if formset is not None:
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for obj, form in formset.rows:
            data[form["pk"].html_name] = obj.pk
            for name, value in (rows or {}).get(obj.pk, {}).items():
                data[form[name].html_name] = value
    data.update(fields)
    return client.post(page.wsgi_request.get_full_path(), data)

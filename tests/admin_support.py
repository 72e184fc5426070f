"""Helpers for the staff-screen tests: staff members of each role, real orders made by the
services, posting an admin action the way a browser does (list, then the action's page), posting
a form page back, counting a page's queries, and exporting a list as a browser does."""

import csv
import io

from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Stock
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


# Pages: their stock figures, their query counts, what their forms post back


def stock_of(product) -> tuple[int, int]:
    stock = Stock.objects.get(pk=product.pk)
    return stock.on_hand, stock.allocated


def queries_for(request) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == 200
    return len(queries)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def form_data(response) -> dict:
    """What a browser would post back, unchanged, for the admin form and inlines on this page."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else str(value)
    return data


def page_errors(response) -> str:
    """Every error shown on an admin form page (fields, forms, inlines), as one string."""
    errors = [str(error) for error in response.context["errors"]]
    for inline in response.context["inline_admin_formsets"]:
        errors += [str(error) for error in inline.formset.non_form_errors()]
    return " ".join(errors)


# Export (django-import-export)


def export(client, model, file_format: str = "csv", query: str = "", *, download: bool = True):
    """Ask for the model's export page, then submit it with every column ticked, as a browser does
    (and download the file, unless `download` is False: the response as it is)."""
    url = admin_url(model, "export") + (f"?{query}" if query else "")
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    data["format"] = next(value for value, title in form.fields["format"].choices if title == file_format)
    data["resource"] = "0"
    response = client.post(url, data)
    return downloaded(response) if download else response


def downloaded(response):
    """A file response read to its end, as a browser downloads it. An export streams its file
    (StreamingHttpResponse, FileResponse): the copy returned holds the whole file in `content`,
    readable as often as a test needs, and says in `streamed` whether it came as a stream."""
    if not response.streaming:
        response.streamed = False
        return response
    # Read to its end, the test client's stream closes the response (request_finished) itself.
    copy = HttpResponse(b"".join(response.streaming_content), status=response.status_code)
    for header, value in response.items():
        copy[header] = value
    copy.streamed = True
    return copy


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def csv_header(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode())))

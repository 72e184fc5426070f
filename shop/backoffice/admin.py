"""Admin pages that join apps, put together here because only the back office may import them all.

The customer page as staff see it: the customers app's page (name, email, phone, addresses) plus
the customer's saved payment methods (payments), the latest orders (orders), and the erasure of
their personal data across customers, orders and payments (`orders.services.customer_anonymize`).
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from customers.admin import CustomerAdmin
from customers.models import Customer
from orders.exceptions import CustomerHasOpenOrders
from orders.models import Order
from orders.services import customer_anonymize
from payments.admin import PaymentMethodInline
from shop.core.admin_operations import StaffOperation
from shop.core.admin_tools import change_link
from shop.core.money import format_money

# The customer page shows this many of the latest orders; the rest are a link away.
CUSTOMER_PAGE_ORDERS = 20


def _open_order_count():
    """Each customer's open orders (placed or paid), as a subquery: one statement for a page."""
    orders = Order.objects.open().filter(customer=OuterRef("pk")).order_by().values("customer")
    return Coalesce(Subquery(orders.annotate(n=Count("pk")).values("n")), 0)


def _cannot_anonymize(customer) -> str:
    """Why a customer cannot be anonymized now ("" if they can); the service decides.

    A selection's rows carry `open_order_count` (one statement for the page); a customer's own
    page asks once, for at most the orders it names.
    """
    if customer.anonymized_at:
        return "Already anonymized."
    count = getattr(customer, "open_order_count", None)
    if count == 0:
        return ""
    shown = CustomerHasOpenOrders.SHOWN
    numbers = list(
        Order.objects.open()
        .filter(customer=customer)
        .order_by("created_at", "id")
        .values_list("number", flat=True)[: shown + 1]
    )
    if not numbers:
        return ""
    if count is None:
        more = " and more" if len(numbers) > shown else ""
        count = len(numbers)
    else:
        more = f" and {count - shown} more" if count > shown else ""
    return (
        f"Open order{pluralize(count)} not yet shipped or cancelled: {', '.join(numbers[:shown])}{more}. "
        "Ship or cancel them first."
    )


ANONYMIZE = StaffOperation(
    name="anonymize",
    title="Anonymize",
    permission="customers.anonymize_customer",
    service=customer_anonymize,
    form=forms.Form,  # nothing to ask: the page confirms
    help=(
        "The customer's name, email address and phone number will be replaced, and their saved "
        "addresses and payment methods deleted. Their orders and payments stay, for accounting, "
        "with the shipping name, street, postal code and phone removed. A customer with open "
        "orders (placed or paid) is refused until those are shipped or cancelled. This cannot "
        "be undone."
    ),
    blocked=lambda customer: _cannot_anonymize(customer),
    cannot="be anonymized now",
    queryset=lambda customers: customers.annotate(open_order_count=_open_order_count()),
    label=lambda customer: f"Customer #{customer.pk}",
    submit_label="Yes, anonymize",
    back_label="No, take me back",
    history="Anonymized: personal data erased.",
    done="Customer #{obj.pk} anonymized; their orders were kept.",
    action="anonymize_selected",
    action_label="Anonymize selected customers (erase personal data)",
    action_title="Anonymize customers",
    done_many="{count} customer{s} anonymized; their orders were kept.",
)


@admin.register(Customer)
class StaffCustomerAdmin(CustomerAdmin):
    list_display = [*CustomerAdmin.list_display[:3], "order_count", *CustomerAdmin.list_display[3:]]
    fieldsets = [*CustomerAdmin.fieldsets, ("Orders", {"fields": ["latest_orders"]})]
    readonly_fields = [*CustomerAdmin.readonly_fields, "latest_orders"]
    inlines = [*CustomerAdmin.inlines, PaymentMethodInline]
    operations = [ANONYMIZE]

    def operation_buttons(self, request, obj):
        buttons = super().operation_buttons(request, obj)
        if request.user.has_perm("orders.add_order") and obj.anonymized_at is None:
            # The order desk, with this customer found already: one click starts their draft.
            url = reverse("admin:orders_order_add") + "?" + urlencode({"customer": obj.pk})
            buttons = [("New order", url), *buttons]
        return buttons

    def get_queryset(self, request):
        # A subquery per shown row (a page's worth), not a GROUP BY over every order of every customer.
        orders = (
            Order.objects.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(order_count=Coalesce(Subquery(orders), 0))

    @admin.display(description="orders", ordering="order_count")
    def order_count(self, obj):
        return obj.order_count

    @admin.display(description="latest orders")
    def latest_orders(self, obj):
        """The latest orders as a small table, and how many there are with a link to all of them.

        A table written here rather than an inline: an inline builds a form per order, which
        cost about a millisecond a row; this costs two indexed reads (customer, placed at)
        however many orders the customer has.
        """
        if obj is None or obj.pk is None:
            return "—"
        orders = Order.objects.filter(customer_id=obj.pk).order_by("-created_at", "-id")
        latest = list(orders[:CUSTOMER_PAGE_ORDERS])
        count = orders.count()
        list_url = reverse("admin:orders_order_changelist") + "?" + urlencode({"customer__id__exact": obj.pk})
        summary = format_html(
            '<p><a href="{}">{} order{} — open the list</a></p>', list_url, count, pluralize(count)
        )
        if not latest:
            return summary
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    change_link(Order, order.pk, order.number),
                    order.get_status_display(),
                    format_money(order.total, order.currency),
                    localize(timezone.localtime(order.created_at)),
                )
                for order in latest
            ),
        )
        return format_html(
            "{}<table><thead><tr><th>Order</th><th>Status</th><th>Total</th><th>Placed at</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            summary,
            rows,
        )

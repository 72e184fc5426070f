import re

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from customers.models import Address, Customer
from customers.services import customer_anonymize
from orders.models import Order
from payments.admin import PaymentMethodInline
from shop.core.admin_perf import LIST_PER_PAGE, EstimatedCountPaginator
from shop.core.admin_tools import (
    ActionPermissionMixin,
    OneDefaultPerCustomerForm,
    OneDefaultPerCustomerFormSet,
    ProtectedFirstMixin,
    change_link,
    constraint_message,
)
from shop.core.exceptions import ShopError
from shop.core.money import format_money
from shop.core.widgets import FastChoicesMixin

# The customer page shows this many of the latest orders; the rest are a link away.
CUSTOMER_PAGE_ORDERS = 20
PHONE_CHARACTERS = re.compile(r"[\d\s()+.-]+")
ADDRESS_DEFAULTS = {
    "is_default_shipping": "address_one_default_shipping",
    "is_default_billing": "address_one_default_billing",
}
ADDRESS_FIELDS = [
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
    "is_default_shipping",
    "is_default_billing",
]


class CustomerForm(forms.ModelForm):
    def clean_email(self):
        # The unique column is the generated `email_key`, which model forms do not validate.
        email = self.cleaned_data["email"]
        taken = Customer.objects.filter(email_key=Lower(Value(email)))
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(constraint_message(Customer, "customer_email_unique_ci"))
        return email


class AddressForm(OneDefaultPerCustomerForm):
    default_flags = ADDRESS_DEFAULTS


class AddressFormSet(OneDefaultPerCustomerFormSet):
    default_flags = ADDRESS_DEFAULTS


class AddressInline(FastChoicesMixin, admin.TabularInline):
    model = Address
    formset = AddressFormSet
    fields = ADDRESS_FIELDS
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ActionPermissionMixin, ProtectedFirstMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ["name", "email", "phone", "order_count", "created_at"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    ordering = ["last_name", "first_name", "id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = LIST_PER_PAGE
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "created_at", "updated_at"]}),
        ("Orders", {"fields": ["latest_orders"]}),
    ]
    readonly_fields = ["latest_orders", "created_at", "updated_at"]
    inlines = [AddressInline, PaymentMethodInline]
    actions = ["anonymize_selected"]

    def has_anonymize_permission(self, request):
        return request.user.has_perm("customers.anonymize_customer")

    @admin.action(permissions=["anonymize"], description="Anonymize selected customers (erase personal data)")
    def anonymize_selected(self, request, queryset):
        """Confirm first; then erase each customer's personal data through the service."""
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/customers/customer/anonymize_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Anonymize customers",
                    "opts": self.model._meta,
                    "objects": queryset.annotate(order_total=Count("orders")),
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = 0
        for customer in queryset.order_by("pk"):
            label = f"#{customer.pk}"
            try:
                customer_anonymize(customer=customer, actor=request.user)
            except ShopError as error:
                messages.error(request, f"Customer {label}: {error}")
            else:
                done += 1
                self.log_change(request, customer, "Anonymized: personal data erased.")
        if done:
            messages.success(request, f"{done} customer(s) anonymized; their orders were kept.")
        return None

    def get_queryset(self, request):
        # A subquery per shown row (100 a page), not a GROUP BY over every order of every customer.
        orders = (
            Order.objects.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(order_count=Coalesce(Subquery(orders), 0))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = re.sub(r"\D", "", search_term)
        if len(digits) >= 4 and PHONE_CHARACTERS.fullmatch(search_term.strip()):
            # Phones are stored as +12025550123 but shown as (202) 555-0123: match the digits too.
            found |= queryset.filter(phone__contains=digits)
        return found, may_have_duplicates

    @admin.display(description="name", ordering="last_name")
    def name(self, obj):
        return obj.full_name

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

    @admin.display(description="orders", ordering="order_count")
    def order_count(self, obj):
        return obj.order_count


@admin.register(Address)
class AddressAdmin(ActionPermissionMixin, FastChoicesMixin, admin.ModelAdmin):
    form = AddressForm
    list_display = [
        "line1",
        "city",
        "postal_code",
        "country",
        "customer",
        "is_default_shipping",
        "is_default_billing",
    ]
    list_select_related = ["customer"]
    list_filter = ["is_default_shipping", "is_default_billing"]
    search_fields = [
        "line1",
        "city",
        "postal_code",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
    ]
    autocomplete_fields = ["customer"]
    fields = ["customer", *ADDRESS_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["customer__last_name", "customer__first_name", "id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")

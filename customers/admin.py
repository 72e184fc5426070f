"""The customers' own pages. The customer page as staff see it, with the customer's orders,
saved payment methods and erasure (which other apps own), is put together and registered by
the back office (shop.backoffice.admin)."""

import re

from django import forms
from django.contrib import admin
from django.db.models import Value
from django.db.models.functions import Lower

from customers import services
from customers.models import Address, Customer
from shop.core.admin_operations import StaffOperationsMixin
from shop.core.admin_tools import (
    ActionPermissionMixin,
    OneDefaultPerCustomerForm,
    OneDefaultPerCustomerFormSet,
    ProtectedFirstMixin,
    constraint_message,
)
from shop.core.admin_visibility import ALL_FIELDS, Restriction, restrict
from shop.core.widgets import FastChoicesMixin

# Who sees what of customers (shop.core.admin_visibility): a customer's name is on their orders
# for everyone who handles them (shipping addresses parcels to it), but how to reach them and
# their saved addresses are for staff who may open the customer pages.
CUSTOMER_DETAILS = Restriction("customer details", ("customers.view_customer",))
CUSTOMER_ADDRESSES = Restriction("customer addresses", ("customers.view_address",))
restrict(Customer, ["email", "email_key", "phone"], CUSTOMER_DETAILS)
restrict(Address, ALL_FIELDS, CUSTOMER_ADDRESSES)

PHONE_CHARACTERS = re.compile(r"[\d\s()+.-]+")
ADDRESS_DEFAULTS = {
    "is_default_shipping": "address_one_default_shipping",
    "is_default_billing": "address_one_default_billing",
}
# The address fields staff edit: the ones the customer services take.
ADDRESS_FIELDS = list(services.ADDRESS_FIELDS)


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


class CustomerAdmin(StaffOperationsMixin, ProtectedFirstMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ["name", "email", "phone", "created_at"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    ordering = ["last_name", "first_name", "id"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "created_at", "updated_at"]}),
    ]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AddressInline]

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = re.sub(r"\D", "", search_term)
        if len(digits) >= 4 and PHONE_CHARACTERS.fullmatch(search_term.strip()):
            # Phones are stored as +12025550123 but shown as (202) 555-0123: match the digits too.
            found |= queryset.filter(phone__icontains=digits)  # icontains: the trigram index
        return found, may_have_duplicates

    @admin.display(description="name", ordering="last_name")
    def name(self, obj):
        return obj.full_name


@admin.register(Address)
class AddressAdmin(ActionPermissionMixin, FastChoicesMixin, admin.ModelAdmin):
    form = AddressForm
    list_display = [
        "line1",
        "city",
        "postal_code",
        "country_name",
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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")

    @admin.display(description="country", ordering="country")
    def country_name(self, obj):
        # The country's name from django-countries' lookup: the admin's own display of a field
        # with choices rebuilds the list of 250 countries for every row (a third of the page).
        return obj.country.name

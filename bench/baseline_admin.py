"""The baseline for `bench/admin_pages.py`: the same models on Django's plain `ModelAdmin`.

Only what the measured URLs need is declared (the same search fields and filters as ours, so a
search or a filter does the same job); everything else is Django's default: full counts, no
select_related, a <select> of every row for each foreign key on a change form, no inlines.
An order has several shipments: `shipment__tracking_number` searches all of them, and Django adds
the DISTINCT that a search across a many-valued relation needs.
"""

from django.contrib import admin
from django.contrib.admin import AdminSite

from catalog.models import Product, Stock
from customers.models import Customer
from orders.models import Carrier, Order, OrderLine, Shipment, ShipmentLine

baseline_site = AdminSite(name="baseline")


class LowStockFilter(admin.SimpleListFilter):
    """The same `?stock_level=low` as ours, written the obvious way (a join on stock)."""

    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("low", "Low stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return Product.objects.low_stock() & queryset
        return queryset


class OrderAdmin(admin.ModelAdmin):
    list_filter = ["status", "currency"]
    search_fields = [
        "number",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "shipment__tracking_number",
    ]


class ProductAdmin(admin.ModelAdmin):
    list_filter = ["product_type", "is_active", LowStockFilter]
    search_fields = ["name", "sku"]


class CustomerAdmin(admin.ModelAdmin):
    search_fields = ["first_name", "last_name", "email", "phone"]


baseline_site.register(Order, OrderAdmin)
baseline_site.register(Product, ProductAdmin)
baseline_site.register(Customer, CustomerAdmin)
baseline_site.register([Stock, OrderLine, Carrier, Shipment, ShipmentLine])

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from catalog import services
from catalog.forms import AdjustStockForm, AdjustStockFormSet, ReceiveStockForm, ReceiveStockFormSet
from catalog.models import Product, ProductType, Stock, StockMovement
from catalog.resources import ProductImportResource, ProductResource, StockCountResource, StockResource
from shop.core.admin_import_export import ImportExportMixin
from shop.core.admin_perf import LIST_PER_PAGE, EstimatedCountPaginator
from shop.core.admin_tools import (
    ActionPermissionMixin,
    ChangedFieldsOnlyFormSet,
    ProtectedFirstMixin,
    ReadOnlyAdminMixin,
    ServiceRowAdminMixin,
    admin_page,
    log_message,
    refusal_message,
)
from shop.core.exceptions import ShopError
from shop.core.money import format_money

RECENT_MOVEMENTS = 20


def products_at_stock_level(level: str | None):
    """The products at a stock level (None for an unknown level)."""
    if level == "out":
        return Product.objects.out_of_stock()
    if level == "low":
        return Product.objects.low_stock()
    if level == "in":
        return Product.objects.in_stock()
    return None


class StockLevelFilter(admin.SimpleListFilter):
    """Filters products, or stock rows (whose pk is the product's), by available stock."""

    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [
            ("out", "Out of stock"),
            ("low", "Low stock"),
            ("in", "In stock (above threshold)"),
        ]

    def queryset(self, request, queryset):
        products = products_at_stock_level(self.value())
        if products is None:
            return queryset
        if queryset.model is Product:
            return queryset & products  # a join on the stock row, not `pk IN (subquery)`
        return queryset.filter(pk__in=products.values("pk"))


def _stock(product: Product) -> Stock | None:
    """The product's stock row, as loaded by select_related (None when it has none)."""
    try:
        return product.stock
    except Stock.DoesNotExist:
        return None


@dataclass(frozen=True)
class StockOperation:
    """Receiving or adjusting stock, as offered on one product's page and on a selection."""

    name: str
    title: str
    form_class: type[forms.Form]
    formset_class: type[forms.BaseFormSet]
    service: Callable[..., Stock]
    done: str

    @property
    def permission(self) -> str:
        return f"catalog.{self.name}_stock"


STOCK_OPERATIONS = {
    "receive": StockOperation(
        name="receive",
        title="Receive stock",
        form_class=ReceiveStockForm,
        formset_class=ReceiveStockFormSet,
        service=services.stock_receive,
        done="Received stock for",
    ),
    "adjust": StockOperation(
        name="adjust",
        title="Adjust stock",
        form_class=AdjustStockForm,
        formset_class=AdjustStockFormSet,
        service=services.stock_adjust,
        done="Adjusted the stock of",
    ),
}


def _stock_summary(stock: Stock) -> str:
    return f"{stock.on_hand} on hand, {stock.allocated} allocated, {stock.available} available"


@admin.register(ProductType)
class ProductTypeAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = ["name", "product_count", "description"]
    search_fields = ["name"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj):
        return obj.product_count


class StockInline(admin.TabularInline):
    """Quantities are read-only: they change only through the stock services and their ledger."""

    model = Stock
    formset = ChangedFieldsOnlyFormSet
    fields = ["on_hand", "allocated", "available", "low_stock_threshold", "updated_at"]
    readonly_fields = ["on_hand", "allocated", "available", "updated_at"]
    can_delete = False
    extra = 0
    max_num = 1

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="available")
    def available(self, obj):
        return obj.available


@admin.register(Product)
class ProductAdmin(ActionPermissionMixin, ProtectedFirstMixin, ImportExportMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "sku",
        "product_type",
        "price_display",
        "is_active",
        "on_hand",
        "allocated",
        "available",
        "low_stock_threshold",
    ]
    list_select_related = ["product_type", "stock"]
    list_filter = ["product_type", "is_active", StockLevelFilter]
    search_fields = ["name", "sku"]
    ordering = ["name", "id"]
    # No date drill-down (products are not looked up by when they were added: it cost two
    # statements over the filtered products on every page) and no second, unfiltered count.
    show_full_result_count = False
    list_per_page = LIST_PER_PAGE
    fieldsets = [
        (None, {"fields": ["name", "sku", "product_type", "price", "currency", "is_active", "description"]}),
        ("Stock ledger", {"fields": ["recent_movements"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["recent_movements", "created_at", "updated_at"]
    inlines = [StockInline]
    actions = ["receive_stock_selected", "adjust_stock_selected"]
    export_resource_classes = [ProductResource]
    import_resource_classes = [ProductImportResource]
    import_permissions = ("catalog.add_product", "catalog.change_product")

    def has_receive_permission(self, request, obj=None):
        return request.user.has_perm(STOCK_OPERATIONS["receive"].permission)

    def has_adjust_permission(self, request, obj=None):
        return request.user.has_perm(STOCK_OPERATIONS["adjust"].permission)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/receive-stock/",
                self.admin_site.admin_view(self.receive_stock_view),
                name="{}_{}_receive_stock".format(*info),
            ),
            path(
                "<path:object_id>/adjust-stock/",
                self.admin_site.admin_view(self.adjust_stock_view),
                name="{}_{}_adjust_stock".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            "can_receive_stock": self.has_receive_permission(request),
            "can_adjust_stock": self.has_adjust_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.stock_initialize(product=obj)

    # Receiving and adjusting stock: one product from its page, or the products selected on the list.

    def receive_stock_view(self, request, object_id):
        return self._stock_view(request, object_id, STOCK_OPERATIONS["receive"])

    def adjust_stock_view(self, request, object_id):
        return self._stock_view(request, object_id, STOCK_OPERATIONS["adjust"])

    @admin.action(description="Receive stock for the selected products", permissions=["receive"])
    def receive_stock_selected(self, request, queryset):
        return self._stock_action(request, queryset, STOCK_OPERATIONS["receive"])

    @admin.action(description="Adjust stock of the selected products", permissions=["adjust"])
    def adjust_stock_selected(self, request, queryset):
        return self._stock_action(request, queryset, STOCK_OPERATIONS["adjust"])

    def _stock_view(self, request, object_id, operation: StockOperation):
        if not getattr(self, f"has_{operation.name}_permission")(request):
            raise PermissionDenied
        product = self.get_queryset(request).select_related("stock").filter(pk=unquote(object_id)).first()
        if product is None:
            raise Http404(f"No product with the id {object_id!r}.")
        change_url = reverse(f"{self.admin_site.name}:catalog_product_change", args=[product.pk])
        form = operation.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                stock = operation.service(product=product, actor=request.user, **form.service_kwargs())
            except ShopError as error:
                messages.error(request, str(error))
            else:
                self.log_change(request, product, log_message(operation.title, form.service_kwargs()))
                messages.success(request, f"{operation.done} {product}: now {_stock_summary(stock)}.")
                return redirect(change_url)
        return admin_page(
            self,
            request,
            "admin/catalog/product/stock_form.html",
            {
                "title": operation.title,
                "original": product,
                "stock": _stock(product),
                "form": form,
                "submit_label": operation.title,
                "cancel_url": change_url,
            },
        )

    def _stock_action(self, request, queryset, operation: StockOperation):
        """The page asking, per selected product, what to record; then the service for each.

        A product the service refuses gets its own error message; the others go ahead.
        """
        products = list(queryset.select_related("stock"))
        data = request.POST if "apply" in request.POST else None
        formset = operation.formset_class(data, objects=products, prefix="rows")
        if formset.is_bound and formset.is_valid():
            done = 0
            for product, form in formset.rows:
                try:
                    operation.service(product=product, actor=request.user, **form.service_kwargs())
                except ShopError as error:
                    messages.error(request, refusal_message(product, error))
                else:
                    self.log_change(request, product, log_message(operation.title, form.service_kwargs()))
                    done += 1
            if done:
                messages.success(request, f"{operation.done} {done} product{'' if done == 1 else 's'}.")
            return None
        return admin_page(
            self,
            request,
            "admin/catalog/product/stock_selected.html",
            {
                "title": f"{operation.title}: {len(products)} product{'' if len(products) == 1 else 's'}",
                "formset": formset,
                "objects": products,
                "action_name": f"{operation.name}_stock_selected",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "submit_label": operation.title,
                "cancel_url": request.get_full_path(),
            },
        )

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The stock row and its ledger are part of the product and go with it; nobody may delete
        # them on their own. Products that were ordered stay protected by their order lines.
        perms_needed -= {Stock._meta.verbose_name, StockMovement._meta.verbose_name}
        return deleted, model_count, perms_needed, protected

    @admin.display(description="price", ordering="price")
    def price_display(self, obj):
        return format_money(obj.price, obj.currency)

    @admin.display(description="on hand", ordering="stock__on_hand")
    def on_hand(self, obj):
        stock = _stock(obj)
        return stock.on_hand if stock else None

    @admin.display(description="allocated", ordering="stock__allocated")
    def allocated(self, obj):
        stock = _stock(obj)
        return stock.allocated if stock else None

    @admin.display(description="available", ordering=F("stock__on_hand") - F("stock__allocated"))
    def available(self, obj):
        stock = _stock(obj)
        return stock.available if stock else None

    @admin.display(description="low-stock threshold", ordering="stock__low_stock_threshold")
    def low_stock_threshold(self, obj):
        stock = _stock(obj)
        return stock.low_stock_threshold if stock else None

    @admin.display(description=f"last {RECENT_MOVEMENTS} movements")
    def recent_movements(self, obj):
        if obj.pk is None:
            return "—"
        movements = list(obj.movements.select_related("actor")[:RECENT_MOVEMENTS])
        if not movements:
            return "No stock movements yet."
        ledger_url = reverse("admin:catalog_stockmovement_changelist") + f"?product__id__exact={obj.pk}"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    m.get_kind_display(),
                    m.get_reason_display(),
                    f"{m.on_hand_delta:+d}",
                    f"{m.allocated_delta:+d}",
                    m.order_number,
                    m.actor or "",
                    m.note,
                )
                for m in movements
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Kind</th><th>Reason</th><th>On hand</th>"
            "<th>Allocated</th><th>Order</th><th>By</th><th>Note</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">Whole ledger for this product</a></p>',
            rows,
            ledger_url,
        )


@admin.register(Stock)
class StockAdmin(ServiceRowAdminMixin, ActionPermissionMixin, ImportExportMixin, admin.ModelAdmin):
    """Quantities are read-only here; only the low-stock threshold may be edited."""

    list_display = ["product", "on_hand", "allocated", "available", "low_stock_threshold", "updated_at"]
    list_filter = [StockLevelFilter]
    search_fields = ["product__name", "product__sku"]
    ordering = ["product__name", "product_id"]
    fields = ["product", "on_hand", "allocated", "available", "low_stock_threshold", "updated_at"]
    readonly_fields = ["product", "on_hand", "allocated", "available", "updated_at"]
    export_resource_classes = [StockResource]
    # A stock count: each row is a stock_adjust by the importing user, shown first as a preview.
    import_resource_classes = [StockCountResource]
    import_permissions = ("catalog.view_stock", "catalog.adjust_stock")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description="available", ordering=F("on_hand") - F("allocated"))
    def available(self, obj):
        return obj.available


@admin.register(StockMovement)
class StockMovementAdmin(ActionPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger: written by the stock services only."""

    list_display = [
        "created_at",
        "product",
        "kind",
        "reason",
        "on_hand_delta",
        "allocated_delta",
        "order_number",
        "actor",
        "note",
    ]
    list_select_related = ["product", "actor"]
    list_filter = ["kind", "reason", "created_at"]
    search_fields = ["product__name", "product__sku", "order_number"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = [
        "created_at",
        "product",
        "kind",
        "reason",
        "on_hand_delta",
        "allocated_delta",
        "order_number",
        "actor_name",
        "note",
    ]
    readonly_fields = ["actor_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "actor")

    @admin.display(description="by")
    def actor_name(self, obj):
        # The name, not a link: staff accounts' pages are for superusers only.
        return obj.actor.get_username() if obj.actor else None

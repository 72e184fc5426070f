from django.contrib import admin
from django.db.models import Count, F
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog import services
from catalog.forms import AdjustStockForm, ReceiveStockForm, SetThresholdForm, StockThresholdForm
from catalog.models import Product, ProductType, Stock, StockMovement
from catalog.resources import ProductImport, ProductResource, StockCountImport, StockResource
from shop.core.admin_import_export import ImportExportMixin
from shop.core.admin_operations import StaffOperation, StaffOperationsMixin
from shop.core.admin_tools import (
    ActionPermissionMixin,
    ChangedFieldsOnlyFormSet,
    ProtectedFirstMixin,
    ReadOnlyAdminMixin,
    ServiceRowAdminMixin,
)
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


def _stock_summary(stock: Stock) -> str:
    return f"{stock.on_hand} on hand, {stock.allocated} allocated, {stock.available} available"


STOCK_OPERATIONS = [
    StaffOperation(
        name="receive_stock",
        title="Receive stock",
        permission="catalog.receive_stock",
        service=services.stock_receive,
        form=ReceiveStockForm,
        per_row=True,
        queryset=lambda products: products.select_related("stock"),
        help="The change is written to the stock ledger under your name.",
        done=lambda product, stock: f"Received stock for {product}: now {_stock_summary(stock)}.",
        action="receive_stock_selected",
        action_label="Receive stock for the selected products",
        done_many="Received stock for {count} product{s}.",
    ),
    StaffOperation(
        name="adjust_stock",
        title="Adjust stock",
        permission="catalog.adjust_stock",
        service=services.stock_adjust,
        form=AdjustStockForm,
        per_row=True,
        queryset=lambda products: products.select_related("stock"),
        help=(
            "The change is the number of units to add to on hand (3) or to take off (-2). It is "
            "written to the stock ledger under your name; a product the change is refused for is "
            "reported and left as it is."
        ),
        done=lambda product, stock: f"Adjusted the stock of {product}: now {_stock_summary(stock)}.",
        action="adjust_stock_selected",
        action_label="Adjust stock of the selected products",
        done_many="Adjusted the stock of {count} product{s}.",
    ),
    StaffOperation(
        name="set_threshold",
        title="Set low-stock threshold",
        permission="catalog.change_stock",
        service=services.stock_set_threshold,
        form=SetThresholdForm,
        per_row=True,
        queryset=lambda products: products.select_related("stock"),
        initial=lambda product: {"threshold": getattr(_stock(product), "low_stock_threshold", 5)},
        help=(
            "The product counts as low on stock while it has this many units available or fewer "
            "(and at least one). The change is written to the product's history under your name."
        ),
        done=lambda product, stock: (
            f"The low-stock threshold of {product} is now {stock.low_stock_threshold}."
        ),
        action="set_threshold_selected",
        action_label="Set the low-stock threshold of the selected products",
        done_many="Set the low-stock threshold of {count} product{s}.",
    ),
]


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
    form = StockThresholdForm
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
class ProductAdmin(StaffOperationsMixin, ProtectedFirstMixin, ImportExportMixin, admin.ModelAdmin):
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
    fieldsets = [
        (None, {"fields": ["name", "sku", "product_type", "price", "currency", "is_active", "description"]}),
        ("Stock ledger", {"fields": ["recent_movements"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["recent_movements", "created_at", "updated_at"]
    inlines = [StockInline]
    operations = STOCK_OPERATIONS
    export_resource_classes = [ProductResource]
    csv_import_class = ProductImport
    import_permissions = ("catalog.add_product", "catalog.change_product")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.stock_initialize(product=obj)

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
    """Quantities are read-only here; only the low-stock threshold may be edited (by those with
    catalog.change_stock: inventory staff and store managers)."""

    form = StockThresholdForm
    list_display = ["product", "on_hand", "allocated", "available", "low_stock_threshold", "updated_at"]
    list_filter = [StockLevelFilter]
    search_fields = ["product__name", "product__sku"]
    ordering = ["product__name", "product_id"]
    fields = ["product", "on_hand", "allocated", "available", "low_stock_threshold", "updated_at"]
    readonly_fields = ["product", "on_hand", "allocated", "available", "updated_at"]
    export_resource_classes = [StockResource]
    # A stock count: each row is a stock_adjust by the importing user, shown first as a preview.
    csv_import_class = StockCountImport
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

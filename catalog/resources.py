"""Products and stock, to and from CSV and Excel (django-import-export).

Exports read a whole list in a fixed number of queries (`select_related`). Imports go through the
catalog services: new products through `product_create` (which gives them their stock row), stock
counts through `stock_adjust` (which writes the ledger and refuses going below what is allocated).
"""

from django.core.exceptions import ValidationError
from import_export.fields import Field
from import_export.instance_loaders import CachedInstanceLoader
from import_export.resources import ModelResource
from import_export.widgets import IntegerWidget

from catalog import services
from catalog.models import Product, ProductType, Stock, StockMovement
from shop.core.exceptions import ShopError
from shop.core.resources import (
    AllOrNothingResource,
    ChangeWidget,
    CountWidget,
    CurrencyWidget,
    MoneyWidget,
    NameLookupWidget,
    TextWidget,
    YesNoWidget,
)

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


class ProductResource(ModelResource):
    """Export: one row per product with its stock figures (blank for a product without a stock row)."""

    name = Field(attribute="name", column_name="name")
    sku = Field(attribute="sku", column_name="sku")
    type = Field(attribute="product_type__name", column_name="type")
    price = Field(attribute="price", column_name="price", widget=MoneyWidget())
    currency = Field(attribute="currency", column_name="currency")
    active = Field(attribute="is_active", column_name="active", widget=YesNoWidget())
    on_hand = Field(attribute="stock__on_hand", column_name="on_hand", widget=IntegerWidget())
    allocated = Field(attribute="stock__allocated", column_name="allocated", widget=IntegerWidget())
    available = Field(attribute="stock__available", column_name="available", widget=IntegerWidget())
    threshold = Field(attribute="stock__low_stock_threshold", column_name="threshold", widget=IntegerWidget())

    class Meta:
        model = Product
        name = "Products"
        fields = (
            "name",
            "sku",
            "type",
            "price",
            "currency",
            "active",
            "on_hand",
            "allocated",
            "available",
            "threshold",
        )

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product_type", "stock")


class ProductImportResource(AllOrNothingResource):
    """Import: creates or updates products by SKU.

    Columns: sku (required), name, type (an existing product type's name: an unknown one is an
    error), price, currency, active (yes/no), description. A column left out of the file leaves
    that field as it is; a new product needs sku, name, type and price. Unchanged rows are skipped.
    """

    sku = Field(attribute="sku", column_name="sku", widget=TextWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    type = Field(
        attribute="product_type",
        column_name="type",
        widget=NameLookupWidget(ProductType, noun="product type"),
    )
    price = Field(attribute="price", column_name="price", widget=MoneyWidget())
    currency = Field(
        attribute="currency", column_name="currency", widget=CurrencyWidget(), saves_null_values=False
    )
    active = Field(attribute="is_active", column_name="active", widget=YesNoWidget(), saves_null_values=False)
    description = Field(attribute="description", column_name="description", widget=TextWidget())

    class Meta:
        model = Product
        name = "Products by SKU"
        fields = ("sku", "name", "type", "price", "currency", "active", "description")
        import_id_fields = ("sku",)
        instance_loader_class = CachedInstanceLoader
        clean_model_instances = True
        skip_unchanged = True

    def get_queryset(self):
        return Product.objects.select_related("product_type")

    def save_instance(self, instance, is_create, row, **kwargs):
        if is_create:
            product = services.product_create(
                name=instance.name,
                sku=instance.sku,
                product_type=instance.product_type,
                price=instance.price,
                currency=instance.currency,
                description=instance.description,
                is_active=instance.is_active,
                actor=kwargs.get("user"),
            )
            instance.pk = product.pk
            instance._state.adding = False
            instance._state.db = product._state.db
            return
        # Only the columns the file has, so that a price list never rewrites names or descriptions.
        fields = [
            field.attribute
            for field in self.get_import_fields()
            if field.column_name in row and field.attribute != "sku"
        ]
        instance.save(update_fields=[*fields, "updated_at"])


class StockResource(ModelResource):
    """Export: the stock level of every product."""

    sku = Field(attribute="product__sku", column_name="sku")
    name = Field(attribute="product__name", column_name="name")
    on_hand = Field(attribute="on_hand", column_name="on_hand", widget=IntegerWidget())
    allocated = Field(attribute="allocated", column_name="allocated", widget=IntegerWidget())
    available = Field(attribute="available", column_name="available", widget=IntegerWidget())
    threshold = Field(attribute="low_stock_threshold", column_name="threshold", widget=IntegerWidget())

    class Meta:
        model = Stock
        name = "Stock levels"
        fields = ("sku", "name", "on_hand", "allocated", "available", "threshold")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product")


class StockCountResource(AllOrNothingResource):
    """Import: a stock count. Columns: sku, counted (units on the shelf), note (optional).

    Each row becomes a `stock_adjust` of counted minus on hand, reason "count", by the importing
    user; a row that changes nothing is skipped. The file's stock rows are locked (in primary-key
    order, like every stock service) before anything is read, so the change is worked out from
    on-hand figures nobody else can move until the import commits or rolls back.
    """

    sku = Field(attribute="product__sku", column_name="sku", widget=TextWidget(), readonly=True)
    name = Field(attribute="product__name", column_name="name", readonly=True)
    on_hand = Field(attribute="on_hand", column_name="on_hand", widget=IntegerWidget(), readonly=True)
    allocated = Field(attribute="allocated", column_name="allocated", widget=IntegerWidget(), readonly=True)
    counted = Field(attribute="counted", column_name="counted", widget=CountWidget())
    change = Field(attribute="change", column_name="change", widget=ChangeWidget(), readonly=True)
    note = Field(attribute="note", column_name="note", widget=TextWidget())

    class Meta:
        model = Stock
        name = "Stock count"
        fields = ("sku", "name", "on_hand", "allocated", "counted", "change", "note")
        import_id_fields = ("sku",)
        instance_loader_class = CachedInstanceLoader

    def get_queryset(self):
        return Stock.objects.select_related("product")

    def get_user_visible_fields(self):
        return [self.fields["sku"], self.fields["counted"], self.fields["note"]]

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        product_ids = Product.objects.filter(sku__in=list(self.rows_by_key)).values_list("pk", flat=True)
        # Also creates the stock row of a product that has none, so that it can be counted too.
        services.lock_stock(product_ids)

    def init_instance(self, row=None):
        sku = self.fields["sku"].clean(row)
        message = f"There is no product with the SKU {sku!r}." if sku else "The SKU is missing."
        raise ValidationError({"sku": [message]})

    def check_row(self, instance, row, errors, **kwargs):
        super().check_row(instance, row, errors, **kwargs)
        if len(getattr(instance, "note", "")) > NOTE_MAX_LENGTH:
            errors["note"] = [f"A note has at most {NOTE_MAX_LENGTH} characters."]
        counted = getattr(instance, "counted", None)
        if "counted" in errors:
            return
        if counted is None:
            errors["counted"] = ["Enter the number of units counted."]
            return
        instance.change = counted - instance.on_hand

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # Counted what the books say: nothing to record.
        return not import_validation_errors and instance.change == 0

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            services.stock_adjust(
                product=instance.product,
                delta=instance.change,
                reason=StockMovement.Reason.COUNT,
                actor=kwargs.get("user"),
                note=getattr(instance, "note", ""),
            )
        except ShopError as error:
            raise ValidationError({"counted": [str(error)]}) from error

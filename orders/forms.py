"""Forms of the order screens. They only collect input: the order services decide what is allowed."""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property

from catalog.models import Product
from customers.admin import ADDRESS_FIELDS, CustomerForm
from customers.models import Address, Customer
from orders.models import Carrier, Order, OrderLine, Return, Shipment
from orders.services import shipping_cost_for
from payments.models import Payment, PaymentMethod
from shop.core.form_fields import AmountField, QuantityField
from shop.core.money import quantize
from shop.core.validators import MAX_QUANTITY, normalize_sku, reject_card_number
from shop.core.widgets import FastSelect

REASON_MAX_LENGTH = 500  # what the stock ledger keeps of a cancelled order's reason


def _line_label(line: OrderLine) -> str:
    return f"{line.sku} {line.product_name}"


class ShipOrderForm(forms.Form):
    """The shipping screen: a carrier, its tracking number, and on one order's page how many of
    each line go in this parcel (default: all that remain). On a selection, whole orders ship."""

    carrier = forms.ModelChoiceField(
        queryset=Carrier.objects.filter(active=True),
        required=False,
        help_text="Carriers and their tracking links are kept by the store manager.",
    )
    tracking_number = forms.CharField(
        max_length=Shipment._meta.get_field("tracking_number").max_length,
        required=False,
        help_text="Not needed for an untracked carrier.",
    )

    def __init__(self, *args, order: Order | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields: list[tuple[str, OrderLine]] = []
        if order is None:
            return
        lines = order.lines.filter(quantity__gt=F("quantity_shipped")).select_related("product__stock")
        for line in lines.order_by("pk"):
            name = f"line_{line.pk}"
            stock = getattr(line.product, "stock", None)
            on_hand = f", {stock.on_hand:,} on the shelf" if stock is not None else ""
            self.fields[name] = QuantityField(
                min_value=0,
                max_value=line.quantity_to_ship,
                required=False,
                initial=line.quantity_to_ship,
                label=_line_label(line),
                what=f"The quantity of {line.sku}",
                help_text=(
                    f"Ordered {line.quantity:,}, shipped {line.quantity_shipped:,}, "
                    f"{line.quantity_to_ship:,} to ship{on_hand}."
                ),
                widget=forms.NumberInput(attrs={"min": 0, "max": line.quantity_to_ship, "step": 1}),
            )
            self.line_fields.append((name, line))

    def service_kwargs(self) -> dict:
        kwargs = {
            "carrier": self.cleaned_data["carrier"],
            "tracking_number": self.cleaned_data["tracking_number"],
        }
        if self.order is not None:
            kwargs["lines"] = [(line, self.cleaned_data.get(name) or 0) for name, line in self.line_fields]
        return kwargs


class DeliverOrderForm(forms.Form):
    """On one order's page: which shipment arrived (or all in transit) and when (default now).
    On a selection, nothing to ask: every shipment in transit arrived now."""

    def __init__(self, *args, order: Order | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        if order is None:
            return
        in_transit = order.shipments.filter(status=Shipment.Status.IN_TRANSIT).select_related("carrier")
        self.fields["shipment"] = forms.ModelChoiceField(
            queryset=in_transit.order_by("shipped_at", "pk"),
            required=False,
            empty_label="Every shipment in transit",
        )
        self.fields["shipment"].label_from_instance = lambda s: (
            f"{s.carrier.name} {s.tracking_number}".strip()
            + f", shipped {timezone.localtime(s.shipped_at):%Y-%m-%d %H:%M}"
        )
        self.fields["delivered_at"] = forms.DateTimeField(
            label="Delivered at",
            required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text="Empty: now. Not in the future, not before the shipment left.",
        )

    def service_kwargs(self) -> dict:
        if self.order is None:
            return {}
        return {
            "shipment": self.cleaned_data.get("shipment"),
            "delivered_at": self.cleaned_data.get("delivered_at"),
        }


class ReturnItemsForm(forms.Form):
    """Units the customer sent back: how many of each line, whether they go back on the shelf,
    whether to refund them (and the shipping charge), and why."""

    refund = forms.BooleanField(
        label="Refund the returned items",
        required=False,
        initial=True,
        help_text="Unit price × quantity, through the order's captured payments.",
    )
    refund_shipping = forms.BooleanField(label="Also refund the shipping charge", required=False)
    reason = forms.CharField(
        max_length=Return._meta.get_field("reason").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the return, the order's timeline and the stock ledger.",
    )

    def __init__(self, *args, order: Order | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields: list[tuple[str, str, OrderLine]] = []
        if order is None:
            return
        fields = {}
        for line in order.lines.filter(quantity_shipped__gt=F("quantity_returned")).order_by("pk"):
            name, restock = f"line_{line.pk}", f"restock_{line.pk}"
            fields[name] = QuantityField(
                min_value=0,
                max_value=line.quantity_returnable,
                required=False,
                initial=0,
                label=_line_label(line),
                what=f"The quantity of {line.sku}",
                help_text=(
                    f"Shipped {line.quantity_shipped:,}, returned so far {line.quantity_returned:,}: "
                    f"up to {line.quantity_returnable:,} can come back."
                ),
                widget=forms.NumberInput(attrs={"min": 0, "max": line.quantity_returnable, "step": 1}),
            )
            fields[restock] = forms.BooleanField(
                label=f"{line.sku} back on the shelf",
                required=False,
                initial=True,
                help_text="Unticked: written off (damaged), stock unchanged.",
            )
            self.line_fields.append((name, restock, line))
        self.fields = {**fields, **self.fields}

    def clean(self):
        cleaned_data = super().clean()
        nothing = not any(cleaned_data.get(name) for name, _, _ in self.line_fields)
        if self.order is not None and nothing and not self.errors:
            raise ValidationError("Enter how many units of at least one line came back.")
        return cleaned_data

    def service_kwargs(self) -> dict:
        lines = [
            (line, self.cleaned_data.get(name) or 0, bool(self.cleaned_data.get(restock)))
            for name, restock, line in self.line_fields
            if self.cleaned_data.get(name)
        ]
        return {
            "lines": lines,
            "refund": self.cleaned_data["refund"],
            "refund_shipping": self.cleaned_data["refund_shipping"],
            "reason": self.cleaned_data["reason"],
        }


class CancelOrderForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the order's timeline and in the stock ledger.",
    )

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class OrderNoteForm(forms.Form):
    message = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def service_kwargs(self) -> dict:
        return {"message": self.cleaned_data["message"]}


# The order desk: the line editor of drafts and placed orders, and recording a payment.

MAX_LINES = 100  # lines one order may have on the editor (the rows a post may carry)
EXTRA_LINE_ROWS = 3  # empty rows under the lines, to add products by SKU without JavaScript


def usable_payment_methods(customer_id: int):
    """The customer's saved payment methods that can pay today (no expired card), default first."""
    today = datetime.date.today()
    valid = (
        ~Q(kind=PaymentMethod.Kind.CARD)
        | Q(exp_year__gt=today.year)
        | Q(exp_year=today.year, exp_month__gte=today.month)
    )
    return PaymentMethod.objects.filter(valid, customer_id=customer_id).order_by("-is_default", "id")


class OrderLineRowForm(forms.Form):
    """One row of the line editor: a product by SKU (the search fills it in) and a quantity."""

    sku = forms.CharField(label="SKU", max_length=64, required=False)
    quantity = QuantityField(
        min_value=0,
        required=False,
        what="The quantity (0 removes the line)",
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_QUANTITY, "step": 1, "class": "desk-quantity"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku"].widget.attrs.update({"class": "desk-sku", "autocomplete": "off"})
        self.product = None  # the row's product, once the editor found it

    def clean_sku(self):
        return normalize_sku(self.cleaned_data.get("sku"))

    def clean(self):
        cleaned_data = super().clean()
        sku, quantity = cleaned_data.get("sku"), cleaned_data.get("quantity")
        if sku and quantity is None and "quantity" not in self.errors:
            self.add_error("quantity", f"Enter how many of {sku} (0 removes the line).")
        if not sku and quantity and "sku" not in self.errors:
            self.add_error("sku", "Choose a product for this quantity (search by name or SKU).")
        return cleaned_data


class BaseOrderLineRowFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None:
            # Every row is read, also one left as the page showed it: an "extra" row is skipped
            # by Django when it equals its initial value, and the lines are the whole new set.
            kwargs["empty_permitted"] = False
        return kwargs


OrderLineRowFormSet = forms.formset_factory(
    OrderLineRowForm,
    formset=BaseOrderLineRowFormSet,
    extra=EXTRA_LINE_ROWS,
    max_num=MAX_LINES,
    absolute_max=MAX_LINES + EXTRA_LINE_ROWS,
    validate_max=True,
)


class OrderLinesForm(forms.Form):
    """The line editor: the whole new set of lines and where the order goes (a draft also asks
    how it will be paid; a placed order's edit asks why). It only collects the input: the order
    services price the lines, check the stock and decide."""

    shipping_address = forms.ModelChoiceField(queryset=Address.objects.none(), label="Ship to")
    payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        required=False,
        label="Payment method",
        empty_label="None yet (record the payment later)",
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown on the order's timeline and in the stock ledger.",
    )

    DRAFT, EDIT = "draft", "edit"

    def __init__(self, data=None, *, order: Order, mode: str = DRAFT, initial=None, **kwargs):
        """`mode` is the page's, not the order's status: a draft's page ("draft") asks how it
        will be paid, a placed order's edit ("edit") asks why (the service refuses the other)."""
        super().__init__(data, initial=initial, **kwargs)
        self.order = order
        self.mode = mode
        customer_id = order.customer_id
        addresses = Address.objects.filter(customer_id=customer_id).order_by("-is_default_shipping", "id")
        address_field = self.fields["shipping_address"]
        address_field.queryset = addresses
        address_field.label_from_instance = Address.one_line
        if mode == self.DRAFT:
            # A draft is saved without an address; placing it without one takes the customer's
            # default shipping address, or is refused saying there is none.
            address_field.required = False
            address_field.empty_label = "The customer's default shipping address"
            methods = usable_payment_methods(customer_id)
            self.fields["payment_method"].queryset = methods
            del self.fields["reason"]
            # The customer's default address and payment method are chosen to begin with.
            self.addresses = list(addresses)
            self.methods = list(methods)
            if not self.is_bound:
                default = next((a for a in self.addresses if a.is_default_shipping), None)
                address_field.initial = default.pk if default else None
                method = next((m for m in self.methods if m.is_default and not m.is_expired), None)
                self.fields["payment_method"].initial = order.payment_method_id or (
                    method.pk if method else None
                )
        else:
            del self.fields["payment_method"]
            address_field.required = False
            address_field.empty_label = "Keep the address it ships to now"
            address_field.help_text = "Now: " + ("; ".join(order.shipping_address_lines) or "no address")
            self.addresses = list(addresses)
            self.methods = []
        # Rows name products by their SKU as it is now (a line keeps the SKU it was sold under).
        lines = list(order.lines.select_related("product__stock").order_by("id"))
        current = [{"sku": line.product.sku, "quantity": line.quantity} for line in lines]
        self.current_lines = {line.product.sku: line for line in lines}
        self.lines = OrderLineRowFormSet(data, prefix="lines", initial=current)

    # Validation: the rows, and the products their SKUs name (one query for all of them).

    def is_valid(self):
        rows_valid = self.lines.is_valid()  # always run both, so both show their errors
        return super().is_valid() and rows_valid and not self._unknown_rows()

    def _row_forms(self):
        return [form for form in self.lines.forms if getattr(form, "cleaned_data", None)]

    def _unknown_rows(self) -> bool:
        if hasattr(self, "_unknown"):
            return self._unknown
        rows = self._row_forms()
        skus = {form.cleaned_data["sku"] for form in rows if form.cleaned_data.get("sku")}
        products = {p.sku: p for p in Product.objects.filter(sku__in=skus).select_related("stock")}
        unknown = False
        for form in rows:
            sku = form.cleaned_data.get("sku")
            if not sku:
                continue
            form.product = products.get(sku)
            if form.product is None:
                form.add_error("sku", f"No product has the SKU {sku!r}.")
                unknown = True
        self._unknown = unknown
        return unknown

    def chosen_lines(self) -> list[tuple[Product, int]]:
        """The whole new set of (product, quantity); a quantity of 0 leaves the product out."""
        return [
            (form.product, form.cleaned_data["quantity"])
            for form in self._row_forms()
            if form.product is not None and form.cleaned_data.get("quantity")
        ]

    def service_kwargs(self) -> dict:
        kwargs = {"lines": self.chosen_lines(), "shipping_address": self.cleaned_data.get("shipping_address")}
        if "payment_method" in self.fields:
            kwargs["payment_method"] = self.cleaned_data.get("payment_method")
        if "reason" in self.fields:
            kwargs["reason"] = self.cleaned_data.get("reason", "")
        return kwargs

    # What the page shows: each row with its product, and the totals.

    def rows(self) -> list[dict]:
        """Each row of the editor with its product (None for an empty or unknown SKU)."""
        if getattr(self, "_rows", None) is not None:
            return self._rows
        products = self._products_for_display()
        rows = []
        for form in self.lines.forms:
            sku = normalize_sku(form["sku"].value() or "")
            line = self.current_lines.get(sku)
            product = getattr(form, "product", None) or products.get(sku) or (line.product if line else None)
            # A placed order's kept line keeps the price it was placed at; anything else is
            # priced now, as the services price it.
            if line is not None and self.mode == self.EDIT:
                price = line.unit_price
            else:
                price = product.price if product is not None else None
            stock = getattr(product, "stock", None) if product is not None else None
            rows.append(
                {
                    "form": form,
                    "product": product,
                    "line": line,
                    "sku": sku,
                    "price": price,
                    "available": stock.available if stock is not None else (0 if product else None),
                    "line_total": None,
                    "short": False,
                }
            )
            try:
                wanted = int(str(form["quantity"].value() or 0).strip())
            except (TypeError, ValueError):
                wanted = 0
            # More than is available now: placing would be refused (a placed order's own lines
            # hold their units already, so only a draft's rows are compared).
            rows[-1]["short"] = (
                self.mode == self.DRAFT
                and rows[-1]["available"] is not None
                and wanted > rows[-1]["available"]
            )
        self._rows = rows
        return rows

    def _products_for_display(self) -> dict[str, Product]:
        if hasattr(self, "_display_products"):
            return self._display_products
        skus = {normalize_sku(form["sku"].value() or "") for form in self.lines.forms}
        # As typed (the rows may not be valid yet): only what could be an SKU is looked up.
        skus = {
            sku
            for sku in skus
            if sku and len(sku) <= 64 and sku.isprintable() and sku not in self.current_lines
        }
        self._display_products = (
            {p.sku: p for p in Product.objects.filter(sku__in=skus).select_related("stock")} if skus else {}
        )
        return self._display_products

    @cached_property
    def preview(self) -> dict:
        """Subtotal, shipping and total of the lines as the page shows them, priced as the
        services will price them (shipping by the same `shipping_cost_for`)."""
        subtotal = Decimal("0")
        count = 0
        for row in self.rows():
            try:
                quantity = int(str(row["form"]["quantity"].value() or 0).strip())
            except (TypeError, ValueError):
                continue
            if row["price"] is None or not 0 < quantity <= MAX_QUANTITY:
                continue
            row["line_total"] = quantize(row["price"] * quantity)
            subtotal += row["line_total"]
            count += 1
        subtotal = quantize(subtotal)
        shipping = shipping_cost_for(subtotal) if count else Decimal("0.00")
        return {"subtotal": subtotal, "shipping": shipping, "total": subtotal + shipping, "lines": count}


OFFLINE_PREFIX = "offline:"
SAVED_PREFIX = "saved:"


class RecordPaymentForm(forms.Form):
    """Money received for an order: how much, how (a saved method or an offline way), reference."""

    amount = AmountField(
        what="The amount",
        help_text="What the customer paid; by default what is still owed. Part payments add up.",
    )
    paid_with = forms.ChoiceField(label="Paid with")
    reference = forms.CharField(
        max_length=Payment._meta.get_field("reference").max_length,
        required=False,
        validators=[reject_card_number],
        help_text=(
            "The bank transfer's reference, the cheque number, the terminal's receipt… Never a card number."
        ),
    )

    def __init__(self, data=None, *, order: Order, offline_ways=(), initial=None, **kwargs):
        super().__init__(data, initial=initial, **kwargs)
        self.order = order
        methods = usable_payment_methods(order.customer_id)
        self.methods = {f"{SAVED_PREFIX}{m.pk}": m for m in methods}
        self.offline_ways = dict(offline_ways)
        choices = []
        if self.methods:
            choices.append(("Saved payment methods", [(key, m.label) for key, m in self.methods.items()]))
        if self.offline_ways:
            choices.append(
                (
                    "Offline",
                    [(f"{OFFLINE_PREFIX}{value}", label) for value, label in self.offline_ways.items()],
                )
            )
        self.fields["paid_with"].choices = choices
        if not self.is_bound:
            chosen = order.payment_method_id and f"{SAVED_PREFIX}{order.payment_method_id}"
            if chosen in self.methods:
                self.fields["paid_with"].initial = chosen
            elif self.offline_ways:
                self.fields["paid_with"].initial = f"{OFFLINE_PREFIX}{next(iter(self.offline_ways))}"

    def clean_paid_with(self):
        value = self.cleaned_data["paid_with"]
        if value not in self.methods and value.removeprefix(OFFLINE_PREFIX) not in self.offline_ways:
            raise ValidationError("Choose how the customer paid.")
        return value

    def service_kwargs(self) -> dict:
        value = self.cleaned_data["paid_with"]
        kwargs = {"amount": self.cleaned_data["amount"], "reference": self.cleaned_data["reference"].strip()}
        if value in self.methods:
            kwargs["method"] = self.methods[value]
        else:
            kwargs["offline_method"] = value.removeprefix(OFFLINE_PREFIX)
        return kwargs


class NewCustomerForm(CustomerForm):
    """A customer taken on at the order desk (the same rules as the customer page)."""

    class Meta:
        model = Customer
        fields = ["first_name", "last_name", "email", "phone"]


class NewAddressForm(forms.ModelForm):
    """The new customer's address: their default shipping and billing address."""

    class Meta:
        model = Address
        fields = [name for name in ADDRESS_FIELDS if not name.startswith("is_default")]
        widgets = {"country": FastSelect}

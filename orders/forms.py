"""Forms of the order screens. They only collect input: the order services decide what is allowed."""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import cached_property

from catalog.models import Product
from customers.admin import ADDRESS_FIELDS, CustomerForm
from customers.models import Address, Customer
from orders.models import Order, Shipment
from orders.services import shipping_cost_for
from payments.models import Payment, PaymentMethod
from shop.core.form_fields import AmountField, QuantityField
from shop.core.money import quantize
from shop.core.validators import MAX_QUANTITY, normalize_sku, reject_card_number
from shop.core.widgets import FastSelect

CARRIERS = ["UPS", "USPS", "FedEx", "DHL"]
OTHER_CARRIER = "Other"
REASON_MAX_LENGTH = 500  # what the stock ledger keeps of a cancelled order's reason


class ShipOrderForm(forms.Form):
    carrier = forms.ChoiceField(
        choices=[("", "---------"), *((c, c) for c in CARRIERS), (OTHER_CARRIER, "Other")],
        required=False,
    )
    other_carrier = forms.CharField(
        max_length=Shipment._meta.get_field("carrier").max_length,
        required=False,
        help_text="With “Other”: the carrier's name.",
    )
    tracking_number = forms.CharField(
        max_length=Shipment._meta.get_field("tracking_number").max_length, required=False
    )

    def clean(self):
        cleaned_data = super().clean()
        carrier = cleaned_data.get("carrier", "")
        other = (cleaned_data.get("other_carrier") or "").strip()
        if other and carrier not in ("", OTHER_CARRIER):
            self.add_error("other_carrier", f"Choose “Other” rather than {carrier} to name another carrier.")
        cleaned_data["carrier_name"] = other or carrier
        return cleaned_data

    def service_kwargs(self) -> dict:
        return {
            "carrier": self.cleaned_data["carrier_name"],
            "tracking_number": self.cleaned_data["tracking_number"],
        }


class DeliverOrderForm(forms.Form):
    """Nothing to ask: the page confirms which orders arrived."""

    def service_kwargs(self) -> dict:
        return {}


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

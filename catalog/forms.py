"""Forms of the stock screens. They only collect input: the stock services decide what is allowed."""

from django import forms

from catalog.models import Stock, StockMovement
from shop.core.form_fields import QuantityField
from shop.core.validators import MAX_QUANTITY

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


class ReceiveStockForm(forms.Form):
    quantity = QuantityField(help_text=f"Units that arrived (1 to {MAX_QUANTITY:,}).")
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        help_text="Delivery note, supplier, purchase order…",
    )

    def service_kwargs(self) -> dict:
        return {"quantity": self.cleaned_data["quantity"], "note": self.cleaned_data["note"]}


class AdjustStockForm(forms.Form):
    delta = QuantityField(
        label="Change",
        min_value=-MAX_QUANTITY,
        what="The change",
        help_text="Units to add to on hand (e.g. 3) or to take off (e.g. -2).",
    )
    reason = forms.ChoiceField(choices=[("", "---------"), *StockMovement.Reason.choices])
    note = forms.CharField(max_length=NOTE_MAX_LENGTH, required=False)

    def service_kwargs(self) -> dict:
        return {
            "delta": self.cleaned_data["delta"],
            "reason": self.cleaned_data["reason"],
            "note": self.cleaned_data["note"],
        }


def threshold_field(**kwargs) -> QuantityField:
    return QuantityField(
        min_value=0,
        what="The low-stock threshold",
        label="Low-stock threshold",
        help_text=f"Stock counts as low at or below this many available units (0 to {MAX_QUANTITY:,}).",
        **kwargs,
    )


class SetThresholdForm(forms.Form):
    threshold = threshold_field()

    def service_kwargs(self) -> dict:
        return {"threshold": self.cleaned_data["threshold"]}


class StockThresholdForm(forms.ModelForm):
    """The stock row on the product and stock pages: only the threshold is typed in."""

    low_stock_threshold = threshold_field()

    class Meta:
        model = Stock
        fields = ["low_stock_threshold"]

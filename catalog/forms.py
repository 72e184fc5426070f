"""Forms of the stock screens. They only collect input: the stock services decide what is allowed."""

from django import forms

from catalog.models import StockMovement

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


class ReceiveStockForm(forms.Form):
    quantity = forms.IntegerField(help_text="Units that arrived.")
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        help_text="Delivery note, supplier, purchase order…",
    )

    def service_kwargs(self) -> dict:
        return {"quantity": self.cleaned_data["quantity"], "note": self.cleaned_data["note"]}


class AdjustStockForm(forms.Form):
    delta = forms.IntegerField(
        label="Change",
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

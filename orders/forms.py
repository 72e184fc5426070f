"""Forms of the order screens. They only collect input: the order services decide what is allowed."""

from django import forms

from orders.models import Shipment

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

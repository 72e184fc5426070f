"""Forms of the payment screens. They only collect input: the payment services decide what is allowed."""

from django import forms

from shop.core.form_fields import AmountField
from shop.core.money import format_money


class RefundPaymentForm(forms.Form):
    """How much to refund of one payment: typed in every time (nothing is filled in for staff to
    confirm by accident), then confirmed on a page of its own before it runs."""

    amount = AmountField(
        what="The refund",
        required=True,
        error_messages={"required": "Enter the amount to refund."},
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the order's timeline.",
    )

    def __init__(self, *args, payment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment = payment
        if payment is not None:
            left = format_money(payment.refundable_amount, payment.currency)
            self.fields["amount"].help_text = f"At most {left} is left to refund."
            self.fields["amount"].widget.attrs["max"] = str(payment.refundable_amount)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        payment = self.payment
        if payment is not None and amount is not None and amount > payment.refundable_amount:
            # The service checks again under the payment's lock; this says it before confirming.
            raise forms.ValidationError(
                f"Only {format_money(payment.refundable_amount, payment.currency)} is left to refund, "
                f"not {format_money(amount, payment.currency)}."
            )
        return amount

    def service_kwargs(self) -> dict:
        return {"amount": self.cleaned_data["amount"], "reason": self.cleaned_data["reason"]}

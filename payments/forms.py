"""Forms of the payment screens. They only collect input: the payment services decide what is allowed."""

from django import forms

from shop.core.money import MoneyField


class RefundPaymentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=MoneyField().max_digits,
        decimal_places=MoneyField().decimal_places,
        required=False,
        help_text="Leave empty to refund everything not yet refunded.",
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the order's timeline.",
    )

    def service_kwargs(self) -> dict:
        return {"amount": self.cleaned_data["amount"], "reason": self.cleaned_data["reason"]}

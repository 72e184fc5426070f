"""No field of PaymentMethod or Payment can hold a full card number; cards show masked."""

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from payments.models import Payment, PaymentMethod
from shop.core.validators import contains_card_number, luhn_valid
from tests.factories import PaymentFactory, PaymentMethodFactory, PayPalMethodFactory

# Luhn-valid numbers of every length from 13 to 19 digits, as typed in various ways.
CARD_NUMBERS = [
    "4222222222222",  # 13
    "4111111111111111",  # 16
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "378282246310005",  # 15, Amex
    "6011111111111117",
    "3530111333300000",
    "4000056655665556",
    "6250941006528599",  # 16
    "4111111111111111110",  # 19
]


def test_the_samples_are_card_numbers():
    for number in CARD_NUMBERS:
        digits = number.replace(" ", "").replace("-", "")
        assert 13 <= len(digits) <= 19 and luhn_valid(digits), number
        assert contains_card_number(f"ref {number} end")


def text_fields(model):
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, (models.CharField, models.TextField)) and f.concrete and not f.generated
    ]


def test_every_text_field_is_covered():
    assert set(text_fields(PaymentMethod)) >= {"holder_name", "gateway_token", "paypal_email", "last4"}
    assert set(text_fields(Payment)) >= {"method_label", "reference"}


@pytest.mark.django_db
@pytest.mark.parametrize("number", CARD_NUMBERS)
@pytest.mark.parametrize(
    "factory, field",
    [(PaymentMethodFactory, name) for name in text_fields(PaymentMethod)]
    + [(PayPalMethodFactory, "paypal_email")]
    + [(PaymentFactory, name) for name in text_fields(Payment)],
)
def test_model_validation_refuses_a_card_number_in_every_text_field(factory, field, number):
    obj = factory()
    value = f"{number}@example.com" if field == "paypal_email" else number
    setattr(obj, field, value)
    with pytest.raises(ValidationError) as excinfo:
        obj.full_clean()
    assert field in excinfo.value.error_dict


@pytest.mark.django_db
def test_cards_show_masked():
    card = PaymentMethodFactory(last4="1111", brand="visa", exp_month=3, exp_year=2031)
    assert str(card) == "Visa •••• 1111 exp 03/2031"
    assert card.gateway_token not in str(card)
    payment = PaymentFactory(method=card, method_label=card.label)
    assert "•••• 1111" in str(payment)


def test_no_column_can_hold_a_full_number():
    assert PaymentMethod._meta.get_field("last4").max_length == 4
    names = {f.name for f in PaymentMethod._meta.get_fields()}
    assert not names & {"number", "card_number", "pan", "cvv", "cvc", "security_code"}


# Through the admin: a superuser (who sees every field, the gateway token included) types a card
# number into each text field of the payment method form; each is refused and nothing is saved.
# Payments have no editable field in the admin at all (they are recorded by the services).


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["holder_name", "gateway_token", "paypal_email", "last4"])
@pytest.mark.parametrize("number", ["4111111111111111", "4222222222222", "4111111111111111110"])
def test_admin_form_refuses_a_card_number_in_every_text_field(admin_client, field, number):
    from tests.admin_support import admin_url, form_data
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    url = admin_url(PaymentMethod, "add")
    data = form_data(admin_client.get(url))
    data.update(
        customer=str(customer.pk),
        kind="paypal" if field == "paypal_email" else "card",
        brand="" if field == "paypal_email" else "visa",
        last4="" if field == "paypal_email" else "4242",
        exp_month="" if field == "paypal_email" else "12",
        exp_year="" if field == "paypal_email" else "2031",
        paypal_email="someone@example.com" if field == "paypal_email" else "",
    )
    data[field] = f"{number}@example.com" if field == "paypal_email" else number

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field), response.context["adminform"].form.errors
    assert not PaymentMethod.objects.exists()


@pytest.mark.django_db
def test_payments_cannot_be_edited_in_the_admin(admin_client):
    from tests.admin_support import admin_url

    payment = PaymentFactory()
    page = admin_client.get(admin_url(Payment, "change", payment.pk))
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields  # every field read-only
    assert admin_client.get(admin_url(Payment, "add")).status_code == 403

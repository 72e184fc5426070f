"""Database rules of payment methods and payments, checked below the services."""

from decimal import Decimal

import pytest
from django.db.models import F

from payments.models import Payment, PaymentMethod
from tests.assertions import refused_by_database
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    PaymentFactory,
    PaymentMethodFactory,
    PayPalMethodFactory,
)

pytestmark = pytest.mark.django_db

ONE_DEFAULT = ("payment_method_one_default", "default_key")
FIELDS_MATCH_KIND = "payment_method_fields_match_kind"
AMOUNT_POSITIVE = "payment_amount_positive"
REFUND_WITHIN_AMOUNT = "payment_refund_within_amount"


def card_fields(**overrides) -> dict:
    fields = {
        "kind": PaymentMethod.Kind.CARD,
        "brand": PaymentMethod.Brand.VISA,
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        "holder_name": "Ann Lee",
        "gateway_token": "tok_test_card",
    }
    return fields | overrides


def paypal_fields(**overrides) -> dict:
    fields = {"kind": PaymentMethod.Kind.PAYPAL, "paypal_email": "ann@example.com"}
    return fields | overrides


class TestDefaultPaymentMethod:
    def test_default_key_holds_the_customer_id_only_for_the_default(self):
        customer = CustomerFactory()
        default = PaymentMethodFactory(customer=customer, is_default=True)
        other = PaymentMethodFactory(customer=customer)
        default.refresh_from_db()
        other.refresh_from_db()

        assert default.default_key == customer.pk
        assert other.default_key is None

    def test_second_default_for_one_customer_is_refused(self):
        customer = CustomerFactory()
        PaymentMethodFactory(customer=customer, is_default=True)

        with refused_by_database(*ONE_DEFAULT):
            PaymentMethod.objects.create(customer=customer, is_default=True, **paypal_fields())

        assert customer.payment_methods.count() == 1

    def test_second_default_by_update_is_refused(self):
        customer = CustomerFactory()
        PaymentMethodFactory(customer=customer, is_default=True)
        other = PayPalMethodFactory(customer=customer)

        with refused_by_database(*ONE_DEFAULT):
            PaymentMethod.objects.filter(pk=other.pk).update(is_default=True)

    def test_two_customers_can_each_have_a_default_and_many_others(self):
        for customer in CustomerFactory.create_batch(2):
            PaymentMethodFactory(customer=customer, is_default=True)
            PaymentMethodFactory.create_batch(2, customer=customer)
            PayPalMethodFactory(customer=customer)

        assert PaymentMethod.objects.filter(is_default=True).count() == 2
        assert PaymentMethod.objects.count() == 8


class TestPaymentMethodFields:
    def test_complete_card_and_paypal_account_are_accepted(self):
        customer = CustomerFactory()

        PaymentMethod.objects.create(customer=customer, **card_fields())
        PaymentMethod.objects.create(customer=customer, **paypal_fields())

        assert customer.payment_methods.count() == 2

    @pytest.mark.parametrize(
        "missing",
        [
            {"brand": ""},
            {"last4": ""},
            {"last4": "424"},
            {"exp_month": None},
            {"exp_year": None},
            {"exp_month": None, "exp_year": None},
            {"exp_month": 13},
        ],
        ids=["brand", "last4", "last4-short", "exp_month", "exp_year", "expiry", "exp_month-13"],
    )
    def test_card_without_brand_last4_or_expiry_is_refused(self, missing):
        customer = CustomerFactory()

        with refused_by_database(FIELDS_MATCH_KIND):
            PaymentMethod.objects.create(customer=customer, **card_fields(**missing))

        assert not customer.payment_methods.exists()

    def test_card_expiry_cleared_by_update_is_refused(self):
        method = PaymentMethodFactory()

        with refused_by_database(FIELDS_MATCH_KIND):
            PaymentMethod.objects.filter(pk=method.pk).update(exp_month=None, exp_year=None)

    def test_paypal_without_email_is_refused(self):
        customer = CustomerFactory()

        with refused_by_database(FIELDS_MATCH_KIND):
            PaymentMethod.objects.create(customer=customer, **paypal_fields(paypal_email=""))

        assert not customer.payment_methods.exists()

    def test_paypal_email_cleared_by_update_is_refused(self):
        method = PayPalMethodFactory()

        with refused_by_database(FIELDS_MATCH_KIND):
            PaymentMethod.objects.filter(pk=method.pk).update(paypal_email="")

    def test_paypal_with_card_details_is_refused(self):
        with refused_by_database(FIELDS_MATCH_KIND):
            PaymentMethod.objects.create(customer=CustomerFactory(), **paypal_fields(last4="4242"))


class TestPayment:
    @pytest.mark.parametrize("amount", ["0.00", "-0.01", "-19.99"])
    def test_amount_not_above_zero_is_refused(self, amount):
        order = OrderFactory()

        # A negative amount also puts the zero refund above the amount; either rule refuses it.
        with refused_by_database(AMOUNT_POSITIVE, REFUND_WITHIN_AMOUNT):
            Payment.objects.create(order=order, amount=Decimal(amount))

        assert not order.payments.exists()

    def test_zero_amount_is_refused_by_the_amount_rule(self):
        with refused_by_database(AMOUNT_POSITIVE):
            Payment.objects.create(order=OrderFactory(), amount=Decimal("0.00"))

    def test_refund_above_the_amount_is_refused(self):
        with refused_by_database(REFUND_WITHIN_AMOUNT):
            Payment.objects.create(
                order=OrderFactory(), amount=Decimal("19.99"), refunded_amount=Decimal("20.00")
            )

    def test_refund_raised_above_the_amount_by_update_is_refused(self):
        payment = PaymentFactory(amount=Decimal("19.99"), refunded_amount=Decimal("10.00"))

        with refused_by_database(REFUND_WITHIN_AMOUNT):
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=F("refunded_amount") + Decimal("10.00")
            )

        payment.refresh_from_db()
        assert payment.refunded_amount == Decimal("10.00")

    def test_negative_refund_is_refused(self):
        with refused_by_database(REFUND_WITHIN_AMOUNT):
            Payment.objects.create(
                order=OrderFactory(), amount=Decimal("19.99"), refunded_amount=Decimal("-1")
            )

    def test_bulk_create_with_a_zero_amount_is_refused(self):
        order = OrderFactory()

        with refused_by_database(AMOUNT_POSITIVE):
            Payment.objects.bulk_create(
                [
                    Payment(order=order, amount=Decimal("5.00")),
                    Payment(order=order, amount=Decimal("0.00")),
                ]
            )

        assert not order.payments.exists()

    @pytest.mark.parametrize("refunded", ["0.00", "0.01", "19.99"])
    def test_refund_up_to_the_whole_amount_is_accepted(self, refunded):
        payment = PaymentFactory(amount=Decimal("19.99"), refunded_amount=Decimal(refunded))

        payment.refresh_from_db()
        assert payment.refunded_amount == Decimal(refunded)

    def test_partial_refunds_adding_up_to_the_whole_amount_are_accepted(self):
        payment = PaymentFactory(amount=Decimal("0.30"))

        for part in ("0.10", "0.20"):
            Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + Decimal(part))

        payment.refresh_from_db()
        assert payment.refunded_amount == Decimal("0.30")
        assert payment.net_amount == Decimal("0.00")

"""Database rules of customers and their addresses, checked below the forms and services."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Address, Customer
from tests.assertions import refused_by_database
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

EMAIL_UNIQUE = ("customer_email_unique_ci", "email_key")
ONE_DEFAULT_SHIPPING = ("address_one_default_shipping", "default_shipping_key")
ONE_DEFAULT_BILLING = ("address_one_default_billing", "default_billing_key")


def stored_phone(customer: Customer) -> str:
    """The phone column exactly as the database holds it, without the field's conversion."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {table} WHERE id = %s", [customer.pk])
        return cursor.fetchone()[0]


class TestCustomerEmail:
    def test_email_key_is_the_lower_cased_email(self):
        customer = Customer.objects.create(first_name="Ann", last_name="Lee", email="Ann.Lee@Example.COM")
        customer.refresh_from_db()

        assert customer.email == "Ann.Lee@Example.COM"
        assert customer.email_key == "ann.lee@example.com"

    def test_same_email_in_other_case_is_refused(self):
        Customer.objects.create(first_name="Ann", last_name="Lee", email="a@x.com")

        with refused_by_database(*EMAIL_UNIQUE):
            Customer.objects.create(first_name="Ann", last_name="Other", email="A@X.com")

        assert Customer.objects.count() == 1

    def test_same_email_in_same_case_is_refused(self):
        Customer.objects.create(first_name="Ann", last_name="Lee", email="a@x.com")

        with refused_by_database(*EMAIL_UNIQUE):
            Customer.objects.create(first_name="Ann", last_name="Other", email="a@x.com")

    def test_email_changed_by_update_to_another_customers_in_other_case_is_refused(self):
        CustomerFactory(email="a@x.com")
        other = CustomerFactory(email="b@x.com")

        with refused_by_database(*EMAIL_UNIQUE):
            Customer.objects.filter(pk=other.pk).update(email="A@x.COM")

        other.refresh_from_db()
        assert other.email == "b@x.com"

    def test_bulk_create_with_emails_differing_only_in_case_is_refused(self):
        with refused_by_database(*EMAIL_UNIQUE):
            Customer.objects.bulk_create(
                [
                    Customer(first_name="Ann", last_name="Lee", email="a@x.com"),
                    Customer(first_name="Ann", last_name="Lee", email="A@X.COM"),
                ]
            )

        assert not Customer.objects.exists()

    def test_different_emails_are_accepted(self):
        Customer.objects.create(first_name="Ann", last_name="Lee", email="a@x.com")
        Customer.objects.create(first_name="Bob", last_name="Lee", email="b@x.com")

        assert Customer.objects.count() == 2


class TestCustomerPhone:
    def test_seed_style_number_without_country_code_passes_full_clean(self):
        customer = CustomerFactory.build(phone="555-123-4567")

        customer.full_clean()

    def test_seed_style_number_is_stored_as_e164(self):
        customer = Customer.objects.create(
            first_name="Ann", last_name="Lee", email="ann@example.com", phone="555-123-4567"
        )

        assert stored_phone(customer) == "+15551234567"
        customer.refresh_from_db()
        assert customer.phone.as_e164 == "+15551234567"

    def test_valid_us_number_without_country_code_is_stored_as_e164(self):
        customer = CustomerFactory.build(phone="(202) 555-0143")
        customer.full_clean()
        customer.save()

        assert stored_phone(customer) == "+12025550143"

    @pytest.mark.parametrize("phone", ["12345", "not a phone", "+1 202 555 01"])
    def test_invalid_number_fails_full_clean(self, phone):
        customer = CustomerFactory.build(phone=phone)

        with pytest.raises(ValidationError) as excinfo:
            customer.full_clean()

        assert "phone" in excinfo.value.message_dict

    def test_phone_may_be_left_blank(self):
        customer = CustomerFactory.build(phone="")

        customer.full_clean()


class TestDefaultAddresses:
    def test_default_keys_hold_the_customer_id_only_when_the_flag_is_set(self):
        customer = CustomerFactory()
        default = AddressFactory(customer=customer, is_default_shipping=True, is_default_billing=True)
        other = AddressFactory(customer=customer)
        default.refresh_from_db()
        other.refresh_from_db()

        assert default.default_shipping_key == customer.pk
        assert default.default_billing_key == customer.pk
        assert other.default_shipping_key is None
        assert other.default_billing_key is None

    def test_second_default_shipping_address_is_refused(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_shipping=True)

        with refused_by_database(*ONE_DEFAULT_SHIPPING):
            Address.objects.create(
                customer=customer,
                line1="2 Other Road",
                city="Albany",
                postal_code="12207",
                country="US",
                is_default_shipping=True,
            )

        assert customer.addresses.count() == 1

    def test_second_default_billing_address_is_refused(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_billing=True)

        with refused_by_database(*ONE_DEFAULT_BILLING):
            Address.objects.create(
                customer=customer,
                line1="2 Other Road",
                city="Albany",
                postal_code="12207",
                country="US",
                is_default_billing=True,
            )

        assert customer.addresses.count() == 1

    def test_making_a_second_address_default_shipping_by_update_is_refused(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_shipping=True)
        second = AddressFactory(customer=customer)

        with refused_by_database(*ONE_DEFAULT_SHIPPING):
            Address.objects.filter(pk=second.pk).update(is_default_shipping=True)

    def test_making_a_second_address_default_billing_by_update_is_refused(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_billing=True)
        second = AddressFactory(customer=customer)

        with refused_by_database(*ONE_DEFAULT_BILLING):
            Address.objects.filter(pk=second.pk).update(is_default_billing=True)

    def test_bulk_create_of_two_default_shipping_addresses_is_refused(self):
        customer = CustomerFactory()

        with refused_by_database(*ONE_DEFAULT_SHIPPING):
            Address.objects.bulk_create(
                [
                    AddressFactory.build(customer=customer, is_default_shipping=True),
                    AddressFactory.build(customer=customer, is_default_shipping=True),
                ]
            )

        assert not customer.addresses.exists()

    def test_two_customers_can_each_have_a_default_shipping_and_billing_address(self):
        first, second = CustomerFactory.create_batch(2)
        AddressFactory(customer=first, is_default_shipping=True, is_default_billing=True)
        AddressFactory(customer=second, is_default_shipping=True)
        AddressFactory(customer=second, is_default_billing=True)

        assert Address.objects.filter(is_default_shipping=True).count() == 2
        assert Address.objects.filter(is_default_billing=True).count() == 2

    def test_a_customer_can_have_many_non_default_addresses(self):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_shipping=True, is_default_billing=True)
        AddressFactory.create_batch(3, customer=customer)
        Address.objects.bulk_create(AddressFactory.build_batch(2, customer=customer))

        assert customer.addresses.count() == 6

    def test_default_can_move_to_another_address_once_the_old_one_is_cleared(self):
        customer = CustomerFactory()
        old = AddressFactory(customer=customer, is_default_shipping=True)
        new = AddressFactory(customer=customer)

        Address.objects.filter(pk=old.pk).update(is_default_shipping=False)
        Address.objects.filter(pk=new.pk).update(is_default_shipping=True)

        new.refresh_from_db()
        assert new.default_shipping_key == customer.pk
        assert customer.addresses.filter(is_default_shipping=True).get() == new

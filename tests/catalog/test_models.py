"""Database rules of products, product types and stock, checked below the services."""

from decimal import Decimal

import pytest
from django.db.models import F

from catalog.models import Product, ProductType, Stock
from tests.assertions import refused_by_database
from tests.factories import ProductFactory, ProductTypeFactory

pytestmark = pytest.mark.django_db

ON_HAND_NOT_NEGATIVE = "stock_on_hand_not_negative"
ALLOCATED_NOT_NEGATIVE = "stock_allocated_not_negative"
ALLOCATED_WITHIN_ON_HAND = "stock_allocated_within_on_hand"
THRESHOLD_NOT_NEGATIVE = "stock_threshold_not_negative"


def product_without_stock() -> Product:
    product = ProductFactory()
    Stock.objects.filter(product=product).delete()
    return product


class TestProductType:
    def test_duplicate_name_is_refused(self):
        ProductType.objects.create(name="Books")

        with refused_by_database("name"):
            ProductType.objects.create(name="Books")

        assert ProductType.objects.filter(name="Books").count() == 1


class TestProduct:
    def test_negative_price_is_refused(self):
        product_type = ProductTypeFactory()

        with refused_by_database("product_price_not_negative"):
            Product.objects.create(name="Mug", sku="MUG-1", product_type=product_type, price=Decimal("-0.01"))

    def test_price_lowered_below_zero_by_update_is_refused(self):
        product = ProductFactory(price=Decimal("5.00"))

        with refused_by_database("product_price_not_negative"):
            Product.objects.filter(pk=product.pk).update(price=F("price") - Decimal("5.01"))

        product.refresh_from_db()
        assert product.price == Decimal("5.00")

    def test_zero_price_is_accepted(self):
        product = Product.objects.create(
            name="Sticker", sku="STICK-1", product_type=ProductTypeFactory(), price=Decimal("0.00")
        )

        product.refresh_from_db()
        assert product.price == Decimal("0.00")

    def test_duplicate_sku_is_refused(self):
        ProductFactory(sku="MUG-1")

        with refused_by_database("sku"):
            Product.objects.create(name="Other mug", sku="MUG-1", product_type=ProductTypeFactory(), price=1)

        assert Product.objects.filter(sku="MUG-1").count() == 1

    def test_bulk_create_with_a_duplicate_sku_is_refused(self):
        product_type = ProductTypeFactory()

        with refused_by_database("sku"):
            Product.objects.bulk_create(
                [
                    Product(name="Mug", sku="MUG-1", product_type=product_type, price=1),
                    Product(name="Cup", sku="MUG-1", product_type=product_type, price=1),
                ]
            )

        assert not Product.objects.exists()


class TestStock:
    def test_negative_on_hand_is_refused(self):
        product = product_without_stock()

        # With nothing allocated, a negative on-hand also breaks "allocated within on hand";
        # either name shows that the database refused the row.
        with refused_by_database(ON_HAND_NOT_NEGATIVE, ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.create(product=product, on_hand=-1, allocated=0)

        assert not Stock.objects.filter(product=product).exists()

    def test_negative_allocated_is_refused(self):
        product = product_without_stock()

        with refused_by_database(ALLOCATED_NOT_NEGATIVE):
            Stock.objects.create(product=product, on_hand=5, allocated=-1)

    def test_allocated_above_on_hand_is_refused(self):
        product = product_without_stock()

        with refused_by_database(ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.create(product=product, on_hand=5, allocated=6)

    def test_negative_threshold_is_refused(self):
        product = product_without_stock()

        with refused_by_database(THRESHOLD_NOT_NEGATIVE):
            Stock.objects.create(product=product, on_hand=5, low_stock_threshold=-1)

    def test_bulk_create_with_allocated_above_on_hand_is_refused(self):
        first, second = product_without_stock(), product_without_stock()

        with refused_by_database(ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.bulk_create(
                [Stock(product=first, on_hand=5, allocated=5), Stock(product=second, on_hand=5, allocated=6)]
            )

        assert not Stock.objects.filter(product__in=[first, second]).exists()

    def test_update_taking_on_hand_below_zero_is_refused(self):
        product = ProductFactory(stock=3)

        with refused_by_database(ON_HAND_NOT_NEGATIVE, ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.filter(product=product).update(on_hand=F("on_hand") - 4)

        assert Stock.objects.get(product=product).on_hand == 3

    def test_update_taking_allocated_below_zero_is_refused(self):
        product = ProductFactory(stock=10, stock__allocated=2)

        with refused_by_database(ALLOCATED_NOT_NEGATIVE):
            Stock.objects.filter(product=product).update(allocated=F("allocated") - 3)

        assert Stock.objects.get(product=product).allocated == 2

    def test_update_allocating_more_than_on_hand_is_refused(self):
        product = ProductFactory(stock=10, stock__allocated=8)

        with refused_by_database(ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.filter(product=product).update(allocated=F("allocated") + 3)

        assert Stock.objects.get(product=product).allocated == 8

    def test_update_taking_on_hand_below_allocated_is_refused(self):
        product = ProductFactory(stock=10, stock__allocated=8)

        with refused_by_database(ALLOCATED_WITHIN_ON_HAND):
            Stock.objects.filter(product=product).update(on_hand=F("on_hand") - 3)

        assert Stock.objects.get(product=product).on_hand == 10

    def test_update_to_negative_threshold_is_refused(self):
        product = ProductFactory(stock=10)

        with refused_by_database(THRESHOLD_NOT_NEGATIVE):
            Stock.objects.filter(product=product).update(low_stock_threshold=-1)

    def test_fully_allocated_stock_and_zero_threshold_are_accepted(self):
        product = ProductFactory(stock=4, stock__allocated=0, stock__threshold=0)

        Stock.objects.filter(product=product).update(allocated=F("on_hand"))

        stock = Stock.objects.get(product=product)
        assert (stock.on_hand, stock.allocated, stock.low_stock_threshold) == (4, 4, 0)

    def test_empty_stock_is_accepted(self):
        product = product_without_stock()

        Stock.objects.create(product=product, on_hand=0, allocated=0, low_stock_threshold=0)

        assert Stock.objects.get(product=product).available == 0

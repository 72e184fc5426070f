"""factory-boy factories for every model. Stock goes through the model here (tests set up
states directly); the code under test changes it only through the services."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders.models import Carrier, Order, OrderEvent, OrderLine, Shipment
from payments.models import Payment, PaymentMethod


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@shop.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_superuser = True


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    state = "NY"
    postal_code = factory.Faker("postcode")
    country = "US"


class ProductTypeFactory(DjangoModelFactory):
    class Meta:
        model = ProductType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Type {n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    product_type = factory.SubFactory(ProductTypeFactory)
    price = Decimal("19.99")
    currency = "USD"

    @factory.post_generation
    def stock(obj, create, extracted, **kwargs):
        """`ProductFactory(stock=10)` creates its stock row with 10 on hand (default 0)."""
        if create:
            Stock.objects.create(
                product=obj,
                on_hand=extracted or 0,
                allocated=kwargs.get("allocated", 0),
                low_stock_threshold=kwargs.get("threshold", 5),
            )


class StockMovementFactory(DjangoModelFactory):
    class Meta:
        model = StockMovement

    product = factory.SubFactory(ProductFactory)
    kind = StockMovement.Kind.RECEIPT
    on_hand_delta = 10


class PaymentMethodFactory(DjangoModelFactory):
    class Meta:
        model = PaymentMethod

    customer = factory.SubFactory(CustomerFactory)
    kind = PaymentMethod.Kind.CARD
    brand = PaymentMethod.Brand.VISA
    last4 = factory.Sequence(lambda n: f"{n % 10000:04d}")
    exp_month = 12
    exp_year = factory.LazyFunction(lambda: timezone.now().year + 2)
    holder_name = "Test Holder"
    gateway_token = factory.Sequence(lambda n: f"tok_test_{n}")


class PayPalMethodFactory(PaymentMethodFactory):
    kind = PaymentMethod.Kind.PAYPAL
    brand = ""
    last4 = ""
    exp_month = None
    exp_year = None
    gateway_token = ""
    holder_name = ""
    paypal_email = factory.LazyAttribute(lambda o: o.customer.email)


class OrderFactory(DjangoModelFactory):
    """An order row without lines; use services.order_place for a real, allocated order."""

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"TEST-{n:06d}")
    subtotal = Decimal("0.00")
    shipping_cost = Decimal("0.00")
    total = Decimal("0.00")
    shipping_name = factory.LazyAttribute(lambda o: o.customer.full_name)
    shipping_line1 = "1 Test Street"
    shipping_city = "Springfield"
    shipping_state = "IL"
    shipping_postal_code = "62701"
    shipping_country = "US"


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.LazyAttribute(lambda o: o.product.name)
    sku = factory.LazyAttribute(lambda o: o.product.sku)
    unit_price = factory.LazyAttribute(lambda o: o.product.price)
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class CarrierFactory(DjangoModelFactory):
    """UPS by default: one of the standard carriers every migrated (or flushed) database has."""

    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = "ups"
    name = factory.LazyAttribute(lambda o: o.code.upper())
    tracking_url = "https://www.ups.com/track?tracknum={tracking_number}"


class ShipmentFactory(DjangoModelFactory):
    """A shipment row as such (no lines, counters untouched); order_ship makes real ones."""

    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory, status=Order.Status.SHIPPED)
    carrier = factory.SubFactory(CarrierFactory)
    tracking_number = factory.Sequence(lambda n: f"1Z{n:016d}")
    shipped_at = factory.LazyFunction(timezone.now)


class OrderEventFactory(DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    kind = OrderEvent.Kind.NOTE
    message = "Customer called about delivery."


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    method = factory.SubFactory(PaymentMethodFactory, customer=factory.SelfAttribute("..order.customer"))
    method_label = factory.LazyAttribute(lambda o: o.method.label if o.method else "")
    amount = Decimal("19.99")
    currency = "USD"
    status = Payment.Status.CAPTURED
    reference = factory.Sequence(lambda n: f"ch_test_{n}")

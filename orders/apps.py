from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"

    def ready(self):
        # Payments are made for orders, but the payments app imports nothing of orders: it is
        # handed the order side of a payment here.
        from orders.services import ORDER_PAYMENTS
        from payments.services import connect_order_side

        connect_order_side(ORDER_PAYMENTS)

        from django.db.models.signals import post_migrate

        from orders.carriers import seed_standard_carriers

        post_migrate.connect(seed_standard_carriers, sender=self, dispatch_uid="orders.carriers")

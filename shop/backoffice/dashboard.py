"""The figures on the admin dashboard. Reads only, and each function costs a fixed number of
queries however many rows there are: everything is counted and summed in the database.

Definitions, shown to staff beside the figures:

- An order counts on the day it was placed (`Order.created_at`), in the store's time zone
  (`settings.TIME_ZONE`); "today" is `timezone.localdate()`.
- Orders: orders placed that day, cancelled ones and drafts excluded.
- Revenue: the sum of those orders' totals (goods and shipping) in the store currency,
  `settings.SHOP_CURRENCY`. A cancelled order is refunded in full, so it is left out; partial
  refunds on orders that go ahead are not deducted.
- Awaiting shipment: paid orders with units still to ship, partially shipped ones included
  (`Order.objects.awaiting_shipment()`).
- Low / out of stock: active products, by `Product.objects.low_stock()` / `out_of_stock()`.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Product
from orders.models import Order, OrderStatus
from shop.core.money import quantize

SALES_DAYS = 30
# The statuses whose orders count as sales: every one but cancelled, and but draft (a draft
# is not an order yet: no stock held, no money taken).
SALES_STATUSES = tuple(
    status for status in OrderStatus.values if status not in (OrderStatus.CANCELLED, OrderStatus.DRAFT)
)


@dataclass(frozen=True)
class DaySales:
    day: datetime.date
    orders: int
    # None when revenue was not asked for: the caller may not show it.
    revenue: Decimal | None


@dataclass(frozen=True)
class SalesSummary:
    """Orders and revenue per day, oldest first, every day of the period present (zero-filled)."""

    days: list[DaySales]
    currency: str

    @property
    def first_day(self) -> datetime.date:
        return self.days[0].day

    @property
    def today(self) -> DaySales:
        return self.days[-1]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def revenue(self) -> Decimal | None:
        if self.today.revenue is None:
            return None
        return sum((day.revenue for day in self.days), Decimal("0.00"))


@dataclass(frozen=True)
class StockAlerts:
    low: int
    out: int


def local_today() -> datetime.date:
    """Today in the store's time zone (a function, so tests can pin the date)."""
    return timezone.localdate()


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The aware datetime at which `day` starts in the store's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def sales_by_day(*, days: int = SALES_DAYS, with_revenue: bool) -> SalesSummary:
    """Orders (and, when asked, revenue) per day for the `days` days ending today. One query."""
    last = local_today()
    first = last - datetime.timedelta(days=days - 1)
    currency = settings.SHOP_CURRENCY
    aggregates = {"orders": Count("pk")}
    if with_revenue:
        aggregates["revenue"] = Sum("total", filter=Q(currency=currency))
    rows = (
        Order.objects.filter(
            status__in=SALES_STATUSES,
            created_at__gte=local_midnight(first),
            created_at__lt=local_midnight(last + datetime.timedelta(days=1)),
        )
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**aggregates)
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        row = by_day.get(day, {})
        revenue = quantize(row.get("revenue") or 0) if with_revenue else None
        series.append(DaySales(day=day, orders=row.get("orders", 0), revenue=revenue))
    return SalesSummary(days=series, currency=currency)


def orders_awaiting_shipment_count() -> int:
    """Paid orders with units still to ship (partially shipped ones too). One query."""
    return Order.objects.awaiting_shipment().count()


def stock_alerts() -> StockAlerts:
    """How many active products are low on stock, and how many are out of it. Two queries."""
    active = Product.objects.active()
    return StockAlerts(low=active.low_stock().count(), out=active.out_of_stock().count())

"""Cross-table rules the services keep, checked from the data alone.

Used by the tests, the soak run and `manage.py check_integrity`. Each query aggregates in the
database, so a check over a million orders stays a handful of statements.
"""

from decimal import Decimal

from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Round

from catalog.models import Stock, StockMovement
from orders.models import (
    OPEN_STATUSES,
    Order,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from payments.models import Payment

# Statuses in which every unit of the order has left (what may follow is a return).
WHOLLY_SHIPPED = (
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.RETURNED,
)
# Statuses in which nothing has left yet.
NOTHING_SHIPPED = (OrderStatus.DRAFT, OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.CANCELLED)


def find_violations(limit: int = 50) -> list[str]:
    """Return a description of every broken rule found (empty when all hold)."""
    problems: list[str] = []

    ledger = {
        row["product_id"]: (row["on_hand"], row["allocated"])
        for row in StockMovement.objects.values("product_id").annotate(
            on_hand=Sum("on_hand_delta"), allocated=Sum("allocated_delta")
        )
    }
    # What open orders hold: for each line, ordered and not yet shipped.
    held = dict(
        OrderLine.objects.filter(order__status__in=OPEN_STATUSES)
        .values("product_id")
        .annotate(q=Sum(F("quantity") - F("quantity_shipped")))
        .values_list("product_id", "q")
    )
    for stock in Stock.objects.only("product_id", "on_hand", "allocated").iterator():
        pk = stock.product_id
        ledger_on_hand, ledger_allocated = ledger.pop(pk, (0, 0))
        if stock.on_hand != ledger_on_hand:
            problems.append(f"product {pk}: on hand {stock.on_hand} but the ledger sums to {ledger_on_hand}")
        if stock.allocated != ledger_allocated:
            problems.append(
                f"product {pk}: allocated {stock.allocated} but the ledger sums to {ledger_allocated}"
            )
        if stock.allocated != held.get(pk, 0):
            problems.append(
                f"product {pk}: allocated {stock.allocated} but open orders hold {held.get(pk, 0)}"
            )
        if stock.on_hand < stock.allocated:
            problems.append(f"product {pk}: available {stock.on_hand - stock.allocated} < 0")
        if len(problems) >= limit:
            return problems
    for pk in ledger:
        if ledger[pk] != (0, 0):
            problems.append(f"product {pk}: ledger rows but no stock row")

    problems += _fulfilment_violations(limit)
    if len(problems) >= limit:
        return problems[:limit]

    zero = Decimal("0")
    orders = Order.objects.annotate(
        lines_total=Coalesce(Sum("lines__line_total"), zero),
    ).exclude(subtotal=Round(F("lines_total"), 2))
    for order in orders[:limit]:
        problems.append(
            f"order {order.number}: subtotal {order.subtotal} but its lines sum to {order.lines_total}"
        )
    for order in Order.objects.exclude(total=Round(F("subtotal") + F("shipping_cost"), 2))[:limit]:
        problems.append(f"order {order.number}: total is not subtotal + shipping")
    paid = Order.objects.annotate(
        captured=Round(
            Coalesce(
                Sum(
                    "payments__amount",
                    filter=Q(payments__status__in=[Payment.Status.CAPTURED, Payment.Status.REFUNDED]),
                ),
                zero,
            ),
            2,
        ),
        refunded=Round(Coalesce(Sum("payments__refunded_amount"), zero), 2),
    ).filter(captured__gt=Round(F("total") + F("refunded"), 2))
    # A draft holds no stock and takes no money (its lines are left out of `held` above).
    drafts = Order.objects.drafts()
    for number in (
        drafts.filter(payments__isnull=False)
        .order_by("number")
        .values_list("number", flat=True)
        .distinct()[:limit]
    ):
        problems.append(f"order {number}: a draft, yet it has payments")
    moved = StockMovement.objects.filter(order_number__in=drafts.values("number"))
    for number in moved.order_by("order_number").values_list("order_number", flat=True).distinct()[:limit]:
        problems.append(f"order {number}: a draft, yet it has stock ledger rows")
    for order in paid[:limit]:
        problems.append(
            f"order {order.number}: captured {order.captured} − refunded {order.refunded} "
            f"exceeds the total {order.total}"
        )
    return problems[:limit]


def _sum_of(model):
    """The quantities of `model`'s rows (shipment or return lines) for the outer order line."""
    rows = model.objects.filter(order_line=OuterRef("pk")).order_by().values("order_line")
    return Coalesce(
        Subquery(rows.annotate(total=Sum("quantity")).values("total")), 0, output_field=IntegerField()
    )


def _fulfilment_violations(limit: int) -> list[str]:
    """Shipments and returns: the line counters against their rows, the statuses against the
    counters, and what returns refunded against what the payments did."""
    problems: list[str] = []
    lines = OrderLine.objects.order_by("order_id", "pk")
    for number, sku, quantity, shipped, returned in lines.exclude(
        quantity_returned__gte=0,
        quantity_shipped__gte=F("quantity_returned"),
        quantity__gte=F("quantity_shipped"),
    ).values_list("order__number", "sku", "quantity", "quantity_shipped", "quantity_returned")[:limit]:
        problems.append(
            f"order {number}, {sku}: {quantity} ordered, {shipped} shipped, {returned} returned "
            "(a line ships at most what was ordered and takes back at most what shipped)"
        )
    counted = lines.annotate(in_shipments=_sum_of(ShipmentLine), in_returns=_sum_of(ReturnLine))
    for number, sku, shipped, in_shipments in counted.exclude(quantity_shipped=F("in_shipments")).values_list(
        "order__number", "sku", "quantity_shipped", "in_shipments"
    )[:limit]:
        problems.append(
            f"order {number}, {sku}: {shipped} counted shipped but its shipments hold {in_shipments}"
        )
    for number, sku, returned, in_returns in counted.exclude(quantity_returned=F("in_returns")).values_list(
        "order__number", "sku", "quantity_returned", "in_returns"
    )[:limit]:
        problems.append(
            f"order {number}, {sku}: {returned} counted returned but its returns hold {in_returns}"
        )

    orders = Order.objects.all()
    unshipped_line = OrderLine.objects.filter(order=OuterRef("pk"), quantity__gt=F("quantity_shipped"))
    shipped_line = OrderLine.objects.filter(order=OuterRef("pk"), quantity_shipped__gt=0)
    unreturned_line = OrderLine.objects.filter(order=OuterRef("pk"), quantity__gt=F("quantity_returned"))
    returned_line = OrderLine.objects.filter(order=OuterRef("pk"), quantity_returned__gt=0)
    in_transit = Shipment.objects.filter(order=OuterRef("pk"), status=Shipment.Status.IN_TRANSIT)
    rules = [
        (
            orders.filter(Exists(unshipped_line), status__in=WHOLLY_SHIPPED),
            "{status}, yet some units were never shipped",
        ),
        (orders.filter(Exists(shipped_line), status__in=NOTHING_SHIPPED), "{status}, yet units were shipped"),
        (
            orders.filter(status=OrderStatus.PARTIALLY_SHIPPED).exclude(
                Exists(shipped_line) & Exists(unshipped_line)
            ),
            "partially shipped, yet either nothing or everything was shipped",
        ),
        (
            orders.filter(status=OrderStatus.DELIVERED).filter(Exists(in_transit)),
            "delivered, yet a shipment is in transit",
        ),
        (
            orders.filter(status=OrderStatus.RETURNED).filter(Exists(unreturned_line)),
            "returned, yet some units did not come back",
        ),
        (
            orders.filter(status=OrderStatus.PARTIALLY_RETURNED).exclude(
                Exists(returned_line) & Exists(unreturned_line)
            ),
            "partially returned, yet either nothing or everything came back",
        ),
        (
            orders.exclude(status__in=(OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED)).filter(
                Exists(returned_line)
            ),
            "{status}, yet units were returned",
        ),
    ]
    labels = dict(OrderStatus.choices)
    for queryset, text in rules:
        for number, status in queryset.order_by("number").values_list("number", "status")[:limit]:
            problems.append(f"order {number}: " + text.format(status=str(labels.get(status, status)).lower()))

    zero = Decimal("0")
    refunded_by_returns = (
        Return.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(t=Sum("refunded_amount"))
    )
    refunded_by_payments = (
        Payment.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(t=Sum("refunded_amount"))
    )
    overrefunded = (
        Order.objects.filter(Exists(Return.objects.filter(order=OuterRef("pk"))))
        .annotate(
            by_returns=Round(Coalesce(Subquery(refunded_by_returns.values("t")), zero), 2),
            by_payments=Round(Coalesce(Subquery(refunded_by_payments.values("t")), zero), 2),
        )
        .filter(by_returns__gt=F("by_payments"))
    )
    for order in overrefunded.order_by("number")[:limit]:
        problems.append(
            f"order {order.number}: its returns refunded {order.by_returns:.2f}, more than its "
            f"payments were refunded ({order.by_payments:.2f})"
        )
    return problems[:limit]

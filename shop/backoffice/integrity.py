"""Cross-table rules the services keep, checked from the data alone.

Used by the tests, the soak run and `manage.py check_integrity`. Each query aggregates in the
database, so a check over a million orders stays a handful of statements.
"""

from decimal import Decimal

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce, Round

from catalog.models import Stock, StockMovement
from orders.models import OPEN_STATUSES, Order, OrderLine
from payments.models import Payment


def find_violations(limit: int = 50) -> list[str]:
    """Return a description of every broken rule found (empty when all hold)."""
    problems: list[str] = []

    ledger = {
        row["product_id"]: (row["on_hand"], row["allocated"])
        for row in StockMovement.objects.values("product_id").annotate(
            on_hand=Sum("on_hand_delta"), allocated=Sum("allocated_delta")
        )
    }
    held = dict(
        OrderLine.objects.filter(order__status__in=OPEN_STATUSES)
        .values("product_id")
        .annotate(q=Sum("quantity"))
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

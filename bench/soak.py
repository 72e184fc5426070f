"""Soak run: 10,000 operations from 8 concurrent worker processes on PostgreSQL (placing, paying,
shipping whole and in part, delivering, cancelling, refunding, taking back returns, receiving
stock), then every cross-table rule is checked and the outcome of each kind of operation is
counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_soak python -m bench.soak [--ops 10000] [--workers 8]

The database must be migrated; the run adds its own products, customers and orders to it.
Exits non-zero if any rule is broken or any operation failed with something other than a
refusal the shop explains (a ShopError).
"""

import argparse
import collections
import multiprocessing
import os
import random
import sys
import time
from decimal import ROUND_DOWN, Decimal

WEIGHTS = {
    "place": 34,
    "pay": 14,
    "ship": 8,  # everything left to ship (paid or partially shipped orders)
    "ship part": 7,  # some units of one or two lines
    "deliver": 8,  # one shipment in transit
    "cancel": 6,
    "refund": 4,
    "return": 9,  # some shipped units: restocked or written off, refunded or not
    "receive": 10,
}
CARRIERS = ("ups", "usps", "fedex", "dhl", "royal-mail", "courier")


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()


def prepare(products: int, customers: int, tag: str):
    from catalog.models import ProductType
    from catalog.services import product_create
    from customers.models import Address, Customer
    from payments.models import PaymentMethod

    kind, _ = ProductType.objects.get_or_create(name="Soak")
    product_ids = [
        product_create(
            name=f"Soak product {i}",
            sku=f"SOAK-{tag}-{i}",
            product_type=kind,
            price=f"{5 + i % 40}.99",
            initial_stock=random.Random(i).randint(5, 40),
        ).pk
        for i in range(products)
    ]
    customer_ids = []
    for i in range(customers):
        customer = Customer.objects.create(
            first_name="Soak", last_name=f"Customer {i}", email=f"soak-{tag}-{i}@example.com"
        )
        Address.objects.create(
            customer=customer,
            line1=f"{i} Soak Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
            country="US",
            is_default_shipping=True,
        )
        PaymentMethod.objects.create(
            customer=customer,
            kind="card",
            brand="visa",
            last4=f"{i % 10000:04d}",
            exp_month=12,
            exp_year=2035,
            gateway_token=f"tok_soak_{tag}_{i}",
            is_default=True,
        )
        customer_ids.append(customer.pk)
    return product_ids, customer_ids


def _pick_order(statuses, rng):
    """A random order in one of `statuses` (a status or a list of them), or None."""
    from orders.models import Order

    orders = Order.objects.filter(status__in=[statuses] if isinstance(statuses, str) else statuses)
    first = orders.order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        return None
    # Other workers move orders on meanwhile: the last may be gone (or before the first) by now.
    last = orders.order_by("-pk").values_list("pk", flat=True).first() or first
    start = rng.randint(first, max(first, last))
    return orders.filter(pk__gte=start).order_by("pk").first()


def _carrier(order, rng):
    code = rng.choice(CARRIERS)
    return code, "" if code == "courier" else f"1ZSOAK{order.pk}{rng.randint(100, 999)}"


def _some_units(order, rng, left):
    """(line, quantity) for one or two of the order's lines with units `left(line)`."""
    lines = [line for line in order.lines.all() if left(line)]
    chosen = rng.sample(lines, min(len(lines), rng.randint(1, 2)))
    return [(line, rng.randint(1, left(line))) for line in chosen]


def worker(index, ops, product_ids, customer_ids, seed, results):
    _setup_django()
    from django.db import connection

    from catalog.models import Product
    from catalog.services import stock_receive
    from customers.models import Customer
    from orders.models import Shipment
    from orders.services import order_cancel, order_deliver, order_place, order_return, order_ship
    from payments.models import Payment
    from payments.services import payment_capture, payment_refund
    from shop.core.exceptions import ShopError

    rng = random.Random(seed * 1000 + index)
    counts = collections.Counter()
    kinds, weights = zip(*WEIGHTS.items(), strict=True)
    for _ in range(ops):
        op = rng.choices(kinds, weights)[0]
        try:
            if op == "place":
                customer = Customer.objects.get(pk=rng.choice(customer_ids))
                chosen = rng.sample(product_ids, rng.randint(1, 3))
                lines = [(p, rng.randint(1, 3)) for p in Product.objects.filter(pk__in=chosen)]
                order_place(customer=customer, lines=lines, payment_method=customer.payment_methods.first())
            elif op == "pay":
                order = _pick_order("placed", rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                payment_capture(order=order, reference=f"soak-{index}")
            elif op in ("ship", "ship part"):
                order = _pick_order(["paid", "partially_shipped"], rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                carrier, number = _carrier(order, rng)
                lines = None
                if op == "ship part":
                    lines = _some_units(order, rng, lambda line: line.quantity_to_ship)
                order_ship(order=order, carrier=carrier, tracking_number=number, lines=lines)
            elif op == "deliver":
                order = _pick_order(["partially_shipped", "shipped", "partially_returned"], rng)
                in_transit = order and list(order.shipments.filter(status=Shipment.Status.IN_TRANSIT))
                if not in_transit:
                    counts[(op, "nothing to do")] += 1
                    continue
                order_deliver(order=order, shipment=rng.choice(in_transit))
            elif op == "return":
                order = _pick_order(["shipped", "delivered", "partially_returned"], rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                lines = _some_units(order, rng, lambda line: line.quantity_returnable)
                if rng.random() < 0.2:  # decided per line: some restocked, some written off
                    lines = [(line, quantity, rng.random() < 0.5) for line, quantity in lines]
                order_return(
                    order=order,
                    lines=lines,
                    restock=rng.random() < 0.8,
                    refund=rng.random() < 0.7,
                    refund_shipping=rng.random() < 0.2,
                    reason="soak",
                )
            elif op == "cancel":
                order = _pick_order(rng.choice(["placed", "paid"]), rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                order_cancel(order=order, reason="soak")
            elif op == "refund":
                payment = (
                    Payment.objects.filter(status="captured", order__status="delivered").order_by("?").first()
                )
                if payment is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                half = (payment.refundable_amount / 2).quantize(Decimal("0.01"), ROUND_DOWN)
                payment_refund(payment=payment, amount=half or None)
            elif op == "receive":
                stock_receive(
                    product=Product.objects.get(pk=rng.choice(product_ids)),
                    quantity=rng.randint(1, 10),
                )
            counts[(op, "ok")] += 1
        except ShopError as error:
            counts[(op, f"refused: {type(error).__name__}")] += 1
        except Exception as error:
            counts[(op, f"ERROR: {type(error).__name__}: {error}"[:120])] += 1
    connection.close()
    results.put(dict(counts))


def _order_statuses() -> str:
    """How many orders, shipments and returns the run left, by status."""
    from django.db.models import Count

    from orders.models import Order, Return, Shipment

    statuses = Order.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    shipments = Shipment.objects.count()
    several = Order.objects.annotate(n=Count("shipment")).filter(n__gt=1).count()
    return (
        "orders: " + ", ".join(f"{status} {n}" for status, n in statuses) + f"; {shipments} shipments "
        f"({several} orders shipped in several), {Return.objects.count()} returns"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    _setup_django()
    from django.db import connection

    from shop.backoffice.integrity import find_violations

    if connection.vendor != "postgresql":
        sys.exit("The soak run needs PostgreSQL: set DATABASE_URL=postgres://...")
    random.seed(args.seed)
    tag = f"{args.seed}-{int(time.time())}"
    product_ids, customer_ids = prepare(args.products, args.customers, tag)
    connection.close()

    results = multiprocessing.get_context("fork").Queue()
    per_worker = [args.ops // args.workers + (i < args.ops % args.workers) for i in range(args.workers)]
    started = time.monotonic()
    processes = [
        multiprocessing.get_context("fork").Process(
            target=worker, args=(i, per_worker[i], product_ids, customer_ids, args.seed, results)
        )
        for i in range(args.workers)
    ]
    for process in processes:
        process.start()
    totals = collections.Counter()
    for _ in processes:
        totals.update(results.get(timeout=3600))
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started

    print(
        f"\n{sum(totals.values())} operations from {args.workers} workers in {elapsed:.1f} s "
        f"({sum(totals.values()) / elapsed:.0f} ops/s)\n"
    )
    print(f"{'operation':<10} {'outcome':<48} {'count':>7}")
    for (op, outcome), count in sorted(totals.items()):
        print(f"{op:<10} {outcome:<48} {count:>7}")
    print(f"\n{_order_statuses()}")
    problems = find_violations()
    errors = sum(count for (_, outcome), count in totals.items() if outcome.startswith("ERROR"))
    print(f"\ninvariants: {'all hold' if not problems else f'{len(problems)} broken'}; errors: {errors}")
    for problem in problems:
        print("  ", problem)
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())

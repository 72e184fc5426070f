"""The admin dashboard (the admin index): right figures for known data, only the figures each role
may see, links to the admin lists that hold exactly what each figure counts, and a query count
that does not grow with the data."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from shop.backoffice import dashboard
from shop.backoffice.charts import bar_chart, nice_step
from tests.factories import OrderFactory, ProductFactory, SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
MORE_ORDERS = 65
# The figures for `known_data`.
ORDERS_TODAY = 2
REVENUE_TODAY = "30.50"
ORDERS_30_DAYS = 6
REVENUE_30_DAYS = "154.75"
AWAITING_SHIPMENT = 3  # paid, and partially shipped
LOW_STOCK = 1
OUT_OF_STOCK = 2

ORDER_CARDS = {"awaiting_shipment", "orders_today", "orders_period"}
REVENUE_CARDS = {"revenue_today", "revenue_period"}
STOCK_CARDS = {"low_stock", "out_of_stock"}


@pytest.fixture
def today(monkeypatch):
    """Today in the store's time zone, pinned: a test running over midnight keeps its day."""
    day = dashboard.local_today()
    monkeypatch.setattr(dashboard, "local_today", lambda: day)
    return day


def order_on(day: datetime.date, total: str, status=Order.Status.PLACED, *, hour: float = 12, **kwargs):
    """An order placed on `day` (store time zone) at `hour` o'clock, with this total."""
    amount = Decimal(total)
    order = OrderFactory(status=status, subtotal=amount, shipping_cost=0, total=amount, **kwargs)
    placed = dashboard.local_midnight(day) + datetime.timedelta(hours=hour)
    # created_at is auto_now_add: only an update can backdate it.
    Order.objects.filter(pk=order.pk).update(created_at=placed)
    return order


@pytest.fixture
def known_data(today):
    days_ago = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    order_on(today, "10.00", hour=0.01)
    order_on(today, "20.50", Order.Status.PAID)
    order_on(today, "99.00", Order.Status.CANCELLED)
    order_on(days_ago(1), "5.25", Order.Status.SHIPPED, hour=23.99)
    order_on(days_ago(3), "7.00", Order.Status.PAID)
    order_on(days_ago(4), "12.00", Order.Status.PARTIALLY_SHIPPED)  # the rest still to ship
    order_on(days_ago(29), "100.00", Order.Status.DELIVERED, hour=0.01)  # first day of the 30
    order_on(days_ago(30), "1000.00", Order.Status.DELIVERED, hour=23.99)  # the day before
    order_on(days_ago(10), "55.00", Order.Status.CANCELLED)

    ProductFactory(stock=3)  # low: 3 available, threshold 5
    ProductFactory(stock=5, stock__allocated=5)  # out: all allocated
    ProductFactory(stock=0)  # out
    ProductFactory(stock=50)  # in stock
    ProductFactory(stock=0, is_active=False)  # out, but no longer sold: not counted
    ProductFactory(stock=1, is_active=False)  # low, not counted


def user_with_role(role: str):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def index_as(client, user):
    client.force_login(user)
    response = client.get(INDEX)
    assert response.status_code == 200
    return response


def cards(response) -> dict:
    return {card.key: card for card in response.context["dashboard"].cards}


def dashboard_html(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section id="shop-dashboard".*?</section>', html, re.DOTALL)
    return match.group(0) if match else ""


def count_queries(client, url=INDEX) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# The site


def test_site_root_redirects_to_the_admin(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index") == INDEX


def test_index_renders_the_dashboard_above_the_app_list_for_a_superuser(client, known_data):
    response = index_as(client, SuperuserFactory())
    html = response.content.decode()

    assert "Shop back office" in html
    assert set(cards(response)) == ORDER_CARDS | REVENUE_CARDS | STOCK_CARDS
    assert html.index('id="shop-dashboard"') < html.index('class="app-catalog')
    assert "Recent actions" in html
    section = dashboard_html(response)
    assert section.count("<svg") == 2
    # One column per day in each chart, each with its tooltip.
    assert section.count('<g class="bar">') == 2 * dashboard.SALES_DAYS
    assert section.count("<title>") == 2 * dashboard.SALES_DAYS
    assert f"2 orders · {REVENUE_TODAY} USD</title>" in section
    assert "<script" not in section


# The figures


def test_figures_are_right_for_known_data(client, known_data):
    shown = cards(index_as(client, SuperuserFactory()))

    assert shown["orders_today"].value == str(ORDERS_TODAY)
    assert (shown["revenue_today"].value, shown["revenue_today"].unit) == (REVENUE_TODAY, "USD")
    assert shown["orders_period"].value == str(ORDERS_30_DAYS)
    assert shown["revenue_period"].value == REVENUE_30_DAYS
    assert shown["awaiting_shipment"].value == str(AWAITING_SHIPMENT)
    assert shown["low_stock"].value == str(LOW_STOCK)
    assert shown["out_of_stock"].value == str(OUT_OF_STOCK)


def test_daily_series_has_every_day_of_the_period_oldest_first(known_data, today):
    sales = dashboard.sales_by_day(with_revenue=True)

    assert [day.day for day in sales.days] == [
        today - datetime.timedelta(days=n) for n in reversed(range(dashboard.SALES_DAYS))
    ]
    by_day = {day.day: (day.orders, day.revenue) for day in sales.days}
    assert by_day[today] == (2, Decimal("30.50"))
    assert by_day[today - datetime.timedelta(days=1)] == (1, Decimal("5.25"))
    assert by_day[today - datetime.timedelta(days=29)] == (1, Decimal("100.00"))
    assert by_day[today - datetime.timedelta(days=10)] == (0, Decimal("0.00"))  # only a cancelled one
    assert sales.revenue == Decimal(REVENUE_30_DAYS)


def test_revenue_counts_only_orders_in_the_store_currency(settings, today):
    order_on(today, "10.00")
    order_on(today, "99.00", currency="EUR")

    sales = dashboard.sales_by_day(with_revenue=True)

    assert (sales.today.orders, sales.today.revenue) == (2, Decimal("10.00"))


def test_series_without_revenue_does_not_compute_it(known_data):
    sales = dashboard.sales_by_day(with_revenue=False)

    assert sales.revenue is None
    assert all(day.revenue is None for day in sales.days)
    assert sales.today.orders == ORDERS_TODAY


def mysql_lacks_time_zone_tables() -> bool:
    if connection.vendor != "mysql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONVERT_TZ('2026-01-01 12:00:00', 'UTC', 'America/New_York')")
        return cursor.fetchone()[0] is None


def test_days_follow_the_store_time_zone_not_utc(client, settings, monkeypatch):
    settings.TIME_ZONE = "America/New_York"
    if mysql_lacks_time_zone_tables():
        pytest.skip("MariaDB/MySQL without time zone tables (mysql_tzinfo_to_sql) cannot convert zones")
    today = dashboard.local_today()
    monkeypatch.setattr(dashboard, "local_today", lambda: today)
    yesterday = today - datetime.timedelta(days=1)
    # 21:00 in New York is already the next day in UTC.
    order_on(yesterday, "8.00", hour=21)
    order_on(today, "4.00", hour=0.5)

    sales = dashboard.sales_by_day(with_revenue=True)
    client.force_login(SuperuserFactory())
    today_list = client.get(cards(client.get(INDEX))["orders_today"].url)

    assert (sales.today.orders, sales.today.revenue) == (1, Decimal("4.00"))
    assert (sales.days[-2].day, sales.days[-2].orders) == (yesterday, 1)
    assert today_list.context["cl"].result_count == 1


# Who sees what


@pytest.mark.parametrize("role", ["Shipping staff", "Inventory staff", "Customer service"])
def test_roles_without_view_revenue_see_no_revenue(client, known_data, role):
    response = index_as(client, user_with_role(role))
    html = response.content.decode()

    assert not set(cards(response)) & REVENUE_CARDS
    assert not response.context["dashboard"].show_revenue
    assert "Revenue" not in html
    assert "USD" not in html
    assert REVENUE_TODAY not in html
    assert REVENUE_30_DAYS not in html
    assert all(row["revenue"] is None for row in response.context["dashboard"].days)


def test_store_manager_sees_revenue(client, known_data):
    response = index_as(client, user_with_role("Store manager"))
    section = dashboard_html(response)

    assert set(cards(response)) == ORDER_CARDS | REVENUE_CARDS | STOCK_CARDS
    assert "Revenue today" in section
    assert f"<span>{REVENUE_30_DAYS}</span>" in section
    assert "Revenue per day (USD)" in section


def test_inventory_staff_see_stock_figures_but_no_order_figures(client, known_data):
    response = index_as(client, user_with_role("Inventory staff"))
    section = dashboard_html(response)

    assert set(cards(response)) == STOCK_CARDS
    assert "Low stock" in section
    assert "Awaiting shipment" not in section
    assert "Orders today" not in section
    assert "<svg" not in section


@pytest.mark.parametrize("role", ["Shipping staff", "Customer service"])
def test_order_roles_see_order_figures_and_chart_but_no_stock_figures(client, known_data, role):
    response = index_as(client, user_with_role(role))
    section = dashboard_html(response)

    assert set(cards(response)) == ORDER_CARDS
    assert cards(response)["awaiting_shipment"].value == str(AWAITING_SHIPMENT)
    assert section.count("<svg") == 1
    assert "Orders per day" in section
    assert "Low stock" not in section


def test_staff_without_any_dashboard_permission_see_only_the_app_list(client, known_data):
    response = index_as(client, UserFactory())

    assert response.context["dashboard"].is_empty
    assert 'id="shop-dashboard"' not in response.content.decode()


# Links


def test_each_link_opens_the_admin_list_holding_what_the_figure_counts(client, known_data):
    client.force_login(SuperuserFactory())
    response = client.get(INDEX)
    shown = cards(response)
    hrefs = {unescape(href) for href in re.findall(r'href="([^"]+)"', dashboard_html(response))}
    assert hrefs == {card.url for card in shown.values()}

    counts = {}
    for key, card in shown.items():
        page = client.get(card.url)
        assert page.status_code == 200, card.url  # an unknown lookup would redirect to ?e=1
        counts[key] = page.context["cl"].result_count

    assert counts == {
        "awaiting_shipment": AWAITING_SHIPMENT,
        "orders_today": ORDERS_TODAY,
        "revenue_today": ORDERS_TODAY,
        "orders_period": ORDERS_30_DAYS,
        "revenue_period": ORDERS_30_DAYS,
        "low_stock": LOW_STOCK,
        "out_of_stock": OUT_OF_STOCK,
    }


def test_links_use_the_filters_the_admins_define(client, known_data, today):
    shown = cards(index_as(client, SuperuserFactory()))

    assert shown["awaiting_shipment"].url == "/admin/orders/order/?status__in=paid%2Cpartially_shipped"
    assert shown["low_stock"].url == "/admin/catalog/product/?is_active__exact=1&stock_level=low"
    assert shown["out_of_stock"].url == "/admin/catalog/product/?is_active__exact=1&stock_level=out"
    assert f"created_at__date__lte={today.isoformat()}" in shown["orders_period"].url


# Queries


def test_index_query_count_does_not_grow_with_orders_and_products(client, today):
    client.force_login(user_with_role("Store manager"))
    order_on(today, "10.00", Order.Status.PAID)
    ProductFactory(stock=1)
    client.get(INDEX)  # warm process-wide caches (content types) before counting
    few = count_queries(client)

    for n in range(MORE_ORDERS):
        status = [Order.Status.PLACED, Order.Status.PAID, Order.Status.SHIPPED, Order.Status.CANCELLED][n % 4]
        order_on(today - datetime.timedelta(days=n % 40), f"{n + 1}.25", status, hour=n % 24)
    for n in range(20):
        ProductFactory(stock=n % 7)
    many = count_queries(client)

    assert many == few
    assert few <= 10


# The chart geometry


def test_nice_step_is_round_and_covers_the_span():
    assert nice_step(400, whole=True) == 100
    assert nice_step(401, whole=True) == 200
    assert nice_step(3, whole=True) == 1
    assert nice_step(0.4, whole=False) == 0.1
    assert nice_step(9, whole=True) == 5


def test_bars_stay_inside_the_plot_and_an_empty_series_says_so():
    chart = bar_chart(
        name="orders",
        title="Orders",
        description="",
        values=[0, 3, 7],
        tooltips=["a", "b", "c"],
        x_labels=["1", "2", "3"],
        format_tick=str,
        whole=True,
    )
    empty = bar_chart(
        name="orders",
        title="Orders",
        description="",
        values=[0, 0],
        tooltips=["a", "b"],
        x_labels=["1", "2"],
        format_tick=str,
    )

    assert all(chart.plot_top <= bar.y <= chart.plot_bottom for bar in chart.bars)
    assert all(bar.y + bar.height == pytest.approx(chart.plot_bottom) for bar in chart.bars)
    assert chart.bars[0].height == 0
    assert chart.y_ticks[-1].label == "8"
    assert [tick.label for tick in chart.x_ticks] == ["3"]  # the last day is always labelled
    assert not chart.empty
    assert empty.empty

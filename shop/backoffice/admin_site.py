"""The shop's admin site: Django's admin with a dashboard on the index page.

Each staff member sees only the figures their permissions allow: order counts need
`orders.view_order`, revenue `orders.view_revenue`, stock counts `catalog.view_product`.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format, number_format

from catalog.models import Product
from orders.models import SHIPPABLE_STATUSES, Order
from shop.backoffice import dashboard
from shop.backoffice.charts import BarChart, bar_chart
from shop.core.admin_perf import with_scale_defaults
from shop.core.money import format_money


@dataclass(frozen=True)
class Card:
    """One figure on the dashboard, linking to the admin list it counts (None: no link)."""

    key: str
    label: str
    value: str
    unit: str = ""
    note: str = ""
    url: str | None = None
    # Set on a figure asking for action (orders to ship, stock to reorder) when it is not zero.
    alert: bool = False


@dataclass
class Dashboard:
    # Figures that call for work (orders to ship, stock to reorder), then the sales figures.
    action_cards: list[Card] = field(default_factory=list)
    sales_cards: list[Card] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    # Day by day, for the table under the chart (screen readers, exact numbers).
    days: list[dict] = field(default_factory=list)
    show_orders: bool = False
    show_revenue: bool = False
    currency: str = ""
    period_days: int = dashboard.SALES_DAYS

    @property
    def cards(self) -> list[Card]:
        return self.action_cards + self.sales_cards

    @property
    def is_empty(self) -> bool:
        return not self.cards and not self.charts


class ShopAdminSite(admin.AdminSite):
    site_header = "Shop back office"
    site_title = "Shop back office"
    index_title = "Dashboard"

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every admin class, ours and the installed apps' (users, login attempts), gets the
        # defaults that keep its pages' cost flat as the tables grow (shop.core.admin_perf).
        admin_class = with_scale_defaults(admin_class or admin.ModelAdmin)
        return super().register(model_or_iterable, admin_class, **options)

    def index(self, request, extra_context=None):
        context = {"dashboard": self.build_dashboard(request), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def build_dashboard(self, request) -> Dashboard:
        user = request.user
        board = Dashboard(
            show_orders=user.has_perm("orders.view_order"),
            show_revenue=user.has_perm("orders.view_revenue"),
        )
        if board.show_orders:
            awaiting = dashboard.orders_awaiting_shipment_count()
            board.action_cards.append(
                Card(
                    key="awaiting_shipment",
                    label="Awaiting shipment",
                    value=str(awaiting),
                    note="paid, not yet shipped or shipped in part",
                    url=self._changelist_url(Order, {"status__in": ",".join(SHIPPABLE_STATUSES)}),
                    alert=awaiting > 0,
                )
            )
        if board.show_orders or board.show_revenue:
            self._add_sales(board, dashboard.sales_by_day(with_revenue=board.show_revenue))
        if user.has_perm("catalog.view_product"):
            alerts = dashboard.stock_alerts()
            board.action_cards += [
                Card(
                    key="low_stock",
                    label="Low stock",
                    value=str(alerts.low),
                    note="active products at or under their threshold",
                    url=self._changelist_url(Product, {"is_active__exact": "1", "stock_level": "low"}),
                    alert=alerts.low > 0,
                ),
                Card(
                    key="out_of_stock",
                    label="Out of stock",
                    value=str(alerts.out),
                    note="active products with none available",
                    url=self._changelist_url(Product, {"is_active__exact": "1", "stock_level": "out"}),
                    alert=alerts.out > 0,
                ),
            ]
        return board

    def _add_sales(self, board: Dashboard, sales: dashboard.SalesSummary) -> None:
        today = sales.today.day
        board.currency = sales.currency
        board.period_days = len(sales.days)
        statuses = ",".join(dashboard.SALES_STATUSES)
        # The date hierarchy's own parameters: the list then shows the day it is filtered to.
        today_url = self._changelist_url(
            Order,
            {
                "created_at__year": today.year,
                "created_at__month": today.month,
                "created_at__day": today.day,
                "status__in": statuses,
            },
            allowed=board.show_orders,
        )
        period_url = self._changelist_url(
            Order,
            {
                "created_at__date__gte": sales.first_day.isoformat(),
                "created_at__date__lte": today.isoformat(),
                "status__in": statuses,
            },
            allowed=board.show_orders,
        )
        period = f"last {len(sales.days)} days"
        today_note = date_format(today, "D, M j")
        since = f"since {date_format(sales.first_day, 'M j')}"
        if board.show_orders:
            board.sales_cards.append(
                Card(
                    key="orders_today",
                    label="Orders today",
                    value=str(sales.today.orders),
                    note=today_note,
                    url=today_url,
                )
            )
        if board.show_revenue:
            board.sales_cards.append(
                Card(
                    key="revenue_today",
                    label="Revenue today",
                    value=number_format(sales.today.revenue, decimal_pos=2, force_grouping=True),
                    unit=sales.currency,
                    note=today_note,
                    url=today_url,
                )
            )
        if board.show_orders:
            board.sales_cards.append(
                Card(
                    key="orders_period",
                    label=f"Orders, {period}",
                    value=str(sales.orders),
                    note=since,
                    url=period_url,
                )
            )
        if board.show_revenue:
            board.sales_cards.append(
                Card(
                    key="revenue_period",
                    label=f"Revenue, {period}",
                    value=number_format(sales.revenue, decimal_pos=2, force_grouping=True),
                    unit=sales.currency,
                    note=since,
                    url=period_url,
                )
            )

        labels = [date_format(day.day, "M j") for day in sales.days]
        tooltips = [self._tooltip(day, board, sales.currency) for day in sales.days]
        if board.show_revenue:
            board.charts.append(
                bar_chart(
                    name="revenue",
                    title=f"Revenue per day ({sales.currency})",
                    description=f"Revenue per day in {sales.currency}, {period}, cancelled orders excluded.",
                    values=[day.revenue for day in sales.days],
                    tooltips=tooltips,
                    x_labels=labels,
                    format_tick=lambda v: number_format(round(v), force_grouping=True),
                    empty_message=f"No revenue in the {period}.",
                    whole=True,
                )
            )
        if board.show_orders:
            board.charts.append(
                bar_chart(
                    name="orders",
                    title="Orders per day",
                    description=f"Orders placed per day, {period}, cancelled orders excluded.",
                    values=[day.orders for day in sales.days],
                    tooltips=tooltips,
                    x_labels=labels,
                    format_tick=lambda v: str(round(v)),
                    empty_message=f"No orders in the {period}.",
                    whole=True,
                )
            )
        board.days = [
            {
                "day": day.day,
                "orders": day.orders,
                "revenue": format_money(day.revenue, sales.currency) if board.show_revenue else None,
            }
            for day in reversed(sales.days)
        ]

    def _changelist_url(self, model, params: dict, *, allowed: bool = True) -> str | None:
        """The model's admin list filtered by `params`; None if this site does not list it."""
        if not allowed or not self.is_registered(model):
            return None
        opts = model._meta
        try:
            url = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist", current_app=self.name)
        except NoReverseMatch:
            return None
        return f"{url}?{urlencode(params)}"

    def _tooltip(self, day: dashboard.DaySales, board: Dashboard, currency: str) -> str:
        parts = [date_format(day.day, "D, M j")]
        if board.show_orders:
            parts.append(f"{day.orders} order{'' if day.orders == 1 else 's'}")
        if board.show_revenue:
            parts.append(format_money(day.revenue, currency))
        return " · ".join(parts)

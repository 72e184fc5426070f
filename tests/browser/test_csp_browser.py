"""The Content-Security-Policy in a real browser: a walk over the back office's kinds of pages as
a superuser on the demo data (login, dashboard with its chart, every list, object pages, add pages
with their widgets, staff operation pages, a selection page, export and import, history, the
lockout page, a 404) collects every CSP violation Chromium reports and every console or script
error, and fails on any. Along the way it checks that what the policy could silently break still
works: the dashboard's nonce'd styles apply, the admin's scripts run (select all rows, the export
page's "Select all", the autocomplete widget)."""

from django.contrib import admin
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import Product
from orders.models import Order
from tests.browser.pages import click_and_wait, result_rows

REPORT = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile || location.pathname}:${event.lineNumber}`;
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where} (${event.sample || ""})`
  );
});
"""


class Problems:
    """CSP violations, console errors and uncaught script errors, with the page they came from."""

    def __init__(self, page):
        self.items: list[str] = []
        self.page = page
        # The walk's 404 and lockout pages; the site has no favicon.
        self.expected_statuses = [
            ("/admin/no-such-page/", 404),
            ("/admin/login/", 429),
            ("/favicon.ico", 404),
        ]
        page.expose_function("reportCspViolation", lambda text: self.items.append(f"{page.url}: CSP {text}"))
        page.add_init_script(REPORT)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"{page.url}: script error {error}"))

    def _console(self, message):
        if message.type in ("error", "warning") and (
            message.type == "error" or "Content Security Policy" in message.text
        ):
            # Chromium reports an error status of a document or resource as a console error.
            location = message.location.get("url", "")
            if "Failed to load resource" in message.text and any(
                location.endswith(path) and f"status of {status}" in message.text
                for path, status in self.expected_statuses
            ):
                return
            self.items.append(f"{self.page.url}: console {message.type}: {message.text} ({location})")

    def visit(self, url):
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        assert response is not None and response.headers.get("content-security-policy"), url
        return response


def test_a_walk_of_the_back_office_meets_no_csp_violation(page, live_server, login, shot, demo):
    problems = Problems(page)
    base = live_server.url

    # The login page, then signed in: the dashboard with its inline SVG chart.
    problems.visit(f"{base}/admin/login/")
    login(page, "csp.walker")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    card = page.locator(".shop-dashboard .dash-card").first
    # The dashboard's <style> (with the response's nonce) applied: cards have their 4px left border.
    assert card.evaluate("el => getComputedStyle(el).borderLeftWidth") == "4px"
    shot(page, "dashboard")

    # Every list; on the first, the admin's actions.js selects all rows.
    for model in admin.site._registry:
        problems.visit(base + reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    problems.visit(base + reverse("admin:orders_order_changelist"))
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text(f"{result_rows(page).count()} of")
    shot(page, "orders-all-selected")

    # Object pages, with their operation buttons and inlines.
    paid = Order.objects.filter(status=Order.Status.PAID).order_by("pk").first()
    product = Product.objects.order_by("pk").first()
    for url in (
        reverse("admin:orders_order_change", args=[paid.pk]),
        reverse("admin:customers_customer_change", args=[paid.customer_id]),
        reverse("admin:catalog_product_change", args=[product.pk]),
        reverse("admin:catalog_product_history", args=[product.pk]),
        reverse("admin:orders_order_ship", args=[paid.pk]),
        reverse("admin:catalog_product_receive_stock", args=[product.pk]),
        reverse("admin:catalog_product_add"),
        reverse("admin:password_change"),
    ):
        problems.visit(base + url)
    shot(page, "password-change")

    # An add page with the autocomplete widget (select2): it opens and searches.
    problems.visit(base + reverse("admin:customers_address_add"))
    page.locator(".field-customer .select2-selection").click()
    page.locator(".select2-search__field").fill("a")
    expect(page.locator(".select2-results__option").first).to_be_visible()
    shot(page, "address-autocomplete")

    # A selection page (a list action), then the export page and its "Select all" toggle.
    problems.visit(base + reverse("admin:catalog_product_changelist"))
    result_rows(page).first.locator("input.action-select").check()
    page.locator("#changelist-form select[name=action]").select_option(
        label="Receive stock for the selected products"
    )
    click_and_wait(page, page.locator("#changelist-form button[name=index]"))
    shot(page, "receive-stock-selection")
    problems.visit(base + reverse("admin:catalog_product_export"))
    fields = page.locator(".selectable-field-export-row input[type=checkbox]")
    assert fields.count() > 3
    page.locator("input.select-toggle").uncheck()
    for index in range(fields.count()):
        expect(fields.nth(index)).not_to_be_checked()
    page.locator("input.select-toggle").check()
    expect(fields.first).to_be_checked()
    shot(page, "export")
    problems.visit(base + reverse("admin:catalog_stock_import"))
    problems.visit(base + "/admin/no-such-page/")

    # Signed out, a username is locked out: the lockout page.
    problems.visit(f"{base}/admin/")
    click_and_wait(page, page.locator("#logout-form button"))
    problems.visit(f"{base}/admin/login/")
    for _ in range(5):
        page.fill("#id_username", "nobody")
        page.fill("#id_password", "wrong-password")
        click_and_wait(page, page.locator("input[type=submit]"))
    expect(page.get_by_role("heading", name="Too many failed logins")).to_be_visible()
    expect(page.locator(".lockout-wait")).to_have_text("15 minutes")
    shot(page, "lockout")

    assert not problems.items, "\n".join(problems.items)

"""The API's interactive docs (/api/v1/docs) in Chromium, offline: Swagger UI from the project's
own static files renders the schema under the Content-Security-Policy, with no request leaving
the machine and no CSP violation or console error."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.test_csp_browser import Problems


@pytest.mark.django_db(transaction=True)
def test_the_docs_page_works_offline_under_the_csp(live_server, page, shot):
    outside = []

    def only_local(route):
        host = urlparse(route.request.url).hostname
        if host in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    problems = Problems(page)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Shop storefront API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/orders").first).to_be_visible()
    page.locator(".opblock-summary", has_text="Place an order").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    shot(page, "api-docs")
    assert outside == []
    assert problems.items == []

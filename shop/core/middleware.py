"""Middleware of the back office."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger("shop.db")


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection answers 503 with a page that says so, not a 500.

    Each service runs in one transaction, so a request cut off by the database changed nothing;
    the page tells staff that and to try again. The page is rendered without a request context
    (no session, no user): nothing on it may need the database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable: %s %s: %s", request.method, request.path, exception)
        # The page's own <style> carries the request's Content-Security-Policy nonce.
        context = {"csp_nonce": getattr(request, "csp_nonce", "")}
        page = render_to_string("shop/database_unavailable.html", context)
        response = HttpResponse(page, status=503)
        response["Retry-After"] = "30"
        return response

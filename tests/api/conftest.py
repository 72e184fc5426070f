import json

import pytest
from django.core.cache import cache

from shop.api.keys import api_key_create
from shop.api.models import ApiKey

ALL_SCOPES = ApiKey.Scope.values


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_key(db):
    def make(name="storefront", scopes=ALL_SCOPES):
        return api_key_create(name=name, scopes=scopes)

    return make


class Api:
    """The test client with an API key, JSON in and out."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get("/api/v1" + path, params or {}, headers=self.headers(headers))

    def _send(self, method, path, body, headers):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(
            "/api/v1" + path, data=data, content_type="application/json", headers=self.headers(headers)
        )

    def post(self, path, body=None, headers=None):
        return self._send("post", path, {} if body is None else body, headers)

    def patch(self, path, body=None, headers=None):
        return self._send("patch", path, {} if body is None else body, headers)

    def delete(self, path, headers=None):
        return self.client.delete("/api/v1" + path, headers=self.headers(headers))


@pytest.fixture
def api(client, make_key):
    _, key = make_key()
    return Api(client, key)


@pytest.fixture
def anonymous(client, db):
    return Api(client, None)


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    return body

from shop.core.exceptions import ShopError


class ApiKeyRevoked(ShopError):
    """This API key was already revoked."""

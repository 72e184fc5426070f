"""The root of every exception a service raises for a request it refuses.

Each app derives its own base from `ShopError`; callers (the admin above all) catch `ShopError`
and show its message to the person who asked. The message is written for that person.
"""


class ShopError(Exception):
    """A request the shop refuses. Nothing was changed."""

    def __init__(self, message: str = ""):
        super().__init__(message or self.__doc__ or self.__class__.__name__)
        self.message = str(self.args[0])

    def __str__(self):
        return self.message


class TransactionConflict(ShopError):
    """The database kept refusing the change because of concurrent requests; nothing was changed."""

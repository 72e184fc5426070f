"""Query expressions the models' constraints share."""

from django.db.models import Func


class CaseSensitive(Func):
    """Text compared exactly, character case included, on every database.

    PostgreSQL and SQLite already compare text exactly; MariaDB and MySQL compare by the column's
    collation, case-insensitively by default, so a CHECK such as `sku = UPPER(sku)` would always
    hold there. `CaseSensitive("sku") = UPPER(sku)` compares the bytes on MariaDB/MySQL.
    """

    template = "%(expressions)s"
    arity = 1

    def as_mysql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS BINARY)", **extra_context)

"""Assertions shared by the schema tests."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, transaction


@contextmanager
def refused_by_database(*names: str):
    """Expect the database to refuse what the block writes, with an IntegrityError.

    The block runs in its own savepoint, so the test's transaction survives the error and the
    test can go on querying. `names` are constraint or column names; the database's message
    must mention one of them, which shows that the rule under test refused the row and not some
    other rule. SQLite names the columns of a unique constraint, PostgreSQL and MariaDB its name,
    and all three name a check constraint.
    """
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        yield excinfo
    if names:
        message = str(excinfo.value)
        assert any(name in message for name in names), f"Refused, but not by {' or '.join(names)}: {message}"

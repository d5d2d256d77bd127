"""The security tests probe the same personas and chart as the access tests."""

from tests.access.conftest import world  # noqa: F401

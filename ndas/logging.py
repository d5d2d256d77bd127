"""Request context for log records: each line logged in a request carries its ids."""

import logging
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
# The client's address, for audit events written during the request (never logged).
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `user_id` of the current request to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get()
        return True

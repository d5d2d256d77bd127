"""Request context for log records: each line logged in a request carries its ids.

The ids are the domain's request context (records.common.context), which
ndas.middleware sets for each request.
"""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from records.common.context import request_id_var, user_id_var


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `user_id` of the current request to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get()
        return True


# PostgreSQL's DETAIL and CONTEXT lines quote the rows they are about ("Key
# (mrn)=(NDA-00123) already exists", "Failing row contains (...)", a COPY line):
# patient data, which never goes to the logs.
_ROW_DATA = re.compile(r"^(\s*(?:DETAIL|CONTEXT):).*$", re.MULTILINE)


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines whose tracebacks keep the error and drop the rows it quotes."""

    def formatException(self, exc_info) -> str:
        return _ROW_DATA.sub(r"\1 [redacted]", super().formatException(exc_info))

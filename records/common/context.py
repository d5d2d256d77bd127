"""The request context the domain reads: the request's id, the client's address and
the signed-in user's id, as context variables.

ndas.middleware.RequestContextMiddleware sets them for each request (and resets them
after); the audit writer reads the id and the address, ndas.logging's filter the ids.
Outside a request (a command, a Celery task) they are None.

request_memo_var holds, for one GET or HEAD request only, what the domain read once
and would otherwise read again in the same request (a clinician's chart grants:
records.patients.repositories). Such a request changes nothing, so nothing it
memoises goes stale; any other request, and any code outside a request, reads anew.
"""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
# The client's address, for audit events written during the request (never logged).
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
# Reads made once per safe request (see above); None outside one.
request_memo_var: ContextVar[dict | None] = ContextVar("request_memo", default=None)

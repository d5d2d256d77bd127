"""The client's IP address, trusting only the header that our own proxy sets."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the trusted proxy's header if configured, else the peer.

    X-Forwarded-For is never read: any client can send it, and its left-most entry is
    whatever the client chose. Only the one header named by TRUSTED_PROXY_IP_HEADER,
    which the proxy overwrites on every request, is believed; a malformed value falls
    back to the connection's own address rather than to nothing.
    """
    header = settings.TRUSTED_PROXY_IP_HEADER
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        forwarded = _valid_ip(request.META.get(meta_key))
        if forwarded:
            return forwarded
    return _valid_ip(request.META.get("REMOTE_ADDR"))

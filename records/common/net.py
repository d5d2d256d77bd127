"""IP addresses: the one normalisation of an address's text, and the client's address
of a request, trusting only the header that our own proxy sets, and only when the
connection comes from that proxy."""

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

E_BAD_PROXY = "TRUSTED_PROXY_IPS: {value!r} is neither an IP address nor a network."


def ip_normal(value: str | None) -> str | None:
    """An IP address in its one written form ("2001:db8::1" for " 2001:DB8:0::1"),
    or None when `value` is empty or not an address."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(E_BAD_PROXY.format(value=value)) from None
    return tuple(networks)


def trusted_proxy_networks(values: Iterable[str] | None = None) -> tuple:
    """TRUSTED_PROXY_IPS as networks; a value that is neither is refused."""
    if values is None:
        values = settings.TRUSTED_PROXY_IPS
    return _networks(tuple(values))


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the connection itself (REMOTE_ADDR) comes from one of
    TRUSTED_PROXY_IPS: only then are the proxy's headers believed."""
    peer = ip_normal(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return False
    address = ipaddress.ip_address(peer)
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in trusted_proxy_networks())


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the trusted proxy's header if configured and the
    connection comes from a trusted proxy, else the peer.

    X-Forwarded-For is never read: any client can send it, and its left-most entry is
    whatever the client chose. Only the one header named by TRUSTED_PROXY_IP_HEADER,
    which the proxy overwrites on every request, is believed, and only from a peer in
    TRUSTED_PROXY_IPS (anyone else reaching the server directly could send it too); a
    malformed value falls back to the connection's own address rather than to nothing.
    """
    header = settings.TRUSTED_PROXY_IP_HEADER
    if header and from_trusted_proxy(request):
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        forwarded = ip_normal(request.META.get(meta_key))
        if forwarded:
            return forwarded
    return ip_normal(request.META.get("REMOTE_ADDR"))

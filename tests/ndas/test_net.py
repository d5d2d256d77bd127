"""client_ip believes only the trusted proxy's header, never a client's claims."""

import pytest
from django.test import RequestFactory

from records.common.net import client_ip

factory = RequestFactory()


def test_peer_address_without_a_proxy(settings):
    settings.TRUSTED_PROXY_IP_HEADER = ""
    request = factory.get("/", REMOTE_ADDR="203.0.113.7")
    assert client_ip(request) == "203.0.113.7"


def test_spoofed_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_IP_HEADER = ""
    request = factory.get(
        "/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert client_ip(request) == "203.0.113.7"


def test_trusted_proxy_header_is_used(settings):
    settings.TRUSTED_PROXY_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_IPS = ["10.0.0.0/24"]
    request = factory.get(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 10.0.0.2",
    )
    assert client_ip(request) == "203.0.113.7"


@pytest.mark.parametrize("bad", ["", "not-an-ip", "203.0.113.7, 10.0.0.1", "999.1.1.1"])
def test_malformed_proxy_header_falls_back_to_peer(settings, bad):
    settings.TRUSTED_PROXY_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_IPS = ["10.0.0.2"]
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP=bad)
    assert client_ip(request) == "10.0.0.2"


def test_ipv6_is_normalised(settings):
    settings.TRUSTED_PROXY_IP_HEADER = ""
    request = factory.get("/", REMOTE_ADDR="2001:DB8:0:0::1")
    assert client_ip(request) == "2001:db8::1"

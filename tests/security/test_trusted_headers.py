"""Review #12, item 13: the proxy's headers (X-Real-IP, X-Request-ID) are believed
only on connections from the proxy (TRUSTED_PROXY_IPS); a client's own request id
never becomes the id the logs and the audit trail carry."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from records.common.net import E_BAD_PROXY, client_ip, from_trusted_proxy
from records.audit.models import AuditEvent
from records.users.models import LoginEvent
from tests.helpers import BASE_DIR, load_settings, read_env_file

pytestmark = pytest.mark.django_db

factory = RequestFactory()
PROXY = "172.18.0.5"
OUTSIDER = "203.0.113.66"
CLAIMED = "198.51.100.1"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXY_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_IPS = ["172.16.0.0/12", "::1"]


def failed_sign_in(peer: str, **headers):
    Client().post(
        "/admin/login/",
        {"username": "ghost", "password": "wrong"},
        REMOTE_ADDR=peer,
        headers=headers,
    )
    return LoginEvent.objects.latest("pk"), AuditEvent.objects.latest("pk")


def test_a_direct_peer_cannot_choose_its_address(behind_proxy):
    event, audit = failed_sign_in(OUTSIDER, **{"X-Real-IP": CLAIMED})
    assert event.ip == audit.ip == OUTSIDER


def test_the_proxys_header_is_believed_from_the_proxy(behind_proxy):
    event, audit = failed_sign_in(PROXY, **{"X-Real-IP": CLAIMED})
    assert event.ip == audit.ip == CLAIMED


@pytest.mark.parametrize(
    "peer, trusted",
    [
        ("172.18.0.5", True),
        ("172.32.0.1", False),
        ("::ffff:172.18.0.5", True),  # IPv4 on an IPv6 socket
        ("::1", True),
        ("127.0.0.1", False),
        ("not-an-ip", False),
        ("", False),
    ],
)
def test_proxies_are_addresses_and_networks(behind_proxy, peer, trusted):
    request = factory.get("/", REMOTE_ADDR=peer, HTTP_X_REAL_IP=CLAIMED)
    assert from_trusted_proxy(request) is trusted
    assert (client_ip(request) == CLAIMED) is trusted


def test_no_trusted_proxy_means_no_header_is_believed(settings):
    settings.TRUSTED_PROXY_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXY_IPS = []
    request = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=CLAIMED)
    assert client_ip(request) == "127.0.0.1"


def test_a_bad_proxy_setting_is_refused(settings):
    settings.TRUSTED_PROXY_IPS = ["10.0.0.0/8", "proxy.example.org"]
    with pytest.raises(ImproperlyConfigured) as refused:
        from_trusted_proxy(factory.get("/", REMOTE_ADDR="10.0.0.1"))
    assert str(refused.value) == E_BAD_PROXY.format(value="proxy.example.org")


def test_defaults_trust_this_machine_and_the_compose_file_its_networks():
    assert load_settings({})["TRUSTED_PROXY_IPS"] == ["127.0.0.1", "::1"]
    example = read_env_file(BASE_DIR / ".env.example")
    assert example["TRUSTED_PROXY_IPS"] == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    # gunicorn believes X-Forwarded-Proto from the same peers, and from no others.
    assert example["GUNICORN_FORWARDED_ALLOW_IPS"] == example["TRUSTED_PROXY_IPS"]
    assert load_settings(example)["TRUSTED_PROXY_IPS"] == [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
    ]


def test_a_clients_request_id_is_not_the_requests(behind_proxy, caplog):
    with caplog.at_level(logging.INFO, logger="ndas.request"):
        event, audit = failed_sign_in(OUTSIDER, **{"X-Request-ID": "chosen-by-me-1"})
    [logged] = [r for r in caplog.records if r.name == "ndas.request"]
    assert audit.request_id != "chosen-by-me-1" and len(audit.request_id) == 32
    assert logged.request_id == audit.request_id
    assert logged.client_request_id == "chosen-by-me-1"


def test_a_clients_request_id_is_not_echoed_either(behind_proxy):
    response = Client().get(
        "/admin/login/", REMOTE_ADDR=OUTSIDER, headers={"X-Request-ID": "mine-12345"}
    )
    assert response.headers["X-Request-ID"] != "mine-12345"


def test_the_proxys_request_id_is_the_requests(behind_proxy, caplog):
    with caplog.at_level(logging.INFO, logger="ndas.request"):
        _, audit = failed_sign_in(PROXY, **{"X-Request-ID": "a1b2c3d4e5f6a7b8"})
    [logged] = [r for r in caplog.records if r.name == "ndas.request"]
    assert audit.request_id == logged.request_id == "a1b2c3d4e5f6a7b8"
    assert not hasattr(logged, "client_request_id")

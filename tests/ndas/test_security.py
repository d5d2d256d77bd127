"""Security headers, cookies, passwords, CSRF: the baseline every page inherits."""

import subprocess

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.helpers import BASE_DIR, TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"


@pytest.fixture
def production_security(settings, production_settings):
    names = [
        name
        for name in production_settings
        if name.startswith(("SECURE_", "SESSION_COOKIE", "CSRF_COOKIE"))
    ]
    for name in names:
        setattr(settings, name, production_settings[name])
    settings.ALLOWED_HOSTS = ["testserver"]
    return settings


def test_login_page_sends_every_security_header(client, production_security):
    response = client.get(LOGIN_URL, secure=True)
    assert response.status_code == 200
    headers = response.headers
    assert headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in headers["Permissions-Policy"]
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["Content-Security-Policy"].split(";")
    }
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert sorted(csp["script-src"]) == ["'self'", "'unsafe-eval'"]


def test_plain_http_is_redirected_to_https_in_production(client, production_security):
    response = client.get(LOGIN_URL)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_production_cookies_are_host_bound_secure_and_samesite(
    client, make_user, production_security
):
    make_user("cookie")
    page = client.get(LOGIN_URL, secure=True)
    csrf = page.cookies["__Host-ndas_csrf"]
    assert csrf["secure"] and csrf["path"] == "/" and csrf["samesite"] == "Lax"
    response = client.post(
        LOGIN_URL,
        {"username": "cookie", "password": TEST_PASSWORD},
        secure=True,
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 302
    session = response.cookies["__Host-ndas_session"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax" and session["path"] == "/"


def test_development_cookie_names_are_plain(settings):
    assert settings.SESSION_COOKIE_NAME == "sessionid"


def test_argon2_is_the_password_hasher(make_user):
    assert make_user("hashed").password.startswith("argon2$")


def test_passwords_shorter_than_12_characters_are_refused():
    with pytest.raises(ValidationError):
        validate_password("Xk3!mq9Lp2a")
    validate_password("Xk3!mq9Lp2aZ")


def test_login_form_requires_csrf_token(make_user):
    from django.test import Client

    make_user("csrf")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN_URL, {"username": "csrf", "password": TEST_PASSWORD})
    assert response.status_code == 403


def test_nothing_in_the_project_exempts_itself_from_csrf():
    forbidden = "csrf" + "_exempt"
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sources = [p for p in tracked if p.endswith((".py", ".html", ".js", ".txt"))]
    assert len(sources) > 10  # the listing really found the project
    offenders = [p for p in sources if forbidden in (BASE_DIR / p).read_text()]
    assert offenders == []


def test_five_failed_logins_lock_the_username_and_ip_pair(client, make_user):
    make_user("locked")
    for _ in range(5):
        client.post(LOGIN_URL, {"username": "locked", "password": "wrong-password"})
    response = client.post(LOGIN_URL, {"username": "locked", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"temporarily blocked" in response.content
    other_ip = client.post(
        LOGIN_URL,
        {"username": "locked", "password": TEST_PASSWORD},
        REMOTE_ADDR="192.0.2.99",
    )
    assert other_ip.status_code == 302

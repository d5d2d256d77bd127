"""Fixtures shared by the suite: S3 (moto's server), production settings, users."""

import os
import runpy
from pathlib import Path
from unittest import mock

import boto3
import pytest
import requests
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.test import Client
from moto.server import ThreadedMotoServer

from records.users.models import User

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV_FILE = BASE_DIR / "tests" / "production.env"
TEST_BUCKET = "ndas-test-media"
TEST_PASSWORD = "correct-horse-battery-staple"


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def load_settings(env: dict[str, str]) -> dict:
    """Evaluate ndas/settings.py under exactly this environment; return its names."""
    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(BASE_DIR / "ndas" / "settings.py"))


@pytest.fixture(scope="session", autouse=True)
def audit_table_flushable():
    """Transactional tests end with one TRUNCATE of every table; the audit table
    refuses TRUNCATE while it holds rows (it is append-only), so only for that
    statement, in tests, its guard is switched off."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    table = "audit_auditevent"

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if table not in tables:
            return statements
        return [
            f'ALTER TABLE "{table}" DISABLE TRIGGER USER',
            *statements,
            f'ALTER TABLE "{table}" ENABLE TRIGGER USER',
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


def second_factor_pass(client: Client, user: User) -> None:
    """Mark a signed-in test client's session as having passed the second factor,
    with an authenticator app of the user's (made, confirmed, if they have none),
    as the sign-in's second step does (django_otp.login)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def password_only_login(client: Client, user: User) -> None:
    """Sign `client` in with the password alone: the second step still to come."""
    client.password_only = True
    try:
        client.force_login(user)
    finally:
        client.password_only = False


@pytest.fixture(autouse=True)
def test_logins_pass_the_second_factor(monkeypatch):
    """Every test client's force_login() and login() sign in with both factors
    (password_only_login for the password alone); the second step itself is
    tested through its pages in tests/records/users/test_mfa*.py."""
    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        if not getattr(self, "password_only", False):
            second_factor_pass(self, user)

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture(scope="session")
def production_env() -> dict[str, str]:
    return read_env_file(PRODUCTION_ENV_FILE)


@pytest.fixture(scope="session")
def production_settings(production_env) -> dict:
    return load_settings(production_env)


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 HTTP endpoint (moto's server) on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    """Point default_storage at an empty private bucket on the S3 endpoint."""
    requests.post(f"{s3_endpoint}/moto-api/reset", timeout=10)
    options = {
        "bucket_name": TEST_BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "testing",
        "secret_key": "testing",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=TEST_BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "records.patients.storage.MediaStorage",
            "OPTIONS": options,
        },
    }
    return default_storage


@pytest.fixture
def make_user(db):
    def make(username: str = "someone", *, roles=(), **fields) -> User:
        user = User.objects.create_user(
            username=username, password=TEST_PASSWORD, is_staff=True, **fields
        )
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make

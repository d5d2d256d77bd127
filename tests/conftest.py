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

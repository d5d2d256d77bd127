"""/healthz touches nothing; /readyz checks database, cache and storage for real, and
fails only for the database (tests/faults/test_health.py: hung dependencies)."""

import pytest
from django.core.files.base import ContentFile
from django.db import connections

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_endpoints_refuse_writes(client):
    assert client.post("/healthz").status_code == 405


def test_readyz_ok_when_everything_is_reachable(client, s3_storage):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok"},
        "failed": [],
    }


def test_readyz_503_when_database_is_unreachable(client, django_db_blocker):
    connection = connections["default"]
    original = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
        try:
            response = client.get("/readyz")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["cache"] == "ok"


def test_readyz_degraded_but_ready_when_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["failed"] == ["cache"]
    assert response.json()["checks"]["cache"] == "error"


def test_readyz_degraded_but_ready_when_bucket_is_missing(client, s3_storage, settings):
    default = settings.STORAGES["default"]
    options = {**default["OPTIONS"], "bucket_name": "no-such-bucket"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": options},
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["failed"] == ["storage"]


def test_readyz_storage_ok_for_local_media_directory(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "not" / "yet" / "created"},
        },
    }
    assert client.get("/readyz").json()["checks"]["storage"] == "ok"


def test_s3_storage_writes_reads_and_keeps_objects_private(s3_storage):
    import requests

    name = s3_storage.save("health/probe.txt", ContentFile(b"stored in S3"))
    with s3_storage.open(name) as handle:
        assert handle.read() == b"stored in S3"
    bucket_url = f"{s3_storage.endpoint_url}/{s3_storage.bucket_name}/{name}"
    assert requests.get(bucket_url, timeout=10).status_code == 403
    presigned = s3_storage.url(name)
    assert "X-Amz-Expires=300" in presigned
    fetched = requests.get(presigned, timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"stored in S3"

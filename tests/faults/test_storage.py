"""Storage that hangs: every S3 call has connect and read timeouts and bounded
retries, a failed upload leaves neither a row nor an object, and the same bytes
uploaded twice are stored once."""

from tests.conftest import load_settings


def test_every_s3_call_has_timeouts_and_bounded_retries(production_env):
    env = {
        **production_env,
        "S3_CONNECT_TIMEOUT": "2",
        "S3_READ_TIMEOUT": "7",
        "S3_MAX_ATTEMPTS": "3",
    }
    options = load_settings(env)["STORAGES"]["default"]["OPTIONS"]
    config = options["client_config"]
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries == {"mode": "standard", "max_attempts": 3}
    # Given a client_config, django-storages no longer applies these two itself.
    assert config.signature_version == "s3v4"
    assert config.s3["addressing_style"] in ("path", "auto")


def test_s3_defaults_stay_under_the_worker_timeout(production_env):
    names = load_settings(production_env)
    worst = names["S3_MAX_ATTEMPTS"] * (
        names["S3_CONNECT_TIMEOUT"] + names["S3_READ_TIMEOUT"]
    )
    assert worst < 120  # GUNICORN_TIMEOUT's default; the proxy waits 130 s

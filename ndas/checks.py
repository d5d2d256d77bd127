"""Deploy checks (`manage.py check --deploy`): refuse an unsafe production set-up."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARS = 5
POSTGRESQL_ENGINE = "django.db.backends.postgresql"
REDIS_CACHE_BACKENDS = (
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
)
# django-storages' S3 backend, storing media as attachments of their checked type.
S3_STORAGE_BACKEND = "records.patients.storage.MediaStorage"

E_SECRET_MISSING = "SECRET_KEY is not set."
E_SECRET_WEAK = (
    "SECRET_KEY is weak: use at least 50 random characters, not the development key."
)
E_DATABASE = "DATABASE_URL must point to PostgreSQL; no other database is supported."
E_CACHE = "REDIS_URL is not set: production needs Redis for cache and sessions."
E_STORAGE = "AWS_STORAGE_BUCKET_NAME is not set: production stores media in S3."
E_HOSTS = "ALLOWED_HOSTS is empty: set the host names the site answers to."
W_PROXY_IPS = (
    "TRUSTED_PROXY_IP_HEADER is set but TRUSTED_PROXY_IPS names only this machine: "
    "a proxy elsewhere (another container) is not believed, every client seems to "
    "come from the proxy, and sign-in lockout by address locks them all together. "
    "Set TRUSTED_PROXY_IPS to the proxy's address or network."
)
LOOPBACK_ONLY = {"127.0.0.1", "::1"}
W_CLINIC_LOGO = (
    "CLINIC_LOGO names no PNG, JPEG or SVG file here ({path}): letters and printed "
    "summaries go out without the logo. Fix the path, or set it empty for no logo."
)


def _secret_key_errors() -> list[Error]:
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    if not key:
        return [Error(E_SECRET_MISSING, id="ndas.E001")]
    weak = (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARS
        or key == settings.DEV_SECRET_KEY
        or key.startswith("django-insecure-")
    )
    return [Error(E_SECRET_WEAK, id="ndas.E002")] if weak else []


@register(Tags.security, deploy=True)
def production_settings_check(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off, every production dependency must be configured (DEBUG on is
    Django's own security.W018)."""
    if settings.DEBUG:
        return []
    errors = _secret_key_errors()
    engines = {db["ENGINE"] for db in settings.DATABASES.values()}
    if engines != {POSTGRESQL_ENGINE}:
        errors.append(Error(E_DATABASE, id="ndas.E003"))
    if settings.CACHES["default"]["BACKEND"] not in REDIS_CACHE_BACKENDS:
        errors.append(Error(E_CACHE, id="ndas.E004"))
    storage = settings.STORAGES["default"]
    if storage["BACKEND"] != S3_STORAGE_BACKEND or not storage.get("OPTIONS", {}).get(
        "bucket_name"
    ):
        errors.append(Error(E_STORAGE, id="ndas.E005"))
    if not settings.ALLOWED_HOSTS:
        errors.append(Error(E_HOSTS, id="ndas.E006"))
    return errors


@register(Tags.security, deploy=True)
def trusted_proxy_check(app_configs=None, **kwargs) -> list[Warning]:
    """The client-address header is believed only from TRUSTED_PROXY_IPS: naming
    the header and leaving the proxies at their default is a set-up left half-done."""
    if settings.DEBUG or not settings.TRUSTED_PROXY_IP_HEADER:
        return []
    if set(settings.TRUSTED_PROXY_IPS) <= LOOPBACK_ONLY:
        return [Warning(W_PROXY_IPS, id="ndas.W001")]
    return []


@register(Tags.security, deploy=True)
def clinic_logo_check(app_configs=None, **kwargs) -> list[Warning]:
    """A letterhead logo that is not there is left out of every letter silently:
    say so when deploying instead."""
    from records.charts.letters import letterhead

    if settings.CLINIC_LOGO and not letterhead().logo_path:
        return [
            Warning(W_CLINIC_LOGO.format(path=settings.CLINIC_LOGO), id="ndas.W002")
        ]
    return []

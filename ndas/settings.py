"""NDAS settings: the one settings module, configured from environment variables alone.

Defaults are for development on a workstation. Production sets every variable listed in
`.env.example`; `manage.py check --deploy` refuses a production configuration that is
missing any of them (see `ndas/checks.py`).

Why one module past 500 lines: Django reads one settings module, and the operator reads
it top to bottom beside `.env.example`; each block says what it configures and why.
"""

from pathlib import Path

import environ
from botocore.config import Config as S3ClientConfig
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.urls import reverse_lazy

from ndas.formats.en import formats as _clinic_formats

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _clinic_time(text: str) -> tuple[int, int]:
    """(hour, minute) of an HH:MM setting (a scheduled job's time of day)."""
    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit()) or not (
        int(hour) < 24 and int(minute) < 60
    ):
        raise ImproperlyConfigured(f"A time of day is HH:MM (24-hour), not {text!r}.")
    return int(hour), int(minute)


# Development convenience only: this key is refused by the deploy check.
DEV_SECRET_KEY = "ndas-development-only-secret-key-never-use-in-production"

# Debug pages and demo accounts. Off in production; the deploy check errors if it is on.
DEBUG = env.bool("DEBUG", default=True)
# Signs sessions, CSRF tokens and password reset links. At least 50 random characters.
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
# Host names the site answers to, comma separated.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
# Full origins (https://ndas.example.org) allowed to POST, comma separated.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Label of the admin header's environment badge ("development", "staging", ...).
NDAS_ENVIRONMENT = env.str(
    "NDAS_ENVIRONMENT", default="development" if DEBUG else "production"
)

INSTALLED_APPS = [
    # unfold and its contrib apps must come before django.contrib.admin, which
    # is here with NDAS's admin site (unfold's, with its frame worked out once).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.simple_history",
    "admin_ext.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "csp",
    "storages",
    "simple_history",
    "guardian",
    # Second factor: authenticator apps (TOTP), passkeys and security keys.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "ndas",
    "records.common",
    "records.users",
    "records.patients",
    "records.clinical_records",
    "records.imports",
    "records.audit",
    "records.demo",
    "admin_ext",
]

MIDDLEWARE = [
    # Outermost: request id, access log, health endpoints (no host check, no session).
    "ndas.middleware.RequestContextMiddleware",
    "ndas.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "ndas.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "ndas.middleware.InputCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ndas.middleware.SessionTimeoutMiddleware",
    # request.user.otp_device from the session; then, until the second factor
    # passes, nothing of the admin but that step and sign-out.
    "django_otp.middleware.OTPMiddleware",
    "admin_ext.mfa.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "ndas.middleware.ExceptionMiddleware",
    # django-axes must be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ndas.urls"
WSGI_APPLICATION = "ndas.wsgi.application"
ASGI_APPLICATION = "ndas.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL is the only database, in development, tests and production alike.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///ndas")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# A ceiling on every statement, by the work this process does (NDAS_WORK, set by
# manage.py): a web request's statements are short; imports and exports (which
# raise it for their own statements: records.common.db.long_statements) and
# management commands get the long one. 0 turns a ceiling off. JIT stays off: it
# compiled for over a second on list queries and helped none (bench/jit_bench.py).
NDAS_WORK = env.str("NDAS_WORK", default="web")
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=15)
DATABASE_LONG_STATEMENT_TIMEOUT = env.float(
    "DATABASE_LONG_STATEMENT_TIMEOUT", default=3600
)
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT = env.float(
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", default=60
)
DATABASE_JIT = env.bool("DATABASE_JIT", default=False)
_statement_seconds = (
    DATABASE_STATEMENT_TIMEOUT
    if NDAS_WORK == "web"
    else DATABASE_LONG_STATEMENT_TIMEOUT
)
DATABASES["default"]["OPTIONS"]["options"] = (
    f"-c statement_timeout={int(_statement_seconds * 1000)} "
    "-c idle_in_transaction_session_timeout="
    f"{int(DATABASE_IDLE_IN_TRANSACTION_TIMEOUT * 1000)} "
    f"-c jit={'on' if DATABASE_JIT else 'off'}"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and sessions: Redis in production; local memory only for development.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ndas",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # A Redis outage must not take the site down: sessions use the DB.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery (ndas/celery.py): Redis is the broker and keeps results briefly; the job
# rows (ImportJob, ExportJob) hold the state a person sees. Without REDIS_URL (a
# development machine with no Redis) tasks run in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task hands it back...
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # ...and holds one task at a time
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker process is replaced after this many tasks (memory an export grew stays
# bounded); workers start with `--max-tasks-per-child` too (docker-compose.prod.yml).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 50)
# Workers log as the web does (LOGGING: JSON lines), not in celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Exports of more rows than this are built by a worker into private storage and
# downloaded from the Exports list (a link valid for EXPORT_URL_EXPIRY_SECONDS);
# smaller ones stream from the web as before. 0 sends every export to a worker.
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=50_000)
EXPORT_URL_EXPIRY_SECONDS = 300
# Days a background export's file is kept for download (deleted by the daily jobs).
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)

# Sessions live in the database alone. A cached copy outlives a sign-out that could
# not reach Redis (cache errors are ignored), and would open the chart again when Redis
# came back; checking each cached copy against its row costs the same query as reading
# the row (README, "Operations").
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Seconds of inactivity after which a signed-in user must sign in again.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# Seconds after sign-in after which the session ends, however active.
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# __Host- cookies are bound to this exact host, HTTPS only and path "/".
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-ndas_session"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-ndas_csrf"

# Media: a private S3 bucket in production; local files under var/media in development.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
# Every S3 call gives up after these (botocore's own defaults are 60 s and 60 s, with
# 5 tries): seconds to connect, seconds to wait for each read, tries in all. A call
# takes at most about S3_MAX_ATTEMPTS x (S3_CONNECT_TIMEOUT + S3_READ_TIMEOUT), which
# must stay under GUNICORN_TIMEOUT and the proxy's read timeout (130 s).
S3_CONNECT_TIMEOUT = env.float("S3_CONNECT_TIMEOUT", default=3)
S3_READ_TIMEOUT = env.float("S3_READ_TIMEOUT", default=20)
S3_MAX_ATTEMPTS = env.int("S3_MAX_ATTEMPTS", default=2)
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    DEFAULT_FILE_STORAGE_CONFIG = {
        # Stored as attachments of their checked type (records.patients.storage).
        "BACKEND": "records.patients.storage.MediaStorage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,  # the bucket's own (private) policy applies
            "querystring_auth": True,  # every download URL is presigned...
            "querystring_expire": 300,  # ...and valid for five minutes at most
            "file_overwrite": False,
            # django-storages ignores its signature_version and addressing_style
            # options when given a client_config: they are set here.
            "client_config": S3ClientConfig(
                signature_version="s3v4",
                # S3-compatible stores (MinIO, moto) need path-style addressing.
                s3={"addressing_style": "path" if AWS_S3_ENDPOINT_URL else "auto"},
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"mode": "standard", "max_attempts": S3_MAX_ATTEMPTS},
            ),
        },
    }
else:
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    }

# Seconds each /readyz check may take before it counts as failed (they run side by
# side, so /readyz answers within about this long whatever hangs).
READINESS_CHECK_TIMEOUT = env.float("READINESS_CHECK_TIMEOUT", default=2)

STATIC_URL = "/static/"
# Development and tests serve static files from the apps, without `collectstatic`.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    # Hashed, compressed, long-cached files need `collectstatic`; development serves
    # them straight from the apps.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "ndas.static_files.StaticFiles"
        )
    },
}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permissions in one query, where ModelBackend looks (records/users/backends.py).
    "records.users.backends.PermissionsBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Object permissions: which care teams' charts a clinician may open.
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous user object: anonymous visitors never hold object permissions.
ANONYMOUS_USER_NAME = None
# How long an emergency ("break-the-glass") access to a chart lasts, in hours.
BREAK_GLASS_HOURS = env.float("BREAK_GLASS_HOURS", default=4)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Made of the username or other details of the account, repeated or not.
    {"NAME": "records.users.passwords.AccountDetailsPasswordValidator"},
]
LOGIN_URL = "admin:login"
# unfold's login page has no `next` field, so say where to go after signing in.
LOGIN_REDIRECT_URL = "admin:index"

# Login lockout (django-axes): a username+IP pair is locked after 5 failures for 30
# minutes; a username alone after NDAS_USERNAME_FAILURE_LIMIT failures from anywhere
# (distributed guessing). records.users.lockout applies the second limit.
AXES_VERBOSE = False
AXES_HANDLER = "records.users.lockout.NdasAxesHandler"
AXES_FAILURE_LIMIT = 5
NDAS_USERNAME_FAILURE_LIMIT = env.int("NDAS_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
# A password alone is no success while a second factor is due: the failures (wrong
# passwords and wrong codes alike) are reset when the second step passes
# (records.users.lockout.NdasAxesHandler, records.users.mfa).
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "records.common.net.client_ip"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# Name of the one header the trusted reverse proxy sets to the client's address
# (for example X-Real-IP). Empty: the connection's own address (REMOTE_ADDR) is used.
TRUSTED_PROXY_IP_HEADER = env.str("TRUSTED_PROXY_IP_HEADER", default="")
# Addresses or networks (comma separated) of that proxy: its headers (the IP above,
# X-Request-ID) are believed only on connections from these. Default: a proxy on this
# machine; the compose stack's .env.example names the private networks of its own.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=["127.0.0.1", "::1"])

# Second factor (django-otp, django-otp-webauthn): the roles that must pass one at
# every sign-in (comma separated; superusers always must). A user of another role
# who has added a factor must pass it too.
MFA_REQUIRED_ROLES = env.list(
    "MFA_REQUIRED_ROLES",
    default=["Administrator", "Clinician", "Data manager", "Auditor"],
)
# Shown by authenticator apps beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="NDAS")
# Passkeys are bound to this domain (changing it orphans every passkey) and
# accepted from these origins only. Defaults: the first CSRF_TRUSTED_ORIGINS (its
# host and itself); on a development machine localhost:8000 (a passkey needs a
# host name: http://localhost:8000/admin/, not 127.0.0.1).
_webauthn_origins_default = CSRF_TRUSTED_ORIGINS[:1] or (
    ["http://localhost:8000"] if DEBUG else []
)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS", default=_webauthn_origins_default
)
OTP_WEBAUTHN_RP_ID = env.str(
    "WEBAUTHN_RP_ID",
    default=(
        OTP_WEBAUTHN_ALLOWED_ORIGINS[0].split("://", 1)[-1].split(":")[0]
        if OTP_WEBAUTHN_ALLOWED_ORIGINS
        else ""
    ),
)
OTP_WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="NDAS")
# The passkey is a second factor only: a password comes first.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Security headers. HSTS is sent on HTTPS responses only, and only in production.
SECURE_HSTS_SECONDS = 0 if DEBUG else 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_SSL_REDIRECT = not DEBUG
# Container health checks talk plain HTTP to the worker itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # unfold's Alpine.js evaluates its x-* attribute expressions with new
        # Function(), which CSP treats as eval. This is the only relaxation: inline
        # scripts stay blocked.
        "script-src": ["'self'", "'unsafe-eval'"],
        # unfold and Django's admin widgets set style attributes in their markup.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# Change history (django-simple-history): history pages show versions, never restore.
SIMPLE_HISTORY_REVERT_DISABLED = True
# History reasons are text: a reason of up to 200 characters (the forms' limit) plus
# a prefix ("Amendment: ", "import #12: ") must fit, never fail the save.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Patient records.
# Pattern a medical record number must match after trimming and upper-casing.
PATIENT_MRN_PATTERN = env.str("PATIENT_MRN_PATTERN", default=r"[A-Z0-9-]{4,20}")
# Country whose numbering plan applies to phone numbers given without a country code.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="GB")
# Largest upload per kind of media, in bytes.
MEDIA_MAX_BYTES = {
    "video": env.int("MEDIA_MAX_VIDEO_BYTES", default=2 * 1024**3),
    "image": env.int("MEDIA_MAX_IMAGE_BYTES", default=25 * 1024**2),
    "document": env.int("MEDIA_MAX_DOCUMENT_BYTES", default=25 * 1024**2),
}
# Seconds a media download link stays valid (at most five minutes).
MEDIA_URL_EXPIRY_SECONDS = min(env.int("MEDIA_URL_EXPIRY_SECONDS", default=300), 300)

# Clinic letters and printed summaries (PDF): the letterhead. The address is its
# lines separated by semicolons; the logo a PNG, JPEG or SVG file on this machine
# (empty: no logo). The demo defaults are placeholders for a development machine.
CLINIC_NAME = env.str("CLINIC_NAME", default="NDAS Demo Neurodevelopmental Clinic")
CLINIC_ADDRESS = env.str(
    "CLINIC_ADDRESS", default="Children's Centre; 1 Example Road; Exampleton EX1 2AB"
)
CLINIC_LOGO = env.str(
    "CLINIC_LOGO", default=str(BASE_DIR / "admin_ext/static/admin_ext/favicon.svg")
)

# Spreadsheet imports: the largest upload (refused while it streams in), and what
# reading one may hold: rows, cells, and the bytes an XLSX unzips to.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024**2)
# Rows counted with the header's: a file of a million rows and its header is read.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_001)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=30_000_000)
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_BYTES", default=1024**3)
# An upload of at least this many rows (CSV lines) or bytes is checked and
# committed by a Celery worker (records.imports.tasks), the page showing its
# progress; a smaller one within the request, as before.
IMPORT_WORKER_MIN_ROWS = env.int("IMPORT_WORKER_MIN_ROWS", default=20_000)
IMPORT_WORKER_MIN_BYTES = env.int("IMPORT_WORKER_MIN_BYTES", default=5 * 1024**2)
# How often (seconds) a worker writes an import's progress to its row.
IMPORT_PROGRESS_EVERY_S = env.float("IMPORT_PROGRESS_EVERY_S", default=1.0)
# The import upload's size is checked as it arrives (records.imports.uploads);
# Django's own handlers then keep small files in memory, larger ones on disk.
FILE_UPLOAD_HANDLERS = [
    "records.imports.uploads.ImportUploadLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-gb")
# The clinic's time zone: the times staff see and type, and what "today" is.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# The daily jobs, run by the one `beat` process (README, "Operations"), at clinic
# times (TIME_ZONE): HH:MM from the environment. Beat keeps its own state in a file
# (celery's default scheduler, `-s`), never in the database.
CELERY_TIMEZONE = TIME_ZONE
_housekeeping_at = _clinic_time(env.str("HOUSEKEEPING_TIME", default="02:00"))
_verify_audit_at = _clinic_time(env.str("VERIFY_AUDIT_TIME", default="02:15"))
# The head the nightly audit check keeps between runs (a volume in compose).
AUDIT_HEAD_FILE = env.str("AUDIT_HEAD_FILE", default=str(VAR_DIR / "audit-head"))
JOB_SWEEP_SECONDS = env.int("JOB_SWEEP_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "expire-imports": {
        "task": "records.imports.job_tasks.expire_imports",
        "schedule": crontab(hour=_housekeeping_at[0], minute=_housekeeping_at[1]),
    },
    "clear-sessions": {
        "task": "records.common.tasks.clear_sessions",
        "schedule": crontab(hour=_housekeeping_at[0], minute=_housekeeping_at[1]),
    },
    "verify-audit": {
        "task": "records.audit.tasks.verify_audit",
        "schedule": crontab(hour=_verify_audit_at[0], minute=_verify_audit_at[1]),
    },
    "sweep-jobs": {
        "task": "records.imports.job_tasks.sweep_jobs",
        "schedule": float(JOB_SWEEP_SECONDS),
    },
}
# Task modules besides the apps' tasks.py (which the Celery app finds itself).
CELERY_IMPORTS = ["records.imports.job_tasks"]
# The scheduled jobs go to their own queue, which the one beat container's worker
# consumes (it holds the audit head's volume); imports and exports to "celery".
CELERY_TASK_ROUTES = {
    entry["task"]: {"queue": "scheduled"} for entry in CELERY_BEAT_SCHEDULE.values()
}
# Dates and times as the clinic writes them: ndas/formats/<language>/formats.py
# (17 May 2023; typed DD/MM/YYYY or ISO; 14:05 GMT). A language without a module
# there takes Django's formats for it. unfold's filters read the settings' input
# formats themselves: the same ones.
FORMAT_MODULE_PATH = ["ndas.formats"]
DATE_INPUT_FORMATS = _clinic_formats.DATE_INPUT_FORMATS
DATETIME_INPUT_FORMATS = _clinic_formats.DATETIME_INPUT_FORMATS
TIME_INPUT_FORMATS = _clinic_formats.TIME_INPUT_FORMATS
DATE_FORMAT = _clinic_formats.DATE_FORMAT
DATETIME_FORMAT = _clinic_formats.DATETIME_FORMAT
TIME_FORMAT = _clinic_formats.TIME_FORMAT
SHORT_DATE_FORMAT = _clinic_formats.SHORT_DATE_FORMAT
SHORT_DATETIME_FORMAT = _clinic_formats.SHORT_DATETIME_FORMAT

# Logging: JSON lines on stdout, each with the request id and user id of its request.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "ndas.logging.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "ndas.logging.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our own access log replaces these; they would log each request a second time.
        "django.request": {"level": "CRITICAL"},
        "django.server": {"level": "WARNING"},
        # axes logs every reset at INFO; lockouts are recorded as login events.
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF at INFO; its warnings (a resource
        # refused) are kept.
        "weasyprint": {"level": "WARNING"},
    },
}

UNFOLD = {
    "SITE_TITLE": "NDAS",
    "SITE_HEADER": "NDAS",
    "SITE_SUBHEADER": "Neurodevelopmental clinic records",
    "SITE_SYMBOL": "child_care",
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": lambda request: static("admin_ext/favicon.svg"),
        }
    ],
    "SITE_URL": "/admin/",
    "SHOW_VIEW_ON_SITE": False,
    # Accessibility fixes on every page: select2's widgets named after their
    # labels, links in text underlined (admin_ext/static/admin_ext/a11y.*).
    "STYLES": [lambda request: static("admin_ext/a11y.css")],
    # Date fields' calendar buttons out of the Tab order (admin_ext/.../date_fields.js).
    "SCRIPTS": [
        lambda request: static("admin_ext/a11y.js"),
        lambda request: static("admin_ext/date_fields.js"),
        lambda request: static("admin_ext/confirm.js"),
    ],
    "ENVIRONMENT": "admin_ext.dashboard.environment_callback",
    "DASHBOARD_CALLBACK": "admin_ext.dashboard.dashboard_callback",
    # The user menu: one's own second factors.
    "ACCOUNT": {
        "navigation": [
            {
                "title": "Sign-in security",
                "link": reverse_lazy("mfa:manage"),
            }
        ]
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "admin_ext.navigation.sidebar_navigation",
    },
}

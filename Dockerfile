# syntax=docker/dockerfile:1
# NDAS production image: gunicorn serving Django, static files by WhiteNoise.

# ---- build: a virtualenv with exactly the pinned runtime dependencies ---------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r /tmp/requirements.lock

# ---- runtime: slim, non-root, static files collected at build ------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=ndas.settings
# postgresql-client: pg_dump for manage.py backup_database (the compose file's backup
# service) and pg_restore for a restore; bookworm's is PostgreSQL 15, as db's server.
# Pango, HarfBuzz's subsetter and DejaVu fonts: WeasyPrint's clinic letters (PDF).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl postgresql-client \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ndas \
 && useradd --system --uid 10001 --gid ndas --home-dir /app --shell /usr/sbin/nologin ndas
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=ndas:ndas . /app
# collectstatic needs settings but no services: DEBUG off selects the hashed, compressed
# storage; the throwaway key never leaves this build step.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-build-key ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var && chown ndas:ndas /app/var
# By number: a host or orchestrator checking runAsNonRoot cannot resolve a name.
USER 10001:10001
EXPOSE 8000
# The shell form on purpose: curl's own failure codes become the 1 Docker expects.
# hadolint ignore=DL3025
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl --fail --silent http://127.0.0.1:8000/healthz || exit 1
CMD ["gunicorn", "--config", "gunicorn.conf.py", "ndas.wsgi:application"]

#!/bin/sh
# NDAS's two database roles, made once: the official postgres image runs this as its
# superuser (POSTGRES_USER) when it starts on an empty data volume.
#
#   NDAS_DB_OWNER     owns the database and (through migrate) every table; only the
#                     migrate service connects as it (MIGRATE_DATABASE_URL).
#   NDAS_DB_APP_USER  web and housekeeping (DATABASE_URL): owns nothing, creates
#                     nothing; what it may read and write is granted after every
#                     migrate by `manage.py grant_app_role` (README, "Deploying with
#                     docker compose", which also gives this SQL for a managed server).
set -eu
: "${POSTGRES_DB:?}" "${NDAS_DB_OWNER:?set NDAS_DB_OWNER}"
: "${NDAS_DB_OWNER_PASSWORD:?set NDAS_DB_OWNER_PASSWORD}"
: "${NDAS_DB_APP_USER:?set NDAS_DB_APP_USER}"
: "${NDAS_DB_APP_PASSWORD:?set NDAS_DB_APP_PASSWORD}"

# psql fills :"name" (an identifier) and :'name' (a literal) itself, quoted.
psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" \
  --dbname "$POSTGRES_DB" \
  --set=db="$POSTGRES_DB" \
  --set=owner="$NDAS_DB_OWNER" --set=owner_password="$NDAS_DB_OWNER_PASSWORD" \
  --set=app="$NDAS_DB_APP_USER" --set=app_password="$NDAS_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
-- The owner owns the database, and so (PostgreSQL 15) its public schema.
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
GRANT USAGE ON SCHEMA public TO :"app";
SQL

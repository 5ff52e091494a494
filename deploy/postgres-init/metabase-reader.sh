#!/bin/sh
# Run by the postgres image once, when its volume is first initialised (docker-entrypoint-initdb.d),
# as POSTGRES_USER, the user the worker writes the mirror as. It adds the login Metabase reads the
# mirror with: SELECT on every table and view, today's and those the worker creates later (its
# migrations, the rebuilt custom-field view, the rollups), and nothing else.
set -eu
: "${METABASE_DB_USER:=metabase}"
: "${METABASE_DB_PASSWORD:?set METABASE_DB_PASSWORD (the password Metabase reads the mirror with)}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="$METABASE_DB_USER" -v password="$METABASE_DB_PASSWORD" -v owner="$POSTGRES_USER" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"db" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL

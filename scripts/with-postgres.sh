#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server: a fresh cluster in a temporary folder,
# listening only on a Unix socket there, removed afterwards. As root the server runs as 'postgres'
# (initdb refuses root). Usage: scripts/with-postgres.sh COMMAND [ARG ...]
# With CIVICGRID_PG_KEEP=DIR the cluster lives in DIR instead and is kept afterwards (stopped, not removed):
# a later run with the same DIR starts it again with its data, e.g. a benchmark's million loaded households.
set -euo pipefail
bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bindir=$(pg_config --bindir); fi
[ -n "$bindir" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
keep="${CIVICGRID_PG_KEEP:-}"
if [ -n "$keep" ]; then mkdir -p "$keep"; dir=$(cd "$keep" && pwd); else dir=$(mktemp -d /tmp/civicgrid-pg.XXXXXX); fi
as_db() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  # from the cluster's own folder: the postgres user may not enter the caller's working directory
  as_db() { (cd "$dir" && runuser -u postgres -- "$@"); }
fi
if [ -n "$keep" ]; then
  # a kept cluster is stopped cleanly (its data must survive); fsync is off, so it is synced on the way out
  cleanup() { as_db "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; sync; }
else
  cleanup() { as_db "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
fi
trap cleanup EXIT
fresh=1
if [ -n "$keep" ] && [ -f "$dir/data/PG_VERSION" ]; then fresh=0; fi
[ "$fresh" = 0 ] || as_db "$bindir/initdb" -D "$dir/data" -U civicgrid --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_db "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -c listen_addresses='' -p 54329 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
[ "$fresh" = 0 ] || as_db "$bindir/createdb" -h "$dir" -p 54329 -U civicgrid civicgrid
export CIVICGRID_DATABASE_URL="postgresql://civicgrid@/civicgrid?host=$dir&port=54329"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $dir"
"$@"

#!/usr/bin/env bash
# Installs what dbtool's build and tests need on a fresh Debian machine, and
# only what is missing. Safe to run again.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_bin_ok() {
  have initdb && have pg_ctl && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

pg_bin_ok || need+=(postgresql-15)
have psql || need+=(postgresql-client-15)
have pgbench || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || need+=(postgresql-15)
# Extensions dbtool uses when present (pg_cron for scheduled jobs, pgTAP,
# plpgsql_check for lint): optional, installed for the reference backbone.
for pkg in postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# pg_prove: only the pgTAP benchmark compares with it.
have pg_prove || need+=(libtap-parser-sourcehandler-pgtap-perl)
if [ "${DBTOOL_WITH_CHROMIUM:-0}" = 1 ] && ! have chromium; then need+=(chromium); fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

have go || { echo "Go is required (https://go.dev/dl)" >&2; exit 1; }

#!/usr/bin/env bash
# Entrypoint for the locally built dbtool/postgres:15 image (see build.sh).
# Mimics the official `postgres` image's docker-entrypoint.sh closely enough for
# testcontainers-go's postgres module:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD, POSTGRES_DB (default = user),
#   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD
#   (default scram-sha-256), *_FILE variants, PGDATA, /docker-entrypoint-initdb.d/*.
# On first start it logs "database system is ready to accept connections" twice
# (temporary init server, then the real one), like the official image.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR may also be given as VAR_FILE (path to a file, e.g. a secret).
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(<"${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# True when the server command was asked only for help/version (no init then).
want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
	DATABASE_ALREADY_EXISTS=
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

# Create/own the data and socket directories (as root: also fix ownership).
create_dirs() {
	local user
	user="$(id -u)"
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		[ "$user" = 0 ] && find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [ "$user" = 0 ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOM'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
			       (Or set POSTGRES_HOST_AUTH_METHOD=trust to allow all connections
			       without a password; not recommended.)
		EOM
		exit 1
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
		echo >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: all host connections are allowed without a password.'
	fi
}

# initdb as the postgres user: trust on the local socket, password auth for TCP.
init_database_dir() {
	local -a args=(--username="$POSTGRES_USER" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		args+=(--waldir="$POSTGRES_INITDB_WALDIR")
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = md5 ]; then
		args+=(--set password_encryption=md5)
	fi
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is intentionally word-split
	if [ -n "$POSTGRES_PASSWORD" ]; then
		# the <(...) must be on the initdb command line itself: its fd closes afterwards
		initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
	else
		initdb "${args[@]}" $POSTGRES_INITDB_ARGS
	fi
}

# Listen on all interfaces and accept password auth from any host (IPv4+IPv6).
setup_config() {
	sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$PGDATA/postgresql.conf"
	grep -q "^listen_addresses = '\*'" "$PGDATA/postgresql.conf" ||
		echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

# Temporary server on the unix socket only (no TCP), with the user's -c args.
temp_server_start() {
	if [ "$1" = postgres ]; then shift; fi
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
}

psql_init() {
	PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
		--no-password --no-psqlrc "$@"
}

setup_db() {
	local exists
	exists="$(psql_init --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)"
	if [ -z "$exists" ]; then
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		echo
	fi
}

# Run /docker-entrypoint-initdb.d/* (*.sh, *.sql, *.sql.gz, *.sql.xz, *.sql.zst).
process_init_files() {
	local f
	echo
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					echo "$0: running $f"
					"$f"
				else
					echo "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) echo "$0: running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f"; echo ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB"; echo ;;
			*.sql.xz) echo "$0: running $f"; xzcat "$f" | psql_init --dbname "$POSTGRES_DB"; echo ;;
			*.sql.zst) echo "$0: running $f"; zstd -dc "$f" | psql_init --dbname "$POSTGRES_DB"; echo ;;
			*) echo "$0: ignoring $f" ;;
		esac
		echo
	done
}

main() {
	# `docker run img -c fsync=off` => `postgres -c fsync=off`
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi

	if [ "$1" = postgres ] && ! want_help "$@"; then
		setup_env
		create_dirs
		if [ "$(id -u)" = 0 ]; then
			# Re-run this script as the postgres OS user (no gosu in this image).
			exec setpriv --reuid=postgres --regid=postgres --init-groups \
				env HOME=/var/lib/postgresql "${BASH_SOURCE[0]}" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			verify_minimum_env
			init_database_dir
			setup_config

			# PGPASSWORD is needed by psql if POSTGRES_HOST_AUTH_METHOD != trust
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			temp_server_start "$@"
			setup_db
			process_init_files
			temp_server_stop
			unset PGPASSWORD

			echo
			echo 'PostgreSQL init process complete; ready for start up.'
			echo
		else
			echo
			echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
			echo
		fi
	fi

	exec "$@"
}

main "$@"

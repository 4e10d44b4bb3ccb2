#!/usr/bin/env bash
# Smoke test for the image built by build.sh: start a container the way
# testcontainers-go's postgres module does, wait for the "ready" log line twice,
# connect over TCP with a password, then remove the container.
#
# Env: IMAGE=dbtool/postgres:15  PORT=55432  TIMEOUT=60 (seconds)
# Needs psql on the host (apt-get install postgresql-client) for the TCP check;
# without it, the check runs psql inside the container over TCP instead.
set -euo pipefail

IMAGE="${IMAGE:-dbtool/postgres:15}"
PORT="${PORT:-55432}"
TIMEOUT="${TIMEOUT:-60}"
READY='database system is ready to accept connections'

start=$(date +%s%N)
cid="$(docker run -d -e POSTGRES_PASSWORD=secret -p "127.0.0.1:$PORT:5432" "$IMAGE" postgres -c fsync=off)"
trap 'docker rm -f -v "$cid" >/dev/null' EXIT

# Wait for 2 occurrences of the ready line (init server + real server).
while :; do
	n="$(docker logs "$cid" 2>&1 | grep -c "$READY" || true)"
	[ "$n" -ge 2 ] && break
	if [ "$(docker inspect -f '{{.State.Running}}' "$cid")" != true ]; then
		docker logs "$cid" >&2
		echo "FAIL: container exited" >&2
		exit 1
	fi
	if [ $(($(date +%s%N) - start)) -gt $((TIMEOUT * 1000000000)) ]; then
		docker logs "$cid" >&2
		echo "FAIL: not ready after ${TIMEOUT}s" >&2
		exit 1
	fi
	sleep 0.05
done
ready_ms=$((($(date +%s%N) - start) / 1000000))
echo "ready line seen $n times after ${ready_ms}ms"

# Connect over TCP through the published port, with password auth.
if command -v psql >/dev/null; then
	PGPASSWORD=secret PGCONNECT_TIMEOUT=10 psql -X -h 127.0.0.1 -p "$PORT" -U postgres \
		-c 'select version()' -c 'show server_encoding' -c 'show fsync'
else
	docker exec -e PGPASSWORD=secret "$cid" psql -X -h 127.0.0.1 -U postgres -c 'select version()'
fi

# A wrong password must be rejected (scram-sha-256 for host connections).
if command -v psql >/dev/null &&
	PGPASSWORD=wrong psql -X -h 127.0.0.1 -p "$PORT" -U postgres -c 'select 1' >/dev/null 2>&1; then
	echo "FAIL: wrong password accepted" >&2
	exit 1
fi
echo "OK"

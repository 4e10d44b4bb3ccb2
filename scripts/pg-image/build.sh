#!/usr/bin/env bash
# Build a local Docker image with PostgreSQL 15 from Debian packages, without any
# image registry: debootstrap a minimal Debian rootfs, install postgresql-15 into
# it, and `docker import` it with an entrypoint compatible with the official
# `postgres` image (see docker-entrypoint.sh).
#
# Usage (as root): scripts/pg-image/build.sh
# Env:
#   IMAGE=dbtool/postgres:15   tag to build
#   ALSO_TAG_OFFICIAL=1        also tag the result as postgres:15
#   FORCE=1                    rebuild even if the image is up to date
#   SUITE=bookworm             Debian release to bootstrap
#   MIRROR=...                 Debian mirror (default: the one apt uses here)
set -euo pipefail

IMAGE="${IMAGE:-dbtool/postgres:15}"
ALSO_TAG_OFFICIAL="${ALSO_TAG_OFFICIAL:-0}"
FORCE="${FORCE:-0}"
SUITE="${SUITE:-bookworm}"
PG_MAJOR=15
HASH_LABEL=dev.dbtool.pg-image.hash

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[pg-image] %s\n' "$*" >&2; }

tag_official() {
	if [ "$ALSO_TAG_OFFICIAL" = 1 ]; then
		docker tag "$IMAGE" "postgres:$PG_MAJOR"
		log "also tagged postgres:$PG_MAJOR"
	fi
}

# --- 0. Up-to-date check: hash of the inputs, stored as an image label ---------
build_hash="$(
	{
		cat "$here/build.sh" "$here/docker-entrypoint.sh"
		echo "suite=$SUITE"
	} | sha256sum | cut -d' ' -f1
)"
if [ "$FORCE" != 1 ] &&
	[ "$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$IMAGE" 2>/dev/null || true)" = "$build_hash" ]; then
	log "$IMAGE is up to date (hash ${build_hash:0:12}); nothing to do"
	tag_official
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	log "must run as root (debootstrap/chroot)"
	exit 1
fi
start=$SECONDS

# --- 1. Host tools -----------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		debootstrap debian-archive-keyring >/dev/null
fi

# --- 2. Mirrors: the ones this machine's apt uses (any sources format) -----------------
# `apt-get indextargets` lists the parsed sources (one-line .list and deb822 .sources).
# shellcheck disable=SC2016 # $(...) are apt format fields, not shell
apt_targets="$(apt-get indextargets --no-release-info \
	--format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null | sort -u || true)"
mirror_for() { # mirror_for RELEASE -> URI of a "deb" source for that release
	awk -v r="$1" '$1 == "deb" && $2 == r { sub("/$", "", $3); print $3; exit }' <<<"$apt_targets"
}
MIRROR="${MIRROR:-$(mirror_for "$SUITE")}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="$(mirror_for "$SUITE-security")"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
log "mirror: $MIRROR (security: $SECURITY_MIRROR)"

# A proxy configured only for apt must also reach debootstrap (it uses wget).
if [ -z "${http_proxy:-}" ]; then
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	if [ -n "${http_proxy:-}" ] && [ "$http_proxy" != DIRECT ]; then export http_proxy; else unset http_proxy; fi
fi

# --- 3. Temporary rootfs, always cleaned up (unmount first!) ----------------------
rootfs="$(mktemp -d /var/tmp/pg-image.XXXXXX)"
chmod 0755 "$rootfs" # becomes the image's "/" (mktemp creates it 0700)
cleanup() {
	mountpoint -q "$rootfs/proc" 2>/dev/null && umount -l "$rootfs/proc"
	rm -rf --one-file-system "$rootfs" "$rootfs.debootstrap.log"
}
trap cleanup EXIT

include=()
case "$MIRROR$SECURITY_MIRROR" in *https://*) include=(--include=ca-certificates) ;; esac
log "debootstrap $SUITE (minbase) into $rootfs"
debootstrap --variant=minbase "${include[@]}" "$SUITE" "$rootfs" "$MIRROR" \
	>"$rootfs.debootstrap.log" 2>&1 || {
	tail -n 30 "$rootfs.debootstrap.log" >&2
	exit 1
}

# --- 4. Configure apt/dpkg in the chroot ---------------------------------------------
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
# Host apt settings needed to reach the mirror (proxies, Valid-Until), removed later.
copied_conf=()
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] || continue
	if grep -qiE 'proxy|Check-Valid-Until|Check-Date' "$f"; then
		cp "$f" "$rootfs/etc/apt/apt.conf.d/00host-$(basename "$f")"
		copied_conf+=("$rootfs/etc/apt/apt.conf.d/00host-$(basename "$f")")
	fi
done
# Keep the image small: no docs/man pages/translations (like debian:*-slim).
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*/LC_MESSAGES/*.mo
EOF
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nDpkg::Use-Pty "0";\n' \
	>"$rootfs/etc/apt/apt.conf.d/01-no-recommends"
# Never start services inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

# --- 5. Install PostgreSQL in the chroot --------------------------------------------------
mount -t proc proc "$rootfs/proc"
in_chroot() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C ${http_proxy:+http_proxy=$http_proxy} "$@"; }
log "installing postgresql-$PG_MAJOR in the chroot"
# postgresql-15 depends on locales anyway: generate en_US.UTF-8 like the official image.
# shellcheck disable=SC2016 # the script runs inside the chroot; $1 = PG_MAJOR
in_chroot bash -euo pipefail -c '
	apt-get update -qq
	# postgresql-common first, so no "main" cluster gets created (as the official image does)
	apt-get install -y -qq postgresql-common >/dev/null
	sed -ri "s/#(create_main_cluster) .*$/\1 = false/" /etc/postgresql-common/createcluster.conf
	apt-get install -y -qq "postgresql-$1" locales >/dev/null
	echo "en_US.UTF-8 UTF-8" >/etc/locale.gen
	locale-gen >/dev/null
	apt-get clean
' bash "$PG_MAJOR"
umount "$rootfs/proc"

# --- 6. Entrypoint + final cleanup of the rootfs ------------------------------------------
install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
install -d -m 0755 "$rootfs/docker-entrypoint-initdb.d"
install -d "$rootfs/run/postgresql"
chroot "$rootfs" chown postgres:postgres /run/postgresql
chmod 3777 "$rootfs/run/postgresql" # as in the official image (any --user may use it)
install -d -m 0700 "$rootfs/var/lib/postgresql/data"
chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql
rm -f "$rootfs/usr/sbin/policy-rc.d" "${copied_conf[@]}"
rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/* "${rootfs:?}"/var/cache/debconf/*-old \
	"${rootfs:?}"/var/log/* "${rootfs:?}"/tmp/* "${rootfs:?}"/dev/* \
	"${rootfs:?}"/usr/share/man/* "${rootfs:?}"/usr/share/info/*
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/locale" -name '*.mo' -delete # message translations
find "$rootfs/usr/share/doc" "$rootfs/usr/share/locale" -mindepth 1 -type d -empty -delete
: >"$rootfs/etc/resolv.conf" # docker provides its own
: >"$rootfs/etc/hostname"

# --- 7. Import as an image ---------------------------------------------------------------------
old_id="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
log "importing rootfs as $IMAGE"
imported="$(tar --numeric-owner --xattrs -C "$rootfs" -cf - . | docker import \
	-c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	-c 'CMD ["postgres"]' \
	-c 'EXPOSE 5432' \
	-c 'VOLUME /var/lib/postgresql/data' \
	-c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/$PG_MAJOR/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	-c 'ENV LANG=en_US.utf8' \
	-c "ENV PG_MAJOR=$PG_MAJOR" \
	-c 'ENV PGDATA=/var/lib/postgresql/data' \
	-c "LABEL $HASH_LABEL=$build_hash" \
	-m "dbtool postgres $PG_MAJOR from Debian $SUITE packages (scripts/pg-image/build.sh)" \
	-)"
# `docker import` cannot set STOPSIGNAL; the official image uses SIGINT (fast shutdown,
# so `docker stop` does not wait for clients to disconnect). Add it with a one-line
# build on top of the imported image (classic builder: offline, no buildx needed).
if ! err="$(printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$imported" |
	DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" - 2>&1 >/dev/null)"; then
	log "warning: could not set STOPSIGNAL (docker stop may wait for clients): $err"
	docker tag "$imported" "$IMAGE"
fi
tag_official
# Drop the previous build if it is now untagged (fails harmlessly if a container uses it).
if [ -n "$old_id" ] && [ "$(docker image inspect -f '{{len .RepoTags}}' "$old_id" 2>/dev/null)" = 0 ]; then
	docker rmi "$old_id" >/dev/null 2>&1 || true
fi
log "built $IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | numfmt --to=si)B)"

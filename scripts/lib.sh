#!/usr/bin/env bash
#
# lib.sh - helpers shared by test.sh and demo.sh: dependencies, build,
# install, and the unprivileged user that runs PostgreSQL when we are root.
#
PG_MAJOR=15
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/$PG_MAJOR/bin}
PG_CONFIG=$PG_BINDIR/pg_config
TEST_USER=${TEST_USER:-repmgrtest}
PACKAGES=(
	make gcc libc6-dev perl
	postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-contrib
	libpq-dev libipc-run-perl
	rsync openssh-server openssh-client iproute2 procps iptables libfaketime
	haproxy prometheus curl sudo
)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "error: '$*' needs root; run as root or install sudo" >&2
		return 1
	fi
}

install_dependencies() {
	local missing=() pkg
	for pkg in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	# no default cluster on port 5432: tests and demo make their own
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		as_root mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
}

build_and_install() {
	make -C "$here" -s PG_CONFIG="$PG_CONFIG"
	as_root make -C "$here" -s PG_CONFIG="$PG_CONFIG" install
}

ensure_test_user() {
	id -u "$TEST_USER" >/dev/null 2>&1 ||
		useradd --create-home --shell /bin/bash "$TEST_USER"
}

# a copy of the tree owned by the test user; prints its path.  The default
# place is one per checkout, so that runs from two worktrees side by side
# do not remove each other's copy; TEST_WORKDIR chooses another.
make_test_copy() {
	local dir=${TEST_WORKDIR:-/tmp/repmgr-test-$(printf '%s' "$here" | cksum | cut -d' ' -f1)}
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$here" --exclude=.git -cf - . | tar -C "$dir" -xf -
	chown -R "$TEST_USER": "$dir"
	echo "$dir"
}

show_failure_logs() {
	local dir=$1 tmp=${2:-tmp_check} f
	if [ -f "$dir/regression.diffs" ]; then
		echo "==== regression.diffs"
		head -n 300 "$dir/regression.diffs"
	fi
	for f in "$dir"/$tmp/log/regress_log_* "$dir"/$tmp/log/*.log; do
		[ -f "$f" ] || continue
		case "$f" in
		*regress_log_*) grep -q "not ok" "$f" || continue ;;
		*) [ "$tmp" = tmp_check_netns ] || continue ;;
		esac
		echo "==== $f (last 150 lines)"
		tail -n 150 "$f"
	done
}

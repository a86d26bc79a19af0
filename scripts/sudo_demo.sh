#!/usr/bin/env bash
#
# sudo_demo.sh - "make demo" as the README promises it to a plain user with
# sudo, run from root (CI): creates that user (SUDO_DEMO_USER, default
# repmgrci) with password-less sudo, copies this tree (a clean clone in
# CI) into its home and runs "make demo" and "make demo-stop" there as
# that user.  The demo's
# witness then has to live with what a plain user may do (its socket in a
# directory the user may write).  DEMO_PORT, DEMO_WITNESS_PORT and
# PG_BINDIR are passed on.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
user=${SUDO_DEMO_USER:-repmgrci}

if [ "$(id -u)" -ne 0 ]; then
	echo "sudo_demo.sh: run as root; it creates a user with sudo" >&2
	exit 1
fi
if ! command -v sudo >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends sudo
fi
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
echo "$user ALL=(ALL) NOPASSWD: ALL" > "/etc/sudoers.d/$user"
chmod 0440 "/etc/sudoers.d/$user"

home=$(getent passwd "$user" | cut -d: -f6)
dir=$home/repmgr
rm -rf "$dir"
mkdir -p "$dir"
tar -C "$here" --exclude=.git --exclude=./demo --exclude=./tmp_check \
	--exclude=./tmp_check_regress -cf - . | tar -C "$dir" -xf -
chown -R "$user": "$dir"

run() {
	runuser -u "$user" -- env ${PG_BINDIR:+PG_BINDIR="$PG_BINDIR"} \
		${DEMO_PORT:+DEMO_PORT="$DEMO_PORT"} \
		${DEMO_WITNESS_PORT:+DEMO_WITNESS_PORT="$DEMO_WITNESS_PORT"} \
		make -C "$dir" "$@"
}
status=0
run demo || status=$?
run demo-stop || true
if [ "$status" -eq 0 ]; then
	echo "sudo_demo.sh: make demo passed as $user (a plain user with sudo)"
else
	echo "sudo_demo.sh: make demo FAILED as $user" >&2
fi
exit "$status"

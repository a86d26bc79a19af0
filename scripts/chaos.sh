#!/usr/bin/env bash
#
# chaos.sh - fault cycles on real servers ("make chaos"; bench/chaos.pl)
#
# As root (network namespaces): installs what is missing, builds and
# installs repmgr, copies the tree to TEST_WORKDIR (default
# /tmp/repmgr-chaos) for the unprivileged user that runs the servers, and
# runs bench/chaos.pl there (make chaos-run).  The settings travel in the
# environment: CHAOS_CYCLES (20), CHAOS_SYNC=1, CHAOS_SEED, CHAOS_FAULTS.
# The summary is copied to bench/out/ of this tree.  Exits non-zero when
# the run found two primaries acknowledging writes, a cycle that did not
# heal, or (CHAOS_SYNC=1) an acknowledged write lost.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "chaos.sh: network namespaces need root; run \"make chaos\" as root" >&2
	exit 1
fi
install_dependencies
build_and_install
ensure_test_user
TEST_WORKDIR=${TEST_WORKDIR:-/tmp/repmgr-chaos}
workdir=$(make_test_copy)

status=0
REPMGR_TEST_USER="$TEST_USER" make -C "$workdir" PG_CONFIG="$PG_CONFIG" chaos-run || status=1
mkdir -p "$here/bench/out"
cp "$workdir"/tmp_check_netns/chaos*/result/* "$here/bench/out/" 2>/dev/null || true
if [ "$status" -ne 0 ]; then
	echo "chaos.sh: FAILED (per-cycle server logs: $workdir/tmp_check_netns/chaos*/cycle_*.log)" >&2
fi
exit "$status"

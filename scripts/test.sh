#!/usr/bin/env bash
#
# test.sh - the whole test suite from a fresh Debian 12 machine ("make test")
#
# 1. installs what is missing (apt-get; as root, or through sudo)
# 2. builds and installs the extension and bin/repmgr
# 3. runs pg_regress and the TAP tests (make installcheck).  PostgreSQL
#    refuses to run as root, so as root the tests run as the unprivileged
#    user "repmgrtest" (created if missing) in a copy of the tree under
#    /tmp, which also keeps the checkout clean.
#
# 4. as root, the partition tests (t/netns): each server in its own network
#    namespace (make installcheck-netns, run as root, servers as TEST_USER).
# 5. the deterministic simulation of the failover protocol (make
#    simulate-check, sim/check.sh): its regression seeds, then 100,000
#    schedules; SIM_ONLY=1 runs just this step, SIM=0 skips it.
#
# Exits non-zero when anything fails; a run that passes removes its
# servers' directories (tmp_check*), a failed one keeps them for its logs.  TEST_FILTER="t/010_*.pl" limits the
# TAP tests run (and skips t/netns unless NETNS_FILTER="t/netns/031*" is
# given too); TAP_ONLY=1 / REGRESS_ONLY=1 skip the other half; NETNS_ONLY=1
# runs only the partition tests.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"

install_dependencies

# the simulation needs neither PostgreSQL nor root: plain gcc
# (a run limited to some tests skips it, unless SIM=1 or SIM_ONLY=1)
sim_default=1
[ -n "${TEST_FILTER:-}${NETNS_FILTER:-}" ] || [ "${TAP_ONLY:-0}${REGRESS_ONLY:-0}${NETNS_ONLY:-0}" != 000 ] && sim_default=0
[ "${SIM_ONLY:-0}" = 1 ] && sim_default=1
sim_status=0
if [ "${SIM:-$sim_default}" != 0 ]; then
	make -C "$here" PG_CONFIG="$PG_CONFIG" simulate-check || sim_status=1
	if [ "${SIM_ONLY:-0}" = 1 ]; then
		exit "$sim_status"
	fi
fi

build_and_install

if [ "$(id -u)" -eq 0 ]; then
	ensure_test_user
	workdir=$(make_test_copy)
	runner=(runuser -u "$TEST_USER" --)
else
	workdir="$here"
	runner=()
fi

targets=()
if [ "${NETNS_ONLY:-0}" != 1 ]; then
	[ "${TAP_ONLY:-0}" = 1 ] || targets+=(installcheck-regress)
	[ "${REGRESS_ONLY:-0}" = 1 ] || targets+=(installcheck-tap)
fi

status=$sim_status
for target in "${targets[@]}"; do
	if ! "${runner[@]}" make -C "$workdir" PG_CONFIG="$PG_CONFIG" \
		${TEST_FILTER:+PROVE_TESTS="$TEST_FILTER"} "$target"; then
		status=1
		show_failure_logs "$workdir"
	fi
done

# partition tests: network namespaces need root, the servers run as TEST_USER
if [ "${REGRESS_ONLY:-0}" != 1 ] && [ "$(id -u)" -eq 0 ] && [ -z "${TEST_FILTER:-}" -o -n "${NETNS_FILTER:-}" ]; then
	if ! REPMGR_TEST_USER="$TEST_USER" make -C "$workdir" PG_CONFIG="$PG_CONFIG" \
		${NETNS_FILTER:+PROVE_TESTS="$NETNS_FILTER"} installcheck-netns; then
		status=1
		show_failure_logs "$workdir" tmp_check_netns
	fi
elif [ "${REGRESS_ONLY:-0}" != 1 ] && [ -z "${TEST_FILTER:-}" ]; then
	echo "test.sh: partition tests (t/netns) skipped: they need root for network namespaces"
fi

if [ "$status" -eq 0 ]; then
	# a passing run's servers are of no more use (a whole run leaves GBs)
	rm -rf "$workdir/tmp_check" "$workdir/tmp_check_netns"
	echo "test.sh: all tests passed"
else
	echo "test.sh: tests FAILED (logs above; work tree: $workdir)" >&2
fi
exit "$status"

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
# Exits non-zero when anything fails.  TEST_FILTER="t/010_*.pl" limits the
# TAP tests run; TAP_ONLY=1 / REGRESS_ONLY=1 skip the other half.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"

install_dependencies
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
[ "${TAP_ONLY:-0}" = 1 ] || targets+=(installcheck-regress)
[ "${REGRESS_ONLY:-0}" = 1 ] || targets+=(installcheck-tap)

status=0
for target in "${targets[@]}"; do
	if ! "${runner[@]}" make -C "$workdir" PG_CONFIG="$PG_CONFIG" \
		${TEST_FILTER:+PROVE_TESTS="$TEST_FILTER"} "$target"; then
		status=1
		show_failure_logs "$workdir"
	fi
done

if [ "$status" -eq 0 ]; then
	echo "test.sh: all tests passed"
else
	echo "test.sh: tests FAILED (logs above; work tree: $workdir)" >&2
fi
exit "$status"

#!/usr/bin/env bash
#
# repeat.sh - run a test command N times in a row and count the passes,
# optionally with every core kept busy by other processes (LOAD=1: one
# busy loop per core), since races between nodes show under load.
#
#   LOAD=1 scripts/repeat.sh 20 make test TEST_FILTER=none NETNS_FILTER="t/netns/034*"
#
# Stops at the first failure unless KEEP_GOING=1; the output of each run
# is kept in ${REPEAT_LOG_DIR:-/tmp/repeat}/run-N.log.
set -uo pipefail

n=$1
shift
logdir=${REPEAT_LOG_DIR:-/tmp/repeat}
mkdir -p "$logdir"
burners=()
stop_burners() {
	[ ${#burners[@]} -gt 0 ] && kill "${burners[@]}" 2>/dev/null
	burners=()
}
trap stop_burners EXIT
if [ "${LOAD:-0}" = 1 ]; then
	for _ in $(seq "$(nproc)"); do
		( while :; do :; done ) &
		burners+=($!)
	done
	echo "repeat.sh: ${#burners[@]} busy loops running"
fi

passed=0
failed=0
for i in $(seq "$n"); do
	start=$(date +%s)
	if "$@" >"$logdir/run-$i.log" 2>&1; then
		passed=$((passed + 1))
		echo "run $i: passed ($(( $(date +%s) - start )) s)"
	else
		failed=$((failed + 1))
		echo "run $i: FAILED ($(( $(date +%s) - start )) s), log: $logdir/run-$i.log"
		[ "${KEEP_GOING:-0}" = 1 ] || break
	fi
done
echo "repeat.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

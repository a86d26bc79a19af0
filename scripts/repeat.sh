#!/usr/bin/env bash
#
# repeat.sh - run a test command N times in a row and count the passes,
# optionally with every core kept busy by other processes (LOAD=1: one
# busy loop per core), since races between nodes show under load.
#
#   LOAD=1 NETNS_ONLY=1 NETNS_FILTER="t/netns/034*" scripts/repeat.sh 20 make test
#
# REPEAT_LOCK=file takes that lock (flock) around each run, busy loops
# included, for tests that cannot run beside each other (t/netns).
# Stops at the first failure unless KEEP_GOING=1; the output of each run
# is kept in ${REPEAT_LOG_DIR:-/tmp/repeat}/run-N.log.  REPEAT_SAVE=dir
# copies dir (say, the servers' logs of the run) to run-N.saved when a run
# fails, before the next run overwrites it.  SIGTERM or SIGINT to this
# script stops it after the run in progress, which keeps the lock until it
# ends (killing the script alone used to release the lock under a run that
# went on).
set -uo pipefail

n=$1
shift
logdir=${REPEAT_LOG_DIR:-/tmp/repeat}
mkdir -p "$logdir"
burners=()
start_burners() {
	[ "${LOAD:-0}" = 1 ] || return 0
	for _ in $(seq "$(nproc)"); do
		( while :; do :; done ) &
		burners+=($!)
	done
}
stop_burners() {
	[ ${#burners[@]} -gt 0 ] && kill "${burners[@]}" 2>/dev/null
	burners=()
}
trap stop_burners EXIT

# one run: under REPEAT_LOCK (a flock file), if given, with the busy loops
# running only while the command does
run_once() {
	if [ -n "${REPEAT_LOCK:-}" ]; then
		exec 9>"$REPEAT_LOCK"
		# never run without it (flock killed while it waits)
		flock 9 || return 99
	fi
	start_burners
	"$@" 9>&-
	local rc=$?
	stop_burners
	[ -n "${REPEAT_LOCK:-}" ] && exec 9>&-
	return $rc
}

stop_requested=0
trap 'stop_requested=1; echo "repeat.sh: stopping after the run in progress" >&2' TERM INT

passed=0
failed=0
for i in $(seq "$n"); do
	[ "$stop_requested" = 1 ] && break
	start=$(date +%s)
	run_once "$@" >"$logdir/run-$i.log" 2>&1
	rc=$?
	if [ "$rc" -eq 99 ]; then
		echo "repeat.sh: could not take $REPEAT_LOCK; run $i not made" >&2
		break
	elif [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "run $i: passed ($(( $(date +%s) - start )) s)"
	else
		failed=$((failed + 1))
		echo "run $i: FAILED ($(( $(date +%s) - start )) s), log: $logdir/run-$i.log"
		if [ -n "${REPEAT_SAVE:-}" ] && [ -d "$REPEAT_SAVE" ]; then
			rm -rf "$logdir/run-$i.saved"
			cp -a "$REPEAT_SAVE" "$logdir/run-$i.saved"
		fi
		[ "${KEEP_GOING:-0}" = 1 ] || break
	fi
done
echo "repeat.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
#
# check.sh - the simulation's part of "make test" (make simulate-check):
#
# 1. the regression seeds of the holes (sim/regress.txt): each must fail
#    with its old rule and pass with the new ones;
# 2. a fixed set of SIM_SEEDS schedules (default 100,000: seeds 1 to
#    100,000, default and tight settings alternating) with the new rules,
#    split over SIM_JOBS processes (default 2); any violation fails, with
#    its seed and the trace of the schedule.
#
# Exits non-zero when anything fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sim=$here/sim
seeds=${SIM_SEEDS:-100000}
jobs=${SIM_JOBS:-2}

"$sim" --regress "$here/regress.txt"

per=$(( (seeds + jobs - 1) / jobs ))
pids=()
outs=()
start=$(date +%s.%N)
for ((j = 0; j < jobs; j++)); do
	first=$((1 + j * per))
	count=$per
	[ $((first + count - 1)) -gt "$seeds" ] && count=$((seeds - first + 1))
	[ "$count" -le 0 ] && continue
	out=$(mktemp)
	outs+=("$out")
	"$sim" --first "$first" --seeds "$count" >"$out" 2>&1 &
	pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || status=1
	cat "${outs[$i]}"
	rm -f "${outs[$i]}"
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$seeds" -v j="$jobs" 'BEGIN { printf "sim: %d schedules in %.1f s (wall clock) with %d processes\n", n, e - s, j }'
[ "$status" -eq 0 ] && echo "sim: no violation" || echo "sim: VIOLATION (trace above)" >&2
exit "$status"

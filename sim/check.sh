#!/usr/bin/env bash
#
# check.sh - the simulation's part of "make test" (make simulate-check):
# the worker's own step (src/step*.c, src/decide.c) driven by sim/sim.
#
# 1. the regression seeds (sim/regress.txt): schedules that once failed;
# 2. SIM_SEEDS schedules (default 100,000: seeds 1 to 100,000, default and
#    tight settings alternating), then SIM_SYNC_SEEDS (default 10,000)
#    with a managed synchronous set (--sync), then SIM_AIM_SEEDS (default
#    10,000) with partitions aimed at changes of the membership (--aim),
#    then SIM_CASCADE_SEEDS (default 10,000) of those with standbys that
#    cascade, the primary cut from them alone, and stateful firewalls that
#    let the established WAL streams through, the operator rejoining no old
#    primary before the convergence check (--aim --cascade --firewall
#    --late-rejoin),
#    then SIM_STAGGER_SEEDS (default 10,000) where the primary loses one
#    standby, then a vote silence's margin later every other node, with
#    backends that commit up to 240 ms after their lease check (--stagger
#    --commit-delay 240: the margin, at least 250 ms, must cover it),
#    each split over SIM_JOBS processes (default 2); any violation fails,
#    with its seed.
#
# Exits non-zero when anything fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sim=$here/sim
seeds=${SIM_SEEDS:-100000}
sync_seeds=${SIM_SYNC_SEEDS:-10000}
aim_seeds=${SIM_AIM_SEEDS:-10000}
cascade_seeds=${SIM_CASCADE_SEEDS:-10000}
stagger_seeds=${SIM_STAGGER_SEEDS:-10000}
jobs=${SIM_JOBS:-2}

"$sim" --regress "$here/regress.txt"

# run_range COUNT [sim options]: seeds 1 to COUNT over $jobs processes
run_range() {
	local count=$1
	shift
	local per=$(( (count + jobs - 1) / jobs ))
	local pids=() outs=() status=0
	for ((j = 0; j < jobs; j++)); do
		local first=$((1 + j * per)) n=$per
		[ $((first + n - 1)) -gt "$count" ] && n=$((count - first + 1))
		[ "$n" -le 0 ] && continue
		local out
		out=$(mktemp)
		outs+=("$out")
		"$sim" --first "$first" --seeds "$n" "$@" >"$out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || status=1
		cat "${outs[$i]}"
		rm -f "${outs[$i]}"
	done
	return "$status"
}

start=$(date +%s.%N)
status=0
run_range "$seeds" || status=1
[ "$sync_seeds" -gt 0 ] && { run_range "$sync_seeds" --sync || status=1; }
[ "$aim_seeds" -gt 0 ] && { run_range "$aim_seeds" --aim || status=1; }
[ "$cascade_seeds" -gt 0 ] && { run_range "$cascade_seeds" --aim --cascade --firewall --late-rejoin || status=1; }
[ "$stagger_seeds" -gt 0 ] && { run_range "$stagger_seeds" --stagger --commit-delay 240 || status=1; }
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$seeds" -v y="$sync_seeds" -v a="$aim_seeds" -v c="$cascade_seeds" -v g="$stagger_seeds" -v j="$jobs" 'BEGIN { printf "sim: %d + %d (--sync) + %d (--aim) + %d (--aim --cascade --firewall --late-rejoin) + %d (--stagger) schedules in %.1f s (wall clock) with %d processes\n", n, y, a, c, g, e - s, j }'
[ "$status" -eq 0 ] && echo "sim: no violation" || echo "sim: VIOLATION (trace above)" >&2
exit "$status"

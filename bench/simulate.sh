#!/usr/bin/env bash
#
# simulate.sh - schedules per second of the deterministic simulation of
# the failover protocol (sim/), on one core: builds sim/sim and runs
# SEEDS schedules (default 20,000) of each settings, new rules.  Prints the
# CPU time (user + system) and the wall-clock time, since the machine may
# be shared: the CPU figure is the one to compare.
#
#   bash bench/simulate.sh [SEEDS]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-20000}
gcc -std=c99 -Wall -Wextra -O2 -I"$here/src" -o "$here/sim/sim" \
	"$here"/sim/engine.c "$here"/sim/node.c "$here"/sim/check.c "$here"/sim/main.c \
	"$here/src/decide.c"

for settings in default tight; do
	TIMEFORMAT="%U %S %R"
	t=$( { time "$here/sim/sim" --settings "$settings" --seeds "$seeds" --first 1000001 >/tmp/simulate.$$ ; } 2>&1 )
	read -r user sys real <<<"$t"
	grep '^sim:' /tmp/simulate.$$ | head -1
	awk -v n="$seeds" -v u="$user" -v s="$sys" -v r="$real" -v k="$settings" 'BEGIN {
		printf "%s settings: %d schedules, %.1f s CPU, %.1f s wall: %.0f schedules/s of CPU (%.0f/s wall)\n",
			k, n, u + s, r, n / (u + s), n / r }'
done
rm -f /tmp/simulate.$$

#!/usr/bin/env bash
#
# simulate.sh - schedules per second of the deterministic simulation of
# the failover protocol (sim/), on one core: builds sim/sim (the Makefile's
# rule, with the flags the extension is built with) and runs SEEDS
# schedules (default 20,000, from seed 1,000,001) of each settings.  The CPU figure is the one to compare: the machine may be
# shared, and the wall-clock figure then says more about the neighbours.
#
#   bash bench/simulate.sh [SEEDS]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-20000}
make -s -C "$here" sim/sim
for settings in default tight; do
	echo "== $settings settings"
	"$here/sim/sim" --settings "$settings" --seeds "$seeds" --first 1000001 | grep '^sim:'
done

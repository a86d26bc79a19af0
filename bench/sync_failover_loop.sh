#!/usr/bin/env bash
#
# sync_failover_loop.sh - kill -9 failovers in a row at repmgr.synchronous
# = on and asynchronous (off), in one sitting: t/032_sync_failover_loop.pl
# with SYNC_LOOP_CYCLES cycles (20) of each mode in SYNC_LOOP_MODES ("on
# off"), through "make test" (scripts/test.sh: the unprivileged test user,
# TEST_WORKDIR).  Prints, per mode, the acknowledged writes lost (must be 0
# with "on") and the failover time, kill -9 to the first write the new
# primary acknowledged (bench/prober through a multi-host read-write
# connection), median, min and max.
#
#   PG_BINDIR=... bash bench/sync_failover_loop.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/sync-failover-loop.XXXXXX)
chmod 777 "$out"
report=$out/cycles.tsv

export SYNC_LOOP_CYCLES=${SYNC_LOOP_CYCLES:-20}
export SYNC_LOOP_MODES=${SYNC_LOOP_MODES:-on off}
export SYNC_LOOP_REPORT=$report
rc=0
make -C "$here" test TAP_ONLY=1 TEST_FILTER='t/032_sync_failover_loop.pl' \
	${PG_BINDIR:+PG_BINDIR="$PG_BINDIR"} || rc=$?

echo "cycles: $report (mode, cycle, failover ms, lost, acknowledged)"
perl -e '
	my %r;
	while (<>) { chomp; my ($m, $c, $ms, $lost, $acked) = split /\t/; push @{ $r{$m} }, [$ms, $lost, $acked]; }
	foreach my $m (sort keys %r)
	{
		my @ms = sort { $a <=> $b } map { $_->[0] } @{ $r{$m} };
		my $lost = 0; $lost += $_->[1] foreach @{ $r{$m} };
		my $acked = $r{$m}[-1][2];
		my $med = @ms % 2 ? $ms[$#ms / 2] : ($ms[@ms / 2 - 1] + $ms[@ms / 2]) / 2;
		printf "%-6s %2d cycles: %d of %d acknowledged writes lost; failover ms median %.0f, min %.0f, max %.0f\n",
			$m, scalar(@ms), $lost, $acked, $med, $ms[0], $ms[-1];
	}' "$report"
exit $rc

# Repeated kill -9 failovers with managed synchronous replication: no
# acknowledged commit is ever lost (rules (h) and (i), walstop.c and
# observe_election).  For each mode of repmgr.synchronous (on, strict), a
# fresh cluster of three nodes made with the tool (node1 primary, node2
# and node3 cloned; workers automatic, fast settings as t/030's), the write
# prober committing every 5 ms through a multi-host read-write connection.
# Each cycle kills the primary with kill -9, waits for a new primary, then
# rejoins the old one as a standby ("repmgr node rejoin --force-rewind",
# as t/025), and asserts:
#   - exactly one primary among the three nodes;
#   - every write the prober saw acknowledged, by any primary, is on the
#     new primary (0 lost; with "off" the writes lost are only counted);
#   - both other nodes stream from the new primary.
# SYNC_LOOP_CYCLES (5) cycles per mode; SYNC_LOOP_MODES ("on strict") the
# modes ("off": the asynchronous path, for comparison); SYNC_LOOP_REPORT, a
# file that gets one line per cycle: mode, cycle, failover ms (kill -9 to
# the first write acknowledged by the new primary), acknowledged writes
# lost in that cycle, acknowledged writes so far.  bench/sync_failover_loop.sh runs 20 cycles of "on" and "off".
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

my $cycles = $ENV{SYNC_LOOP_CYCLES} // 5;
my @modes = split /[ ,]+/, ($ENV{SYNC_LOOP_MODES} // 'on strict');
my $report = $ENV{SYNC_LOOP_REPORT};

sub mono_ms { return clock_gettime(CLOCK_MONOTONIC) * 1000.0; }

sub report_line
{
	my ($line) = @_;
	return unless $report;
	open my $fh, '>>', $report or die "$report: $!";
	print $fh "$line\n";
	close $fh;
}

foreach my $mode (@modes)
{
	my %auto = (conf => {
		'repmgr.failover' => 'automatic',
		'repmgr.synchronous' => $mode,
		'repmgr.monitor_interval' => '200ms',
		'repmgr.reconnect_interval' => '250ms',
		'repmgr.reconnect_attempts' => '2',
		# rule (h) waits this long without a WAL receiver before a vote
		'wal_retrieve_retry_interval' => '500ms',
	});
	my ($node1, $conf1) = cli_primary("${mode}_node1", 1, %auto);
	repmgr_ok("$mode: node1 registered", '-f', $conf1, 'primary', 'register');
	my ($node2, $conf2) = cli_clone($node1, "${mode}_node2", 2, %auto);
	my ($node3, $conf3) = cli_clone($node1, "${mode}_node3", 3, %auto);
	repmgr_ok("$mode: node2 registered", '-f', $conf2, 'standby', 'register');
	repmgr_ok("$mode: node3 registered", '-f', $conf3, 'standby', 'register');
	my %node = (1 => $node1, 2 => $node2, 3 => $node3);
	my %conf = (1 => $conf1, 2 => $conf2, 3 => $conf3);
	foreach my $n (values %node)
	{
		$n->append_conf('postgresql.conf', "repmgr.failover = 'automatic'");
		$n->reload;
	}
	ok(streams_from($node1, $node2, $node3), "$mode: node2 and node3 stream from node1");
	foreach my $id (1 .. 3)
	{
		ok(wait_worker_state($node{$id}, 60, 'monitoring as primary', 'monitoring upstream'),
			"$mode: node$id worker monitoring");
	}

	# the prober starts once synchronous replication is in force: what the
	# primary acknowledges alone before is not covered
	my $in_force = "SELECT count(*) = 2 FROM pg_stat_replication WHERE sync_state = 'quorum'";
	ok($node1->poll_query_until('repmgr', $in_force), "$mode: both standbys quorum before the prober starts")
	  if $mode ne 'off';
	my $prober = start_prober(
		sprintf('host=%s port=%s dbname=repmgr target_session_attrs=read-write connect_timeout=2',
			join(',', map { $node{$_}->host } 1 .. 3),
			join(',', map { $node{$_}->port } 1 .. 3)),
		interval => 5, duration => 24 * 3600 * 1000);

	my $primary = 1;
	my %lost_before;
	for my $cycle (1 .. $cycles)
	{
		my @others = grep { $_ != $primary } 1 .. 3;
		my $p = $node{$primary};

		# the published set covers both standbys (on, strict) and is in force
		# (published first, then applied), and the prober commits through
		# the current primary
		if ($mode ne 'off')
		{
			ok($p->poll_query_until('repmgr',
					'SELECT quorum = 1 AND cardinality(members) = 2 FROM repmgr.repl_sync'),
				"$mode $cycle: ANY 1 of both standbys published");
			ok($p->poll_query_until('repmgr', $in_force),
				"$mode $cycle: and in force: both standbys quorum");
			foreach my $id (@others)
			{
				ok($node{$id}->poll_query_until('repmgr',
						'SELECT cardinality(members) = 2 FROM repmgr.repl_sync'),
					"$mode $cycle: node$id has the published set");
			}
		}
		my $before = scalar(grep { $_->{ok} && $_->{node} == $primary }
			  prober_results($prober->{out}));
		ok(poll_until("$mode $cycle: writes on node$primary", 60, sub {
			scalar(grep { $_->{ok} && $_->{node} == $primary } prober_results($prober->{out}))
				  >= $before + 50 }),
			"$mode $cycle: the prober commits on node$primary");

		# kill -9 of the primary
		my $killed_at = mono_ms();
		$p->kill9;
		my $new;
		ok(poll_until("$mode $cycle: a new primary", 90, sub {
			foreach my $id (@others)
			{
				my ($ret, $out) = $node{$id}->psql('postgres', 'SELECT pg_is_in_recovery()');
				if ($ret == 0 && $out eq 'f') { $new = $id; return 1; }
			}
			return 0; }),
			"$mode $cycle: a standby is promoted");
		last unless defined $new;
		my $first;
		ok(poll_until("$mode $cycle: writes on node$new", 60, sub {
			($first) = grep { $_->{ok} && $_->{node} == $new && $_->{start} >= $killed_at }
			  prober_results($prober->{out});
			return defined $first; }),
			"$mode $cycle: the prober commits on the new primary node$new");
		my $failover_ms = defined $first ? $first->{end} - $killed_at : -1;

		# the old primary comes back, fenced; rejoined as a standby
		start_after_kill($p);
		ok($p->poll_query_until('repmgr', 'SELECT fenced FROM repmgr.daemon_status()'),
			"$mode $cycle: the old primary node$primary is fenced");
		$p->stop('fast');
		repmgr_ok("$mode $cycle: node rejoin --force-rewind", '-f', $conf{$primary}, 'node', 'rejoin',
			'-d', cli_conninfo($node{$new}), '--force-rewind');
		sync_pids($p);

		my @standbys = map { $node{$_} } grep { $_ != $new } 1 .. 3;
		ok(streams_from($node{$new}, @standbys),
			"$mode $cycle: both other nodes stream from the new primary node$new");
		my $primaries = 0;
		foreach my $id (1 .. 3)
		{
			$primaries++
			  if $node{$id}->safe_psql('postgres', 'SELECT pg_is_in_recovery()') eq 'f';
		}
		is($primaries, 1, "$mode $cycle: exactly one primary");

		# every acknowledged write is on the new primary (asynchronous: the
		# writes lost are counted, not asserted; each is counted once)
		my @acked = grep { $_->{ok} } prober_results($prober->{out});
		my %have = map { $_ => 1 } split /\n/,
		  $node{$new}->safe_psql('repmgr', 'SELECT seq FROM repmgr_probe WHERE probe = 0');
		my @lost = grep { !$have{ $_->{seq} } } @acked;
		my @new_lost = grep { !$lost_before{ $_->{seq} }++ } @lost;
		if ($mode eq 'off')
		{
			note("$mode $cycle: " . scalar(@new_lost) . ' acknowledged writes lost (asynchronous)');
		}
		else
		{
			is(scalar(@lost), 0,
				"$mode $cycle: all " . scalar(@acked) . " acknowledged writes are on node$new")
			  or diag('lost: ' . join(' ', map { "$_->{seq}\@node$_->{node}" } @lost[0 .. ($#lost < 9 ? $#lost : 9)]));
		}
		report_line(sprintf("%s\t%d\t%.0f\t%d\t%d", $mode, $cycle, $failover_ms,
				scalar(@new_lost), scalar(@acked)));
		note(sprintf('%s cycle %d: node%d -> node%d in %.0f ms, %d acknowledged writes lost in this cycle, %d of %d in all',
				$mode, $cycle, $primary, $new, $failover_ms, scalar(@new_lost), scalar(@lost), scalar(@acked)));
		$primary = $new;
	}
	stop_prober($prober);

	# rule (h) ran for every election with a set in force, and never without
	my $stops = 0;
	foreach my $id (1 .. 3)
	{
		my $log = slurp_file($node{$id}->logfile);
		$stops++ while $log =~ /stopping the WAL receiver before voting in term/g;
	}
	if ($mode eq 'off')
	{
		is($stops, 0, "$mode: no WAL receiver stopped for a vote (asynchronous)");
	}
	else
	{
		cmp_ok($stops, '>=', $cycles, "$mode: members stopped their WAL receiver before voting ($stops times)");
	}
}

done_testing();

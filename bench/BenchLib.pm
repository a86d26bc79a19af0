
# BenchLib.pm
#    Helpers shared by the benchmarks in bench/: clusters of a primary and N
#    standbys (one base backup for all of them), the settings compared
#    (defaults and "tight"), the monotonic clock the write prober uses,
#    persistent psql sessions for polling, statistics and the JSON result
#    file each benchmark writes for bench/report.pl.
#
#    The scripts run under PostgreSQL::Test::Cluster like the TAP tests (see
#    bench/run.sh for the environment) and use t/RepmgrTest.pm.

package BenchLib;

use strict;
use warnings;

use Exporter 'import';
use File::Path qw(make_path);
use JSON::PP;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC usleep);

our @EXPORT = qw(
  mono_ms stats runs settings_of make_cluster destroy_cluster
  multi_conninfo session wait_for poll_every write_result progress
  wait_all_streaming vm_rss worker_pid run_failover elections_total
);

# milliseconds of CLOCK_MONOTONIC, the clock of bench/prober's output
sub mono_ms
{
	return clock_gettime(CLOCK_MONOTONIC) * 1000.0;
}

# number of runs of each measurement (BENCH_RUNS, at least 5 for RESULTS.md)
sub runs
{
	my ($default) = @_;
	return $ENV{BENCH_RUNS} // $default // 5;
}

# a progress line on the terminal of bench/run.sh (the TAP harness sends
# STDOUT to the log file; diag reaches the original stderr)
sub progress
{
	diag(join('', @_));
}

# min / median / max / n of a list of numbers (undefined values ignored)
sub stats
{
	my @v = sort { $a <=> $b } grep { defined } @_;
	return { n => 0 } unless @v;
	my $n = scalar @v;
	my $median = $n % 2 ? $v[ ($n - 1) / 2 ] : ($v[ $n / 2 - 1 ] + $v[ $n / 2 ]) / 2;
	my $sum = 0;
	$sum += $_ foreach @v;
	return {
		n => $n,
		min => $v[0],
		median => $median,
		max => $v[-1],
		mean => $sum / $n,
		values => \@_,
	};
}

# the settings compared by the failover benchmarks
#  defaults: what repmgr ships (monitor_interval 1s, connect_timeout 1s,
#            reconnect_attempts 3, reconnect_interval 1s)
#  tight:    the tightest settings we call sane on loopback (see
#            bench/README.md for why)
my %SETTINGS = (
	defaults => {
		'repmgr.monitor_interval' => '1s',
		'repmgr.connect_timeout' => '1s',
		'repmgr.reconnect_attempts' => '3',
		'repmgr.reconnect_interval' => '1s',
	},
	tight => {
		'repmgr.monitor_interval' => '100ms',
		'repmgr.connect_timeout' => '250ms',
		'repmgr.reconnect_attempts' => '2',
		'repmgr.reconnect_interval' => '100ms',
	},
);

sub settings_of
{
	my ($name) = @_;
	die "unknown settings $name" unless $SETTINGS{$name};
	return { %{ $SETTINGS{$name} } };
}

# the multi-host connection string an application would use
sub multi_conninfo
{
	my (@nodes) = @_;
	return sprintf(
		'host=%s port=%s dbname=repmgr target_session_attrs=read-write connect_timeout=2',
		join(',', map { $_->host } @nodes), join(',', map { $_->port } @nodes));
}

# a persistent psql session (for polling every few ms without starting a
# psql each time); every query restarts its 60 s timer
sub session
{
	my ($node, $db) = @_;
	my $s = $node->background_psql($db // 'repmgr', on_error_stop => 0, timeout => 60);
	$s->set_query_timer_restart();
	return $s;
}

# poll $cond every $every_ms until it returns true or $timeout_s passes;
# returns the value of $cond (false on timeout)
sub poll_every
{
	my ($every_ms, $timeout_s, $cond) = @_;
	my $deadline = mono_ms() + $timeout_s * 1000;
	while (mono_ms() < $deadline)
	{
		my $r = $cond->();
		return $r if $r;
		usleep($every_ms * 1000);
	}
	return 0;
}

# like poll_every every 50 ms, dying with $what on timeout
sub wait_for
{
	my ($what, $timeout_s, $cond) = @_;
	my $r = poll_every(50, $timeout_s, $cond);
	die "timed out after ${timeout_s}s waiting for: $what\n" unless $r;
	return $r;
}

# a standby made from an existing base backup of $primary
sub standby_from_backup
{
	my ($primary, $backup, $name, $id, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($primary, $backup, has_streaming => 1);
	$node->append_conf('postgresql.conf', repmgr_conf($id, %opts));
	$node->append_conf('postgresql.conf',
		"primary_conninfo = '" . $primary->connstr . " application_name=$name'");
	$node->start;
	return $node;
}

# a registered cluster: primary "${prefix}n1" (node 1) and $nstandbys
# standbys "${prefix}n2" ... (nodes 2 ...), every worker monitoring, every
# standby streaming; no statement log (unlike the TAP tests).  Options: conf => { GUC => value } for every node,
# sync => 1 for synchronous_standby_names = 'ANY 1 (all standbys)' written
# by hand, sync => 'on' or 'strict' for repmgr.synchronous (the primary's
# worker writes ANY 1 of the standbys).
# Returns the list of nodes, primary first.
sub make_cluster
{
	my ($prefix, $nstandbys, %opts) = @_;
	my $managed = ($opts{sync} // '') =~ /^(on|strict)$/;
	my %conf = (conf => { log_statement => 'none', %{ $opts{conf} // {} },
			($managed ? ('repmgr.synchronous' => $opts{sync}) : ()) });
	my $primary = new_primary("${prefix}n1", 1, %conf);
	register_primary($primary, 1);
	$primary->backup('base');
	my @nodes = ($primary);
	for my $i (2 .. $nstandbys + 1)
	{
		my $s = standby_from_backup($primary, 'base', "${prefix}n$i", $i, %conf);
		register_standby($s, $i);
		push @nodes, $s;
	}
	if ($opts{sync} && !$managed)
	{
		my $names = join(', ', map { $_->name } @nodes[ 1 .. $#nodes ]);
		foreach my $n (@nodes)
		{
			$n->safe_psql('postgres',
				"ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 ($names)'");
			$n->reload;
		}
	}
	wait_all_streaming($primary, @nodes[ 1 .. $#nodes ]);
	if ($managed)
	{
		my $n = $nstandbys;
		$primary->poll_query_until('postgres',
			"SELECT count(*) = $n FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')")
		  or die 'the worker did not make the standbys synchronous';
	}
	foreach my $n (@nodes)
	{
		wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
		  or die $n->name . ': worker not monitoring';
	}
	return @nodes;
}

# wait until every standby in @standbys streams from $primary
sub wait_all_streaming
{
	my ($primary, @standbys) = @_;
	my $names = join(', ', map { "'" . $_->name . "'" } @standbys);
	my $n = scalar @standbys;
	$primary->poll_query_until('postgres',
		"SELECT count(*) = $n FROM pg_stat_replication WHERE state = 'streaming' AND application_name IN ($names)")
	  or die 'standbys not streaming from ' . $primary->name;
}

# stop the nodes and remove their data
sub destroy_cluster
{
	foreach my $n (@_)
	{
		$n->teardown_node;
		$n->clean_node;
	}
}

# elections started so far by the workers of the nodes (a false failover
# shows here first)
sub elections_total
{
	my $sum = 0;
	foreach my $n (@_)
	{
		$sum += $n->safe_psql('repmgr', 'SELECT elections FROM repmgr.daemon_status()');
	}
	return $sum;
}

# One failover, measured.  A fresh cluster (primary and $opts{standbys}
# standbys, settings $opts{settings}, synchronous replication if
# $opts{sync}); the write prober commits every 5 ms through the multi-host
# read-write connection; kill -9 of the primary; then, polling every 5 ms
# over persistent sessions, the moment a standby leaves recovery and the
# moment each other standby streams from it (pg_stat_wal_receiver: status
# streaming, sender_port the new primary's).  The prober's own timestamps
# (CLOCK_MONOTONIC) give the write unavailability; the acknowledged writes
# missing on the new primary are the writes lost.  Returns a hash of
# figures in ms; the cluster is destroyed.  $opts{before}, if given, is
# called with the nodes once the cluster is up, before the prober starts.
sub run_failover
{
	my ($prefix, %opts) = @_;
	my $nstandbys = $opts{standbys} // 2;
	my $rawdir = $opts{rawdir};
	my @nodes = make_cluster($prefix, $nstandbys,
		conf => settings_of($opts{settings}), sync => $opts{sync});
	my ($primary, @standbys) = @nodes;
	my %r = (standbys => $nstandbys, settings => $opts{settings},
		sync => $opts{sync} ? 1 : 0);
	$opts{before}->(@nodes) if $opts{before};

	my @sessions = map { session($_) } @standbys;
	my $out = "$rawdir/$prefix.prober";
	my $prober = start_prober(multi_conninfo(@nodes), interval => 5, out => $out);
	wait_for('the prober writes on the primary', 60,
		sub { (grep { $_->{ok} && $_->{node} eq '1' } prober_results($out)) >= 200 });
	$r{elections_before} = elections_total(@nodes);

	my $t_kill = mono_ms();
	my $now = Time::HiRes::time();
	$r{kill_at} = sprintf('%s.%03d UTC', POSIX::strftime('%Y-%m-%d %H:%M:%S', gmtime($now)),
		int(($now - int($now)) * 1000));    # to read the servers' logs against
	$primary->kill9;

	my ($new, $t_promoted);
	my %t_follow;
	my $done = poll_every(5, 120, sub {
		if (!$new)
		{
			for my $i (0 .. $#standbys)
			{
				if ($sessions[$i]->query('SELECT pg_is_in_recovery()') eq 'f')
				{
					$t_promoted = mono_ms();
					$new = $standbys[$i];
					last;
				}
			}
			return 0 unless $new;
		}
		for my $i (0 .. $#standbys)
		{
			my $s = $standbys[$i];
			next if $s == $new || defined $t_follow{ $s->name };
			$t_follow{ $s->name } = mono_ms()
			  if $sessions[$i]->query(
				"SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming' AND sender_port = "
				  . $new->port) eq '1';
		}
		return scalar(keys %t_follow) == $nstandbys - 1;
	});
	die "$prefix: no failover within 120 s (promoted: "
	  . ($new ? $new->name : 'none') . ")
" unless $done;
	my $new_id = $new->name =~ /n(\d+)$/ ? $1 : die;

	wait_for('the prober writes on the new primary', 60,
		sub { (grep { $_->{ok} && $_->{node} eq $new_id } prober_results($out)) >= 20 });
	my @rows = stop_prober($prober);
	$_->quit foreach @sessions;

	my @acked = grep { $_->{ok} } @rows;
	my @old = grep { $_->{node} eq '1' } @acked;
	my ($first_new) = grep { $_->{node} eq $new_id } @acked;
	my %on_new = map { $_ => 1 } split /\n/,
	  $new->safe_psql('repmgr', 'SELECT seq FROM repmgr_probe WHERE probe = 0');
	my @lost = grep { !$on_new{ $_->{seq} } } @acked;

	$r{promoted} = $new->name;
	$r{promote_ms} = $t_promoted - $t_kill;
	$r{unavailable_ms} = $first_new->{end} - $t_kill;
	$r{gap_ms} = $first_new->{end} - $old[-1]->{end};
	$r{follow_ms} = (sort { $a <=> $b } map { $_ - $t_kill } values %t_follow)[-1];
	$r{acked} = scalar @acked;
	$r{lost} = scalar @lost;
	$r{lost_seqs} = [ map { $_->{seq} } @lost ];
	$r{elections_after} = elections_total(@standbys);
	$r{timing} = $new->safe_psql('repmgr',
		"SELECT string_agg(name || '=' || milliseconds, ' ' ORDER BY name) FROM repmgr.failover_timing()");
	destroy_cluster(@nodes);
	return \%r;
}

# pid of the repmgr worker of a node
sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()');
}

# resident set size of a process, in kB (VmRSS of /proc/<pid>/status)
sub vm_rss
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/status" or return undef;
	while (<$fh>)
	{
		return $1 if /^VmRSS:\s+(\d+)\s+kB/;
	}
	return undef;
}

# write the result of a benchmark as JSON into $BENCH_OUT (bench/out by
# default) for bench/report.pl
sub write_result
{
	my ($name, $data) = @_;
	my $dir = $ENV{BENCH_OUT} // "$ENV{TESTDIR}/bench/out";
	make_path($dir);
	my $file = "$dir/$name.json";
	open my $fh, '>', $file or die "$file: $!";
	print $fh JSON::PP->new->canonical->pretty->encode($data);
	close $fh;
	progress("wrote $file");
	return $file;
}

1;

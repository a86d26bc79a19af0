# bench/worker_memory.pl — memory of the worker over 10,000 iterations of
# its loop (as many as 2.8 hours at the default 1 s interval).
#
# How: a primary and a registered standby, both with
# repmgr.monitor_interval = 10ms and repmgr.monitoring_history = on (the
# standby writes a repl_monitor row on the primary every iteration), and
# bench/prober committing a row every 10 ms so that the LSNs move.  Every
# 250 ms it reads each worker's loop counter (repmgr.daemon_status().loops)
# and its /proc/<pid>/status: VmRSS (all resident memory, shared buffers
# the worker touched included) and RssAnon (its private memory: where a
# leak would show).  After a warm-up of 1,000 iterations, the baseline is
# taken; the run ends when each worker has done BENCH_LOOPS (10,000) more.
#
# Target (issues 4 and 6): flat.  Counted as flat when the median RssAnon
# of the last 1,000 iterations is within 64 kB of the median of the first
# 1,000 after the warm-up (a leak of one small allocation per iteration
# would be 10,000 times that).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/../t";
use BenchLib;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $loops_wanted = $ENV{BENCH_LOOPS} // 10_000;
my $warmup = 1000;
my %conf = (conf => {
	'repmgr.monitor_interval' => '10ms',
	'repmgr.monitoring_history' => 'on',
	log_statement => 'none',
});
my $primary = new_primary('wm1', 1, %conf);
register_primary($primary, 1);
my $standby = new_standby($primary, 'wm2', 2, %conf);
register_standby($standby, 2);
wait_all_streaming($primary, $standby);
foreach my $n ($primary, $standby)
{
	wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
	  or die $n->name . ': worker not monitoring';
}
my $prober = start_prober(multi_conninfo($primary), interval => 10);

sub mem_of
{
	my ($pid) = @_;
	my %m;
	open my $fh, '<', "/proc/$pid/status" or return undef;
	while (<$fh>)
	{
		$m{$1} = $2 if /^(VmRSS|RssAnon|RssShmem|RssFile):\s+(\d+)\s+kB/;
	}
	return \%m;
}

my %w;
foreach my $n ($primary, $standby)
{
	my $s = session($n);
	my ($pid) = split /\|/, $s->query_safe('SELECT pid, loops FROM repmgr.daemon_status()');
	$w{ $n->name } = { node => $n, session => $s, pid => $pid, samples => [] };
}

my $t0 = mono_ms();
my $done = poll_every(250, 1200, sub {
	my $all = 1;
	foreach my $name (sort keys %w)
	{
		my $w = $w{$name};
		my ($pid, $loops) = split /\|/,
		  $w->{session}->query_safe('SELECT pid, loops FROM repmgr.daemon_status()');
		die "$name: the worker restarted (pid $w->{pid} -> $pid)" if $pid != $w->{pid};
		my $m = mem_of($pid) or die "$name: no /proc/$pid/status";
		push @{ $w->{samples} }, { t_ms => mono_ms() - $t0, loops => $loops + 0, %$m };
		$w->{base} //= $w->{samples}[-1] if $loops >= $warmup;
		$all = 0 unless $w->{base} && $loops >= $w->{base}{loops} + $loops_wanted;
	}
	return $all;
});
die "the workers did not reach $loops_wanted iterations in 20 minutes" unless $done;
stop_prober($prober);

my %result = (loops_wanted => $loops_wanted, warmup => $warmup,
	monitor_interval => '10ms', workers => []);
foreach my $name (sort keys %w)
{
	my $w = $w{$name};
	$w->{session}->quit;
	my @s = grep { $_->{loops} >= $w->{base}{loops} } @{ $w->{samples} };
	my ($base, $end) = ($s[0], $s[-1]);
	# one sample per 1,000 iterations for the table
	my @every;
	foreach my $x (@s)
	{
		push @every, $x if !@every || $x->{loops} >= $every[-1]{loops} + 1000;
	}
	push @every, $end unless $every[-1] == $end;
	# growth: median of the last 1,000 iterations against the first 1,000
	# (a single sample can catch an iteration's transient allocations)
	my @first = grep { $_->{loops} < $base->{loops} + 1000 } @s;
	my @last = grep { $_->{loops} > $end->{loops} - 1000 } @s;
	my $first_kb = stats(map { $_->{RssAnon} } @first)->{median};
	my $last_kb = stats(map { $_->{RssAnon} } @last)->{median};
	my $role = $w->{node} == $primary ? 'primary' : 'standby';
	my %r = (
		node => $name, role => $role, pid => $w->{pid},
		loops => $end->{loops} - $base->{loops},
		seconds => ($end->{t_ms} - $base->{t_ms}) / 1000,
		base => $base, end => $end,
		first_kb => $first_kb, last_kb => $last_kb,
		rss_anon_growth_kb => $last_kb - $first_kb,
		vm_rss_growth_kb => $end->{VmRSS} - $base->{VmRSS},
		vm_rss_kb => stats(map { $_->{VmRSS} } @s),
		rss_anon_kb => stats(map { $_->{RssAnon} } @s),
		every_1000 => \@every,
		samples => scalar @s,
	);
	$r{flat} = abs($r{rss_anon_growth_kb}) <= 64 ? 1 : 0;
	progress(sprintf('%s worker (%s): %d iterations in %.0f s; RssAnon %d -> %d kB, VmRSS %d -> %d kB',
			$role, $name, $r{loops}, $r{seconds}, $base->{RssAnon}, $end->{RssAnon},
			$base->{VmRSS}, $end->{VmRSS}));
	push @{ $result{workers} }, \%r;
}

write_result('worker_memory', \%result);
ok(1, 'worker memory benchmark done');
done_testing();

# bench/http.pl — the HTTP endpoint (issue 14).
#
# What:
#   - throughput and latency of GET /primary with 64 concurrent clients,
#     one request per connection as a load balancer's check does
#     (bench/httpload, 10 s a run), on a primary whose endpoint is on, and
#     the HTTP worker's own CPU time per request (/proc/<pid>/stat), which
#     does not depend on what else the machine runs; the latency of one
#     client alone;
#   - failover through HAProxy: on a fresh 3-node cluster for each run
#     (endpoint on every node), two write probers (bench/prober, every
#     5 ms) side by side through the same fault: one through HAProxy's
#     read-write address (the README's haproxy.cfg), one through the
#     multi-host target_session_attrs=read-write URI; kill -9 of the
#     primary; write unavailability = kill -> first write acknowledged by
#     the new primary, for each.  At the defaults and at the tight
#     settings (bench/BenchLib.pm), each with its HAProxy check settings;
#   - the same at the tight settings with every node's endpoint under
#     attack during the failover (4 clients hammering /primary and 4 /metrics
#     plus 100 slow clients, on each node; 8 load threads in all per node
#     on a 2-core machine, so the attack also competes for the CPU): the failover timing must not change.
#
# Target: through HAProxy within 1 s of the multi-host URI at the tight
# settings.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/../t";
use BenchLib;
use HttpTest;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use POSIX ();
use Test::More;
use Time::HiRes qw(usleep);

my $runs = runs(5);
my $haproxy = `command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null`;
chomp $haproxy;
die "haproxy is not installed\n" unless $haproxy;
my $httpload = "$ENV{TESTDIR}/bench/httpload";
my %result = (runs => $runs);

# HAProxy check settings used with each repmgr setting
my %CHECKS = (
	defaults => 'inter 1s fall 2 rise 1',
	tight => 'inter 100ms fall 2 rise 1',
);

# CPU time (user + system) of a process so far, in seconds
sub cpu_seconds
{
	my ($pid) = @_;
	my @f = split / /, slurp_file("/proc/$pid/stat");
	return ($f[13] + $f[14]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub httpload
{
	my ($port, $path, $clients, $seconds) = @_;
	my ($out, $err);
	IPC::Run::run([ $httpload, '-p', $port, '-c', $clients, '-d', $seconds, '-u', $path ],
		'>', \$out, '2>', \$err) or die "httpload: $err";
	my %r = map { split / / } split /\n/, $out;
	return \%r;
}

# ---- throughput and latency of /primary
{
	my $node = new_primary('rps', 1, conf => { http_settings('rps'), log_statement => 'none' });
	register_primary($node, 1);
	wait_for('/primary 200', 30, sub { http_status($node, '/primary') == 200 });
	my $pid = http_worker_pid($node);
	my @r;
	for my $run (1 .. $runs)
	{
		my $cpu0 = cpu_seconds($pid);
		my $r = httpload(http_port($node), '/primary', 64, 10);
		$r->{cpu_us_per_request} = (cpu_seconds($pid) - $cpu0) * 1e6 / ($r->{requests} || 1);
		progress(sprintf('/primary, 64 clients, run %d: %d req/s, p50 %d us, p99 %d us, max %d us, %d errors, %d non-200, %.1f us of worker CPU a request',
				$run, $r->{rps}, $r->{p50_us}, $r->{p99_us}, $r->{max_us}, $r->{errors}, $r->{non_200},
				$r->{cpu_us_per_request}));
		push @r, $r;
	}
	my $one = httpload(http_port($node), '/primary', 1, 5);
	progress(sprintf('/primary, 1 client: %d req/s, p50 %d us, p99 %d us', $one->{rps}, $one->{p50_us}, $one->{p99_us}));
	my $m = httpload(http_port($node), '/metrics', 64, 5);
	progress(sprintf('/metrics, 64 clients: %d req/s, p99 %d us', $m->{rps}, $m->{p99_us}));
	$result{throughput} = {
		path => '/primary', clients => 64, seconds => 10,
		rps => stats(map { $_->{rps} } @r),
		p50_us => stats(map { $_->{p50_us} } @r),
		p99_us => stats(map { $_->{p99_us} } @r),
		max_us => stats(map { $_->{max_us} } @r),
		errors => stats(map { $_->{errors} } @r),
		non_200 => stats(map { $_->{non_200} } @r),
		metrics_rps => $m->{rps}, metrics_p99_us => $m->{p99_us},
		cpu_us_per_request => stats(map { $_->{cpu_us_per_request} } @r),
		one_client => $one,
		load_average => (split / /, slurp_file('/proc/loadavg'))[0],
	};
	$node->teardown_node;
	$node->clean_node;
}

# ---- failover through HAProxy next to the multi-host URI

# a 3-node cluster with the endpoint on, listening on 127.0.0.1 for HAProxy
sub http_cluster
{
	my ($prefix, $settings) = @_;
	# registered at the defaults (a loaded machine can miss the tight
	# deadlines while cloning), then switched to $settings
	my %base = (log_statement => 'none', listen_addresses => '127.0.0.1');
	my $primary = new_primary("${prefix}n1", 1, conf => { %base, http_settings("${prefix}n1") });
	register_primary($primary, 1);
	$primary->backup('base');
	my @nodes = ($primary);
	for my $i (2 .. 3)
	{
		my $name = "${prefix}n$i";
		my $s = PostgreSQL::Test::Cluster->new($name);
		$s->init_from_backup($primary, 'base', has_streaming => 1);
		$s->append_conf('postgresql.conf', repmgr_conf($i, conf => { %base, http_settings($name) }));
		$s->append_conf('postgresql.conf',
			"primary_conninfo = '" . $primary->connstr . " application_name=$name'");
		$s->start;
		register_standby($s, $i);
		push @nodes, $s;
	}
	wait_all_streaming($primary, @nodes[ 1 .. 2 ]);
	my $set = settings_of($settings);
	foreach my $n (@nodes)
	{
		$n->safe_psql('postgres', "ALTER SYSTEM SET $_ = '$set->{$_}'") foreach sort keys %$set;
		$n->reload;
	}
	foreach my $n (@nodes)
	{
		wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream')
		  or die $n->name . ': worker not monitoring';
	}
	return @nodes;
}

sub start_haproxy
{
	my ($dir, $rw, $checks, @nodes) = @_;
	my $servers = join('', map { sprintf("    server %s 127.0.0.1:%d check port %d\n", $_->name, $_->port, http_port($_)) } @nodes);
	PostgreSQL::Test::Utils::append_to_file("$dir/haproxy.cfg", <<"CFG");
global
    maxconn 200
    stats socket $dir/haproxy.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 30m
    timeout server 30m
    timeout check 1s
frontend postgres_rw
    bind 127.0.0.1:$rw
    default_backend primary
backend primary
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server $checks on-marked-down shutdown-sessions
$servers
CFG
	my ($o, $e);
	return IPC::Run::start([ $haproxy, '-db', '-f', "$dir/haproxy.cfg" ], '>', \$o, '2>', \$e);
}

sub start_prober_table
{
	my ($conninfo, $out, $table) = @_;
	my ($o, $e);
	return IPC::Run::start([ "$ENV{TESTDIR}/bench/prober", '-c', $conninfo, '-i', 5, '-d', 600000,
			'-o', $out, '-t', $table ], '>', \$o, '2>', \$e);
}

# hostile clients on every node's endpoint: hammering and slow ones
sub start_attack
{
	my (@nodes) = @_;
	my @h;
	foreach my $n (@nodes)
	{
		my ($o, $e);
		push @h, IPC::Run::start([ $httpload, '-p', http_port($n), '-c', 4, '-d', 600, '-u', '/primary' ],
			'>', \$o, '2>', \$e);
		push @h, IPC::Run::start([ $httpload, '-p', http_port($n), '-c', 4, '-d', 600, '-u', '/metrics' ],
			'>', \$o, '2>', \$e);
	}
	my @slow;
	foreach my $n (@nodes)
	{
		for (1 .. 100)
		{
			my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => http_port($n)) or last;
			syswrite($s, "GET /pri");
			push @slow, $s;
		}
	}
	return { handles => \@h, slow => \@slow };
}

sub stop_attack
{
	my ($a) = @_;
	$_->kill_kill foreach @{ $a->{handles} };
	close($_) foreach @{ $a->{slow} };
}

# one failover, measured; on failure what it started is stopped before
# the error is passed on
sub one_failover
{
	my ($prefix, $settings, %opts) = @_;
	my @undo;
	my $r = eval { one_failover_steps($prefix, $settings, \@undo, %opts) };
	return $r if $r;
	my $err = $@;
	eval { $_->() } foreach reverse @undo;
	die $err;
}

sub one_failover_steps
{
	my ($prefix, $settings, $undo, %opts) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my @nodes = http_cluster($prefix, $settings);
	push @$undo, sub { destroy_cluster(@nodes) };
	my ($primary, @standbys) = @nodes;
	my $rw = PostgreSQL::Test::Cluster::get_free_port();
	my $hap = start_haproxy($dir, $rw, $CHECKS{$settings}, @nodes);
	push @$undo, sub { $hap->kill_kill };

	my $out_h = "$dir/haproxy.prober";
	my $out_m = "$dir/multi.prober";
	my $ph = start_prober_table("host=127.0.0.1 port=$rw dbname=repmgr connect_timeout=2", $out_h, 'probe_haproxy');
	my $pm = start_prober_table(multi_conninfo(@nodes), $out_m, 'probe_multi');
	push @$undo, sub { $_->kill_kill foreach ($ph, $pm) };
	wait_for('both probers write on the primary', 60, sub {
			(grep { $_->{ok} && $_->{node} eq '1' } prober_results($out_h)) >= 200
			  && (grep { $_->{ok} && $_->{node} eq '1' } prober_results($out_m)) >= 200 });
	my $attack = $opts{attack} ? start_attack(@nodes) : undef;
	push @$undo, sub { stop_attack($attack) } if $attack;
	usleep(500_000) if $attack;    # let the attack reach full strength

	my $t_kill = mono_ms();
	$primary->kill9;
	my $new_id;
	wait_for('a standby promoted', 120, sub {
			foreach my $i (0 .. $#standbys)
			{
				if ($standbys[$i]->safe_psql('postgres', 'SELECT NOT pg_is_in_recovery()') eq 't')
				{
					$new_id = $i + 2;
					return 1;
				}
			}
			return 0 });
	wait_for('both probers write on the new primary', 60, sub {
			(grep { $_->{ok} && $_->{node} eq $new_id } prober_results($out_h)) >= 20
			  && (grep { $_->{ok} && $_->{node} eq $new_id } prober_results($out_m)) >= 20 });
	stop_attack($attack) if $attack;
	$_->signal('TERM') foreach ($ph, $pm);
	$_->finish foreach ($ph, $pm);
	$hap->kill_kill;

	my %r = (settings => $settings, attack => $opts{attack} ? 1 : 0, haproxy_checks => $CHECKS{$settings});
	foreach my $which ([ 'haproxy', $out_h ], [ 'multi', $out_m ])
	{
		my @acked = grep { $_->{ok} } prober_results($which->[1]);
		my ($first_new) = grep { $_->{node} eq $new_id } @acked;
		my @old = grep { $_->{node} eq '1' } @acked;
		$r{"$which->[0]_ms"} = $first_new->{end} - $t_kill;
		$r{"$which->[0]_gap_ms"} = $first_new->{end} - $old[-1]->{end};
		$r{"$which->[0]_old_after_new"} = scalar(grep { $_->{node} eq '1' && $_->{end} > $first_new->{end} } @acked);
	}
	destroy_cluster(@nodes);
	return \%r;
}

my @configs = ([ 'defaults', 0 ], [ 'tight', 0 ], [ 'tight', 1 ]);
foreach my $c (@configs)
{
	my ($settings, $attack) = @$c;
	my $label = $settings . ($attack ? ' + endpoint attack' : '');
	my @r;
	my @failed;
	for my $run (1 .. $runs)
	{
		# a run that fails (no promotion in time on an overloaded machine)
		# is counted and said, and the others still measured
		my $f = eval { one_failover(substr($settings, 0, 1) . ($attack ? 'x' : '') . "r$run", $settings, attack => $attack) };
		if (!$f)
		{
			my $err = $@ // 'unknown error';
			chomp $err;
			progress("$label run $run FAILED: $err");
			push @failed, "run $run: $err";
			next;
		}
		progress(sprintf('%s run %d: through HAProxy %d ms, multi-host URI %d ms (difference %+d ms)',
				$label, $run, $f->{haproxy_ms}, $f->{multi_ms}, $f->{haproxy_ms} - $f->{multi_ms}));
		push @r, $f;
	}
	push @{ $result{failover} }, {
		label => $label, settings => $settings, attack => $attack,
		settings_values => settings_of($settings), haproxy_checks => $CHECKS{$settings},
		runs => \@r,
		failed_runs => \@failed,
		haproxy_ms => stats(map { $_->{haproxy_ms} } @r),
		multi_ms => stats(map { $_->{multi_ms} } @r),
		difference_ms => stats(map { $_->{haproxy_ms} - $_->{multi_ms} } @r),
		old_after_new => stats(map { $_->{haproxy_old_after_new} } @r),
	};
}

write_result('http', \%result);
ok(1, 'http benchmark done');
done_testing();

# bench/scale.pl — cluster_show() and a full failover as the cluster grows:
# one primary and 2, 4, 8 standbys (BENCH_SCALE_SIZES), every node on this
# machine, default settings.
#
# What, for each size:
#   - cluster_show(): duration of SELECT * FROM repmgr.cluster_show() on the
#     primary (every node polled in parallel), 20 calls over one session;
#   - cluster_show() with a blackholed node: a registered node whose
#     conninfo points at a TCP listener on 127.0.0.1 that never accepts (the
#     kernel completes the handshake, no server ever answers), 5 calls;
#     with the largest size also with three such nodes.  Target: one
#     connect timeout (repmgr.connect_timeout = 1 s), not one per node;
#     PASS when the median stays under 1.5 s;
#   - a full failover as bench/failover.pl measures it (kill -9 of the
#     primary, write unavailability through the prober, writes lost) and
#     the time until *every* other standby streams from the new primary;
#     BENCH_RUNS runs (default 5), each on a fresh cluster.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/../t";
use BenchLib;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $runs = runs(5);
my @sizes = split /[ ,]+/, ($ENV{BENCH_SCALE_SIZES} // '2 4 8');
my $rawdir = PostgreSQL::Test::Utils::tempdir();
my %result = (runs => $runs, sizes => []);

# durations in ms of $n calls of $sql over one session
sub timed_calls
{
	my ($node, $n, $sql) = @_;
	my $s = session($node);
	my @ms;
	my $out;
	for (1 .. $n)
	{
		my $t0 = mono_ms();
		$out = $s->query($sql);
		push @ms, mono_ms() - $t0;
	}
	$s->quit;
	return ($out, @ms);
}

# cluster_show() figures on a running cluster (the first run of each size)
sub cluster_show_figures
{
	my ($size, $r, @nodes) = @_;
	my $primary = $nodes[0];
	my ($out, @ms) = timed_calls($primary, 20,
		'SELECT count(*) FILTER (WHERE status LIKE \'%running%\') FROM repmgr.cluster_show()');
	die "cluster_show: $out of " . scalar(@nodes) . " nodes running" if $out != scalar @nodes;
	$r->{cluster_show_ms} = stats(@ms);

	foreach my $holes ($size == $sizes[-1] ? (1, 3) : (1))
	{
		my @listeners;
		for my $i (1 .. $holes)
		{
			my $id = 100 + $i;
			my $l = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
				LocalPort => 0, Proto => 'tcp') or die "listen: $!";
			push @listeners, $l;
			$primary->safe_psql('repmgr', sprintf(
				"INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo) "
				  . "VALUES (%d, 'standby', 1, 'default', 'hole%d', 'host=127.0.0.1 port=%d dbname=repmgr')",
				$id, $id, $l->sockport));
		}
		my ($unreachable, @hms) = timed_calls($primary, 5,
			"SELECT count(*) FROM repmgr.cluster_show() WHERE status = '? unreachable'");
		die "blackholed nodes: $unreachable unreachable, $holes expected" if $unreachable != $holes;
		$primary->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes WHERE id > 100');
		$_->close foreach @listeners;
		$r->{"blackhole${holes}_ms"} = stats(@hms);
		progress(sprintf('%d standbys: cluster_show() median %.1f ms; with %d blackholed node(s) median %.0f ms',
				$size, $r->{cluster_show_ms}{median}, $holes, $r->{"blackhole${holes}_ms"}{median}));
	}
	$r->{connect_timeout} = $primary->safe_psql('repmgr', 'SHOW repmgr.connect_timeout');
}

foreach my $size (@sizes)
{
	my %r = (standbys => $size);
	my @f;
	for my $run (1 .. $runs)
	{
		my $f = run_failover("s${size}r$run", standbys => $size, settings => 'defaults',
			rawdir => $rawdir,
			before => $run == 1 ? sub { cluster_show_figures($size, \%r, @_) } : undef);
		progress(sprintf('%d standbys, run %d: %s promoted; unavailable %d ms, '
				  . 'every standby following after %d ms, %d lost',
				$size, $run, $f->{promoted}, $f->{unavailable_ms}, $f->{follow_ms}, $f->{lost}));
		push @f, $f;
	}
	$r{failovers} = \@f;
	$r{unavailable_ms} = stats(map { $_->{unavailable_ms} } @f);
	$r{follow_ms} = stats(map { $_->{follow_ms} } @f);
	$r{promote_ms} = stats(map { $_->{promote_ms} } @f);
	$r{lost} = stats(map { $_->{lost} } @f);
	push @{ $result{sizes} }, \%r;
}

write_result('scale', \%result);
ok(1, 'scale benchmark done');
done_testing();

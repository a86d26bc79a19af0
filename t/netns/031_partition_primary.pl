# The primary cut off from every other node: it fences (refuses commits)
# before the others promote one of them, a client on its side never sees a
# write acknowledged after the new primary accepted one, and after the
# network heals the old primary stays fenced until it rejoins.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use NetnsCluster;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(prober_results poll_until);
use Test::More;
use Time::HiRes qw(time);

if (my $why = netns_available()) { plan skip_all => $why; }
netns_setup();

my %o = (test => '031');
my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1);
$n1->register_primary;
my $n2 = NetnsCluster->new('node2', 2, %o)->init_standby($n1, 2);
$n2->register_standby;
my $n3 = NetnsCluster->new('node3', 3, %o)->init_standby($n1, 3);
$n3->register_standby;
ok($n1->wait_worker_state('monitoring as primary'), 'node1 monitors as primary');
ok($n2->wait_worker_state('monitoring upstream'), 'node2 monitors');
ok($n3->wait_worker_state('monitoring upstream'), 'node3 monitors');
my $timing = $n1->safe_psql("SELECT string_agg(name || '=' || milliseconds, ' ') FROM repmgr.failover_timing()");
diag("timing: $timing");

# a client on each side: the application (root namespace, any primary) and
# a client next to node1 (inside its namespace)
my $multi = sprintf('host=%s,%s,%s port=5432 dbname=repmgr user=%s target_session_attrs=read-write connect_timeout=1',
	$n1->ip, $n2->ip, $n3->ip, $ENV{REPMGR_TEST_USER} // 'repmgrtest');
my $app = NetnsCluster::start_prober($multi, tag => 'app');
my $local = NetnsCluster::start_prober('host=127.0.0.1 port=5432 dbname=repmgr connect_timeout=1 user='
	  . ($ENV{REPMGR_TEST_USER} // 'repmgrtest'), tag => 'local', ns => $n1);
ok(poll_until('the probers write', 30, sub {
	scalar(grep { $_->{ok} } prober_results($app->{out})) >= 20
	  && scalar(grep { $_->{ok} } prober_results($local->{out})) >= 20 }),
	'both clients write to node1');

my $t_cut = time();
$n1->isolate;

ok($n1->poll_query_until("SELECT state = 'fenced' FROM repmgr.daemon_status()", local => 1),
	'node1 fences itself');
my $t_fenced = time() - $t_cut;
my $promoted;
ok(poll_until('a promotion', 60, sub {
	foreach my $n ($n2, $n3)
	{
		my ($ok, $out) = $n->psql('SELECT NOT pg_is_in_recovery()');
		if ($ok && $out eq 't') { $promoted = $n; return 1; }
	}
	return 0; }), 'a standby is promoted');
my $t_promoted = time() - $t_cut;
diag(sprintf('cut at 0: node1 fenced by %.2f s, %s promoted by %.2f s', $t_fenced, $promoted->name, $t_promoted));

ok(poll_until('app writes on the new primary', 30, sub {
	scalar(grep { $_->{ok} && $_->{node} eq $promoted->{id} } prober_results($app->{out})) >= 20 }),
	'the application writes to the new primary');

$_->{handle}->signal('TERM') foreach ($app, $local);
$_->{handle}->finish foreach ($app, $local);
my @app = prober_results($app->{out});
my @local = prober_results($local->{out});
my ($last_old) = sort { $b->{end} <=> $a->{end} } grep { $_->{ok} && $_->{node} eq '1' } (@app, @local);
my ($first_new) = sort { $a->{start} <=> $b->{start} } grep { $_->{ok} && $_->{node} eq $promoted->{id} } @app;
cmp_ok($last_old->{end}, '<', $first_new->{start},
	sprintf('the last write acknowledged by node1 (at %d) came before the first accepted by %s (at %d): never two writable primaries',
		$last_old->{end}, $promoted->name, $first_new->{start}));
diag(sprintf('gap between the two primaries: %d ms', $first_new->{start} - $last_old->{end}));
ok(scalar(grep { !$_->{ok} && $_->{node} =~ /fenced/ } @local) > 0,
	'the client next to node1 was told node1 is fenced');

# heal: node1 learns of the newer primary and stays fenced
$n1->heal;
ok($n1->poll_query_until("SELECT fenced FROM repmgr.daemon_status()"),
	'node1 is fenced for good once it sees the newer primary');
my ($ok, $out, $err) = $n1->psql('CREATE TABLE t_after (x int)');
ok(!$ok, 'node1 refuses writes after the network healed');
like($err, qr/cannot commit: this primary \(node 1\) is fenced|read-only transaction/, '... saying why');
is($n1->safe_psql('SHOW default_transaction_read_only'), 'on',
	'new sessions on node1 are read-only, so read-write clients go elsewhere');
is($promoted->safe_psql("SELECT status FROM repmgr.cluster_show() WHERE id = 1"),
	'! running (fenced)', 'cluster_show shows node1 running, fenced');

done_testing();

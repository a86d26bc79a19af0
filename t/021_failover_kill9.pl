# kill -9 of the primary with two standbys and synchronous replication:
# the most advanced standby wins (not the lowest id), the other follows it,
# every acknowledged write survives, and cluster_show / cluster_event show
# what the documents show.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(time);

my $node1 = new_primary('node1', 1);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2);
my $node3 = new_standby($node1, 'node3', 3);
register_standby($node2, 2);
register_standby($node3, 3);

# synchronous replication once the standbys are there, on every node
foreach my $n ($node1, $node2, $node3)
{
	$n->safe_psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (node2, node3)'");
	$n->reload;
}
foreach my $n ($node1, $node2, $node3)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# node2 stops receiving WAL: node3 will be the most advanced
$node2->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = ''");
$node2->reload;
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_replication WHERE application_name = 'node2'"),
	'node2 no longer streams');

# writes through a multi-host connection, as an application would
my $multi = sprintf("host=%s,%s,%s port=%d,%d,%d dbname=repmgr target_session_attrs=read-write connect_timeout=2",
	$node1->host, $node2->host, $node3->host, $node1->port, $node2->port, $node3->port);
my $prober = start_prober($multi, interval => 5);
ok(poll_until('the prober writes', 30, sub { scalar(grep { $_->{ok} } prober_results($prober->{out})) >= 50 }),
	'the prober commits through the multi-host connection');

my $t0 = time();
$node1->kill9;
ok($node3->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'node3 (most advanced) promoted');
diag(sprintf('promotion %.2f s after kill -9', time() - $t0));
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node2 (lower id, behind) not promoted');
ok(poll_until('writes on node3', 30,
		sub { scalar(grep { $_->{ok} && $_->{node} eq '3' } prober_results($prober->{out})) >= 20 }),
	'the prober writes to node3');
my @rows = stop_prober($prober);

my @acked = grep { $_->{ok} } @rows;
my $last_old = (grep { $_->{node} eq '1' } @acked)[-1];
my $first_new = (grep { $_->{node} eq '3' } @acked)[0];
diag(sprintf('write unavailability: %d ms (last ack on node1 at %d ms, first on node3 at %d ms)',
		$first_new->{end} - $last_old->{end}, $last_old->{end}, $first_new->{end}));
my $ids = join(',', map { $_->{seq} } @acked);
is($node3->safe_psql('repmgr', "SELECT count(DISTINCT seq) FROM repmgr_probe WHERE seq IN ($ids)"),
	scalar(@acked), 'every acknowledged write is on the new primary (' . scalar(@acked) . ' writes)');

# node2 follows node3, without a restart, and catches up
ok($node2->poll_query_until('postgres',
		"SELECT status = 'streaming' AND sender_port = " . $node3->port . ' FROM pg_stat_wal_receiver'),
	'node2 streams from node3');
$node3->safe_psql('repmgr', 'CREATE TABLE after (x int); INSERT INTO after VALUES (1)');
ok($node2->poll_query_until('repmgr', "SELECT count(*) = 1 FROM pg_tables WHERE tablename = 'after'"),
	'node2 replays the new primary');

# what the documents show
ok($node3->poll_query_until('repmgr', "SELECT count(*) = 1 FROM repmgr.repl_events WHERE event = 'repmgrd_failover_follow'"),
	'the follow is recorded');
is($node3->safe_psql('repmgr', 'SELECT id, name, role, status, upstream FROM repmgr.cluster_show() ORDER BY id'),
	"1|node1|primary|- failed|\n2|node2|standby|running|node3\n3|node3|primary|* running|",
	'cluster_show: old primary failed, node2 under node3');
is($node3->safe_psql('repmgr',
		"SELECT string_agg(format('%s|%s|%s|%s', node_id, event, ok, details), E'\\n' ORDER BY event_timestamp DESC, event) FROM repmgr.cluster_event() WHERE event IN ('standby_promote', 'repmgrd_failover_promote', 'standby_follow', 'repmgrd_failover_follow')"),
	"2|repmgrd_failover_follow|t|node 2 now following new upstream node 3\n"
	  . "2|standby_follow|t|node 2 is now attached to node 3\n"
	  . "3|repmgrd_failover_promote|t|node 3 promoted to primary; old primary 1 marked as failed\n"
	  . "3|standby_promote|t|node 3 was successfully promoted to primary",
	'cluster_event: promote and follow, as in the documents');
is($node3->safe_psql('repmgr', 'SELECT term, voted_for FROM repmgr.daemon_status()'), '1|3',
	'node3 won term 1 with its own vote');
is($node2->safe_psql('repmgr', 'SELECT term, voted_for FROM repmgr.daemon_status()'), '1|3',
	'node2 voted for node3 in term 1');

done_testing();

# A follow that re-pointed a standby but could not record it leaves the
# standby streaming from one node while its record names another.  The
# worker repairs the record as soon as the primary accepts the write (it
# keeps trying, and does not end meanwhile), also after a restart of the
# worker.  Seen in a failover: the new primary refuses writes until its
# lease, so a follower's record stayed on its old upstream for good, and
# the new primary never added it to the synchronous set.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

# node1 -> node2 -> node3
my $node1 = new_primary('node1', 1);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2);
register_standby($node2, 2);
my $node3 = new_standby($node2, 'node3', 3);
register_standby($node3, 3, upstream_node_id => 2);
foreach my $n ($node1, $node2, $node3)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# node1 refuses to update node3's record, as a primary without its lease
# refuses every write
$node1->safe_psql('repmgr', q{
CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'cannot execute UPDATE in a read-only transaction'
		USING ERRCODE = '25006';
END $$;
CREATE TRIGGER refuse BEFORE UPDATE ON repmgr.repl_nodes
	FOR EACH ROW WHEN (OLD.id = 3) EXECUTE FUNCTION public.refuse();
});

my $pid = $node3->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()');
my $log_offset = -s $node3->logfile;
my ($state, $msg) = sql_error($node3, 'SELECT repmgr.follow(1)');
is($state, '25006', 'repmgr.follow(1) on node3: the primary refuses the record');
ok($node3->poll_query_until('postgres',
		"SELECT status = 'streaming' AND sender_port = " . $node1->port . ' FROM pg_stat_wal_receiver'),
	'node3 streams from node1 all the same');
is($node1->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 3'),
	'2', 'its record still names node2');

# the worker sees it, tries, and keeps going
$log_offset = $node3->wait_for_log(
	qr/node 3 streams from node 1 \("node1"\), but its record names node 2 as its upstream: repairing the record/,
	$log_offset);
ok($log_offset, 'node3 worker: the record names another upstream than the one it streams from');
$log_offset = $node3->wait_for_log(
	qr/WARNING:  repmgr worker: node 3 streams from node 1, but its record could not be updated/,
	$log_offset);
ok($log_offset, 'node3 worker: the repair is refused too, with a warning');
$log_offset = $node3->wait_for_log(qr/repairing the record/, $log_offset);
ok($log_offset, 'node3 worker: it tries again');
is($node3->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()'), $pid,
	'node3 worker: did not end');
is($node3->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.daemon_status()'), '1',
	'node3 worker: watches node1, the node it streams from');
like($node3->safe_psql('repmgr', 'SELECT last_error FROM repmgr.daemon_status()'),
	qr/streams from node 1, but its record could not be updated/, 'daemon_status says why');

# a restarted worker starts from the record (node2), and repairs it too
$node3->safe_psql('repmgr', "SELECT pg_terminate_backend($pid)");
ok($node3->poll_query_until('repmgr',
		"SELECT pid <> $pid AND state = 'monitoring upstream' FROM repmgr.daemon_status()"),
	'node3 worker restarted');
$log_offset = $node3->wait_for_log(qr/but its record names node 2 as its upstream: repairing the record/,
	$log_offset);
ok($log_offset, 'node3 restarted worker: sees the record is stale');

# node1 accepts the write again
$node1->safe_psql('repmgr', 'DROP TRIGGER refuse ON repmgr.repl_nodes');
ok($node1->poll_query_until('repmgr',
		'SELECT upstream_node_id = 1 FROM repmgr.repl_nodes WHERE id = 3'),
	'node3 record repaired: upstream node1');
ok($node3->poll_query_until('repmgr',
		'SELECT upstream_node_id = 1 FROM repmgr.repl_nodes WHERE id = 3'),
	'... and replayed on node3');
is($node1->safe_psql('repmgr',
		"SELECT count(*) FROM repmgr.repl_events WHERE node_id = 3 AND event = 'standby_follow' AND successful "
		  . "AND details = 'node 3 is now attached to node 1'"),
	'1', 'one standby_follow event recorded');
is($node3->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.daemon_status()'), '1',
	'node3 worker watches node1');
is($node3->safe_psql('postgres', 'SELECT sender_port FROM pg_stat_wal_receiver'), $node1->port,
	'node3 still streams from node1');

done_testing();

# The in-server worker on a primary, two standbys and a witness: start
# events, daemon_status(), monitoring history under load, a restart of the
# primary with failover = manual, events buffered while the primary is down,
# pause across nodes and a restart, and a worker killed and restarted.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my %conf = (conf => {
	'repmgr.failover' => 'manual',
	'repmgr.monitoring_history' => 'on',
	'repmgr.monitor_interval' => '500ms',
	'repmgr.reconnect_interval' => '500ms' });

my $node1 = new_primary('node1', 1, %conf);
register_primary($node1, 1);
my $node2 = new_standby($node1, 'node2', 2, %conf);
my $node3 = new_standby($node1, 'node3', 3, %conf);
register_standby($node2, 2);
register_standby($node3, 3);
my $witness = new_witness($node1, 'witness', 4, %conf);
my @all = ($node1, $node2, $node3, $witness);

# workers start everywhere and say so
ok(wait_worker_state($node1, 30, 'monitoring as primary'), 'node1: worker monitors as primary');
ok(wait_worker_state($node2, 30, 'monitoring upstream'), 'node2: worker monitors its upstream');
ok(wait_worker_state($node3, 30, 'monitoring upstream'), 'node3: worker monitors its upstream');
ok(wait_worker_state($witness, 30, 'monitoring as witness'), 'witness: worker monitors the primary');
ok($node1->poll_query_until('repmgr',
		"SELECT count(DISTINCT node_id) = 4 FROM repmgr.repl_events WHERE event = 'repmgrd_start'"),
	'repmgrd_start recorded for the four nodes');
is($node1->safe_psql('repmgr',
		"SELECT string_agg(node_id || ': ' || details, E'\\n' ORDER BY node_id) FROM repmgr.repl_events WHERE event = 'repmgrd_start'"),
	qq(1: monitoring cluster primary "node1" (node ID: 1)
2: monitoring connection to upstream node "node1" (node ID: 1)
3: monitoring connection to upstream node "node1" (node ID: 1)
4: witness monitoring cluster primary "node1" (node ID: 1)),
	'repmgrd_start details as in the documents');

is($node2->safe_psql('repmgr',
		'SELECT pid > 0, node_id, role, state, upstream_node_id, primary_node_id, primary_last_seen > now() - interval \'5 s\', paused, fenced, failover FROM repmgr.daemon_status()'),
	't|2|standby|monitoring upstream|1|1|t|f|f|manual', 'daemon_status() on a standby');
is($witness->safe_psql('repmgr', 'SELECT role, upstream_node_id FROM repmgr.daemon_status()'),
	'witness|1', 'daemon_status() on the witness');
ok($witness->poll_query_until('repmgr', 'SELECT count(*) = 4 FROM repmgr.repl_nodes'),
	'the witness has a copy of repl_nodes');

# monitoring history and lag under a pgbench load
$node1->command_ok([ 'pgbench', '-i', '-s', '2', '-q', '-d', $node1->connstr('repmgr') ],
	'pgbench initialized');
$node1->command_ok([ 'pgbench', '-c', '2', '-T', '3', '-d', $node1->connstr('repmgr') ],
	'pgbench load ran');
ok($node1->poll_query_until('repmgr',
		"SELECT count(DISTINCT standby_node) = 2 FROM repmgr.repl_monitor WHERE last_monitor_time > now() - interval '2 seconds'"),
	'both standbys write monitoring history');
ok($node1->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_monitor') >= 6,
	'one row per standby per interval');
is($node1->safe_psql('repmgr',
		"SELECT string_agg(standby_name || ':' || (replication_lag_bytes >= 0) || ':' || (replication_lag ~ 'bytes|kB|MB'), ',' ORDER BY standby_node) FROM repmgr.repl_status"),
	'node2:true:true,node3:true:true', 'repl_status shows a lag in bytes per standby');
ok($node1->safe_psql('repmgr',
		"SELECT bool_and(replication_time_lag IS NOT NULL AND communication_time_lag < interval '1 minute') FROM repmgr.repl_status") eq 't',
	'repl_status shows time lags');

# the primary restarts while failover = manual: disconnect, reconnect, no promotion
$node1->stop('fast');
ok(wait_worker_state($node2, 30, 'degraded monitoring'), 'node2 degraded while the primary is down');
ok(wait_worker_state($node3, 30, 'degraded monitoring'), 'node3 degraded while the primary is down');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node2 not promoted');
is($node2->safe_psql('repmgr', 'SELECT events_queued > 0 FROM repmgr.daemon_status()'), 't',
	'node2 keeps its events while no primary is writable');
$node1->start;
ok(wait_worker_state($node2, 30, 'monitoring upstream'), 'node2 monitors again');
ok(wait_worker_state($node3, 30, 'monitoring upstream'), 'node3 monitors again');
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 2 FROM repmgr.repl_events WHERE event = 'repmgrd_upstream_disconnect' AND node_id IN (2, 3)"),
	'disconnect events of the standbys reached repl_events after the primary returned');
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 2 FROM repmgr.repl_events WHERE event = 'repmgrd_upstream_reconnect' AND node_id IN (2, 3)"),
	'reconnect events recorded');
is($node1->safe_psql('repmgr',
		"SELECT bool_and(e.event_timestamp < r.event_timestamp) FROM repmgr.repl_events e JOIN repmgr.repl_events r USING (node_id) WHERE e.event = 'repmgrd_upstream_disconnect' AND r.event = 'repmgrd_upstream_reconnect'"),
	't', 'buffered events keep the time they happened');
is($node1->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event LIKE '%promote%'"),
	'0', 'no promotion with failover = manual');
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) >= 1 FROM repmgr.repl_events WHERE event = 'repmgrd_shutdown' AND node_id = 1"),
	'the primary recorded its shutdown');

# pause everywhere, survive a restart, unpause everywhere
is($node2->safe_psql('repmgr', "SELECT string_agg(node_id || ':' || success, ',' ORDER BY node_id) FROM repmgr.daemon_pause()"),
	'1:true,2:true,3:true,4:true', 'daemon_pause() from a standby pauses the four nodes');
foreach my $n (@all)
{
	is($n->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 't', $n->name . ' paused');
}
# node3's events as the restarted primary's worker records them (not those
# of its worker before the restart)
my $since = $node1->safe_psql('repmgr', 'SELECT pg_postmaster_start_time()');
sub node3_event_since
{
	my ($event, $after) = @_;
	return "SELECT count(*) >= 1 FROM repmgr.repl_events WHERE node_id = 1 AND event LIKE '$event' "
	  . "AND details LIKE '%node3%' AND event_timestamp >= '$after'";
}
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'")
	  && $node1->poll_query_until('repmgr', node3_event_since('child_node_%connect', $since)),
	'node3 streams from the restarted primary, whose new worker noticed');
$node3->stop;
ok($node1->poll_query_until('repmgr', node3_event_since('child_node_disconnect', $since)),
	'the primary saw node3 go: child_node_disconnect');
my $gone = $node1->safe_psql('repmgr',
	"SELECT max(event_timestamp) FROM repmgr.repl_events WHERE node_id = 1 AND event = 'child_node_disconnect' AND details LIKE '%node3%'");
$node3->start;
is($node3->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 't',
	'node3 still paused after a restart');
ok($node1->poll_query_until('repmgr', node3_event_since('child_node_reconnect', $gone)),
	'and come back: child_node_reconnect');
ok(wait_worker_state($node3, 30, 'monitoring upstream'), 'a paused worker keeps monitoring');
$node1->safe_psql('repmgr', 'SELECT * FROM repmgr.daemon_unpause()');
foreach my $n (@all)
{
	is($n->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f', $n->name . ' unpaused');
}

# a worker killed with pg_terminate_backend is restarted
my $pid = $node2->safe_psql('repmgr', 'SELECT pid FROM repmgr.daemon_status()');
is($node2->safe_psql('repmgr', "SELECT pg_terminate_backend($pid)"), 't', 'worker of node2 terminated');
ok($node2->poll_query_until('repmgr',
		"SELECT pid IS NOT NULL AND pid <> $pid AND state = 'monitoring upstream' FROM repmgr.daemon_status()"),
	'the postmaster restarted it');
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 1 FROM repmgr.repl_events WHERE event = 'repmgrd_shutdown' AND node_id = 2"),
	'its shutdown was recorded');
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 2 FROM repmgr.repl_events WHERE event = 'repmgrd_start' AND node_id = 2"),
	'... and its new start');

# a reload that changes a setting is recorded
$node3->append_conf('postgresql.conf', "repmgr.monitor_interval = '700ms'");
$node3->reload;
ok($node1->poll_query_until('repmgr',
		"SELECT count(*) = 1 FROM repmgr.repl_events WHERE event = 'repmgrd_reload' AND node_id = 3 AND details LIKE '%monitor_interval=700ms%'"),
	'repmgrd_reload recorded with the new settings');

done_testing();

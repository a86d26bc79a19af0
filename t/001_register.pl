# Registration through SQL on a primary and two standbys made with
# pg_basebackup: metadata written on the primary from the standbys,
# cluster_show() from each node, a stopped and a blackholed node, events
# replicated to the standbys, and the notification script.  A standby
# registering before it has replayed the primary's registration waits for
# it.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(time);

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $notify_log = "$tmp/notify.log";

# the notification script writes its arguments, one line per event
my $script = "$tmp/notify.sh";
open my $fh, '>', $script or die;
print $fh "#!/bin/sh\n(IFS='|'; echo \"\$*\") >> '$notify_log'\n";
close $fh;
chmod 0755, $script;
my %conf = (conf => {
	'repmgr.event_notification_command' => "$script %n %e %s \"%t\" %a \"%d\"" });

# the test registers blackholed nodes below (a cluster that only exists
# in repl_nodes): the primary must not fence for want of their heartbeats
my $node1 = new_primary('node1', 1, conf => { %{ $conf{conf} }, 'repmgr.fence' => 'off' });
my $node2 = new_standby($node1, 'node2', 2, %conf);
my $node3 = new_standby($node1, 'node3', 3, %conf);

# node3 replays nothing until its registration below has started
$node3->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');

# wrong role and wrong node, before anything is registered
my ($state, $msg) = sql_error($node2,
	"SELECT repmgr.primary_register(2, 'node2', 'host=x')");
is($state, '55000', 'primary_register on a standby is refused');
($state, $msg) = sql_error($node2,
	"SELECT repmgr.standby_register(2, 'node2', 'host=x')");
is($state, '55000', 'standby_register before the primary is registered is refused');
like($msg, qr/no active primary/, '... because there is no primary');

is(register_primary($node1, 1), '1', 'primary registered');

($state, $msg) = sql_error($node2,
	"SELECT repmgr.standby_register(3, 'node3', 'host=x')");
is($state, '22023', 'standby_register of another node id is refused');
like($msg, qr/does not match repmgr.node_id \(2\)/, '... naming this node id');
($state, $msg) = sql_error($node2,
	"SELECT repmgr.standby_register(2, 'node2', 'host=x', upstream_node_id => 99)");
is($state, '23503', 'an upstream that does not exist is refused');
($state, $msg) = sql_error($node2,
	"SELECT repmgr.standby_register(2, 'node1', 'host=x')");
is($state, '42710', 'a name in use is refused');

# a standby's registration is written on the primary and visible here on return
is(register_standby($node2, 2), '2', 'node2 registered from node2');
is($node2->safe_psql('repmgr',
		'SELECT type, upstream_node_id FROM repmgr.repl_nodes WHERE id = 2'),
	'standby|1', 'node2 sees its own record as soon as the call returns');
# node3 has not replayed the registrations of node1 and node2: its
# standby_register waits until it has replayed what its upstream had
# written, then registers
is($node3->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '0',
	'node3 has not replayed the registrations yet');
my ($reg_out, $reg_err) = ('', '');
my $reg = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node3->connstr('repmgr'), '-c',
	  sprintf("SELECT repmgr.standby_register(3, 'node3', '%s', upstream_node_id => 2)", conninfo($node3)) ],
	'>', \$reg_out, '2>', \$reg_err);
ok($node3->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT repmgr.standby_register(3,%' "
		  . "AND wait_event_type = 'Extension'"),
	'node3: standby_register waits for the metadata to replay');
$node3->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$reg->finish;
is($reg_out, "3\n", 'node3 registered with node2 as upstream once replayed')
  or diag($reg_err);
is($node3->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 3'),
	'2', 'node3 sees its upstream');

($state, $msg) = sql_error($node2,
	"SELECT repmgr.standby_register(2, 'node2', 'host=x')");
is($state, '42710', 'registering again without force is refused');
is(register_standby($node2, 2, force => 'true', priority => 50), '2',
	'force overwrites the record');

# events are recorded on the primary and reach the standbys
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);
is($node3->safe_psql('repmgr',
		"SELECT string_agg(node_id || ':' || event, ',' ORDER BY event_timestamp) FROM repmgr.repl_events WHERE event LIKE '%register'"),
	'1:primary_register,2:standby_register,3:standby_register,2:standby_register',
	'events replicated to the standbys');

# cluster_show from each node
my $expected = "1|node1|primary|* running|\n2|node2|standby|running|node1\n3|node3|standby|running|node2";
foreach my $node ($node1, $node2, $node3)
{
	is($node->safe_psql('repmgr',
			'SELECT id, name, role, status, upstream FROM repmgr.cluster_show()'),
		$expected, 'cluster_show from ' . $node->name);
}
is($node2->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.cluster_show() WHERE lsn IS NOT NULL AND timeline = 1'),
	'3', 'every node reports its timeline and position');

# a stopped node: its socket refuses, it is down
$node3->stop;
foreach my $node ($node1, $node2)
{
	is($node->safe_psql('repmgr', 'SELECT status FROM repmgr.cluster_show() WHERE id = 3'),
		'- failed', 'stopped node3 shows as failed from ' . $node->name);
}

# blackholed nodes: a listener that never answers; three of them cost one
# timeout (connect_timeout 1 s), not three
my @holes;
for my $id (4 .. 6)
{
	my $hole = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
		LocalPort => 0, Proto => 'tcp') or die "listen: $!";
	push @holes, $hole;
	$node1->safe_psql('repmgr', sprintf(
		"INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo) "
		  . "VALUES (%d, 'standby', 1, 'default', 'hole%d', 'host=127.0.0.1 port=%d dbname=repmgr')",
		$id, $id, $hole->sockport));
}
my $start = time();
my $statuses = $node1->safe_psql('repmgr',
	"SELECT string_agg(status, ',' ORDER BY id) FROM repmgr.cluster_show() WHERE id >= 4");
my $elapsed = time() - $start;
is($statuses, '? unreachable,? unreachable,? unreachable', 'blackholed nodes are unreachable');
cmp_ok($elapsed, '<', 2.5, "three blackholed nodes polled in parallel (${elapsed}s)");
$node1->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes WHERE id >= 4');

# unregister node3 (down) from node2, then node3's record is gone everywhere
is($node2->safe_psql('repmgr', 'SELECT repmgr.standby_unregister(3)'), '3',
	'node3 unregistered from node2 while it is down');
is($node2->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes WHERE id = 3'),
	'0', 'node2 sees the unregistration on return');

# the notification script saw every event with its arguments
# (the workers' own events are notified too: keep the registrations)
sub registration_lines
{
	return () unless -f $notify_log;
	return sort grep { /\|(primary|standby)_(un)?register\|/ } split /\n/, slurp_file($notify_log);
}
ok(poll_until('5 notification lines', 10, sub { my @l = registration_lines(); @l >= 5 }),
	'one notification per event');
my @lines = registration_lines();
like($lines[0], qr/^1\|primary_register\|1\|\d{4}-\d\d-\d\d [\d:.]+\+\d\d\|node1\|node 1 \("node1"\) registered as primary/,
	'primary_register notification with node, event, success, timestamp, name and details');
is(scalar(grep { /^2\|standby_register\|1\|.*\|node2\|/ } @lines), 2,
	'standby_register notifications of node2 ran on node2');
is(scalar(grep { /^3\|standby_unregister\|1\|/ } @lines), 1, 'standby_unregister notification');

done_testing();

# promote_command and follow_command in place of the built-in actions:
# "repmgr standby promote" and "repmgr standby follow --upstream-node-id=%n"
# run by the workers after a kill -9 of the primary.  The commands record
# standby_promote / standby_follow, the workers their own events, once
# each; a follow_command that fails is recorded as a failed
# repmgrd_failover_follow, and retried.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use RepmgrCli;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;

my $p = new_primary('node1', 1);
my $repmgr = $p->config_data('--bindir') . '/repmgr';
register_primary($p, 1);

# node 2 promotes with the tool; node 3 follows with it, once a marker
# file exists (until then its follow_command fails)
my $s2 = new_standby($p, 'node2', 2, conf => { 'repmgr.promote_command' => 'placeholder' });
my $s3 = new_standby($p, 'node3', 3, conf => { 'repmgr.follow_command' => 'placeholder' });
my $conf2 = cli_conf($s2, 2);
my $conf3 = cli_conf($s3, 3);
$s2->safe_psql('postgres',
	"ALTER SYSTEM SET repmgr.promote_command = '$repmgr -f $conf2 standby promote >>$tmp/promote.log 2>&1 && echo %n >$tmp/promoted'");
$s3->safe_psql('postgres',
	"ALTER SYSTEM SET repmgr.follow_command = 'test -f $tmp/allow_follow && $repmgr -f $conf3 standby follow --upstream-node-id=%n >>$tmp/follow.log 2>&1 && echo %n >$tmp/followed'");
$_->reload foreach ($s2, $s3);
register_standby($s2, 2);
register_standby($s3, 3, priority => 50);

foreach my $n ($p, $s2, $s3)
{
	ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}
$p->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
$p->wait_for_catchup($_) foreach ($s2, $s3);

$p->kill9;

ok($s2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'node 2 is promoted');
ok(poll_until('the promote_command marker', 30, sub { -s "$tmp/promoted" }),
	'by its promote_command');
is(slurp_file("$tmp/promoted"), "2\n", '%n of promote_command is the node promoted');
like(slurp_file($s2->logfile), qr/running promote_command: \Q$repmgr\E -f/, 'the worker says what it runs');

# the failing follow_command: recorded, retried
ok(poll_until('a failed follow_command', 30,
		sub { slurp_file($s3->logfile) =~ /follow_command exited with 1/ }),
	'node 3: a follow_command that fails ends the attempt');
is($s3->safe_psql('postgres', 'SELECT sender_port FROM pg_stat_wal_receiver'), '',
	'node 3 does not stream from anywhere meanwhile');
open my $fh, '>', "$tmp/allow_follow" or die;
close $fh;
ok($s3->poll_query_until('postgres', 'SELECT sender_port = ' . $s2->port . ' FROM pg_stat_wal_receiver'),
	'once the command succeeds, node 3 streams from node 2');
ok(poll_until('the follow_command marker', 30, sub { -s "$tmp/followed" }),
	'by its follow_command');
is(slurp_file("$tmp/followed"), "2\n", '%n of follow_command is the node to follow');

# the events: the tool's and the worker's, once each
my $which = "event IN ('standby_promote', 'repmgrd_failover_promote', 'standby_follow', 'repmgrd_failover_follow') "
  . "AND successful";
ok($s2->poll_query_until('repmgr', "SELECT count(*) >= 4 FROM repmgr.repl_events WHERE $which"),
	'the events are recorded');
is($s2->safe_psql('repmgr',
		"SELECT string_agg(node_id || ' ' || event, ', ' ORDER BY node_id, event) FROM repmgr.repl_events WHERE $which"),
	'2 repmgrd_failover_promote, 2 standby_promote, 3 repmgrd_failover_follow, 3 standby_follow',
	'standby_promote and standby_follow by the commands, the workers\' own events, once each');
is($s2->safe_psql('repmgr', 'SELECT id, type, active, upstream_node_id FROM repmgr.repl_nodes ORDER BY id'),
	"1|primary|f|\n2|primary|t|\n3|standby|t|2", 'repl_nodes: node 2 primary, node 1 failed, node 3 under node 2');
ok($s2->poll_query_until('repmgr',
		"SELECT count(*) >= 1 FROM repmgr.repl_events WHERE node_id = 3 "
		  . "AND event = 'repmgrd_failover_follow' AND NOT successful "
		  . "AND details LIKE 'follow_command exited with 1: test -f %'"),
	'the failed follow_command is recorded as a failed repmgrd_failover_follow');
ok($s3->poll_query_until('repmgr', 'SELECT count(*) = 1 FROM t'), 'node 3 replicates from the new primary');
$s2->safe_psql('repmgr', 'INSERT INTO t VALUES (2)');
ok($s3->poll_query_until('repmgr', 'SELECT count(*) = 2 FROM t'), 'including new writes');
ok(wait_worker_state($s3, 30, 'monitoring upstream'), 'node 3 monitors its new upstream');

done_testing();

# bin/repmgr: the documents' failover walkthrough done by hand.  The
# primary is stopped, "standby promote" promotes node2, "standby follow"
# re-points node3 without a restart, "node rejoin" brings the old primary
# back as a standby (no pg_rewind after a clean shutdown), a cascaded
# follow by -h/-p, and a diverged old primary: refused without
# --force-rewind, rewound with it, keeping its own repmgr state (pg_rewind
# copies the primary's: a vote granted in the primary's term would be
# forgotten, and could be granted again).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my ($node1, $conf1) = cli_primary('node1', 1);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2);
my ($node3, $conf3) = cli_clone($node1, 'node3', 3,
	repmgr_conf => { use_replication_slots => 'yes' });
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);

sub checkpointer_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
}

# ---- refusals while the primary runs
my $out = repmgr_exit('standby promote while the primary runs is refused', 1,
	'-f', $conf2, 'standby', 'promote');
like($out, qr/\[ERROR\] node 1 \("node1"\) is running as primary/, '... naming the primary');
like($out, qr/\[HINT\] .*switchover/, '... and hinting at switchover');
repmgr_exit('standby promote --dry-run refuses too', 1, '-f', $conf2, '--dry-run', 'standby', 'promote');
$out = repmgr_exit('standby promote on the primary is refused', 1, '-f', $conf1, 'standby', 'promote');
like($out, qr/this server is not a standby/, '... saying why');
$out = repmgr_exit('standby follow on the primary is refused', 1, '-f', $conf1, 'standby', 'follow');
like($out, qr/node rejoin/, '... pointing at node rejoin');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node2 is still a standby');

# ---- the primary stops; node2 is promoted
$node1->stop;
repmgr_ok('standby promote --dry-run', '-f', $conf2, '--dry-run', 'standby', 'promote');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', '... changes nothing');
my $ckpt3 = checkpointer_pid($node3);
$out = repmgr_ok('standby promote', '-f', $conf2, 'standby', 'promote');
like($out, qr/\[NOTICE\] promoting standby\n.*\[NOTICE\] STANDBY PROMOTE successful/s,
	'... with the messages of the documents');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node2 accepts writes');
is($node2->safe_psql('repmgr',
		'SELECT id, type, upstream_node_id, active FROM repmgr.repl_nodes WHERE id IN (1, 2) ORDER BY id'),
	"1|primary||f\n2|primary||t", 'metadata: node2 primary, node1 inactive');
$out = repmgr_exit('a second promotion is refused', 1, '-f', $conf3, 'standby', 'promote');
like($out, qr/node 2 \("node2"\) is running as primary/, '... because node2 is primary');

# ---- node3 follows node2, without a restart
repmgr_ok('standby follow --dry-run', '-f', $conf3, '--dry-run', 'standby', 'follow');
$out = repmgr_ok('standby follow', '-f', $conf3, 'standby', 'follow');
like($out, qr/STANDBY FOLLOW successful/, 'standby follow reports success');
like($out, qr/node 3 is replicating from node 2 in state "streaming"/, '... and that node3 streams');
unlike($out, qr/restarting server/, '... without a restart');
is(checkpointer_pid($node3), $ckpt3, 'node3 was not restarted');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (101)');
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node3 replays from node2');
ok($node2->poll_query_until('postgres',
		"SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'"),
	'node3 streams through its slot on node2');
is($node2->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 3'),
	'2', 'metadata: node3 follows node2');

# ---- node rejoin of the old primary: it shut down cleanly, no rewind
$out = repmgr_exit('node rejoin without a node to connect to is refused', 1,
	'-f', $conf1, 'node', 'rejoin');
like($out, qr/needs the connection of a running node/, '... saying so');
$out = repmgr_ok('node rejoin --dry-run through a standby', '-f', $conf1,
	'-d', cli_conninfo($node3), '--dry-run', 'node', 'rejoin');
like($out, qr/it would stream from node 2 \("node2"\)/, '... finds the primary, needs no rewind');
ok(!-e $node1->data_dir . '/standby.signal', '... and changes nothing');
$out = repmgr_ok('node rejoin', '-f', $conf1, '-d', cli_conninfo($node2), 'node', 'rejoin');
sync_pids($node1);
unlike($out, qr/pg_rewind/, 'no pg_rewind after a clean shutdown');
like($out, qr/node 1 is replicating in state "streaming"/, 'node1 streams');
like($out, qr/NODE REJOIN successful/, 'node rejoin reports success');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node1 is a standby');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (102)');
ok($node1->poll_query_until('repmgr', 'SELECT count(*) = 102 FROM t'), 'node1 replays from node2');
is($node2->safe_psql('repmgr', 'SELECT type, upstream_node_id, active FROM repmgr.repl_nodes WHERE id = 1'),
	'standby|2|t', 'metadata: node1 is a standby of node2');
is($node2->safe_psql('repmgr', "SELECT details FROM repmgr.repl_events WHERE event = 'node_rejoin'"),
	'node 1 is now attached to node 2; pg_rewind: no', 'node_rejoin event');
$out = repmgr_exit('node rejoin of a running node is refused', 1, '-f', $conf1,
	'-d', cli_conninfo($node2), 'node', 'rejoin');
like($out, qr/is running \(PID \d+\)/, '... saying it runs');

# ---- cascading: node3 follows node1 (given by -h/-p), then the primary again
$out = repmgr_ok('standby follow of a standby given by -h/-p', '-f', $conf3,
	'-h', $node1->host, '-p', $node1->port, 'standby', 'follow');
like($out, qr/node 3 is replicating from node 1/, 'node3 streams from node1');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'"),
	'node1 has node3 as downstream');
repmgr_ok('standby follow of the primary again', '-f', $conf3, 'standby', 'follow');
is($node2->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 3'),
	'2', 'metadata: node3 follows node2 again');

# ---- node1 diverges: promoted on its own (another port, no worker), writes
$node1->stop;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my @alone = ('-h', $node1->host, '-p', $port, '-d', 'repmgr', '-X', '-A', '-t');
system_or_bail('pg_ctl', '-D', $node1->data_dir, '-l', $node1->logfile, '-w',
	'-o', "-p $port -c shared_preload_libraries= -c primary_conninfo=", 'start');
system_or_bail('pg_ctl', '-D', $node1->data_dir, '-w', 'promote');
system_or_bail('psql', @alone, '-c', 'INSERT INTO t SELECT 999 FROM generate_series(1, 1000)');
system_or_bail('pg_ctl', '-D', $node1->data_dir, '-m', 'fast', '-w', 'stop');

# node1's state: a vote for node3 in the term of node2 (an election of
# that term, say), which the rewind must not replace by node2's state
my $term2 = $node2->safe_psql('repmgr', 'SELECT term FROM repmgr.daemon_status()');
write_file($node1->data_dir, 'repmgr.state',
	"term=$term2\nvoted_term=$term2\nvoted_for=3\npaused=false\nfenced=false\n"
	  . "fenced_term=0\nlease_armed=false\nmembers_lsn=0\n");

$out = repmgr_exit('node rejoin of a diverged node is refused without --force-rewind', 1,
	'-f', $conf1, '-d', cli_conninfo($node2), 'node', 'rejoin');
like($out, qr/node 1 cannot attach to node 2 \("node2"\) without a rewind/, '... saying why');
like($out, qr/\[DETAIL\] this node is on timeline 3, newer than the primary's timeline 2/,
	'... with the timelines');
like($out, qr/--force-rewind/, '... and hinting at --force-rewind');
$out = repmgr_ok('node rejoin --force-rewind', '-f', $conf1, '-d', cli_conninfo($node2),
	'--force-rewind', 'node', 'rejoin');
sync_pids($node1);
like($out, qr/executing pg_rewind/, 'pg_rewind was run');
like($out, qr/\d+ files copied to \S*repmgr-config-archive/, 'configuration files kept aside');
like($out, qr/node 1 is replicating in state "streaming"/, 'node1 streams again');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (103)');
ok($node1->poll_query_until('repmgr', 'SELECT count(*) = 103 FROM t'), 'node1 replays from node2');
is($node1->safe_psql('repmgr', 'SELECT count(*) FROM t WHERE x = 999'), '0',
	'the diverged rows are gone');
is($node1->safe_psql('postgres', 'SHOW port'), $node1->port, 'node1 kept its own settings');
is($node1->safe_psql('repmgr', 'SELECT term, voted_for FROM repmgr.daemon_status()'),
	"$term2|3", 'node1 kept its own repmgr state: its vote in the term of node2');

# ---- a standby that cannot stream from its new upstream is restarted once
my $hba2 = $node1->data_dir . '/pg_hba.conf';
my $hba_text = slurp_file($hba2);
open my $fh, '>', $hba2 or die;
print $fh "local replication all reject\n$hba_text";
close $fh;
$node1->reload;
$ckpt3 = checkpointer_pid($node3);
$out = repmgr_exit('standby follow of an upstream that refuses replication: ERR_NO_RESTART', 4,
	'-f', $conf3, '--upstream-node-id=1', '--timeout=3', 'standby', 'follow');
sync_pids($node3);
like($out, qr/does not stream from node 1 after 3 seconds: it must be restarted/,
	'... the follow did not take effect');
like($out, qr/restarting server using/, '... so the standby was restarted');
like($out, qr/does not stream from node 1, even after a restart/, '... which did not help either');
isnt(checkpointer_pid($node3), $ckpt3, 'node3 was restarted');
open $fh, '>', $hba2 or die;
print $fh $hba_text;
close $fh;
$node1->reload;
$out = repmgr_ok('standby follow once the upstream accepts replication', '-f', $conf3,
	'--upstream-node-id=1', 'standby', 'follow');
unlike($out, qr/restarting server/, '... needs no restart');
repmgr_ok('node3 follows the primary again', '-f', $conf3, 'standby', 'follow');

$out = repmgr_ok('cluster show', '-f', $conf2, 'cluster', 'show');
like($out, qr/^ 1  \| node1 \| standby \| running   \| node2 /m, 'node1: standby of node2');
like($out, qr/^ 2  \| node2 \| primary \| \* running \|/m, 'node2: primary');
like($out, qr/^ 3  \| node3 \| standby \| running   \| node2 /m, 'node3: standby of node2');

done_testing();

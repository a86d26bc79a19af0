# bin/repmgr: "standby switchover" on a three-node cluster, the old
# primary's data directory on this host (its conninfo is a Unix socket, so
# the tool runs its steps there without ssh).  node2 becomes primary,
# node1 its standby without pg_rewind, node3 follows (--siblings-follow,
# lifting the documents' caveat); the workers are paused during the
# switchover and unpaused after.  Then back again, and the refusals.
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
my ($node2, $conf2) = cli_clone($node1, 'node2', 2,
	repmgr_conf => { use_replication_slots => 'on' });
my ($node3, $conf3) = cli_clone($node1, 'node3', 3);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');
$node1->wait_for_catchup($node2);
$node1->wait_for_catchup($node3);

# ---- refusals
my $out = repmgr_exit('switchover run on the primary is refused', 1,
	'-f', $conf1, '-C', $conf1, 'standby', 'switchover');
like($out, qr/this server is not a standby/, '... saying why');
$out = repmgr_exit('switchover with a missing remote configuration file is refused', 1,
	'-f', $conf2, '-C', '/nonexistent/repmgr.conf', 'standby', 'switchover');
like($out, qr/configuration file of the primary "\/nonexistent\/repmgr.conf" not found/,
	'... naming the file');
# a switchover that fails on the primary's host: the workers are unpaused
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $broken = cli_conf($node1, 1, pg_bindir => '/nonexistent', path => "$tmp/broken.conf");
$out = repmgr_exit('switchover whose remote pg_ctl cannot run: ERR_NO_RESTART', 4,
	'-f', $conf2, '-C', $broken, '-L', 'INFO', 'standby', 'switchover');
like($out, qr/pg_ctl stop failed/, '... the old primary could not be stopped');
like($out, qr/worker of node 2 \("node2"\) unpaused/, '... and the workers are unpaused');
unlike($out, qr/promoting standby/, '... nothing was promoted');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node1 is still primary');
foreach my $node ($node1, $node2, $node3)
{
	is($node->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f',
		'after the failure the worker of ' . $node->name . ' is not paused');
}
is($node1->safe_psql('repmgr',
		"SELECT successful FROM repmgr.repl_events WHERE event = 'standby_switchover'"),
	'f', 'the failed switchover is recorded');

$out = repmgr_ok('switchover --dry-run', '-f', $conf2, '-C', $conf1, '--siblings-follow',
	'-L', 'INFO', '--dry-run', 'standby', 'switchover');
like($out, qr/prerequisites for switchover are met/, '... checks the prerequisites');
like($out, qr/sibling node 3 \("node3"\) would follow the new primary/, '... lists the siblings');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', '... and changes nothing');

# ---- switchover: node2 becomes primary
$out = repmgr_ok('standby switchover --siblings-follow', '-f', $conf2, '-C', $conf1,
	'--siblings-follow', '-L', 'INFO', 'standby', 'switchover');
sync_pids($node1, $node2, $node3);
like($out, qr/switching current node 2 to primary server and demoting current primary to standby/,
	'switchover starts as in the documents');
like($out, qr/worker of node 1 \("node1"\) paused/, 'the workers are paused');
like($out, qr/current primary has been stopped/, 'the old primary is stopped');
like($out, qr/this standby has received the shutdown checkpoint of the primary/,
	'node2 received the shutdown checkpoint before promotion');
like($out, qr/STANDBY PROMOTE successful/, 'node2 promoted');
unlike($out, qr/executing pg_rewind/, 'no pg_rewind needed after a clean switchover');
like($out, qr/node 1 is replicating in state "streaming"/, 'node1 streams from node2');
like($out, qr/node 3 \("node3"\) now following new primary node 2/, 'node3 follows node2');
like($out, qr/worker of node 1 \("node1"\) unpaused/, 'the workers are unpaused');
like($out, qr/\[NOTICE\] switchover was successful/, 'switchover reports success');

is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node2 is primary');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node1 is a standby');
is($node2->safe_psql('repmgr',
		'SELECT id, type, upstream_node_id, active FROM repmgr.repl_nodes ORDER BY id'),
	"1|standby|2|t\n2|primary||t\n3|standby|2|t", 'metadata after the switchover');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (101)');
ok($node1->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node1 replays from node2');
ok($node3->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node3 replays from node2');
foreach my $node ($node1, $node2, $node3)
{
	is($node->safe_psql('repmgr', 'SELECT paused FROM repmgr.daemon_status()'), 'f',
		'worker of ' . $node->name . ' is not paused');
}
is($node1->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_2'"),
	'0', 'the slot node2 used on node1 is dropped');
is($node2->safe_psql('repmgr',
		"SELECT details FROM repmgr.repl_events WHERE event = 'standby_switchover' AND successful"),
	'node 2 promoted to primary, node 1 demoted to standby', 'standby_switchover event');

# ---- and back: node1 primary again; node2 streams through its slot
$out = repmgr_ok('switchover back to node1', '-f', $conf1, '-C', $conf2, '--siblings-follow',
	'standby', 'switchover');
sync_pids($node1, $node2, $node3);
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node1 is primary again');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pg_stat_replication WHERE application_name IN ('node2', 'node3') AND state = 'streaming'"),
	'node2 and node3 stream from node1');
ok($node1->poll_query_until('postgres',
		"SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_2'"),
	'node2 streams through its slot again');
$out = repmgr_ok('cluster show', '-f', $conf3, 'cluster', 'show');
like($out, qr/^ 1  \| node1 \| primary \| \* running \|/m, 'cluster show: node1 primary');
like($out, qr/^ 2  \| node2 \| standby \| running   \| node1 /m, 'cluster show: node2 standby of node1');
like($out, qr/^ 3  \| node3 \| standby \| running   \| node1 /m, 'cluster show: node3 standby of node1');

# ---- the remote step that reads the old primary's control file
$out = repmgr_ok('node status --is-shutdown-cleanly of a running server', '-f', $conf3,
	'node', 'status', '--is-shutdown-cleanly');
like($out, qr/^--state=RUNNING$/m, '... says it is running');
$out = repmgr_ok('node service --action=stop --is-shutdown-cleanly', '-f', $conf3,
	'node', 'service', '--action=stop', '--is-shutdown-cleanly');
sync_pids($node3);
my ($lsn, $end) = $out =~ /^--state=SHUTDOWN --last-checkpoint-lsn=(\S+) --checkpoint-end-lsn=(\S+)$/m;
ok(defined $lsn, '... prints the state after the stop');
my ($controldata) = run_command([ 'pg_controldata', '-D', $node3->data_dir ]);
my ($expected) = $controldata =~ /^Latest checkpoint location:\s+(\S+)$/m;
is($lsn, $expected, "... with the last checkpoint pg_controldata reads ($expected)");
$out = repmgr_ok('node status --is-shutdown-cleanly of the stopped server', '-f', $conf3,
	'node', 'status', '--is-shutdown-cleanly');
like($out, qr/^--state=SHUTDOWN --last-checkpoint-lsn=\Q$lsn\E --checkpoint-end-lsn=\Q$end\E$/m,
	'... the same');
# the end of the checkpoint record: where pg_waldump finds the next record
# begin, or the end of the WAL
my ($tli) = $controldata =~ /^Latest checkpoint's TimeLineID:\s+(\d+)$/m;
my ($waldump, $waldump_err) = run_command([ 'pg_waldump', '-p', $node3->data_dir . '/pg_wal',
	'-t', $tli, '-s', $lsn, '-n', '2' ]);
# (pg_waldump writes 0/0503F9D8 for 0/503F9D8)
my @starts = map { s{/0+(?=[0-9A-F])}{/}r } $waldump =~ /^rmgr: .*?lsn: (\S+),/mg;
like($waldump, qr/^rmgr: .*desc: CHECKPOINT_(SHUTDOWN|ONLINE)/, '... a checkpoint record there');
ok((@starts == 2 && $starts[1] eq $end) || (@starts == 1 && $waldump_err =~ /\Q$end\E/),
	"... which ends at $end: " . join(', ', @starts) . " $waldump_err");
# a control file whose checksum does not match is refused, not read
my $fake = "$tmp/fake_data";
mkdir $fake;
mkdir "$fake/global";
my $control = slurp_file($node3->data_dir . '/global/pg_control');
substr($control, 16, 1) = chr(ord(substr($control, 16, 1)) ^ 1);
open(my $fh, '>:raw', "$fake/global/pg_control") or die $!;
print $fh $control;
close($fh);
$out = repmgr_exit('node status --is-shutdown-cleanly of a corrupt control file', 1,
	'-f', $conf3, '-D', $fake, 'node', 'status', '--is-shutdown-cleanly');
like($out, qr/^--state=UNKNOWN$/m, '... says so');
like($out, qr/its checksum does not match/, '... and why');
$node3->start;

# ---- a switchover while the primary is down is refused
$node1->stop;
$out = repmgr_exit('switchover with the primary down is refused', 6,
	'-f', $conf2, '-C', $conf1, 'standby', 'switchover');
like($out, qr/the current primary, node 1 \("node1"\), is not reachable/, '... saying so');
like($out, qr/standby promote/, '... and hinting at standby promote');

done_testing();

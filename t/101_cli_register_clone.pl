# bin/repmgr: the documents' first walkthrough.  Register a primary (the
# tool creates the extension), clone a standby with a replication slot and
# a cascaded standby from it, register both, "cluster show" (newer layout
# and --csv), "node status", "cluster event" with the standby_clone
# details, and the refusals of a cluster in the wrong state, with their
# exit codes.
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

# ---- before registration: no extension, no functions
my $out = repmgr_exit('cluster show without the extension: ERR_DB_QUERY', 7,
	'-f', $conf1, 'cluster', 'show');
like($out, qr/\[ERROR\] schema "repmgr" does not exist/, '... with the server\'s message');
like($out, qr/\[HINT\] Is the repmgr extension installed in database "repmgr"\?/, '... and a hint');

# ---- primary register
$out = repmgr_ok('primary register --dry-run', '-f', $conf1, '--dry-run', 'primary', 'register');
like($out, qr/extension "repmgr" would be created/, '... says the extension would be created');
is($node1->safe_psql('repmgr', "SELECT count(*) FROM pg_extension WHERE extname = 'repmgr'"),
	'0', '... and changes nothing');

$out = repmgr_ok('primary register', '-f', $conf1, 'primary', 'register');
like($out, qr/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[NOTICE\] primary node correctly registered for cluster test with id 1 \(conninfo: host=\S+ port=\d+ dbname=repmgr\)$/m,
	'... in the log format of the documents');
is($node1->safe_psql('repmgr', 'SELECT id, type, cluster, name, active FROM repmgr.repl_nodes'),
	'1|primary|test|node1|t', 'metadata record of the primary, with the cluster of repmgr.conf');

$out = repmgr_exit('registering it again is refused', 1, '-f', $conf1, 'master', 'register');
like($out, qr/\[ERROR\] node 1 is already registered/, '... with the server\'s message');
like($out, qr/\[HINT\] /, '... and its hint');
repmgr_ok('master register -F overwrites', '-f', $conf1, '-F', 'master', 'register');

# ---- standby clone: node2 with a replication slot
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($node2, $conf2) = cli_clone($node1, 'node2', 2,
	repmgr_conf => { use_replication_slots => 1, monitor_interval_secs => 3 },
	args => ['-c']);
is(auto_conf($node2, 'repmgr.node_id'), '2', 'clone: repmgr.node_id in postgresql.auto.conf');
like(auto_conf($node2, 'primary_conninfo'), qr/application_name=node2/,
	'clone: primary_conninfo with application_name = node_name');
is(auto_conf($node2, 'primary_slot_name'), 'repmgr_slot_2', 'clone: primary_slot_name');
is(auto_conf($node2, 'repmgr.monitor_interval'), '3s',
	'clone: worker setting of repmgr.conf written as repmgr.* setting');
is(auto_conf($node2, 'repmgr.cluster'), 'test', 'clone: cluster written as repmgr.cluster');
ok(-f $node2->data_dir . '/standby.signal', 'clone: standby.signal');
ok(!-e $node2->data_dir . '/recovery.conf', 'clone: no recovery.conf');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node2 runs as a standby');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node2' AND state = 'streaming'"),
	'node2 streams from node1 under its node name');
ok($node1->poll_query_until('postgres',
		"SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_2'"),
	'... through its slot, created on the primary');
is($node2->safe_psql('postgres', 'SHOW repmgr.node_id'), '2', 'node2 knows it is node 2');

# ---- standby register
$out = repmgr_exit('standby register on the primary is refused', 1, '-f', $conf1, 'standby', 'register');
like($out, qr/\[ERROR\] this server is not a standby/, '... saying why');
repmgr_ok('standby register --dry-run', '-f', $conf2, '--dry-run', 'standby', 'register');
is($node1->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes'), '1', '... registers nothing');
$out = repmgr_ok('standby register', '-f', $conf2, 'standby', 'register');
like($out, qr/\[NOTICE\] standby node correctly registered for cluster test with id 2 \(conninfo: /,
	'... with the message of the documents');
is($node1->safe_psql('repmgr', 'SELECT type, upstream_node_id, slot_name FROM repmgr.repl_nodes WHERE id = 2'),
	'standby|1|repmgr_slot_2', 'node2 recorded with its upstream and slot');
$out = repmgr_exit('primary register on a standby is refused', 1, '-f', $conf2, 'primary', 'register');
like($out, qr/\[ERROR\] this server is in recovery/, '... saying why');

# a cluster name that differs from the primary's
my $wrong = cli_conf($node2, 2, cluster => 'other', path => "$tmp/wrong_cluster.conf");
$out = repmgr_exit('standby register with another cluster name is refused', 1,
	'-f', $wrong, '-F', 'standby', 'register');
like($out, qr/cluster name mismatch/, '... as a cluster name mismatch');

# ---- cascaded standby node3, cloned from node2
my $bad3 = cli_conf(PostgreSQL::Test::Cluster->new('bad3'), 3, upstream_node => 1,
	path => "$tmp/bad3.conf");
$out = repmgr_exit('clone from a node other than upstream_node is refused', 1,
	'-h', $node2->host, '-p', $node2->port, '-D', "$tmp/bad3", '-f', $bad3, 'standby', 'clone');
like($out, qr/upstream_node is 1, but the server to clone is node 2/, '... naming both');
ok(!-e "$tmp/bad3", '... and creates nothing');

my ($node3, $conf3) = cli_clone($node2, 'node3', 3, repmgr_conf => { upstream_node => 2 });
like(auto_conf($node3, 'primary_conninfo'), qr/port=${\ $node2->port }/, 'node3 streams from node2');
is(auto_conf($node3, 'repmgr.node_id'), '3', 'node3: its own node id, not node2\'s');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
ok($node2->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'"),
	'node3 streams from node2');

# clone refusals
mkdir "$tmp/notempty";
open my $fh, '>', "$tmp/notempty/file";
close $fh;
$out = repmgr_exit('clone into a non-empty directory is refused', 1,
	'-h', $node1->host, '-p', $node1->port, '-D', "$tmp/notempty", 'standby', 'clone');
like($out, qr/destination directory "\Q$tmp\E\/notempty" exists and is not empty/, '... naming it');
$out = repmgr_exit('clone into a running node is refused even with -F', 1,
	'-h', $node1->host, '-p', $node1->port, '-D', $node2->data_dir, '-F', 'standby', 'clone');
like($out, qr/is running in destination directory/, '... saying a server runs there');
$out = repmgr_exit('clone without an upstream is refused', 1, '-D', "$tmp/x", 'standby', 'clone');
like($out, qr/no upstream server given/, '... saying so');
$out = repmgr_exit('clone from a server that is not running', 6,
	'-h', $node1->host, '-p', '1', '-D', "$tmp/y", 'standby', 'clone');
like($out, qr/\[ERROR\] connection to database failed/, '... is ERR_DB_CON');

# ---- cluster show
$out = repmgr_ok('cluster show', '-f', $conf3, 'cluster', 'show');
my @lines = split /\n/, $out;
is($lines[0], ' ID | Name  | Role    | Status    | Upstream | Location | Connection string',
	'cluster show: header of the newer layout');
like($lines[1], qr/^----\+-------\+---------\+-----------\+----------\+----------\+-+$/, '... its rule');
like($lines[2], qr/^ 1  \| node1 \| primary \| \* running \|          \| default  \| host=/, '... the primary');
like($lines[3], qr/^ 2  \| node2 \| standby \| running   \| node1    \| default  \| host=/, '... node2');
like($lines[4], qr/^ 3  \| node3 \| standby \| running   \| node2    \| default  \| host=/, '... node3, cascaded');
$out = repmgr_ok('cluster show --csv', '-f', $conf1, '--csv', 'cluster', 'show');
is($out, "1,0\n2,1\n3,1\n", 'cluster show --csv: id,role (0 primary, 1 standby)');

# ---- node status
$out = repmgr_ok('node status on a standby', '-f', $conf3, 'node', 'status');
like($out, qr/^Node "node3":$/m, 'node status names the node');
like($out, qr/^\tRole: standby$/m, '... its role');
like($out, qr/^\tUpstream: node2 \(ID: 2\)$/m, '... its upstream');
like($out, qr/^\tWAL receiver: streaming$/m, '... its WAL receiver');

# ---- events: standby_clone recorded with the details of the documents
$node1->wait_for_catchup($node2);
$out = repmgr_ok('cluster event --event=standby_clone', '-f', $conf1, '--event=standby_clone',
	'cluster', 'event');
@lines = split /\n/, $out;
is($lines[0], ' Node ID | Name  | Event         | OK | Timestamp           | Details',
	'cluster event: header of the newer layout');
like($lines[2], qr/^ 3       \| node3 \| standby_clone \| t  \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| Cloned from host '\S+', port ${\ $node2->port }; backup method: pg_basebackup; --force: N$/,
	'standby_clone of node3, newest first, with its details');
like($lines[3], qr/^ 2       \| node2 \| standby_clone \| t  \| .* Cloned from host '\S+', port ${\ $node1->port }; backup method: pg_basebackup; --force: N$/,
	'standby_clone of node2');
is(scalar(@lines), 4, 'two standby_clone events');
$out = repmgr_ok('cluster event --node-id --limit', '-f', $conf1, '--node-id=2', '--limit=1',
	'cluster', 'event');
like($out, qr/^ 2 +\| node2 \| /m, 'cluster event of node 2, the newest only');
is(scalar(split /\n/, $out), 3, '... one row');

# ---- failing copies
my $fail = cli_conf(PostgreSQL::Test::Cluster->new('fail'), 6,
	pg_basebackup_options => '--no-such-option', rsync_options => '--no-such-option',
	path => "$tmp/fail.conf");
repmgr_exit('a failing pg_basebackup: ERR_BAD_BASEBACKUP', 14,
	'-h', $node1->host, '-p', $node1->port, '-D', "$tmp/fail1", '-f', $fail, 'standby', 'clone');
is($node1->safe_psql('repmgr',
		"SELECT successful FROM repmgr.repl_events WHERE event = 'standby_clone' AND node_id = 6"),
	'f', '... recorded as a failed standby_clone');
repmgr_exit('a failing rsync: ERR_BAD_RSYNC', 2,
	'-h', $node1->host, '-p', $node1->port, '-D', "$tmp/fail2", '-f', $fail, '-r', 'standby', 'clone');
ok(!-e "$tmp/fail2/backup_label", '... and no backup_label was written');

# ---- unregister: a node that is down, from another node
$node3->stop;
$out = repmgr_exit('unregistering node2 while node3 streams from it is refused', 1,
	'-f', $conf1, '--node=2', 'standby', 'unregister');
like($out, qr/node 2 is the upstream of node 3/, '... naming the downstream node');
repmgr_ok('standby unregister --node=3 (down) from node1', '-f', $conf1, '--node=3',
	'standby', 'unregister');
is($node1->safe_psql('repmgr', 'SELECT count(*) FROM repmgr.repl_nodes WHERE id = 3'), '0',
	'node3 is no longer registered');
repmgr_exit('unregistering it again: unknown node', 1, '-f', $conf1, '--node=3', 'standby', 'unregister');

# ---- configuration files outside the data directory
mkdir "$tmp/etc";
my $hba = slurp_file($node1->data_dir . '/pg_hba.conf');
open $fh, '>', "$tmp/etc/pg_hba.conf" or die;
print $fh "# the external pg_hba.conf of node1\n$hba";
close $fh;
$node1->append_conf('postgresql.conf', "hba_file = '$tmp/etc/pg_hba.conf'");
$node1->restart;
my ($node4) = cli_clone($node1, 'node4', 4, start => 0);
like(slurp_file($node4->data_dir . '/pg_hba.conf'), qr/^# the external pg_hba.conf of node1$/m,
	'clone: the external pg_hba.conf is copied into the data directory');
like(slurp_file($node4->data_dir . '/postgresql.conf'),
	qr/^# commented out by repmgr standby clone: hba_file = /m,
	'... and the copied postgresql.conf no longer points at it');
my ($node5) = cli_clone($node1, 'node5', 5, start => 0, args => ['--ignore-external-config-files']);
unlike(slurp_file($node5->data_dir . '/pg_hba.conf'), qr/external pg_hba.conf/,
	'clone --ignore-external-config-files: not copied');
like(slurp_file($node5->data_dir . '/postgresql.conf'), qr/^hba_file = /m,
	'... and the setting is left as it is');

done_testing();

# A standby whose WAL receiver does not connect with its node name as
# application_name (made by "pg_basebackup -R", which names none: it
# streams as "walreceiver"): standby register, node check on both nodes,
# cluster show and, with repmgr.synchronous = on, the standby's worker say
# why repmgr does not see it as the node it is; "standby follow" writes
# primary_conninfo with the node name, and the primary then makes it
# synchronous.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my %sync = (conf => { 'repmgr.synchronous' => 'on' });
my ($node1, $conf1) = cli_primary('node1', 1, %sync);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');

# ---- a standby as "pg_basebackup -R" makes it
my $node2 = PostgreSQL::Test::Cluster->new('node2');
{
	# (PGAPPNAME would go into primary_conninfo)
	local %ENV = %ENV;
	delete $ENV{PGAPPNAME};
	command_ok([ 'pg_basebackup', '-R', '-c', 'fast', '-D', $node2->data_dir,
			'-d', cli_conninfo($node1) ], 'node2 made by pg_basebackup -R');
}
$node2->append_conf('postgresql.conf', node_settings(2, %sync));
$node2->append_conf('postgresql.conf',
	sprintf("port = %d\nunix_socket_directories = '%s'\nlisten_addresses = ''\n",
		$node2->port, $node2->host));
# started by repmgr, with pg_ctl: PostgreSQL::Test::Cluster would give it
# --cluster-name, the WAL receiver's fallback application_name (and as a
# server is, without the PGAPPNAME of the tests in its environment)
my $conf2 = cli_conf($node2, 2);
{
	local %ENV = %ENV;
	delete $ENV{PGAPPNAME};
	repmgr_ok('node2 started', '-f', $conf2, 'node', 'service', '--action=start');
}
sync_pids($node2);
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'walreceiver' AND state = 'streaming'"),
	'node2 streams as "walreceiver"');
my $out = repmgr_ok('standby register', '-f', $conf2, 'standby', 'register');
like($out, qr/\[WARNING\] this standby streams with application_name "walreceiver", not with its node name "node2"/,
	'... warns that it streams under another name');
like($out, qr/\[HINT\] Add application_name=node2 to primary_conninfo/, '... and says how to fix it');

# ---- node check, cluster show, the worker
$out = repmgr_ok('node check on node2', '-f', $conf2, 'node', 'check');
like($out, qr/Upstream: WARNING \(streaming from node "node1", but with application_name "walreceiver", not the node name "node2"/,
	'node check on node2: the upstream check says so');
$out = repmgr_ok('node check on node1', '-f', $conf1, 'node', 'check');
like($out, qr/Downstream servers: CRITICAL \(0 of 1 downstream nodes attached; missing: node2; streaming under an application_name that is no node's name: "walreceiver"/,
	'node check on node1: the downstream check names the stranger');
$out = repmgr_ok('cluster show', '-f', $conf1, 'cluster', 'show');
like($out, qr/\[WARNING\] node "node2" runs as a standby, but its upstream "node1" has no WAL sender with application_name "node2"; it streams to "walreceiver"/,
	'cluster show warns');
ok(poll_until('the worker of node2 saying why', 30, sub {
			slurp_file($node2->logfile) =~
			  /WARNING:  repmgr worker: this standby streams with application_name "walreceiver", not its node name "node2": the primary cannot make it synchronous/
		}),
	'the worker of node2 says once why it cannot be synchronous');
is($node1->safe_psql('postgres', 'SHOW synchronous_standby_names'), '',
	'... and it is not made synchronous');

# ---- what the hint says: standby follow writes the node name
repmgr_ok('standby follow', '-f', $conf2, 'standby', 'follow');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node2' AND state = 'streaming'"),
	'node2 streams as "node2" now');
$out = repmgr_ok('node check on node2 again', '-f', $conf2, 'node', 'check', '--upstream');
like($out, qr/Upstream: OK \(streaming from node "node1"\)/, '... the upstream check is OK');
$out = repmgr_ok('cluster show again', '-f', $conf1, 'cluster', 'show');
unlike($out, qr/WARNING/, '... cluster show warns no more');
ok($node1->poll_query_until('postgres',
		"SELECT current_setting('synchronous_standby_names') = 'ANY 1 (\"node2\")'"),
	'the primary makes node2 synchronous');
my @said = (slurp_file($node2->logfile) =~ /the primary cannot make it synchronous/g);
is(scalar(@said), 1, 'the worker said it once');

done_testing();

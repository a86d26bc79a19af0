# A password in the registered connection strings reaches no one but the
# superuser: primary_conninfo, written by "standby clone", repmgr.follow()
# and "node rejoin", names a password file of the data directory (mode
# 0600) instead of holding the password, and the WAL receiver still
# authenticates with it (scram-sha-256 over TCP); sslpassword is left out
# with a warning.  A member of pg_monitor then finds neither secret in
# any setting, view or function it may read, nor in the HTTP endpoint.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use HttpTest;
use Test::More;

my $pw = 'S3cr3t-pw';
my $sslpw = 'Ssl-s3cr3t';
my $hba = "host all all 127.0.0.1/32 scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n";

# conninfo of a node over TCP, with the secrets
sub tcp_conninfo
{
	my ($node) = @_;
	return sprintf('host=127.0.0.1 port=%d user=repl dbname=repmgr password=%s sslpassword=%s connect_timeout=2',
		$node->port, $pw, $sslpw);
}

sub server_conf
{
	my ($name) = @_;
	my %http = http_settings($name);
	return "listen_addresses = '127.0.0.1'\n"
	  . join('', map { "$_ = '$http{$_}'\n" } sort keys %http);
}

my ($node1, $conf1) = cli_primary('node1', 1, extra_conf => server_conf('node1'), hba => $hba);
my $node2 = PostgreSQL::Test::Cluster->new('node2');
$node1->safe_psql('postgres', "CREATE ROLE repl SUPERUSER LOGIN PASSWORD '$pw'");
$node1->safe_psql('postgres', 'CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
$conf1 = cli_conf($node1, 1, conninfo => "'" . tcp_conninfo($node1) . "'");
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');

# ---- standby clone
my $conf2 = cli_conf($node2, 2, conninfo => "'" . tcp_conninfo($node2) . "'");
repmgr_ok('node2 cloned over TCP with a password', '-d', tcp_conninfo($node1),
	'-D', $node2->data_dir, '-f', $conf2, 'standby', 'clone');
$node2->append_conf('postgresql.conf',
	sprintf("port = %d\nunix_socket_directories = '%s'\n", $node2->port, $node2->host)
	  . server_conf('node2'));

sub check_receiver_conf
{
	my ($node, $what) = @_;
	my $pc = auto_conf($node, 'primary_conninfo') // '';
	unlike($pc, qr/\Q$pw\E|\Q$sslpw\E|password=/, "$what: primary_conninfo holds no secret");
	like($pc, qr/(^| )passfile=repmgr\.passfile( |$)/, "$what: ... it names the password file");
	my $file = $node->data_dir . '/repmgr.passfile';
	is(sprintf('%04o', (stat($file))[2] & 07777), '0600', "$what: the password file has mode 0600");
	is(slurp_file($file), "*:*:*:*:$pw\n", "$what: ... and holds the password");
}

check_receiver_conf($node2, 'clone');
$node2->start;
ok($node2->poll_query_until('postgres',
		"SELECT status = 'streaming' AND conninfo LIKE '%host=127.0.0.1%' FROM pg_stat_wal_receiver"),
	'clone: the standby streams over TCP, authenticated from the password file');
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
$node2->safe_psql('postgres', 'SELECT 1');

# ---- repmgr.follow(): the server writes primary_conninfo
my $rcv_pid = $node2->safe_psql('postgres', 'SELECT pid FROM pg_stat_wal_receiver');
unlink($node2->data_dir . '/repmgr.passfile');
my ($ret, $stdout, $stderr) = $node2->psql('repmgr', 'SELECT repmgr.follow(1)');
is($ret, 0, 'follow() succeeds');
like($stderr, qr/WARNING:  sslpassword of the connection string is not written into primary_conninfo/,
	'follow(): sslpassword left out, with a warning');
unlike($stderr, qr/\Q$sslpw\E|\Q$pw\E/, '... which shows no secret');
check_receiver_conf($node2, 'follow()');
ok($node2->poll_query_until('postgres',
		"SELECT status = 'streaming' AND pid <> $rcv_pid AND conninfo LIKE '%passfile=repmgr.passfile%' FROM pg_stat_wal_receiver"),
	'follow(): a new WAL receiver streams, authenticated from the password file');
is($node2->safe_psql('repmgr', 'SELECT upstream_node_id FROM repmgr.repl_nodes WHERE id = 2'), '1',
	'follow() recorded');
ok(wait_worker_state($node2, 30, 'monitoring upstream'), 'the worker of node2 monitors its upstream');

# ---- what a member of pg_monitor may read
my @queries = (
	'SHOW primary_conninfo',
	'SHOW ALL',
	'SELECT * FROM pg_settings',
	'SELECT * FROM pg_file_settings',
	'SELECT * FROM pg_stat_wal_receiver',
	'SELECT * FROM pg_stat_replication',
	'SELECT * FROM pg_stat_activity',
	'SELECT * FROM repmgr.cluster_show()',
	'SELECT * FROM repmgr.node_status()',
	'SELECT * FROM repmgr.daemon_status()',
	'SELECT * FROM repmgr.node_check()',
	'SELECT * FROM repmgr.cluster_event(lim => 1000)',
	'SELECT * FROM repmgr.repl_events',
	'SELECT * FROM repmgr.repl_status',
	'SELECT * FROM repmgr.repl_sync',
	'SELECT id, type, upstream_node_id, cluster, name, slot_name, priority, location, active FROM repmgr.repl_nodes',
	'SELECT conninfo FROM repmgr.repl_nodes',
	"SELECT pg_read_file('repmgr.passfile')",
	"SELECT pg_read_file('postgresql.auto.conf')",
);

sub monitor_sees
{
	my ($node) = @_;
	my $seen = '';
	foreach my $q (@queries)
	{
		my ($r, $o, $e) = $node->psql('repmgr', $q, extra_params => [ '-U', 'watcher' ]);
		$seen .= "$q\n$o\n$e\n";
	}
	foreach my $path ('/cluster', '/metrics', '/primary', '/replica', '/health')
	{
		my ($status, $body) = http_get($node, $path);
		$seen .= "$path $status\n$body\n";
	}
	return $seen;
}

sub check_nothing_seen
{
	my ($node, $what) = @_;
	ok(poll_until('the cluster show of ' . $node->name, 30, sub {
				my (undef, $body) = http_get($node, '/cluster');
				($body // '') =~ /"members"/ }),
		"$what: /cluster answers");
	my $seen = monitor_sees($node);
	like($seen, qr/passfile=repmgr\.passfile/, "$what: pg_monitor reads primary_conninfo")
	  if $node->safe_psql('postgres', 'SELECT pg_is_in_recovery()') eq 't';
	like($seen, qr/permission denied for function pg_read_file/, "$what: ... but not the password file");
	unlike($seen, qr/\Q$pw\E/, "$what: a member of pg_monitor sees no password anywhere");
	unlike($seen, qr/\Q$sslpw\E/, "$what: ... nor the sslpassword");
}

check_nothing_seen($node1, 'primary');
check_nothing_seen($node2, 'standby');

# ---- node rejoin of the old primary
$node1->stop;
repmgr_ok('node2 promoted', '-f', $conf2, 'standby', 'promote');
my $out = repmgr_ok('node1 rejoined', '-f', $conf1, '-d', tcp_conninfo($node2), 'node', 'rejoin');
sync_pids($node1);
unlike($out, qr/\Q$pw\E|\Q$sslpw\E/, 'rejoin: no secret in the output');
check_receiver_conf($node1, 'rejoin');
ok($node1->poll_query_until('postgres',
		"SELECT status = 'streaming' AND conninfo LIKE '%host=127.0.0.1%' FROM pg_stat_wal_receiver"),
	'rejoin: the old primary streams from the new one, authenticated from the password file');
check_nothing_seen($node1, 'rejoined standby');

done_testing();

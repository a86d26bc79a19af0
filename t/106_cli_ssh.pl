# bin/repmgr over ssh: nodes whose conninfo is a TCP address are reached
# with ssh for the steps on their host.  An sshd of our own (unprivileged,
# on a loopback port, with throwaway keys) serves as the other host:
# "standby clone --rsync-only" copies the data directory with rsync
# --checksum over ssh, "standby switchover" stops, checks and rejoins the
# old primary by running repmgr over ssh; a broken ssh is ERR_BAD_SSH.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $sshd = '/usr/sbin/sshd';
foreach my $prog ($sshd, '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/rsync')
{
	plan skip_all => "$prog is not installed (packages openssh-server, openssh-client, rsync)"
	  unless -x $prog;
}

# ---- an sshd of our own
my $tmp = PostgreSQL::Test::Utils::tempdir_short;
my $ssh_port = PostgreSQL::Test::Cluster::get_free_port();
system_or_bail('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', "$tmp/host_key");
system_or_bail('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', "$tmp/user_key");
system_or_bail('cp', "$tmp/user_key.pub", "$tmp/authorized_keys");
open my $fh, '>', "$tmp/sshd_config" or die;
print $fh <<"EOF2";
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
EOF2
close $fh;
my $sshd_h = IPC::Run::start([ $sshd, '-D', '-e', '-f', "$tmp/sshd_config" ],
	'<', \undef, '>', "$tmp/sshd.log", '2>&1');
my $ssh_options = "-p $ssh_port -i $tmp/user_key -o IdentitiesOnly=yes "
  . "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR";
my @ssh = ('ssh', '-o', 'BatchMode=yes', split(/ /, $ssh_options), '127.0.0.1');
if (!poll_until('sshd accepts us', 20, sub { system(@ssh, 'true') == 0 }))
{
	my $log = -f "$tmp/sshd.log" ? slurp_file("$tmp/sshd.log") : '';
	$sshd_h->kill_kill;
	plan skip_all => "could not run an sshd as this user: $log";
}
END { $sshd_h->kill_kill if $sshd_h; }

# ---- nodes reached over TCP on 127.0.0.1
my $hba = "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n";
sub tcp_conninfo { return sprintf("'host=127.0.0.1 port=%d dbname=repmgr'", $_[0]->port); }

my ($node1, $conf1) = cli_primary('node1', 1,
	extra_conf => "listen_addresses = '127.0.0.1'\n", hba => $hba);
cli_conf($node1, 1, conninfo => tcp_conninfo($node1), ssh_options => "'$ssh_options'");
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)');

# ---- clone with rsync over ssh
my $node2 = PostgreSQL::Test::Cluster->new('node2');
my $conf2 = cli_conf($node2, 2, conninfo => tcp_conninfo($node2), ssh_options => "'$ssh_options'",
	use_replication_slots => 'true');
my $out = repmgr_ok('standby clone --rsync-only over ssh', '-h', '127.0.0.1', '-p', $node1->port,
	'-d', 'repmgr', '-D', $node2->data_dir, '-f', $conf2, '--rsync-only', '-c', '-v', '-L', 'INFO',
	'standby', 'clone');
like($out, qr/executing: ssh -o BatchMode=yes -n -p $ssh_port .* 127\.0\.0\.1 true/,
	'ssh to the upstream host is checked first');
like($out, qr/executing: rsync .* --checksum --rsh=.*ssh -o BatchMode=yes -p $ssh_port.* 127\.0\.0\.1:\S+\/pgdata\//,
	'rsync --checksum copies from the upstream host over ssh');
like($out, qr/standby clone \(using rsync\) complete/, 'clone complete');
ok(-f $node2->data_dir . '/backup_label', 'backup_label written from pg_backup_stop()');
$node2->append_conf('postgresql.conf',
	sprintf("port = %d\nunix_socket_directories = '%s'\n", $node2->port, $node2->host));
$node2->start;
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node2' AND state = 'streaming'"),
	'node2 streams from node1 through its slot');
is($node2->safe_psql('repmgr', 'SELECT count(*) FROM t'), '100', 'node2 has the data');
like($node1->safe_psql('repmgr', "SELECT details FROM repmgr.repl_events WHERE event = 'standby_clone'"),
	qr/^Cloned from host '127\.0\.0\.1', port ${\ $node1->port }; backup method: rsync; --force: N$/,
	'standby_clone event with the rsync method');

# ---- a broken ssh is ERR_BAD_SSH
my $broken = cli_conf($node2, 2, conninfo => tcp_conninfo($node2),
	ssh_options => "'-p 1 -o ConnectTimeout=5'", path => "$tmp/broken.conf");
$out = repmgr_exit('switchover with a broken ssh: ERR_BAD_SSH', 12, '-f', $broken, '-C', $conf1,
	'--dry-run', 'standby', 'switchover');
like($out, qr/unable to connect to host "127\.0\.0\.1" with ssh/, '... saying so');
$out = repmgr_exit('switchover with a remote configuration file that is missing', 1,
	'-f', $conf2, '-C', "$tmp/nothing.conf", 'standby', 'switchover');
like($out, qr/configuration file "\Q$tmp\E\/nothing.conf" not found on host "127.0.0.1"/,
	'... checked over ssh');

# ---- switchover over ssh
$out = repmgr_ok('standby switchover over ssh', '-f', $conf2, '-C', $conf1, '-v', '-L', 'INFO',
	'standby', 'switchover');
sync_pids($node1, $node2);
like($out, qr/executing: ssh .* 127\.0\.0\.1 .*repmgr -f \S+ -D \S+ .*node service --action=stop/,
	'the old primary is stopped with repmgr over ssh');
like($out, qr/executing: ssh .* node rejoin --force-rewind --upstream-node-id=\d+ -d /, '... and rejoined over ssh');
like($out, qr/switchover was successful/, 'switchover successful');
is($node2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'node2 is primary');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node1 is a standby');
$node2->safe_psql('repmgr', 'INSERT INTO t VALUES (101)');
ok($node1->poll_query_until('repmgr', 'SELECT count(*) = 101 FROM t'), 'node1 replays from node2');
is($node2->safe_psql('repmgr', 'SELECT id, type, upstream_node_id FROM repmgr.repl_nodes ORDER BY id'),
	"1|standby|2\n2|primary|", 'metadata after the switchover');

done_testing();

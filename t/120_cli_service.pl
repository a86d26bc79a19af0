# bin/repmgr and the server's service manager: the service_*_command
# settings used for every start, stop, restart and reload the tool makes
# (node service, node rejoin, the stop and the rejoin of a switchover),
# --list-actions and --dry-run; pg_ctl without -l logging to
# log/startup.log (never /dev/null); a configuration outside the data
# directory (config_directory): pg_ctl -D finds it, and node rejoin
# --force-rewind gives it to pg_rewind, whose crash recovery needs it, with
# a hint naming that cause when it is missing; a clone that fails leaves
# nothing behind (no -F needed to run it again), and one into a node with a
# configuration directory of its own keeps it unless
# --copy-external-config-files; one of a node whose configuration is outside
# its data directory into a self-contained one: what the copy includes
# comes along, except what leads out of the directory, and a copy that does
# not work is removed again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $pgbin = `pg_config --bindir`;
chomp $pgbin;

# a service manager stand-in: logs each action, then runs pg_ctl
my $svc = write_file($tmp, 'svc.sh', <<"EOF");
#!/bin/sh
# svc.sh LOG ACTION DATADIR SERVERLOG
echo "\$2" >> "\$1"
case "\$2" in
start) exec $pgbin/pg_ctl -w -D "\$3" -l "\$4" start ;;
stop) exec $pgbin/pg_ctl -w -D "\$3" -m fast stop ;;
restart) exec $pgbin/pg_ctl -w -D "\$3" -m fast -l "\$4" restart ;;
reload) exec $pgbin/pg_ctl -D "\$3" reload ;;
esac
exit 3
EOF
chmod 0755, $svc;

sub service_settings
{
	my ($node, $log) = @_;
	my %s;
	foreach my $a (qw(start stop restart reload))
	{
		$s{"service_${a}_command"} =
		  "'$svc $log $a " . $node->data_dir . ' ' . $node->logfile . "'";
	}
	return %s;
}

sub actions_in
{
	my ($log) = @_;
	return -f $log ? join(',', split /\n/, slurp_file($log)) : '';
}

my ($node1, $conf1) = cli_primary('node1', 1);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my $log1 = "$tmp/svc1.log";
$conf1 = cli_conf($node1, 1, service_settings($node1, $log1));
my ($node2, $conf2) = cli_clone($node1, 'node2', 2);
my $log2 = "$tmp/svc2.log";
$conf2 = cli_conf($node2, 2, service_settings($node2, $log2));
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
$node1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');

# ---- node service with the service commands
my $out = repmgr_ok('node service --list-actions', '-f', $conf2, 'node', 'service', '--list-actions');
like($out, qr/^start +\Q$svc $log2 start \E/m, '... the start command of repmgr.conf');
like($out, qr/^reload +\Q$svc $log2 reload \E/m, '... the reload command');
like($out, qr/^promote +\S*pg_ctl -w -D \S+ .*promote$/m, '... promote: pg_ctl, none configured');
$out = repmgr_ok('node service --action=restart --dry-run', '-f', $conf2, 'node', 'service',
	'--action=restart', '--dry-run');
like($out, qr/would run '\Q$svc $log2 restart \E/, '... shows the command');
is(actions_in($log2), '', '... and runs nothing');
repmgr_ok('node service --action=restart', '-f', $conf2, 'node', 'service', '--action=restart');
repmgr_ok('node service --action=reload', '-f', $conf2, 'node', 'service', '--action=reload');
sync_pids($node2);
is(actions_in($log2), 'restart,reload', 'restart and reload ran the service commands');
ok($node1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node2' AND state = 'streaming'"),
	'node2 streams again');

# ---- node rejoin starts with the service command
repmgr_ok('node service --action=stop', '-f', $conf2, 'node', 'service', '--action=stop');
sync_pids($node2);
$out = repmgr_ok('node rejoin', '-f', $conf2, '-d', cli_conninfo($node1), 'node', 'rejoin');
sync_pids($node2);
like($out, qr/starting server using '\Q$svc $log2 start\E/, 'node rejoin starts with service_start_command');
is(actions_in($log2), 'restart,reload,stop,start', '... which ran');

# ---- a switchover: the old primary is stopped and started by its commands
$out = repmgr_ok('standby switchover with service commands on the old primary', '-f', $conf2,
	'-C', $conf1, 'standby', 'switchover');
sync_pids($node1, $node2);
like($out, qr/switchover was successful/, '... successful');
is(actions_in($log1), 'stop,start', '... node1 stopped and started by its service commands');
is($node1->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node1 is a standby');
$out = repmgr_ok('switchover back', '-f', $conf1, '-C', $conf2, 'standby', 'switchover');
sync_pids($node1, $node2);
is(actions_in($log2), 'restart,reload,stop,start,stop,start', '... node2 stopped and started by its commands');

# ---- pg_ctl without -l: log/startup.log in the data directory
my ($node3, $conf3) = cli_clone($node1, 'node3', 3, start => 0);
$conf3 = cli_conf($node3, 3, pg_ctl_options => undef);
$out = repmgr_ok('node service --action=start --dry-run without pg_ctl_options', '-f', $conf3,
	'node', 'service', '--action=start', '--dry-run');
like($out, qr/would run '\S*pg_ctl -w -D \S+ -l \S+\/log\/startup\.log start'/,
	'... pg_ctl logs to log/startup.log');
repmgr_ok('node service --action=start', '-f', $conf3, 'node', 'service', '--action=start');
sync_pids($node3);
like(slurp_file($node3->data_dir . '/log/startup.log'),
	qr/database system is ready to accept read-only connections/,
	'the server logged there, not to /dev/null');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');

# ---- the clone leaves nothing behind when it fails
my $fail = cli_conf(PostgreSQL::Test::Cluster->new('node5'), 5,
	pg_basebackup_options => '--no-such-option', use_replication_slots => 'yes',
	path => "$tmp/fail.conf");
repmgr_exit('a clone whose pg_basebackup fails: ERR_BAD_BASEBACKUP', 14,
	'-h', $node1->host, '-p', $node1->port, '-D', "$tmp/n5", '-f', $fail, 'standby', 'clone');
ok(!-e "$tmp/n5", '... the directory it made is gone');
is($node1->safe_psql('postgres',
		"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_5'"),
	'0', '... and the slot it created');
mkdir "$tmp/n6", 0700;
repmgr_exit('a failing clone into an empty directory', 14,
	'-h', $node1->host, '-p', $node1->port, '-D', "$tmp/n6", '-f', $fail, 'standby', 'clone');
ok(-d "$tmp/n6" && !glob("$tmp/n6/*"), '... leaves it there, empty');
my $good = cli_conf(PostgreSQL::Test::Cluster->new('node6'), 6, path => "$tmp/good.conf");
repmgr_ok('the clone again, without -F', '-h', $node1->host, '-p', $node1->port,
	'-D', "$tmp/n6", '-f', $good, 'standby', 'clone');

# ---- a node with its own configuration directory keeps it
my $hba = slurp_file($node1->data_dir . '/pg_hba.conf');
mkdir "$tmp/etc1";
write_file("$tmp/etc1", 'pg_hba.conf', "# node1's external pg_hba.conf\n$hba");
$node1->append_conf('postgresql.conf', "hba_file = '$tmp/etc1/pg_hba.conf'");
$node1->restart;
my $node7 = PostgreSQL::Test::Cluster->new('node7');
mkdir "$tmp/etc7";
write_file("$tmp/etc7", 'postgresql.conf',
	sprintf("data_directory = '%s'\nhba_file = '%s/etc7/pg_hba.conf'\nident_file = '%s/etc7/pg_ident.conf'\n"
		  . "port = %d\nunix_socket_directories = '%s'\nlisten_addresses = ''\n",
		$node7->data_dir, $tmp, $tmp, $node7->port, $node7->host));
write_file("$tmp/etc7", 'pg_hba.conf', "# node7's own\nlocal all all trust\nlocal replication all trust\n");
write_file("$tmp/etc7", 'pg_ident.conf', '');
my $conf7 = cli_conf($node7, 7, config_directory => "'$tmp/etc7'");
$out = repmgr_ok('clone into a node with config_directory', '-h', $node1->host, '-p', $node1->port,
	'-d', 'repmgr', '-D', $node7->data_dir, '-f', $conf7, 'standby', 'clone');
like($out, qr/keeping this node's own configuration in "\Q$tmp\E\/etc7"/, '... keeps its configuration');
like(slurp_file("$tmp/etc7/pg_hba.conf"), qr/^# node7's own$/m, '... its pg_hba.conf unchanged');
like($out, qr/for example: \S*pg_ctl -w -D \Q$tmp\E\/etc7 /, '... pg_ctl -D finds its configuration');
$out = repmgr_ok('clone again with --copy-external-config-files', '-h', $node1->host,
	'-p', $node1->port, '-d', 'repmgr', '-D', $node7->data_dir, '-f', $conf7, '-F',
	'--copy-external-config-files', 'standby', 'clone');
like(slurp_file("$tmp/etc7/pg_hba.conf"), qr/^# node1's external pg_hba.conf$/m,
	"... node1's external pg_hba.conf replaces it");
repmgr_ok('node7 started with pg_ctl -D config_directory', '-f', $conf7, 'node', 'service',
	'--action=start');
sync_pids($node7);
is($node7->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node7 runs as a standby');
repmgr_ok('node7 stopped', '-f', $conf7, 'node', 'service', '--action=stop');
sync_pids($node7);

# ---- rejoin --force-rewind of an old primary whose configuration is not in
# its data directory: pg_rewind's crash recovery needs it
my ($a1, $confa1) = cli_primary('a1', 11);
repmgr_ok('a1 registered', '-f', $confa1, 'primary', 'register');
my ($a2, $confa2) = cli_clone($a1, 'a2', 12);
repmgr_ok('a2 registered', '-f', $confa2, 'standby', 'register');
mkdir "$tmp/etca1";
write_file("$tmp/etca1", 'postgresql.conf',
	slurp_file($a1->data_dir . '/postgresql.conf')
	  . sprintf("data_directory = '%s'\nhba_file = '%s/pg_hba.conf'\nident_file = '%s/pg_ident.conf'\n",
		$a1->data_dir, $a1->data_dir, $a1->data_dir));
$a1->stop;
unlink $a1->data_dir . '/postgresql.conf';
my $confa1_outside = cli_conf($a1, 11, config_directory => "'$tmp/etca1'",
	path => "$tmp/a1_outside.conf");
repmgr_ok('a1 started with its configuration outside the data directory', '-f', $confa1_outside,
	'node', 'service', '--action=start');
sync_pids($a1);
$a1->safe_psql('repmgr', 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
$a1->wait_for_catchup($a2);
my ($killed) = split /\n/, slurp_file($a1->data_dir . '/postmaster.pid');
$a1->kill9;
# (this machine's init reaps the killed postmaster late; until then its
# pid file names a live process, and a postgres refuses to start)
my $dir = $a1->data_dir;
ok(poll_until('the killed postmaster to be gone', 120, sub {
			!kill(0, $killed) && !grep { (readlink($_) // '') eq $dir } glob('/proc/[0-9]*/cwd')
		}),
	'a1 killed');
repmgr_ok('a2 promoted', '-f', $confa2, 'standby', 'promote');
$a2->safe_psql('repmgr', 'INSERT INTO t VALUES (2)');
$out = repmgr_exit('rejoin --force-rewind without config_directory: pg_rewind fails', 2,
	'-f', $confa1, '-d', cli_conninfo($a2), '--force-rewind', 'node', 'rejoin');
like($out, qr/could not access the server configuration file/, '... for want of the configuration');
like($out, qr/\[HINT\] pg_rewind runs the server in single-user mode .* set config_directory/,
	'... and the hint says so (not wal_log_hints)');
$out = repmgr_ok('rejoin --force-rewind with config_directory', '-f', $confa1_outside,
	'-d', cli_conninfo($a2), '--force-rewind', '-v', '-L', 'INFO', 'node', 'rejoin');
sync_pids($a1);
like($out, qr/pg_rewind -D \S+ --config-file=\Q$tmp\E\/etca1\/postgresql\.conf /,
	'... pg_rewind is given the configuration');
like($out, qr/NODE REJOIN successful/, '... and the rejoin succeeds');
ok($a1->poll_query_until('repmgr', 'SELECT count(*) = 2 FROM t'), 'a1 replays a2');
ok(!-e $a1->data_dir . '/postgresql.conf', 'no postgresql.conf left in its data directory');

# ---- a clone of a node whose postgresql.conf is outside its data directory
# and includes a directory by a relative path (as Debian's "conf.d"), into
# a self-contained data directory: the directory comes along
mkdir "$tmp/etca1/conf.d";
write_file("$tmp/etca1/conf.d", 'extra.conf', "work_mem = '7MB'\n");
open my $fh, '>>', "$tmp/etca1/postgresql.conf" or die;
print $fh "include_dir = 'conf.d'\n";
close $fh;
repmgr_ok('a1 restarted with conf.d', '-f', $confa1_outside, 'node', 'service', '--action=restart');
sync_pids($a1);
my ($a3, $confa3) = cli_clone($a1, 'a3', 13);
like(slurp_file($a3->data_dir . '/postgresql.conf'),
	qr/^# commented out by repmgr standby clone: data_directory = /m,
	'the copied postgresql.conf no longer names the data directory of a1');
like(slurp_file($a3->data_dir . '/postgresql.conf'),
	qr/^# commented out by repmgr standby clone: hba_file = /m,
	'... nor the pg_hba.conf in it');
ok(-f $a3->data_dir . '/conf.d/extra.conf', '... and the directory it includes came along');
is($a3->safe_psql('postgres', 'SHOW work_mem'), '7MB', '... so that it works on its own');

# ---- includes a copy cannot follow: an include_if_exists of a file that
# is not there is skipped; one that leads out of the directory ("..") is
# not copied (nothing is written outside the data directory), the copy
# does not work without it and is removed again; the data directory is
# kept, as a standby
write_file($tmp, 'shared-a1.conf', "maintenance_work_mem = '9MB'\n");
open $fh, '>>', "$tmp/etca1/postgresql.conf" or die;
print $fh "include_if_exists = 'not-here.conf'\ninclude = '../shared-a1.conf'\n";
close $fh;
repmgr_ok('a1 restarted with these includes', '-f', $confa1_outside, 'node', 'service',
	'--action=restart');
sync_pids($a1);
is($a1->safe_psql('postgres', 'SHOW maintenance_work_mem'), '9MB', 'a1 reads ../shared-a1.conf');
my $a4 = PostgreSQL::Test::Cluster->new('a4');
my $confa4 = cli_conf($a4, 14);
$out = repmgr_exit('a clone of it into a self-contained data directory: ERR_BAD_CONFIG', 1,
	'-h', $a1->host, '-p', $a1->port, '-d', 'repmgr', '-D', $a4->data_dir, '-f', $confa4,
	'standby', 'clone');
unlike($out, qr/(?:copying|could not|ERROR)[^\n]*not-here\.conf/,
	'... the missing include_if_exists file is neither copied nor an error');
like($out, qr/"\.\.\/shared-a1\.conf" of .* leads out of its directory: not copied/,
	'... the include that leads out of the directory is not copied');
ok(!-e $a4->data_dir . '/../shared-a1.conf', '... nothing is written outside the data directory');
like($out, qr/does not work on this host/, '... the copy does not work without it');
ok(!-e $a4->data_dir . '/postgresql.conf' && !-e $a4->data_dir . '/conf.d', '... and is removed again');
ok(-f $a4->data_dir . '/standby.signal', '... the data directory is kept, as a standby');
like(slurp_file($a4->data_dir . '/postgresql.auto.conf'), qr/^primary_conninfo = /m,
	'... with its primary_conninfo');

done_testing();

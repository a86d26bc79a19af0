# bin/repmgr: "witness create" makes a separate PostgreSQL instance (initdb,
# port of conninfo, repmgr preloaded with its node id, users, database,
# extension), registers it with the primary and copies the metadata;
# its authentication is never trust (peer locally, scram-sha-256 over
# TCP, or the operator's pg_hba.conf without trust); "witness register"
# of an existing instance; the refusals.
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
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');

# the witness: a port and directories from PostgreSQL::Test::Cluster, no initdb
my $witness = PostgreSQL::Test::Cluster->new('witness');
my $wconf = cli_conf($witness, 3, failover => 'manual', location => 'dc2');
my @primary = ('-h', $node1->host, '-p', $node1->port, '-d', 'repmgr');

my $out = repmgr_exit('witness create without a primary is refused', 1,
	'-f', $wconf, 'witness', 'create');
like($out, qr/no primary given/, '... saying so');
$out = repmgr_exit('witness create with a standby as primary is refused', 1,
	'-f', $wconf, '-h', $node2->host, '-p', $node2->port, '-d', 'repmgr', 'witness', 'create');
like($out, qr/is in recovery, not the primary/, '... saying why');
$out = repmgr_ok('witness create --dry-run', '-f', $wconf, @primary, '--dry-run', 'witness', 'create');
like($out, qr/would create a PostgreSQL instance in "\S+" on port ${\ $witness->port }/,
	'... says what it would do');
ok(!-e $witness->data_dir . '/PG_VERSION', '... and creates nothing');

# authentication: never trust, unless told so
my $trusting = $witness->basedir . '/trusting_hba.conf';
open my $hfh, '>', $trusting or die "$trusting: $!";
print $hfh "# an operator's file\nlocal all all peer\nhost all all 127.0.0.1 255.255.255.255 trust\n";
close $hfh;
$out = repmgr_exit('witness create with a pg_hba.conf that trusts is refused', 1,
	'-f', $wconf, @primary, '--hba-file', $trusting, 'witness', 'create');
like($out, qr/\[ERROR\] "\S+trusting_hba.conf" allows "trust" authentication \(line 3\)/,
	'... saying where');
like($out, qr/\[HINT\] .*--allow-trust/, '... and how to accept it');
ok(!-e $witness->data_dir . '/PG_VERSION', '... and creates nothing');

# PostgreSQL's reading of the file decides (pg_hba_file_rules), with and
# without --dry-run: a quoted "trust", trust on a record continued with a
# backslash, a record PostgreSQL cannot load
my @hba_cases = (
	[ 'a quoted "trust"', qq{local all all "trust"\n}, qr/allows "trust" authentication \(line 2\)/ ],
	[ 'trust on a continued line', qq{local all \\\n    all trust\n}, qr/allows "trust" authentication \(line 2\)/ ],
	[ 'an unknown method', qq{local all all bogus\n}, qr/cannot be loaded: line 2: invalid authentication method "bogus"/ ],
);
foreach my $case (@hba_cases)
{
	my ($what, $line, $want) = @$case;
	my $file = $witness->basedir . '/case_hba.conf';
	open my $cfh, '>', $file or die "$file: $!";
	print $cfh "# an operator's file\n$line";
	close $cfh;
	foreach my $dry ([ '--dry-run' ], [])
	{
		my $mode = @$dry ? 'witness create --dry-run' : 'witness create';
		$out = repmgr_exit("$mode with $what is refused", 1,
			'-f', $wconf, @primary, '--hba-file', $file, @$dry, 'witness', 'create');
		like($out, $want, "... saying so, as PostgreSQL reads the file");
		ok(!-e $witness->data_dir . '/PG_VERSION', '... and leaves no instance');
	}
}

$out = repmgr_ok('witness create', '-f', $wconf, @primary, 'witness', 'create');
sync_pids($witness);
like($out, qr/\[NOTICE\] witness node correctly registered for cluster test with id 3/,
	'... registers it');
is($witness->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 'f', 'the witness runs, not as a standby');
isnt($witness->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'),
	$node1->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'),
	'it is a separate instance');
is($witness->safe_psql('postgres', 'SHOW repmgr.node_id'), '3', 'repmgr.node_id set on the witness');
is($witness->safe_psql('postgres', 'SHOW repmgr.failover'), 'manual',
	'worker setting of repmgr.conf written on the witness');
is($witness->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'"),
	't', 'the superuser of -S (default postgres) exists');
my $hba = slurp_file($witness->data_dir . '/pg_hba.conf');
unlike($hba, qr/^\s*(local|host)\S*\s[^#\n]*\btrust\b/m, 'no trust in the pg_hba.conf of the witness');
like($hba, qr/^local\s+all\s+all\s+peer map=repmgr_witness$/m, '... local connections by peer');
like($hba, qr/^host\s+all\s+all\s+0.0.0.0\/0\s+scram-sha-256$/m, '... TCP with passwords');
is($witness->safe_psql('postgres', 'SELECT current_user', extra_params => [ '-U', 'postgres' ]),
	'postgres', 'the owner of the data directory may connect as the superuser');
$witness->safe_psql('postgres', 'CREATE ROLE someone LOGIN');
my ($ret, $stdout, $stderr) = $witness->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'someone' ]);
isnt($ret, 0, 'another role cannot connect without being that operating system user');
like($stderr, qr/Peer authentication failed/, '... peer authentication refuses it');
is($witness->safe_psql('postgres', 'SHOW listen_addresses'), '',
	'the witness of a socket conninfo does not listen on TCP');
is($node1->safe_psql('repmgr', 'SELECT type, active, location FROM repmgr.repl_nodes WHERE id = 3'),
	'witness|t|dc2', 'the witness is registered on the primary');
is($witness->safe_psql('repmgr', q{SELECT string_agg(id || ':' || type, ',' ORDER BY id) FROM repmgr.repl_nodes}),
	'1:primary,2:standby,3:witness', 'the metadata is copied to the witness');
like($node1->safe_psql('repmgr', "SELECT details FROM repmgr.repl_events WHERE event = 'witness_create'"),
	qr/^witness server created in "\S+" on port ${\ $witness->port }$/, 'witness_create event');
$out = repmgr_ok('cluster show', '-f', $conf1, 'cluster', 'show');
like($out, qr/^ 3  \| witness \| witness \| \* running \|          \| dc2      \| /m,
	'cluster show lists the witness');
$out = repmgr_ok('cluster show --csv', '-f', $conf1, '--csv', 'cluster', 'show');
like($out, qr/^3,2$/m, '... as 2 in CSV');

# again
$out = repmgr_exit('witness create into the existing instance is refused', 1,
	'-f', $wconf, @primary, 'witness', 'create');
like($out, qr/exists and is not empty/, '... saying why');
$out = repmgr_exit('witness register of a registered witness is refused', 1,
	'-f', $wconf, @primary, 'witness', 'register');
like($out, qr/node 3 is already registered/, '... with the server\'s message');
repmgr_ok('witness register -F', '-f', $wconf, @primary, '-F', 'witness', 'register');

# a witness whose port is taken
my $other = PostgreSQL::Test::Cluster->new('other');
my $taken = cli_conf($other, 4, conninfo => "'host=" . $node2->host . ' port=' . $node2->port . " dbname=repmgr'");
$out = repmgr_exit('witness create on a port in use is refused', 1,
	'-f', $taken, @primary, 'witness', 'create');
like($out, qr/a server is already running at/, '... saying so');

# a witness reached over TCP: it listens on that address only (not '*'),
# and puts its socket where the user running the command may write (the
# primary's socket directory), not into the system's default directory
my $tcpw = PostgreSQL::Test::Cluster->new('tcpwitness');
my $tconf = cli_conf($tcpw, 5,
	conninfo => "'host=127.0.0.1 port=" . $tcpw->port . " dbname=repmgr'");
$out = repmgr_ok('witness create of a conninfo on 127.0.0.1', '-f', $tconf, @primary,
	'-D', $tcpw->data_dir, 'witness', 'create');
sync_pids($tcpw);
is(auto_conf($tcpw, 'listen_addresses'), '127.0.0.1', '... listens on the address of its conninfo');
is(auto_conf($tcpw, 'unix_socket_directories'), $node1->host,
	'... with its socket in the primary\'s socket directory');
is($node1->safe_psql('repmgr', 'SELECT type, active FROM repmgr.repl_nodes WHERE id = 5'),
	'witness|t', '... and is registered');
my $tret = system('psql', '-X', '-w', '-h', '127.0.0.1', '-p', $tcpw->port,
	'-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1');
isnt($tret, 0, '... where TCP connections need a password');

done_testing();

# bin/repmgr and untrusted input: values written into postgresql.auto.conf
# are quoted as ALTER SYSTEM quotes them and a newline is refused; the
# tool's sessions run with an empty search_path, so that an operator
# planted in public does not run as the caller; a host name from a
# connection string never reaches ssh as an option; a password never
# appears on a command line (ps) or in the tool's output.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir_short;

# node1 also listens on 127.0.0.1 (trusted there by initdb -A trust)
my ($node1, $conf1) = cli_primary('node1', 1,
	extra_conf => "listen_addresses = '127.0.0.1'\n");
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my @primary = ('-h', $node1->host, '-p', $node1->port);

# ---- postgresql.auto.conf: quoting as the server reads it
my ($node2, $conf2) = cli_clone($node1, 'node2', 2,
	repmgr_conf => { node_name => q{'n2''x\\\\y'} }, start => 0);
is(auto_conf($node2, 'repmgr.node_id'), '2', 'clone with a node name holding \' and \\');
my $started = $node2->start(fail_ok => 1);
ok($started, '... the standby starts');
SKIP:
{
	skip 'the standby did not start', 1 unless $started;
	ok($node1->poll_query_until('postgres',
			q{SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = E'n2\'x\\\\y'}),
		'... and streams under that name');
}

my $node3 = PostgreSQL::Test::Cluster->new('node3');
my $conf3 = cli_conf($node3, 3);
my $out = repmgr_exit('clone with a newline in a connection string value is refused', 1,
	'-f', $conf3, @primary, '-D', $node3->data_dir,
	'-d', "dbname=repmgr fallback_application_name='x\ncluster_name = INJECTED'",
	'standby', 'clone');
like($out, qr/\[ERROR\] the value of "primary_conninfo" contains a newline/, '... saying why');
my $auto = -f $node3->data_dir . '/postgresql.auto.conf'
  ? slurp_file($node3->data_dir . '/postgresql.auto.conf') : '';
unlike($auto, qr/^\s*cluster_name/m, '... and no setting is injected');

# ---- search_path: an operator in public does not run as the caller
$node1->safe_psql('repmgr', q{
	CREATE ROLE mallory LOGIN;
	GRANT CREATE ON SCHEMA public TO mallory;});
$node1->safe_psql('repmgr', q{
	CREATE FUNCTION public.evil_cat(text, integer) RETURNS text LANGUAGE sql
	AS $$ ALTER ROLE mallory SUPERUSER; SELECT 'x'::text $$;
	CREATE FUNCTION public.evil_cat(integer, text) RETURNS text LANGUAGE sql
	AS $$ ALTER ROLE mallory SUPERUSER; SELECT 'x'::text $$;
	CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = integer, FUNCTION = public.evil_cat);
	CREATE OPERATOR public.|| (LEFTARG = integer, RIGHTARG = text, FUNCTION = public.evil_cat);},
	extra_params => [ '-U', 'mallory' ]);
repmgr_ok('node status with operators planted in public', '-f', $conf1, 'node', 'status');
repmgr_ok('cluster show with operators planted in public', '-f', $conf1, 'cluster', 'show');
repmgr_ok('primary register -F with operators planted in public',
	'-f', $conf1, '-F', 'primary', 'register');
is($node1->safe_psql('repmgr', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
	'f', '... none of them ran as the caller');
$node1->safe_psql('repmgr', q{
	DROP OWNED BY mallory;
	DROP ROLE mallory;});

# ---- ssh: a host name from a connection string is no option
SKIP:
{
	skip 'ssh is not installed', 3 unless -x '/usr/bin/ssh';
	my $marker = "$tmp/proxycommand_ran";
	my $node4 = PostgreSQL::Test::Cluster->new('node4');
	my $conf4 = cli_conf($node4, 4);
	$out = repmgr_exit('rsync clone from a host "-oProxyCommand=..." is refused', 1,
		'-f', $conf4, '-D', $node4->data_dir, '--dry-run', '--rsync-only',
		'-d', "host='-oProxyCommand=touch $marker' hostaddr=127.0.0.1 port="
		  . $node1->port . ' dbname=repmgr',
		'standby', 'clone');
	like($out, qr/\[ERROR\] "-oProxyCommand=touch \S+" is not a valid host name for ssh/,
		'... saying why');
	ok(!-e $marker, '... and ssh ran no command');
}

# ---- passwords: never in argv, never in output
# pg_bindir with a pg_basebackup that records its arguments and environment
my $bindir = $node1->config_data('--bindir');
my $wrapdir = "$tmp/bin";
mkdir $wrapdir or die "$wrapdir: $!";
opendir(my $dh, $bindir) or die "$bindir: $!";
foreach my $prog (grep { !/^\./ } readdir $dh)
{
	next if $prog eq 'pg_basebackup';
	symlink("$bindir/$prog", "$wrapdir/$prog") or die "$wrapdir/$prog: $!";
}
closedir $dh;
open my $fh, '>', "$wrapdir/pg_basebackup" or die;
print $fh "#!/bin/sh\necho \"\$@\" > $tmp/basebackup_argv\n"
  . "exec $bindir/pg_basebackup \"\$@\"\n";
close $fh;
chmod 0755, "$wrapdir/pg_basebackup";

my $node5 = PostgreSQL::Test::Cluster->new('node5');
my $conf5 = cli_conf($node5, 5, pg_bindir => "'$wrapdir'");
my @secret = ('-d', 'dbname=repmgr password=Secret1pw sslpassword=Secret2pw');
$out = repmgr_ok('clone --dry-run with a password', '-f', $conf5, @primary, @secret,
	'-D', $node5->data_dir, '--dry-run', '--verbose', 'standby', 'clone');
unlike($out, qr/Secret\dpw/, '... shows no password');
like($out, qr/password=\*+/, '... only masked');
$out = repmgr_ok('clone with a password', '-f', $conf5, @primary, @secret,
	'-D', $node5->data_dir, '--verbose', 'standby', 'clone');
unlike($out, qr/Secret\dpw/, '... shows no password');
my $argv = slurp_file("$tmp/basebackup_argv");
like($argv, qr/-d /, 'pg_basebackup ran');
unlike($argv, qr/Secret\dpw/, '... without a password in its arguments');
my $badconf = cli_conf($node5, 5, path => "$tmp/bad.conf",
	conninfo => "'host=" . $node1->host . " port=1 dbname=repmgr password=Secret1pw'");
$out = repmgr_exit('a failed connection with a password', 6,
	'-f', $badconf, 'node', 'status');
like($out, qr/attempted to connect using "[^"]*password=\*+/, '... shows the connection string masked');
unlike($out, qr/Secret\dpw/, '... and no password');

# ---- one masking for the tool and the server (common/conninfo.c): a
# string comes out of a failed connection of the tool as cluster_show()
# shows it, every secret option (password, sslpassword) masked
my @masking = (
	[
		'host=/nonexistent port=1 password=secret1 sslpassword=secret2 connect_timeout=1',
		'host=/nonexistent port=1 password=******** sslpassword=******** connect_timeout=1'
	],
	[
		q{host=/nonexistent port=1 application_name='a b\\'c' sslpassword=secret3 connect_timeout=1},
		q{host=/nonexistent port=1 application_name='a b\\'c' sslpassword=******** connect_timeout=1}
	],
	[
		'postgresql://u:secret4@/repmgr?host=/nonexistent&port=1&sslpassword=secret5&connect_timeout=1',
		undef
	]);
foreach my $case (@masking)
{
	my ($conninfo, $expected) = @$case;
	my $conf = cli_conf($node5, 5, path => "$tmp/masking.conf",
		conninfo => '"' . ($conninfo =~ s/\\/\\\\/gr) . '"');
	$out = repmgr_exit("a failed connection to $conninfo", 6,
		'-f', $conf, 'node', 'status');
	my ($tool) = $out =~ /attempted to connect using "([^"]*)"/;
	$node1->safe_psql('repmgr',
		"INSERT INTO repmgr.repl_nodes (id, type, upstream_node_id, cluster, name, conninfo)"
		  . " VALUES (9, 'standby', 1, 'test', 'node9', \$c\$$conninfo\$c\$)");
	my $server = $node1->safe_psql('repmgr',
		'SELECT conninfo FROM repmgr.cluster_show() WHERE id = 9');
	$node1->safe_psql('repmgr', 'DELETE FROM repmgr.repl_nodes WHERE id = 9');
	is($tool, $server, '... masked by the tool as by the server');
	is($tool, $expected, '... as expected') if defined $expected;
	unlike($tool // '', qr/secret\d/, '... without a secret');
	like($tool // '', qr/sslpassword=\*{8}/, '... sslpassword masked');
}

done_testing();

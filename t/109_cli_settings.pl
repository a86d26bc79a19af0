# The settings of the in-server worker have one home (common/settings.c):
# the defaults that repmgr.conf.sample documents and that "repmgr --help"
# lists are the ones a fresh server runs with (SHOW, pg_settings), the
# ranges and values the CLI accepts are the server's, and a value out of
# range in repmgr.conf is an error naming the file and the line
# (ERR_BAD_CONFIG).
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
my $closed = PostgreSQL::Test::Cluster::get_free_port();
my $down = "host=$tmp port=$closed dbname=repmgr connect_timeout=2";

# a fresh server with the library preloaded and no repmgr.* setting given
my $node = PostgreSQL::Test::Cluster->new('settings');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'repmgr'\n");
$node->start;

# what the server runs with: setting (in its unit), unit, range, values
my %server;
foreach my $row (split /\n/, $node->safe_psql('postgres',
		"SELECT name, setting, coalesce(unit, ''), coalesce(min_val, ''), "
		  . "coalesce(max_val, ''), coalesce(array_to_string(enumvals, ','), ''), vartype "
		  . "FROM pg_settings WHERE name LIKE 'repmgr.%'"))
{
	my ($name, $setting, $unit, $min, $max, $enumvals, $type) = split /\|/, $row, -1;
	$server{$name} = { setting => $setting, unit => $unit, min => $min, max => $max,
		enumvals => $enumvals, type => $type };
}
ok(exists $server{'repmgr.failover'}, 'the server defines the repmgr.* settings');

# a value of repmgr.conf as pg_settings shows it: booleans as on/off, a
# time counted in seconds in the server's milliseconds
sub as_server
{
	my ($value, $guc, $seconds) = @_;
	my $type = $server{$guc} ? $server{$guc}{type} : '';
	$value = $1 if $value =~ /^'(.*)'$/;
	if ($type eq 'bool')
	{
		return 'on' if $value =~ /^(true|on|yes|1)$/i;
		return 'off' if $value =~ /^(false|off|no|0)$/i;
	}
	return $value * 1000 if $seconds && $value =~ /^\d+$/;
	return $value;
}

# ---- repmgr.conf.sample: its table of keys and server settings, and the
# default it shows for each
my $sample = slurp_file("$FindBin::RealBin/../repmgr.conf.sample");
my %guc_of;
my %in_seconds;
while ($sample =~ /^#\s+([a-z_]+)\s+-> (repmgr\.[a-z_]+)(?: \(([a-z]+)\))?$/mg)
{
	my ($key, $guc, $note) = ($1, $2, $3 // '');
	next if $note eq 'always';    # node: an identity, no default
	$guc_of{$key} = $guc;
	$in_seconds{$key} = 1 if $note eq 'seconds';
}
cmp_ok(scalar(keys %guc_of), '>=', 12, 'repmgr.conf.sample maps its keys to server settings');
foreach my $key (sort keys %guc_of)
{
	my $guc = $guc_of{$key};
	my @lines = ($sample =~ /^#\Q$key\E=(.*)$/mg);
	is(scalar(@lines), 1, "repmgr.conf.sample shows one default of $key");
	next unless @lines;
	ok(exists $server{$guc}, "... the server defines $guc");
	next unless exists $server{$guc};
	is(as_server($lines[0], $guc, $in_seconds{$key}), $server{$guc}{setting},
		"$key: the default in repmgr.conf.sample is what the server runs ($guc)");
}
# SHOW as a DBA sees it, for the settings of the issue
is($node->safe_psql('postgres', 'SHOW repmgr.failover'), 'automatic', 'SHOW repmgr.failover');
is($node->safe_psql('postgres', 'SHOW repmgr.monitor_interval'), '1s', 'SHOW repmgr.monitor_interval');
is($node->safe_psql('postgres', 'SHOW repmgr.reconnect_attempts'), '3', 'SHOW repmgr.reconnect_attempts');
is($node->safe_psql('postgres', 'SHOW repmgr.reconnect_interval'), '1s', 'SHOW repmgr.reconnect_interval');
like($sample, qr/^#failover=automatic$/m, 'repmgr.conf.sample: failover=automatic');
like($sample, qr/^#monitor_interval_secs=1$/m, 'repmgr.conf.sample: monitor_interval_secs=1');
like($sample, qr/^#reconnect_attempts=3$/m, 'repmgr.conf.sample: reconnect_attempts=3');
like($sample, qr/^#reconnect_interval=1$/m, 'repmgr.conf.sample: reconnect_interval=1');

# ---- repmgr --help: the same keys, defaults, ranges and values
my ($rc, $stdout) = repmgr('--help');
is($rc, 0, '--help exits 0');
my %listed;
while ($stdout =~ /^  ([a-z_]+)=(\S*) +(repmgr\.[a-z_]+) +(.*)$/mg)
{
	$listed{$1} = { default => $2, guc => $3, values => $4 };
}
is_deeply([ sort keys %listed ], [ sort keys %guc_of ],
	'--help lists the settings repmgr.conf.sample maps to the server');

my %ms = (ms => 1, s => 1000, min => 60000, h => 3600000);
foreach my $key (sort keys %listed)
{
	my $l = $listed{$key};
	my $s = $server{ $l->{guc} };
	ok($s, "--help: $key is the server's $l->{guc}") or next;
	is($l->{guc}, $guc_of{$key} // '', "--help and repmgr.conf.sample agree: $key is $l->{guc}");
	is(as_server($l->{default}, $l->{guc}, $in_seconds{$key}), $s->{setting}, "--help: the default of $key is the server's");
	if ($s->{type} eq 'integer')
	{
		my ($lo, $lo_unit, $hi, $hi_unit) =
		  $l->{values} =~ /^(-?\d+)([a-z]*) to (-?\d+)([a-z]*)$/
		  or fail("--help: the range of $key: $l->{values}"), next;
		$lo *= $ms{$lo_unit} if $lo_unit;
		$hi *= $ms{$hi_unit} if $hi_unit;
		is("$lo..$hi", "$s->{min}..$s->{max}", "--help: the range of $key is the server's");
	}
	elsif ($s->{type} eq 'enum')
	{
		my @server_values = split /,/, $s->{enumvals};
		is($l->{values}, join(', ', @server_values), "--help: the values of $key are the server's");
	}
}

# ---- values out of range: the CLI refuses what the server refuses
my $conf = write_file($tmp, 'range.conf', <<"EOF");
cluster=test
node=1
node_name=node1
conninfo='$down'
reconnect_attempts=0
monitor_interval_secs=0
reconnect_interval=0
synchronous_count=64
failover=sometimes
EOF
my $out = repmgr_exit('values out of the server\'s range: ERR_BAD_CONFIG', 1, '-f', $conf, 'cluster', 'show');
like($out, qr/\[ERROR\] configuration file "\Q$conf\E", line 5: invalid value "0" for "reconnect_attempts": an integer from 1 to 1000 is expected/,
	'reconnect_attempts=0: file, line, key and the server\'s range');
like($out, qr/line 6: invalid value "0" for "monitor_interval_secs": a time from 10ms to 1h/,
	'monitor_interval_secs=0');
like($out, qr/line 7: invalid value "0" for "reconnect_interval": a time from 10ms to 1h/,
	'reconnect_interval=0');
like($out, qr/line 8: invalid value "64" for "synchronous_count": an integer from 1 to 63 is expected/,
	'synchronous_count=64');
like($out, qr/line 9: invalid value "sometimes" for "failover": one of automatic, manual is expected/,
	'failover=sometimes');
my ($sql_rc, $sql_out, $sql_err) = $node->psql('postgres', 'ALTER SYSTEM SET repmgr.reconnect_attempts = 0');
like($sql_err, qr/0 is outside the valid range for parameter "repmgr.reconnect_attempts" \(1 \.\. 1000\)/,
	'... as the server refuses reconnect_attempts = 0');

# the values at the ends of the ranges, and a time with a unit, are accepted
$conf = write_file($tmp, 'ends.conf', <<"EOF");
cluster=test
node=1
node_name=node1
conninfo='$down'
reconnect_attempts=1
reconnect_interval=10ms
monitor_interval_secs=3600
synchronous_count=63
synchronous=strict
failover=manual
EOF
$out = repmgr_exit('values within the server\'s range are accepted', 6, '-f', $conf, 'cluster', 'show');
unlike($out, qr/configuration file/, '... without configuration errors');

$node->stop;
done_testing();

# bin/repmgr: command line, help, log format and repmgr.conf.  The search
# order (-f, ./repmgr.conf), a -f naming a missing file, malformed lines,
# unknown keys and bad values (ERR_BAD_CONFIG naming the file, the line and
# the key), every setting of repmgr.conf.sample accepted, -L/--log-level,
# missing required settings, and ERR_DB_CON for a server that is down.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use Cwd;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $closed = PostgreSQL::Test::Cluster::get_free_port();
my $down = "host=$tmp port=$closed dbname=repmgr connect_timeout=2";

# ---- help, version, usage errors
my ($rc, $stdout, $stderr) = repmgr('--help');
is($rc, 0, '--help exits 0');
like($stdout, qr/^Usage:\n    repmgr \[OPTIONS\] primary  \{register\}$/m, '--help shows the usage');
like($stdout, qr/^ standby clone \[node\] +- creates a new standby$/m, '--help lists the commands');
($rc, $stdout) = repmgr('-?');
is($rc, 0, '-? exits 0');
foreach my $cmd ([qw(primary register)], [qw(standby clone)], [qw(standby switchover)],
	[qw(node rejoin)], [qw(node check)], [qw(witness create)], [qw(cluster show)],
	[qw(daemon pause)])
{
	($rc, $stdout) = repmgr(@$cmd, '--help');
	ok($rc == 0 && $stdout =~ /^repmgr @$cmd: /, "repmgr @$cmd --help");
}
($rc, $stdout) = repmgr('master', 'register', '--help');
like($stdout, qr/^repmgr primary register: /, 'master register is an alias of primary register');
($rc, $stdout) = repmgr('-V');
like($stdout, qr/^repmgr 3\.1 \(PostgreSQL 15\)$/, '-V shows the version');
repmgr_exit('no command: ERR_BAD_CONFIG', 1);
my $out = repmgr_exit('unknown command: ERR_BAD_CONFIG', 1, 'standby', 'dance');
like($out, qr/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[ERROR\] unknown command "standby dance"$/m,
	'... in the log format of the documents');
repmgr_exit('unknown option: ERR_BAD_CONFIG', 1, '--no-such-option', 'cluster', 'show');
repmgr_exit('extra argument: ERR_BAD_CONFIG', 1, 'cluster', 'show', 'extra');
$out = repmgr_exit('bad --limit value', 1, '--limit=ten', 'cluster', 'event');
like($out, qr/invalid value for --limit: "ten"/, '... naming the option');
$out = repmgr_exit('bad -L value', 1, '-L', 'LOUD', 'cluster', 'show');
like($out, qr/invalid log level "LOUD"/, '... naming the level');

# ---- -f naming a missing file: an error, nothing else tried
my $good = write_file($tmp, 'good.conf', "cluster=test\nnode=1\nnode_name=node1\nconninfo='$down'\n");
my $cwd = getcwd();
my $dir = "$tmp/cwd";
mkdir $dir;
write_file($tmp, 'cwd/repmgr.conf', "node=1\nconninfo='$down'\n");
chdir $dir;
$out = repmgr_exit('-f naming a missing file: ERR_BAD_CONFIG', 1, '-f', "$tmp/missing.conf", 'cluster', 'show');
like($out, qr/\[ERROR\] configuration file "\Q$tmp\E\/missing.conf" not found/, '... naming the file');
unlike($out, qr/connection to database failed/, '... without trying ./repmgr.conf');

# ./repmgr.conf is found without -f
$out = repmgr_exit('./repmgr.conf is used without -f', 6, '-v', 'cluster', 'show');
like($out, qr/\[NOTICE\] using configuration file "\Q$dir\E\/repmgr.conf"/, '... and named with -v');
like($out, qr/\[ERROR\] connection to database failed: /, '... its conninfo is used: ERR_DB_CON');
chdir $cwd;

# ---- malformed files: every error, with file, line and key
my $bad = write_file($tmp, 'bad.conf', <<"EOF");
# a comment
cluster = test
node=one
node_name
use_replication_slots=maybe
colour=blue
failover=sometimes
conninfo='host=x port=
loglevel=LOUD
priority=-1
  = 5
EOF
$out = repmgr_exit('a malformed configuration file: ERR_BAD_CONFIG', 1, '-f', $bad, 'cluster', 'show');
like($out, qr/\[ERROR\] configuration file "\Q$bad\E", line 3: invalid value "one" for "node": an integer of at least 1 is expected/,
	'bad integer: file, line, key');
like($out, qr/line 4: "=" is expected after "node_name"/, 'a line without "="');
like($out, qr/line 5: invalid value "maybe" for "use_replication_slots": a boolean/, 'bad boolean');
like($out, qr/line 6: unknown setting "colour"/, 'unknown setting');
like($out, qr/line 7: invalid value "sometimes" for "failover": one of automatic, manual is expected/,
	'bad enum value');
like($out, qr/line 8: unterminated quoted value for "conninfo"/, 'unterminated quote');
like($out, qr/line 9: invalid value "LOUD" for "loglevel"/, 'bad log level');
like($out, qr/line 10: invalid value "-1" for "priority"/, 'negative priority');
like($out, qr/line 11: a setting name is expected/, 'a line without a key');
unlike($out, qr/line [12]:/, 'comments and good lines are fine');
my $badconninfo = write_file($tmp, 'badconninfo.conf', "conninfo='host=x nosuchkey=1'\n");
$out = repmgr_exit('an invalid conninfo', 1, '-f', $badconninfo, 'cluster', 'show');
like($out, qr/line 1: invalid value "host=x nosuchkey=1" for "conninfo": invalid connection option "nosuchkey"/,
	'... with libpq\'s reason');

# ---- quoting and comments
my $quoted = write_file($tmp, 'quoted.conf', <<"EOF");
node = 7   # the node
node_name = 'it''s #7'
cluster="c l"
conninfo = '$down'
rsync_options=--archive --rsh="ssh -o \\"StrictHostKeyChecking no\\""
EOF
$out = repmgr_exit('quoted values and comments are accepted', 6, '-f', $quoted, 'cluster', 'show');
unlike($out, qr/configuration file/, '... without configuration errors');

# ---- every setting of repmgr.conf.sample is known
my $sample = slurp_file("$FindBin::RealBin/../repmgr.conf.sample");
my @settings = ($sample =~ /^#([a-z_]+=.*)$/mg);
cmp_ok(scalar(@settings), '>=', 30, 'repmgr.conf.sample documents the settings');
my $all = write_file($tmp, 'all.conf', join("\n", @settings, "conninfo='$down'") . "\n");
$out = repmgr_exit('all settings of repmgr.conf.sample uncommented are accepted', 6,
	'-f', $all, 'cluster', 'show');
unlike($out, qr/configuration file/, '... without configuration errors');

# ---- required settings
my $partial = write_file($tmp, 'partial.conf', "conninfo='$down'\n");
$out = repmgr_exit('primary register without node/node_name: ERR_BAD_CONFIG', 1,
	'-f', $partial, 'primary', 'register');
like($out, qr/required setting "node" not found in configuration file "\Q$partial\E"/, '... naming node');
like($out, qr/required setting "node_name" not found/, '... and node_name');

# ---- log level
($rc, $stdout, $stderr) = repmgr('-f', $good, '-L', 'DEBUG', 'cluster', 'show');
like($stderr, qr/\[DEBUG\] /, '-L DEBUG shows debug messages');
my $quiet = write_file($tmp, 'quiet.conf', "loglevel=CRIT\nconninfo='$down'\n");
($rc, $stdout, $stderr) = repmgr('-f', $quiet, 'cluster', 'show');
is($rc, 6, 'loglevel=CRIT: still ERR_DB_CON');
is($stderr, '', '... but nothing logged below CRIT');
($rc, $stdout, $stderr) = repmgr('-f', $quiet, '-L', 'ERROR', 'cluster', 'show');
like($stderr, qr/\[ERROR\] connection to database failed/, '-L overrides loglevel of the file');

# ---- a NUL byte and a file without end: errors with file and line
my $nul = write_file($tmp, 'nul.conf', "node=1\nnode_name=ab\0cd\ncluster=test\nconninfo='$down'\n");
$out = repmgr_exit('a NUL byte in repmgr.conf is an error', 1, '-f', $nul, 'cluster', 'show');
like($out, qr/\[ERROR\] configuration file "\Q$nul\E", line 2: the line contains a NUL byte/,
	'... naming the file and the line');
{
	my ($zout, $zerr) = ('', '');
	my $h = IPC::Run::start([ 'repmgr', '-f', '/dev/zero', 'cluster', 'show' ],
		'<', \undef, '>', \$zout, '2>', \$zerr, IPC::Run::timeout(30));
	my $finished = eval { $h->finish; 1 };
	$h->kill_kill unless $finished;
	ok($finished, '-f /dev/zero ends');
	is($h->result(0), 1, '... with exit code 1') if $finished;
	like($zerr, qr/\[ERROR\] configuration file "\/dev\/zero", line 1: line longer than \d+ bytes/,
		'... saying why');
}

# ---- exit codes of unreachable servers
repmgr_exit('cluster show of a node that is down: ERR_DB_CON', 6, '-f', $good, 'cluster', 'show');
repmgr_exit('node status of a node that is down: ERR_DB_CON', 6, '-f', $good, 'node', 'status');
repmgr_exit('standby promote of a node that is down: ERR_DB_CON', 6, '-f', $good, 'standby', 'promote');
($rc, $stdout) = repmgr('-f', $good, '--nagios', 'node', 'check');
is($rc, 2, 'node check --nagios of a node that is down: CRITICAL (2)');

done_testing();

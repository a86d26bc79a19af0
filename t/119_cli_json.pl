# bin/repmgr --json: "cluster show", "cluster event", "node status", "node
# check" and "daemon status" as JSON documents with the keys the README
# lists, every value of its type (numbers, booleans, null), strings
# escaped (a location with quotes, a backslash and a tab), stdout the
# document alone; --json with another format, or for another command, is
# refused.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrCli;
use RepmgrTest;
use Test::More;

my $location = qq{dc "1" \\ east\tside};
my ($node1, $conf1) = cli_primary('node1', 1);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
$node1->safe_psql('repmgr',
	"UPDATE repmgr.repl_nodes SET location = \$\$$location\$\$ WHERE id = 2");
$node1->wait_for_catchup($node2);

# stdout of a command, which must succeed; and its JSON
sub json_of
{
	my ($what, @args) = @_;
	my ($rc, $stdout, $stderr) = repmgr(@args);
	is($rc, 0, "$what: exit code 0") or diag($stderr);
	my $doc = eval { JSON::PP->new->decode($stdout) };
	ok(defined $doc, "$what: stdout is one JSON document") or diag("$@\n$stdout");
	return $doc;
}

sub keys_are
{
	my ($obj, $want, $what) = @_;
	is(join(',', sort keys %$obj), join(',', sort @$want), "$what: the documented keys");
}

sub is_number { return defined $_[0] && !ref($_[0]) && $_[0] =~ /^-?\d+(\.\d+)?$/ && (B::svref_2object(\$_[0])->FLAGS & (B::SVf_IOK() | B::SVf_NOK())) }
use B;

# ---- cluster show
my $show = json_of('cluster show --json', '-f', $conf1, '--json', 'cluster', 'show');
is(ref($show), 'ARRAY', 'cluster show: an array');
is(scalar(@$show), 2, '... of the two nodes');
keys_are($show->[0], [qw(id name role status upstream location priority timeline lsn conninfo sync_state)],
	'cluster show');
is($show->[0]{id}, 1, 'id of the primary');
ok(is_number($show->[0]{id}) && is_number($show->[0]{priority}) && is_number($show->[0]{timeline}),
	'id, priority and timeline are numbers');
is($show->[0]{status}, '* running', 'the primary runs');
ok(!defined $show->[0]{upstream}, 'the primary has no upstream: null');
is($show->[1]{upstream}, 'node1', 'the standby streams from node1');
is($show->[1]{location}, $location, 'a location with quotes, a backslash and a tab comes back as it is');
like($show->[1]{lsn}, qr{^[0-9A-F]+/[0-9A-F]+$}, 'lsn as PostgreSQL writes it');

# ---- cluster event
my $events = json_of('cluster event --json', '-f', $conf1, '--json', '--limit', '50', 'cluster', 'event');
is(ref($events), 'ARRAY', 'cluster event: an array');
my ($reg) = grep { $_->{event} eq 'standby_register' } @$events;
ok($reg, 'with the standby_register event');
keys_are($reg, [qw(node_id name event ok event_timestamp details)], 'cluster event');
ok(JSON::PP::is_bool($reg->{ok}) && $reg->{ok}, 'ok is a boolean');
like($reg->{event_timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'event_timestamp in ISO 8601, UTC');
like($reg->{details}, qr/\("node2"\)/, 'details with their quotes');
$events = json_of('cluster event --json --event', '-f', $conf1, '--json', '--event', 'no_such_event',
	'cluster', 'event');
is_deeply($events, [], 'no event: an empty array');

# ---- node status
my $status = json_of('node status --json', '-f', $conf2, '--json', 'node', 'status');
keys_are($status,
	[qw(node_id node_name type role active upstream_node_id upstream_node_name location priority
		pg_version data_directory timeline lsn replication_lag replay_lag wal_receiver_status
		archive_mode archive_ready_files replication_connections max_wal_senders replication_slots
		max_replication_slots worker_running conninfo synchronous)],
	'node status');
is($status->{node_id}, 2, 'node_id');
is($status->{role}, 'standby', 'role');
is($status->{upstream_node_id}, 1, 'upstream_node_id');
is($status->{location}, $location, 'location, escaped and read back');
ok(JSON::PP::is_bool($status->{active}) && JSON::PP::is_bool($status->{worker_running}),
	'active and worker_running are booleans');
ok(is_number($status->{replication_lag}), 'replication_lag is a number (bytes)');
is($status->{wal_receiver_status}, 'streaming', 'wal_receiver_status');

# ---- node check
my $check = json_of('node check --json', '-f', $conf1, '--json', 'node', 'check');
keys_are($check, [qw(node_name status checks)], 'node check');
is($check->{node_name}, 'node1', 'node_name');
like($check->{status}, qr/^(OK|WARNING|CRITICAL|UNKNOWN)$/, 'status: the worst of the checks');
my ($role) = grep { $_->{name} eq 'role' } @{ $check->{checks} };
keys_are($role, [qw(name status details)], 'each check');
is($role->{status}, 'OK', 'the role check is OK');
$check = json_of('node check --json --role', '-f', $conf1, '--json', '--role', 'node', 'check');
is(scalar(@{ $check->{checks} }), 1, 'node check --role --json: one check');

# ---- daemon status
ok($node2->poll_query_until('repmgr', 'SELECT pid IS NOT NULL FROM repmgr.daemon_status()'),
	'the worker of node2 runs');
my $daemons = json_of('daemon status --json', '-f', $conf1, '--json', 'daemon', 'status');
is(scalar(@$daemons), 2, 'daemon status: one object per node');
keys_are($daemons->[1], [qw(id name role status worker)], 'daemon status');
keys_are($daemons->[1]{worker}, [qw(running pid state paused fenced term last_error)], 'daemon status worker');
ok($daemons->[1]{worker}{running}, 'the worker of node2 runs');
ok(is_number($daemons->[1]{worker}{pid}), 'its pid is a number');
$node2->stop;
$daemons = json_of('daemon status --json, a node down', '-f', $conf1, '--json', 'daemon', 'status');
is($daemons->[1]{status}, '- failed', 'node2 is down');
ok(exists $daemons->[1]{worker} && !defined $daemons->[1]{worker}, 'its worker: null');
$node2->start;

# ---- refusals
my $out = repmgr_exit('--json with --csv is refused', 1, '-f', $conf1, '--json', '--csv', 'cluster', 'show');
like($out, qr/--json cannot be combined with --csv/, '... saying so');
$out = repmgr_exit('--json with --nagios is refused', 1, '-f', $conf1, '--json', '--nagios', 'node', 'check');
like($out, qr/--json cannot be combined with --nagios/, '... saying so');
$out = repmgr_exit('--json for another command is refused', 1, '-f', $conf1, '--json', 'cluster', 'cleanup');
like($out, qr/--json is not available for "cluster cleanup"/, '... saying so');

done_testing();

# bin/repmgr: many switchovers in a row, back and forth, under writes and
# with every CPU busy (issue 12).  Three nodes made as a new user would:
# node1 primary, node2 and node3 cloned with "repmgr standby clone",
# registered, the workers on with automatic failover, every node with
# use_replication_slots (node1, registered as primary, has no slot yet: its
# first rejoin registers it again with one).  The write prober
# commits every 5 ms through a multi-host read-write connection while one
# busy loop per CPU competes with the servers (a loaded machine is when a
# step that reads the state once, instead of waiting for it, loses a race).
# Then node2, node1, node2, ... take over with --siblings-follow, and after
# each switchover:
#   - the command succeeded;
#   - the new primary is out of recovery and both other nodes stream from
#     it (the old primary included), and no standby streams from another;
#   - the metadata, read on the new primary, says the same;
#   - no worker is left paused;
# and at the end, that the command alone re-pointed the standbys: one
# standby_follow per standby and switchover, none by a worker.
# SWITCHOVER_RUNS changes the number of switchovers (20).
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

my $runs = $ENV{SWITCHOVER_RUNS} // 20;
my %auto = (conf => { 'repmgr.failover' => 'automatic' });

my %slots = (repmgr_conf => { use_replication_slots => 'on' });
my ($node1, $conf1) = cli_primary('node1', 1, %auto, %slots);
repmgr_ok('node1 registered', '-f', $conf1, 'primary', 'register');
my ($node2, $conf2) = cli_clone($node1, 'node2', 2, %auto, %slots);
my ($node3, $conf3) = cli_clone($node1, 'node3', 3, %auto, %slots);
repmgr_ok('node2 registered', '-f', $conf2, 'standby', 'register');
repmgr_ok('node3 registered', '-f', $conf3, 'standby', 'register');
my %node = (1 => $node1, 2 => $node2, 3 => $node3);
my %conf = (1 => $conf1, 2 => $conf2, 3 => $conf3);

ok(streams_from($node1, $node2, $node3), 'node2 and node3 stream from node1');
foreach my $n (values %node)
{
	ok(wait_worker_state($n, 60, 'monitoring as primary', 'monitoring upstream'),
		$n->name . ': worker monitoring');
}

# one busy loop per CPU
my $ncpu = 0;
open my $cpuinfo, '<', '/proc/cpuinfo' or die "/proc/cpuinfo: $!";
while (<$cpuinfo>) { $ncpu++ if /^processor\s*:/ }
close $cpuinfo;
$ncpu ||= 2;
my @busy = map { IPC::Run::start([ $^X, '-e', '1 while 1' ]) } 1 .. $ncpu;
note("$ncpu busy loops started");

my $prober = start_prober(
	sprintf('host=%s port=%s dbname=repmgr target_session_attrs=read-write connect_timeout=2',
		join(',', map { $node{$_}->host } 1 .. 3),
		join(',', map { $node{$_}->port } 1 .. 3)),
	interval => 5, duration => 24 * 3600 * 1000);

my ($old, $new) = (1, 2);
my $failures = 0;
for my $run (1 .. $runs)
{
	my $third = 6 - $old - $new;
	my ($rc, $stdout, $stderr) = RepmgrCli::repmgr('-f', $conf{$new}, '-C', $conf{$old},
		'--siblings-follow', 'standby', 'switchover');
	sync_pids(values %node);
	is($rc, 0, "switchover $run: node$old -> node$new succeeds")
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	$failures++ if $rc != 0;
	# the old primary's WAL ends with the shutdown checkpoint this node had
	# received when it was promoted: it follows the new timeline as it is
	unlike($stderr, qr/pg_rewind is needed/, "switchover $run: no pg_rewind");

	ok(streams_from($node{$new}, $node{$old}, $node{$third}),
		"switchover $run: node$old and node$third stream from node$new");
	foreach my $s ($node{$old}, $node{$third})
	{
		is($s->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_replication'), '0',
			"switchover $run: nothing streams from " . $s->name);
	}
	ok($node{$new}->poll_query_until('repmgr',
			'SELECT string_agg(id || type || coalesce(upstream_node_id, 0) || active, \' \' ORDER BY id) '
			  . 'FROM repmgr.repl_nodes',
			join(' ', map {
				$_ == $new ? "${_}primary0true" : "${_}standby${new}true"
			} 1 .. 3)),
		"switchover $run: metadata: node$new primary, the others its standbys");
	foreach my $n (values %node)
	{
		ok($n->poll_query_until('repmgr', 'SELECT NOT paused FROM repmgr.daemon_status()'),
			"switchover $run: worker of " . $n->name . ' not paused');
	}
	($old, $new) = ($new, $old);
}
is($failures, 0, "no failed switchover in $runs");

# the command re-pointed every standby; no worker did it a second time
# (they are paused until the end of the command) or failed over
is($node{$old}->safe_psql('repmgr',
		"SELECT count(*) FROM repmgr.repl_events WHERE event IN "
		  . "('repmgrd_failover_follow', 'repmgrd_failover_promote')"),
	'0', 'no worker followed or promoted on its own');
is($node{$old}->safe_psql('repmgr',
		"SELECT count(*) FROM repmgr.repl_events WHERE event = 'standby_follow'"),
	2 * $runs, 'one standby_follow per standby and switchover');

$_->kill_kill foreach @busy;
my @rows = stop_prober($prober);
my @acked = grep { $_->{ok} } @rows;
my %present = map { $_ => 1 } split /\n/,
  $node{$old}->safe_psql('repmgr', 'SELECT seq FROM repmgr_probe WHERE probe = 0');
ok(scalar(@acked) > 0, scalar(@acked) . ' writes acknowledged');
is(scalar(grep { !$present{ $_->{seq} } } @acked), 0,
	'every acknowledged write is on the final primary');

done_testing();

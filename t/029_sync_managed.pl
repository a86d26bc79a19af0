# Managed synchronous replication (repmgr.synchronous): the primary's
# worker keeps synchronous_standby_names to ANY n of its healthy standbys
# and publishes the set in repmgr.repl_sync.
# - on: a synchronous standby killed with kill -9 under writes is dropped,
#   commits resume within a bound; back and caught up, it is added again;
# - strict: commits wait for it, and resume when it returns;
# - each change is an event with the old and new value;
# - the published set survives a restart of every node;
# - a node whose settings differ from the primary's says so.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;
use Time::HiRes qw(time clock_gettime CLOCK_MONOTONIC);

# fast detection: the lag bound is reconnect_attempts x reconnect_interval
my %conf = (conf => {
	'repmgr.synchronous' => 'on',
	'repmgr.monitor_interval' => '200ms',
	'repmgr.reconnect_interval' => '250ms',
	'repmgr.reconnect_attempts' => '2',
	# failover is not what this test looks at
	'repmgr.failover' => 'manual',
});

my ($p, $standbys) = monitored_cluster(%conf, standbys => 2);
my ($s1, $s2) = @$standbys;

sub standby_names
{
	return $p->safe_psql('repmgr', 'SHOW synchronous_standby_names');
}

sub set_everywhere
{
	my ($name, $value) = @_;
	foreach my $n (@_[2 .. $#_])
	{
		$n->safe_psql('postgres', "ALTER SYSTEM SET $name = '$value'");
		$n->reload;
	}
}

# both standbys stream: ANY 1 of both, published, each addition an event
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 1 ("s1", "s2")'}),
	'the worker sets ANY 1 ("s1", "s2")');
ok($p->poll_query_until('repmgr',
		"SELECT count(*) = 2 FROM pg_stat_replication WHERE sync_state = 'quorum'"),
	'both standbys are quorum-synchronous');
ok($p->poll_query_until('repmgr',
		"SELECT quorum = 1 AND members = '{2,3}' AND mode = 'on' AND primary_node = 1 FROM repmgr.repl_sync"),
	'the set is published');
is($p->safe_psql('repmgr',
		"SELECT count(*) FROM repmgr.repl_events WHERE event = 'synchronous_standby_added'"),
	'2', 'two synchronous_standby_added events');
like($p->safe_psql('repmgr',
		"SELECT details FROM repmgr.repl_events WHERE event = 'synchronous_standby_added' ORDER BY event_timestamp DESC LIMIT 1"),
	qr/was '.*', now 'ANY 1 \("s1", "s2"\)'/, 'the event has the old and the new value');
ok($s1->poll_query_until('repmgr', 'SELECT members = \'{2,3}\' FROM repmgr.repl_sync'),
	'the published set replicates to the standbys');
is($p->safe_psql('repmgr', "SELECT status FROM repmgr.node_check() WHERE name = 'synchronous'"),
	'OK', 'node_check on the primary: synchronous OK');
is($p->safe_psql('repmgr', "SELECT string_agg(name || ':' || coalesce(sync_state, '-'), ',' ORDER BY id) FROM repmgr.cluster_show()"),
	'p:-,s1:quorum,s2:quorum', 'cluster_show: both standbys quorum');
is($s1->safe_psql('repmgr', 'SELECT synchronous FROM repmgr.node_status()'), 'quorum',
	'node_status on a standby: quorum');
is($p->safe_psql('repmgr', 'SELECT synchronous FROM repmgr.node_status()'),
	'ANY 1 ("s1", "s2") (repmgr.synchronous = on, synchronous_count = 1)',
	'node_status on the primary: the set');

# ANY 2: a commit needs both standbys
set_everywhere('repmgr.synchronous_count', '2', $p, $s1, $s2);
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 2 ("s1", "s2")'}),
	'synchronous_count = 2: ANY 2 ("s1", "s2")');
ok($p->poll_query_until('repmgr',
		"SELECT quorum = 2 AND sync_count = 2 FROM repmgr.repl_sync"),
	'ANY 2 published');
is($p->safe_psql('repmgr', "SELECT string_agg(name || ':' || coalesce(sync_state, '-'), ',' ORDER BY id) FROM repmgr.cluster_show()"),
	'p:-,s1:sync,s2:sync', 'cluster_show: ANY 2 of 2, both sync');

# ---- on: kill -9 of a synchronous standby under writes ----
my $prober = start_prober(conninfo($p), interval => 5, timeout => 60000);
ok(poll_until('the prober writes', 30,
		sub { scalar(grep { $_->{ok} } prober_results($prober->{out})) >= 50 }),
	'the prober commits');
my $kill_ms = clock_gettime(CLOCK_MONOTONIC) * 1000;
$s2->kill9;
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 1 ("s1")'}),
	'on: the dead standby is removed: ANY 1 ("s1")');
ok(poll_until('commits after the kill', 30, sub {
	scalar(grep { $_->{ok} && $_->{start} > $kill_ms + 100 } prober_results($prober->{out})) >= 20 }),
	'on: commits resume');
my @rows = stop_prober($prober);
my @acked = sort { $a->{end} <=> $b->{end} } grep { $_->{ok} } @rows;
my $stall = 0;
for my $i (1 .. $#acked)
{
	next if $acked[$i]->{end} < $kill_ms;
	my $gap = $acked[$i]->{end} - ($acked[$i - 1]->{end} > $kill_ms ? $acked[$i - 1]->{end} : $kill_ms);
	$stall = $gap if $gap > $stall;
}
diag(sprintf('commit stall after kill -9 of a synchronous standby (on, ANY 2 of 2): %d ms', $stall));
cmp_ok($stall, '<', 5000, 'on: the longest commit stall after the kill is under 5 s');
# the last write may be cut short by stop_prober itself
is(scalar(grep { !$_->{ok} } @rows[0 .. $#rows - 1]), 0, 'on: no write failed');

ok($p->poll_query_until('repmgr',
		"SELECT quorum = 1 AND members = '{2}' FROM repmgr.repl_sync"),
	'the smaller set is published');
like($p->safe_psql('repmgr',
		"SELECT details FROM repmgr.repl_events WHERE event = 'synchronous_standby_removed' ORDER BY event_timestamp DESC LIMIT 1"),
	qr/node "s2" \(node ID: 3\) removed .* was 'ANY 2 \("s1", "s2"\)', now 'ANY 1 \("s1"\)'/,
	'synchronous_standby_removed with the old and the new value');
is($p->safe_psql('repmgr', "SELECT status FROM repmgr.node_check() WHERE name = 'synchronous'"),
	'WARNING', 'node_check: the set is smaller than synchronous_count');
is($p->safe_psql('repmgr', "SELECT string_agg(name || ':' || coalesce(sync_state, '-'), ',' ORDER BY id) FROM repmgr.cluster_show()"),
	'p:-,s1:sync,s2:async', 'cluster_show: the dead standby async');

# back and caught up: added again
start_after_kill($s2);
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = 'ANY 2 ("s1", "s2")'}),
	'the standby is back: ANY 2 ("s1", "s2") again');
ok($p->poll_query_until('repmgr', "SELECT quorum = 2 AND members = '{2,3}' FROM repmgr.repl_sync"),
	'and published');

# ---- strict: commits wait for the dead standby ----
set_everywhere('repmgr.synchronous', 'strict', $p, $s1, $s2);
ok($p->poll_query_until('repmgr', "SELECT mode = 'strict' FROM repmgr.repl_sync"),
	'strict published');
$s2->kill9;
ok($p->poll_query_until('repmgr',
		"SELECT count(*) = 0 FROM pg_stat_replication WHERE application_name = 's2'"),
	'the primary sees the standby gone');
my ($out, $err) = ('', '');
my $writer = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $p->connstr('repmgr'), '-c', 'CREATE TABLE strict_t AS SELECT 1 AS x' ],
	'>', \$out, '2>', \$err);
my $waiting = "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'CREATE TABLE strict_t%'";
ok($p->poll_query_until('repmgr', $waiting), 'strict: the commit waits for the synchronous standby');
# the worker looks every 200 ms; let it look many times, counted by its loops
my $loops = $p->safe_psql('repmgr', 'SELECT loops FROM repmgr.daemon_status()');
ok($p->poll_query_until('repmgr', "SELECT loops > $loops + 20 FROM repmgr.daemon_status()"),
	'the worker has looked again');
is(standby_names(), 'ANY 2 ("s1", "s2")', 'strict: the dead standby stays in the set');
is($p->safe_psql('repmgr', $waiting), 't', 'strict: the commit still waits');
start_after_kill($s2);
ok($p->poll_query_until('repmgr', "SELECT count(*) = 1 FROM pg_tables WHERE tablename = 'strict_t'"),
	'strict: the commit completes when the standby returns');
$writer->finish;
is($p->safe_psql('repmgr', 'SELECT count(*) FROM strict_t'), '1', 'strict: the row is there');

# ---- differing settings are reported ----
$s1->safe_psql('postgres', "ALTER SYSTEM SET repmgr.synchronous_count = 1");
$s1->reload;
ok($s1->poll_query_until('repmgr',
		"SELECT status = 'WARNING' AND details LIKE 'repmgr.synchronous_count is 1 on this node but 2 on the primary%' FROM repmgr.node_check() WHERE name = 'synchronous'"),
	'node_check on the standby reports the difference');
ok(poll_until('the log', 30, sub {
	slurp_file($s1->logfile) =~ /repmgr\.synchronous_count is 1 on this node but 2 on the primary/ }),
	'the standby\'s worker logs the difference');
$s1->safe_psql('postgres', "ALTER SYSTEM SET repmgr.synchronous_count = 2");
$s1->reload;

# ---- the published set survives a restart of every node ----
my $before = $p->safe_psql('repmgr', 'SELECT version, members, quorum, mode FROM repmgr.repl_sync');
my $events = $p->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event LIKE 'synchronous_standby_%'");
$_->stop('fast') foreach ($s2, $s1, $p);
$_->start foreach ($p, $s1, $s2);
is($p->safe_psql('repmgr', 'SELECT version, members, quorum, mode FROM repmgr.repl_sync'), $before,
	'the published set is unchanged after a restart of every node');
ok($s2->poll_query_until('repmgr', "SELECT members = '{2,3}' FROM repmgr.repl_sync"),
	'the standbys have it too');
ok($p->poll_query_until('repmgr',
		"SELECT count(*) = 2 FROM pg_stat_replication WHERE sync_state = 'quorum'"),
	'both standbys synchronous again');
is(standby_names(), 'ANY 2 ("s1", "s2")', 'synchronous_standby_names as before');
$p->safe_psql('repmgr', 'INSERT INTO strict_t VALUES (2)');
is($p->safe_psql('repmgr', "SELECT count(*) FROM repmgr.repl_events WHERE event LIKE 'synchronous_standby_%'"),
	$events, 'no change recorded by the restart');

# ---- off: the worker gives synchronous_standby_names back ----
set_everywhere('repmgr.synchronous', 'off', $p, $s1, $s2);
ok($p->poll_query_until('repmgr', q{SELECT current_setting('synchronous_standby_names') = ''}),
	'off: synchronous_standby_names reset');
ok($p->poll_query_until('repmgr', "SELECT mode = 'off' AND quorum = 0 FROM repmgr.repl_sync"),
	'off published');

done_testing();

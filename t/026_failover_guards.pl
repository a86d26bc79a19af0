# What holds a failover back: paused workers take no action; a
# failover_validation_command can veto a promotion; a standby with more
# WAL than the new primary cannot follow it and says why.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

sub monitoring
{
	foreach my $n (@_)
	{
		ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
			$n->name . ': worker monitoring');
	}
}

# ---- paused workers: no promotion until unpaused
{
	my $p = new_primary('pa', 1);
	register_primary($p, 1);
	my $s2 = new_standby($p, 'sa2', 2);
	my $s3 = new_standby($p, 'sa3', 3);
	register_standby($s2, 2);
	register_standby($s3, 3);
	monitoring($p, $s2, $s3);
	$s2->safe_psql('repmgr', 'SELECT * FROM repmgr.daemon_pause()');
	$p->kill9;
	ok(log_matches($s2, qr/this node is paused: not promoting/),
		'a paused standby does not promote, and says so');
	ok(wait_worker_state($s3, 30, 'degraded monitoring'), 'the other standby is degraded too');
	is($s2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()') . $s3->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'),
		'tt', 'nothing was promoted while paused');
	$s3->safe_psql('repmgr', 'SELECT * FROM repmgr.daemon_unpause()');
	ok($s2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'), 'unpaused: node 2 is promoted');
}

# ---- failover_validation_command vetoes until it says yes
{
	my $tmp = PostgreSQL::Test::Utils::tempdir;
	my %conf = (conf => { 'repmgr.failover_validation_command' => "test -f $tmp/allow" });
	my $p = new_primary('pb', 1, %conf);
	register_primary($p, 1);
	my $s2 = new_standby($p, 'sb2', 2, %conf);
	my $s3 = new_standby($p, 'sb3', 3, %conf);
	register_standby($s2, 2);
	register_standby($s3, 3);
	monitoring($p, $s2, $s3);
	$p->kill9;
	ok(poll_until('the veto', 30,
			sub { slurp_file($s2->logfile) =~ /failover_validation_command exited with 1: not promoting/ }),
		'the validation command vetoes the promotion');
	is($s2->safe_psql('repmgr', 'SELECT pg_is_in_recovery()'), 't', 'node 2 is not promoted');
	open my $fh, '>', "$tmp/allow" or die;
	close $fh;
	ok($s2->poll_query_until('repmgr', 'SELECT NOT pg_is_in_recovery()'),
		'once the command says yes, node 2 is promoted');
	ok($s3->poll_query_until('postgres', 'SELECT sender_port = ' . $s2->port . ' FROM pg_stat_wal_receiver'),
		'and node 3 follows it');
}

# ---- a standby ahead of the new primary cannot follow it
{
	my $p = new_primary('pc', 1);
	register_primary($p, 1);
	my $s2 = new_standby($p, 'sc2', 2);
	my $s3 = new_standby($p, 'sc3', 3, conf => { 'repmgr.failover' => 'manual' });
	my $s4 = new_standby($p, 'sc4', 4);
	register_standby($s2, 2);
	register_standby($s3, 3);
	register_standby($s4, 4);
	my $w = new_witness($p, 'wc', 5);
	monitoring($p, $s2, $s3, $s4, $w);
	ok($_->poll_query_until('repmgr', 'SELECT count(*) = 5 FROM repmgr.repl_nodes'), $_->name . ' knows five nodes')
	  foreach ($s2, $s3, $s4, $w);

	# node 3 (manual, never promoted) gets WAL the others do not
	foreach my $n ($s2, $s4)
	{
		$n->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = ''");
		$n->reload;
	}
	ok($p->poll_query_until('postgres', 'SELECT count(*) = 1 FROM pg_stat_replication'),
		'only node 3 streams');
	$p->safe_psql('repmgr', 'CREATE TABLE only_on_3 (x int); INSERT INTO only_on_3 VALUES (1)');
	$p->wait_for_catchup($s3);
	$p->kill9;

	# nodes 2 and 4 are equal but for the WAL each got before it stopped
	my $winner;
	ok(poll_until('a promotion', 60, sub {
		($winner) = grep { $_->safe_psql('repmgr', 'SELECT NOT pg_is_in_recovery()') eq 't' } ($s2, $s4);
		return defined $winner; }), 'node 2 or node 4 is promoted, by three votes of five');
	my ($other) = grep { $_ != $winner } ($s2, $s4);
	my ($wid) = ($winner->name =~ /(\d)$/);
	ok(wait_worker_state($s3, 30, 'cannot follow'), 'node 3 cannot follow it');
	ok(log_matches($s3, qr/this node cannot follow node $wid.*\n.*DETAIL:  this node has replayed WAL up to .* beyond .* where timeline 2 of the new upstream began/),
		'and says why');
	like(slurp_file($s3->logfile), qr/refused: the candidate is behind this node/,
		'it refused its vote to a candidate behind it');
	ok($winner->poll_query_until('repmgr',
			"SELECT count(*) = 1 FROM repmgr.repl_events WHERE node_id = 3 AND event = 'standby_follow' AND NOT successful"),
		'a failed standby_follow is recorded');
	ok($other->poll_query_until('postgres', 'SELECT sender_port = ' . $winner->port . ' FROM pg_stat_wal_receiver'),
		$other->name . ' follows ' . $winner->name);
	is($s3->safe_psql('repmgr', 'SELECT pg_is_in_recovery(), state FROM repmgr.daemon_status()'), 't|cannot follow',
		'node 3 stays a standby, waiting for node rejoin');
}

done_testing();

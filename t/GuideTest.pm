
# GuideTest.pm
#    The README's real-host guides as tests (t/netns/05*_guide_*.pl): the
#    blocks of "Setting up a cluster on real hosts" marked with
#    <!-- guide LAYOUT[/STEP]: HOSTS -->, taken from README.md itself, run
#    as root on three hosts (NetnsHosts.pm), then a kill -9 of the primary,
#    the automatic failover, the rejoin block, the switchover block, and a
#    switchover that fails part-way.
#
#    What the test changes in the blocks, as the README says: the network
#    192.168.1.0/24 becomes the test's; for the RHEL layout
#    /usr/pgsql-15/bin becomes /usr/lib/postgresql/15/bin (and systemctl is
#    NetnsHosts' stand-in).  The key exchange between the two ssh blocks,
#    which the README leaves to the administrator, is done here.

package GuideTest;

use strict;
use warnings;

use Carp;
use Exporter 'import';
use FindBin;
use NetnsCluster;
use NetnsHosts;
use PostgreSQL::Test::Utils;
use RepmgrTest qw(poll_until);
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(guide_blocks run_guide_test);

# the marked blocks of a layout: { step, hosts => [...], script }
sub guide_blocks
{
	my ($layout) = @_;
	my @lines = split /\n/, slurp_file("$FindBin::RealBin/../../README.md");
	my @blocks;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^\s*<!-- guide (\w+)(?:\/([\w-]+))?: ([\w ]+?) -->\s*$/;
		my ($l, $step, $hosts) = ($1, $2 // '', $3);
		next unless $l eq $layout;
		$i++ while $i + 1 < @lines && $lines[$i + 1] =~ /^\s*$/;
		$i++;
		croak "README.md line " . ($i + 1) . ": a marked block must be a ```sh fence"
		  unless $i < @lines && $lines[$i] =~ /^(\s*)```sh\s*$/;
		my $indent = $1;
		my @script;
		for ($i++; $i < @lines && $lines[$i] !~ /^\s*```\s*$/; $i++)
		{
			(my $line = $lines[$i]) =~ s/^\Q$indent\E//;
			push @script, $line;
		}
		push @blocks, { step => $step, hosts => [ split / /, $hosts ],
			script => join("\n", @script) . "\n" };
	}
	return @blocks;
}

# the test's version of a block: its network, and the RHEL paths on Debian
sub adapt
{
	my ($script, $layout, $net) = @_;
	$script =~ s{192\.168\.1\.0/24}{$net.0/24}g;
	$script =~ s{/usr/pgsql-15/bin}{/usr/lib/postgresql/15/bin}g if $layout eq 'rhel';
	return $script;
}

# a block on each of its hosts; false if it failed anywhere
sub run_block
{
	my ($layout, $block, $hosts, $net, $what) = @_;
	my $all = 1;
	foreach my $name (@{ $block->{hosts} })
	{
		my $host = $hosts->{$name} or croak "README.md: unknown host $name";
		my $t0 = time();
		my ($rc, $out, $err) = $host->script(adapt($block->{script}, $layout, $net));
		note(sprintf('%s on %s took %.1f s', $what, $name, time() - $t0));
		$all = 0 unless is($rc, 0, "$layout guide, $what on $name")
		  or diag("script:\n$block->{script}\nstdout:\n$out\nstderr:\n$err");
	}
	return $all;
}

# every host's public key of postgres in every host's authorized_keys;
# $gate (optional): a forced command for the keys on that host
sub exchange_keys
{
	my ($hosts, %gates) = @_;
	my $keys = '';
	$keys .= slurp_file($_->root . '/var-lib-postgresql/.ssh/id_ed25519.pub') foreach values %$hosts;
	foreach my $host (values %$hosts)
	{
		my $file = $host->root . '/var-lib-postgresql/.ssh/authorized_keys';
		my $text = $keys;
		$text =~ s/^/command="$gates{$host->name}" /mg if $gates{ $host->name };
		open my $fh, '>', $file or die "$file: $!";
		print $fh $text;
		close $fh;
		chmod 0600, $file;
		system('chown', 'postgres:postgres', $file) == 0 or die "chown $file";
	}
	return;
}

sub in_recovery
{
	my ($host) = @_;
	my ($ok, $out) = $host->psql('SELECT pg_is_in_recovery()', timeout => 5);
	return $ok ? $out : undef;
}

# the server log of a host, copied where scripts/test.sh shows it on failure
sub server_log
{
	my ($host, $layout) = @_;
	return $layout eq 'rhel' ? $host->root . '/var-lib-pgsql/15/postgresql.log'
	  : $host->root . '/var-log-postgresql/postgresql-15-main.log';
}

sub keep_logs
{
	my ($hosts, $layout) = @_;
	foreach my $host (values %$hosts)
	{
		my $log = server_log($host, $layout);
		system('cp', $log, "$ENV{TESTDIR}/tmp_check_netns/log/guide_${layout}_" . $host->name . '.log')
		  if -f $log;
	}
	return;
}

# no worker of a running node paused
sub no_worker_paused
{
	my ($what, @hosts) = @_;
	foreach my $host (@hosts)
	{
		ok($host->poll_query_until('SELECT NOT paused FROM repmgr.daemon_status()', timeout => 30),
			"$what: the worker of " . $host->name . ' is not paused');
	}
	return;
}

# the state of the old primary after a rejoin: running as a standby of
# $primary (by the service manager of its layout), its record right,
# its worker not paused
sub check_rejoined
{
	my ($what, $layout, $node1, $primary, @others) = @_;
	is(in_recovery($node1), 't', "$what: node1 runs as a standby");
	if ($layout eq 'debian')
	{
		is($node1->lsclusters_status, 'online,recovery',
			"$what: pg_lsclusters shows node1 online, in recovery (started by pg_ctlcluster)");
	}
	else
	{
		my $log = server_log($node1, $layout);
		ok(-s $log, "$what: node1 was started by the unit (systemctl), logging to its file");
	}
	ok($primary->poll_query_until(
			"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node1' AND state = 'streaming'"),
		"$what: node1 streams from " . $primary->name);
	my $pid = substr($primary->name, 4);
	ok($primary->poll_query_until(
			"SELECT type || '|' || active || '|' || upstream_node_id FROM repmgr.repl_nodes WHERE id = 1",
			expected => "standby|true|$pid", timeout => 30),
		"$what: node1's record: an active standby of node $pid");
	ok($node1->poll_query_until("SELECT role || ' ' || status FROM repmgr.cluster_show() WHERE id = 1",
			expected => 'standby running', timeout => 30),
		"$what: cluster show on node1 shows it as a running standby");
	no_worker_paused($what, $node1, $primary, @others);
	return;
}

sub run_guide_test
{
	my ($layout) = @_;
	my $why = hosts_available();
	plan skip_all => $why if $why;

	my @blocks = guide_blocks($layout);
	cmp_ok(scalar(@blocks), '>=', 8, "README.md has the marked blocks of the $layout guide");
	my %step;
	push @{ $step{ $_->{step} } }, $_ foreach grep { $_->{step} ne '' && $_->{step} ne 'ssh-keys' } @blocks;
	ok($step{rejoin} && $step{switchover}, '... the rejoin and the switchover among them');

	netns_setup();
	my @list = NetnsHosts->create({ test => "guide_$layout", rhel => $layout eq 'rhel' },
		qw(node1 node2 node3));
	my %hosts = map { $_->name => $_ } @list;
	my ($node1, $node2, $node3) = @list;
	(my $net = $node1->ip) =~ s/\.\d+$//;
	my $keydir = "$ENV{TESTDIR}/tmp_check_netns/guide_$layout";
	system('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', "$keydir/ssh_host_key") == 0
	  or die 'ssh-keygen';

	# ---- the guide, block by block; sshd runs from the ssh step on only,
	# so that what comes before it (the clones) shows it needs no ssh
	my $n = 0;
	foreach my $block (grep { $_->{step} eq '' || $_->{step} eq 'ssh-keys' } @blocks)
	{
		$n++;
		$_->start_sshd("$keydir/ssh_host_key") foreach ($block->{step} eq 'ssh-keys' ? @list : ());
		my $ok = run_block($layout, $block, \%hosts, $net, "block $n");
		exchange_keys(\%hosts) if $block->{step} eq 'ssh-keys';
		if (!$ok)
		{
			keep_logs(\%hosts, $layout);
			done_testing();
			return;
		}
	}

	# ---- what the guide promises
	is(in_recovery($node1), 'f', 'node1 is the primary');
	foreach my $host ($node2, $node3)
	{
		ok($node1->poll_query_until(
				"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = '"
				  . $host->name . "' AND state = 'streaming'"),
			$host->name . ' streams from node1 under its node name');
		ok($host->poll_query_until("SELECT state = 'monitoring upstream' FROM repmgr.daemon_status()"),
			'the worker of ' . $host->name . ' monitors');
		if ($layout eq 'debian')
		{
			is($host->lsclusters_status, 'online,recovery', 'pg_lsclusters: ' . $host->name . ' online, in recovery');
			ok(!-e $host->data_dir . '/postgresql.conf',
				$host->name . ' runs with its configuration in /etc, nothing copied into its data directory');
		}
	}
	ok($node1->poll_query_until("SELECT state = 'monitoring as primary' FROM repmgr.daemon_status()"),
		'the worker of node1 monitors');
	my $log1 = slurp_file(server_log($node1, $layout));
	unlike($log1, qr/FATAL:  database "repmgr" does not exist/,
		'no worker FATAL while the database did not exist yet');
	$node1->safe_psql('CREATE TABLE guide_t (x int); INSERT INTO guide_t VALUES (1)');

	# ---- kill -9 of the primary: automatic failover
	my $t_kill = time();
	$node1->kill9;
	my $new;
	ok(poll_until('a standby promoted', 90, sub {
				my @p = grep { (in_recovery($_) // '') eq 'f' } ($node2, $node3);
				$new = $p[0] if @p == 1;
				return @p == 1;
			}),
		'kill -9 of node1: one standby is promoted');
	note(sprintf('failover: kill -9 to a writable standby seen in %.2f s', time() - $t_kill));
	$new //= $node2;
	my $other = $new == $node2 ? $node3 : $node2;
	ok($new->poll_query_until(
			"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = '"
			  . $other->name . "' AND state = 'streaming'"),
		$other->name . ' follows the new primary ' . $new->name);
	is($new->safe_psql('SELECT count(*) FROM guide_t'), '1', 'the new primary has the data');
	$new->safe_psql('INSERT INTO guide_t VALUES (2)');

	# ---- the old primary back: the README's rejoin
	run_block($layout, $_, \%hosts, $net, 'the rejoin after a failover') foreach @{ $step{rejoin} };
	check_rejoined('after the rejoin', $layout, $node1, $new, $other);
	ok($node1->poll_query_until('SELECT count(*) = 2 FROM guide_t'), 'node1 replays the new primary');

	# ---- the README's switchover back to node1
	run_block($layout, $_, \%hosts, $net, 'the switchover') foreach @{ $step{switchover} };
	is(in_recovery($node1), 'f', 'after the switchover node1 is the primary');
	foreach my $host ($node2, $node3)
	{
		ok($node1->poll_query_until(
				"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = '"
				  . $host->name . "' AND state = 'streaming'"),
			'... ' . $host->name . ' streams from it');
		is($host->lsclusters_status, 'online,recovery', '... pg_lsclusters: ' . $host->name . ' in recovery')
		  if $layout eq 'debian';
	}
	no_worker_paused('after the switchover', @list);

	# ---- a switchover that fails part-way: ssh to node1 stops after the stop
	my $gate = "$keydir/hosts/node1/files/ssh-gate";
	open my $fh, '>', $gate or die;
	print $fh <<'EOF';
#!/bin/sh
# ssh to this host "stops" at the rejoin of a switchover
case "$SSH_ORIGINAL_COMMAND" in
*"node rejoin"*) echo "ssh: connection to this host lost" >&2; exit 255 ;;
esac
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
EOF
	close $fh;
	chmod 0755, $gate;
	exchange_keys(\%hosts, node1 => $gate);
	my $switch = adapt($step{switchover}[0]{script}, $layout, $net);
	my ($rc, $out, $err) = $node2->script($switch);
	$node1->stop_sshd;
	is($rc, 12, 'a switchover to node2 that loses ssh to node1 part-way: ERR_BAD_SSH');
	like($err, qr/switchover incomplete/, '... saying so');
	like($err, qr/Finish with, on the host of node 1: .*node rejoin/, '... with the command that finishes it');
	ok(!defined $node1->postmaster_pid, '... node1 stays stopped');
	is(in_recovery($node2), 'f', '... node2 is the one writable primary');
	ok($node2->poll_query_until(
			"SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'node3' AND state = 'streaming'"),
		'... node3 follows it');
	no_worker_paused('after the failed switchover', $node2, $node3);

	# what the hint says: the rejoin on node1's host (no ssh needed)
	run_block($layout, $_, \%hosts, $net, 'the rejoin after the failed switchover') foreach @{ $step{rejoin} };
	check_rejoined('after the failed switchover and the rejoin', $layout, $node1, $node2, $node3);
	exchange_keys(\%hosts);
	$node1->start_sshd("$keydir/ssh_host_key");

	# after the failovers, rejoins and switchovers: no worker said it
	# monitors itself as its upstream
	is($node2->safe_psql(
			"SELECT count(*) FROM repmgr.repl_events e JOIN repmgr.repl_nodes n ON n.id = e.node_id "
			  . "WHERE e.event = 'repmgrd_start' AND e.details LIKE '%upstream node \"' || n.name || '\"%'"),
		'0', 'no repmgrd_start event names the node itself as its upstream');

	keep_logs(\%hosts, $layout);
	done_testing();
	return;
}

1;

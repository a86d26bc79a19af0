
# Chaos.pm
#    Fault cycles on a real cluster in network namespaces ("make chaos",
#    bench/chaos.pl, and its short version t/netns/040_chaos_short.pl).
#
#    The cluster: a primary, three standbys and a witness, each server in
#    its own namespace (t/NetnsCluster.pm), at the shipped settings, with
#    synchronous replication if asked: sync => 1, synchronous_standby_names
#    = 'ANY 1 (node1, node2, node3, node4)' written on every data node;
#    sync => 'on' or 'strict', managed by repmgr (repmgr.synchronous, with
#    wal_retrieve_retry_interval = 500ms as README advises).
#
#    The probers (bench/prober, one row committed every few ms, timestamps
#    of CLOCK_MONOTONIC, the same clock for all of them) run for the whole
#    session:
#      - "app": in the root namespace, through the multi-host read-write
#        connection string an application would use;
#      - "n<i>": inside the namespace of data node i, to 127.0.0.1, so it
#        keeps writing to its own node whatever happens to the network.
#    Each prober writes to its own table (chaos_app, chaos_n<i>), which
#    replicates like any other.
#
#    A cycle starts from a healthy cluster (one primary that is not fenced,
#    every standby streaming from it, the witness watching it, the
#    application writing), injects one fault into the current primary (or
#    around it), waits for the application to write to a new primary,
#    undoes the fault, lets the old primary be for a while (it must not
#    accept a write), rejoins it with "repmgr node rejoin --force-rewind"
#    and waits for the cluster to be healthy again.  Then, from the
#    probers' output over the cycle:
#      failover ms   fault -> first write the application got acknowledged
#                    by another node than the old primary;
#      gap ms        longest time between two writes acknowledged to the
#                    application;
#      two-primary   for every two nodes that acknowledged writes in the
#      ms            cycle (any prober), the overlap of [first write
#                    started, last write acknowledged]: more than 0 means
#                    that two nodes acknowledged writes at the same time
#                    (counted generously: a write in flight counts from its
#                    start to its acknowledgement);
#      lost          writes acknowledged (any prober, any node) but missing
#                    on the primary after healing;
#      healed        the cluster came back healthy (within the deadlines).
#
#    The faults (each on the primary of the cycle, P; S are the standbys in
#    order of node id, W the witness):
#      kill9           kill -9 of P's postmaster;
#      sigstop         SIGSTOP of every process of P's server for stop_s
#                      (20 s), then SIGCONT;
#      linkdown        P's link to the bridge down until the application
#                      writes to a new primary (and hold_s more);
#      reject          iptables in P's namespace: every TCP packet arriving
#                      over the network answered by a reset (connections
#                      refused, while P serves local clients);
#      oneway          iptables in P's namespace drops what P sends (or,
#                      by the seed, what it receives) over the network;
#      witness_primary P and W cut off together from the standbys;
#      restart         kill -9 of P, and once another node is primary P is
#                      started again as it was, without rejoin;
#      two_candidates  S1 and S2 cannot see each other, then kill -9 of P
#                      (as t/netns/034);
#      standby_killed  kill -9 of P, then kill -9 of a standby (by the
#                      seed: the candidate or a voter) as soon as a node
#                      logs that it is candidate; it is started again
#                      afterwards.

package Chaos;

use strict;
use warnings;

use Carp;
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use NetnsCluster;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC usleep);

our @FAULTS = qw(kill9 sigstop linkdown reject oneway witness_primary restart
  two_candidates standby_killed);

my $USER = $ENV{REPMGR_TEST_USER} // 'repmgrtest';

# milliseconds of CLOCK_MONOTONIC, the clock of bench/prober's output
sub mono_ms
{
	return int(clock_gettime(CLOCK_MONOTONIC) * 1000.0);
}

# options: cycles, faults (list, taken round-robin, each round shuffled by
# the seed), seed, sync, stop_s (SIGSTOP), hold_s (partition held after the
# new primary writes), observe_s (the old primary left alone after the
# fault is undone), tag (directory and log names; default "chaos" and the
# replication mode, as sync_suffix)
sub new
{
	my ($class, %opts) = @_;
	my $self = bless {
		cycles => $opts{cycles} // 20,
		faults => $opts{faults} // [@FAULTS],
		seed => $opts{seed} // time(),
		sync => $opts{sync} || 0,
		stop_s => $opts{stop_s} // 20,
		hold_s => $opts{hold_s} // 3,
		observe_s => $opts{observe_s} // 5,
		failover_s => $opts{failover_s} // 90,
		heal_s => $opts{heal_s} // 120,
		tag => $opts{tag},
		check_crash_median => $opts{check_crash_median},
		results => [],
	}, $class;
	foreach my $f (@{ $self->{faults} })
	{
		croak "unknown fault $f (known: @FAULTS)" unless grep { $_ eq $f } @FAULTS;
	}
	$self->{tag} //= 'chaos' . $self->sync_suffix('_');
	$self->{dir} = "$ENV{TESTDIR}/tmp_check_netns/$self->{tag}";
	make_path($self->{dir});
	srand($self->{seed});
	# the order of the faults: round-robin, each round in a random order
	my @order;
	while (@order < $self->{cycles})
	{
		my @round = @{ $self->{faults} };
		for (my $i = $#round; $i > 0; $i--)
		{
			my $j = int(rand($i + 1));
			@round[ $i, $j ] = @round[ $j, $i ];
		}
		push @order, @round;
	}
	$self->{order} = [ @order[ 0 .. $self->{cycles} - 1 ] ];
	# to print wall-clock times the servers' logs can be read against
	$self->{wall_offset} = Time::HiRes::time() * 1000.0 - mono_ms();
	$ENV{PGCONNECT_TIMEOUT} = 2;
	return $self;
}

sub wall
{
	my ($self, $mono) = @_;
	my $t = ($mono + $self->{wall_offset}) / 1000.0;
	return sprintf('%s.%03d', POSIX::strftime('%H:%M:%S', gmtime($t)), int(($t - int($t)) * 1000));
}

sub note_line
{
	my ($self, $line) = @_;
	diag($line);
	open my $fh, '>>', "$self->{dir}/chaos.log" or die $!;
	print $fh $self->wall(mono_ms()) . " $line\n";
	close $fh;
	return;
}

# ---- commands with deadlines

# run a command; returns (ok, stdout, stderr); never dies (a timeout is a failure)
sub run_cmd
{
	my ($timeout, @cmd) = @_;
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout($timeout));
	};
	$err .= "\n$@" if $@;
	return ($ok ? 1 : 0, $out, $err);
}

# one query over the bridge (or inside the namespace, local => 1); undef on failure
sub query
{
	my ($node, $sql, %opts) = @_;
	my @cmd = ('psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1',
		'-h', $opts{local} ? '127.0.0.1' : $node->ip, '-p', $node->port,
		'-U', $USER, '-d', 'repmgr', '-c', $sql);
	@cmd = ('ip', 'netns', 'exec', $node->ns, @cmd) if $opts{local};
	my ($ok, $out) = run_cmd($opts{timeout} // 5, @cmd);
	return undef unless $ok;
	chomp $out;
	return $out;
}

# poll $cond every $every_ms until true or $timeout_s passed; reads the
# probers' output meanwhile
sub poll
{
	my ($self, $every_ms, $timeout_s, $cond) = @_;
	my $deadline = mono_ms() + $timeout_s * 1000;
	my $n = 0;
	while (mono_ms() < $deadline && $n++ < 1_000_000)
	{
		$self->read_probers;
		my $r = $cond->();
		return $r if $r;
		usleep($every_ms * 1000);
	}
	return 0;
}

# let the cluster be for $s seconds (a fault parameter, not a wait for a
# condition), reading the probers' output
sub let_be
{
	my ($self, $s) = @_;
	$self->poll(50, $s, sub { 0 });
	return;
}

# ---- the cluster

sub setup
{
	my ($self) = @_;
	netns_setup();
	# a cluster rebuilt after a cycle that did not heal is a new generation
	$self->{gen}++;
	my %o = (test => $self->{tag} . ($self->{gen} > 1 ? "_g$self->{gen}" : ''));
	my %conf = (conf => { log_min_messages => 'info', $self->managed_sync ?
		('repmgr.synchronous' => $self->{sync}, wal_retrieve_retry_interval => '500ms') : () });
	my $n1 = NetnsCluster->new('node1', 1, %o)->init_primary(1, %conf);
	$n1->register_primary;
	my @data = ($n1);
	foreach my $i (2 .. 4)
	{
		my $n = NetnsCluster->new("node$i", $i, %o)->init_standby($n1, $i, %conf);
		$n->register_standby;
		push @data, $n;
	}
	# the witness: a separate instance in namespace rpm5
	my $w = NetnsCluster->new('witness', 5, %o)->init_witness($n1, 5, conf => { log_min_messages => 'info' });
	$self->{data} = \@data;
	$self->{witness} = $w;
	$self->{nodes} = { map { $_->{id} => $_ } (@data, $w) };
	foreach my $n (@data, $w)
	{
		$self->write_repmgr_conf($n);
	}
	foreach my $i (1 .. 4)
	{
		$n1->safe_psql("CREATE TABLE chaos_n$i (probe int, seq bigint, node int)");
		$n1->safe_psql("CREATE INDEX ON chaos_n$i (seq)");
	}
	$n1->safe_psql('CREATE TABLE chaos_app (probe int, seq bigint, node int)');
	$n1->safe_psql('CREATE INDEX ON chaos_app (seq)');
	# synchronous replication once every standby is there (a primary with
	# it and no standby yet would wait for ever)
	if ($self->managed_sync)
	{
		# the primary's worker publishes the set once the standbys stream
		$self->poll(100, 60, sub {
			(query($n1, 'SELECT count(*) FROM repmgr.repl_sync WHERE quorum > 0') // '') eq '1' })
		  or die "no synchronous set published by node1 within 60 s";
	}
	elsif ($self->{sync})
	{
		foreach my $n (@data)
		{
			$n->safe_psql("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (node1, node2, node3, node4)'");
			$n->safe_psql('SELECT pg_reload_conf()');
		}
	}
	$self->{primary} = $n1;
	return;
}

# repmgr.synchronous on or strict (not synchronous_standby_names by hand)
sub managed_sync
{
	my ($self) = @_;
	return $self->{sync} && $self->{sync} =~ /^(on|strict)$/;
}

# the name part for this replication mode, words joined by $sep:
# "" (asynchronous), "${sep}sync" (by hand) or "${sep}sync${sep}on"
sub sync_suffix
{
	my ($self, $sep) = @_;
	return '' unless $self->{sync};
	return $self->managed_sync ? "${sep}sync${sep}$self->{sync}" : "${sep}sync";
}

# "synchronous", or "synchronous (repmgr.synchronous = on)"
sub sync_text
{
	my ($self) = @_;
	return 'asynchronous' unless $self->{sync};
	return $self->managed_sync ? "synchronous (repmgr.synchronous = $self->{sync})" : 'synchronous';
}

# the repmgr.conf "node rejoin" reads
sub write_repmgr_conf
{
	my ($self, $n) = @_;
	my $path = "$self->{dir}/repmgr_$n->{name}_g$self->{gen}.conf";
	open my $fh, '>', $path or die "$path: $!";
	print $fh "# repmgr.conf of $n->{name}\n";
	print $fh "cluster=chaos\nnode=$n->{id}\nnode_name=$n->{name}\n";
	print $fh "conninfo='" . $n->conninfo . "'\n";
	print $fh "data_directory='" . $n->data_dir . "'\n";
	print $fh "pg_ctl_options='-l " . $n->logfile . "'\n";
	close $fh;
	chmod 0644, $path;
	$n->{repmgr_conf} = $path;
	return;
}

sub start_probers
{
	my ($self) = @_;
	my $bin = "$ENV{TESTDIR}/bench/prober";
	my $quiet = "options='-c log_min_messages=fatal -c log_min_error_statement=panic'";
	my @p;
	my $multi = sprintf('host=%s port=5432 dbname=repmgr user=%s target_session_attrs=read-write connect_timeout=1 %s',
		join(',', map { $_->ip } @{ $self->{data} }), $USER, $quiet);
	push @p, { tag => 'app', table => 'chaos_app',
		cmd => [ $bin, '-c', $multi, '-i', 5, '-t', 'chaos_app' ] };
	foreach my $n (@{ $self->{data} })
	{
		push @p, { tag => "n$n->{id}", table => "chaos_n$n->{id}",
			cmd => [ 'ip', 'netns', 'exec', $n->ns, $bin,
				'-c', "host=127.0.0.1 port=5432 dbname=repmgr user=$USER connect_timeout=1 $quiet",
				'-i', 10, '-R', 500, '-t', "chaos_n$n->{id}" ] };
	}
	foreach my $p (@p)
	{
		$p->{out} = "$self->{dir}/prober_$p->{tag}_g$self->{gen}.out";
		$p->{pos} = 0;
		$p->{rows} = [];
		push @{ $p->{cmd} }, '-d', 6 * 3600 * 1000, '-o', $p->{out};
		$p->{handle} = IPC::Run::start($p->{cmd}, '<', \undef, '>', \my $o, '2>', \my $e);
	}
	$self->{probers} = \@p;
	return;
}

sub stop_probers
{
	my ($self) = @_;
	foreach my $p (@{ $self->{probers} // [] })
	{
		eval { $p->{handle}->signal('TERM'); $p->{handle}->finish; };
	}
	$self->{probers} = [];
	return;
}

# everything down, for a rebuild
sub teardown
{
	my ($self) = @_;
	$self->stop_probers;
	foreach my $n (@{ $self->{data} }, $self->{witness})
	{
		kill 'CONT', server_pids($n);
		$self->stop_node($n);
	}
	NetnsCluster::teardown_network();
	delete $self->{t_next};
	return;
}

# the new lines of each prober's output, parsed, added to its rows
sub read_probers
{
	my ($self) = @_;
	foreach my $p (@{ $self->{probers} })
	{
		open my $fh, '<:raw', $p->{out} or next;
		seek $fh, $p->{pos}, 0;
		my $n = 0;
		while (defined(my $line = <$fh>))
		{
			last unless $line =~ /\n\z/;    # a line still being written
			$p->{pos} += length $line;
			chomp $line;
			my ($status, $probe, $seq, $t0, $t1, $what) = split /\t/, $line, 6;
			push @{ $p->{rows} }, { ok => $status eq 'ok', seq => $seq, start => $t0,
				end => $t1, node => $what, prober => $p->{tag} };
			last if ++$n > 1_000_000;
		}
		close $fh;
	}
	return;
}

# acknowledged rows of a prober (or of all) since $t
sub acks
{
	my ($self, $t, $tag) = @_;
	return grep { $_->{ok} && $_->{start} >= $t }
	  map { @{ $_->{rows} } } grep { !defined $tag || $_->{tag} eq $tag } @{ $self->{probers} };
}

# ---- processes

# pids of a node's server: the postmaster and its descendants
sub server_pids
{
	my ($node) = @_;
	my $pidfile = $node->data_dir . '/postmaster.pid';
	return () unless -f $pidfile;
	my ($pm) = split /\n/, slurp_file($pidfile);
	return () unless $pm && kill(0, $pm);
	my %children;
	opendir my $dh, '/proc' or die $!;
	foreach my $pid (grep { /^\d+$/ } readdir $dh)
	{
		open my $fh, '<', "/proc/$pid/stat" or next;
		my $stat = <$fh> // '';
		close $fh;
		push @{ $children{$1} }, $pid if $stat =~ /\)\s+\S+\s+(\d+)/;
	}
	closedir $dh;
	my @all = ($pm);
	for (my $i = 0; $i < @all && $i < 10_000; $i++)
	{
		push @all, @{ $children{ $all[$i] } // [] };
	}
	return @all;
}

sub kill9
{
	my ($self, $node) = @_;
	my @pids = server_pids($node);
	$node->kill9;
	$node->{dead_pids} = \@pids;
	return;
}

# is the server of $node running (its postmaster, or any process it left)?
sub running
{
	my ($node) = @_;
	return 1 if server_pids($node);
	return scalar(grep { kill(0, $_) } @{ $node->{dead_pids} // [] });
}

sub start_node
{
	my ($self, $node) = @_;
	# the processes of a killed server must be gone before it starts again
	$self->poll(50, 30, sub { !running($node) });
	delete $node->{dead_pids};
	my ($ok, $out, $err) = run_cmd(120, 'ip', 'netns', 'exec', $node->ns, 'runuser', '-u', $USER, '--',
		'pg_ctl', '-w', '-t', '100', '-D', $node->data_dir, '-l', $node->logfile, 'start');
	$node->{started} = 1;
	return $ok;
}

sub stop_node
{
	my ($self, $node) = @_;
	foreach my $mode ('fast', 'immediate')
	{
		last unless server_pids($node);
		run_cmd(60, 'ip', 'netns', 'exec', $node->ns, 'runuser', '-u', $USER, '--',
			'pg_ctl', '-w', '-t', '50', '-D', $node->data_dir, '-m', $mode, 'stop');
	}
	$self->poll(50, 30, sub { !running($node) });
	$node->{started} = 0;
	return !running($node);
}

sub iptables
{
	my ($node, @args) = @_;
	my ($ok, $out, $err) = run_cmd(30, 'ip', 'netns', 'exec', $node->ns, 'iptables', @args);
	croak "iptables @args in " . $node->ns . " failed: $err" unless $ok;
	return;
}

# ---- health

# the cluster is healthy with $p as primary: returns '' or what is not
sub unhealthy
{
	my ($self, $p) = @_;
	my @why;
	my $r = query($p, 'SELECT NOT pg_is_in_recovery() AND state = \'monitoring as primary\' AND NOT fenced FROM repmgr.daemon_status()');
	push @why, "$p->{name} not a working primary" unless defined $r && $r eq 't';
	foreach my $s (grep { $_ != $p } @{ $self->{data} })
	{
		$r = query($s, "SELECT pg_is_in_recovery() AND d.state = 'monitoring upstream' AND d.upstream_node_id = $p->{id} "
			  . "AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' AND sender_host = '"
			  . $p->ip . "') FROM repmgr.daemon_status() d");
		push @why, "$s->{name} not streaming from $p->{name}" unless defined $r && $r eq 't';
	}
	my $w = $self->{witness};
	$r = query($w, "SELECT state = 'monitoring as witness' AND upstream_node_id = $p->{id} FROM repmgr.daemon_status()");
	push @why, "witness not watching $p->{name}" unless defined $r && $r eq 't';
	return join(', ', @why);
}

sub wait_healthy
{
	my ($self, $p, $timeout) = @_;
	my $why = '';
	my $t = mono_ms();
	my $ok = $self->poll(300, $timeout, sub {
		$why = $self->unhealthy($p);
		return $why eq '' && scalar($self->acks($t, 'app')) >= 10
		  && (grep { $_->{node} eq $p->{id} } $self->acks($t, 'app')) >= 10;
	});
	return ($ok, $why);
}

# ---- one cycle

sub run
{
	my ($self) = @_;
	$self->note_line(sprintf('chaos: %d cycles, %s replication, seed %d, faults: %s',
		$self->{cycles}, $self->sync_text, $self->{seed},
		join(' ', @{ $self->{order} })));
	my $k = 0;
	my $up = 0;
	foreach my $fault (@{ $self->{order} })
	{
		$k++;
		if (!$up)
		{
			$self->setup;
			$self->start_probers;
			my ($ok, $why) = $self->wait_healthy($self->{primary}, $self->{heal_s});
			BAIL_OUT("the cluster did not come up healthy: $why") unless $ok;
			$self->note_line("cluster (generation $self->{gen}) up and healthy") if $self->{gen} > 1;
			$up = 1;
		}
		my $r = $self->cycle($k, $fault);
		push @{ $self->{results} }, $r;
		$self->note_line($self->cycle_line($r));
		ok($r->{two_primary_ms} == 0, "cycle $k ($fault): never two nodes acknowledging writes")
		  or diag($r->{two_primary_detail});
		ok(defined $r->{lost} && $r->{lost} == 0,
			"cycle $k ($fault): no acknowledged write lost (synchronous replication)")
		  or diag($r->{lost_detail})
		  if $self->{sync};
		ok($r->{healed}, "cycle $k ($fault): healed") or diag("not healed: $r->{heal_why}");
		if (!$r->{healed} && $k < $self->{cycles})
		{
			# the next cycle needs a healthy cluster: a new one
			$self->note_line("cycle $k did not heal: the cluster is rebuilt for the next cycle");
			$self->teardown;
			$up = 0;
		}
	}
	$self->stop_probers;
	$self->summary;
	return;
}

sub cycle
{
	my ($self, $k, $fault) = @_;
	my $p = $self->{primary};
	my @s = sort { $a->{id} <=> $b->{id} } grep { $_ != $p } @{ $self->{data} };
	my $c = { k => $k, fault => $fault, old => $p, standbys => \@s, notes => [] };
	# cycles back to back: this one starts where the last one ended
	$c->{t_start} = $self->{t_next} // mono_ms();
	$self->read_probers;
	foreach my $pr (@{ $self->{probers} })
	{
		$pr->{rows} = [ grep { $_->{start} >= $c->{t_start} } @{ $pr->{rows} } ];
	}
	$self->let_be(1);    # writes before the fault
	my $method = "fault_$fault";
	$self->$method($c);
	$self->heal($c);
	$self->read_probers;
	$c->{t_end} = mono_ms();
	$self->{t_next} = $c->{t_end};
	return $self->analyse($c);
}

sub new_primary_row
{
	my ($self, $c) = @_;
	my ($row) = grep { $_->{node} ne $c->{old}{id} } $self->acks($c->{t_fault}, 'app');
	return $row;
}

# wait until the application writes to another node than the old primary
sub wait_failover
{
	my ($self, $c, $timeout) = @_;
	my $row = $self->poll(20, $timeout // $self->{failover_s}, sub { $self->new_primary_row($c) });
	if ($row)
	{
		$c->{t_new} = $row->{end};
		$c->{new} = $self->{nodes}{ $row->{node} };
	}
	return $row;
}

sub fault_kill9
{
	my ($self, $c) = @_;
	$c->{t_fault} = mono_ms();
	$self->kill9($c->{old});
	$self->wait_failover($c);
	return;
}

sub fault_restart
{
	my ($self, $c) = @_;
	$c->{t_fault} = mono_ms();
	$self->kill9($c->{old});
	return unless $self->wait_failover($c);
	$self->start_node($c->{old}) or push @{ $c->{notes} }, 'the old primary did not start';
	push @{ $c->{notes} }, 'old primary restarted at +' . (mono_ms() - $c->{t_fault}) . ' ms';
	$self->let_be($self->{observe_s});
	return;
}

sub fault_sigstop
{
	my ($self, $c) = @_;
	my @pids = server_pids($c->{old});
	$c->{t_fault} = mono_ms();
	kill 'STOP', @pids;
	$self->wait_failover($c, $self->{stop_s});
	$self->poll(50, $self->{stop_s}, sub { mono_ms() >= $c->{t_fault} + $self->{stop_s} * 1000 });
	kill 'CONT', reverse @pids;
	push @{ $c->{notes} }, sprintf('%d processes stopped for %d ms', scalar(@pids), mono_ms() - $c->{t_fault});
	$self->wait_failover($c) unless $c->{new};
	$self->let_be($self->{observe_s});
	return;
}

# a partition: $cut->() makes it, $mend->() undoes it
sub partition
{
	my ($self, $c, $cut, $mend) = @_;
	$c->{t_fault} = mono_ms();
	$cut->();
	$self->let_be($self->{hold_s}) if $self->wait_failover($c);
	$mend->();
	push @{ $c->{notes} }, 'partition healed at +' . (mono_ms() - $c->{t_fault}) . ' ms';
	$self->let_be($self->{observe_s});
	return;
}

sub fault_linkdown
{
	my ($self, $c) = @_;
	$self->partition($c, sub { $c->{old}->isolate }, sub { $c->{old}->heal });
	return;
}

sub fault_reject
{
	my ($self, $c) = @_;
	my $p = $c->{old};
	$self->partition($c,
		sub { iptables($p, '-A', 'INPUT', '-i', 'eth0', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset') },
		sub { iptables($p, '-F', 'INPUT') });
	return;
}

sub fault_oneway
{
	my ($self, $c) = @_;
	my $p = $c->{old};
	my $dir = rand() < 0.5 ? 'out' : 'in';
	push @{ $c->{notes} }, $dir eq 'out' ? "what $p->{name} sends is dropped" : "what $p->{name} receives is dropped";
	my @rule = $dir eq 'out' ? ('OUTPUT', '-o', 'eth0', '-j', 'DROP') : ('INPUT', '-i', 'eth0', '-j', 'DROP');
	$self->partition($c, sub { iptables($p, '-A', @rule) }, sub { iptables($p, '-D', @rule) });
	return;
}

sub fault_witness_primary
{
	my ($self, $c) = @_;
	my @pairs;
	foreach my $x ($c->{old}, $self->{witness})
	{
		push @pairs, [ $x, $_ ] foreach @{ $c->{standbys} };
	}
	$self->partition($c,
		sub { $_->[0]->block_path($_->[1]) foreach @pairs },
		sub { $_->[0]->unblock_path($_->[1]) foreach @pairs });
	return;
}

sub fault_two_candidates
{
	my ($self, $c) = @_;
	my ($x, $y) = @{ $c->{standbys} };
	push @{ $c->{notes} }, "$x->{name} and $y->{name} cannot see each other";
	$x->block_path($y);
	$c->{t_fault} = mono_ms();
	$self->kill9($c->{old});
	$self->let_be($self->{hold_s}) if $self->wait_failover($c);
	$x->unblock_path($y);
	return;
}

sub fault_standby_killed
{
	my ($self, $c) = @_;
	my %pos = map { $_->{id} => -s $_->logfile } @{ $c->{standbys} };
	my $victim_is_candidate = rand() < 0.5;
	$c->{t_fault} = mono_ms();
	$self->kill9($c->{old});
	# the first standby to say it is candidate
	my $cand = $self->poll(20, $self->{failover_s}, sub {
		foreach my $s (@{ $c->{standbys} })
		{
			open my $fh, '<', $s->logfile or next;
			seek $fh, $pos{ $s->{id} } // 0, 0;
			local $/;
			my $new = <$fh> // '';
			close $fh;
			return $s if $new =~ /node \d+ is candidate/;
		}
		return 0;
	});
	my $victim;
	if (!$cand)
	{
		push @{ $c->{notes} }, 'no node said it was candidate';
		$victim = $c->{standbys}[-1];
	}
	elsif ($victim_is_candidate)
	{
		$victim = $cand;
	}
	else
	{
		($victim) = grep { $_ != $cand } @{ $c->{standbys} };
	}
	$self->kill9($victim);
	push @{ $c->{notes} }, sprintf('%s killed at +%d ms (%s)', $victim->{name}, mono_ms() - $c->{t_fault},
		$cand ? ($victim == $cand ? 'the candidate' : "a voter; $cand->{name} was candidate") : 'no candidate seen');
	$c->{killed_standby} = $victim;
	$self->wait_failover($c);
	$self->start_node($victim);
	return;
}

# ---- healing

sub rejoin
{
	my ($self, $c, $node, $primary) = @_;
	$self->stop_node($node) or push @{ $c->{notes} }, "$node->{name} would not stop";
	my ($ok, $out, $err) = run_cmd(300, 'ip', 'netns', 'exec', $node->ns, 'runuser', '-u', $USER, '--',
		'repmgr', '-f', $node->{repmgr_conf}, '-d', $primary->conninfo, '--force-rewind', 'node', 'rejoin');
	open my $fh, '>>', "$self->{dir}/rejoin.log" or die $!;
	printf $fh "==== cycle %d: %s rejoins %s: %s\n%s%s\n", $c->{k}, $node->{name}, $primary->{name},
	  $ok ? 'ok' : 'FAILED', $out, $err;
	close $fh;
	$node->{started} = 1 if server_pids($node);
	push @{ $c->{notes} }, "$node->{name} rejoined" . ($ok ? '' : ' (FAILED, see rejoin.log)')
	  . ("$out$err" =~ /pg_rewind is needed/ ? ' with pg_rewind' : '');
	return $ok;
}

sub heal
{
	my ($self, $c) = @_;
	my $t0 = mono_ms();
	# the primary to heal around: the one data node that is a working
	# primary once the dust settled: not in recovery, not fenced, and its
	# new sessions may write (a primary without its lease, fenced or not,
	# makes them read-only)
	my @working;
	$self->poll(300, 30, sub {
		@working = grep {
			my $r = query($_, "SELECT NOT pg_is_in_recovery() AND NOT fenced "
				  . "AND current_setting('transaction_read_only') = 'off' FROM repmgr.daemon_status()");
			defined $r && $r eq 't' } @{ $self->{data} };
		return @working == 1;
	});
	if (@working != 1)
	{
		$c->{healed} = 0;
		$c->{heal_why} = @working ? 'more than one working primary: ' . join(', ', map { $_->{name} } @working)
		  : 'no working primary';
		$c->{heal_ms} = mono_ms() - $t0;
		return;
	}
	my $new = $working[0];
	push @{ $c->{notes} }, 'no failover' if $new == $c->{old};
	push @{ $c->{notes} }, "the working primary is $new->{name}, not $c->{new}{name}"
	  if $c->{new} && $c->{new} != $new;
	if ($new != $c->{old})
	{
		$self->rejoin($c, $c->{old}, $new);
	}
	my ($ok, $why) = $self->wait_healthy($new, $self->{heal_s} / 2);
	if (!$ok)
	{
		# standbys that did not come back on their own are rejoined too
		push @{ $c->{notes} }, "not healthy after the rejoin ($why)";
		foreach my $s (grep { $_ != $new } @{ $self->{data} })
		{
			$self->rejoin($c, $s, $new) if $why =~ /\Q$s->{name}\E not streaming/;
		}
		($ok, $why) = $self->wait_healthy($new, $self->{heal_s} / 2);
	}
	$c->{healed} = $ok ? 1 : 0;
	$c->{heal_why} = $why;
	$c->{heal_ms} = mono_ms() - $t0;
	$c->{final} = $new;
	$self->{primary} = $new;
	return;
}

# ---- analysis

sub analyse
{
	my ($self, $c) = @_;
	my $old = $c->{old};
	my @all = $self->acks($c->{t_start});
	my @app = sort { $a->{end} <=> $b->{end} } $self->acks($c->{t_start}, 'app');
	my %r = (cycle => $c->{k}, fault => $c->{fault}, old => $old->{name},
		new => $c->{new} ? $c->{new}{name} : undef, healed => $c->{healed},
		heal_why => $c->{heal_why}, heal_ms => $c->{heal_ms}, notes => $c->{notes},
		acked => scalar(@all), sync => $self->{sync},
		fault_at => $self->wall($c->{t_fault}));
	$r{failover_ms} = $c->{new} ? $c->{t_new} - $c->{t_fault} : undef;

	# the longest time without a write acknowledged to the application
	my $gap = 0;
	for my $i (1 .. $#app)
	{
		my $g = $app[$i]{end} - $app[ $i - 1 ]{end};
		$gap = $g if $g > $gap;
	}
	$r{gap_ms} = $gap;

	# two nodes acknowledging writes at the same time
	my %span;
	foreach my $w (@all)
	{
		my $s = $span{ $w->{node} } //= { first => $w, last => $w };
		$s->{first} = $w if $w->{start} < $s->{first}{start};
		$s->{last} = $w if $w->{end} > $s->{last}{end};
	}
	my ($worst, $detail) = (0, '');
	my @ids = sort keys %span;
	foreach my $i (0 .. $#ids)
	{
		foreach my $j ($i + 1 .. $#ids)
		{
			my ($x, $y) = @span{ @ids[ $i, $j ] };
			my $lo = $x->{first}{start} > $y->{first}{start} ? $x->{first} : $y->{first};
			my $hi = $x->{last}{end} < $y->{last}{end} ? $x->{last} : $y->{last};
			my $overlap = $hi->{end} - $lo->{start};
			next unless $overlap > 0;
			my $line = sprintf('nodes %s and %s both acknowledged writes for %d ms: node %s\'s first write in the cycle '
				  . 'started %s (prober %s, seq %d), node %s acknowledged a write at %s (prober %s, seq %d, started %s)',
				$ids[$i], $ids[$j], $overlap, $lo->{node}, $self->wall($lo->{start}), $lo->{prober}, $lo->{seq},
				$hi->{node}, $self->wall($hi->{end}), $hi->{prober}, $hi->{seq}, $self->wall($hi->{start}));
			$detail .= "$line\n";
			$worst = $overlap if $overlap > $worst;
		}
	}
	$r{two_primary_ms} = $worst;
	$r{two_primary_detail} = $detail;
	$r{nodes_acked} = join(',', @ids);

	# acknowledged writes missing on the primary after healing
	my $final = $c->{final};
	my ($lost, @lost_detail) = (0);
	foreach my $p ($final ? @{ $self->{probers} } : ())
	{
		my @mine = grep { $_->{prober} eq $p->{tag} } @all;
		next unless @mine;
		my ($lo, $hi) = ($mine[0]{seq}, $mine[-1]{seq});
		my $have = query($final, "SELECT string_agg(seq::text, ',') FROM $p->{table} WHERE seq BETWEEN $lo AND $hi",
			timeout => 30);
		if (!defined $have)
		{
			push @lost_detail, "$p->{table}: could not read it on $final->{name}";
			$lost += scalar @mine;
			next;
		}
		my %have = map { $_ => 1 } split /,/, $have;
		my @missing = grep { !$have{ $_->{seq} } } @mine;
		next unless @missing;
		$lost += scalar @missing;
		push @lost_detail, sprintf('%s: %d lost (acknowledged by node %s, seq %s)', $p->{table}, scalar @missing,
			join('/', sort keys %{ { map { $_->{node} => 1 } @missing } }),
			join(',', map { $_->{seq} } @missing[ 0 .. ($#missing < 9 ? $#missing : 9) ])
			  . (@missing > 10 ? ',...' : ''));
	}
	$r{lost} = $final ? $lost : undef;
	$r{lost_detail} = $final ? join('; ', @lost_detail) : 'no primary to compare with';
	$self->excerpt_logs($c, \%r);
	return \%r;
}

# the servers' log lines of the cycle, for reading what happened
sub excerpt_logs
{
	my ($self, $c, $r) = @_;
	my $file = sprintf('%s/cycle_%02d_%s.log', $self->{dir}, $c->{k}, $c->{fault});
	my ($from, $to) = ($self->wall($c->{t_start}), $self->wall($c->{t_end}));
	open my $out, '>', $file or die "$file: $!";
	print $out $self->cycle_line($r), "\n";
	print $out "$r->{two_primary_detail}" if $r->{two_primary_detail};
	print $out "lost: $r->{lost_detail}\n" if $r->{lost_detail};
	foreach my $n (@{ $self->{data} }, $self->{witness})
	{
		print $out "==== $n->{name}\n";
		open my $fh, '<', $n->logfile or next;
		while (my $line = <$fh>)
		{
			next unless $line =~ /^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d\.\d{3})/;
			next if $1 lt $from || $1 gt $to;
			print $out $line;
			# a node that takes another node than the new primary for the primary
			if ($c->{new} && $line =~ /node (\d+) is primary in term (\d+)/ && $1 != $c->{new}{id}
				&& !$r->{wrong_primary_seen}{"$n->{name}:$1"}++)
			{
				push @{ $r->{notes} }, "$n->{name} logged that node $1 is primary in term $2";
			}
		}
		close $fh;
	}
	close $out;
	$r->{log} = $file;
	return;
}

sub cycle_line
{
	my ($self, $r) = @_;
	return sprintf('cycle %2d %-15s %s -> %-7s failover %6s ms  gap %6d ms  two-primary %5d ms  lost %3s of %6d  healed %s%s',
		$r->{cycle}, $r->{fault}, $r->{old}, $r->{new} // 'none',
		$r->{failover_ms} // '-', $r->{gap_ms}, $r->{two_primary_ms}, $r->{lost} // '-', $r->{acked},
		$r->{healed} ? 'yes' : 'NO', @{ $r->{notes} } ? ' (' . join('; ', @{ $r->{notes} }) . ')' : '');
}

sub median
{
	my @v = sort { $a <=> $b } grep { defined } @_;
	return undef unless @v;
	return @v % 2 ? $v[ $#v / 2 ] : ($v[ @v / 2 - 1 ] + $v[ @v / 2 ]) / 2;
}

sub summary
{
	my ($self) = @_;
	my @r = @{ $self->{results} };
	my @lines;
	push @lines, sprintf('%d cycles, %s replication, seed %d', scalar @r,
		$self->sync_text, $self->{seed});
	push @lines, '',
	  '| fault | cycles | failover ms (min / median / max) | longest write gap ms | two primaries ms | acknowledged writes lost | healed |',
	  '| --- | --- | --- | --- | --- | --- | --- |';
	my %by;
	push @{ $by{ $_->{fault} } }, $_ foreach @r;
	foreach my $f ((grep { $by{$_} } @FAULTS), 'all')
	{
		my @c = $f eq 'all' ? @r : @{ $by{$f} };
		next unless @c;
		my @fo = sort { $a <=> $b } grep { defined } map { $_->{failover_ms} } @c;
		my $nofail = grep { !defined $_->{failover_ms} } @c;
		my $sum = sub { my $s = 0; $s += $_ foreach @_; return $s };
		my $max = sub { my $m = 0; foreach (@_) { $m = $_ if $_ > $m } return $m };
		push @lines, sprintf('| %s | %d | %s%s | %d | %d | %d of %d | %d of %d |',
			$f eq 'all' ? '**all**' : $f, scalar @c,
			@fo ? sprintf('%d / %d / %d', $fo[0], median(@fo), $fo[-1]) : '-',
			$nofail ? " ($nofail without failover)" : '',
			$max->(map { $_->{gap_ms} } @c), $max->(map { $_->{two_primary_ms} } @c),
			$sum->(map { $_->{lost} // 0 } @c), $sum->(map { $_->{acked} } @c),
			scalar(grep { $_->{healed} } @c), scalar @c);
	}
	my @crash = grep { defined } map { $_->{failover_ms} } grep { $_->{fault} eq 'kill9' } @r;
	my $crash_median = median(@crash);
	push @lines, '', sprintf('crash failover (kill9) median: %s ms', $crash_median // '-');
	my @two = grep { $_->{two_primary_ms} > 0 } @r;
	my @unhealed = grep { !$_->{healed} } @r;
	my $lost = 0;
	$lost += $_->{lost} // 0 foreach @r;
	push @lines, sprintf('two nodes acknowledging writes: %s', @two
		? join(', ', map { "cycle $_->{cycle} ($_->{fault}) $_->{two_primary_ms} ms" } @two) : 'never');
	push @lines, sprintf('acknowledged writes lost: %d%s', $lost,
		$lost ? ' (' . join('; ', map { "cycle $_->{cycle} ($_->{fault}): $_->{lost}" } grep { $_->{lost} } @r) . ')' : '');
	push @lines, sprintf('not healed: %s', @unhealed ? join(', ', map { "cycle $_->{cycle} ($_->{fault})" } @unhealed) : 'none');
	push @lines, sprintf('cluster rebuilt after a cycle that did not heal: %d times', $self->{gen} - 1)
	  if $self->{gen} > 1;
	$self->note_line($_) foreach @lines;

	my $out = $ENV{CHAOS_OUT} // "$self->{dir}/result";
	make_path($out);
	my $name = 'chaos' . ($self->{sync} ? $self->sync_suffix('-') : '-async');
	open my $fh, '>', "$out/$name.md" or die $!;
	print $fh "$_\n" foreach @lines;
	print $fh "\nPer cycle:\n\n```\n", join("\n", map { $self->cycle_line($_) } @r), "\n```\n";
	close $fh;
	open $fh, '>', "$out/$name.json" or die $!;
	print $fh JSON::PP->new->canonical->pretty->encode({ seed => $self->{seed}, sync => $self->{sync},
		order => $self->{order}, cycles => \@r });
	close $fh;
	$self->note_line("results in $out/$name.md and .json; server logs of each cycle in $self->{dir}/cycle_*.log");

	ok(@r == $self->{cycles}, 'every cycle ran');
	if ($self->{check_crash_median} && !$self->{sync} && @crash)
	{
		ok($crash_median <= 2500, "crash failover median $crash_median ms is at most 2500 ms");
	}
	return;
}

1;

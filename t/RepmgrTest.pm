
# RepmgrTest.pm
#    Helpers shared by the TAP tests of repmgr: nodes with the extension
#    loaded and configured, standbys cloned with pg_basebackup, SQL errors
#    with their SQLSTATE, and polling with a deadline.

package RepmgrTest;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(
  new_primary new_standby new_witness repmgr_conf conninfo
  sql_error poll_until register_primary register_standby
  worker_state wait_worker_state start_prober stop_prober prober_results
  start_after_kill write_file streams_from monitored_cluster log_matches
);

# write text to dir/name (the directory must exist); returns the path
sub write_file
{
	my ($dir, $name, $text) = @_;
	my $path = "$dir/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	return $path;
}

# settings every node of a test cluster gets
sub repmgr_conf
{
	my ($id, %opts) = @_;
	my $conf = <<"EOF";
shared_preload_libraries = 'repmgr'
max_connections = 40
wal_keep_size = '128MB'
repmgr.node_id = $id
repmgr.database = 'repmgr'
repmgr.connect_timeout = '1s'
EOF
	foreach my $k (sort keys %{ $opts{conf} // {} })
	{
		(my $v = $opts{conf}{$k}) =~ s/'/''/g;
		$conf .= "$k = '$v'\n";
	}
	return $conf;
}

# a running primary with database "repmgr" and the extension in it
sub new_primary
{
	my ($name, $id, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 1);
	$node->append_conf('postgresql.conf', repmgr_conf($id, %opts));
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE repmgr');
	$node->safe_psql('repmgr', 'CREATE EXTENSION repmgr');
	return $node;
}

# a running standby cloned with pg_basebackup from $upstream
sub new_standby
{
	my ($upstream, $name, $id, %opts) = @_;
	my $backup = "for_$name";
	$upstream->backup($backup);
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($upstream, $backup, has_streaming => 1);
	$node->append_conf('postgresql.conf', repmgr_conf($id, %opts));
	$node->append_conf('postgresql.conf',
		"primary_conninfo = '" . $upstream->connstr . " application_name=$name'");
	$node->start;
	return $node;
}

# a witness: a separate instance with the extension, registered with the
# primary
sub new_witness
{
	my ($primary, $name, $id, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', repmgr_conf($id, %opts));
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE repmgr');
	$node->safe_psql('repmgr', 'CREATE EXTENSION repmgr');
	$node->safe_psql('repmgr',
		sprintf("SELECT repmgr.witness_register(%d, '%s', '%s', '%s')",
			$id, $name, conninfo($node), conninfo($primary)));
	return $node;
}

# wait until a node runs as primary with every given standby streaming
# from it
sub streams_from
{
	my ($primary, @standbys) = @_;
	my $names = join(', ', map { "'" . $_->name . "'" } @standbys);
	my $n = scalar @standbys;
	return $primary->poll_query_until('postgres',
		"SELECT NOT pg_is_in_recovery() AND (SELECT count(*) FROM pg_stat_replication "
		  . "WHERE state = 'streaming' AND application_name IN ($names)) = $n");
}

# the worker's state on a node, from daemon_status()
sub worker_state
{
	my ($node) = @_;
	return $node->safe_psql('repmgr', 'SELECT state FROM repmgr.daemon_status()');
}

# wait until the worker of a node is in one of the given states
sub wait_worker_state
{
	my ($node, $timeout, @states) = @_;
	my $list = join(', ', map { "'$_'" } @states);
	return $node->poll_query_until('repmgr',
		"SELECT state IN ($list) FROM repmgr.daemon_status()");
}

# the write prober (bench/prober): a background process committing a row
# every few ms through conninfo; returns a handle for stop_prober
sub start_prober
{
	my ($conninfo, %opts) = @_;
	my $out = $opts{out} // PostgreSQL::Test::Utils::tempdir() . '/prober.out';
	my $prober = "$ENV{TESTDIR}/bench/prober";
	my @cmd = ($prober, '-c', $conninfo, '-i', $opts{interval} // 5,
		'-d', $opts{duration} // 600000, '-o', $out);
	push @cmd, '-T', $opts{timeout} if defined $opts{timeout};
	my $h = IPC::Run::start(\@cmd, '>', \my $stdout, '2>', \my $stderr);
	return { handle => $h, out => $out };
}

sub stop_prober
{
	my ($p) = @_;
	$p->{handle}->signal('TERM');
	$p->{handle}->finish;
	return prober_results($p->{out});
}

# parse the prober's output: list of { ok, seq, start, end, node|msg }
sub prober_results
{
	my ($file) = @_;
	my @rows;
	return @rows unless -f $file;
	foreach my $line (split /\n/, PostgreSQL::Test::Utils::slurp_file($file))
	{
		my ($status, $probe, $seq, $t0, $t1, $what) = split /\t/, $line, 6;
		push @rows, { ok => $status eq 'ok', probe => $probe, seq => $seq,
			start => $t0, end => $t1, node => $what };
	}
	return @rows;
}

# the connection string other nodes use to reach this node's repmgr database
sub conninfo
{
	my ($node) = @_;
	return sprintf("host=%s port=%d dbname=repmgr", $node->host, $node->port);
}

# run SQL that must fail; returns (SQLSTATE, message)
sub sql_error
{
	my ($node, $sql) = @_;
	my ($ret, $stdout, $stderr) =
	  $node->psql('repmgr', "\\set VERBOSITY verbose\n$sql");
	return ('00000', '') if $ret == 0;
	if ($stderr =~ /ERROR:\s+([0-9A-Z]{5}):\s+(.*)/)
	{
		return ($1, $2);
	}
	return ('?????', $stderr);
}

# poll a Perl condition every 50 ms until it holds or the deadline passes
sub poll_until
{
	my ($what, $timeout, $cond) = @_;
	my $deadline = time() + $timeout;
	while (time() < $deadline)
	{
		return 1 if $cond->();
		usleep(50_000);
	}
	diag("timed out after ${timeout}s waiting for: $what");
	return 0;
}

# Wait until a node's log (from byte offset on, if given) matches a pattern.
# The worker writes a log line after it publishes the state a test may have
# polled for (its step's effects run in order), so a line that follows a
# state is polled for too, never read once.
sub log_matches
{
	my ($node, $re, $timeout, $offset) = @_;
	return poll_until("/$re/ in the log of " . $node->name, $timeout // 30,
		sub { slurp_file($node->logfile, $offset // 0) =~ $re });
}

# Start a node stopped by kill9 once its old postmaster is gone: until the
# killed process is reaped, its PID in postmaster.pid is alive and the new
# postmaster refuses to start ("lock file ... already exists").
sub start_after_kill
{
	my ($node) = @_;
	my $pidfile = $node->data_dir . '/postmaster.pid';

	if (open(my $fh, '<', $pidfile))
	{
		my $pid = <$fh>;
		close($fh);
		chomp($pid) if defined $pid;
		poll_until("the killed postmaster $pid to be gone", 60, sub { !kill(0, $pid) })
		  if defined $pid && $pid =~ /^\d+$/;
	}
	# and its children, which still hold the shared memory (they run in
	# the data directory)
	my $dir = $node->data_dir;
	poll_until("the killed server's processes to be gone", 60,
		sub { !grep { (readlink($_) // '') eq $dir } glob('/proc/[0-9]*/cwd') });
	return $node->start;
}

sub register_primary
{
	my ($node, $id, %opts) = @_;
	my $extra = join('', map { ", $_ => '$opts{$_}'" } sort keys %opts);
	return $node->safe_psql('repmgr',
		sprintf("SELECT repmgr.primary_register(%d, '%s', '%s'%s)",
			$id, $node->name, conninfo($node), $extra));
}

sub register_standby
{
	my ($node, $id, %opts) = @_;
	my $extra = join('', map { ", $_ => '$opts{$_}'" } sort keys %opts);
	return $node->safe_psql('repmgr',
		sprintf("SELECT repmgr.standby_register(%d, '%s', '%s'%s)",
			$id, $node->name, conninfo($node), $extra));
}

# A registered cluster, every worker monitoring (each checked): primary "p"
# (node 1), standbys "s1" ... "sN" (nodes 2 ... N + 1), with witness => 1 a
# witness "w" (node N + 2).  conf => { GUC => value } for every node;
# priority => { node id => priority } for standbys.  Returns ($primary,
# [standbys], $witness or undef).
sub monitored_cluster
{
	my (%opts) = @_;
	my %conf = (conf => $opts{conf} // {});
	my $p = new_primary('p', 1, %conf);
	register_primary($p, 1);
	my @standbys;
	for my $i (1 .. $opts{standbys})
	{
		my $id = $i + 1;
		my $s = new_standby($p, "s$i", $id, %conf);
		register_standby($s, $id,
			(defined $opts{priority}{$id} ? (priority => $opts{priority}{$id}) : ()));
		push @standbys, $s;
	}
	my $w = $opts{witness} ? new_witness($p, 'w', $opts{standbys} + 2, %conf) : undef;
	foreach my $n ($p, @standbys, $w // ())
	{
		ok(wait_worker_state($n, 30, 'monitoring as primary', 'monitoring upstream', 'monitoring as witness'),
			$n->name . ': worker monitoring');
	}
	return ($p, \@standbys, $w);
}

1;


# NetnsCluster.pm
#    Nodes for partition tests: each PostgreSQL server in its own network
#    namespace, joined to the others by a bridge, so that a test can cut a
#    node (or a pair of nodes, or a location) off the network for real.
#
#    Network namespaces need root: the test runs as root (make
#    installcheck-netns, from scripts/test.sh) and the servers run as the
#    unprivileged REPMGR_TEST_USER.  Without root the tests skip.
#
#    Addresses: bridge 10.77.0.1/24 in the root namespace (where the test
#    and its probers run); node i is 10.77.0.(10+i) in namespace rpm<i>,
#    port 5432, and also listens on 127.0.0.1 inside its namespace.
#
#    REPMGR_NETNS_SLOT=s (0 to 9) gives every name and address its own
#    slot (bridge brrpm<s>, namespaces rpm<s>_<i>, network 10.77.(10+s)),
#    so that two checkouts can run their partition tests side by side.
#
#    A node made with faketime => 1 runs its server (pg_ctl, the
#    postmaster and every process it starts) under Debian's libfaketime:
#    its wall clock (gettimeofday, time, CLOCK_REALTIME) reads the true
#    time plus an offset kept in a file of the node (clock_offset => s to
#    start with another offset than 0), which libfaketime reads at every
#    call (FAKETIME_NO_CACHE), so step_clock() steps the whole server's
#    wall clock at once; the monotonic clocks (CLOCK_MONOTONIC,
#    CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME) stay true
#    (FAKETIME_DONT_FAKE_MONOTONIC).  t/faketime_guard.c, preloaded first,
#    keeps libfaketime from leaving the processes the postmaster starts
#    from its signal handlers on the true clock.  clock_skews(),
#    server_clock_skew() and unfaked_processes() check all this.

package NetnsCluster;

use strict;
use warnings;

use parent -norequire, 'NetnsNode';
use NetnsNode;

use Carp;
use Exporter 'import';
use File::Basename qw(dirname);
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(clock_gettime time usleep
  CLOCK_REALTIME CLOCK_MONOTONIC CLOCK_MONOTONIC_RAW CLOCK_BOOTTIME);

our @EXPORT = qw(netns_available netns_setup);

my $SLOT   = $ENV{REPMGR_NETNS_SLOT} // '';
croak "REPMGR_NETNS_SLOT must be a digit" unless $SLOT =~ /^\d?$/;
my $BRIDGE = "brrpm$SLOT";
my $NET    = '10.77.' . ($SLOT eq '' ? 0 : 10 + $SLOT);
my $NS     = $SLOT eq '' ? 'rpm' : "rpm${SLOT}_";
my $USER   = $ENV{REPMGR_TEST_USER} // 'repmgrtest';
my @all_nodes;
my $network_up = 0;

sub run_quiet
{
	my (@cmd) = @_;
	return IPC::Run::run(\@cmd, '>', \my $out, '2>', \my $err);
}

sub run_or_die
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err)
	  or croak "command failed: @cmd\n$out$err";
	return $out;
}

# why partition tests cannot run here, or undef if they can
sub netns_available
{
	return "network namespaces need root (run \"make test\" as root)" if $> != 0;
	run_quiet('ip', 'netns', 'del', "${NS}probe");
	return "this machine does not allow creating network namespaces (ip netns add failed)"
	  unless run_quiet('ip', 'netns', 'add', "${NS}probe");
	run_quiet('ip', 'netns', 'del', "${NS}probe");
	return "user $USER does not exist" unless defined getpwnam($USER);
	return undef;
}

sub netns_setup
{
	teardown_network();
	run_or_die('ip', 'link', 'add', $BRIDGE, 'type', 'bridge');
	run_or_die('ip', 'addr', 'add', "$NET.1/24", 'dev', $BRIDGE);
	run_or_die('ip', 'link', 'set', $BRIDGE, 'up');
	$network_up = 1;
	return;
}

sub teardown_network
{
	for my $i (1 .. 9)
	{
		run_quiet('ip', 'netns', 'del', "$NS$i");
		run_quiet('ip', 'link', 'del', "v$NS$i");
	}
	run_quiet('ip', 'link', 'del', $BRIDGE);
	return;
}

END
{
	my $rc = $?;
	foreach my $node (@all_nodes)
	{
		$node->stop('immediate') if $node->{started};
	}
	teardown_network() if $network_up;
	$? = $rc;
}

# a new node: its namespace, its link to the bridge, its empty data directory
sub new
{
	my ($class, $name, $idx, %opts) = @_;
	my $base = "$ENV{TESTDIR}/tmp_check_netns/" . ($opts{test} // 'netns');
	my $self = bless {
		name => $name,
		idx => $idx,
		ns => "$NS$idx",
		veth => "v$NS$idx",
		ip => "$NET." . (10 + $idx),
		port => 5432,
		dir => "$base/$name",
		logfile => "$ENV{TESTDIR}/tmp_check_netns/log/" . ($opts{test} // 'netns') . "_$name.log",
		started => 0,
	}, $class;

	run_or_die('ip', 'netns', 'add', $self->{ns});
	run_or_die('ip', 'link', 'add', $self->{veth}, 'type', 'veth', 'peer', 'name', "e$self->{veth}");
	run_or_die('ip', 'link', 'set', "e$self->{veth}", 'netns', $self->{ns});
	run_or_die('ip', 'link', 'set', $self->{veth}, 'master', $BRIDGE);
	run_or_die('ip', 'link', 'set', $self->{veth}, 'up');
	$self->in_ns_root('ip', 'link', 'set', 'lo', 'up');
	$self->in_ns_root('ip', 'link', 'set', "e$self->{veth}", 'name', 'eth0');
	$self->in_ns_root('ip', 'addr', 'add', "$self->{ip}/24", 'dev', 'eth0');
	$self->in_ns_root('ip', 'link', 'set', 'eth0', 'up');

	run_or_die('mkdir', '-p', $self->{dir}, "$ENV{TESTDIR}/tmp_check_netns/log");
	run_or_die('chown', '-R', "$USER:", "$ENV{TESTDIR}/tmp_check_netns");
	if ($opts{faketime})
	{
		croak 'libfaketime.so.1 not found (Debian package libfaketime)' unless faketime_library();
		$self->{faketime_rc} = "$self->{dir}/faketime.rc";
		$self->{clock_offset} = $opts{clock_offset} // 0;
		$self->write_clock_offset;
	}
	push @all_nodes, $self;
	return $self;
}

sub name    { return $_[0]->{name} }
sub ip      { return $_[0]->{ip} }
sub port    { return $_[0]->{port} }
sub ns      { return $_[0]->{ns} }
sub logfile { return $_[0]->{logfile} }
sub data_dir { return "$_[0]->{dir}/data" }

# the conninfo other nodes use
sub conninfo
{
	my ($self) = @_;
	return "host=$self->{ip} port=$self->{port} dbname=repmgr user=$USER";
}

# run a command as root inside the namespace
sub in_ns_root
{
	my ($self, @cmd) = @_;
	return run_or_die('ip', 'netns', 'exec', $self->{ns}, @cmd);
}

# run a command as the test user inside the namespace
sub in_ns
{
	my ($self, @cmd) = @_;
	return run_or_die('ip', 'netns', 'exec', $self->{ns}, 'runuser', '-u', $USER, '--', @cmd);
}

# the same, returning (ok, stdout, stderr)
sub in_ns_try
{
	my ($self, @cmd) = @_;
	my $ok = IPC::Run::run([ 'ip', 'netns', 'exec', $self->{ns}, 'runuser', '-u', $USER, '--', @cmd ],
		'>', \my $out, '2>', \my $err);
	return ($ok, $out, $err);
}

sub write_conf
{
	my ($self, $id, %opts) = @_;
	my $conf = <<"EOF";
listen_addresses = '$self->{ip},127.0.0.1'
port = $self->{port}
unix_socket_directories = ''
shared_preload_libraries = 'repmgr'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
hot_standby = on
wal_log_hints = on
max_connections = 40
fsync = off
log_line_prefix = '%m [%p] %q%a '
log_min_messages = info
repmgr.node_id = $id
repmgr.database = 'repmgr'
EOF
	foreach my $k (sort keys %{ $opts{conf} // {} })
	{
		(my $v = $opts{conf}{$k}) =~ s/'/''/g;
		$conf .= "$k = '$v'\n";
	}
	open my $fh, '>>', $self->data_dir . '/postgresql.conf' or die $!;
	print $fh $conf;
	close $fh;
	open $fh, '>>', $self->data_dir . '/pg_hba.conf' or die $!;
	print $fh "host all all $NET.0/24 trust\nhost replication all $NET.0/24 trust\n";
	print $fh "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n";
	close $fh;
	return;
}

# a primary: initdb, configure, start, create the database and extension
sub init_primary
{
	my ($self, $id, %opts) = @_;
	$self->{id} = $id;
	$self->in_ns('initdb', '-D', $self->data_dir, '-A', 'trust', '-N', '-U', $USER);
	$self->write_conf($id, %opts);
	$self->start;
	$self->safe_psql('CREATE DATABASE repmgr', dbname => 'postgres');
	$self->safe_psql('CREATE EXTENSION repmgr');
	return $self;
}

# a witness: its own instance (initdb), registered as the witness of
# $primary's cluster
sub init_witness
{
	my ($self, $primary, $id, %opts) = @_;
	$self->init_primary($id, %opts);
	$self->safe_psql(sprintf("SELECT repmgr.witness_register(%d, '%s', '%s', '%s')",
			$id, $self->{name}, $self->conninfo, $primary->conninfo));
	return $self;
}

# a standby cloned from $upstream with pg_basebackup
sub init_standby
{
	my ($self, $upstream, $id, %opts) = @_;
	$self->{id} = $id;
	$self->in_ns('pg_basebackup', '-h', $upstream->ip, '-p', $upstream->port, '-U', $USER,
		'-D', $self->data_dir, '-X', 'stream', '-c', 'fast', '--no-sync');
	$self->write_conf($id, %opts);
	open my $fh, '>>', $self->data_dir . '/postgresql.auto.conf' or die $!;
	printf $fh "primary_conninfo = 'host=%s port=%d user=%s application_name=%s'\n",
	  $upstream->ip, $upstream->port, $USER, $self->{name};
	close $fh;
	open $fh, '>', $self->data_dir . '/standby.signal' or die $!;
	close $fh;
	run_or_die('chown', '-R', "$USER:", $self->data_dir);
	$self->start;
	return $self;
}

sub start
{
	my ($self) = @_;
	$self->in_ns($self->faketime_env, 'pg_ctl', '-w', '-D', $self->data_dir, '-l', $self->{logfile}, 'start');
	$self->{started} = 1;
	return;
}

sub stop
{
	my ($self, $mode) = @_;
	$self->in_ns_try('pg_ctl', '-w', '-D', $self->data_dir, '-m', $mode // 'fast', 'stop');
	$self->{started} = 0;
	return;
}

sub kill9
{
	my ($self) = @_;
	my ($pid) = split /\n/, slurp_file($self->data_dir . '/postmaster.pid');
	kill 'KILL', $pid;
	$self->{started} = 0;
	return;
}

# psql from the root namespace, over the bridge; or from inside the
# namespace (local => 1), which works when the node is cut off
sub psql
{
	my ($self, $sql, %opts) = @_;
	my @cmd = ('psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1',
		'-h', $opts{local} ? '127.0.0.1' : $self->{ip}, '-p', $self->{port},
		'-U', $USER, '-d', $opts{dbname} // 'repmgr', '-c', $sql);
	@cmd = ('ip', 'netns', 'exec', $self->{ns}, @cmd) if $opts{local};
	my $ok = IPC::Run::run(\@cmd, '>', \my $out, '2>', \my $err,
		IPC::Run::timeout($opts{timeout} // 60));
	chomp($out);
	return ($ok, $out, $err);
}

# cut the node off the network (and back)
sub isolate
{
	my ($self) = @_;
	run_or_die('ip', 'link', 'set', $self->{veth}, 'down');
	return;
}

sub heal
{
	my ($self) = @_;
	run_or_die('ip', 'link', 'set', $self->{veth}, 'up');
	return;
}

# cut the path between two nodes only, both ways
sub block_path
{
	my ($self, $peer) = @_;
	$self->in_ns_root('ip', 'route', 'add', 'blackhole', $peer->ip . '/32');
	$peer->in_ns_root('ip', 'route', 'add', 'blackhole', $self->ip . '/32');
	return;
}

sub unblock_path
{
	my ($self, $peer) = @_;
	$self->in_ns_root('ip', 'route', 'del', 'blackhole', $peer->ip . '/32');
	$peer->in_ns_root('ip', 'route', 'del', 'blackhole', $self->ip . '/32');
	return;
}

# ---- a faked wall clock (new(..., faketime => 1))

# Debian's libfaketime preload library, or undef
sub faketime_library
{
	my ($lib) = glob('/usr/lib/*/faketime/libfaketime.so.1');
	return $lib;
}

# t/faketime_guard.c built for this run (once), preloaded before libfaketime
my $guard_lib;

sub faketime_guard
{
	return $guard_lib if $guard_lib;
	my $src = dirname(__FILE__) . '/faketime_guard.c';
	my $lib = "$ENV{TESTDIR}/tmp_check_netns/faketime_guard.so";
	run_or_die('gcc', '-shared', '-fPIC', '-O2', '-Wall', '-o', $lib, $src, '-ldl');
	chmod 0755, $lib;
	$guard_lib = $lib;
	return $guard_lib;
}

# the command prefix that runs a program with this node's clock (empty
# for a node with a true clock)
sub faketime_env
{
	my ($self) = @_;
	return () unless $self->{faketime_rc};
	return ('env', 'LD_PRELOAD=' . faketime_guard() . ' ' . faketime_library(),
		"FAKETIME_TIMESTAMP_FILE=$self->{faketime_rc}", 'FAKETIME_NO_CACHE=1',
		'FAKETIME_DONT_FAKE_MONOTONIC=1');
}

# the offset file, replaced in one rename so that no reader sees half of it
sub write_clock_offset
{
	my ($self) = @_;
	my $tmp = "$self->{faketime_rc}.tmp";
	open my $fh, '>', $tmp or croak "$tmp: $!";
	printf $fh "%+d\n", $self->{clock_offset};
	close $fh or croak "$tmp: $!";
	chmod 0644, $tmp;
	rename $tmp, $self->{faketime_rc} or croak "$self->{faketime_rc}: $!";
	return;
}

# step the wall clock of the node's server by $delta seconds (forward or
# back), at once for all its processes; returns the new offset from the
# true time
sub step_clock
{
	my ($self, $delta) = @_;
	croak "$self->{name} was not made with faketime => 1" unless $self->{faketime_rc};
	$self->{clock_offset} += $delta;
	$self->write_clock_offset;
	return $self->{clock_offset};
}

sub clock_offset { return $_[0]->{clock_offset} // 0 }

# How far each clock of a process started like the node's server (in its
# namespace, as its user, under its libfaketime settings) is from the true
# one: clock name => seconds, read by Perl's clock_gettime (libc, which
# libfaketime intercepts) and compared with this process's own clocks read
# just before and just after it (the uncertainty is the time to start it).
sub clock_skews
{
	my ($self) = @_;
	my %id = (CLOCK_REALTIME => CLOCK_REALTIME, CLOCK_MONOTONIC => CLOCK_MONOTONIC,
		CLOCK_MONOTONIC_RAW => CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME => CLOCK_BOOTTIME);
	my @clocks = sort keys %id;
	my $code = join(';', map { "printf qq(%.6f\\n), Time::HiRes::clock_gettime($id{$_})" } @clocks);
	my @before = map { clock_gettime($id{$_}) } @clocks;
	my $out = $self->in_ns($self->faketime_env, 'perl', '-MTime::HiRes', '-e', $code);
	my @after = map { clock_gettime($id{$_}) } @clocks;
	my @read = split /\n/, $out;
	my %skew;
	foreach my $i (0 .. $#clocks)
	{
		$skew{ $clocks[$i] } = $read[$i] - ($before[$i] + $after[$i]) / 2;
	}
	return \%skew;
}

# how far the server's own wall clock (clock_timestamp()) is from the true
# time, in seconds; undef if it does not answer (local => 1: from inside
# the namespace, when the node is cut off)
sub server_clock_skew
{
	my ($self, %opts) = @_;
	my $t0 = time();
	my ($ok, $out) = $self->psql('SELECT extract(epoch FROM clock_timestamp())', %opts, timeout => 10);
	my $t1 = time();
	return undef unless $ok && $out =~ /^[\d.]+$/;
	return $out - ($t0 + $t1) / 2;
}

# The server's processes (those pg_stat_activity lists) that did not read
# the faked wall clock when they started: their start by their own clock
# (backend_start) against their true start (/proc/<pid>/stat, ticks of
# CLOCK_BOOTTIME since boot) plus the offset.  Meaningful with an offset
# other than 0 since the server started (clock_offset => s); returns
# "pid type: skew" for each such process.
sub unfaked_processes
{
	my ($self, %opts) = @_;
	my $want = $self->clock_offset;
	my $out = $self->safe_psql('SELECT pid, backend_type, extract(epoch FROM backend_start) '
		  . 'FROM pg_stat_activity WHERE pid <> pg_backend_pid()', %opts);
	my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK());
	my $boot = time() - clock_gettime(CLOCK_BOOTTIME);
	my @bad;
	foreach my $line (split /\n/, $out)
	{
		my ($pid, $type, $start) = split /\|/, $line;
		open my $fh, '<', "/proc/$pid/stat" or next;    # gone meanwhile
		my $stat = <$fh> // '';
		close $fh;
		# the fields after "pid (command) ": state is the 3rd, starttime the 22nd
		$stat =~ s/^.*\)\s+//s;
		my @f = split ' ', $stat;
		next unless defined $f[19];
		my $skew = $start - ($boot + $f[19] / $hz);
		push @bad, sprintf('%d %s: %+.3f s', $pid, $type, $skew) if abs($skew - $want) > 1.0;
	}
	return @bad;
}

sub register_primary
{
	my ($self, %opts) = @_;
	my $extra = join('', map { ", $_ => '$opts{$_}'" } sort keys %opts);
	return $self->safe_psql(sprintf("SELECT repmgr.primary_register(%d, '%s', '%s'%s)",
			$self->{id}, $self->{name}, $self->conninfo, $extra));
}

sub register_standby
{
	my ($self, %opts) = @_;
	my $extra = join('', map { ", $_ => '$opts{$_}'" } sort keys %opts);
	return $self->safe_psql(sprintf("SELECT repmgr.standby_register(%d, '%s', '%s'%s)",
			$self->{id}, $self->{name}, $self->conninfo, $extra));
}

sub wait_worker_state
{
	my ($self, @states) = @_;
	my $list = join(', ', map { "'$_'" } @states);
	return $self->poll_query_until("SELECT state IN ($list) FROM repmgr.daemon_status()");
}

# a write prober, in the root namespace or (ns => $node) inside a node's;
# table => its table, keep_read_only => ms (bench/prober -R)
sub start_prober
{
	my ($conninfo, %opts) = @_;
	my $out = "$ENV{TESTDIR}/tmp_check_netns/prober_" . ($opts{tag} // 'p') . '.out';
	my @cmd = ("$ENV{TESTDIR}/bench/prober", '-c', $conninfo, '-i', $opts{interval} // 5,
		'-d', 600000, '-o', $out);
	push @cmd, '-t', $opts{table} if $opts{table};
	push @cmd, '-R', $opts{keep_read_only} if $opts{keep_read_only};
	@cmd = ('ip', 'netns', 'exec', $opts{ns}->ns, @cmd) if $opts{ns};
	my $h = IPC::Run::start(\@cmd, '>', \my $o, '2>', \my $e);
	return { handle => $h, out => $out };
}

1;

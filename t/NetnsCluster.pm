
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

package NetnsCluster;

use strict;
use warnings;

use Carp;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

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
	$self->in_ns('pg_ctl', '-w', '-D', $self->data_dir, '-l', $self->{logfile}, 'start');
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

sub safe_psql
{
	my ($self, $sql, %opts) = @_;
	my ($ok, $out, $err) = $self->psql($sql, %opts);
	croak "psql failed on $self->{name}: $sql\n$err" unless $ok;
	return $out;
}

sub poll_query_until
{
	my ($self, $sql, %opts) = @_;
	my $deadline = time() + ($opts{timeout} // 120);
	while (time() < $deadline)
	{
		my ($ok, $out) = $self->psql($sql, %opts, timeout => 10);
		return 1 if $ok && $out eq 't';
		usleep(100_000);
	}
	diag("$self->{name}: timed out waiting for: $sql");
	return 0;
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

# a write prober, in the root namespace or (ns => $node) inside a node's
sub start_prober
{
	my ($conninfo, %opts) = @_;
	my $out = "$ENV{TESTDIR}/tmp_check_netns/prober_" . ($opts{tag} // 'p') . '.out';
	my @cmd = ("$ENV{TESTDIR}/bench/prober", '-c', $conninfo, '-i', $opts{interval} // 5,
		'-d', 600000, '-o', $out);
	@cmd = ('ip', 'netns', 'exec', $opts{ns}->ns, @cmd) if $opts{ns};
	my $h = IPC::Run::start(\@cmd, '>', \my $o, '2>', \my $e);
	return { handle => $h, out => $out };
}

1;


# NetnsHosts.pm
#    "Hosts" for the tests of the README's real-host guides: each a network
#    namespace of NetnsCluster (its address on the test bridge), with a
#    mount and a UTS namespace of its own, kept by an anchor process, in
#    which every command of that host runs (nsenter), as root:
#      - its host name (hostname says node1, ...);
#      - its own /etc: an overlay of the machine's, in memory, with its
#        /etc/hosts (the names of all hosts), /etc/repmgr.conf,
#        /etc/sudoers.d, postgresql-common's default createcluster.conf
#        (clusters with conf.d, as on a fresh Debian);
#      - its own /etc/postgresql, /var/lib/postgresql (the home of
#        postgres: data, ~/.pgpass, ~/.ssh), /var/run/postgresql,
#        /var/log/postgresql and /var/lib/pgsql, directories of the test
#        (hosts/<name>/...), so that the test reads them from outside;
#      - with rhel => 1, a systemctl stand-in in /usr/bin that runs the unit
#        postgresql-15 of the RHEL layout with pg_ctl (no systemd here);
#      - an sshd on port 22 of its address.
#    The machine's own files are never changed: every mount is made in the
#    host's mount namespace, which ends with its processes.

package NetnsHosts;

use strict;
use warnings;

use parent -norequire, 'NetnsNode';
use NetnsNode;

use Carp;
use Exporter 'import';
use IPC::Run;
use NetnsCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(hosts_available);

my @all_hosts;
my $PGBIN = '/usr/lib/postgresql/15/bin';

# why these tests cannot run here, or undef
sub hosts_available
{
	my $why = netns_available();
	return $why if $why;
	foreach my $prog ('/usr/bin/pg_createcluster', '/usr/bin/pg_ctlcluster', '/usr/bin/sudo',
		'/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/nsenter',
		'/usr/bin/unshare', "$PGBIN/repmgr")
	{
		return "$prog is not installed (postgresql-common, sudo, openssh-server, util-linux)"
		  unless -x $prog;
	}
	return "user postgres does not exist" unless defined getpwnam('postgres');
	return undef;
}

sub run_or_die
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err)
	  or croak "command failed: @cmd\n$out$err";
	return $out;
}

END
{
	my $rc = $?;
	$_->shutdown foreach reverse @all_hosts;
	$? = $rc;
}

# a directory of the test, owned by user:group with mode
sub make_dir
{
	my ($path, $owner, $mode) = @_;
	run_or_die('mkdir', '-p', $path);
	run_or_die('chown', $owner, $path);
	chmod oct($mode), $path;
	return;
}

sub write_file
{
	my ($path, $text, $mode) = @_;
	open my $fh, '>', $path or croak "$path: $!";
	print $fh $text;
	close $fh;
	chmod oct($mode), $path if $mode;
	return;
}

# the systemctl stand-in of a RHEL host: the unit postgresql-15 (PGDATA
# /var/lib/pgsql/15/data) with pg_ctl, as systemd would run it: start and
# stop succeed when there is nothing to do
my $SYSTEMCTL = <<'EOF';
#!/bin/sh
# systemctl stand-in of the guide tests: runs the unit postgresql-15 with pg_ctl
PGCTL=/usr/lib/postgresql/15/bin/pg_ctl
PGDATA=/var/lib/pgsql/15/data
LOG=/var/lib/pgsql/15/postgresql.log
if [ "$1" = enable ]; then
	shift
	[ "$1" = --now ] || exit 0
	shift
	set -- start "$@"
fi
case "$2" in
postgresql-15|postgresql-15.service) ;;
*) echo "systemctl stand-in: unknown unit $2" >&2; exit 5 ;;
esac
running() { runuser -u postgres -- $PGCTL -D $PGDATA status >/dev/null 2>&1; }
case "$1" in
start) running && exit 0; exec runuser -u postgres -- $PGCTL -w -D $PGDATA -l $LOG start ;;
stop) running || exit 0; exec runuser -u postgres -- $PGCTL -w -D $PGDATA -m fast stop ;;
restart) exec runuser -u postgres -- $PGCTL -w -D $PGDATA -m fast -l $LOG restart ;;
reload) exec runuser -u postgres -- $PGCTL -D $PGDATA reload ;;
*) echo "systemctl stand-in: $1 is not supported" >&2; exit 1 ;;
esac
EOF

# postgresql-common's default createcluster.conf (a fresh Debian's)
my $CREATECLUSTER = <<'EOF';
create_main_cluster = false
cluster_name = '%v/%c'
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
add_include_dir = 'conf.d'
EOF

# create(test => name, rhel => 1, names...): the hosts, named and numbered
# 1, 2, ... in that order, and /etc/hosts on each naming all of them
sub create
{
	my ($class, $opts, @names) = @_;
	my $test = $opts->{test} // 'guide';
	my $idx = 0;
	# first the namespaces: NetnsCluster hands tmp_check_netns to its user
	my @nodes = map { NetnsCluster->new($_, ++$idx, test => $test) } @names;
	my @hosts = map { $class->new($names[$_], $_ + 1, $nodes[$_], %$opts) } 0 .. $#names;
	$class->write_hosts(@hosts);
	return @hosts;
}

# new(name, idx, netns node, test => name, rhel => 1): the host and its anchor
sub new
{
	my ($class, $name, $idx, $node, %opts) = @_;
	my $test = $opts{test} // 'guide';
	my $root = "$ENV{TESTDIR}/tmp_check_netns/$test/hosts/$name";
	my $self = bless {
		name => $name,
		idx => $idx,
		node => $node,
		ip => $node->ip,
		root => $root,
		rhel => $opts{rhel} // 0,
		test => $test,
	}, $class;
	push @all_hosts, $self;

	run_or_die('rm', '-rf', $root);
	make_dir("$root/etc-postgresql", 'postgres:postgres', '0755');
	make_dir("$root/var-lib-postgresql", 'postgres:postgres', '0755');
	make_dir("$root/run-postgresql", 'postgres:postgres', '2775');
	make_dir("$root/var-log-postgresql", 'root:postgres', '1775');
	make_dir("$root/var-lib-pgsql", 'postgres:postgres', '0700');
	make_dir("$root/var-lib-pgsql/15", 'postgres:postgres', '0700');
	make_dir("$root/var-lib-pgsql/15/data", 'postgres:postgres', '0700');
	make_dir("$root/files", 'root:root', '0755');
	write_file("$root/files/systemctl", $SYSTEMCTL, '0755');
	write_file("$root/files/createcluster.conf", $CREATECLUSTER, '0644');

	# the anchor: a mount and UTS namespace inside the network namespace
	my $r = $root;
	my $setup = join("\n",
		'set -e',
		"mount -t tmpfs -o mode=0755,size=64m hostfs $r/files/mnt",
		"mkdir -p $r/files/mnt/etc $r/files/mnt/etc.work $r/files/mnt/lib $r/files/mnt/lib.work $r/files/mnt/bin $r/files/mnt/bin.work",
		"mount -t overlay overlay -o lowerdir=/var/lib,upperdir=$r/files/mnt/lib,workdir=$r/files/mnt/lib.work /var/lib",
		"mount -t overlay overlay -o lowerdir=/etc,upperdir=$r/files/mnt/etc,workdir=$r/files/mnt/etc.work /etc",
		"mkdir -p /var/lib/pgsql /var/lib/postgresql /etc/postgresql /etc/postgresql-common /etc/sudoers.d /run/postgresql /var/log/postgresql",
		"mount --bind $r/etc-postgresql /etc/postgresql",
		"mount --bind $r/var-lib-postgresql /var/lib/postgresql",
		"mount --bind $r/var-lib-pgsql /var/lib/pgsql",
		"mount --bind $r/run-postgresql /run/postgresql",
		"mount --bind $r/var-log-postgresql /var/log/postgresql",
		"cp $r/files/createcluster.conf /etc/postgresql-common/createcluster.conf",
		"rm -f /etc/repmgr.conf /etc/sudoers.d/repmgr",
		($self->{rhel}
			? ("mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$r/files/mnt/bin,workdir=$r/files/mnt/bin.work /usr/bin",
				"cp $r/files/systemctl /usr/bin/systemctl")
			: ()),
		"hostname $name",
		"echo \$\$ > $r/files/anchor.pid",
		'exec sleep 100000');
	make_dir("$root/files/mnt", 'root:root', '0755');
	my $h = IPC::Run::start(
		[ 'ip', 'netns', 'exec', $node->ns, 'unshare', '--mount', '--uts', '--propagation',
			'private', '/bin/sh', '-c', $setup ],
		'<', \undef, '>', "$root/files/anchor.log", '2>&1');
	my $deadline = time() + 30;
	while (!-s "$root/files/anchor.pid" && time() < $deadline)
	{
		croak "the anchor of $name failed: " . slurp_file("$root/files/anchor.log")
		  unless $h->pumpable;
		usleep(20_000);
	}
	croak "the anchor of $name did not start" unless -s "$root/files/anchor.pid";
	chomp(my $pid = slurp_file("$root/files/anchor.pid"));
	$self->{anchor} = $pid;
	$self->{anchor_handle} = $h;
	return $self;
}

sub name { return $_[0]->{name} }
sub ip   { return $_[0]->{ip} }
sub root { return $_[0]->{root} }

# /etc/hosts of every host: the names of all of them
sub write_hosts
{
	my ($class, @hosts) = @_;
	my $lines = join('', map { "$_->{ip}\t$_->{name}\n" } @hosts);
	my $base = slurp_file('/etc/hosts');
	foreach my $host (@hosts)
	{
		$host->run_as_root_quiet('sh', '-c', 'cat > /etc/hosts', stdin => $base . $lines);
	}
	return;
}

# run a command in the host, as root; returns (exit code, stdout, stderr)
sub run
{
	my ($self, @cmd) = @_;
	my %opts = (ref $cmd[-1] eq 'HASH') ? %{ pop @cmd } : ();
	my ($out, $err) = ('', '');
	my @full = ('nsenter', '-t', $self->{anchor}, '-m', '-u', '-n', '--',
		'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
		'HOME=/root', 'LANG=C.UTF-8', 'USER=root', 'LOGNAME=root', @cmd);
	my $stdin = $opts{stdin};
	my $t = IPC::Run::timeout($opts{timeout} // 300);
	my $ok = eval {
		IPC::Run::run(\@full, '<', \$stdin, '>', \$out, '2>', \$err, $t);
		1;
	};
	my $rc = $ok ? ($? >> 8) : 255;
	$err .= "\n(timed out)\n" unless $ok;
	return ($rc, $out, $err);
}

sub run_as_root_quiet
{
	my ($self, @args) = @_;
	my %opts;
	if (@args >= 2 && $args[-2] eq 'stdin')
	{
		$opts{stdin} = pop @args;
		pop @args;
	}
	my ($rc, $out, $err) = $self->run(@args, \%opts);
	croak "$self->{name}: @args failed ($rc):\n$out$err" if $rc != 0;
	return $out;
}

# a shell script run in the host as root (sh -e), logged; (rc, out, err)
sub script
{
	my ($self, $script, %opts) = @_;
	note("--- on $self->{name}:\n$script");
	my ($rc, $out, $err) = $self->run('/bin/sh', '-e', '-c', $script, \%opts);
	note("exit code $rc\n--- stdout:\n$out--- stderr:\n$err---");
	return ($rc, $out, $err);
}

# psql as postgres over the host's socket (peer authentication)
sub psql
{
	my ($self, $sql, %opts) = @_;
	my ($rc, $out, $err) = $self->run('runuser', '-u', 'postgres', '--', "$PGBIN/psql", '-X',
		'-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $opts{dbname} // 'repmgr',
		'-c', $sql, { timeout => $opts{timeout} // 30 });
	chomp $out;
	return ($rc == 0, $out, $err);
}

# the data directory of the host's cluster, as the test sees it
sub data_dir
{
	my ($self) = @_;
	return $self->{rhel} ? "$self->{root}/var-lib-pgsql/15/data"
	  : "$self->{root}/var-lib-postgresql/15/main";
}

# the postmaster's pid, or undef when it does not run
sub postmaster_pid
{
	my ($self) = @_;
	my $file = $self->data_dir . '/postmaster.pid';
	return undef unless -f $file;
	my ($pid) = split /\n/, slurp_file($file);
	return (defined $pid && $pid =~ /^\d+$/ && kill(0, $pid)) ? $pid : undef;
}

sub kill9
{
	my ($self) = @_;
	my $pid = $self->postmaster_pid;
	croak "$self->{name}: no postmaster" unless $pid;
	kill 'KILL', $pid;
	my $deadline = time() + 30;
	usleep(10_000) while kill(0, $pid) && time() < $deadline;
	return;
}

# the status column of pg_lsclusters for 15/main ("online,recovery", ...)
sub lsclusters_status
{
	my ($self) = @_;
	my ($rc, $out) = $self->run('pg_lsclusters', '--no-header');
	return ($out =~ /^15\s+main\s+\d+\s+(\S+)/m) ? $1 : '';
}

# sshd on port 22 of the host's address; authorized keys of postgres are
# the host's own ~postgres/.ssh/authorized_keys
sub start_sshd
{
	my ($self, $host_key) = @_;
	my $conf = "$self->{root}/files/sshd_config";
	write_file($conf, <<"EOF", '0644');
Port 22
ListenAddress $self->{ip}
HostKey $host_key
PidFile $self->{root}/files/sshd.pid
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers postgres
PrintMotd no
EOF
	run_or_die('mkdir', '-p', '/run/sshd');
	unlink "$self->{root}/files/sshd.pid";
	$self->run_as_root_quiet('/usr/sbin/sshd', '-f', $conf, '-E', "$self->{root}/files/sshd.log");
	return;
}

sub stop_sshd
{
	my ($self) = @_;
	my $file = "$self->{root}/files/sshd.pid";
	return unless -f $file;
	chomp(my $pid = slurp_file($file));
	kill 'TERM', $pid if $pid =~ /^\d+$/;
	unlink $file;
	return;
}

# every process of the host ends, and with them its namespaces
sub shutdown
{
	my ($self) = @_;
	return unless $self->{anchor};
	$self->stop_sshd;
	my $pid = $self->postmaster_pid;
	if ($pid)
	{
		kill 'QUIT', $pid;    # immediate shutdown
		my $deadline = time() + 10;
		usleep(20_000) while kill(0, $pid) && time() < $deadline;
		kill 'KILL', $pid if kill(0, $pid);
	}
	# whatever else still runs in the host's mount namespace
	my $ns = readlink("/proc/$self->{anchor}/ns/mnt");
	if ($ns)
	{
		foreach my $proc (glob '/proc/[0-9]*')
		{
			my $p = (split m{/}, $proc)[-1];
			next if $p == $self->{anchor};
			my $other = readlink("$proc/ns/mnt");
			kill 'KILL', $p if defined $other && $other eq $ns;
		}
	}
	kill 'KILL', $self->{anchor};
	$self->{anchor_handle}->finish if $self->{anchor_handle};
	$self->{anchor} = undef;
	return;
}

1;

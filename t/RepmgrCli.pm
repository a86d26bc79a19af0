
# RepmgrCli.pm
#    Helpers of the TAP tests of bin/repmgr (t/1NN_cli_*.pl): repmgr.conf
#    files for test nodes, running the installed repmgr binary and checking
#    its exit code, primaries registered and standbys cloned with the tool
#    itself, and keeping PostgreSQL::Test::Cluster's idea of which nodes
#    run in step with what repmgr started or stopped.

package RepmgrCli;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

our @EXPORT = qw(
  cli_conf repmgr repmgr_ok repmgr_exit cli_primary cli_clone cli_conninfo
  sync_pids node_settings auto_conf
);

# settings of postgresql.conf every node of the CLI tests gets: the
# workers monitor but never fail over on their own
sub node_settings
{
	my ($id, %opts) = @_;
	my %conf = ('repmgr.failover' => 'manual', %{ $opts{conf} // {} });
	return repmgr_conf($id, conf => \%conf);
}

sub cli_conninfo
{
	my ($node) = @_;
	return conninfo($node);
}

# write a repmgr.conf for $node (node id $id); returns its path
sub cli_conf
{
	my ($node, $id, %settings) = @_;
	my $path = $settings{path} // $node->basedir . '/repmgr.conf';
	delete $settings{path};
	my %conf = (
		cluster => 'test',
		node => $id,
		node_name => $node->name,
		conninfo => "'" . cli_conninfo($node) . "'",
		data_directory => "'" . $node->data_dir . "'",
		pg_ctl_options => "'-l " . $node->logfile . "'",
		%settings);
	open my $fh, '>', $path or die "$path: $!";
	print $fh "# repmgr.conf of " . $node->name . "\n";
	foreach my $k (sort keys %conf)
	{
		next unless defined $conf{$k};
		print $fh "$k=$conf{$k}\n";
	}
	close $fh;
	return $path;
}

# run the installed repmgr; returns (exit code, stdout, stderr)
sub repmgr
{
	my @args = @_;
	my ($stdout, $stderr) = ('', '');
	note('running: repmgr ' . join(' ', @args));
	IPC::Run::run([ 'repmgr', @args ], '<', \undef, '>', \$stdout, '2>', \$stderr);
	my $rc = $? >> 8;
	note("exit code $rc\n--- stdout:\n$stdout--- stderr:\n$stderr---");
	return ($rc, $stdout, $stderr);
}

# repmgr must succeed; returns stdout . stderr
sub repmgr_ok
{
	my ($name, @args) = @_;
	my ($rc, $stdout, $stderr) = repmgr(@args);
	is($rc, 0, $name) or diag("stdout:\n$stdout\nstderr:\n$stderr");
	return $stdout . $stderr;
}

# repmgr must exit with $expected; returns stdout . stderr
sub repmgr_exit
{
	my ($name, $expected, @args) = @_;
	my ($rc, $stdout, $stderr) = repmgr(@args);
	is($rc, $expected, $name) or diag("stdout:\n$stdout\nstderr:\n$stderr");
	return $stdout . $stderr;
}

# after repmgr started or stopped servers, tell PostgreSQL::Test::Cluster
sub sync_pids
{
	foreach my $node (@_)
	{
		$node->_update_pid(-1);
	}
}

# a running primary with database "repmgr" (the extension is created by
# "repmgr primary register"), and its repmgr.conf
sub cli_primary
{
	my ($name, $id, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 1);
	$node->append_conf('postgresql.conf', node_settings($id, %opts));
	$node->append_conf('postgresql.conf', $opts{extra_conf}) if $opts{extra_conf};
	$node->append_conf('pg_hba.conf', $opts{hba}) if $opts{hba};
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE repmgr');
	my $conf = cli_conf($node, $id, %{ $opts{repmgr_conf} // {} });
	return ($node, $conf);
}

# clone $name (node $id) from $upstream with "repmgr standby clone", give
# it its own port and socket directory as init_from_backup does, start it
# unless start => 0; returns the node and its repmgr.conf
sub cli_clone
{
	my ($upstream, $name, $id, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $conf = cli_conf($node, $id, %{ $opts{repmgr_conf} // {} });
	repmgr_ok("$name cloned from " . $upstream->name,
		'-h', $upstream->host, '-p', $upstream->port, '-d', 'repmgr',
		'-D', $node->data_dir, '-f', $conf, @{ $opts{args} // [] },
		'standby', 'clone');
	$node->append_conf('postgresql.conf',
		sprintf("port = %d\nunix_socket_directories = '%s'\nlisten_addresses = ''\n",
			$node->port, $node->host));
	$node->append_conf('postgresql.conf', $opts{extra_conf}) if $opts{extra_conf};
	$node->start unless defined $opts{start} && !$opts{start};
	return ($node, $conf);
}

# a setting as written in the node's postgresql.auto.conf (undef if none)
sub auto_conf
{
	my ($node, $name) = @_;
	my $text = slurp_file($node->data_dir . '/postgresql.auto.conf');
	my $value;
	while ($text =~ /^\s*\Q$name\E\s*=\s*'((?:[^']|'')*)'/mg)
	{
		($value = $1) =~ s/''/'/g;
	}
	return $value;
}

1;

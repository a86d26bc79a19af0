#
# NetnsNode.pm
#    What the nodes of the partition tests share, whichever way they run
#    their server (NetnsCluster.pm: a data directory of the test in a
#    network namespace; NetnsHosts.pm: a host's own pg_createcluster
#    cluster): SQL that must succeed, and a wait for a query's answer.
#    Each node class has its own psql($sql, %opts), returning
#    ($ok, $out, $err) with $out chomped.
#
package NetnsNode;

use strict;
use warnings;

use Carp;
use Test::More;
use Time::HiRes qw(time usleep);

# the output of a query that must succeed, or die with psql's error
sub safe_psql
{
	my ($self, $sql, %opts) = @_;
	my ($ok, $out, $err) = $self->psql($sql, %opts);
	croak "psql failed on $self->{name}: $sql\n$err" unless $ok;
	return $out;
}

# poll a query until it answers $opts{expected} ('t'), for at most
# $opts{timeout} seconds (120); the other options go to psql
sub poll_query_until
{
	my ($self, $sql, %opts) = @_;
	my $deadline = time() + (delete $opts{timeout} // 120);
	my $expected = delete $opts{expected} // 't';
	my $last = '';
	while (time() < $deadline)
	{
		my ($ok, $out, $err) = $self->psql($sql, %opts, timeout => 10);
		return 1 if $ok && $out eq $expected;
		$last = $ok ? $out : $err;
		usleep(100_000);
	}
	diag("$self->{name}: timed out waiting for: $sql (last: $last)");
	return 0;
}

1;

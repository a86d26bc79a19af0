# bench/chaos.pl — fault cycles on real servers ("make chaos", as root).
#
# What: a primary, three standbys and a witness, each server in its own
# network namespace, at the shipped settings (CHAOS_SYNC=1: with
# synchronous_standby_names written by hand; CHAOS_SYNC=on or strict:
# managed by repmgr.synchronous); a write prober inside each node's namespace
# writing to that node, and an application prober through the multi-host
# read-write connection string.  CHAOS_CYCLES fault cycles (default 20),
# the faults taken round-robin in an order shuffled by CHAOS_SEED
# (default: the time; printed): kill -9, SIGSTOP for 20 s, link down,
# REJECT, one-way, witness and primary cut off together, old primary
# restarted without rejoin, two candidates that cannot see each other, a
# standby killed during the election.  CHAOS_FAULTS="kill9 reject" limits
# them.  After each cycle the old primary is rejoined with "repmgr node
# rejoin --force-rewind".  See t/Chaos.pm for what is measured and how.
#
# Prints one line per cycle and a summary per fault; writes them to
# CHAOS_OUT (default tmp_check_netns/chaos/result).  Fails when two nodes
# ever acknowledged writes at the same time, when a cycle did not heal,
# with synchronous replication when an acknowledged write was lost, and
# at the defaults when the median failover after kill -9 exceeds 2.5 s.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../t";
use Chaos;
use NetnsCluster;
use Test::More;

if (my $why = netns_available()) { plan skip_all => $why; }
my $chaos = Chaos->new(
	cycles => $ENV{CHAOS_CYCLES} || 20,
	sync => $ENV{CHAOS_SYNC},
	seed => $ENV{CHAOS_SEED} || time(),
	($ENV{CHAOS_FAULTS} ? (faults => [ split /[ ,]+/, $ENV{CHAOS_FAULTS} ]) : ()),
	($ENV{CHAOS_STOP_S} ? (stop_s => $ENV{CHAOS_STOP_S}) : ()),
	check_crash_median => 1);
$chaos->run;
done_testing();

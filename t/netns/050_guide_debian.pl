# The README's real-host guide for Debian and Ubuntu (clusters made by
# pg_createcluster: configuration in /etc/postgresql, the server run by
# pg_ctlcluster), run from README.md itself on three hosts, then a kill -9
# of the primary, the automatic failover, the README's rejoin and
# switchover, and a switchover that loses ssh part-way (t/GuideTest.pm).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/..";
use GuideTest;

run_guide_test('debian');

# Without shared_preload_libraries the SQL API still works; what needs the
# shared state says so with a notice.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepmgrTest;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plain');
$node->init(allows_streaming => 1);
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE repmgr');
$node->safe_psql('repmgr', 'CREATE EXTENSION repmgr');

is($node->safe_psql('repmgr',
		sprintf("SELECT repmgr.primary_register(1, 'plain', '%s')", conninfo($node))),
	'1', 'primary_register works without preloading');
is($node->safe_psql('repmgr', 'SELECT status FROM repmgr.cluster_show()'),
	'* running', 'cluster_show works without preloading');
is($node->safe_psql('repmgr', 'SELECT worker_state IS NULL, term FROM repmgr.node_state()'),
	't|0', 'node_state reports no worker');

my ($ret, $stdout, $stderr) = $node->psql('repmgr', 'SELECT role FROM repmgr.node_status()');
is($stdout, 'primary', 'node_status works without preloading');
like($stderr, qr/NOTICE:  repmgr shared state is not available/, '... with a notice about the shared state');
like($stderr, qr/HINT:  Add "repmgr" to shared_preload_libraries/, '... and a hint');

done_testing();

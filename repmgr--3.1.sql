/*
 * repmgr--3.1.sql
 *	  Schema of the repmgr extension: the cluster metadata (repl_nodes,
 *	  repl_events, repl_monitor and their views) and the SQL API.
 *
 * The metadata lives on the primary and reaches the standbys by streaming
 * replication; a witness keeps its own copy, refreshed by its worker.
 * No function is executable by PUBLIC: the administrative functions are
 * for superusers, the read-only ones are also granted to pg_monitor, which
 * reads conninfo only with its passwords masked (cluster_show()).
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION repmgr" to load this file. \quit

/* ---------------------------------------------------------------------
 * Tables
 * ---------------------------------------------------------------------
 */

CREATE TABLE repl_nodes (
	id					integer		PRIMARY KEY
									CONSTRAINT repl_nodes_id_check CHECK (id > 0),
	type				text		NOT NULL
									CONSTRAINT repl_nodes_type_check
									CHECK (type IN ('primary', 'standby', 'witness')),
	upstream_node_id	integer		NULL
									CONSTRAINT repl_nodes_upstream_fkey
									REFERENCES repl_nodes (id),
	cluster				text		NOT NULL,
	name				text		NOT NULL
									CONSTRAINT repl_nodes_name_key UNIQUE,
	conninfo			text		NOT NULL,
	slot_name			text		NULL
									CONSTRAINT repl_nodes_slot_name_key UNIQUE,
	priority			integer		NOT NULL DEFAULT 100
									CONSTRAINT repl_nodes_priority_check
									CHECK (priority >= 0),
	location			text		NOT NULL DEFAULT 'default',
	active				boolean		NOT NULL DEFAULT true,
	CONSTRAINT repl_nodes_upstream_not_self CHECK (upstream_node_id <> id),
	CONSTRAINT repl_nodes_primary_no_upstream
		CHECK (type <> 'primary' OR upstream_node_id IS NULL)
);

/* At most one active primary. */
CREATE UNIQUE INDEX repl_nodes_one_active_primary
	ON repl_nodes ((type)) WHERE type = 'primary' AND active;

COMMENT ON TABLE repl_nodes IS
	'one row per node of the replication cluster';

CREATE TABLE repl_events (
	node_id				integer		NOT NULL,
	event				text		NOT NULL,
	successful			boolean		NOT NULL DEFAULT true,
	event_timestamp		timestamptz	NOT NULL DEFAULT pg_catalog.now(),
	details				text		NULL
);

CREATE INDEX repl_events_timestamp_idx ON repl_events (event_timestamp);

COMMENT ON TABLE repl_events IS
	'events of interest recorded by repmgr and its workers';

CREATE TABLE repl_monitor (
	primary_node				integer		NOT NULL,
	standby_node				integer		NOT NULL,
	last_monitor_time			timestamptz	NOT NULL,
	last_apply_time				timestamptz	NULL,
	last_wal_primary_location	pg_lsn		NOT NULL,
	last_wal_standby_location	pg_lsn		NULL,
	replication_lag				bigint		NOT NULL,
	apply_lag					bigint		NOT NULL
);

CREATE INDEX repl_monitor_standby_time_idx
	ON repl_monitor (standby_node, last_monitor_time);

COMMENT ON TABLE repl_monitor IS
	'monitoring history written by the workers of the standbys';

/*
 * The synchronous set the primary's worker published (repmgr.synchronous):
 * one row, written by the primary before a standby may acknowledge commits
 * (a member added) and after it no longer may (a member removed), so it
 * replicates to the members and a failover knows which standbys can hold
 * the acknowledged commits.
 */
/*
 * The lines of WAL this cluster's promotions began: PostgreSQL gives the
 * timeline of a promotion the ID one above the newest in the promoted
 * node's history, so two standbys of one timeline promoted both begin a
 * timeline 2, two lines of WAL that no ID tells apart.  Each promotion
 * records its timeline here, with the term it was elected in, as its
 * first write on the new line: a standby that replayed it knows which
 * line it is on (node_state().timeline_term).
 */
CREATE TABLE repl_timelines (
	timeline			integer		NOT NULL,
	began				pg_lsn		NOT NULL,
	term				bigint		NOT NULL,
	node_id				integer		NOT NULL,
	promoted_at			timestamptz	NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (timeline, term)
);

COMMENT ON TABLE repl_timelines IS
	'each promotion''s timeline: its ID, where it began, the term of the election';

CREATE TABLE repl_sync (
	id					boolean		PRIMARY KEY DEFAULT true
									CONSTRAINT repl_sync_one_row CHECK (id),
	version				bigint		NOT NULL DEFAULT 1,
	primary_node		integer		NOT NULL,
	term				bigint		NOT NULL,
	mode				text		NOT NULL
									CONSTRAINT repl_sync_mode_check
									CHECK (mode IN ('off', 'on', 'strict')),
	sync_count			integer		NOT NULL
									CONSTRAINT repl_sync_count_check
									CHECK (sync_count >= 1),
	quorum				integer		NOT NULL
									CONSTRAINT repl_sync_quorum_check
									CHECK (quorum >= 0),
	members				integer[]	NOT NULL,
	standby_names		text		NOT NULL,
	published_at		timestamptz	NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE repl_sync IS
	'the synchronous set last published by the primary: ANY quorum of members; version grows with each publication';

/*
 * At most 64 nodes (REPMGR_MAX_NODES of common/settings.h: the workers keep
 * them in shared memory), however the rows come: the registration
 * functions check first and say why, this is the rule itself.  After
 * every INSERT into repl_nodes, the transaction updates the one row of
 * repl_nodes_guard, which orders every such transaction after the last
 * one that committed (READ COMMITTED: it waits for it, and then counts
 * what that one wrote; REPEATABLE READ and SERIALIZABLE: it fails with a
 * serialization error instead), and counts the rows.
 */
CREATE TABLE repl_nodes_guard (
	id					boolean		PRIMARY KEY DEFAULT true
									CONSTRAINT repl_nodes_guard_one_row CHECK (id),
	inserts				bigint		NOT NULL DEFAULT 0
);

INSERT INTO repl_nodes_guard DEFAULT VALUES;

COMMENT ON TABLE repl_nodes_guard IS
	'one row, updated by every insert into repl_nodes so that the node limit is checked by one transaction at a time';

CREATE FUNCTION repl_nodes_check_limit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	nodes bigint;
BEGIN
	UPDATE repmgr.repl_nodes_guard SET inserts = inserts + 1 WHERE id;
	SELECT count(*) INTO nodes FROM repmgr.repl_nodes;
	IF nodes > 64 THEN
		RAISE EXCEPTION 'a repmgr cluster has at most 64 nodes, this change would make % of them', nodes
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = 'The workers keep the nodes in shared memory; inactive nodes count too.',
				  HINT = 'Unregister a node that is gone (repmgr.standby_unregister()) first.';
	END IF;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION repl_nodes_check_limit() IS
	'trigger of repl_nodes: refuses more than 64 nodes, one inserting transaction at a time';

CREATE TRIGGER repl_nodes_limit
	AFTER INSERT ON repl_nodes
	FOR EACH STATEMENT EXECUTE FUNCTION repl_nodes_check_limit();

/* pg_dump keeps the metadata of the cluster */
SELECT pg_catalog.pg_extension_config_dump('repl_nodes', '');
SELECT pg_catalog.pg_extension_config_dump('repl_events', '');
SELECT pg_catalog.pg_extension_config_dump('repl_monitor', '');
SELECT pg_catalog.pg_extension_config_dump('repl_sync', '');

/* ---------------------------------------------------------------------
 * Views
 * ---------------------------------------------------------------------
 */

CREATE VIEW repl_show_nodes AS
	SELECT rn.id, rn.conninfo, rn.type, rn.name, rn.cluster,
		   rn.priority, rn.active, rn.location, rn.slot_name,
		   rn.upstream_node_id, un.name AS upstream_node_name
	  FROM repl_nodes rn
	  LEFT JOIN repl_nodes un ON un.id = rn.upstream_node_id;

CREATE VIEW repl_status AS
	SELECT m.primary_node, m.standby_node, n.name AS standby_name,
		   n.type AS node_type, n.active, m.last_monitor_time,
		   m.last_wal_primary_location, m.last_wal_standby_location,
		   pg_catalog.pg_size_pretty(m.replication_lag) AS replication_lag,
		   m.replication_lag AS replication_lag_bytes,
		   pg_catalog.age(m.last_monitor_time, m.last_apply_time)
			   AS replication_time_lag,
		   pg_catalog.pg_size_pretty(m.apply_lag) AS apply_lag,
		   m.apply_lag AS apply_lag_bytes,
		   pg_catalog.age(pg_catalog.now(), m.last_monitor_time)
			   AS communication_time_lag
	  FROM repl_monitor m
	  JOIN repl_nodes n ON n.id = m.standby_node
	 WHERE (m.standby_node, m.last_monitor_time) IN
		   (SELECT m1.standby_node, max(m1.last_monitor_time)
			  FROM repl_monitor m1
			 GROUP BY m1.standby_node);

/* ---------------------------------------------------------------------
 * Registration
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION primary_register(
	node_id integer,
	node_name text,
	conninfo text,
	priority integer DEFAULT 100,
	location text DEFAULT 'default',
	force boolean DEFAULT false)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_primary_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION primary_register(integer, text, text, integer, text, boolean) IS
	'register this server as the primary of the cluster';

CREATE FUNCTION master_register(
	node_id integer,
	node_name text,
	conninfo text,
	priority integer DEFAULT 100,
	location text DEFAULT 'default',
	force boolean DEFAULT false)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_primary_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION master_register(integer, text, text, integer, text, boolean) IS
	'alias of primary_register';

CREATE FUNCTION standby_register(
	node_id integer,
	node_name text,
	conninfo text,
	upstream_node_id integer DEFAULT NULL,
	priority integer DEFAULT 100,
	location text DEFAULT 'default',
	slot_name text DEFAULT NULL,
	force boolean DEFAULT false)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_standby_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION standby_register(integer, text, text, integer, integer, text, text, boolean) IS
	'register this server as a standby; upstream NULL means the primary';

CREATE FUNCTION standby_unregister(node_id integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_standby_unregister'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION standby_unregister(integer) IS
	'remove a standby from the metadata; NULL means this node';

CREATE FUNCTION witness_register(
	node_id integer,
	node_name text,
	conninfo text,
	primary_conninfo text,
	location text DEFAULT 'default',
	force boolean DEFAULT false)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_witness_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION witness_register(integer, text, text, text, text, boolean) IS
	'register this separate instance as the witness of the cluster';

/* ---------------------------------------------------------------------
 * Cluster
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION cluster_show(
	OUT id integer,
	OUT name text,
	OUT role text,
	OUT status text,
	OUT upstream text,
	OUT location text,
	OUT priority integer,
	OUT timeline integer,
	OUT lsn pg_lsn,
	OUT conninfo text,
	OUT sync_state text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_cluster_show'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cluster_show() IS
	'poll every registered node in parallel and show its state';

/* argument names would clash with OUT parameters, so the row is a type */
CREATE TYPE cluster_event_row AS (
	node_id integer,
	name text,
	event text,
	ok boolean,
	event_timestamp timestamptz,
	details text);

CREATE FUNCTION cluster_event(
	event text DEFAULT NULL,
	node_id integer DEFAULT NULL,
	lim integer DEFAULT 20)
RETURNS SETOF cluster_event_row
AS 'MODULE_PATHNAME', 'repmgr_cluster_event'
LANGUAGE C STABLE;

COMMENT ON FUNCTION cluster_event(text, integer, integer) IS
	'recorded events, newest first';

CREATE FUNCTION cluster_cleanup(keep_history_days integer DEFAULT 0)
RETURNS bigint
AS 'MODULE_PATHNAME', 'repmgr_cluster_cleanup'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cluster_cleanup(integer) IS
	'delete monitoring history older than the given number of days';

/* ---------------------------------------------------------------------
 * Node
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION node_status(
	OUT node_id integer,
	OUT node_name text,
	OUT type text,
	OUT role text,
	OUT active boolean,
	OUT upstream_node_id integer,
	OUT upstream_node_name text,
	OUT location text,
	OUT priority integer,
	OUT pg_version text,
	OUT data_directory text,
	OUT timeline integer,
	OUT lsn pg_lsn,
	OUT replication_lag bigint,
	OUT replay_lag interval,
	OUT wal_receiver_status text,
	OUT archive_mode text,
	OUT archive_ready_files integer,
	OUT replication_connections integer,
	OUT max_wal_senders integer,
	OUT replication_slots integer,
	OUT max_replication_slots integer,
	OUT worker_running boolean,
	OUT conninfo text,
	OUT synchronous text)
RETURNS record
AS 'MODULE_PATHNAME', 'repmgr_node_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION node_status() IS
	'facts about this node';

/* ---------------------------------------------------------------------
 * Node actions
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION promote(force boolean DEFAULT false,
						shut_down_primary integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_promote'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION promote(boolean, integer) IS
	'promote this standby; refused while a primary is running, or (without force) when another standby has more WAL; shut_down_primary: the primary the caller has seen write its shutdown checkpoint, which this standby has received (a switchover), is not asked';

CREATE FUNCTION follow(upstream_node_id integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_follow'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION follow(integer) IS
	'stream from another node (NULL: the running primary), by ALTER SYSTEM and reload';

CREATE FUNCTION node_check(
	lag_warning integer DEFAULT 300,
	lag_critical integer DEFAULT 600,
	archive_ready_warning integer DEFAULT 16,
	archive_ready_critical integer DEFAULT 128,
	OUT name text,
	OUT status text,
	OUT details text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_node_check'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION node_check(integer, integer, integer, integer) IS
	'health checks of this node: OK, WARNING, CRITICAL or UNKNOWN each';

CREATE FUNCTION record_event(
	node_id integer,
	event text,
	successful boolean DEFAULT true,
	details text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'repmgr_record_event'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION record_event(integer, text, boolean, text) IS
	'record an event on the primary and run the notification command';

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION daemon_status(
	OUT pid integer,
	OUT node_id integer,
	OUT role text,
	OUT state text,
	OUT upstream_node_id integer,
	OUT upstream_last_seen timestamptz,
	OUT primary_node_id integer,
	OUT primary_last_seen timestamptz,
	OUT term bigint,
	OUT voted_for integer,
	OUT paused boolean,
	OUT fenced boolean,
	OUT failover text,
	OUT started_at timestamptz,
	OUT loops bigint,
	OUT upstream_failures bigint,
	OUT elections bigint,
	OUT promotions bigint,
	OUT follows bigint,
	OUT events_queued integer,
	OUT events_dropped bigint,
	OUT last_error text,
	OUT last_error_at timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'repmgr_daemon_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION daemon_status() IS
	'the monitoring worker of this node, from shared memory';

CREATE FUNCTION daemon_pause(
	OUT node_id integer,
	OUT node_name text,
	OUT success boolean,
	OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_daemon_pause'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION daemon_pause() IS
	'pause the workers of every node: they keep monitoring but take no action';

CREATE FUNCTION daemon_unpause(
	OUT node_id integer,
	OUT node_name text,
	OUT success boolean,
	OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_daemon_unpause'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION daemon_unpause() IS
	'unpause the workers of every node';

CREATE FUNCTION daemon_set_paused(paused boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'repmgr_daemon_set_paused'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION daemon_set_paused(boolean) IS
	'pause or unpause the worker of this node only (used by daemon_pause)';

/* ---------------------------------------------------------------------
 * Peer calls between nodes
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION node_state(
	OUT node_id integer,
	OUT in_recovery boolean,
	OUT timeline integer,
	OUT lsn pg_lsn,
	OUT receive_lsn pg_lsn,
	OUT replay_lsn pg_lsn,
	OUT timeline_switch_lsn pg_lsn,
	OUT system_identifier text,
	OUT term bigint,
	OUT voted_for integer,
	OUT worker_state text,
	OUT paused boolean,
	OUT fenced boolean,
	OUT failover text,
	OUT primary_node_id integer,
	OUT primary_last_seen timestamptz,
	OUT primary_visible boolean,
	OUT wal_receiver_streaming boolean,
	OUT replay_settled boolean,
	OUT timeline_term bigint,
	OUT timeline_history text,
	OUT upstream_node_id integer)
RETURNS record
AS 'MODULE_PATHNAME', 'repmgr_node_state'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION node_state() IS
	'this node as its peers see it: role, position, term and worker view';

CREATE FUNCTION membership_change_begin()
RETURNS void
AS 'MODULE_PATHNAME', 'repmgr_membership_change_begin'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION membership_change_begin() IS
	'on the primary, before a node is added or removed in this transaction: wait until the previous change reached a majority and the lease counts this one (registration calls it)';

CREATE FUNCTION heartbeat(
	primary_id integer,
	term bigint,
	primary_lsn pg_lsn DEFAULT NULL,
	members_lsn pg_lsn DEFAULT NULL,
	members_timeline integer DEFAULT NULL,
	members_timeline_begin pg_lsn DEFAULT NULL,
	OUT accepted boolean,
	OUT term bigint,
	OUT in_recovery boolean,
	OUT is_primary boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'repmgr_heartbeat'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION heartbeat(integer, bigint, pg_lsn, pg_lsn, integer, pg_lsn) IS
	'the primary''s heartbeat, with its flush position and where its last change of the membership is (a position on its timeline, which began at members_timeline_begin); refused by a node that knows a newer term';

CREATE FUNCTION request_vote(
	term bigint,
	candidate_id integer,
	candidate_lsn pg_lsn,
	candidate_timeline integer DEFAULT 0,
	candidate_history text DEFAULT NULL,
	OUT granted boolean,
	OUT term bigint,
	OUT reason text,
	OUT code text,
	OUT timeline integer)
RETURNS record
AS 'MODULE_PATHNAME', 'repmgr_request_vote'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION request_vote(bigint, integer, pg_lsn, integer, text) IS
	'a candidate asks this node for its vote in a term (candidate_history: where the candidate''s ancestor timelines ended; timeline: this node''s)';

CREATE FUNCTION notify_follow(primary_id integer, term bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'repmgr_notify_follow'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION notify_follow(integer, bigint) IS
	'a newly promoted primary tells this node to follow it';

/* ---------------------------------------------------------------------
 * The worker's state machine and the failover decisions, for tests and
 * for people
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION worker_transitions(
	OUT state text,
	OUT event text,
	OUT action text,
	OUT next_state text,
	OUT state_observed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_worker_transitions'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION worker_observer_events(
	OUT state text,
	OUT event text,
	OUT handled boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_worker_observer_events'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_candidate(
	node_ids integer[],
	lsns pg_lsn[],
	priorities integer[],
	eligible boolean[])
RETURNS integer
AS 'MODULE_PATHNAME', 'repmgr_decide_candidate'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_quorum(visible integer, total integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'repmgr_decide_quorum'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_fence(acked integer, total integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'repmgr_decide_fence'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_follow(
	timeline integer,
	replay_lsn pg_lsn,
	receive_lsn pg_lsn,
	replay_settled boolean,
	target_timeline integer,
	target_switch_lsn pg_lsn)
RETURNS text
AS 'MODULE_PATHNAME', 'repmgr_decide_follow'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_vote(
	term bigint,
	candidate_lsn pg_lsn,
	voter_term bigint,
	voted_term bigint,
	voted_for integer,
	primary_lost boolean,
	heard_ago_ms bigint,
	replay_lsn pg_lsn,
	receive_lsn pg_lsn,
	replay_settled boolean,
	candidate integer DEFAULT 2)
RETURNS text
AS 'MODULE_PATHNAME', 'repmgr_decide_vote'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION decide_failover(
	members integer[],
	quorum integer,
	node_ids integer[],
	lsns pg_lsn[],
	priorities integer[],
	primary_lsn pg_lsn DEFAULT NULL,
	max_lag bigint DEFAULT -1)
RETURNS text
AS 'MODULE_PATHNAME', 'repmgr_decide_failover'
LANGUAGE C IMMUTABLE;

COMMENT ON FUNCTION decide_failover(integer[], integer, integer[], pg_lsn[], integer[], pg_lsn, bigint) IS
	'what node_ids[1] decides when the listed standbys lost the primary, ANY quorum (members) was published and the last heartbeat carried primary_lsn';

CREATE FUNCTION failover_timing(
	OUT name text,
	OUT milliseconds integer,
	OUT formula text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'repmgr_failover_timing'
LANGUAGE C STABLE;

COMMENT ON FUNCTION failover_timing() IS
	'detection, lease and worst-case failover times that the current settings give';

/* ---------------------------------------------------------------------
 * Privileges
 * ---------------------------------------------------------------------
 */

REVOKE ALL ON ALL TABLES IN SCHEMA repmgr FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA repmgr FROM PUBLIC;

GRANT USAGE ON SCHEMA repmgr TO pg_monitor;
GRANT SELECT ON repl_events, repl_monitor, repl_status, repl_sync TO pg_monitor;
-- conninfo may hold a password: monitoring roles read every other column,
-- and conninfo only masked, through cluster_show() and node_status()
GRANT SELECT (id, type, upstream_node_id, cluster, name, slot_name,
			  priority, location, active) ON repl_nodes TO pg_monitor;
GRANT SELECT (id, type, name, cluster, priority, active, location,
			  slot_name, upstream_node_id, upstream_node_name)
	ON repl_show_nodes TO pg_monitor;
GRANT EXECUTE ON FUNCTION cluster_show(), cluster_event(text, integer, integer),
				node_status(), daemon_status(),
				node_check(integer, integer, integer, integer) TO pg_monitor;

-- the read functions read repl_nodes whole (conninfo to poll the nodes),
-- as their owner, and show conninfo masked; a fixed search_path, as for
-- every SECURITY DEFINER function
ALTER FUNCTION cluster_show() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION cluster_event(text, integer, integer) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION node_status() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION daemon_status() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION node_check(integer, integer, integer, integer) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

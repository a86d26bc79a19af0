/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *	  The SQL-callable functions of schema repmgr: argument and privilege
 *	  checks, then a call into the module that does the work, and the
 *	  building of the result tuple.
 *
 * Functions are not STRICT, so that a NULL argument gets an error naming
 * it instead of a silent NULL result.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "repmgr.h"
#include "conninfo.h"
#include "actions.h"
#include "check.h"
#include "cluster.h"
#include "guc.h"
#include "localnode.h"
#include "register.h"
#include "sqlfuncs.h"
#include "status.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(repmgr_primary_register);
PG_FUNCTION_INFO_V1(repmgr_standby_register);
PG_FUNCTION_INFO_V1(repmgr_standby_unregister);
PG_FUNCTION_INFO_V1(repmgr_witness_register);
PG_FUNCTION_INFO_V1(repmgr_cluster_show);
PG_FUNCTION_INFO_V1(repmgr_cluster_event);
PG_FUNCTION_INFO_V1(repmgr_cluster_cleanup);
PG_FUNCTION_INFO_V1(repmgr_node_status);
PG_FUNCTION_INFO_V1(repmgr_node_state);
PG_FUNCTION_INFO_V1(repmgr_promote);
PG_FUNCTION_INFO_V1(repmgr_follow);
PG_FUNCTION_INFO_V1(repmgr_node_check);
PG_FUNCTION_INFO_V1(repmgr_record_event);
PG_FUNCTION_INFO_V1(repmgr_daemon_status);
PG_FUNCTION_INFO_V1(repmgr_daemon_pause);
PG_FUNCTION_INFO_V1(repmgr_daemon_unpause);
PG_FUNCTION_INFO_V1(repmgr_daemon_set_paused);

/* ----------
 * Argument checks
 * ----------
 */

void
require_superuser(const char *action)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errhint("Only superusers can change the repmgr metadata.")));
}

void
require_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be NULL", name)));
}

static int
arg_node_id(FunctionCallInfo fcinfo, int argno, const char *name)
{
	int			id;

	require_not_null(fcinfo, argno, name);
	id = PG_GETARG_INT32(argno);
	if (id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be a positive integer, not %d",
						name, id)));
	return id;
}

static char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *value;

	require_not_null(fcinfo, argno, name);
	value = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must not be empty", name)));
	return value;
}

static char *
arg_node_name(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = arg_text(fcinfo, argno, "node_name");
	const char *p;

	if (strlen(name) > REPMGR_MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node name \"%s...\" is too long",
						pnstrdup(name, pg_mbcliplen(name, strlen(name), REPMGR_MAX_NAME_LEN))),
				 errdetail("A node name is used as application_name and is limited to %d characters; this one has %d bytes.",
						   REPMGR_MAX_NAME_LEN, (int) strlen(name))));
	for (p = name; *p; p++)
		if (*p < 32 || *p > 126)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node name \"%s\" contains a character that is not printable ASCII",
							name),
					 errdetail("A node name is used as application_name, which allows printable ASCII only.")));
	return name;
}

static char *
arg_conninfo(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *conninfo = arg_text(fcinfo, argno, name);
	char	   *err = NULL;

	if (!conninfo_valid(conninfo, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid connection string in argument \"%s\"", name),
				 errdetail_internal("%s", err),
				 errhint("Use the libpq format, for example 'host=node1 dbname=repmgr user=repmgr'.")));
	return conninfo;
}

static int
arg_priority(FunctionCallInfo fcinfo, int argno)
{
	int			priority;

	require_not_null(fcinfo, argno, "priority");
	priority = PG_GETARG_INT32(argno);
	if (priority < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("priority must be zero or greater, not %d", priority),
				 errhint("Priority 0 means the node is never promoted.")));
	return priority;
}

static bool
arg_bool(FunctionCallInfo fcinfo, int argno, const char *name)
{
	require_not_null(fcinfo, argno, name);
	return PG_GETARG_BOOL(argno);
}

/* ----------
 * Registration
 * ----------
 */

/*
 * primary_register(node_id, node_name, conninfo, priority, location, force)
 */
Datum
repmgr_primary_register(PG_FUNCTION_ARGS)
{
	NodeInfo	node;
	bool		force;

	require_superuser("register a primary");
	memset(&node, 0, sizeof(node));
	node.node_id = arg_node_id(fcinfo, 0, "node_id");
	node.name = arg_node_name(fcinfo, 1);
	node.conninfo = arg_conninfo(fcinfo, 2, "conninfo");
	node.priority = arg_priority(fcinfo, 3);
	node.location = arg_text(fcinfo, 4, "location");
	force = arg_bool(fcinfo, 5, "force");

	PG_RETURN_INT32(register_primary(&node, force));
}

/*
 * standby_register(node_id, node_name, conninfo, upstream_node_id, priority,
 *					location, slot_name, force)
 */
Datum
repmgr_standby_register(PG_FUNCTION_ARGS)
{
	NodeInfo	node;
	bool		force;

	require_superuser("register a standby");
	memset(&node, 0, sizeof(node));
	node.node_id = arg_node_id(fcinfo, 0, "node_id");
	node.name = arg_node_name(fcinfo, 1);
	node.conninfo = arg_conninfo(fcinfo, 2, "conninfo");
	node.upstream_node_id = PG_ARGISNULL(3) ? InvalidNodeId :
		arg_node_id(fcinfo, 3, "upstream_node_id");
	node.priority = arg_priority(fcinfo, 4);
	node.location = arg_text(fcinfo, 5, "location");
	node.slot_name = PG_ARGISNULL(6) ? NULL : arg_text(fcinfo, 6, "slot_name");
	force = arg_bool(fcinfo, 7, "force");

	PG_RETURN_INT32(register_standby(&node, force));
}

/*
 * standby_unregister(node_id): NULL means this node
 */
Datum
repmgr_standby_unregister(PG_FUNCTION_ARGS)
{
	int			node_id;

	require_superuser("unregister a node");
	node_id = PG_ARGISNULL(0) ? InvalidNodeId : arg_node_id(fcinfo, 0, "node_id");

	PG_RETURN_INT32(unregister_node(node_id));
}

/*
 * witness_register(node_id, node_name, conninfo, primary_conninfo, location,
 *					force)
 */
Datum
repmgr_witness_register(PG_FUNCTION_ARGS)
{
	NodeInfo	node;
	char	   *primary_conninfo;
	bool		force;

	require_superuser("register a witness");
	memset(&node, 0, sizeof(node));
	node.node_id = arg_node_id(fcinfo, 0, "node_id");
	node.name = arg_node_name(fcinfo, 1);
	node.conninfo = arg_conninfo(fcinfo, 2, "conninfo");
	primary_conninfo = arg_conninfo(fcinfo, 3, "primary_conninfo");
	node.location = arg_text(fcinfo, 4, "location");
	force = arg_bool(fcinfo, 5, "force");

	PG_RETURN_INT32(register_witness(&node, primary_conninfo, force));
}

/* ----------
 * Cluster
 * ----------
 */

/*
 * cluster_show(): every node, polled in parallel
 */
Datum
repmgr_cluster_show(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	List	   *rows;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	rows = cluster_show_rows();

	foreach(lc, rows)
	{
		ClusterShowRow *row = (ClusterShowRow *) lfirst(lc);
		Datum		values[11];
		bool		nulls[11];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(row->node->node_id);
		values[1] = CStringGetTextDatum(row->node->name);
		values[2] = CStringGetTextDatum(node_type_name(row->node->type));
		values[3] = CStringGetTextDatum(row->status);
		if (row->upstream_name)
			values[4] = CStringGetTextDatum(row->upstream_name);
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(row->node->location);
		values[6] = Int32GetDatum(row->node->priority);
		if (row->reachable)
		{
			values[7] = Int32GetDatum(row->timeline);
			values[8] = LSNGetDatum(row->lsn);
		}
		else
			nulls[7] = nulls[8] = true;
		values[9] = CStringGetTextDatum(row->conninfo);
		if (row->sync_state)
			values[10] = CStringGetTextDatum(row->sync_state);
		else
			nulls[10] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * cluster_event(event, node_id, lim): newest first
 */
Datum
repmgr_cluster_event(PG_FUNCTION_ARGS)
{
	char	   *event = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			node_id = PG_ARGISNULL(1) ? InvalidNodeId : arg_node_id(fcinfo, 1, "node_id");
	int			limit;

	require_not_null(fcinfo, 2, "lim");
	limit = PG_GETARG_INT32(2);
	if (limit <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"lim\" must be a positive integer, not %d", limit)));

	cluster_events(fcinfo, event, node_id, limit);
	return (Datum) 0;
}

/*
 * cluster_cleanup(keep_history_days): number of monitoring rows deleted
 */
Datum
repmgr_cluster_cleanup(PG_FUNCTION_ARGS)
{
	int			days;

	require_superuser("clean up the monitoring history");
	require_not_null(fcinfo, 0, "keep_history_days");
	days = PG_GETARG_INT32(0);
	if (days < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"keep_history_days\" must be zero or greater, not %d",
						days)));

	PG_RETURN_INT64(cluster_cleanup(days));
}

/* ----------
 * Node
 * ----------
 */

Datum
make_result_tuple(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * node_status(): facts about this node, for people and monitoring
 */
Datum
repmgr_node_status(PG_FUNCTION_ARGS)
{
	NodeStatus	st;
	Datum		values[25];
	bool		nulls[25];

	node_status_collect(&st);
	memset(nulls, 0, sizeof(nulls));

#define SET_INT(i, has, v) do { if (has) values[i] = Int32GetDatum(v); else nulls[i] = true; } while (0)
#define SET_TEXT(i, v) do { if ((v) != NULL) values[i] = CStringGetTextDatum(v); else nulls[i] = true; } while (0)

	SET_INT(0, st.node_id != InvalidNodeId, st.node_id);
	SET_TEXT(1, st.node ? st.node->name : NULL);
	SET_TEXT(2, st.node ? node_type_name(st.node->type) : NULL);
	SET_TEXT(3, st.role);
	if (st.node)
		values[4] = BoolGetDatum(st.node->active);
	else
		nulls[4] = true;
	SET_INT(5, st.node && st.node->upstream_node_id != InvalidNodeId,
			st.node ? st.node->upstream_node_id : 0);
	SET_TEXT(6, st.upstream_name);
	SET_TEXT(7, st.node ? st.node->location : NULL);
	SET_INT(8, st.node != NULL, st.node ? st.node->priority : 0);
	SET_TEXT(9, st.pg_version);
	SET_TEXT(10, st.data_directory);
	values[11] = Int32GetDatum(st.position.timeline);
	values[12] = LSNGetDatum(st.position.lsn);
	if (st.position.in_recovery)
	{
		values[13] = Int64GetDatum(st.replication_lag_bytes);
		if (st.replay_lag_known)
			values[14] = IntervalPGetDatum(st.replay_lag);
		else
			nulls[14] = true;
	}
	else
		nulls[13] = nulls[14] = true;
	SET_TEXT(15, st.walreceiver_state);
	SET_TEXT(16, st.archive_mode);
	values[17] = Int32GetDatum(st.archive_ready_files);
	values[18] = Int32GetDatum(st.replication_connections);
	values[19] = Int32GetDatum(st.max_wal_senders);
	values[20] = Int32GetDatum(st.replication_slots);
	values[21] = Int32GetDatum(st.max_replication_slots);
	values[22] = BoolGetDatum(st.worker_running);
	SET_TEXT(23, st.node ? conninfo_mask(st.node->conninfo) : NULL);
	SET_TEXT(24, st.synchronous);

	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

/*
 * node_state(): this node as its peers need to see it
 */
Datum
repmgr_node_state(PG_FUNCTION_ARGS)
{
	NodeState	st;
	Datum		values[22];
	bool		nulls[22];
	char	   *history;

	node_state_collect(&st);
	memset(nulls, 0, sizeof(nulls));

	SET_INT(0, repmgr_node_id != InvalidNodeId, repmgr_node_id);
	values[1] = BoolGetDatum(st.position.in_recovery);
	values[2] = Int32GetDatum(st.position.timeline);
	values[3] = LSNGetDatum(st.position.lsn);
	if (st.position.in_recovery)
	{
		values[4] = LSNGetDatum(st.position.receive_lsn);
		values[5] = LSNGetDatum(st.position.replay_lsn);
	}
	else
		nulls[4] = nulls[5] = true;
	if (st.position.timeline_switch_lsn != InvalidXLogRecPtr)
		values[6] = LSNGetDatum(st.position.timeline_switch_lsn);
	else
		nulls[6] = true;
	values[7] = CStringGetTextDatum(psprintf(UINT64_FORMAT, st.system_identifier));
	values[8] = Int64GetDatum(st.durable.term);
	SET_INT(9, st.durable.voted_for != InvalidNodeId, st.durable.voted_for);
	SET_TEXT(10, st.worker_state);
	values[11] = BoolGetDatum(st.durable.paused);
	values[12] = BoolGetDatum(st.durable.fenced);
	values[13] = CStringGetTextDatum(failover_mode_name(repmgr_failover_mode));
	SET_INT(14, st.primary_node_id != InvalidNodeId, st.primary_node_id);
	if (st.primary_last_seen != 0)
		values[15] = TimestampTzGetDatum(st.primary_last_seen);
	else
		nulls[15] = true;
	if (st.primary_visible_known)
		values[16] = BoolGetDatum(st.primary_visible);
	else
		nulls[16] = true;
	values[17] = BoolGetDatum(st.walreceiver_streaming);
	if (st.position.in_recovery)
		values[18] = BoolGetDatum(st.position.settled);
	else
		nulls[18] = true;
	if (st.timeline_term != 0)
		values[19] = Int64GetDatum(st.timeline_term);
	else
		nulls[19] = true;
	history = local_timeline_history(st.position.timeline);
	if (history != NULL)
		values[20] = CStringGetTextDatum(history);
	else
		nulls[20] = true;
	SET_INT(21, st.upstream_node_id != InvalidNodeId, st.upstream_node_id);

	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

/*
 * promote(force, shut_down_primary): promote this standby, refusing while
 * a primary runs.  shut_down_primary (NULL: none) is a node the caller has
 * seen write its shutdown checkpoint, received here (a switchover): it is
 * not asked.
 */
Datum
repmgr_promote(PG_FUNCTION_ARGS)
{
	int			shut_down = InvalidNodeId;

	require_superuser("promote a standby");
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
		shut_down = PG_GETARG_INT32(1);
	PG_RETURN_INT32(node_promote(arg_bool(fcinfo, 0, "force"), shut_down));
}

/*
 * follow(upstream_node_id): stream from another node; NULL: the primary
 */
Datum
repmgr_follow(PG_FUNCTION_ARGS)
{
	int			upstream;

	require_superuser("re-point a standby");
	upstream = PG_ARGISNULL(0) ? InvalidNodeId :
		arg_node_id(fcinfo, 0, "upstream_node_id");
	PG_RETURN_INT32(node_follow(upstream));
}

static int
arg_threshold(FunctionCallInfo fcinfo, int argno, const char *name)
{
	int			v;

	require_not_null(fcinfo, argno, name);
	v = PG_GETARG_INT32(argno);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be zero or greater, not %d", name, v)));
	return v;
}

/*
 * node_check(lag_warning, lag_critical, archive_ready_warning,
 *			  archive_ready_critical)
 */
Datum
repmgr_node_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	List	   *checks;
	ListCell   *lc;
	int			lag_warning = arg_threshold(fcinfo, 0, "lag_warning");
	int			lag_critical = arg_threshold(fcinfo, 1, "lag_critical");
	int			archive_warning = arg_threshold(fcinfo, 2, "archive_ready_warning");
	int			archive_critical = arg_threshold(fcinfo, 3, "archive_ready_critical");

	if (lag_warning > lag_critical || archive_warning > archive_critical)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a warning threshold must not be above its critical threshold")));

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	checks = node_checks(lag_warning, lag_critical, archive_warning, archive_critical);
	foreach(lc, checks)
	{
		NodeCheck  *c = (NodeCheck *) lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(c->name);
		values[1] = CStringGetTextDatum(check_status_name(c->status));
		values[2] = CStringGetTextDatum(c->details);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * record_event(node_id, event, successful, details): for bin/repmgr's steps
 */
Datum
repmgr_record_event(PG_FUNCTION_ARGS)
{
	EventInfo	ev;
	List	   *nodes;
	NodeInfo   *node;
	NodeInfo   *primary;

	require_superuser("record an event");
	memset(&ev, 0, sizeof(ev));
	ev.node_id = arg_node_id(fcinfo, 0, "node_id");
	ev.event = arg_text(fcinfo, 1, "event");
	if (strlen(ev.event) >= REPMGR_EVENT_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event name \"%s...\" is too long",
						pnstrdup(ev.event, pg_mbcliplen(ev.event, strlen(ev.event),
														REPMGR_EVENT_NAME_LEN - 1))),
				 errdetail("An event name is limited to %d bytes; this one has %d.",
						   REPMGR_EVENT_NAME_LEN - 1, (int) strlen(ev.event))));
	ev.successful = arg_bool(fcinfo, 2, "successful");
	ev.details = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	ev.timestamp = GetCurrentTimestamp();

	nodes = nodes_fetch_all();
	node = nodes_lookup(nodes, ev.node_id);
	primary = nodes_active_primary(nodes);
	ev.node_name = node ? node->name : NULL;
	ev.primary_node_id = primary ? primary->node_id : InvalidNodeId;
	ev.primary_conninfo = primary ? primary->conninfo : NULL;
	events_record(&ev);
	PG_RETURN_VOID();
}

/*
 * daemon_status(): the worker, from shared memory
 */
Datum
repmgr_daemon_status(PG_FUNCTION_ARGS)
{
	WorkerStatus ws;
	RepmgrDurableState durable;
	Datum		values[23];
	bool		nulls[23];
	bool		have_shmem = shmem_worker_status(&ws);
	bool		running = have_shmem && ws.pid != 0;

	if (!have_shmem)
		shmem_require_notice("there is no worker");
	shmem_get_durable(&durable);
	memset(nulls, 0, sizeof(nulls));

#define SET_TS(i, v) do { if ((v) != 0) values[i] = TimestampTzGetDatum(v); else nulls[i] = true; } while (0)

	SET_INT(0, running, ws.pid);
	SET_INT(1, repmgr_node_id != InvalidNodeId, repmgr_node_id);
	SET_TEXT(2, running && ws.role != NODE_TYPE_UNKNOWN ? node_type_name(ws.role) : NULL);
	values[3] = CStringGetTextDatum(worker_state_name(running ? ws.state : WS_NONE));
	SET_INT(4, running && ws.upstream_node_id != InvalidNodeId, ws.upstream_node_id);
	SET_TS(5, running ? ws.upstream_last_seen : 0);
	SET_INT(6, running && ws.primary_node_id != InvalidNodeId, ws.primary_node_id);
	SET_TS(7, running ? ws.primary_last_seen : 0);
	values[8] = Int64GetDatum(durable.term);
	SET_INT(9, durable.voted_for != InvalidNodeId, durable.voted_for);
	values[10] = BoolGetDatum(durable.paused);
	values[11] = BoolGetDatum(durable.fenced);
	values[12] = CStringGetTextDatum(failover_mode_name(repmgr_failover_mode));
	SET_TS(13, running ? ws.started_at : 0);
	values[14] = Int64GetDatum(ws.loops);
	values[15] = Int64GetDatum(ws.upstream_failures);
	values[16] = Int64GetDatum(ws.elections);
	values[17] = Int64GetDatum(ws.promotions);
	values[18] = Int64GetDatum(ws.follows);
	values[19] = Int32GetDatum(ws.events_queued);
	values[20] = Int64GetDatum(ws.events_dropped);
	SET_TEXT(21, ws.last_error[0] ? ws.last_error : NULL);
	SET_TS(22, ws.last_error_at);

	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

static Datum
pause_results(FunctionCallInfo fcinfo, bool paused)
{
	ReturnSetInfo *rsinfo;
	List	   *results;
	ListCell   *lc;

	require_superuser(paused ? "pause the workers" : "unpause the workers");
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	results = cluster_set_paused(paused);
	foreach(lc, results)
	{
		PauseResult *r = (PauseResult *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(r->node->node_id);
		values[1] = CStringGetTextDatum(r->node->name);
		values[2] = BoolGetDatum(r->ok);
		values[3] = CStringGetTextDatum(r->detail);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if (!r->ok)
			ereport(WARNING,
					(errmsg("could not %s the worker of node %d (\"%s\")",
							paused ? "pause" : "unpause", r->node->node_id, r->node->name),
					 errdetail_internal("%s", r->detail)));
	}
	return (Datum) 0;
}

/* daemon_pause(): every node of the cluster */
Datum
repmgr_daemon_pause(PG_FUNCTION_ARGS)
{
	return pause_results(fcinfo, true);
}

/* daemon_unpause(): every node of the cluster */
Datum
repmgr_daemon_unpause(PG_FUNCTION_ARGS)
{
	return pause_results(fcinfo, false);
}

/*
 * daemon_set_paused(paused): this node only (the peer call of daemon_pause)
 */
Datum
repmgr_daemon_set_paused(PG_FUNCTION_ARGS)
{
	bool		paused;

	require_superuser("pause the worker");
	paused = arg_bool(fcinfo, 0, "paused");
	shmem_set_paused(paused);
	PG_RETURN_BOOL(paused);
}

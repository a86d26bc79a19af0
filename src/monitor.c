/*-------------------------------------------------------------------------
 *
 * monitor.c
 *	  What the worker watches in each role, and the actions of monitoring:
 *	  - startup: is this node ready (node id, extension, record), and in
 *		which role;
 *	  - standby: its upstream over a persistent connection, its WAL
 *		receiver, the monitoring history on the primary;
 *	  - suspect: the reconnect attempts to a lost upstream;
 *	  - primary: heartbeats and lease (lease.c), its downstream nodes;
 *	  - witness: the primary, and the copy of its metadata.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "actions.h"
#include "guc.h"
#include "worker.h"

#define PROBE_SQL "SELECT in_recovery, lsn, term FROM repmgr.node_state()"

#define INSERT_MONITOR_SQL \
	"INSERT INTO repmgr.repl_monitor (primary_node, standby_node, last_monitor_time, " \
	"last_apply_time, last_wal_primary_location, last_wal_standby_location, " \
	"replication_lag, apply_lag) VALUES ($1::integer, $2::integer, " \
	"pg_catalog.to_timestamp($3::float8), pg_catalog.to_timestamp($4::float8), " \
	"$5::pg_lsn, $6::pg_lsn, $7::bigint, $8::bigint)"

#define WITNESS_COPY_INTERVAL_MS 5000

int
monitoring_state_for_role(WorkerCtx *ctx)
{
	if (ctx->position.in_recovery)
		return WS_STANDBY;
	if (ctx->self != NULL && ctx->self->type == NODE_TYPE_WITNESS)
		return WS_WITNESS;
	return WS_PRIMARY;
}

/* ----------
 * Startup
 * ----------
 */

static void
say_not_ready(WorkerCtx *ctx, const char *why, const char *hint)
{
	if (strcmp(ctx->not_ready, why) == 0)
		return;
	strlcpy(ctx->not_ready, why, sizeof(ctx->not_ready));
	ereport(LOG,
			(errmsg("repmgr worker: %s; waiting", why),
			 errhint("%s", hint)));
	worker_set_error(ctx, "%s", why);
}

WorkerEvent
observe_startup(WorkerCtx *ctx)
{
	ctx->next_check = MonoPlusMs(mono_now(), repmgr_monitor_interval_ms);
	if (repmgr_node_id == InvalidNodeId)
	{
		say_not_ready(ctx, "repmgr.node_id is not set",
					  "Set repmgr.node_id in postgresql.conf and reload.");
		return EV_NOT_READY;
	}
	if (!ctx->extension_ready)
	{
		say_not_ready(ctx, psprintf("extension repmgr is not installed in database \"%s\"",
									repmgr_database),
					  "Run CREATE EXTENSION repmgr in that database.");
		return EV_NOT_READY;
	}
	if (ctx->self == NULL)
	{
		say_not_ready(ctx, psprintf("node %d is not registered", repmgr_node_id),
					  "Register it with repmgr.primary_register(), standby_register() or witness_register().");
		return EV_NOT_READY;
	}
	ctx->not_ready[0] = '\0';

	if (ctx->position.in_recovery)
		return EV_IS_STANDBY;
	if (ctx->self->type == NODE_TYPE_WITNESS)
		return EV_IS_WITNESS;
	if (ctx->durable.fenced)
		return EV_IS_FENCED;
	return EV_IS_PRIMARY;
}

void
act_none(WorkerCtx *ctx)
{
}

static void
record_start(WorkerCtx *ctx, const char *details)
{
	ereport(LOG,
			(errmsg("repmgr worker: starting monitoring of node %s (ID: %d)",
					ctx->self->name, ctx->self->node_id),
			 errdetail("%s", details)));
	if (ctx->start_recorded)
		return;
	ctx->start_recorded = true;
	worker_record_event(ctx, "repmgrd_start", true, details);
}

static void
reset_failure_state(WorkerCtx *ctx)
{
	ctx->attempts = 0;
	ctx->lost_primary_id = InvalidNodeId;
	ctx->status.primary_lost = false;
	ctx->reason[0] = '\0';
	ctx->next_check = 0;
}

void
act_start_primary(WorkerCtx *ctx)
{
	if (ctx->state != WS_STARTING && ctx->state != WS_UNREGISTERED &&
		ctx->state != WS_FENCED)
		ereport(LOG, (errmsg("repmgr worker: switching to primary monitoring mode")));
	remote_close(ctx->upstream_conn);
	ctx->upstream_conn = NULL;
	ctx->upstream_id = InvalidNodeId;
	ctx->status.role = NODE_TYPE_PRIMARY;
	ctx->status.upstream_node_id = InvalidNodeId;
	ctx->status.primary_node_id = repmgr_node_id;
	ctx->status.primary_visible = true;
	ctx->next_heartbeat = 0;
	ctx->next_downstream = 0;
	ctx->sync_known = false;
	reset_failure_state(ctx);
	record_start(ctx, psprintf("monitoring cluster primary \"%s\" (node ID: %d)",
							   ctx->self->name, ctx->self->node_id));
}

/* the node a standby streams from: its record's upstream, or the primary */
static int
choose_upstream(WorkerCtx *ctx)
{
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);

	if (ctx->self->upstream_node_id != InvalidNodeId &&
		worker_node(ctx, ctx->self->upstream_node_id) != NULL)
		return ctx->self->upstream_node_id;
	return primary ? primary->node_id : InvalidNodeId;
}

static void
set_upstream(WorkerCtx *ctx, int upstream_id)
{
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);
	int			seen = ctx->self->upstream_node_id;

	if (upstream_id != ctx->upstream_id)
	{
		remote_close(ctx->upstream_conn);
		ctx->upstream_conn = NULL;
	}
	ctx->upstream_id = upstream_id;
	ctx->status.upstream_node_id = upstream_id;
	ctx->status.primary_node_id = primary ? primary->node_id : InvalidNodeId;
	/* a witness follows the primary of its copy, a standby its record */
	if (ctx->self->type == NODE_TYPE_WITNESS)
		seen = primary ? primary->node_id : InvalidNodeId;
	ctx->registry_upstream_seen = seen;
	ctx->next_check = 0;
}

void
act_start_standby(WorkerCtx *ctx)
{
	NodeInfo   *up;

	/* a fenced old primary that rejoined as a standby: the fence has done its job */
	if (ctx->durable.fenced || ctx->durable.lease_armed)
	{
		shmem_set_fenced(false, 0);
		shmem_arm_lease(false);
		shmem_set_lease(false, 0);
	}
	ctx->status.role = NODE_TYPE_STANDBY;
	set_upstream(ctx, choose_upstream(ctx));
	reset_failure_state(ctx);
	walstop_start_standby(ctx);
	ctx->walreceiver_was_streaming = local_walreceiver_streaming();
	up = worker_node(ctx, ctx->upstream_id);
	record_start(ctx, up ?
				 psprintf("monitoring connection to upstream node \"%s\" (node ID: %d)",
						  up->name, up->node_id) :
				 pstrdup("no upstream node is registered"));
}

void
act_start_witness(WorkerCtx *ctx)
{
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);

	ctx->status.role = NODE_TYPE_WITNESS;
	set_upstream(ctx, primary ? primary->node_id : InvalidNodeId);
	reset_failure_state(ctx);
	ctx->next_witness_copy = 0;
	record_start(ctx, primary ?
				 psprintf("witness monitoring cluster primary \"%s\" (node ID: %d)",
						  primary->name, primary->node_id) :
				 pstrdup("witness: no primary is registered"));
}

/* ----------
 * Checking the upstream
 * ----------
 */

static void
write_monitoring_history(WorkerCtx *ctx, int primary_id, RemoteConn *conn,
						 const char *conninfo, XLogRecPtr primary_lsn)
{
	RemoteOp	op;
	const char *params[8];
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz applied = GetLatestXTime();
	XLogRecPtr	received = ctx->position.receive_lsn;
	XLogRecPtr	replayed = ctx->position.replay_lsn;

	if (received < replayed)
		received = replayed;
	params[0] = psprintf("%d", primary_id);
	params[1] = psprintf("%d", repmgr_node_id);
	params[2] = psprintf("%.6f", epoch_seconds(now));
	params[3] = applied ? psprintf("%.6f", epoch_seconds(applied)) : NULL;
	params[4] = psprintf("%X/%X", LSN_FORMAT_ARGS(primary_lsn));
	params[5] = psprintf("%X/%X", LSN_FORMAT_ARGS(received));
	params[6] = psprintf(INT64_FORMAT, primary_lsn > received ? (int64) (primary_lsn - received) : 0);
	params[7] = psprintf(INT64_FORMAT, (int64) (received - replayed));

	memset(&op, 0, sizeof(op));
	op.rc = conn;
	op.conninfo = conninfo;
	op.sql = INSERT_MONITOR_SQL;
	op.nparams = 8;
	op.params = params;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	if (op.rc->status != REMOTE_OK)
		worker_set_error(ctx, "could not write monitoring history: %s", op.rc->error);
	PQclear(op.result);
}

/*
 * Does this failure of a probe count against the node probed?  A server
 * that answers, even to refuse us, is alive; a connection string that does
 * not parse says nothing about the server (and must never start a
 * failover: every node would read the same broken record).
 */
static bool
probe_failed(RemoteStatus status)
{
	return status != REMOTE_OK && status != REMOTE_REJECTED &&
		status != REMOTE_QUERY_FAILED && status != REMOTE_BAD_CONNINFO;
}

/*
 * A cascaded standby watches the primary too, to vote in an election:
 * it has lost it once every check failed for the confirmation window of
 * a direct standby, (reconnect_attempts - 1) x reconnect_interval.
 */
static void
track_primary_from_cascade(WorkerCtx *ctx, bool seen, RemoteStatus status,
						   MonoTime now)
{
	long		window = (long) (repmgr_reconnect_attempts - 1) * repmgr_reconnect_interval_ms;

	if (seen)
	{
		ctx->primary_failing_since = 0;
		ctx->status.primary_lost = false;
		return;
	}
	if (ctx->primary_failing_since == 0)
		ctx->primary_failing_since = now;
	/* look again at the pace of reconnect attempts */
	ctx->next_check = Min(ctx->next_check,
						  MonoPlusMs(now, repmgr_reconnect_interval_ms));
	if (mono_diff_ms(ctx->primary_failing_since, now) >= window)
		ctx->status.primary_lost = true;
}

/*
 * Check the upstream (and, for a cascaded standby, the primary) in one
 * parallel round over persistent connections.  False if the upstream
 * does not answer.
 */
static bool
check_upstream(WorkerCtx *ctx)
{
	MonoTime	now = mono_now();
	NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);
	PeerLink   *plink = NULL;
	RemoteOp	ops[2];
	int			n = 1;
	bool		ok;
	XLogRecPtr	primary_lsn = InvalidXLogRecPtr;

	ctx->next_check = MonoPlusMs(now, repmgr_monitor_interval_ms);
	if (up == NULL)
	{
		worker_set_error(ctx, "upstream node %d is not registered", ctx->upstream_id);
		return true;
	}
	if (ctx->upstream_conn == NULL)
		ctx->upstream_conn = remote_conn_new();

	memset(ops, 0, sizeof(ops));
	ops[0].rc = ctx->upstream_conn;
	ops[0].conninfo = up->conninfo;
	ops[0].sql = PROBE_SQL;
	if (primary != NULL && primary->node_id != up->node_id &&
		primary->node_id != repmgr_node_id && ctx->status.role == NODE_TYPE_STANDBY)
	{
		plink = peer_link(ctx, primary->node_id);
		if (plink->conn == NULL)
			plink->conn = remote_conn_new();
		ops[1].rc = plink->conn;
		ops[1].conninfo = primary->conninfo;
		ops[1].sql = PROBE_SQL;
		n = 2;
	}
	remote_run(ops, n, repmgr_connect_timeout_ms);

	ok = !probe_failed(ops[0].rc->status);
	if (ops[0].rc->status == REMOTE_BAD_CONNINFO)
		worker_set_error(ctx, "the connection string of upstream node %d is invalid: %s",
						 up->node_id, ops[0].rc->error);
	if (ok)
	{
		ctx->status.upstream_last_seen = GetCurrentTimestamp();
		if (ops[0].result && primary && up->node_id == primary->node_id)
			primary_lsn = DatumGetLSN(DirectFunctionCall1(pg_lsn_in,
														  CStringGetDatum(PQgetvalue(ops[0].result, 0, 1))));
	}
	else
		ereport(WARNING,
				(errmsg("repmgr worker: unable to connect to upstream node \"%s\" (node ID: %d)",
						up->name, up->node_id),
				 errdetail_internal("%s: %s", remote_status_name(ops[0].rc->status),
									ops[0].rc->error)));

	/* can this node see the primary? */
	if (primary != NULL)
	{
		bool		seen = (n == 2) ? !probe_failed(ops[1].rc->status) :
			(ok && up->node_id == primary->node_id);

		ctx->status.primary_node_id = primary->node_id;
		ctx->status.primary_visible = seen;
		if (seen)
			ctx->status.primary_last_seen = GetCurrentTimestamp();
		if (n == 2)
			track_primary_from_cascade(ctx, seen, ops[1].rc->status, now);
		if (n == 2 && ops[1].result)
			primary_lsn = DatumGetLSN(DirectFunctionCall1(pg_lsn_in,
														  CStringGetDatum(PQgetvalue(ops[1].result, 0, 1))));
	}
	PQclear(ops[0].result);
	if (n == 2)
		PQclear(ops[1].result);

	if (repmgr_monitoring_history && ctx->status.role == NODE_TYPE_STANDBY &&
		primary_lsn != InvalidXLogRecPtr)
		write_monitoring_history(ctx, primary->node_id,
								 n == 2 ? plink->conn : ctx->upstream_conn,
								 primary->conninfo, primary_lsn);
	return ok;
}

/*
 * The node this standby's WAL receiver streams from, known when its
 * primary_conninfo is exactly what a follow writes for a registered node
 * (follow_conninfo()); InvalidNodeId when it does not stream, or when
 * primary_conninfo is anything else (written by hand or by a clone, or
 * cleared for a vote).
 */
static int
streaming_from(WorkerCtx *ctx)
{
	const char *current = GetConfigOption("primary_conninfo", true, false);
	ListCell   *lc;

	if (current == NULL || current[0] == '\0' || !local_walreceiver_streaming())
		return InvalidNodeId;
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);

		if (node->node_id == repmgr_node_id || !node->active ||
			node->type == NODE_TYPE_WITNESS)
			continue;
		if (strcmp(follow_conninfo(ctx->self, node), current) == 0)
			return node->node_id;
	}
	return InvalidNodeId;
}

WorkerEvent
observe_standby(WorkerCtx *ctx)
{
	bool		streaming;
	int			from;

	if (!ctx->position.in_recovery)
		return EV_PROMOTED;
	if (ctx->self == NULL)
		return EV_NOT_READY;

	/* our record names another upstream (a follow made elsewhere) */
	if (ctx->self->upstream_node_id != ctx->registry_upstream_seen)
	{
		ctx->registry_upstream_seen = ctx->self->upstream_node_id;
		ctx->record_written = InvalidNodeId;
		if (ctx->self->upstream_node_id != InvalidNodeId &&
			ctx->self->upstream_node_id != ctx->upstream_id)
			return EV_UPSTREAM_CHANGED;
	}

	/* a WAL receiver that stops streaming is a reason to check at once */
	streaming = local_walreceiver_streaming();
	if (ctx->walreceiver_was_streaming && !streaming)
		ctx->next_check = 0;
	ctx->walreceiver_was_streaming = streaming;

	if (mono_now() < ctx->next_check)
		return EV_OK;
	sync_observe_standby(ctx);
	if (!check_upstream(ctx))
		return EV_UPSTREAM_LOST;
	/* a WAL receiver stopped for a vote: stream again once that is safe */
	walstop_restore_if_current(ctx, worker_node(ctx, ctx->upstream_id));

	/*
	 * It streams from a node its record does not name: a follow half done.
	 * A follow records the new upstream right after it re-points
	 * primary_conninfo, so one running now is given a monitor interval.
	 */
	if (ctx->record_written == ctx->self->upstream_node_id)
		ctx->record_written = InvalidNodeId;
	from = streaming_from(ctx);
	if (from == InvalidNodeId || from == choose_upstream(ctx) ||
		from == ctx->record_written)
		ctx->record_stale_since = 0;
	else if (ctx->record_stale_since == 0)
		ctx->record_stale_since = mono_now();
	else if (mono_exceeds(ctx->record_stale_since, mono_now(),
										repmgr_monitor_interval_ms / 2))
		return EV_RECORD_STALE;
	return EV_OK;
}

/*
 * The upstream that the record of this node names on the primary (the
 * local copy can lag behind), or -1 if the primary cannot tell.
 */
static int
upstream_on_primary(NodeInfo *primary)
{
	RemoteOp	op;
	const char *params[1];
	int			upstream = -1;

	params[0] = psprintf("%d", repmgr_node_id);
	memset(&op, 0, sizeof(op));
	op.conninfo = primary->conninfo;
	op.sql = "SELECT coalesce(upstream_node_id, 0) FROM repmgr.repl_nodes WHERE id = $1::integer";
	op.nparams = 1;
	op.params = params;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	if (op.rc->status == REMOTE_OK && op.result && PQntuples(op.result) == 1)
		upstream = atoi(PQgetvalue(op.result, 0, 0));
	remote_op_release(&op);
	return upstream;
}

/*
 * The record of this standby names another upstream than the node it
 * streams from: a follow re-pointed primary_conninfo and then failed to
 * record it (the worker's, when the new primary did not accept writes
 * yet; or one that ended in between).  The node's record is what the
 * primary's synchronous set, the switchover and "cluster show" go by,
 * and nothing else would ever put it right while the old upstream is up:
 * watch the node it streams from, and write that into its record.
 */
void
act_repair_record(WorkerCtx *ctx)
{
	int			from = streaming_from(ctx);
	NodeInfo   *target = worker_node(ctx, from);
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);

	if (target == NULL)
		return;
	ereport(LOG,
			(errmsg("repmgr worker: node %d streams from node %d (\"%s\"), but its record names node %d as its upstream: repairing the record",
					repmgr_node_id, target->node_id, target->name,
					ctx->self->upstream_node_id)));
	if (ctx->upstream_id != from)
		set_upstream(ctx, from);
	ctx->record_stale_since = 0;
	if (primary != NULL && upstream_on_primary(primary) == from)
	{
		/* written there already (by the follow), not yet replayed here */
		ctx->record_written = from;
		return;
	}
	if (worker_record_follow(ctx, target, primary ? primary->conninfo : NULL,
							 NULL, false))
		ctx->record_written = from;
}

/*
 * Our record names another upstream (a follow made elsewhere, also while
 * the old one was lost): watch that one, the loss forgotten.
 */
void
act_reconnect_upstream(WorkerCtx *ctx)
{
	NodeInfo   *up = worker_node(ctx, ctx->self->upstream_node_id);

	ereport(LOG,
			(errmsg("repmgr worker: upstream of node %d is now node %d (\"%s\")",
					repmgr_node_id, ctx->self->upstream_node_id,
					up ? up->name : "?")));
	set_upstream(ctx, ctx->self->upstream_node_id);
	reset_failure_state(ctx);
	worker_close_peer_links(ctx);	/* those of the failure's polls */
	ctx->status.primary_visible = true;
}

/* ----------
 * The witness
 * ----------
 */

/*
 * Copy the primary's repl_nodes into the witness's own database.
 */
void
witness_copy_metadata(WorkerCtx *ctx, NodeInfo *primary)
{
	RemoteOp	op;

	ctx->next_witness_copy = MonoPlusMs(mono_now(), WITNESS_COPY_INTERVAL_MS);
	if (ctx->upstream_conn == NULL)
		ctx->upstream_conn = remote_conn_new();
	memset(&op, 0, sizeof(op));
	op.rc = ctx->upstream_conn;
	op.conninfo = primary->conninfo;
	op.sql = NODES_AS_JSON_SQL;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	if (op.result == NULL)
		return;
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	nodes_replace_all(PQgetvalue(op.result, 0, 0));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	PQclear(op.result);
}

WorkerEvent
observe_witness(WorkerCtx *ctx)
{
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);
	NodeInfo   *up;

	if (ctx->self == NULL)
		return EV_NOT_READY;
	/* our copy names another primary (someone changed it) */
	if (primary != NULL && primary->node_id != ctx->registry_upstream_seen)
		ctx->registry_upstream_seen = primary->node_id;
	else
		primary = NULL;
	if (primary != NULL && primary->node_id != ctx->upstream_id)
	{
		ctx->follow_target = primary->node_id;
		ctx->follow_primary = primary->node_id;
		ctx->follow_term = 0;
		return EV_NEW_PRIMARY;
	}
	if (mono_now() < ctx->next_check &&
		mono_now() < ctx->next_witness_copy)
		return EV_OK;
	if (!check_upstream(ctx))
		return EV_UPSTREAM_LOST;
	up = worker_node(ctx, ctx->upstream_id);
	if (up != NULL && mono_now() >= ctx->next_witness_copy &&
		remote_is_open(ctx->upstream_conn))
		witness_copy_metadata(ctx, up);
	return EV_OK;
}

/* ----------
 * The upstream is suspected lost: reconnect attempts
 * ----------
 */

void
act_suspect_begin(WorkerCtx *ctx)
{
	ctx->attempts = 0;
	ctx->lost_since = mono_now();
	ctx->next_attempt = ctx->lost_since;
	ctx->status.upstream_failures++;
	ctx->status.primary_visible = false;
}

WorkerEvent
observe_suspect(WorkerCtx *ctx)
{
	MonoTime	start = mono_now();
	NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
	RemoteOp	op;
	bool		ok;
	int			deadline;

	if (ctx->status.role == NODE_TYPE_STANDBY && !ctx->position.in_recovery)
		return EV_PROMOTED;
	if (start < ctx->next_attempt)
		return EV_UPSTREAM_PENDING;
	if (up == NULL)
		return EV_UPSTREAM_FAILED;

	ctx->attempts++;
	ereport(LOG,
			(errmsg("repmgr worker: checking state of node %d, %d of %d attempts",
					up->node_id, ctx->attempts, repmgr_reconnect_attempts)));

	/* a fresh connection, with a deadline that keeps the attempts' cadence */
	remote_close(ctx->upstream_conn);
	ctx->upstream_conn = remote_conn_new();
	deadline = Min(repmgr_connect_timeout_ms, Max(repmgr_reconnect_interval_ms, 100));
	memset(&op, 0, sizeof(op));
	op.rc = ctx->upstream_conn;
	op.conninfo = up->conninfo;
	op.sql = PROBE_SQL;
	remote_run(&op, 1, deadline);
	ok = !probe_failed(op.rc->status);
	PQclear(op.result);

	if (ok)
	{
		ereport(LOG,
				(errmsg("repmgr worker: reconnected to upstream node %d after %d attempts",
						up->node_id, ctx->attempts)));
		return EV_UPSTREAM_OK;
	}
	if (ctx->attempts >= repmgr_reconnect_attempts)
	{
		ereport(WARNING,
				(errmsg("repmgr worker: unable to reconnect to node %d after %d attempts",
						up->node_id, ctx->attempts),
				 errdetail_internal("%s: %s", remote_status_name(op.rc->status), op.rc->error)));
		return EV_UPSTREAM_FAILED;
	}
	ereport(LOG,
			(errmsg("repmgr worker: sleeping %d ms until next reconnection attempt",
					repmgr_reconnect_interval_ms)));
	ctx->next_attempt = MonoPlusMs(start, repmgr_reconnect_interval_ms);
	return EV_UPSTREAM_PENDING;
}

void
act_upstream_failed(WorkerCtx *ctx)
{
	NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
	NodeInfo   *primary = nodes_active_primary(ctx->nodes);
	bool		was_primary = (primary != NULL && primary->node_id == ctx->upstream_id);

	ctx->lost_primary_id = was_primary ? ctx->upstream_id : InvalidNodeId;
	ctx->upstream_failed_at = mono_now();
	ctx->status.primary_lost = was_primary;
	ctx->status.primary_visible = !was_primary && ctx->status.primary_visible;
	ctx->next_decision = 0;
	ctx->reason[0] = '\0';
	worker_set_error(ctx, "upstream node %d is unreachable", ctx->upstream_id);
	worker_record_event(ctx, "repmgrd_upstream_disconnect", false,
						psprintf("unable to connect to upstream node \"%s\" (node ID: %d)",
								 up ? up->name : "?", ctx->upstream_id));
}

void
act_upstream_back(WorkerCtx *ctx)
{
	NodeInfo   *up = worker_node(ctx, ctx->upstream_id);
	bool		was_recorded = (ctx->state != WS_SUSPECT);

	reset_failure_state(ctx);
	worker_close_peer_links(ctx);	/* those of the failure's polls */
	ctx->status.primary_visible = true;
	/* back with a term not older than ours: stream from it again (walstop.c) */
	(void) walstop_restore(ctx, up);
	if (was_recorded)
	{
		ereport(LOG,
				(errmsg("repmgr worker: upstream node %d is reachable again", ctx->upstream_id)));
		worker_record_event(ctx, "repmgrd_upstream_reconnect", true,
							psprintf("reconnected to upstream node \"%s\" (node ID: %d)",
									 up ? up->name : "?", ctx->upstream_id));
	}
}

/* ----------
 * The primary
 * ----------
 */

/*
 * Downstream nodes: registered standbys with this node as upstream,
 * attached or not (pg_stat_replication, by application_name).
 */
static void
track_downstream(WorkerCtx *ctx)
{
	uint64		i;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT n.id, n.name, EXISTS (SELECT 1 FROM pg_catalog.pg_stat_replication r "
							  "WHERE r.application_name = n.name AND r.state = 'streaming') "
							  "FROM repmgr.repl_nodes n WHERE n.upstream_node_id = $1 AND n.active",
							  1, (Oid[]) {INT4OID}, (Datum[]) {Int32GetDatum(repmgr_node_id)},
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the downstream nodes");

	for (i = 0; i < SPI_processed; i++)
	{
		int			id = atoi(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		bool		streaming = strcmp(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3), "t") == 0;
		PeerLink   *link = peer_link(ctx, id);
		const char *event = NULL;

		if (streaming && !link->streaming)
			event = link->seen_streaming ? "child_node_reconnect" :
				(ctx->status.loops > 0 ? "child_node_new_connect" : NULL);
		else if (!streaming && link->streaming)
			event = "child_node_disconnect";
		if (event != NULL)
		{
			char	   *details = streaming ?
				psprintf("node \"%s\" (node ID: %d) has %sconnected", name, id,
						 link->seen_streaming ? "re" : "") :
				psprintf("node \"%s\" (node ID: %d) has disconnected", name, id);

			ereport(LOG, (errmsg("repmgr worker: %s", details)));
			worker_record_event(ctx, event, true, details);
		}
		link->streaming = streaming;
		if (streaming)
			link->seen_streaming = true;
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
}

WorkerEvent
observe_primary(WorkerCtx *ctx)
{
	WorkerEvent ev;

	if (ctx->position.in_recovery)
		return EV_DEMOTED;
	if (ctx->self == NULL)
		return EV_NOT_READY;
	if (mono_now() < ctx->next_heartbeat)
		return EV_OK;
	ev = primary_lease_event(ctx);
	/* heartbeats run faster than monitoring: downstream at its own pace */
	if (mono_now() >= ctx->next_downstream)
	{
		ctx->next_downstream = MonoPlusMs(mono_now(), repmgr_monitor_interval_ms);
		track_downstream(ctx);
		if (sync_observe_primary(ctx) && ev == EV_OK)
			ev = EV_SYNC_CHANGE;
	}
	return ev;
}

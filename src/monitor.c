/*-------------------------------------------------------------------------
 *
 * monitor.c
 *	  The worker's looks at other nodes while it monitors, as the step
 *	  asks (step_monitor.c decides on their answers):
 *	  - the upstream over a persistent connection (and, for a cascaded
 *		standby, the primary), a reconnect attempt, "is it back?";
 *	  - the monitoring history row on the primary;
 *	  - the witness's copy of the primary's metadata;
 *	  - a primary's standbys (events, and the synchronous set);
 *	  - a standby's record, repaired on the primary.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "worker.h"

#define PROBE_SQL "SELECT in_recovery, lsn, term, fenced FROM repmgr.node_state()"

#define INSERT_MONITOR_SQL \
	"INSERT INTO repmgr.repl_monitor (primary_node, standby_node, last_monitor_time, " \
	"last_apply_time, last_wal_primary_location, last_wal_standby_location, " \
	"replication_lag, apply_lag) VALUES ($1::integer, $2::integer, " \
	"pg_catalog.to_timestamp($3::float8), pg_catalog.to_timestamp($4::float8), " \
	"$5::pg_lsn, $6::pg_lsn, $7::bigint, $8::bigint)"

/* how a request ended, as the step reads it (wk_alive() judges it) */
static int
reach_of(RemoteStatus status)
{
	switch (status)
	{
		case REMOTE_OK:
			return WK_ANSWERED;
		case REMOTE_REFUSED:
			return WK_REFUSED;
		case REMOTE_UNREACHABLE:
			return WK_UNREACHABLE;
		case REMOTE_TIMEOUT:
			return WK_TIMEOUT;
		case REMOTE_REJECTED:
			return WK_REJECTED;
		case REMOTE_CONN_LOST:
			return WK_CONN_LOST;
		case REMOTE_QUERY_FAILED:
			return WK_QUERY_FAILED;
		case REMOTE_BAD_CONNINFO:
			return WK_BAD_CONNINFO;
		case REMOTE_INTERRUPTED:
			return WK_INTERRUPTED;
	}
	return WK_UNREACHABLE;
}

static XLogRecPtr
result_lsn(PGresult *res, int col)
{
	bool		bad = false;
	XLogRecPtr	lsn;

	if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, col))
		return InvalidXLogRecPtr;
	lsn = pg_lsn_in_internal(PQgetvalue(res, 0, col), &bad);
	return bad ? InvalidXLogRecPtr : lsn;
}

/* the answers of PROBE_SQL into r (the node asked) */
static void
read_probe_answer(WkResult *r, RemoteOp *op)
{
	PGresult   *res = op->result;

	r->reach = reach_of(op->rc->status);
	r->status = remote_status_name(op->rc->status);
	r->error = pstrdup(op->rc->error);
	if (op->rc->status != REMOTE_OK || res == NULL || PQntuples(res) != 1 ||
		PQnfields(res) != 4)
		return;
	r->answered = true;
	r->in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	r->lsn = result_lsn(res, 1);
	r->term = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	r->fenced = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
}

/*
 * Look at the upstream (and, for a cascaded standby, the primary: fx->node2)
 * in one parallel round over persistent connections.
 */
void
exec_probe(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *up = worker_node(ctx, fx->node);
	NodeInfo   *primary = worker_node(ctx, fx->node2);
	WkResult   *r = worker_new_result(ctx, FX_PROBE);
	RemoteOp	ops[2];
	int			n = 1;

	if (ctx->self != NULL && ctx->position.in_recovery)
		sync_observe_standby(ctx);
	MemoryContextSwitchTo(ctx->result_context);
	memset(ops, 0, sizeof(ops));
	ops[0].rc = worker_upstream_conn(ctx, up->node_id);
	ops[0].conninfo = up->conninfo;
	ops[0].sql = PROBE_SQL;
	if (primary != NULL)
	{
		PeerLink   *plink = peer_link(ctx, primary->node_id);

		if (plink->conn == NULL)
			plink->conn = remote_conn_new();
		ops[1].rc = plink->conn;
		ops[1].conninfo = primary->conninfo;
		ops[1].sql = PROBE_SQL;
		n = 2;
	}
	remote_run(ops, n, fx->ms);
	read_probe_answer(r, &ops[0]);
	if (n == 2)
	{
		r->primary_asked = true;
		r->primary_reach = reach_of(ops[1].rc->status);
		r->primary_lsn = result_lsn(ops[1].result, 1);
		remote_op_release(&ops[1]);
	}
	remote_op_release(&ops[0]);
}

/* a reconnect attempt: a fresh connection, with the plan's deadline */
void
exec_attempt(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *up = worker_node(ctx, fx->node);
	WkResult   *r = worker_new_result(ctx, FX_ATTEMPT);
	RemoteOp	op;

	MemoryContextSwitchTo(ctx->result_context);
	worker_close_upstream(ctx);
	memset(&op, 0, sizeof(op));
	op.rc = worker_upstream_conn(ctx, fx->node);
	op.conninfo = up->conninfo;
	op.sql = PROBE_SQL;
	remote_run(&op, 1, fx->ms);
	read_probe_answer(r, &op);
	remote_op_release(&op);
}

/* is the lost upstream back?  A transient connection, a short deadline */
void
exec_probe_back(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *up = worker_node(ctx, fx->node);
	WkResult   *r = worker_new_result(ctx, FX_PROBE_BACK);
	RemoteOp	op;

	if (up == NULL)
		return;
	MemoryContextSwitchTo(ctx->result_context);
	memset(&op, 0, sizeof(op));
	op.conninfo = up->conninfo;
	op.sql = PROBE_SQL;
	remote_run(&op, 1, fx->ms);
	read_probe_answer(r, &op);
	remote_op_release(&op);
}

/* a row of monitoring history, on the primary fx->node at fx->lsn */
void
exec_history(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *primary = worker_node(ctx, fx->node);
	RemoteOp	op;
	const char *params[8];
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz applied = GetLatestXTime();
	XLogRecPtr	received = ctx->position.receive_lsn;
	XLogRecPtr	replayed = ctx->position.replay_lsn;

	if (primary == NULL)
		return;
	if (received < replayed)
		received = replayed;
	params[0] = psprintf("%d", primary->node_id);
	params[1] = psprintf("%d", repmgr_node_id);
	params[2] = psprintf("%.6f", epoch_seconds(now));
	params[3] = applied ? psprintf("%.6f", epoch_seconds(applied)) : NULL;
	params[4] = psprintf("%X/%X", LSN_FORMAT_ARGS(fx->lsn));
	params[5] = psprintf("%X/%X", LSN_FORMAT_ARGS(received));
	params[6] = psprintf(INT64_FORMAT, fx->lsn > received ? (int64) (fx->lsn - received) : 0);
	params[7] = psprintf(INT64_FORMAT, (int64) (received - replayed));

	memset(&op, 0, sizeof(op));
	/* over the connection of the look that read the primary's position */
	op.rc = (primary->node_id == ctx->upstream_conn_id) ?
		worker_upstream_conn(ctx, primary->node_id) : peer_link(ctx, primary->node_id)->conn;
	op.conninfo = primary->conninfo;
	op.sql = INSERT_MONITOR_SQL;
	op.nparams = 8;
	op.params = params;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	if (op.rc->status != REMOTE_OK)
		worker_set_error(ctx, "could not write monitoring history: %s", op.rc->error);
	remote_op_release(&op);
}

/*
 * Copy repl_nodes into the witness's own database: from the primary, or
 * from a standby while the primary is lost.
 */
void
exec_copy_metadata(WorkerCtx *ctx, int node_id, bool from_standby)
{
	NodeInfo   *source = worker_node(ctx, node_id);
	RemoteOp	op;

	if (source == NULL)
		return;
	memset(&op, 0, sizeof(op));
	if (!from_standby)
		op.rc = worker_upstream_conn(ctx, node_id);
	else
	{
		/* a standby, while the primary is lost: the link of the polls */
		PeerLink   *link = peer_link(ctx, node_id);

		if (link->conn == NULL)
			link->conn = remote_conn_new();
		op.rc = link->conn;
	}
	op.conninfo = source->conninfo;
	op.sql = NODES_AS_JSON_SQL;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	if (op.result == NULL)
	{
		remote_op_release(&op);
		return;
	}
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	nodes_replace_all(PQgetvalue(op.result, 0, 0));
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	remote_op_release(&op);
}

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

#define REPLICATED_SQL \
	"SELECT count(*) FROM repmgr.repl_nodes n WHERE n.type = 'standby' AND EXISTS " \
	"(SELECT 1 FROM pg_catalog.pg_stat_replication r WHERE r.application_name = n.name " \
	"AND r.state = 'streaming' AND r.flush_lsn >= $1)"

/*
 * How many registered standbys stream from this primary and have flushed
 * its WAL up to lsn (a change of the membership reached them).  Its own
 * walsenders only: a cascaded standby is not counted, which errs on the
 * side of the strict lease.
 */
static int
standbys_replicated(WorkerCtx *ctx, XLogRecPtr lsn)
{
	int			count = 0;
	bool		isnull;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(REPLICATED_SQL, 1, (Oid[]) {PG_LSNOID},
							  (Datum[]) {LSNGetDatum(lsn)}, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count the standbys that flushed %X/%X", LSN_FORMAT_ARGS(lsn));
	if (SPI_processed == 1)
		count = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	return count;
}

/*
 * A primary's standbys: events, whether its synchronous set must change,
 * and how many have flushed a change of the membership (fx->lsn).
 */
void
exec_downstream(WorkerCtx *ctx, const WkFx *fx)
{
	bool		change;
	int			replicated;

	track_downstream(ctx);
	change = sync_observe_primary(ctx, fx->flag);
	replicated = standbys_replicated(ctx, fx->lsn);
	worker_new_result(ctx, FX_DOWNSTREAM)->ok = change;
	ctx->result.granted = replicated;
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
 * The record of this standby on the primary (fx->node2) names fx->node as
 * its upstream: written unless it does already (the local copy lags).
 */
void
exec_ensure_record(WorkerCtx *ctx, const WkFx *fx)
{
	NodeInfo   *target = worker_node(ctx, fx->node);
	NodeInfo   *primary = worker_node(ctx, fx->node2);
	WkResult   *r = worker_new_result(ctx, FX_ENSURE_RECORD);

	if (target == NULL)
		return;
	if (primary != NULL && upstream_on_primary(primary) == target->node_id)
		r->ok = true;			/* written there already (by the follow) */
	else
		r->ok = worker_record_follow(ctx, target, primary ? primary->conninfo : NULL,
									 fx->flag ? "repmgrd_failover_follow" : NULL, false);
}

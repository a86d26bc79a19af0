/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  What every part of the monitoring worker uses: its last error, its
 *	  copy of the metadata, its persistent links to the other nodes, and
 *	  its events (queued in shared memory, written where the metadata
 *	  lives when a primary is writable, with their original time).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "worker.h"

#define INSERT_EVENTS_SQL \
	"INSERT INTO repmgr.repl_events (node_id, event, successful, event_timestamp, details) " \
	"SELECT r.node_id, r.event, r.successful, pg_catalog.to_timestamp(r.ts), r.details " \
	"FROM pg_catalog.json_to_recordset($1::json) " \
	"AS r(node_id integer, event text, successful boolean, ts float8, details text)"

/* what repmgr.daemon_status() shows as the last error */
void
worker_set_error(WorkerCtx *c, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(c->status.last_error, sizeof(c->status.last_error), fmt, args);
	va_end(args);
	c->status.last_error_at = GetCurrentTimestamp();
}

/* a timestamp as seconds since the Unix epoch, for to_timestamp() */
double
epoch_seconds(TimestampTz ts)
{
	return (double) ts / USECS_PER_SEC +
		((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
}

/* a node of this iteration's copy of the metadata, or NULL */
NodeInfo *
worker_node(WorkerCtx *ctx, int node_id)
{
	return nodes_lookup(ctx->nodes, node_id);
}

/* the link to another node, made on first use */
PeerLink *
peer_link(WorkerCtx *ctx, int node_id)
{
	int			i;

	for (i = 0; i < ctx->npeers; i++)
		if (ctx->peers[i].node_id == node_id)
			return &ctx->peers[i];
	if (ctx->npeers == REPMGR_MAX_NODES)
		elog(ERROR, "repmgr worker: more than %d nodes", REPMGR_MAX_NODES);
	memset(&ctx->peers[ctx->npeers], 0, sizeof(PeerLink));
	ctx->peers[ctx->npeers].node_id = node_id;
	return &ctx->peers[ctx->npeers++];
}

/*
 * The persistent connection to the node watched (node_id), made on first
 * use; one to another node is closed first.
 */
RemoteConn *
worker_upstream_conn(WorkerCtx *ctx, int node_id)
{
	if (ctx->upstream_conn != NULL && ctx->upstream_conn_id != node_id)
		worker_close_upstream(ctx);
	if (ctx->upstream_conn == NULL)
	{
		ctx->upstream_conn = remote_conn_new();
		ctx->upstream_conn_id = node_id;
	}
	return ctx->upstream_conn;
}

void
worker_close_upstream(WorkerCtx *ctx)
{
	remote_close(ctx->upstream_conn);
	ctx->upstream_conn = NULL;
	ctx->upstream_conn_id = InvalidNodeId;
}

/* close the persistent connections to the other nodes */
void
worker_close_peer_links(WorkerCtx *ctx)
{
	int			i;

	for (i = 0; i < ctx->npeers; i++)
	{
		remote_close(ctx->peers[i].conn);
		ctx->peers[i].conn = NULL;
	}
}

/* ... and to the node watched */
void
worker_close_links(WorkerCtx *ctx)
{
	worker_close_upstream(ctx);
	worker_close_peer_links(ctx);
}

/* ----------
 * Events
 * ----------
 */

/*
 * Record an event: queue it in shared memory (written by
 * worker_flush_events when a primary is writable, with this timestamp)
 * and run the notification command now, in the background.
 */
void
worker_record_event(WorkerCtx *ctx, const char *event, bool ok,
					const char *details)
{
	QueuedEvent q;
	EventInfo	ev;
	NodeInfo   *primary = ctx->nodes ? nodes_active_primary(ctx->nodes) : NULL;

	memset(&q, 0, sizeof(q));
	q.node_id = repmgr_node_id;
	q.successful = ok;
	q.timestamp = GetCurrentTimestamp();
	strlcpy(q.event, event, sizeof(q.event));
	if (details)				/* cut at a character boundary */
		memcpy(q.details, details, pg_mbcliplen(details, strlen(details), sizeof(q.details) - 1));
	if (shmem_event_push(&q))
		ereport(WARNING,
				(errmsg("repmgr worker: %d events wait for a writable primary; the oldest was dropped",
						REPMGR_EVENT_QUEUE_LEN),
				 errhint("repmgr.daemon_status() counts the dropped events; their notifications were sent.")));

	memset(&ev, 0, sizeof(ev));
	ev.node_id = q.node_id;
	ev.event = event;
	ev.successful = ok;
	ev.timestamp = q.timestamp;
	ev.details = details;
	ev.node_name = ctx->self ? ctx->self->name : NULL;
	ev.primary_node_id = primary ? primary->node_id : InvalidNodeId;
	ev.primary_conninfo = primary ? primary->conninfo : NULL;
	events_notify(&ev);
}

static char *
queued_events_json(QueuedEvent *evs, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		appendStringInfo(&buf, "%s{\"node_id\": %d, \"event\": ", i ? ", " : "",
						 evs[i].node_id);
		escape_json(&buf, evs[i].event);
		appendStringInfo(&buf, ", \"successful\": %s, \"ts\": %.6f, \"details\": ",
						 evs[i].successful ? "true" : "false",
						 epoch_seconds(evs[i].timestamp));
		escape_json(&buf, evs[i].details);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

static bool
write_events_on(NodeInfo *primary, const char **params)
{
	RemoteOp	op;
	bool		ok;

	memset(&op, 0, sizeof(op));
	op.conninfo = primary->conninfo;
	op.sql = INSERT_EVENTS_SQL;
	op.nparams = 1;
	op.params = params;
	remote_run(&op, 1, repmgr_connect_timeout_ms);
	ok = (op.rc->status == REMOTE_OK);
	remote_op_release(&op);
	return ok;
}

/*
 * Write the queued events where the metadata lives: here if this node is
 * the working primary, else on the primary.  Left queued if that cannot be
 * written now.
 */
void
worker_flush_events(WorkerCtx *ctx)
{
	QueuedEvent evs[32];
	int			n = shmem_event_peek(evs, lengthof(evs));
	const char *params[1];
	NodeInfo   *primary;
	NodeInfo   *other;

	if (n == 0 || !ctx->extension_ready)
		return;
	/*
	 * Not while the primary is being lost or replaced (it is the failover
	 * path, and the primary to write to is unknown), and not again soon
	 * after a failed attempt: each one can cost a connect timeout.
	 */
	if (ctx->core.state != WS_PRIMARY && ctx->core.state != WS_STANDBY &&
		ctx->core.state != WS_WITNESS && ctx->core.state != WS_CANNOT_FOLLOW)
		return;
	if (mono_now() < ctx->next_flush)
		return;
	ctx->next_flush = MonoPlusMs(mono_now(), 5000);
	params[0] = queued_events_json(evs, n);

	if (ctx->core.state == WS_PRIMARY && !ctx->position.in_recovery)
	{
		Datum		values[1] = {CStringGetTextDatum(params[0])};
		Oid			types[1] = {TEXTOID};

		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(INSERT_EVENTS_SQL, 1, types, values, NULL,
								  false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write the queued events");
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(ctx->loop_context);
		shmem_event_consume(n);
		ctx->next_flush = 0;
		return;
	}

	/*
	 * The registered primary; else the new primary this node found but
	 * could not follow (its copy of the metadata is then stale).
	 */
	primary = nodes_active_primary(ctx->nodes);
	if (primary != NULL && primary->node_id != repmgr_node_id &&
		write_events_on(primary, params))
	{
		shmem_event_consume(n);
		ctx->next_flush = 0;
		return;
	}
	other = nodes_lookup(ctx->nodes, ctx->core.follow_primary);
	if (other != NULL && other != primary && other->node_id != repmgr_node_id &&
		write_events_on(other, params))
	{
		shmem_event_consume(n);
		ctx->next_flush = 0;
	}
}

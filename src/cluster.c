/*-------------------------------------------------------------------------
 *
 * cluster.c
 *	  Cluster-wide reads and housekeeping: polling every node for
 *	  cluster_show(), the event history, and the cleanup of monitoring
 *	  history.
 *
 * All nodes are polled in one parallel round (remote_run), so a node that
 * does not answer costs one connect timeout in all, not one per node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "repmgr.h"
#include "conninfo.h"
#include "cluster.h"
#include "guc.h"
#include "peers.h"
#include "syncrep.h"

/*
 * The status column of cluster_show: what the node is registered as,
 * against what it answers.  A pure function of its inputs.
 */
const char *
cluster_node_status(RepmgrNodeType type, bool active, RemoteStatus status,
					bool in_recovery, bool fenced)
{
	if (status != REMOTE_OK)
	{
		/* a refused connection means the server is down */
		if (!active || remote_status_is_definitive(status))
			return "- failed";
		return "? unreachable";
	}

	switch (type)
	{
		case NODE_TYPE_PRIMARY:
			if (in_recovery)
				return "! running as standby";
			if (fenced)
				return "! running (fenced)";
			return active ? "* running" : "! running";
		case NODE_TYPE_STANDBY:
			if (!in_recovery)
				return "! running as primary";
			return active ? "running" : "! running";
		case NODE_TYPE_WITNESS:
			return active ? "* running" : "! running";
		case NODE_TYPE_UNKNOWN:
			break;
	}
	return "? unknown";
}

/*
 * One ClusterShowRow per registered node, in id order.
 */
List *
cluster_show_rows(void)
{
	List	   *nodes = nodes_fetch_all();
	List	   *rows = NIL;
	PeerState  *peers;
	int			npeers;
	int			i;
	SyncPublished published;

	sync_read_published(&published);
	peers = peers_poll(nodes, InvalidNodeId, false, &npeers);
	for (i = 0; i < npeers; i++)
	{
		PeerState  *peer = &peers[i];
		NodeInfo   *node = peer->node;
		NodeInfo   *upstream = nodes_lookup(nodes, node->upstream_node_id);
		ClusterShowRow *row = palloc0(sizeof(ClusterShowRow));

		row->node = node;
		row->upstream_name = upstream ? upstream->name : NULL;
		row->conninfo = conninfo_mask(node->conninfo);
		row->reachable = peer->reachable;
		row->timeline = peer->timeline;
		row->lsn = peer->lsn;
		row->status = cluster_node_status(node->type, node->active,
										  peer->reachable ? REMOTE_OK : peer->status,
										  peer->in_recovery, peer->fenced);
		row->error = peer->reachable ? NULL : pstrdup(peer->error);
		row->sync_state = node->type == NODE_TYPE_STANDBY ?
			sync_state_of(&published, node->node_id) : NULL;
		rows = lappend(rows, row);
	}
	return rows;
}

#define EVENTS_SQL \
	"SELECT e.node_id, n.name, e.event, e.successful, e.event_timestamp, e.details " \
	"FROM repmgr.repl_events e " \
	"LEFT JOIN repmgr.repl_nodes n ON n.id = e.node_id " \
	"WHERE ($1::text IS NULL OR e.event = $1::text) " \
	"AND ($2::integer IS NULL OR e.node_id = $2::integer) " \
	"ORDER BY e.event_timestamp DESC LIMIT $3::integer"

/*
 * The newest events into a materialized SRF.  A witness's own copy holds
 * no events, so there they are read from the primary.
 */
void
cluster_events(FunctionCallInfo fcinfo, const char *event, int node_id,
			   int limit)
{
	ReturnSetInfo *rsinfo;
	AttInMetadata *attinmeta;
	const char *params[3];
	List	   *nodes;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	/* "master_register" is an alias, as in the documents */
	if (event != NULL && strcmp(event, "master_register") == 0)
		event = "primary_register";
	params[0] = event;
	params[1] = node_id != InvalidNodeId ? psprintf("%d", node_id) : NULL;
	params[2] = psprintf("%d", limit);

	nodes = nodes_fetch_all();
	if (nodes_local_is_witness(nodes))
	{
		NodeInfo   *primary = nodes_active_primary(nodes);
		RemoteConn *rc;
		PGresult   *res;
		int			r;

		if (primary == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no active primary is registered")));
		rc = remote_connect(primary->conninfo, repmgr_connect_timeout_ms, true);
		if (rc->status != REMOTE_OK)
			remote_raise_error(rc, "could not connect to the primary to read its events");
		res = remote_query(rc, EVENTS_SQL, 3, params, REPMGR_METADATA_WAIT_MS);
		if (res == NULL)
			remote_raise_error(rc, "could not read the events of the primary");
		for (r = 0; r < PQntuples(res); r++)
		{
			char	   *values[6];

			for (i = 0; i < 6; i++)
				values[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
			tuplestore_puttuple(rsinfo->setResult,
								BuildTupleFromCStrings(attinmeta, values));
		}
		PQclear(res);
		remote_close(rc);
		return;
	}

	{
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
		Datum		values[3];
		char		nulls[3];
		uint64		r;
		int			ret;

		for (i = 0; i < 3; i++)
		{
			values[i] = params[i] ? CStringGetTextDatum(params[i]) : (Datum) 0;
			nulls[i] = params[i] ? ' ' : 'n';
		}
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = SPI_execute_with_args(EVENTS_SQL, 3, types, values, nulls, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read repmgr.repl_events: %s",
				 SPI_result_code_string(ret));
		for (r = 0; r < SPI_processed; r++)
		{
			char	   *cols[6];

			for (i = 0; i < 6; i++)
				cols[i] = SPI_getvalue(SPI_tuptable->vals[r],
									   SPI_tuptable->tupdesc, i + 1);
			tuplestore_puttuple(rsinfo->setResult,
								BuildTupleFromCStrings(attinmeta, cols));
		}
		SPI_finish();
	}
}

/*
 * Delete monitoring history older than keep_days (0: all of it) and record
 * the cleanup.  Returns the number of rows deleted.
 */
#define CLEANUP_KEEP_DAYS_MAX	1000000

int64
cluster_cleanup(int keep_days)
{
	List	   *nodes = nodes_fetch_all();
	MetadataBatch batch = {0};
	MetadataStmt *del;
	EventInfo	ev;
	int64		deleted;

	/*
	 * Beyond about 2700 years, now() - keep_days would leave the range of
	 * timestamps ("timestamp out of range"): keeping that much keeps all.
	 */
	metadata_add(&batch,
				 "WITH d AS (DELETE FROM repmgr.repl_monitor "
				 "WHERE last_monitor_time < pg_catalog.now() "
				 "- pg_catalog.make_interval(days => $1::integer) RETURNING 1) "
				 "SELECT pg_catalog.count(*) FROM d",
				 1, psprintf("%d", Min(keep_days, CLEANUP_KEEP_DAYS_MAX)));
	metadata_apply(&batch, nodes);
	del = (MetadataStmt *) linitial(batch.stmts);
	deleted = del->result ? strtoll(del->result, NULL, 10) : 0;

	memset(&ev, 0, sizeof(ev));
	ev.node_id = repmgr_node_id;
	ev.event = "cluster_cleanup";
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.details = keep_days > 0 ?
		psprintf(INT64_FORMAT " monitoring history records deleted; %d days kept",
				 deleted, keep_days) :
		psprintf(INT64_FORMAT " monitoring history records deleted", deleted);
	batch.stmts = NIL;
	events_add(&batch, &ev);
	metadata_apply(&batch, nodes);
	if (metadata_write_is_remote(nodes))
		events_notify(&ev);
	else
		events_notify_at_commit(&ev);
	return deleted;
}

/*
 * Pause or unpause the workers of every registered node, inactive ones
 * too (an old primary being rejoined must not stay paused): this one
 * directly, the others through repmgr.daemon_set_paused().  A node that
 * cannot be reached is reported, not waited for.
 */
List *
cluster_set_paused(bool paused)
{
	List	   *nodes = nodes_fetch_all();
	List	   *results = NIL;
	RemoteOp   *ops;
	ListCell   *lc;
	const char *params[1] = {paused ? "true" : "false"};
	int			n = 0;
	int			i;

	ops = palloc0(sizeof(RemoteOp) * Max(list_length(nodes), 1));
	foreach(lc, nodes)
	{
		NodeInfo   *node = (NodeInfo *) lfirst(lc);
		PauseResult *r;

		r = palloc0(sizeof(PauseResult));
		r->node = node;
		results = lappend(results, r);
		if (node->node_id == repmgr_node_id)
		{
			shmem_set_paused(paused);
			r->ok = true;
			r->detail = "this node";
			continue;
		}
		ops[n].conninfo = node->conninfo;
		ops[n].sql = "SELECT repmgr.daemon_set_paused($1::boolean)";
		ops[n].nparams = 1;
		ops[n].params = params;
		n++;
	}
	remote_run(ops, n, repmgr_connect_timeout_ms);

	i = 0;
	foreach(lc, results)
	{
		PauseResult *r = (PauseResult *) lfirst(lc);

		if (r->node->node_id == repmgr_node_id)
			continue;
		r->ok = (ops[i].rc->status == REMOTE_OK);
		r->detail = r->ok ? "" : psprintf("%s: %s",
										  remote_status_name(ops[i].rc->status),
										  ops[i].rc->error);
		remote_op_release(&ops[i]);
		i++;
	}
	return results;
}

/*-------------------------------------------------------------------------
 *
 * http_cluster.c
 *	  The cluster_show() rows that /cluster and /metrics of the HTTP
 *	  endpoint show, cached in the HTTP worker.
 *
 * cluster_show() polls every node, which is SQL and network: it cannot be
 * answered from shared memory, and the HTTP worker answers one request at
 * a time.  So the rows are kept here and refreshed only when a request
 * for them finds the copy older than repmgr.http_cluster_refresh.  A
 * refresh holds up the other clients of the endpoint for at most one
 * parallel poll, whose deadline here is repmgr.http_cluster_timeout
 * (250 ms by default, below repmgr.connect_timeout: a node slower than
 * that shows as unreachable), and at most once per refresh interval
 * however often /cluster or /metrics is asked for.  So a scrape during a
 * network partition delays a load balancer's health check by at most
 * that, well within any check timeout.
 *
 * Errors (no extension yet, a dropped database) are caught and shown as
 * the answer (with conninfo_mask_message()); they never end the worker.
 * Passwords are masked by cluster_show_rows(), as in cluster_show().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "repmgr.h"
#include "cluster.h"
#include "conninfo.h"
#include "guc.h"
#include "http.h"
#include "syncrep.h"

/* most time the local facts (http_local_get) are served from the copy */
#define HTTP_LOCAL_REFRESH_MS	500

static HttpClusterCache cache;
static HttpLocal local;
static TimestampTz local_fetched_at = 0;
static bool connected_to_database = false;

/* the worker connected to repmgr.database (not to none) */
void
http_cluster_set_connected(bool connected)
{
	connected_to_database = connected;
}

static void
json_key_text(StringInfo buf, const char *key, const char *value, bool comma)
{
	if (comma)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

static void
rows_to_json(StringInfo buf, List *rows)
{
	ListCell   *lc;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	foreach(lc, rows)
	{
		ClusterShowRow *row = lfirst(lc);

		if (!first)
			appendStringInfoChar(buf, ',');
		first = false;
		appendStringInfo(buf, "{\"id\":%d", row->node->node_id);
		json_key_text(buf, "name", row->node->name, true);
		json_key_text(buf, "role", node_type_name(row->node->type), true);
		json_key_text(buf, "status", row->status, true);
		json_key_text(buf, "upstream", row->upstream_name, true);
		json_key_text(buf, "location", row->node->location, true);
		appendStringInfo(buf, ",\"priority\":%d", row->node->priority);
		if (row->reachable)
			appendStringInfo(buf, ",\"timeline\":%d,\"lsn\":\"%X/%X\"",
							 row->timeline, LSN_FORMAT_ARGS(row->lsn));
		else
			appendStringInfoString(buf, ",\"timeline\":null,\"lsn\":null");
		json_key_text(buf, "conninfo", row->conninfo, true);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

static void
count_statuses(List *rows)
{
	ListCell   *lc;

	cache.nstatuses = 0;
	foreach(lc, rows)
	{
		ClusterShowRow *row = lfirst(lc);
		int			i;

		for (i = 0; i < cache.nstatuses; i++)
			if (strcmp(cache.status[i], row->status) == 0)
				break;
		if (i == cache.nstatuses)
		{
			if (i == HTTP_CLUSTER_MAX_STATUSES)
				continue;
			strlcpy(cache.status[i], row->status, sizeof(cache.status[i]));
			cache.count[i] = 0;
			cache.nstatuses++;
		}
		cache.count[i]++;
	}
}

/*
 * Keep an error message for the answer, with every secret a connection
 * string quoted in it could show masked (conninfo_mask_message: quoted
 * values too, and a URI's password).
 */
static void
set_error(const char *msg)
{
	char	   *masked = conninfo_mask_message(msg);

	cache.ok = false;
	cache.nstatuses = 0;
	strlcpy(cache.error, masked, sizeof(cache.error));
	pfree(masked);
}

/* run cluster_show_rows() in a transaction of its own; errors are kept */
static void
refresh(void)
{
	MemoryContext caller = CurrentMemoryContext;
	int			saved_timeout;

	cache.valid = true;
	cache.fetched_at = GetCurrentTimestamp();
	if (cache.json)
	{
		pfree(cache.json);
		cache.json = NULL;
	}
	if (!connected_to_database)
	{
		set_error("the HTTP worker is not connected to repmgr.database (it does not exist yet)");
		return;
	}

	/* the poll's deadline, in this process only */
	saved_timeout = repmgr_connect_timeout_ms;
	repmgr_connect_timeout_ms = Min(repmgr_connect_timeout_ms, repmgr_http_cluster_timeout_ms);
	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (!repmgr_extension_ready())
			set_error("the repmgr extension is not installed in repmgr.database");
		else
		{
			List	   *rows = cluster_show_rows();
			StringInfoData buf;

			initStringInfo(&buf);
			rows_to_json(&buf, rows);
			cache.json = MemoryContextStrdup(TopMemoryContext, buf.data);
			count_statuses(rows);
			cache.ok = true;
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		set_error(edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	repmgr_connect_timeout_ms = saved_timeout;
	MemoryContextSwitchTo(caller);
}

/*
 * The rows, refreshed first if the copy is older than the refresh interval.
 */
const HttpClusterCache *
http_cluster_get(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!cache.valid ||
		TimestampDifferenceExceeds(cache.fetched_at, now, repmgr_http_cluster_refresh_ms))
		refresh();
	return &cache;
}

/* this node's record and its synchronous state, in the caller's transaction */
static void
read_local(void)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	SyncPublished published;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = Int32GetDatum(repmgr_node_id);
	if (SPI_execute_with_args("SELECT location, priority FROM repmgr.repl_nodes WHERE id = $1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read repmgr.repl_nodes");
	local.registered = SPI_processed == 1;
	if (local.registered)
	{
		strlcpy(local.location, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
				sizeof(local.location));
		local.priority = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	}
	SPI_finish();
	sync_read_published(&published);
	local.sync_state = sync_state_of(&published, repmgr_node_id);
	local.known = true;
}

/*
 * This node's location, priority and synchronous state, for /sync,
 * /async, /quorum and the tag_ parameters: a local read (two small
 * queries, no other node is asked), at most every HTTP_LOCAL_REFRESH_MS.
 * Errors are kept, never raised.
 */
const HttpLocal *
http_local_get(void)
{
	MemoryContext caller = CurrentMemoryContext;
	TimestampTz now = GetCurrentTimestamp();

	if (local_fetched_at != 0 &&
		!TimestampDifferenceExceeds(local_fetched_at, now, HTTP_LOCAL_REFRESH_MS))
		return &local;
	local_fetched_at = now;
	memset(&local, 0, sizeof(local));
	if (!connected_to_database)
	{
		strlcpy(local.error, "the HTTP worker is not connected to repmgr.database", sizeof(local.error));
		return &local;
	}
	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (!repmgr_extension_ready())
			strlcpy(local.error, "the repmgr extension is not installed in repmgr.database",
					sizeof(local.error));
		else
			read_local();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *masked;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		memset(&local, 0, sizeof(local));
		masked = conninfo_mask_message(edata->message);
		strlcpy(local.error, masked, sizeof(local.error));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	return &local;
}

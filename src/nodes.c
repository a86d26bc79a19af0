/*-------------------------------------------------------------------------
 *
 * nodes.c
 *	  Reading and writing the cluster metadata (repl_nodes, repl_events,
 *	  repl_monitor).
 *
 * Reads use SPI on the local copy of the tables.  Writes are batches of
 * parameterised statements applied in one transaction: through SPI when
 * this server is the writable primary, otherwise on the primary over libpq
 * (a standby's copy is read-only, a witness's copy is refreshed from the
 * primary), after which we wait, with a deadline, until the change is
 * visible here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "repmgr.h"
#include "conninfo.h"

#define NODE_COLUMNS \
	"id, type, upstream_node_id, cluster, name, conninfo, slot_name, " \
	"priority, location, active"

const char *
node_type_name(RepmgrNodeType type)
{
	switch (type)
	{
		case NODE_TYPE_PRIMARY:
			return "primary";
		case NODE_TYPE_STANDBY:
			return "standby";
		case NODE_TYPE_WITNESS:
			return "witness";
		case NODE_TYPE_UNKNOWN:
			break;
	}
	return "unknown";
}

/* "master" is accepted as input, as in the documents */
RepmgrNodeType
node_type_from_name(const char *name)
{
	if (strcmp(name, "primary") == 0 || strcmp(name, "master") == 0)
		return NODE_TYPE_PRIMARY;
	if (strcmp(name, "standby") == 0)
		return NODE_TYPE_STANDBY;
	if (strcmp(name, "witness") == 0)
		return NODE_TYPE_WITNESS;
	return NODE_TYPE_UNKNOWN;
}

/*
 * Is the extension installed in the current database?
 */
bool
repmgr_extension_ready(void)
{
	return OidIsValid(get_extension_oid(REPMGR_EXTENSION, true));
}

/*
 * At most REPMGR_MAX_NODES records are read (the workers keep them in
 * shared memory): the database refuses more (the trigger of repl_nodes),
 * but rows can still come in without it (session_replication_role =
 * replica, a restore).  The ones kept are the active primary, this node,
 * the active nodes, then the lowest ids; "total" says how many there are.
 */
#define NODES_SQL \
	"SELECT " NODE_COLUMNS ", total FROM (" \
	"SELECT *, pg_catalog.count(*) OVER () AS total FROM repmgr.repl_nodes " \
	"ORDER BY (type = 'primary' AND active) DESC, id = $1 DESC, active DESC, id " \
	"LIMIT $2) n ORDER BY id"

/* the number of records this process last warned about */
static int64 warned_total = 0;

/*
 * The node records, ordered by id, palloc'd in the caller's context; at
 * most limit of them (0: all).  Must run inside a transaction.
 */
static List *
fetch_nodes(int limit)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *result = NIL;
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2];
	int64		total = 0;
	uint64		i;
	int			ret;

	values[0] = Int32GetDatum(repmgr_node_id);
	values[1] = Int64GetDatum(limit > 0 ? limit : PG_INT64_MAX);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ret = SPI_execute_with_args(NODES_SQL, 2, types, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read repmgr.repl_nodes: %s",
			 SPI_result_code_string(ret));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		NodeInfo   *n = palloc0(sizeof(NodeInfo));
		char	   *v;

		n->node_id = atoi(SPI_getvalue(tup, desc, 1));
		n->type = node_type_from_name(SPI_getvalue(tup, desc, 2));
		v = SPI_getvalue(tup, desc, 3);
		n->upstream_node_id = v ? atoi(v) : InvalidNodeId;
		n->cluster = pstrdup(SPI_getvalue(tup, desc, 4));
		n->name = pstrdup(SPI_getvalue(tup, desc, 5));
		n->conninfo = pstrdup(SPI_getvalue(tup, desc, 6));
		v = SPI_getvalue(tup, desc, 7);
		n->slot_name = v ? pstrdup(v) : NULL;
		n->priority = atoi(SPI_getvalue(tup, desc, 8));
		n->location = pstrdup(SPI_getvalue(tup, desc, 9));
		n->active = (strcmp(SPI_getvalue(tup, desc, 10), "t") == 0);
		total = strtoi64(SPI_getvalue(tup, desc, 11), NULL, 10);
		result = lappend(result, n);
		MemoryContextSwitchTo(spi);
	}

	SPI_finish();

	if (limit > 0 && total > limit && total != warned_total)
		ereport(WARNING,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("repmgr.repl_nodes holds " INT64_FORMAT " nodes, more than the %d a cluster may have: " INT64_FORMAT " of them are ignored",
						total, limit, total - limit),
				 errdetail("The nodes kept are the active primary, this node, the active nodes, then the lowest ids."),
				 errhint("Unregister the nodes that are gone (repmgr.standby_unregister())."),
				 errhidecontext(true)));
	warned_total = total > limit ? total : 0;
	return result;
}

/*
 * The node records, ordered by id, palloc'd in the caller's context: at
 * most REPMGR_MAX_NODES of them (NODES_SQL says which), with one warning
 * while there are more.  What the worker and the reports read.  Must run
 * inside a transaction.
 */
List *
nodes_fetch_all(void)
{
	return fetch_nodes(REPMGR_MAX_NODES);
}

/*
 * Every node record, however many: for registering and unregistering,
 * which must see the nodes beyond the limit (to count them, to remove
 * them).
 */
List *
nodes_fetch_every(void)
{
	return fetch_nodes(0);
}

NodeInfo *
nodes_lookup(List *nodes, int node_id)
{
	ListCell   *lc;

	foreach(lc, nodes)
	{
		NodeInfo   *n = (NodeInfo *) lfirst(lc);

		if (n->node_id == node_id)
			return n;
	}
	return NULL;
}

NodeInfo *
nodes_lookup_name(List *nodes, const char *name)
{
	ListCell   *lc;

	foreach(lc, nodes)
	{
		NodeInfo   *n = (NodeInfo *) lfirst(lc);

		if (strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}

NodeInfo *
nodes_active_primary(List *nodes)
{
	ListCell   *lc;

	foreach(lc, nodes)
	{
		NodeInfo   *n = (NodeInfo *) lfirst(lc);

		if (n->type == NODE_TYPE_PRIMARY && n->active)
			return n;
	}
	return NULL;
}

int
nodes_count_active(List *nodes)
{
	ListCell   *lc;
	int			count = 0;

	foreach(lc, nodes)
		if (((NodeInfo *) lfirst(lc))->active)
			count++;
	return count;
}

/*
 * Is this server the witness?  Its copy of the metadata is its own, so
 * changes must be made on the primary.
 */
bool
nodes_local_is_witness(List *nodes)
{
	NodeInfo   *self;

	if (repmgr_node_id == InvalidNodeId)
		return false;
	self = nodes_lookup(nodes, repmgr_node_id);
	return self != NULL && self->type == NODE_TYPE_WITNESS;
}

/*
 * Add a statement to a batch.  The variadic arguments are nparams
 * "const char *" values (NULL for SQL NULL); the SQL casts them.
 */
void
metadata_add(MetadataBatch *batch, const char *sql, int nparams,...)
{
	MetadataStmt *stmt = palloc0(sizeof(MetadataStmt));
	va_list		args;
	int			i;

	Assert(nparams <= METADATA_MAX_PARAMS);
	stmt->sql = sql;
	stmt->nparams = nparams;
	va_start(args, nparams);
	for (i = 0; i < nparams; i++)
	{
		const char *v = va_arg(args, const char *);

		stmt->params[i] = v ? pstrdup(v) : NULL;
	}
	va_end(args);
	batch->stmts = lappend(batch->stmts, stmt);
}

bool
metadata_write_is_remote(List *nodes)
{
	return RecoveryInProgress() || nodes_local_is_witness(nodes);
}

static void
apply_locally(MetadataBatch *batch)
{
	MemoryContext caller = CurrentMemoryContext;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	foreach(lc, batch->stmts)
	{
		MetadataStmt *stmt = (MetadataStmt *) lfirst(lc);
		Oid			types[METADATA_MAX_PARAMS];
		Datum		values[METADATA_MAX_PARAMS];
		char		nulls[METADATA_MAX_PARAMS];
		int			i;
		int			ret;

		for (i = 0; i < stmt->nparams; i++)
		{
			types[i] = TEXTOID;
			values[i] = stmt->params[i] ? CStringGetTextDatum(stmt->params[i]) : (Datum) 0;
			nulls[i] = stmt->params[i] ? ' ' : 'n';
		}
		ret = SPI_execute_with_args(stmt->sql, stmt->nparams, types, values,
									nulls, false, 0);
		if (ret < 0)
			elog(ERROR, "could not update repmgr metadata: %s",
				 SPI_result_code_string(ret));
		if (SPI_tuptable != NULL && SPI_processed > 0)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1);

			stmt->result = v ? MemoryContextStrdup(caller, v) : NULL;
		}
	}
	SPI_finish();
}

/*
 * Wait until this standby has replayed up to lsn, or the deadline passes.
 */
static void
wait_for_local_replay(XLogRecPtr lsn)
{
	MonoTime	deadline = MonoPlusMs(mono_now(), REPMGR_METADATA_WAIT_MS);

	while (RecoveryInProgress() && GetXLogReplayRecPtr(NULL) < lsn)
	{
		long		remaining = mono_diff_ms(mono_now(), deadline);

		if (remaining <= 0)
		{
			ereport(WARNING,
					(errmsg("the change was committed on the primary but has not been replayed here within %d ms",
							REPMGR_METADATA_WAIT_MS),
					 errhint("Check that this standby is streaming from the primary.")));
			return;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(remaining, 10), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static XLogRecPtr
parse_lsn(const char *text)
{
	bool		have_error = false;
	XLogRecPtr	lsn = pg_lsn_in_internal(text, &have_error);

	return have_error ? InvalidXLogRecPtr : lsn;
}

/*
 * A standby's copy of repl_nodes is as old as its replay: a node
 * registered on the primary a moment ago may not be here yet.  Ask the
 * server this standby streams from (primary_conninfo, in this database)
 * how far it has written or replayed, and wait until this standby has
 * replayed as far (bounded by REPMGR_METADATA_WAIT_MS).  Returns whether
 * it has; false also when the upstream cannot be asked, and then the
 * caller goes on with what it has.
 */
bool
nodes_catch_up_with_upstream(void)
{
	RemoteConn *rc;
	PGresult   *res;
	XLogRecPtr	lsn = InvalidXLogRecPtr;
	char	   *dbname;

	if (!RecoveryInProgress() || PrimaryConnInfo == NULL ||
		PrimaryConnInfo[0] == '\0')
		return false;
	dbname = get_database_name(MyDatabaseId);
	if (dbname == NULL)
		return false;
	rc = remote_connect(conninfo_set(PrimaryConnInfo, "dbname", dbname),
						repmgr_connect_timeout_ms, true);
	if (rc->status == REMOTE_OK)
	{
		res = remote_query(rc,
						   "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() "
						   "THEN pg_catalog.pg_last_wal_replay_lsn() "
						   "ELSE pg_catalog.pg_current_wal_insert_lsn() END",
						   0, NULL, repmgr_connect_timeout_ms);
		if (res != NULL)
		{
			if (!PQgetisnull(res, 0, 0))
				lsn = parse_lsn(PQgetvalue(res, 0, 0));
			PQclear(res);
		}
	}
	remote_close(rc);
	if (lsn == InvalidXLogRecPtr)
		return false;
	wait_for_local_replay(lsn);
	return GetXLogReplayRecPtr(NULL) >= lsn;
}

static void
apply_remotely(MetadataBatch *batch, const char *conninfo)
{
	RemoteConn *rc;
	PGresult   *res;
	ListCell   *lc;
	XLogRecPtr	lsn = InvalidXLogRecPtr;
	bool		in_recovery;

	rc = remote_connect(conninfo, repmgr_connect_timeout_ms, true);
	if (rc->status != REMOTE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to the primary to update the metadata: %s",
						remote_status_name(rc->status)),
				 errdetail_internal("%s", rc->error),
				 errhint("Metadata changes are made on the primary; check that it is running and reachable with \"%s\".",
						 conninfo_mask(conninfo))));

	res = remote_query(rc, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL,
					   REPMGR_METADATA_WAIT_MS);
	if (res == NULL)
		remote_raise_error(rc, "could not query the primary");
	in_recovery = (strcmp(PQgetvalue(res, 0, 0), "t") == 0);
	PQclear(res);
	if (in_recovery)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the node registered as primary is in recovery"),
				 errhint("Register the current primary first, or promote a standby.")));

	if (!remote_command(rc, "BEGIN", 0, NULL, REPMGR_METADATA_WAIT_MS))
		remote_raise_error(rc, "could not start a transaction on the primary");
	foreach(lc, batch->stmts)
	{
		MetadataStmt *stmt = (MetadataStmt *) lfirst(lc);

		res = remote_query(rc, stmt->sql, stmt->nparams, stmt->params,
						   REPMGR_METADATA_WAIT_MS);
		if (res == NULL)
			remote_raise_error(rc, "could not update the metadata on the primary");
		if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
			stmt->result = pstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (!remote_command(rc, "COMMIT", 0, NULL, REPMGR_METADATA_WAIT_MS))
		remote_raise_error(rc, "could not commit on the primary");

	res = remote_query(rc, "SELECT pg_catalog.pg_current_wal_insert_lsn()", 0,
					   NULL, REPMGR_METADATA_WAIT_MS);
	if (res != NULL)
	{
		lsn = parse_lsn(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	remote_close(rc);

	if (RecoveryInProgress() && lsn != InvalidXLogRecPtr && !batch->no_wait)
		wait_for_local_replay(lsn);
}

/*
 * Apply a batch where the metadata is written: here, or on the primary.
 */
void
metadata_apply(MetadataBatch *batch, List *nodes)
{
	const char *conninfo = batch->primary_conninfo;
	bool		witness = nodes_local_is_witness(nodes);

	if (conninfo == NULL && !metadata_write_is_remote(nodes))
	{
		apply_locally(batch);
		return;
	}

	if (conninfo == NULL)
	{
		NodeInfo   *primary = nodes_active_primary(nodes);

		if (primary == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no active primary is registered"),
					 errhint("Register the primary with repmgr.primary_register() first.")));
		conninfo = primary->conninfo;
	}
	apply_remotely(batch, conninfo);

	/* a witness keeps its own copy of repl_nodes */
	if (witness)
		nodes_copy_from_primary(conninfo);
}

/*
 * Replace the local repl_nodes with the primary's (the witness's copy).
 */
void
nodes_copy_from_primary(const char *primary_conninfo)
{
	RemoteConn *rc;
	PGresult   *res;
	char	   *rows;

	rc = remote_connect(primary_conninfo, repmgr_connect_timeout_ms, true);
	if (rc->status != REMOTE_OK)
		remote_raise_error(rc, "could not connect to the primary to copy the metadata");
	res = remote_query(rc, NODES_AS_JSON_SQL, 0, NULL, REPMGR_METADATA_WAIT_MS);
	if (res == NULL)
		remote_raise_error(rc, "could not read the metadata of the primary");
	rows = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	remote_close(rc);
	nodes_replace_all(rows);
}

/*
 * Replace the local repl_nodes with the rows of a JSON array (as
 * NODES_AS_JSON_SQL gives them), unless they are already the same.
 */
void
nodes_replace_all(const char *json_rows)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	char	   *role;
	int			ret;

	values[0] = CStringGetTextDatum(json_rows);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT " NODES_AS_JSON_SQL_EXPR " = $1::text FROM repmgr.repl_nodes n",
								1, types, values, NULL, true, 0);
	if (ret == SPI_OK_SELECT && SPI_processed == 1 &&
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0)
	{
		SPI_finish();
		return;
	}
	/*
	 * A copy, as replication makes one: the primary checked the rows (the
	 * node limit, the upstream references), so the ordinary triggers do
	 * not run again here, for this statement only.
	 */
	role = pstrdup(GetConfigOption("session_replication_role", false, false));
	ret = SPI_execute("SELECT pg_catalog.set_config('session_replication_role', 'replica', true)",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not set session_replication_role");
	ret = SPI_execute("DELETE FROM repmgr.repl_nodes", false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not clear repmgr.repl_nodes");
	ret = SPI_execute_with_args("INSERT INTO repmgr.repl_nodes "
								"SELECT * FROM pg_catalog.json_populate_recordset("
								"NULL::repmgr.repl_nodes, $1::json)",
								1, types, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not copy repmgr.repl_nodes");
	values[0] = CStringGetTextDatum(role);
	ret = SPI_execute_with_args("SELECT pg_catalog.set_config('session_replication_role', $1, true)",
								1, types, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not set session_replication_role");
	SPI_finish();
}

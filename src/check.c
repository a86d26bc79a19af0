/*-------------------------------------------------------------------------
 *
 * check.c
 *	  node_check(): the health checks of this node, each with a status a
 *	  monitoring system understands (OK, WARNING, CRITICAL, UNKNOWN) and a
 *	  sentence saying why.  The CLI turns them into Nagios output.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "executor/spi.h"
#include "replication/walreceiver.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "check.h"
#include "conninfo.h"
#include "guc.h"
#include "status.h"
#include "syncrep.h"

static void
add_check(List **checks, const char *name, CheckStatus status, char *details)
{
	NodeCheck  *c = palloc(sizeof(NodeCheck));

	c->name = name;
	c->status = status;
	c->details = details;
	*checks = lappend(*checks, c);
}

const char *
check_status_name(CheckStatus status)
{
	switch (status)
	{
		case CHECK_OK:
			return "OK";
		case CHECK_WARNING:
			return "WARNING";
		case CHECK_CRITICAL:
			return "CRITICAL";
		case CHECK_UNKNOWN:
			break;
	}
	return "UNKNOWN";
}

static CheckStatus
against_thresholds(double value, double warning, double critical)
{
	if (value >= critical)
		return CHECK_CRITICAL;
	if (value >= warning)
		return CHECK_WARNING;
	return CHECK_OK;
}

static void
check_role(List **checks, NodeStatus *st)
{
	const char *registered;

	if (st->node == NULL)
	{
		add_check(checks, "role", CHECK_UNKNOWN,
				  psprintf("node %d is not registered; running as %s",
						   st->node_id, st->role));
		return;
	}
	registered = node_type_name(st->node->type);
	if (strcmp(registered, st->role) != 0)
		add_check(checks, "role", CHECK_CRITICAL,
				  psprintf("node is registered as %s but running as %s",
						   registered, st->role));
	else if (!st->node->active)
		add_check(checks, "role", CHECK_WARNING,
				  psprintf("node is %s but marked inactive", st->role));
	else
		add_check(checks, "role", CHECK_OK, psprintf("node is %s", st->role));
}

/*
 * The application_name this standby's WAL receiver connects with: the
 * running WAL receiver's own (its connection as pg_stat_wal_receiver shows
 * it: application_name, else fallback_application_name); with none
 * running, the one it would take, as PostgreSQL 15 chooses it:
 * primary_conninfo's, else PGAPPNAME of the server's environment, else
 * cluster_name, else "walreceiver".  Its upstream, and the primary's
 * synchronous_standby_names, know it by that name only.
 */
const char *
walreceiver_application_name(void)
{
	char		shown[MAXCONNINFO];
	char	   *app = NULL;
	bool		ready;

	SpinLockAcquire(&WalRcv->mutex);
	ready = WalRcv->ready_to_display;
	strlcpy(shown, (char *) WalRcv->conninfo, sizeof(shown));
	SpinLockRelease(&WalRcv->mutex);
	if (ready && shown[0] != '\0')
	{
		app = conninfo_get(shown, "application_name");
		if (app == NULL || app[0] == '\0')
			app = conninfo_get(shown, "fallback_application_name");
		if (app != NULL && app[0] != '\0')
			return app;
	}
	if (PrimaryConnInfo != NULL && PrimaryConnInfo[0] != '\0')
		app = conninfo_get(PrimaryConnInfo, "application_name");
	if (app != NULL && app[0] != '\0')
		return app;
	if (getenv("PGAPPNAME") != NULL && getenv("PGAPPNAME")[0] != '\0')
		return getenv("PGAPPNAME");
	if (cluster_name != NULL && cluster_name[0] != '\0')
		return cluster_name;
	return "walreceiver";
}

static void
check_upstream_and_lag(List **checks, NodeStatus *st, int lag_warning,
					   int lag_critical)
{
	double		lag_seconds = 0;

	if (!st->position.in_recovery)
		return;

	if (st->walreceiver_state != NULL && strcmp(st->walreceiver_state, "streaming") == 0)
	{
		const char *app = walreceiver_application_name();
		char	   *from = st->upstream_name ?
			psprintf("streaming from node \"%s\"", st->upstream_name) : pstrdup("streaming");

		if (st->node != NULL && strcmp(app, st->node->name) != 0)
			add_check(checks, "upstream", CHECK_WARNING,
					  psprintf("%s, but with application_name \"%s\", not the node name \"%s\": the upstream does not know it as this node (add application_name=%s to primary_conninfo)",
							   from, app, st->node->name, st->node->name));
		else
			add_check(checks, "upstream", CHECK_OK, from);
	}
	else
		add_check(checks, "upstream", CHECK_CRITICAL,
				  psprintf("WAL receiver is not streaming (%s)",
						   st->walreceiver_state ? st->walreceiver_state : "not running"));

	if (st->replay_lag_known)
		lag_seconds = (double) (st->replay_lag->time / USECS_PER_SEC) +
			st->replay_lag->day * (double) SECS_PER_DAY;
	add_check(checks, "replication_lag",
			  st->replay_lag_known ?
			  against_thresholds(lag_seconds, lag_warning, lag_critical) : CHECK_UNKNOWN,
			  psprintf("%.0f seconds, " INT64_FORMAT " bytes behind (warning %d s, critical %d s)",
					   lag_seconds, st->replication_lag_bytes, lag_warning, lag_critical));
}

static void
check_archive_ready(List **checks, NodeStatus *st, int warning, int critical)
{
	if (strcmp(st->archive_mode, "off") == 0)
	{
		add_check(checks, "archive_ready", CHECK_OK, pstrdup("WAL archiving is off"));
		return;
	}
	add_check(checks, "archive_ready",
			  against_thresholds(st->archive_ready_files, warning, critical),
			  psprintf("%d WAL files waiting to be archived (warning %d, critical %d)",
					   st->archive_ready_files, warning, critical));
}

/* downstream nodes that should stream from us, and whether they do */
static void
check_downstream(List **checks, NodeStatus *st)
{
	int			expected = 0;
	int			attached = 0;
	StringInfoData missing;
	uint64		i;

	if (st->node == NULL)
		return;
	/* in the caller's memory: SPI_finish frees SPI's */
	initStringInfo(&missing);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT n.name, EXISTS (SELECT 1 FROM pg_catalog.pg_stat_replication r "
							  "WHERE r.application_name = n.name AND r.state = 'streaming') "
							  "FROM repmgr.repl_nodes n WHERE n.upstream_node_id = $1 AND n.active "
							  "ORDER BY n.id",
							  1, (Oid[]) {INT4OID}, (Datum[]) {Int32GetDatum(st->node_id)},
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the downstream nodes");

	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *ok = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		expected++;
		if (strcmp(ok, "t") == 0)
			attached++;
		else
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", name);
	}

	/* streaming under a name that is no node's: a standby misnamed? */
	if (missing.len > 0)
	{
		if (SPI_execute("SELECT string_agg(format('\"%s\" (%s)', r.application_name, "
						"coalesce(host(r.client_addr), 'local')), ', ') "
						"FROM pg_catalog.pg_stat_replication r WHERE r.state = 'streaming' "
						"AND NOT EXISTS (SELECT 1 FROM repmgr.repl_nodes n "
						"WHERE n.name = r.application_name)", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			char	   *others = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (others != NULL)
				appendStringInfo(&missing, "; streaming under an application_name that is no node's name: %s",
								 others);
		}
	}
	SPI_finish();

	if (expected == 0)
		add_check(checks, "downstream", CHECK_OK, pstrdup("no downstream nodes"));
	else if (attached == expected)
		add_check(checks, "downstream", CHECK_OK,
				  psprintf("%d of %d downstream nodes attached", attached, expected));
	else
		add_check(checks, "downstream", CHECK_CRITICAL,
				  psprintf("%d of %d downstream nodes attached; missing: %s",
						   attached, expected, missing.data));
}

static void
check_slots(List **checks)
{
	int			total = 0;
	StringInfoData inactive;
	int			ninactive = 0;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT slot_name, active FROM pg_catalog.pg_replication_slots "
					"WHERE slot_type = 'physical' ORDER BY slot_name", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the replication slots");
	initStringInfo(&inactive);
	for (i = 0; i < SPI_processed; i++)
	{
		total++;
		if (strcmp(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2), "t") != 0)
		{
			ninactive++;
			appendStringInfo(&inactive, "%s%s", inactive.len ? ", " : "",
							 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		}
	}
	SPI_finish();

	if (ninactive == 0)
		add_check(checks, "slots", CHECK_OK,
				  psprintf("%d physical replication slots, none inactive", total));
	else
		add_check(checks, "slots", CHECK_CRITICAL,
				  psprintf("%d of %d physical replication slots are inactive: %s",
						   ninactive, total, inactive.data));
}

static void
check_worker(List **checks)
{
	WorkerStatus ws;
	RepmgrDurableState durable;

	if (!shmem_worker_status(&ws))
	{
		add_check(checks, "worker", CHECK_WARNING,
				  pstrdup("repmgr is not in shared_preload_libraries: no worker"));
		return;
	}
	shmem_get_durable(&durable);
	if (ws.pid == 0)
		add_check(checks, "worker", CHECK_CRITICAL, pstrdup("the repmgr worker is not running"));
	else if (durable.paused)
		add_check(checks, "worker", CHECK_WARNING,
				  psprintf("worker (pid %d) is paused", (int) ws.pid));
	else
		add_check(checks, "worker", CHECK_OK,
				  psprintf("worker (pid %d) is %s", (int) ws.pid,
						   worker_state_name(ws.state)));
	if (durable.fenced)
		add_check(checks, "fence", CHECK_CRITICAL,
				  psprintf("node is fenced: a newer primary exists (term " INT64_FORMAT "); run \"repmgr node rejoin\"",
						   durable.fenced_term));
}

/* standbys attached as synchronous (sync or quorum) to this primary */
static int
count_synchronous_attached(void)
{
	int			n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT count(*) FROM pg_catalog.pg_stat_replication "
					"WHERE sync_state IN ('sync', 'quorum')", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_replication");
	n = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return n;
}

/*
 * Managed synchronous replication: this node's settings against the ones
 * the primary published; on the primary, the set against
 * synchronous_count.  No row when it is not managed here or anywhere.
 */
static void
check_synchronous(List **checks, NodeStatus *st)
{
	SyncPublished p;
	char	   *difference;
	int			attached;

	sync_read_published(&p);
	if (repmgr_synchronous == SYNC_MODE_OFF && (!p.exists || p.mode == SYNC_MODE_OFF))
		return;
	difference = st->position.in_recovery ? sync_setting_difference(&p) : NULL;
	if (difference != NULL)
	{
		add_check(checks, "synchronous", CHECK_WARNING, difference);
		return;
	}
	if (st->position.in_recovery)
	{
		add_check(checks, "synchronous", CHECK_OK,
				  psprintf("repmgr.synchronous = %s, synchronous_count = %d, as on the primary; %s this node",
						   sync_mode_name(repmgr_synchronous), repmgr_synchronous_count,
						   sync_set_contains(&p.set, st->node_id) ?
						   "the published synchronous set includes" : "the published synchronous set does not include"));
		return;
	}
	if (repmgr_synchronous == SYNC_MODE_OFF)
	{
		add_check(checks, "synchronous", CHECK_OK,
				  pstrdup("repmgr.synchronous is off; the worker removes the set it managed"));
		return;
	}
	attached = count_synchronous_attached();
	if (!p.exists || p.set.nmembers < repmgr_synchronous_count ||
		attached < repmgr_synchronous_count)
		add_check(checks, "synchronous", CHECK_WARNING,
				  psprintf("%d synchronous standbys attached and %d in the published set %s, fewer than repmgr.synchronous_count = %d (repmgr.synchronous = %s)",
						   attached, p.set.nmembers,
						   p.exists ? p.standby_names : "(none)",
						   repmgr_synchronous_count, sync_mode_name(repmgr_synchronous)));
	else
		add_check(checks, "synchronous", CHECK_OK,
				  psprintf("%d synchronous standbys attached; synchronous_standby_names = '%s' (repmgr.synchronous = %s)",
						   attached, p.standby_names, sync_mode_name(repmgr_synchronous)));
}

List *
node_checks(int lag_warning, int lag_critical, int archive_warning,
			int archive_critical)
{
	NodeStatus	st;
	List	   *checks = NIL;

	node_status_collect(&st);
	check_role(&checks, &st);
	check_upstream_and_lag(&checks, &st, lag_warning, lag_critical);
	check_archive_ready(&checks, &st, archive_warning, archive_critical);
	check_downstream(&checks, &st);
	check_slots(&checks);
	check_synchronous(&checks, &st);
	check_worker(&checks);
	return checks;
}

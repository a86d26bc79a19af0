/*-------------------------------------------------------------------------
 *
 * status.c
 *	  Gathering what node_status() shows people and monitoring systems, and
 *	  what node_state() tells the other nodes: the local facts (localnode.c),
 *	  this node's record, replication counters, and the worker's view from
 *	  shared memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "replication/slot.h"
#include "replication/walsender.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "status.h"
#include "timelines.h"
#include "syncrep.h"

static int
count_archive_ready_files(void)
{
	DIR		   *dir;
	struct dirent *de;
	int			count = 0;

	dir = AllocateDir(XLOGDIR "/archive_status");
	while ((de = ReadDir(dir, XLOGDIR "/archive_status")) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len > 6 && strcmp(de->d_name + len - 6, ".ready") == 0)
			count++;
	}
	FreeDir(dir);
	return count;
}

static int
spi_count(const char *sql)
{
	int			count = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		count = atoi(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return count;
}

/* managed synchronous replication, as node_status() shows it */
static void
node_status_synchronous(NodeStatus *st)
{
	SyncPublished p;

	sync_read_published(&p);
	if (!p.exists || p.mode == SYNC_MODE_OFF)
		return;
	if (st->position.in_recovery)
		st->synchronous = sync_state_of(&p, st->node_id);
	else
		st->synchronous = psprintf("%s (repmgr.synchronous = %s, synchronous_count = %d)",
								   GetConfigOption("synchronous_standby_names", false, false),
								   sync_mode_name(repmgr_synchronous), repmgr_synchronous_count);
}

void
node_status_collect(NodeStatus *st)
{
	List	   *nodes;
	XLogRecPtr	upstream_end = InvalidXLogRecPtr;

	memset(st, 0, sizeof(*st));
	st->node_id = repmgr_node_id;
	nodes = nodes_fetch_all();
	st->node = nodes_lookup(nodes, repmgr_node_id);
	if (st->node)
	{
		NodeInfo   *up = nodes_lookup(nodes, st->node->upstream_node_id);

		st->upstream_name = up ? up->name : NULL;
	}

	local_position(&st->position);
	node_status_synchronous(st);
	if (st->position.in_recovery)
		st->role = "standby";
	else if (st->node && st->node->type == NODE_TYPE_WITNESS)
		st->role = "witness";
	else
		st->role = "primary";

	st->pg_version = GetConfigOption("server_version", false, false);
	st->data_directory = DataDir;

	st->walreceiver_state = local_walreceiver(&upstream_end, NULL);
	if (st->position.in_recovery)
	{
		st->replication_lag_bytes = upstream_end > st->position.replay_lsn ?
			(int64) (upstream_end - st->position.replay_lsn) : 0;
		if (st->position.receive_lsn <= st->position.replay_lsn)
		{
			st->replay_lag = palloc0(sizeof(Interval));
			st->replay_lag_known = true;
		}
		else
		{
			TimestampTz last = GetLatestXTime();

			if (last != 0)
			{
				st->replay_lag = DatumGetIntervalP(DirectFunctionCall2(timestamp_mi,
																	   TimestampTzGetDatum(GetCurrentTimestamp()),
																	   TimestampTzGetDatum(last)));
				st->replay_lag_known = true;
			}
		}
	}

	st->archive_mode = GetConfigOption("archive_mode", false, false);
	st->archive_ready_files = count_archive_ready_files();
	st->replication_connections = spi_count("SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_replication");
	st->max_wal_senders = max_wal_senders;
	st->replication_slots = spi_count("SELECT pg_catalog.count(*) FROM pg_catalog.pg_replication_slots");
	st->max_replication_slots = max_replication_slots;
	{
		WorkerStatus ws;

		if (shmem_worker_status(&ws))
			st->worker_running = (ws.pid != 0);
		else
			shmem_require_notice("the worker's state is unknown");
	}
}

void
node_state_collect(NodeState *st)
{
	WorkerStatus ws;

	memset(st, 0, sizeof(*st));
	local_position(&st->position);
	st->timeline_term = timeline_term_of(st->position.timeline,
										 st->position.timeline_switch_lsn);
	st->system_identifier = GetSystemIdentifier();
	shmem_get_durable(&st->durable);
	st->walreceiver_streaming = local_walreceiver_streaming();
	if (shmem_worker_status(&ws) && ws.pid != 0)
	{
		st->worker_state = worker_state_name(ws.state);
		st->primary_node_id = ws.primary_node_id;
		if (st->position.in_recovery)
			st->upstream_node_id = ws.upstream_node_id;
		st->primary_last_seen = ws.primary_last_seen;
		st->primary_visible_known = true;
		st->primary_visible = ws.primary_visible;
	}
}

/*-------------------------------------------------------------------------
 *
 * localnode.c
 *	  Facts about this server read from its own shared memory: role,
 *	  timeline, WAL positions, the WAL receiver.  Used by node_state(),
 *	  node_status() and the worker, so they all describe the node alike.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/timeline.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "lib/stringinfo.h"
#include "replication/walreceiver.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
#include "utils/wait_event.h"

#include "localnode.h"

/*
 * Is the startup process waiting for WAL to arrive?  Then it has replayed
 * every complete record it has: what it received beyond its replay
 * position, if anything, is the beginning of a record not yet whole.
 * Read like pg_stat_activity reads it, from the backend status array and
 * the process's wait event.
 */
static bool
replay_waits_for_wal(void)
{
	int			n;
	int			i;
	bool		waits = false;

	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PGPROC	   *proc;
		uint32		wait_event;

		if (local == NULL || local->backendStatus.st_backendType != B_STARTUP)
			continue;
		proc = AuxiliaryPidGetProc(local->backendStatus.st_procpid);
		if (proc == NULL)
			break;
		wait_event = *((volatile uint32 *) &proc->wait_event_info);
		waits = (wait_event == WAIT_EVENT_RECOVERY_WAL_STREAM ||
				 wait_event == WAIT_EVENT_RECOVERY_RETRIEVE_RETRY_INTERVAL);
		break;
	}
	pgstat_clear_backend_activity_snapshot();
	return waits;
}

/*
 * Where this node stands in the WAL.  For a standby, lsn is the position
 * that ranks candidates, grants votes and decides following
 * (dc_position_lsn): its replay position once replay has applied all it
 * can (settled), the furthest of received and replayed until then.
 */
void
local_position(LocalPosition *pos)
{
	memset(pos, 0, sizeof(*pos));
	pos->in_recovery = RecoveryInProgress();

	if (!pos->in_recovery)
	{
		pos->timeline = GetWALInsertionTimeLine();
		pos->lsn = GetXLogWriteRecPtr();
	}
	else
	{
		pos->replay_lsn = GetXLogReplayRecPtr(&pos->timeline);
		pos->receive_lsn = GetWalRcvFlushRecPtr(NULL, NULL);
		pos->settled = pos->replay_lsn >= pos->receive_lsn || replay_waits_for_wal();
		pos->lsn = pos->settled ? pos->replay_lsn : Max(pos->replay_lsn, pos->receive_lsn);
	}
	if (pos->timeline > 1)
	{
		List	   *history = readTimeLineHistory(pos->timeline);
		TimeLineHistoryEntry *current = linitial(history);

		/* the newest entry is its timeline; it began at the switch point */
		pos->timeline_switch_lsn = current->begin;
		list_free_deep(history);
	}
}

/*
 * The ancestors of timeline tli in its history file, as the text a vote
 * request carries (request_vote's candidate_history): "1:0/3000060,2:..."
 * with where each ended; NULL for a timeline without ancestors.
 */
char *
local_timeline_history(TimeLineID tli)
{
	List	   *history;
	ListCell   *lc;
	StringInfoData buf;

	if (tli <= 1)
		return NULL;
	history = readTimeLineHistory(tli);
	initStringInfo(&buf);
	foreach(lc, history)
	{
		TimeLineHistoryEntry *e = (TimeLineHistoryEntry *) lfirst(lc);

		if (XLogRecPtrIsInvalid(e->end))
			continue;			/* tli itself */
		appendStringInfo(&buf, "%s%u:%X/%X", buf.len > 0 ? "," : "", e->tli,
						 LSN_FORMAT_ARGS(e->end));
	}
	list_free_deep(history);
	if (buf.len == 0)
	{
		pfree(buf.data);
		return NULL;
	}
	return buf.data;
}

/* the same, as the pure decisions of decide.c take it */
void
local_dc_position(const LocalPosition *pos, DcPosition *out)
{
	memset(out, 0, sizeof(*out));
	out->in_recovery = pos->in_recovery;
	out->timeline = pos->timeline;
	out->write_lsn = pos->in_recovery ? InvalidXLogRecPtr : pos->lsn;
	out->replay_lsn = pos->replay_lsn;
	out->receive_lsn = pos->receive_lsn;
	out->settled = pos->settled;
	out->timeline_begin = pos->timeline_switch_lsn;
}

static const char *
walreceiver_state_name(WalRcvState state)
{
	switch (state)
	{
		case WALRCV_STOPPED:
			return "stopped";
		case WALRCV_STARTING:
			return "starting";
		case WALRCV_STREAMING:
			return "streaming";
		case WALRCV_WAITING:
			return "waiting";
		case WALRCV_RESTARTING:
			return "restarting";
		case WALRCV_STOPPING:
			return "stopping";
	}
	return "unknown";
}

/*
 * The WAL receiver's state and the latest WAL end its upstream reported.
 * NULL on a server that is not in recovery.
 */
const char *
local_walreceiver(XLogRecPtr *upstream_end, pid_t *pid)
{
	WalRcvState state;
	XLogRecPtr	end;
	pid_t		rcvpid;

	if (!RecoveryInProgress())
		return NULL;

	SpinLockAcquire(&WalRcv->mutex);
	state = WalRcv->walRcvState;
	end = WalRcv->latestWalEnd;
	rcvpid = WalRcv->pid;
	SpinLockRelease(&WalRcv->mutex);

	if (upstream_end)
		*upstream_end = end;
	if (pid)
		*pid = rcvpid;
	return walreceiver_state_name(state);
}

bool
local_walreceiver_streaming(void)
{
	const char *state = local_walreceiver(NULL, NULL);

	return state != NULL && strcmp(state, "streaming") == 0;
}

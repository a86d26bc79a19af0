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
#include "replication/walreceiver.h"
#include "storage/spin.h"

#include "localnode.h"

/*
 * Where this node stands in the WAL.  For a standby, lsn is the furthest
 * of what it has received and replayed: the position that decides which
 * standby is the most advanced.
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
		if (pos->timeline > 1)
		{
			List	   *history = readTimeLineHistory(pos->timeline);
			TimeLineHistoryEntry *current = linitial(history);

			/* the newest entry is ours; it began at the switch point */
			pos->timeline_switch_lsn = current->begin;
			list_free_deep(history);
		}
		return;
	}

	pos->replay_lsn = GetXLogReplayRecPtr(&pos->timeline);
	pos->receive_lsn = GetWalRcvFlushRecPtr(NULL, NULL);
	pos->lsn = Max(pos->replay_lsn, pos->receive_lsn);
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

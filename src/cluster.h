/*-------------------------------------------------------------------------
 *
 * cluster.h
 *	  Cluster-wide reads and housekeeping (cluster.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CLUSTER_H
#define REPMGR_CLUSTER_H

#include "fmgr.h"

#include "repmgr.h"

typedef struct ClusterShowRow
{
	NodeInfo   *node;
	const char *upstream_name;
	const char *status;
	char	   *conninfo;		/* password masked */
	bool		reachable;
	int			timeline;
	XLogRecPtr	lsn;
	char	   *error;			/* why it could not be polled */
	const char *sync_state;		/* standby: sync, quorum, async; NULL: not managed */
} ClusterShowRow;

typedef struct PauseResult
{
	NodeInfo   *node;
	bool		ok;
	const char *detail;
} PauseResult;

extern const char *cluster_node_status(RepmgrNodeType type, bool active,
									   RemoteStatus status, bool in_recovery,
									   bool fenced);
extern List *cluster_show_rows(void);
extern void cluster_events(FunctionCallInfo fcinfo, const char *event,
						   int node_id, int limit);
extern int64 cluster_cleanup(int keep_days);
extern List *cluster_set_paused(bool paused);

#endif							/* REPMGR_CLUSTER_H */

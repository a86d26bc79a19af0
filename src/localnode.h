/*-------------------------------------------------------------------------
 *
 * localnode.h
 *	  Facts about this server from its own shared memory (localnode.c).
 *
 * Separate from repmgr.h because it needs server headers (TimeLineID)
 * that the client-side parts of the build do not.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_LOCALNODE_H
#define REPMGR_LOCALNODE_H

#include "access/xlogdefs.h"

typedef struct LocalPosition
{
	bool		in_recovery;
	TimeLineID	timeline;		/* insert timeline, or replay timeline */
	XLogRecPtr	lsn;			/* write position, or max(receive, replay) */
	XLogRecPtr	receive_lsn;	/* standby only */
	XLogRecPtr	replay_lsn;		/* standby only */
	XLogRecPtr	timeline_switch_lsn;	/* primary on timeline > 1 only */
} LocalPosition;

extern void local_position(LocalPosition *pos);
extern const char *local_walreceiver(XLogRecPtr *upstream_end, pid_t *pid);
extern bool local_walreceiver_streaming(void);

#endif							/* REPMGR_LOCALNODE_H */

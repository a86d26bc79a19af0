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

#include "decide.h"

typedef struct LocalPosition
{
	bool		in_recovery;
	TimeLineID	timeline;		/* insert timeline, or replay timeline */
	XLogRecPtr	lsn;			/* write position, or dc_position_lsn() */
	XLogRecPtr	receive_lsn;	/* standby only */
	XLogRecPtr	replay_lsn;		/* standby only */
	bool		settled;		/* standby: replay waits for WAL */
	XLogRecPtr	timeline_switch_lsn;	/* where its timeline began (> 1 only) */
} LocalPosition;

extern void local_position(LocalPosition *pos);
extern void local_dc_position(const LocalPosition *pos, DcPosition *out);
extern char *local_timeline_history(TimeLineID tli);
extern const char *local_walreceiver(XLogRecPtr *upstream_end, pid_t *pid);
extern bool local_walreceiver_streaming(void);

#endif							/* REPMGR_LOCALNODE_H */

/*-------------------------------------------------------------------------
 *
 * failover.h
 *	  The pure decisions of automatic failover and its timing (failover.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_FAILOVER_H
#define REPMGR_FAILOVER_H

#include "access/xlogdefs.h"

typedef struct CandidateInfo
{
	int			node_id;
	XLogRecPtr	lsn;
	int			priority;
	bool		eligible;		/* automatic, not paused, same timeline */
} CandidateInfo;

extern int	failover_lease_ms(void);
extern int	failover_silence_ms(void);
extern int	failover_election_timeout_ms(void);
extern int	failover_best_candidate(const CandidateInfo *c, int n);
extern bool failover_has_quorum(int visible, int total);
extern bool failover_primary_must_fence(int acked, int total);
extern bool failover_decide_vote(int64 term, int candidate,
								 XLogRecPtr candidate_lsn, char *reason,
								 size_t reasonlen);

#endif							/* REPMGR_FAILOVER_H */

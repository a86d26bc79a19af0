/*-------------------------------------------------------------------------
 *
 * voter.h
 *	  The protocol's timing from the settings, and the voter's side of an
 *	  election (voter.c), for the worker and the SQL functions.  The
 *	  decisions themselves are decide.h's pure functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_VOTER_H
#define REPMGR_VOTER_H

#include "access/xlogdefs.h"

#include "decide.h"

extern void failover_timing(DcTiming *t);
extern int	failover_lease_ms(void);
extern int	failover_silence_ms(void);
extern int	failover_election_timeout_ms(void);
extern DcVote failover_decide_vote(const DcVoteRequest *req,
								   const DcTimelineEnd *history, int nhistory);
extern char *failover_vote_reason(DcVote vote, const DcVoteRequest *req);

/* walstop.c: rule (h), a voter's WAL receiver */
extern int	walstop_settle_ms(void);

#endif							/* REPMGR_VOTER_H */

/*-------------------------------------------------------------------------
 *
 * votemem.h
 *	  What a node remembers between the requests of its peers, and the
 *	  rules that read and change it (votemem.c): heartbeats and notices
 *	  of primaries accepted or refused, the last new grant, a pending
 *	  notice to follow; a vote decided with it and recorded.
 *
 * Pure, like decide.c: the server keeps one DcVoterMem in shared memory
 * and calls these under its lock (shmem.c); the simulation keeps one per
 * node and calls the same functions.  Times are milliseconds of the
 * node's monotonic clock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_VOTEMEM_H
#define REPMGR_VOTEMEM_H

#include "decide.h"

typedef struct DcVoterMem
{
	int			heard_primary;	/* the last primary whose heartbeat or notice
								 * was accepted; 0: none */
	int64_t		heard_term;
	int64_t		heard_term_max; /* the newest term of a primary accepted since
								 * the start: no vote in a term not above it */
	DcMark		members;		/* the newest change of the membership a
								 * primary's heartbeat told of (a witness
								 * refuses a candidate without it) */
	dc_ms		heard_at;		/* the start until one arrives */
	dc_ms		other_heard_at; /* (k) the last one accepted from a node other
								 * than heard_primary: the start until known,
								 * since a restarted node may have
								 * acknowledged any primary just before */
	dc_lsn		heard_lsn;		/* the flush position that heartbeat carried */
	int			refused_primary;	/* the last heartbeat refused: whose */
	dc_ms		refused_at;
	int			refused_newest; /* the refused primary of the newest term,
								 * while it keeps sending (1 s) */
	int64_t		refused_newest_term;
	dc_ms		refused_newest_at;
	int			granted_to;		/* last new grant (not durable: decide.c) */
	dc_ms		granted_at;
	int			notice_primary; /* notify_follow(); 0: none */
	int64_t		notice_term;
} DcVoterMem;

/* the votes a node wrote to disk: term and vote, at most one per term */
typedef struct DcBallot
{
	int64_t		term;
	int64_t		voted_term;
	int			voted_for;
} DcBallot;

extern void dc_mem_start(DcVoterMem *m, dc_ms now, const DcMark *members);
extern bool dc_mem_heartbeat(DcVoterMem *m, int primary, int64_t term, dc_lsn lsn,
							 const DcMark *members, int64_t my_term, dc_ms now);
extern void dc_mem_refused(DcVoterMem *m, int primary, int64_t term, dc_ms now);
extern void dc_mem_notice(DcVoterMem *m, int primary, int64_t term,
						  int64_t my_term, dc_ms now);
extern int	dc_mem_take_notice(DcVoterMem *m, int64_t *term);
extern bool dc_mem_refuses(const DcVoterMem *m, int primary);
extern dc_ms dc_mem_heard_ago(const DcVoterMem *m, dc_ms now);
extern bool dc_mem_primary_lost(const DcVoterMem *m, bool worker_lost,
								int worker_primary, int worker_upstream,
								int candidate);
extern DcVote dc_mem_vote(DcVoterMem *m, DcVoter *v, const DcVoteRequest *req,
						  const DcTiming *t, dc_ms now, DcBallot *ballot,
						  bool *record);

#endif							/* REPMGR_VOTEMEM_H */

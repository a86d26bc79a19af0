/*-------------------------------------------------------------------------
 *
 * decide.h
 *	  The decisions of automatic failover as pure functions over plain
 *	  structs (decide.c): who may vote, stand, promote, commit and follow,
 *	  each answer with a reason code.
 *
 * Nothing here includes a PostgreSQL header: the same sources are linked
 * into the server (failover.c, shmem.c, sqlpeer.c call them) and into the
 * deterministic simulation of the protocol (sim/), so the simulation
 * checks the code that runs, not a model of it.
 *
 * Times are milliseconds on the deciding node's own clock; only
 * differences of times read on one clock are ever compared.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_DECIDE_H
#define REPMGR_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t dc_lsn;
typedef int64_t dc_ms;

#define DC_NO_NODE 0
#define DC_NEVER INT64_MAX		/* "heard ago": never heard */

/* ----------
 * Timing
 * ----------
 */
typedef struct DcSettings
{
	int			monitor_interval_ms;
	int			connect_timeout_ms;
	int			reconnect_attempts;
	int			reconnect_interval_ms;
} DcSettings;

typedef struct DcTiming
{
	int			heartbeat_interval_ms;	/* the primary's heartbeat cadence */
	int			heartbeat_timeout_ms;	/* a heartbeat round waits this long */
	int			lease_ms;		/* an acknowledged heartbeat keeps writes this long */
	int			margin_ms;		/* between an old primary's last commit and a vote */
	int			silence_ms;		/* lease + margin: a voter's required silence */
	int			election_timeout_ms;	/* an election and its notice */
} DcTiming;

extern void dc_timing(const DcSettings *s, DcTiming *t);

/* ----------
 * Positions in the WAL
 * ----------
 */
typedef struct DcPosition
{
	bool		in_recovery;
	uint32_t	timeline;		/* insert timeline, or replay timeline */
	dc_lsn		write_lsn;		/* primary: its write position */
	dc_lsn		replay_lsn;		/* standby: end of the last record replayed */
	dc_lsn		receive_lsn;	/* standby: end of the WAL received */
	bool		settled;		/* standby: replay waits for WAL, so it has
								 * applied every complete record received */
	dc_lsn		timeline_begin; /* where its timeline left its parent (its
								 * history's switch point); 0: the first, or
								 * not known */
	int64_t		timeline_term;	/* the term of the promotion that began it
								 * (repl_timelines); 0: not known */
} DcPosition;

extern dc_lsn dc_position_lsn(const DcPosition *p);

/* ----------
 * Managed synchronous replication: the set the primary published
 * ----------
 */
#define DC_MAX_SYNC 64

typedef struct DcSyncSet
{
	int64_t		version;		/* of the publication; 0: none */
	int			primary;		/* the primary that published it */
	int			quorum;			/* k of ANY k (members); 0: no rule */
	int			nmembers;
	int			members[DC_MAX_SYNC];	/* node ids */
} DcSyncSet;

extern bool dc_sync_member(const DcSyncSet *s, int node_id);
extern int	dc_sync_needed(const DcSyncSet *s);
extern bool dc_sync_votes_cover(const DcSyncSet *s, const int *granted, int ngranted);

/* ----------
 * Following a new upstream
 * ----------
 */
typedef enum DcFollow
{
	DC_FOLLOW_OK = 0,
	DC_FOLLOW_WAIT_REPLAY,		/* replay may still pass the switch point */
	DC_FOLLOW_DIVERGED,			/* this node replayed past the switch point */
	DC_FOLLOW_NEWER_TIMELINE,	/* this node is on a newer timeline */
	DC_FOLLOW_COUNT
} DcFollow;

extern DcFollow dc_decide_follow(const DcPosition *me, uint32_t target_timeline,
								 dc_lsn target_switch_lsn, int64_t target_term);
extern bool dc_same_timeline(const DcPosition *me, uint32_t timeline, dc_lsn begin,
							 int64_t term);
extern const char *dc_follow_name(DcFollow f);

/*
 * A point on one line of WAL: where a change of the membership ends, on
 * the timeline of the primary that wrote it.  A witness keeps the newest
 * one its heartbeats told of and grants no candidate that lacks it.
 */
typedef struct DcMark
{
	dc_lsn		lsn;			/* 0: none */
	uint32_t	timeline;		/* its timeline ID; 0: not known */
	dc_lsn		timeline_begin; /* where that timeline began; 0: the first,
								 * or not known */
	int64_t		term;			/* the term of the heartbeat that told of it */
} DcMark;

extern bool dc_mark_held(const DcMark *mark, dc_lsn lsn, uint32_t timeline,
						 dc_lsn timeline_begin);

/* where one of a node's ancestor timelines ended (its timeline history) */
typedef struct DcTimelineEnd
{
	uint32_t	timeline;
	dc_lsn		end;
} DcTimelineEnd;

extern dc_lsn dc_fork_lsn(const DcTimelineEnd *history, int n, uint32_t timeline);

/* a line of WAL to follow: a timeline, and what tells it from others */
typedef struct DcLine
{
	uint32_t	timeline;		/* its ID */
	dc_lsn		begin;			/* where it began; 0: the first, or not known */
	int64_t		term;			/* of the promotion that began it; 0: not known */
	const DcTimelineEnd *history;	/* its ancestors, and where each ended */
	int			nhistory;		/* 0: not known */
} DcLine;

extern DcFollow dc_decide_follow_line(const DcPosition *me, const DcLine *target);

/* ----------
 * Voting
 * ----------
 */
typedef enum DcVote
{
	DC_VOTE_GRANTED = 0,
	DC_VOTE_REPEATED,			/* the same candidate asked again */
	DC_DENY_OLD_TERM,
	DC_DENY_VOTED_OTHER,
	DC_DENY_NO_WORKER,
	DC_DENY_RUNNING_PRIMARY,
	DC_DENY_PAUSED,
	DC_DENY_PRIMARY_NOT_LOST,
	DC_DENY_HEARD_PRIMARY,		/* a primary's heartbeat or notice is fresh */
	DC_DENY_CANDIDATE_BEHIND,
	DC_DENY_OTHER_TIMELINE,
	DC_DENY_STANDING,			/* it stands in an election itself */
	DC_DENY_NOT_SYNC,			/* not in the published synchronous set */
	DC_DENY_RECENT_VOTE,		/* granted another candidate moments ago */
	DC_DENY_RECEIVING,			/* (h) a member still receives WAL: it stops
								 * first, then decides again */
	DC_DENY_HEARD_TERM,			/* a primary of this term or a newer one was
								 * heard: stand again in a term above it (the
								 * answer's term) */
	DC_DENY_MEMBERS,			/* a witness: the candidate is behind the
								 * last change of the membership it knows */
	DC_VOTE_COUNT
} DcVote;

typedef struct DcVoter
{
	bool		worker_running;
	bool		running_primary;	/* not in recovery and not a witness */
	bool		paused;
	bool		primary_lost;	/* its worker has lost the primary */
	int			self_id;
	bool		standing;		/* in an election of its own, or promoting */
	dc_ms		heard_ago_ms;	/* since a primary's heartbeat or notice was
								 * last accepted (since start if never) */
	int64_t		heard_term;		/* the newest term of a primary whose
								 * heartbeat or notice it accepted */
	DcMark		members;		/* the newest change of the membership its
								 * heartbeats told of */
	int64_t		term;			/* durable */
	int64_t		voted_term;		/* durable */
	int			voted_for;		/* durable */
	int			granted_to;		/* the candidate of its last new grant, 0:
								 * none since the worker started */
	dc_ms		granted_ago_ms; /* since that grant */
	bool		has_position;	/* a standby: compare positions */
	DcPosition	position;
	DcSyncSet	sync;			/* its copy of the published set */
	bool		receiving;		/* (h) in recovery, its WAL receiver not
								 * (yet) stopped for good: it may still
								 * receive from the primary it lost */
	int			follows;		/* (k) the one node whose heartbeats or
								 * notices it accepted within the silence;
								 * 0: none, or another node's too (then the
								 * silence must protect that node's lease:
								 * sim seed 2185 --rule-k) */
	int			upstream;		/* in recovery: the node its WAL receiver
								 * streams from; 0: none, or not known */
} DcVoter;

typedef struct DcVoteRequest
{
	int64_t		term;
	int			candidate;
	dc_lsn		candidate_lsn;
	uint32_t	candidate_timeline; /* 0: not given */
	dc_lsn		candidate_fork_lsn; /* when the candidate's timeline is newer:
									 * where it left the voter's timeline, from
									 * the candidate's history; 0: not given
									 * (or not a descendant) */
	dc_lsn		candidate_timeline_begin;	/* where the candidate's timeline
											 * began (its history's last
											 * switch point); 0: not known */
} DcVoteRequest;

extern DcVote dc_decide_vote(const DcVoter *v, const DcVoteRequest *r,
							 const DcTiming *t);
extern bool dc_vote_granted(DcVote v);
extern bool dc_vote_may_change(DcVote v);
extern bool dc_vote_records(DcVote v);
extern const char *dc_vote_name(DcVote v);
extern const char *dc_vote_code(DcVote v);
extern DcVote dc_vote_from_code(const char *code);

/* ----------
 * Heartbeats and the lease of the primary
 * ----------
 */
extern bool dc_accept_heartbeat(int64_t heartbeat_term, int64_t my_term,
								bool i_am_running_primary);

typedef struct DcHeartbeatReply
{
	bool		answered;		/* false: no answer (refused, timeout, ...) */
	bool		accepted;
	int64_t		term;			/* the replier's term */
	bool		is_primary;		/* the replier is a running primary */
} DcHeartbeatReply;

typedef enum DcHeartbeat
{
	DC_HB_ACK = 0,
	DC_HB_NO_ANSWER,
	DC_HB_SUPERSEDED,			/* a primary of a newer term answered */
	DC_HB_VOTED_NEWER,			/* it voted in a newer term: no ack */
	DC_HB_REFUSED,				/* refused for another reason */
	DC_HB_COUNT
} DcHeartbeat;

extern DcHeartbeat dc_heartbeat_verdict(const DcHeartbeatReply *r, int64_t my_term);
extern int	dc_lease_acks_needed(int total, bool strict);
extern dc_ms dc_lease_expiry(const dc_ms *ack_sent, int n, int total, bool strict,
							 const DcTiming *t);

/* ----------
 * Failover: should this standby, having lost its primary, stand?
 * ----------
 */
typedef struct DcPeer
{
	int			node_id;
	bool		reachable;
	bool		sees_lost_primary;	/* it still sees the primary we lost */
	bool		candidate;		/* a standby of the lost primary, in recovery */
	bool		automatic;		/* failover automatic, not paused */
	int			priority;
	dc_lsn		lsn;			/* dc_position_lsn() of it */
	uint32_t	timeline;
	bool		settled;
	DcSyncSet	sync;			/* its copy of the published set */
} DcPeer;

typedef struct DcFailoverView
{
	int			self_id;
	bool		manual;			/* repmgr.failover = manual */
	bool		paused;
	bool		consensus;		/* primary_visibility_consensus */
	int			total;			/* active voting nodes, the lost one counted */
	dc_ms		heard_ago_ms;
	int			priority;
	DcPosition	position;
	DcSyncSet	sync;			/* this node's copy of the published set */
	dc_lsn		primary_lsn;	/* carried by the last heartbeat; 0: unknown */
	int64_t		max_lag;		/* repmgr.failover_max_lag; < 0: off */
	const DcPeer *peers;		/* every other active node but the lost one */
	int			npeers;
} DcFailoverView;

typedef enum DcFailover
{
	DC_FO_STAND = 0,			/* this node is the best candidate */
	DC_FO_DEFER,				/* another node is (verdict.node) */
	DC_FO_MANUAL,
	DC_FO_PAUSED,
	DC_FO_PRIMARY_SEEN,			/* verdict.node still sees the primary */
	DC_FO_NO_QUORUM,
	DC_FO_LEASE_WAIT,			/* verdict.wait_ms until it may have expired */
	DC_FO_REPLAY_WAIT,			/* replay still applies received WAL */
	DC_FO_NO_CANDIDATE,
	DC_FO_SYNC_TOO_FEW,			/* too few members of the synchronous set seen */
	DC_FO_SYNC_BEHIND,			/* the most advanced member cannot be promoted */
	DC_FO_SYNC_NO_MEMBER,		/* no member of the synchronous set can be */
	DC_FO_TOO_FAR_BEHIND,		/* the best is over max_lag behind the primary */
	DC_FO_COUNT
} DcFailover;

typedef struct DcFailoverVerdict
{
	DcFailover	decision;
	int			node;
	int			visible;		/* this node and the peers it reaches */
	dc_ms		wait_ms;
	const DcSyncSet *sync;		/* the newest published set seen, or NULL */
	int			sync_seen;		/* its members seen, this node included */
	int			sync_needed;	/* members - quorum + 1 */
} DcFailoverVerdict;

typedef struct DcCandidate
{
	int			node_id;
	dc_lsn		lsn;
	int			priority;
	bool		eligible;
} DcCandidate;

extern int	dc_best_candidate(const DcCandidate *c, int n);
extern bool dc_has_quorum(int visible, int total);
extern bool dc_primary_must_fence(int acked, int total);
extern void dc_decide_failover(const DcFailoverView *v, const DcTiming *t,
							   DcFailoverVerdict *out);
extern const char *dc_failover_name(DcFailover f);

#endif							/* REPMGR_DECIDE_H */
